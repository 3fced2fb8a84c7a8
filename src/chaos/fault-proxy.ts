// A fault-injecting HTTP proxy in front of a merchant: per planned rule it drops the request, drops the
// response after the merchant acted, holds the answer past the client's timeout, answers 5xx or a 409
// idempotency_in_flight itself, or cuts the body in half. Deterministic: rules fire on counted occurrences.
// Holds keep one request in the network until a later one arrives (a retry with other data, the next call on
// the checkout), then let the stale one land first: the orderings an agent that moved on never expects.
// ACP's MCP binding goes through it too: a tools/call of an ACP tool is seen (matched, logged) as the REST call
// it stands for (create_checkout_session = POST /checkout_sessions, with meta.idempotency_key as its
// Idempotency-Key), so one plan of faults serves both transports; other MCP traffic is method `MCP`.
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MCP_TOOLS } from '../backends/acp/mcp-transport.js';
import { restPath, type AcpOperationName } from '../backends/acp/transport.js';

export const PROXY_FAULTS = ['drop_request', 'drop_response', 'delay', 'error_5xx', 'in_flight_409', 'cut_body', 'rpc_error'] as const;
export type ProxyFault = (typeof PROXY_FAULTS)[number];

/** Which requests a rule or hold is about: method, path, and (one MCP endpoint carries every operation) body. */
export interface RequestMatch {
  method?: string;
  path: RegExp;
  /** Also matched against the request body (parsed JSON), e.g. the tool an MCP call names. */
  body?: (body: unknown) => boolean;
}

/**
 * Holds the next request matching `method`/`path` before it reaches the merchant, until a later request matching
 * `releaseOn` arrives (then the held one lands first, and the later one goes on only once the merchant answered
 * it), or `maxMs` passes. This is a request stuck in the network while the client gave up and moved on.
 */
export interface HoldRule extends RequestMatch {
  releaseOn: RequestMatch;
  maxMs: number;
  /** Called when the held request is let go (before it is forwarded). */
  onRelease?(why: 'released' | 'expired'): void;
}

/** What the merchant answered to one forwarded request, seen before the client gets it. */
export interface ProxyAnswer {
  method: string;
  path: string;
  status: number;
  body: Buffer;
  /** The request it answers (parsed JSON when it is JSON): on MCP the tool call says which operation it was. */
  request: unknown;
}

export interface ProxyRule {
  fault: ProxyFault;
  /** GET or POST; absent matches any method. */
  method?: string;
  /** Matched against the request path (without the query). */
  path: RegExp;
  /** Also matched against the request body (parsed JSON), e.g. the tool an MCP call names. */
  body?: (body: unknown) => boolean;
  /** Fire from the nth matching request on (1-based, counted from when the rule was planned). Default 1. */
  nth?: number;
  /** How many times the rule fires; default once. Infinity for every match from `nth` on. */
  times?: number;
  /** `delay`: how long the answer is held. Default 5 s. */
  delayMs?: number;
  /** `error_5xx`: the status. Default 503. */
  status?: number;
  /** `in_flight_409`: the Retry-After seconds. Default 1. */
  retryAfterSeconds?: number;
}

/** One request as the proxy saw it. The bearer token is kept only as a fingerprint. */
export interface ProxyEntry {
  seq: number;
  method: string;
  path: string;
  /** Lower-cased header names; `authorization` holds `Bearer sha256:<12 hex>` instead of the token. */
  headers: Record<string, string>;
  /** The request body as sent (parsed JSON when it is JSON). */
  body: unknown;
  fault?: ProxyFault | 'partition';
  /** Whether the request reached the merchant. */
  forwarded: boolean;
  /** The merchant's status, when it answered. */
  upstreamStatus?: number;
}

export interface ProxyCounts {
  requests: number;
  forwarded: number;
  faults: Record<ProxyFault | 'partition', number>;
  /** Requests held by a hold rule (not a random fault: targeted by the chaos agents' interleavings). */
  held: number;
}

export interface FaultProxy {
  url: string;
  /** Adds a rule; rules are tried in the order planned, the first that fires wins. */
  plan(rule: ProxyRule): void;
  /** Removes every rule (the log and counts stay). */
  clear(): void;
  /** Arms a hold; the returned function disarms it, or lets a request it holds go at once. */
  hold(rule: HoldRule): () => void;
  /** While on, every connection is destroyed on arrival and every request refused. */
  partition(on: boolean): void;
  readonly log: ProxyEntry[];
  readonly counts: ProxyCounts;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The merchant's base URL (http only). */
  target: string;
  /** Consulted when no planned rule fires: a seeded random plan (the chaos command) picks a fault per request. */
  decide?: (method: string, path: string, body: unknown) => Omit<ProxyRule, 'path'> | undefined;
  /**
   * Sees every merchant answer before the client does (synchronously, so whatever it does, such as cutting the
   * ledger's store, happens before the client can act on the answer).
   */
  onAnswer?: (answer: ProxyAnswer) => void;
  /** Keep every request in `log` (default true; long chaos runs keep only the counts). */
  keepLog?: boolean;
  host?: string;
  port?: number;
}

interface Planned {
  rule: ProxyRule;
  seen: number;
  fired: number;
}

interface Hold {
  rule: HoldRule;
  state: 'armed' | 'holding' | 'done';
  release?: (why: 'released' | 'expired') => void;
  /** Resolves once the held request has been answered by the merchant (or could not be forwarded). */
  landed?: Promise<void>;
}

const OPERATION_OF_TOOL: Record<string, AcpOperationName> = Object.fromEntries(
  Object.entries(MCP_TOOLS).map(([operation, tool]) => [tool, operation as AcpOperationName]),
);

const ACP_MCP_SUFFIX = '/acp/mcp';

/** An MCP request as the proxy sees it: the REST call an ACP tool call stands for, or other MCP traffic. */
interface McpView {
  method: string;
  path: string;
  /** The JSON-RPC id, for answers the proxy makes itself. */
  rpcId?: string | number;
  headers: Record<string, string>;
  body: unknown;
}

function mcpView(req: IncomingMessage, path: string, body: unknown): McpView | undefined {
  // Only ACP's binding: another protocol's MCP endpoint (UCP's /ucp/mcp) is matched on its own path and body.
  if (!path.endsWith(ACP_MCP_SUFFIX)) return undefined;
  const message = body as { jsonrpc?: unknown; id?: string | number; method?: unknown; params?: { name?: unknown; arguments?: Record<string, unknown> } } | undefined;
  const isRpc = message?.jsonrpc === '2.0';
  if (!isRpc) {
    const accept = String(req.headers.accept ?? '');
    if (req.method !== 'POST' && (req.headers['mcp-session-id'] !== undefined || accept.includes('text/event-stream'))) {
      return { method: 'MCP', path: `${path}#${req.method}`, headers: {}, body };
    }
    return undefined;
  }
  const operation = message?.method === 'tools/call' && typeof message.params?.name === 'string' ? OPERATION_OF_TOOL[message.params.name] : undefined;
  if (operation === undefined) return { method: 'MCP', path: `${path}#${String(message?.method)}`, rpcId: message?.id, headers: {}, body };
  const args = message?.params?.arguments ?? {};
  const meta = (args.meta ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  if (typeof meta.idempotency_key === 'string') headers['idempotency-key'] = meta.idempotency_key;
  if (typeof meta.request_id === 'string') headers['request-id'] = meta.request_id;
  if (typeof meta.api_version === 'string') headers['api-version'] = meta.api_version;
  return {
    method: operation === 'get' ? 'GET' : 'POST',
    path: restPath({ operation, id: typeof args.id === 'string' ? args.id : undefined }),
    rpcId: message?.id,
    headers,
    body: args.payload,
  };
}

/** The JSON-RPC answer inside a JSON or SSE body, as the status and body the same REST answer would have. */
function mcpAnswer(raw: Buffer): { status: number; body: Buffer } {
  const text = raw.toString('utf8');
  const candidates = text.trimStart().startsWith('{') ? [text] : text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5));
  for (const candidate of candidates) {
    try {
      const message = JSON.parse(candidate) as { result?: { structuredContent?: unknown }; error?: { data?: unknown } };
      if (message.result) return { status: 200, body: Buffer.from(JSON.stringify(message.result.structuredContent ?? message.result)) };
      if (message.error) return { status: 400, body: Buffer.from(JSON.stringify(message.error.data ?? message.error)) };
    } catch {
      // Not this line.
    }
  }
  return { status: 502, body: raw };
}

function rpcError(res: ServerResponse, id: string | number | undefined, data: Record<string, unknown>): void {
  json(res, 200, { jsonrpc: '2.0', id: id ?? null, error: { code: -32000, message: String(data.message), data } });
}

function matches(rule: RequestMatch, method: string, path: string, body: unknown): boolean {
  return (rule.method === undefined || rule.method.toUpperCase() === method) && rule.path.test(path) && (rule.body === undefined || rule.body(body));
}

interface Upstream {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The fingerprint the proxy logs in place of a bearer token, so tests can compare without storing it. */
export function tokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const bearer = /^Bearer\s+(\S+)/i.exec(out.authorization ?? '');
  if (out.authorization !== undefined) out.authorization = bearer ? `Bearer ${tokenFingerprint(bearer[1])}` : '<redacted>';
  return out;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parsed(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultInjector(options);
  const server = createServer((req, res) => {
    proxy.handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket: Socket) => proxy.admit(socket));
  const url = await listen(server, options);
  return {
    url,
    plan: (rule) => proxy.plan(rule),
    clear: () => proxy.clear(),
    hold: (rule) => proxy.hold(rule),
    partition: (on) => proxy.partition(on),
    log: proxy.log,
    counts: proxy.counts,
    close: () => proxy.close(server),
  };
}

/** Listens on `options.host`/`options.port` (a free port by default); the proxy's base URL. */
async function listen(server: Server, options: FaultProxyOptions): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** One request as the proxy handles it: what arrived, what it stands for (on MCP), and its log entry. */
interface Incoming {
  req: IncomingMessage;
  res: ServerResponse;
  /** The HTTP path (an MCP call's `path` is the REST path it stands for). */
  httpPath: string;
  raw: Buffer;
  mcp?: McpView;
  method: string;
  path: string;
  entry: ProxyEntry;
}

/** The proxy's rules, holds, log and counts, and the steps one request goes through. */
class FaultInjector {
  readonly log: ProxyEntry[] = [];
  readonly counts: ProxyCounts = {
    requests: 0,
    forwarded: 0,
    faults: { drop_request: 0, drop_response: 0, delay: 0, error_5xx: 0, in_flight_409: 0, cut_body: 0, rpc_error: 0, partition: 0 },
    held: 0,
  };
  private readonly target: URL;
  private readonly targetBase: string;
  private readonly rules: Planned[] = [];
  private holds: Hold[] = [];
  private closed = false;
  private partitioned = false;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly landedOf = new WeakMap<Hold, () => void>();

  constructor(private readonly options: FaultProxyOptions) {
    this.target = new URL(options.target);
    if (this.target.protocol !== 'http:') throw new Error(`fault proxy: target must be http, not ${this.target.protocol}`);
    this.targetBase = this.target.pathname.replace(/\/+$/, '');
  }

  plan(rule: ProxyRule): void {
    this.rules.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules.length = 0;
  }

  hold(rule: HoldRule): () => void {
    const hold: Hold = { rule, state: 'armed' };
    this.holds.push(hold);
    return () => {
      if (hold.state === 'armed') this.holds = this.holds.filter((h) => h !== hold);
      else if (hold.state === 'holding') hold.release?.('released');
    };
  }

  partition(on: boolean): void {
    this.partitioned = on;
    // Open keep-alive connections would let requests through: a partition cuts them too.
    if (on) for (const socket of this.sockets) socket.destroy();
  }

  /** A new connection: refused during a partition, otherwise tracked so a partition can cut it. */
  admit(socket: Socket): void {
    if (this.partitioned) {
      this.counts.faults.partition += 1;
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  close(server: Server): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.closed = true;
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      for (const hold of this.holds) this.landedOf.get(hold)?.();
      this.holds = [];
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call = await this.record(req, res);
    if (this.partitioned) {
      call.entry.fault = 'partition';
      this.counts.faults.partition += 1;
      req.socket.destroy();
      return;
    }
    await this.letHeldRequestsLandBefore(call);
    const hold = this.holds.find((h) => h.state === 'armed' && matches(h.rule, call.method, call.path, call.entry.body));
    if (hold) return this.holdThenForward(hold, call);
    const rule = this.pick(call.method, call.path, call.entry.body) ?? (this.options.decide?.(call.method, call.path, call.entry.body) as ProxyRule | undefined);
    if (rule) {
      call.entry.fault = rule.fault;
      this.counts.faults[rule.fault] += 1;
    }
    if (answerInsteadOfMerchant(rule, call)) return;
    let upstream: Upstream;
    try {
      upstream = await this.forward(call);
    } catch {
      // The merchant itself is unreachable: the client sees a reset, as it would without the proxy.
      req.socket.destroy();
      return;
    }
    this.seeAnswer(call, upstream);
    this.deliver(rule, call, upstream);
  }

  /** Reads the request, sees what it stands for, counts it and logs it. */
  private async record(req: IncomingMessage, res: ServerResponse): Promise<Incoming> {
    const httpPath = new URL(req.url ?? '/', 'http://proxy').pathname;
    const raw = await readAll(req);
    const mcp = mcpView(req, httpPath, parsed(raw));
    const method = mcp?.method ?? (req.method ?? 'GET').toUpperCase();
    const path = mcp?.path ?? httpPath;
    this.counts.requests += 1;
    const entry: ProxyEntry = { seq: this.log.length + 1, method, path, headers: { ...headersOf(req), ...mcp?.headers }, body: mcp ? mcp.body : parsed(raw), forwarded: false };
    if (this.options.keepLog !== false) this.log.push(entry);
    return { req, res, httpPath, raw, mcp, method, path, entry };
  }

  /** A request a held one waits for: the held one reaches the merchant first (bounded, should it hang). */
  private async letHeldRequestsLandBefore(call: Incoming): Promise<void> {
    for (const waiting of this.holds.filter((h) => h.state === 'holding' && matches(h.rule.releaseOn, call.method, call.path, call.entry.body))) {
      waiting.release?.('released');
      await Promise.race([waiting.landed, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
  }

  /** Holds the request until released or expired, then forwards it; a client still there gets the answer. */
  private async holdThenForward(hold: Hold, call: Incoming): Promise<void> {
    const { req, res } = call;
    this.counts.held += 1;
    await this.holdRequest(hold);
    if (this.closed) return;
    let answer: Upstream | undefined;
    try {
      answer = await this.forward(call);
      this.seeAnswer(call, answer);
    } catch {
      // The merchant is unreachable: the held request is lost.
    } finally {
      hold.state = 'done';
      this.holds = this.holds.filter((h) => h !== hold);
      this.landedOf.get(hold)?.();
    }
    // The client has usually given up by now; if it is still there, it gets the answer.
    if (answer && !res.destroyed && !req.socket.destroyed) relay(res, answer);
    else req.socket.destroy();
  }

  /** Waits until the hold is released by a later request or expires. */
  private holdRequest(hold: Hold): Promise<void> {
    hold.state = 'holding';
    hold.landed = new Promise<void>((resolve) => this.landedOf.set(hold, resolve));
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => hold.release?.('expired'), hold.rule.maxMs);
      this.timers.add(timer);
      hold.release = (why) => {
        hold.release = undefined;
        clearTimeout(timer);
        this.timers.delete(timer);
        hold.rule.onRelease?.(why);
        resolve();
      };
    });
  }

  /** The first planned rule that fires for this request, if any. */
  private pick(method: string, path: string, body: unknown): ProxyRule | undefined {
    let chosen: ProxyRule | undefined;
    for (const planned of this.rules) {
      const { rule } = planned;
      if (!matches(rule, method, path, body)) continue;
      // Every matching rule counts the occurrence, so `nth` means the same whichever rule fires.
      planned.seen += 1;
      if (chosen || planned.seen < (rule.nth ?? 1) || planned.fired >= (rule.times ?? 1)) continue;
      planned.fired += 1;
      chosen = rule;
    }
    return chosen;
  }

  private forward({ req, httpPath, raw }: Incoming): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.target.host, connection: 'close' };
      const upstream = httpRequest(
        // A connection of its own (agent: false): with `Connection: close` sent, a pooled socket could carry the
        // next request after the merchant closed it ("Data after Connection: close").
        { host: this.target.hostname, port: this.target.port, method: req.method, path: `${this.targetBase}${httpPath}${search(req)}`, headers, agent: false },
        (answer) => {
          readAll(answer).then(
            (body) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers as Upstream['headers'], body }),
            reject,
          );
        },
      );
      upstream.once('error', reject);
      upstream.end(raw);
    });
  }

  /** Logs and counts the merchant's answer, and shows it to `onAnswer` before the client can see it. */
  private seeAnswer(call: Incoming, upstream: Upstream): void {
    const { mcp, method, path, entry } = call;
    entry.forwarded = true;
    entry.upstreamStatus = upstream.status;
    this.counts.forwarded += 1;
    this.options.onAnswer?.({ method, path, ...(mcp ? mcpAnswer(upstream.body) : { status: upstream.status, body: upstream.body }), request: entry.body });
  }

  /** Hands the merchant's answer to the client, or loses, delays or cuts it as the rule says. */
  private deliver(rule: ProxyRule | undefined, { req, res }: Incoming, upstream: Upstream): void {
    switch (rule?.fault) {
      case 'drop_response':
        req.socket.destroy();
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!res.destroyed) relay(res, upstream);
        }, rule.delayMs ?? 5_000);
        this.timers.add(timer);
        return;
      }
      case 'cut_body': {
        const headers = { ...upstream.headers };
        delete headers['transfer-encoding'];
        res.writeHead(upstream.status, { ...headers, 'content-length': String(upstream.body.length) });
        res.write(upstream.body.subarray(0, Math.floor(upstream.body.length / 2)), () => req.socket.destroy());
        return;
      }
      default:
        relay(res, upstream);
    }
  }
}

/** The faults that never reach the merchant: the proxy drops the request or answers itself. True if it did. */
function answerInsteadOfMerchant(rule: ProxyRule | undefined, { req, res, mcp }: Incoming): boolean {
  switch (rule?.fault) {
    case 'drop_request':
      req.socket.destroy();
      return true;
    case 'error_5xx':
      json(res, rule.status ?? 503, { type: 'service_unavailable', code: 'injected_fault', message: 'Injected fault: the proxy answered 5xx.' });
      return true;
    case 'rpc_error':
      // ACP's MCP binding: a -32000 internal error before anything happened (over REST: a 500).
      if (mcp) rpcError(res, mcp.rpcId, { type: 'processing_error', code: 'internal_error', message: 'Injected fault: internal error.' });
      else json(res, 500, { type: 'processing_error', code: 'internal_error', message: 'Injected fault: internal error.' });
      return true;
    case 'in_flight_409':
      if (mcp) {
        rpcError(res, mcp.rpcId, { type: 'invalid_request', code: 'idempotency_in_flight', message: 'A request with this Idempotency-Key is currently being processed' });
        return true;
      }
      json(
        res,
        409,
        { type: 'invalid_request', code: 'idempotency_in_flight', message: 'A request with this Idempotency-Key is currently being processed' },
        { 'Retry-After': String(rule.retryAfterSeconds ?? 1) },
      );
      return true;
    default:
      return false;
  }
}

function relay(res: ServerResponse, upstream: Upstream): void {
  const headers = { ...upstream.headers };
  delete headers['transfer-encoding'];
  delete headers.connection;
  res.writeHead(upstream.status, { ...headers, 'content-length': String(upstream.body.length) });
  res.end(upstream.body);
}

function search(req: IncomingMessage): string {
  const at = (req.url ?? '').indexOf('?');
  return at < 0 ? '' : (req.url ?? '').slice(at);
}
