// `once-checkout` / `once-checkout serve`: the MCP server on stdio.
import { openApp } from '../app.js';
import { loadConfig } from '../config/config.js';
import { createServer } from '../server/server.js';
import { serveStdio } from '../transports/stdio.js';
import { VERSION } from '../version.js';
import { parseArgs } from './args.js';

export const SERVE_HELP = `once-checkout serve: the MCP server (stdio by default)

Usage: once-checkout [serve] [--store URL] [--backend NAME] [--principal NAME] [--ttl 23h]
                     [--dedup-window 1h] [--max-order-amount N] [--log info]

Every flag overrides the environment variable of the same meaning (ONCE_STORE, ONCE_BACKEND, …).
Logs go to stderr; stdout is the MCP channel.`;

const SWEEP_EVERY_MS = 15 * 60_000;

export async function serve(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { '--http': true });
  if (args.options.has('--http')) {
    throw new Error('once-checkout serve --http: Streamable HTTP mode is not in this build yet; run on stdio (omit --http)');
  }
  const config = loadConfig(args.env);
  const app = await openApp(config);
  const server = createServer({ checkouts: app.checkouts, principal: config.principal, logger: app.logger, version: VERSION });
  // The sweep purges expired settled records; it never touches pending or unknown ones (R8).
  const sweeper = setInterval(() => {
    app.ledger.sweep().then(
      (swept) => app.logger.log('debug', 'sweep', swept),
      (error: Error) => app.logger.log('warn', 'sweep_failed', { message: error.message }),
    );
  }, SWEEP_EVERY_MS);
  sweeper.unref();
  await serveStdio(server, async () => {
    clearInterval(sweeper);
    await app.close();
  });
  app.logger.log('info', 'started', {
    version: VERSION,
    transport: 'stdio',
    backend: app.backend.name,
    store: app.store.description,
    principal: config.principal,
    ttl_ms: app.ledger.ttlMs,
  });
}
