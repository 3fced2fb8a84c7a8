// The MCP server on stdio: the default a client spawns. Stdout carries only MCP messages.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

/** Serves until the client closes stdin or a signal arrives, then runs `onClose` once. */
export async function serveStdio(server: Server, onClose: () => Promise<void>): Promise<void> {
  const transport = new StdioServerTransport();
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await server.close().catch(() => {});
      await onClose();
    })();
    return closing;
  };
  process.stdin.on('end', () => void close().then(() => process.exit(0)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void close().then(() => process.exit(0)));
  }
  await server.connect(transport);
}
