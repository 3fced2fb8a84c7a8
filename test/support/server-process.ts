// Spawns the built server (node dist/src/index.js) and talks to it with the MCP SDK client over stdio.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const BIN = resolve(import.meta.dirname, '..', '..', 'dist', 'src', 'index.js');

export function tempDir(prefix = 'once-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunningServer {
  client: Client;
  transport: StdioClientTransport;
  stderr: string[];
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** The environment a spawned server gets: only what we pass, plus PATH/HOME (never this test's ONCE_*). */
export async function startServer(env: Record<string, string>, args: string[] = []): Promise<RunningServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stderr: 'pipe',
  });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const client = new Client({ name: 'once-checkout-tests', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr,
    call: async (name, callArgs) => (await client.callTool({ name, arguments: callArgs })) as CallToolResult,
    close: () => client.close(),
  };
}

export type Structured = {
  checkout?: { id: string; status: string; order?: { id: string }; totals: Array<{ type: string; amount: number }>; [k: string]: unknown };
  idempotency?: { key: string; outbound_key: string; outcome: string; replayed: boolean; attempt: number; first_seen_at: string };
  error?: { type: string; code: string; message: string; retryable: boolean };
};

export function structured(result: CallToolResult): Structured {
  return result.structuredContent as Structured;
}

export const ADDRESS = {
  name: 'Ada Lovelace',
  line_one: '1 Analytical Way',
  city: 'London',
  state: 'LDN',
  country: 'GB',
  postal_code: 'N1 9GU',
};
