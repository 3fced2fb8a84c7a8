// `once-checkout` / `once-checkout serve`: the MCP server on stdio, or with --http over Streamable HTTP.
import { openApp } from '../app.js';
import { createLogger, type Logger } from '../log.js';
import { startTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { parseMetricsTokens } from '../transports/metrics-endpoint.js';
import { DEFAULT_HTTP_RATE_LIMIT, loadConfig, type Config } from '../config/config.js';
import { ConfigError } from '../config/config-error.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { RateLimiter } from '../server/rate-limit.js';
import { createServer } from '../server/server.js';
import { parseHttpTokens, type BearerTokens } from '../transports/bearer-tokens.js';
import { describeHttpLimits, parseListenAddress, serveHttp, type HttpServer, type ListenAddress } from '../transports/http.js';
import { serveStdio } from '../transports/stdio.js';
import type { ToolDefinition } from '../tool-definition.js';
import { tools as productTools } from '../../tools/index.js';
import { VERSION } from '../version.js';
import { startSweepTimer } from '../ledger/sweep-timer.js';
import { startReconcileTimer } from '../operator/reconcile-sweep.js';
import { scrubbedFor } from '../store/store-refusal.js';
import { parseArgs } from './args.js';
import { checkStoreAtStart } from './store-at-start.js';
import { OrderEvents } from '../orders/order-events.js';
import { parseWebhookSecrets, VARIABLE as WEBHOOK_VARIABLE } from '../orders/webhook-secrets.js';
import { ORDER_EVENTS_PATH, orderWebhookHandler } from '../transports/order-webhook.js';
import type { UcpBackend } from '../backends/ucp/ucp-backend.js';
import { isAcceptedUrl } from '../commerce/merchant-session.js';

export const SERVE_HELP = `once-checkout serve: the MCP server (stdio by default, or Streamable HTTP)

Usage: once-checkout [serve] [--http [HOST:]PORT] [--store URL] [--backend NAME] [--principal NAME]
                     [--ttl 23h] [--dedup-window 1h] [--max-order-amount N] [--rate-limit 60] [--log info]

--http [HOST:]PORT serves MCP over Streamable HTTP at http://HOST:PORT/mcp (HOST defaults to 127.0.0.1).
It needs ONCE_HTTP_TOKENS (token=principal pairs, comma-separated, or @/path/file with one pair a line):
each request carries Authorization: Bearer <token> and buys for that token's principal (--principal is
for stdio only). Use a shared store (postgres://…) to run several HTTP servers side by side.
Sessions are bounded: ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL (16), ONCE_HTTP_MAX_SESSIONS (256),
ONCE_HTTP_SESSION_IDLE (10m); opening one counts against ONCE_RATE_LIMIT; headers must arrive within 10 s
and the whole request within 30 s. With ONCE_METRICS_TOKEN, GET /metrics answers Prometheus text to that token.
With ACP_WEBHOOK_SECRET (the merchant's signing secret, or @/path/file of merchant=secret lines), HTTP mode
also receives the merchant's signed order events at POST ${ORDER_EVENTS_PATH}.

Traces and metrics go where OpenTelemetry's OTEL_* variables say (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_TRACES_EXPORTER=otlp|console, OTEL_METRICS_EXPORTER, OTEL_SERVICE_NAME, …); without them nothing is loaded.

Every flag overrides the environment variable of the same meaning (ONCE_STORE, ONCE_BACKEND, …).
Logs go to stderr; on stdio, stdout is the MCP channel.`;

type App = Awaited<ReturnType<typeof openApp>>;

/** The app with its telemetry, its store checked; `closeAll` closes both. */
interface Opened {
  app: App;
  telemetry: Telemetry;
  closeAll(): Promise<void>;
}

/** What a transport needs to serve: a server per principal, the facts for the started line, and how to stop. */
interface Serving extends Opened {
  config: Config;
  serverFor(principal: string): Server;
  started: Record<string, unknown>;
  /** Mutating calls per principal per minute; 0: no limit. */
  perMinute: number;
  stopTimers(): void;
}

/** `tools` is what the server offers: the product's five, unless the benchmark adds its floor. */
export async function serve(argv: string[], tools: ToolDefinition[] = productTools): Promise<void> {
  const args = parseArgs(argv, { '--http': true });
  const http = args.options.get('--http');
  const listen = typeof http === 'string' ? parseListenAddress(http) : undefined;
  const config = loadConfig(args.env);
  const tokens = listen ? parseHttpTokens(config.env.ONCE_HTTP_TOKENS) : undefined;
  if (listen && !tokens) {
    throw new ConfigError('ONCE_HTTP_TOKENS', 'is not set, and HTTP mode never serves without authentication', 'Set ONCE_HTTP_TOKENS=token=principal,… or @/path/file (tokens of 16+ random characters)');
  }
  const metricsTokens = parseMetricsTokens(config.env.ONCE_METRICS_TOKEN, tokens);
  const logger = createLogger(config.logLevel);
  if (metricsTokens && !listen) logger.log('warn', 'metrics_token_unused', { message: 'ONCE_METRICS_TOKEN is for serve --http; on stdio there is no /metrics' });
  const opened = await openChecked(config, logger, Boolean(listen && metricsTokens));
  const events = await orderEventReceivers(config, opened.app, listen !== undefined);
  const serving = await prepareServing(config, opened, tools, listen !== undefined);

  if (listen && tokens) return serveOnHttp(serving, { ...listen, tokens, metricsTokens }, events);

  await serveStdio(serving.serverFor(config.principal), async () => {
    serving.stopTimers();
    await serving.closeAll();
  });
  opened.app.logger.log('info', 'started', { ...serving.started, transport: 'stdio', principal: config.principal });
  if (process.stdin.isTTY) process.stderr.write(`${WAITING_FOR_CLIENT}\n`);
}

/** Starts telemetry, opens the app and checks its store once (R9); on any failure, closes what was opened. */
async function openChecked(config: Config, logger: Logger, prometheus: boolean): Promise<Opened> {
  const telemetry = await startTelemetry(config.env, { prometheus, logger });
  let app: App;
  try {
    app = await openApp(config, logger, { telemetry });
  } catch (error) {
    await telemetry.shutdown();
    throw error;
  }
  const closeAll = async () => {
    await app.close();
    await telemetry.shutdown(); // flushes the spans still buffered
  };
  try {
    await checkStoreAtStart(app.store, config.store, app.logger);
  } catch (error) {
    await closeAll().catch(() => {});
    throw error;
  }
  return { app, telemetry, closeAll };
}

/** The receivers of merchants' order events, by path, and what the started line says of them. */
interface OrderEventReceivers {
  webhooks: Map<string, ReturnType<typeof orderWebhookHandler>>;
  webhookSecrets: ReturnType<typeof parseWebhookSecrets>;
  ucpPath?: string;
}

/**
 * Merchants' signed order events, applied once (HTTP mode): ACP's with a shared secret, UCP's with the
 * business's published keys.
 */
async function orderEventReceivers(config: Config, app: App, http: boolean): Promise<OrderEventReceivers> {
  let webhookSecrets;
  try {
    // Checked in both modes, so a malformed secret stops start-up wherever it is set.
    webhookSecrets = parseWebhookSecrets(config.env[WEBHOOK_VARIABLE], app.backend.merchant);
  } catch (error) {
    await app.close();
    throw error;
  }
  if (webhookSecrets && !http) {
    app.logger.log('warn', 'order_events_off', { message: `${WEBHOOK_VARIABLE} is set, but order events are received only in HTTP mode (serve --http)` });
  }
  const orderEvents = new OrderEvents(app.ledger, app.checkouts.heads);
  const webhooks = new Map<string, ReturnType<typeof orderWebhookHandler>>();
  if (webhookSecrets) webhooks.set(ORDER_EVENTS_PATH, orderWebhookHandler({ secrets: webhookSecrets, events: orderEvents, logger: app.logger }));
  let ucpPath: string | undefined;
  if (http && app.backend.name === 'ucp') {
    // UCP's receiver (RFC 9421, structured fields) is loaded only where it can run.
    const { UCP_ORDER_EVENTS_PATH, ucpOrderWebhookHandler } = await import('../transports/ucp-order-webhook.js');
    const profile = `${(app.backend as UcpBackend).endpoint.url.origin}/.well-known/ucp`;
    if (isAcceptedUrl(profile)) {
      ucpPath = UCP_ORDER_EVENTS_PATH;
      webhooks.set(ucpPath, ucpOrderWebhookHandler({ profile, merchant: app.backend.merchant, events: orderEvents, logger: app.logger }));
    }
  }
  return { webhooks, webhookSecrets, ucpPath };
}

/** The rate limit, a server per principal, the sweep and reconcile timers, and the facts the started line states. */
async function prepareServing(config: Config, opened: Opened, tools: ToolDefinition[], http: boolean): Promise<Serving> {
  const { app, telemetry } = opened;
  // Store errors name the store by its redacted description; a driver that echoes the URL is scrubbed too.
  const scrub = (message: string) => scrubbedFor(config.store, message);
  const perMinute = config.rateLimitPerMinute ?? (http ? DEFAULT_HTTP_RATE_LIMIT : 0);
  const rateLimiter = perMinute > 0 ? new RateLimiter({ perMinute }) : undefined;
  const serverFor = (principal: string) =>
    createServer({
      checkouts: app.checkouts,
      principal,
      logger: app.logger,
      version: VERSION,
      rateLimiter,
      resources: { ledger: app.ledger, backend: app.backend.name },
      tools,
      telemetry,
    });
  const stops = [startSweepTimer(app.ledger, app.logger, scrub), startReconcileTimer(app.ledger, app.backend, app.logger, scrub)];
  const started = {
    version: VERSION,
    backend: app.backend.name,
    // Which protocol and version the backend speaks (ACP: discovered when ACP_API_VERSION is auto).
    protocol: (await app.backend.describeProtocol?.().catch((error: unknown) => `not known yet: ${error instanceof Error ? error.message : String(error)}`)) ?? null,
    store: app.store.description,
    ttl_ms: app.ledger.ttlMs,
    rate_limit_per_minute: rateLimiter?.perMinute ?? null,
    max_order_amount: config.maxOrderAmount ?? null,
    telemetry: telemetry.summary,
  };
  return { ...opened, config, serverFor, started, perMinute, stopTimers: () => stops.forEach((stop) => stop()) };
}

/** Serves Streamable HTTP until SIGINT or SIGTERM, then closes the sessions, the app and telemetry. */
async function serveOnHttp(
  serving: Serving,
  at: ListenAddress & { tokens: BearerTokens; metricsTokens?: BearerTokens },
  events: OrderEventReceivers,
): Promise<void> {
  const { app, config, telemetry, perMinute, closeAll } = serving;
  const { webhookSecrets, ucpPath } = events;
  let httpServer: HttpServer;
  try {
    httpServer = await serveHttp({
      host: at.host,
      port: at.port,
      tokens: at.tokens,
      logger: app.logger,
      newServer: serving.serverFor,
      ...config.http,
      // Opening a session is counted per principal at the same rate as mutating calls, in its own bucket.
      sessionOpenLimiter: perMinute > 0 ? new RateLimiter({ perMinute }) : undefined,
      metrics: at.metricsTokens && telemetry.prometheus ? { tokens: at.metricsTokens, exposition: telemetry.prometheus } : undefined,
      webhooks: events.webhooks,
    });
  } catch (error) {
    serving.stopTimers();
    await closeAll();
    throw error;
  }
  let closing: Promise<void> | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      closing ??= httpServer.close().then(closeAll).finally(() => process.exit(0));
    });
  }
  app.logger.log('info', 'started', {
    ...serving.started,
    transport: 'http',
    url: httpServer.url,
    principals: at.tokens.principals,
    // Where the merchant is told to send its events (behind a proxy: the public name of this path).
    order_events_url: webhookSecrets ? httpServer.url.replace(/\/mcp$/, ORDER_EVENTS_PATH) : null,
    ...(ucpPath ? { ucp_order_events_url: httpServer.url.replace(/\/mcp$/, ucpPath) } : {}),
    ...(webhookSecrets ? { order_events_merchants: [...new Set(webhookSecrets.map((s) => s.merchant))] } : {}),
    http_limits: describeHttpLimits({ ...config.http, perMinute }),
  });
}

/** Run by hand in a terminal, the server would look hung: say what it is waiting for and how to connect it. */
const WAITING_FOR_CLIENT = `once-checkout is an MCP server: it now waits for an MCP client on stdin/stdout, so there is nothing to type here (Ctrl-C quits).
Register it with your client instead, for example:  claude mcp add once-checkout -- once-checkout
or copy mcp.json into your client's configuration (README.md, "Use it from an MCP client").`;
