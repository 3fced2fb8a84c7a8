// `once-checkout merchant --port N`: the sandbox merchant as a standalone ACP merchant over HTTP.
import { readFileSync } from 'node:fs';
import { ACP_VERSIONS, isAcpVersion, type AcpVersion } from '../backends/acp/versions.js';
import { mulberry32 } from '../backends/sandbox/faults.js';
import { readSandboxConfig } from '../backends/sandbox/sandbox-config.js';
import { parseOrderEventFaults, type OrderEventSenderOptions } from '../backends/sandbox/order-events.js';
import { serveMerchant } from '../backends/sandbox/http.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { openStore } from '../store/open.js';
import { parseArgs } from './args.js';

export const MERCHANT_HELP = `once-checkout merchant: the sandbox merchant as an ACP merchant over HTTP, on one port:
ACP REST (/checkout_sessions...), ACP's MCP binding (/acp/mcp) and /.well-known/acp.json, every released
ACP version chosen per request (API-Version header, or meta.api_version over MCP).

Usage: once-checkout merchant --port PORT [--host 127.0.0.1] [--store URL] [--tokens TOKEN=NAME,...]
                              [--versions V1,V2,...] [--ignore-idempotency-keys]
                              [--order-events-url URL --order-events-secret SECRET|@FILE
                               [--order-events-faults duplicate:0.5,retry:0.3,reorder:0.2]]
                              [--ucp-order-events-url URL]

--versions limits the ACP versions it speaks (${ACP_VERSIONS.join(', ')}; default all), e.g. to act as a
merchant that speaks only 2025-09-29.

It keeps its sessions, orders and idempotency keys in the store (ONCE_STORE, default the SQLite file).
ONCE_SANDBOX_FAULTS (and ONCE_SANDBOX_SEED) inject faults, e.g. error_5xx@complete:0.5,lose_response:0.2.
Without --tokens any bearer token is accepted (each token is its own caller). Point the acp backend at it:
ONCE_BACKEND=acp ACP_BASE_URL=http://127.0.0.1:PORT ACP_API_KEY=TOKEN once-checkout
ONCE_BACKEND=acp ACP_MCP_URL=http://127.0.0.1:PORT/acp/mcp ACP_API_KEY=TOKEN once-checkout
It is also a UCP 2026-04-08 business on the same port and store: /.well-known/ucp, REST under /ucp, MCP at
/ucp/mcp (UCP-Agent required; the bearer token optional unless --tokens is given; complete_in_progress joins
the faults). Point the ucp backend at it:
ONCE_BACKEND=ucp UCP_BUSINESS_URL=http://127.0.0.1:PORT UCP_AGENT_PROFILE=https://you.example/profile once-checkout

With --order-events-url it sends signed ACP order events there (Merchant-Signature, HMAC-SHA256 under
--order-events-secret): order_create when a checkout completes, order_update on each
POST /sandbox/orders/{order_id}/{confirm|ship|deliver|refund|cancel}. Deliveries are retried until accepted;
--order-events-faults adds duplicates, retries after success and reordering (seeded by ONCE_SANDBOX_SEED).
The server receives them with ACP_WEBHOOK_SECRET=SECRET in HTTP mode at /agentic_checkout/webhooks/order_events.
With --ucp-order-events-url, orders placed over UCP are announced there as UCP order webhooks, signed per RFC 9421
with a P-256 key made at start and published in /.well-known/ucp signing_keys (the ucp backend in HTTP mode
receives them at /webhooks/ucp/orders).`;

function parseVersions(text: string): AcpVersion[] {
  const versions = text.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = versions.find((v) => !isAcpVersion(v));
  if (unknown !== undefined || versions.length === 0) {
    throw new ConfigError('--versions', unknown === undefined ? 'is empty' : `"${unknown}" is not a released ACP version`, `Write --versions ${ACP_VERSIONS.join(',')} (or a part of it)`);
  }
  // Oldest first, as /.well-known/acp.json lists them.
  return ACP_VERSIONS.filter((v) => versions.includes(v));
}

function parseTokens(text: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [token, name] = pair.split('=');
    if (!token || !name) throw new ConfigError('--tokens', `"${pair}" is not TOKEN=NAME`, 'Write --tokens secret1=alice,secret2=bob');
    tokens.set(token, name);
  }
  return tokens;
}

export async function merchant(argv: string[]): Promise<void> {
  const args = parseArgs(argv, {
    '--port': true,
    '--host': true,
    '--tokens': true,
    '--versions': true,
    '--ignore-idempotency-keys': false,
    '--order-events-url': true,
    '--order-events-secret': true,
    '--order-events-faults': true,
    '--ucp-order-events-url': true,
  });
  const portText = args.options.get('--port');
  const port = Number(portText);
  if (typeof portText !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('--port', portText === undefined ? 'is required' : `"${String(portText)}" is not a port`, 'Write --port 8080 (0 picks a free port)');
  }
  const config = loadConfig(args.env);
  const logger = createLogger(config.logLevel);
  const store = await openStore(config.store);
  const orderEvents = orderEventOptions(args.options, config.env);
  const ucpUrl = args.options.get('--ucp-order-events-url');
  if (ucpUrl !== undefined && (typeof ucpUrl !== 'string' || !/^https?:\/\//.test(ucpUrl))) {
    throw new ConfigError('--ucp-order-events-url', 'must be an http(s) URL', 'Give the platform\'s UCP order webhook, e.g. http://127.0.0.1:8080/webhooks/ucp/orders');
  }
  const ucpOrderEvents =
    typeof ucpUrl === 'string'
      ? { url: ucpUrl, faults: parseOrderEventFaults(args.options.get('--order-events-faults') as string | undefined), ...(orderEvents?.rng ? { rng: mulberry32(Number(config.env.ONCE_SANDBOX_SEED) + 2) } : {}) }
      : undefined;
  const tokens = args.options.get('--tokens');
  const versionsText = args.options.get('--versions');
  const versions = typeof versionsText === 'string' ? parseVersions(versionsText) : undefined;
  const host = (args.options.get('--host') as string | undefined) ?? '127.0.0.1';
  const server = await listening(port, host, () =>
    serveMerchant({
      port,
      host,
      store,
      tokens: typeof tokens === 'string' ? parseTokens(tokens) : undefined,
      ignoreIdempotencyKeys: args.options.has('--ignore-idempotency-keys'),
      versions,
      ...readSandboxConfig(config.env),
      orderEvents: orderEvents && { ...orderEvents, log: (entry) => logger.log(entry.error ? 'warn' : 'debug', String(entry.event), entry) },
      ucpOrderEvents: ucpOrderEvents && { ...ucpOrderEvents, log: (entry) => logger.log(entry.error ? 'warn' : 'debug', String(entry.event), { protocol: 'ucp', ...entry }) },
      // A standalone merchant really dies after committing, as a crashed shop would.
      crash: () => process.kill(process.pid, 'SIGKILL'),
    }),
  );
  logger.log('info', 'merchant_started', {
    url: server.url,
    mcp_url: `${server.url}/acp/mcp`,
    acp_versions: versions ?? ACP_VERSIONS,
    store: store.description,
  });
  // Tools and scripts read the address from stdout: this command is not an MCP server.
  process.stdout.write(`${server.url}\n`);
  const stop = () => void server.close().then(() => store.close()).then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function orderEventOptions(options: Map<string, string | boolean>, env: NodeJS.ProcessEnv): OrderEventSenderOptions | undefined {
  const url = options.get('--order-events-url');
  const secretText = options.get('--order-events-secret');
  if (url === undefined && secretText === undefined) return undefined;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw new ConfigError('--order-events-url', 'is required with --order-events-secret, as an http(s) URL', 'Give the receiver, e.g. --order-events-url http://127.0.0.1:8080/agentic_checkout/webhooks/order_events');
  }
  if (typeof secretText !== 'string' || secretText.trim() === '') {
    throw new ConfigError('--order-events-secret', 'is required with --order-events-url', 'Give the shared secret (or @/path/file holding it); the server takes the same one in ACP_WEBHOOK_SECRET');
  }
  let secret = secretText.trim();
  if (secret.startsWith('@')) {
    try {
      secret = readFileSync(secret.slice(1), 'utf8').trim();
    } catch (error) {
      throw new ConfigError('--order-events-secret', `cannot read ${secret.slice(1)} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, 'Point @ at a readable file holding the secret');
    }
  }
  let faults;
  try {
    faults = parseOrderEventFaults(options.get('--order-events-faults') as string | undefined);
  } catch (error) {
    throw new ConfigError('--order-events-faults', (error as Error).message.replace(/^--order-events-faults: /, ''), 'Fix the list or leave it out');
  }
  const seed = Number(env.ONCE_SANDBOX_SEED);
  return { url, secret, faults, ...(env.ONCE_SANDBOX_SEED && Number.isSafeInteger(seed) ? { rng: mulberry32(seed + 1) } : {}) };
}

/** A port that is taken or not ours to bind is a configuration line (exit 78), as for `serve --http`. */
async function listening<T>(port: number, host: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new ConfigError('--port', `cannot listen on ${host}:${port} (${code})`, 'Pick another port (or --host address)');
    }
    throw error;
  }
}
