// The MCP server over Streamable HTTP at /mcp, for teams: every request passes the Host/Origin check (DNS
// rebinding), a bearer token that names its principal, and a body size limit, before the SDK transport sees
// it. Sessions (Mcp-Session-Id) hold only the MCP conversation, bound to the principal that opened them;
// checkout state lives in the store, so any process on that store can serve the next call.
// A token is not a licence to exhaust the process: sessions are capped per principal and in all, opening one
// is rate-limited, idle ones are closed, and a client must send its headers and body within bounded time.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError } from '../config/config-error.js';
import { DEFAULT_HTTP_LIMITS } from '../config/config.js';
import type { Logger } from '../log.js';
import type { RateLimiter } from '../server/rate-limit.js';
import type { BearerTokens } from './bearer-tokens.js';
import { answerMetrics, METRICS_PATH, type MetricsEndpoint } from './metrics-endpoint.js';
import { readRawBody } from './request-body.js';

const MCP_PATH = '/mcp';
const REALM = 'once-checkout';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A client has this long to send its request headers (slow-loris: the socket is cut after it). */
const HEADERS_TIMEOUT_MS = 10_000;
/** ... and this long for the whole request, body included. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * At its cap, a principal's least recently used session that has been unused this long (and has no request
 * open) is closed to make room: a client that restarted without DELETE /mcp is not locked out until the idle
 * timeout, while a burst of opens is still refused. The evicted client gets 404 and re-initializes (MCP).
 */
const EVICT_IDLE_MS = 60_000;
/** Retry-After for the global cap: the reaper frees idle sessions at most this often. */
const GLOBAL_RETRY_AFTER_S = 60;

export interface ListenAddress {
  host: string;
  port: number;
}

export interface HttpServeOptions extends ListenAddress {
  tokens: BearerTokens;
  logger: Logger;
  /** A fresh MCP server for one session, acting for the principal that opened it. */
  newServer(principal: string): Server;
  maxBodyBytes?: number;
  /** A session unused for this long is closed (its client simply opens a new one). */
  sessionIdleMs?: number;
  /** Open sessions one principal may hold (default 16). */
  maxSessionsPerPrincipal?: number;
  /** Open sessions in this process (default 256). */
  maxSessions?: number;
  /** Counts each session opened (initialize) per principal; none: unlimited. */
  sessionOpenLimiter?: RateLimiter;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  evictIdleMs?: number;
  /** GET /metrics, behind its own token; absent: /metrics is not served. */
  metrics?: MetricsEndpoint;
  /** Order event receivers by path (signed by the merchant, no bearer token, no Host check); 404 when absent. */
  webhooks?: ReadonlyMap<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

/** The limits in force, as doctor and the started line state them. */
export function describeHttpLimits(limits: { maxSessionsPerPrincipal: number; maxSessions: number; sessionIdleMs: number; perMinute: number }): string {
  const minutes = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);
  return [
    `${limits.maxSessionsPerPrincipal} sessions per principal, ${limits.maxSessions} in all`,
    `idle sessions closed after ${minutes(limits.sessionIdleMs)}`,
    limits.perMinute > 0 ? `${limits.perMinute} session opens and ${limits.perMinute} mutating calls per principal per minute` : 'no rate limit (ONCE_RATE_LIMIT=off)',
    `headers within ${HEADERS_TIMEOUT_MS / 1000} s, whole request within ${REQUEST_TIMEOUT_MS / 1000} s, bodies up to ${DEFAULT_MAX_BODY_BYTES / (1024 * 1024)} MB`,
  ].join('; ');
}

export interface HttpServer {
  /** The endpoint, e.g. http://127.0.0.1:8080/mcp. */
  url: string;
  sessionCount(): number;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  principal: string;
  /** The token that opened it (its position in ONCE_HTTP_TOKENS): only that token may use it (README, Isolation). */
  token: number;
  lastSeen: number;
  /** Requests of this session still open (a long SSE stream is one): such a session is never evicted. */
  active: number;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to 127.0.0.1 (loopback only). */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new ConfigError('--http', `"${text}" is not [HOST:]PORT`, 'Write --http 8080 or --http 127.0.0.1:8080 (port 0 picks a free one)');
  }
  const host = match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  return { host, port };
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Host header values this server answers to: the bound address and the loopback names, with the port. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set<string>([...LOOPBACK_NAMES, bracketed(host).toLowerCase()]);
  if (host === '0.0.0.0' || host === '::') {
    // Bound to every interface: the machine's own addresses and name, never any name a DNS record points here.
    names.add(hostname().toLowerCase());
    for (const infos of Object.values(networkInterfaces())) {
      for (const info of infos ?? []) names.add(bracketed(info.address).toLowerCase());
    }
  }
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name}:${port}`);
    if (port === 80) hosts.add(name);
  }
  return hosts;
}

function originAllowed(origin: string, hosts: Set<string>): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && hosts.has(url.host.toLowerCase());
  } catch {
    return false; // includes Origin: null (sandboxed frames, file://)
  }
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, data?: Record<string, unknown>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message, ...(data ? { data } : {}) }, id: null }));
}

/** status 0: the client went away (or was cut off) before its body was complete. */
type Body = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(req: IncomingMessage, limit: number): Promise<Body> {
  const raw = await readRawBody(req, limit);
  if (raw === 'gone') return { ok: false, status: 0, message: 'the client went away' };
  if (raw === 'too_large') return { ok: false, status: 413, message: `Payload too large: the limit is ${limit} bytes` };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false, status: 400, message: 'Parse error: the body is not JSON' };
  }
}

/** Who sent an authenticated request: the principal, and which of its tokens. */
interface Caller {
  principal: string;
  token: number;
}

type Admission = { ok: true } | { ok: false; status: 429 | 503; reason: string; retryAfterS: number; message: string; data: Record<string, unknown> };

/** The MCP sessions of one HTTP server: who holds them, the caps on opening more, and closing idle ones. */
class Sessions {
  private readonly byId = new Map<string, Session>();
  /** Sessions being opened (initialize in flight), by principal: counted against the caps before they exist. */
  private readonly opening = new Map<string, number>();
  private openingTotal = 0;
  private readonly maxSessions: number;
  private readonly maxPerPrincipal: number;
  private readonly evictIdleMs: number;

  constructor(private readonly options: HttpServeOptions) {
    this.maxSessions = options.maxSessions ?? DEFAULT_HTTP_LIMITS.maxSessions;
    this.maxPerPrincipal = options.maxSessionsPerPrincipal ?? DEFAULT_HTTP_LIMITS.maxSessionsPerPrincipal;
    this.evictIdleMs = options.evictIdleMs ?? EVICT_IDLE_MS;
  }

  get size(): number {
    return this.byId.size;
  }

  /** The session with this id, if this token opened it: another token's is indistinguishable from none. */
  heldBy(id: string, caller: Caller): Session | undefined {
    const session = this.byId.get(id);
    return session?.principal === caller.principal && session.token === caller.token ? session : undefined;
  }

  async close(id: string, why: string): Promise<void> {
    const session = this.byId.get(id);
    if (!session) return;
    this.byId.delete(id);
    this.options.logger.log('info', 'session_closed', { session: id, principal: session.principal, why });
    await session.server.close().catch(() => {});
  }

  async closeAll(why: string): Promise<void> {
    await Promise.all([...this.byId.keys()].map((id) => this.close(id, why)));
  }

  /** Closes sessions unused for `idleMs` with no request open. */
  reap(idleMs: number): void {
    const now = Date.now();
    for (const [id, session] of this.byId) {
      if (session.active === 0 && now - session.lastSeen > idleMs) void this.close(id, 'idle');
    }
  }

  /** Tracks a request of a session while it is open, so a session streaming an answer is never evicted. */
  track(session: Session, res: ServerResponse): void {
    session.active += 1;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.active -= 1;
      session.lastSeen = Date.now();
    });
  }

  /** Opens a session for `principal` and lets it answer the initialize request, counted as opening meanwhile. */
  async open({ principal, token }: Caller, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    this.opening.set(principal, (this.opening.get(principal) ?? 0) + 1);
    this.openingTotal += 1;
    try {
      const transport = await this.connect(principal, token);
      await transport.handleRequest(req, res, body);
    } finally {
      const left = (this.opening.get(principal) ?? 1) - 1;
      if (left > 0) this.opening.set(principal, left);
      else this.opening.delete(principal);
      this.openingTotal -= 1;
    }
  }

  private async connect(principal: string, token: number): Promise<StreamableHTTPServerTransport> {
    const { logger } = this.options;
    const server = this.options.newServer(principal);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.byId.set(id, { transport, server, principal, token, lastSeen: Date.now(), active: 0 });
        logger.log('info', 'session_opened', { session: id, principal });
      },
      onsessionclosed: (id) => this.close(id, 'client_deleted'),
    });
    transport.onclose = () => {
      if (transport.sessionId) void this.close(transport.sessionId, 'transport_closed');
    };
    await server.connect(transport);
    return transport;
  }

  /** May `principal` open one more session? At its cap, its LRU session unused for evictIdleMs makes room. */
  async admit(principal: string): Promise<Admission> {
    const perPrincipal = await this.roomForPrincipal(principal);
    if (!perPrincipal.ok) return perPrincipal;
    const sessions = this.byId.size;
    if (sessions + this.openingTotal >= this.maxSessions) {
      return {
        ok: false,
        status: 503,
        reason: 'sessions_total',
        retryAfterS: GLOBAL_RETRY_AFTER_S,
        message: `Server busy: ${sessions} MCP sessions are open, this server's limit is ${this.maxSessions}. Retry after ${GLOBAL_RETRY_AFTER_S} s, close unused sessions with DELETE ${MCP_PATH}, or use another server on the same store`,
        data: { reason: 'sessions_total', open_sessions: sessions, limit: this.maxSessions, retry_after_s: GLOBAL_RETRY_AFTER_S },
      };
    }
    const limiter = this.options.sessionOpenLimiter;
    const rate = limiter?.take(principal);
    if (limiter && rate && !rate.allowed) {
      const retryAfterS = Math.max(1, Math.ceil(rate.retryAfterMs / 1000));
      const perMinute = limiter.perMinute;
      return {
        ok: false,
        status: 429,
        reason: 'session_rate',
        retryAfterS,
        message: `Too many new sessions: ${principal} may open ${perMinute} a minute (ONCE_RATE_LIMIT). Reuse an open session (send its Mcp-Session-Id), or retry after ${retryAfterS} s`,
        data: { reason: 'session_rate', principal, per_minute: perMinute, retry_after_s: retryAfterS },
      };
    }
    return { ok: true };
  }

  /** Under the principal's cap, or at it with a least recently used session idle long enough to close. */
  private async roomForPrincipal(principal: string): Promise<Admission> {
    const now = Date.now();
    const own = [...this.byId.entries()].filter(([, s]) => s.principal === principal);
    if (own.length + (this.opening.get(principal) ?? 0) < this.maxPerPrincipal) return { ok: true };
    const evictable = own.filter(([, s]) => s.active === 0).sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0];
    if (evictable && now - evictable[1].lastSeen >= this.evictIdleMs) {
      await this.close(evictable[0], 'evicted_for_new_session');
      return { ok: true };
    }
    const retryAfterS = evictable ? Math.max(1, Math.ceil((this.evictIdleMs - (now - evictable[1].lastSeen)) / 1000)) : Math.ceil(this.evictIdleMs / 1000);
    return {
      ok: false,
      status: 429,
      reason: 'sessions_per_principal',
      retryAfterS,
      message: `Too many sessions: ${principal} has ${own.length} open MCP sessions, the limit is ${this.maxPerPrincipal}. Reuse an open session (send its Mcp-Session-Id), close unused ones with DELETE ${MCP_PATH}, or retry after ${retryAfterS} s, when the least recently used one may be closed for you`,
      data: { reason: 'sessions_per_principal', principal, open_sessions: own.length, limit: this.maxPerPrincipal, retry_after_s: retryAfterS },
    };
  }
}

/** Everything a request is answered with: the options, the session table and the Host names served. */
interface Endpoint {
  options: HttpServeOptions;
  sessions: Sessions;
  hosts: Set<string>;
}

/** Logs a refusal and answers it. */
function denied(
  options: HttpServeOptions,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  reason: string,
  message: string,
  headers?: Record<string, string>,
  data?: Record<string, unknown>,
): void {
  options.logger.log('warn', 'http_refused', { status, reason, method: req.method, remote: req.socket.remoteAddress, ...(data?.principal ? { principal: data.principal } : {}) });
  refuse(res, status, message, headers, data);
}

/** One request, in order: a webhook path; the path, Host and Origin; /metrics; the bearer token; then MCP. */
async function handleRequest(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { options, hosts } = endpoint;
  const deny = (status: number, reason: string, message: string, headers?: Record<string, string>) => denied(options, req, res, status, reason, message, headers);
  const path = (req.url ?? '/').split('?')[0];
  const webhook = options.webhooks?.get(path);
  if (webhook) return webhook(req, res);
  const metrics = path === METRICS_PATH ? options.metrics : undefined;
  if (path !== MCP_PATH && !metrics) {
    const hint = path === METRICS_PATH ? ` (${METRICS_PATH} is served when ONCE_METRICS_TOKEN is set)` : '';
    return deny(404, 'path', `Not found: the MCP endpoint is ${MCP_PATH}${hint}`);
  }
  // DNS rebinding: a browser page on another name must not reach this loopback server (403 before auth).
  const host = req.headers.host?.toLowerCase();
  if (!host || !hosts.has(host)) return deny(403, 'host', 'Forbidden: this Host is not served here');
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, hosts)) return deny(403, 'origin', 'Forbidden: this Origin may not call this server');
  if (metrics) return answerMetrics(req, res, metrics, deny);
  const caller = options.tokens.identify(req.headers.authorization);
  if (caller === undefined) {
    const presented = req.headers.authorization !== undefined;
    const challenge = presented ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
    return deny(401, presented ? 'invalid_token' : 'no_token', 'Unauthorized: send Authorization: Bearer <token> with a token from ONCE_HTTP_TOKENS', {
      'www-authenticate': challenge,
    });
  }
  const method = req.method ?? '';
  if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
    return deny(405, 'method', 'Method not allowed: use POST, GET or DELETE', { allow: 'POST, GET, DELETE' });
  }
  return answerMcp(endpoint, req, res, caller);
}

/** An authenticated MCP request: the body, then its session, or a new session for an initialize. */
async function answerMcp(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
  const { options, sessions } = endpoint;
  const { principal } = caller;
  const method = req.method ?? '';
  let body: unknown;
  if (method === 'POST') {
    const read = await readJson(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (!read.ok && read.status === 0) return; // the client is gone (or was cut off): nobody to answer
    if (!read.ok) {
      // Stop reading a body we will not use; the connection closes after this answer.
      req.resume();
      return denied(options, req, res, read.status, read.status === 413 ? 'body_too_large' : 'bad_json', read.message, { connection: 'close' });
    }
    body = read.value;
  }
  const sessionId = req.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const session = sessions.heldBy(sessionId, caller);
    if (!session) return denied(options, req, res, 404, 'unknown_session', 'Session not found: initialize a new session');
    sessions.track(session, res);
    return session.transport.handleRequest(req, res, body);
  }
  const initializes = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
  if (method !== 'POST' || !initializes) {
    return denied(options, req, res, 400, 'no_session', 'Bad request: send initialize first, then the Mcp-Session-Id header it returns');
  }
  const admission = await sessions.admit(principal);
  if (!admission.ok) {
    return denied(options, req, res, admission.status, admission.reason, admission.message, { 'retry-after': String(admission.retryAfterS) }, admission.data);
  }
  await sessions.open(caller, req, res, body);
}

/** Listens on the address; a port that is taken or not ours to bind is a configuration line. */
async function listen(http: ReturnType<typeof createHttpServer>, options: HttpServeOptions): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES'
        ? new ConfigError('--http', `cannot listen on ${bracketed(options.host)}:${options.port} (${error.code})`, 'Pick another port or address')
        : error),
    );
    http.listen(options.port, options.host, () => resolve());
  });
  return (http.address() as AddressInfo).port;
}

export async function serveHttp(options: HttpServeOptions): Promise<HttpServer> {
  const idleMs = options.sessionIdleMs ?? DEFAULT_HTTP_LIMITS.sessionIdleMs;
  const endpoint: Endpoint = { options, sessions: new Sessions(options), hosts: new Set<string>() };
  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Slow loris: Node's defaults (60 s for headers, 300 s for the request) checked every 30 s would let a
  // client hold a socket for minutes by trickling bytes; these bounds are checked every second.
  const http = createHttpServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1_000, headersTimeout) }, (req, res) => {
    handleRequest(endpoint, req, res).catch((error: unknown) => {
      options.logger.log('warn', 'http_error', { message: error instanceof Error ? error.message : String(error) });
      refuse(res, 500, 'Internal error');
    });
  });
  const port = await listen(http, options);
  endpoint.hosts = allowedHosts(options.host, port);

  const reaper = setInterval(() => endpoint.sessions.reap(idleMs), Math.min(idleMs, 60_000));
  reaper.unref();

  return {
    url: `http://${bracketed(options.host)}:${port}${MCP_PATH}`,
    sessionCount: () => endpoint.sessions.size,
    async close() {
      clearInterval(reaper);
      await endpoint.sessions.closeAll('shutdown');
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
