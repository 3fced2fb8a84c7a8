// The sandbox merchant as a standalone ACP merchant over node:http, every released version on one port: ACP REST
// (bearer auth, API-Version, JSON bodies and the idempotency headers around SandboxMerchant.handle, which does
// everything else), and, in their own block below, /.well-known/acp.json and ACP's MCP binding at /acp/mcp.
// UCP's side (ucp-http.ts) answers on the same port under /ucp and /.well-known/ucp.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../../store/store.js';
import type { AcpVersion } from '../acp/versions.js';
import { generateKeyPairSync, randomBytes as keyId } from 'node:crypto';
import { render } from './cart.js';
import { acpError, type AcpError, type Answer } from './errors.js';
import { NO_FAULTS, pickFault, type FaultName, type FaultPlan, type Random } from './faults.js';
import { ACP_MCP_PATH, AcpMcpEndpoint, operationOfRpc } from './mcp-binding.js';
import { SandboxMerchant, matchRoute, type MerchantResponse } from './merchant.js';
import { ucpRoutes } from './ucp-http.js';
import { UcpMerchant } from './ucp-merchant.js';
import { ORDER_STEPS, OrderEventSender, SandboxOrders, type OrderEventSenderOptions, type OrderStep } from './order-events.js';

export interface ServeMerchantOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  store: Store;
  /**
   * Bearer token → caller identity (keys are scoped per identity). Without it any non-empty bearer token is
   * accepted and the token itself (hashed) is the identity: fine for a local sandbox, not for anything shared.
   */
  tokens?: ReadonlyMap<string, string> | Record<string, string>;
  /** The ACP versions this merchant speaks (API-Version or meta.api_version), oldest first. Default all released. */
  versions?: readonly AcpVersion[];
  /** Serve /.well-known/acp.json (default true); off, a client learns the versions from a refusal. */
  discovery?: boolean;
  /** Where links and order permalinks point; default this server's own URL. */
  baseUrl?: string;
  now?: () => number;
  ignoreIdempotencyKeys?: boolean;
  /**
   * Injected faults (ONCE_SANDBOX_FAULTS): error_5xx answers 503 before acting; lose_response acts, then drops
   * the connection; timeout acts, then holds the answer `timeoutDelayMs` and drops it; crash_after_commit acts,
   * then calls `crash` (default: drop the connection, as in-process we must not kill the caller).
   */
  faults?: FaultPlan;
  /** Draws for fault rates; pass a seeded one (mulberry32) to replay a run. Default Math.random. */
  rng?: Random;
  timeoutDelayMs?: number;
  crash?: () => void;
  /** UCP's complete_in_progress fault: how long a complete stays in progress before it charges. Default 5 s. */
  completeDelayMs?: number;
  /**
   * Where to send signed ACP order events (order_create on every completed order; order_update on each
   * POST /sandbox/orders/{id}/{confirm|ship|deliver|refund|cancel}), with the secret and delivery faults.
   */
  orderEvents?: OrderEventSenderOptions;
  /**
   * Where the UCP side sends its order events (orders placed over UCP), signed per RFC 9421 with a P-256 key
   * made at start and published in /.well-known/ucp `signing_keys`.
   */
  ucpOrderEvents?: Omit<OrderEventSenderOptions, 'secret' | 'ucp'>;
}

export interface MerchantServer {
  /** e.g. http://127.0.0.1:43123 */
  url: string;
  port: number;
  merchant: SandboxMerchant;
  /** The same business over UCP (REST under /ucp, MCP at /ucp/mcp, /.well-known/ucp). */
  ucp: UcpMerchant;
  /** The orders after checkout, and their event sender (when order events are on). */
  orders: SandboxOrders;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1_000_000;

type Reply = { status: number; body: unknown; headers: Record<string, string> };

function errorReply(answer: Answer, headers: Record<string, string> = {}, extra: Partial<AcpError> = {}): Reply {
  return { status: answer.status, body: { ...answer.body, ...extra }, headers };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

type BodyRead = { kind: 'ok'; body: unknown } | { kind: 'too_large' } | { kind: 'bad_json'; reason: string };

async function readBody(req: IncomingMessage): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { kind: 'too_large' };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { kind: 'ok', body: undefined };
  try {
    return { kind: 'ok', body: JSON.parse(text) };
  } catch (error) {
    return { kind: 'bad_json', reason: error instanceof Error ? error.message : String(error) };
  }
}

function identityFor(token: string, tokens: ServeMerchantOptions['tokens']): string | undefined {
  if (tokens === undefined) return `token:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
  return tokens instanceof Map ? tokens.get(token) : (tokens as Record<string, string>)[token];
}

function unauthorized(headers: Record<string, string> = {}): Reply {
  return errorReply(
    acpError(401, 'invalid_request', 'unauthorized', 'A valid bearer token is required (Authorization: Bearer <token>).'),
    { ...headers, 'WWW-Authenticate': 'Bearer' },
  );
}

function unavailable(code: 'starting' | 'injected_fault'): Reply {
  const words = code === 'starting' ? 'The merchant is starting.' : 'Injected fault: the merchant is unavailable.';
  return errorReply(acpError(503, 'service_unavailable', code, words));
}

function internalError(): Reply {
  return errorReply(acpError(500, 'processing_error', 'internal_error', 'The sandbox merchant failed.'));
}

function send(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function drop(res: ServerResponse): void {
  res.socket?.destroy();
}

/** Hands the MCP transport a response that writes nothing, and does `after` once it has finished answering. */
function withheld(res: ServerResponse, after: () => void): void {
  let finished = false;
  res.writeHead = (() => res) as unknown as typeof res.writeHead;
  res.flushHeaders = () => {};
  res.write = (() => true) as unknown as typeof res.write;
  res.end = (() => {
    if (!finished) {
      finished = true;
      after();
    }
    return res;
  }) as unknown as typeof res.end;
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://merchant').pathname;
}

export async function serveMerchant(options: ServeMerchantOptions): Promise<MerchantServer> {
  return new SandboxHttpServer(options).start();
}

/** The server behind serveMerchant: the merchants exist once it listens, as they need its URL. */
class SandboxHttpServer {
  private merchant: SandboxMerchant | undefined;
  private mcp: AcpMcpEndpoint | undefined;
  private ucp: UcpMerchant | undefined;
  private orders: SandboxOrders | undefined;
  private ownUrl = '';
  private readonly signingKeys: object[] = [];
  private readonly faults: FaultPlan;
  private readonly rng: Random;
  private readonly timeoutDelayMs: number;
  private readonly ucpRoute: (req: IncomingMessage, res: ServerResponse) => boolean;
  private readonly server: Server;

  constructor(private readonly options: ServeMerchantOptions) {
    this.faults = options.faults ?? NO_FAULTS;
    this.rng = options.rng ?? Math.random;
    this.timeoutDelayMs = options.timeoutDelayMs ?? 30_000;
    this.ucpRoute = ucpRoutes({
      merchant: () => this.ucp,
      baseUrl: () => options.baseUrl ?? this.ownUrl,
      identify: (token) => identityFor(token, options.tokens),
      tokensRequired: options.tokens !== undefined,
      faults: this.faults,
      rng: this.rng,
      timeoutDelayMs: this.timeoutDelayMs,
      crash: options.crash,
      signingKeys: () => this.signingKeys,
    });
    this.server = createServer((req, res) => this.serve(req, res));
  }

  async start(): Promise<MerchantServer> {
    const { options } = this;
    const port = await this.listen();
    const url = `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${port}`;
    this.ownUrl = url;
    const baseUrl = options.baseUrl ?? url;
    const afterCheckout = this.startOrders(baseUrl);
    const ucp = new UcpMerchant({
      store: options.store,
      now: options.now,
      baseUrl,
      completeDelayMs: options.completeDelayMs,
      onCompleted: (state) => {
        afterCheckout.created(render(state, baseUrl), 'ucp').catch((error: unknown) => console.error('sandbox merchant: order event failed:', error));
      },
    });
    this.ucp = ucp;
    this.orders = afterCheckout;
    const merchant = new SandboxMerchant({
      store: options.store,
      now: options.now,
      baseUrl,
      ignoreIdempotencyKeys: options.ignoreIdempotencyKeys,
      versions: options.versions,
      onCompleted: (session) => {
        afterCheckout.created(session).catch((error: unknown) => console.error('sandbox merchant: order event failed:', error));
      },
    });
    this.merchant = merchant;
    const endpoint = new AcpMcpEndpoint(merchant);
    this.mcp = endpoint;
    return { url, port, merchant, ucp, orders: afterCheckout, close: () => this.close(endpoint) };
  }

  private get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  private async listen(): Promise<number> {
    const { server } = this;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  private async close(endpoint: AcpMcpEndpoint): Promise<void> {
    await endpoint.close();
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  /** The orders after checkout, with their ACP event sender and the UCP one (signed with a key made here). */
  private startOrders(baseUrl: string): SandboxOrders {
    const { options } = this;
    const sender = options.orderEvents ? new OrderEventSender({ now: options.now, ...options.orderEvents }) : undefined;
    let ucpSender: OrderEventSender | undefined;
    if (options.ucpOrderEvents) {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const kid = `sandbox-${keyId(6).toString('hex')}`;
      this.signingKeys.push({ ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' });
      const profile = `${baseUrl}/.well-known/ucp`;
      ucpSender = new OrderEventSender({ now: options.now, secret: '', ...options.ucpOrderEvents, ucp: { key: pair.privateKey, kid, profile } });
    }
    return new SandboxOrders(options.store, baseUrl, sender, options.now, ucpSender);
  }

  /** Every request: UCP's, ACP discovery and MCP, else ACP REST (with its injected faults). */
  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.ucpRoute(req, res)) return;
    if (this.serveAcpExtras(req, res)) return;
    const fault = this.faultFor(req);
    if (fault === 'error_5xx') {
      // Before acting: nothing happened at the merchant, and 5xx answers are never stored against the key.
      send(res, unavailable('injected_fault'));
      return;
    }
    this.route(req).then(
      (reply) => this.deliver(res, reply, fault),
      (error: unknown) => {
        console.error('sandbox merchant: request failed:', error);
        send(res, internalError());
      },
    );
  }

  // ---- ACP REST ----

  private async route(req: IncomingMessage): Promise<Reply> {
    const requestId = header(req, 'Request-Id') ?? `req_${randomBytes(12).toString('hex')}`;
    const base = { 'Request-Id': requestId };
    const identity = this.callerOf(req);
    if (identity === undefined) return unauthorized(base);
    const step = /^\/sandbox\/orders\/([A-Za-z0-9_-]+)\/([a-z]+)$/.exec(pathOf(req));
    if (step && this.orders) return this.advanceOrder(req, this.orders, step[1], step[2], base);
    const method = req.method ?? 'GET';
    let body: unknown;
    if (method === 'POST') {
      const read = await readBody(req);
      if (read.kind === 'too_large') {
        return errorReply(acpError(413, 'invalid_request', 'request_too_large', 'The request body is over 1 MB.'), base);
      }
      if (read.kind === 'bad_json') {
        return errorReply(acpError(400, 'invalid_request', 'invalid_json', `The request body is not valid JSON: ${read.reason}`), base);
      }
      body = read.body;
    }
    if (!this.merchant) return { ...unavailable('starting'), headers: base };
    const answer: MerchantResponse = await this.merchant.handle({
      method,
      path: pathOf(req),
      identity,
      idempotencyKey: header(req, 'Idempotency-Key'),
      body,
      requestId,
      apiVersion: header(req, 'API-Version') ?? '',
    });
    return { status: answer.status, body: answer.body, headers: answer.headers };
  }

  /** The merchant's own console: move an order along its life; the order event goes out as it would. */
  private async advanceOrder(req: IncomingMessage, orders: SandboxOrders, id: string, step: string, headers: Record<string, string>): Promise<Reply> {
    if (req.method !== 'POST' || !(ORDER_STEPS as readonly string[]).includes(step)) {
      return errorReply(acpError(404, 'invalid_request', 'not_found', `POST /sandbox/orders/{id}/{${ORDER_STEPS.join('|')}}`), headers);
    }
    const order = await orders.advance(id, step as OrderStep);
    return order ? { status: 200, body: order, headers } : errorReply(acpError(404, 'invalid_request', 'not_found', `No order ${id}.`), headers);
  }

  private callerOf(req: IncomingMessage): string | undefined {
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'Authorization') ?? '');
    return auth ? identityFor(auth[1], this.options.tokens) : undefined;
  }

  private faultFor(req: IncomingMessage): FaultName | undefined {
    if (this.faults.rules.length === 0) return undefined;
    const route = matchRoute(req.method ?? 'GET', pathOf(req));
    const operation = route.kind === 'none' || route.kind === 'wrong_method' ? undefined : route.kind;
    return operation === undefined ? undefined : pickFault(this.faults, operation, this.rng);
  }

  private deliver(res: ServerResponse, reply: Reply, fault: FaultName | undefined): void {
    switch (fault) {
      case 'lose_response':
        return drop(res);
      case 'crash_after_commit':
        return this.options.crash ? this.options.crash() : drop(res);
      case 'timeout': {
        // Acted, but answers nothing until the client has long given up.
        setTimeout(() => drop(res), this.timeoutDelayMs).unref();
        return;
      }
      default:
        return send(res, reply);
    }
  }

  // ---- ACP discovery and ACP's MCP binding (issue 13): /.well-known/acp.json and /acp/mcp ----

  /** Handles discovery and the MCP binding; false when the request is for ACP REST. */
  private serveAcpExtras(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathOf(req);
    if (path === '/.well-known/acp.json' && req.method === 'GET' && this.merchant && this.options.discovery !== false) {
      // Public, no bearer token (rfcs/rfc.discovery.md).
      const text = JSON.stringify(this.merchant.discovery(this.ownUrl, ['rest', 'mcp']));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=3600', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return true;
    }
    if (path !== ACP_MCP_PATH) return false;
    this.serveMcp(req, res).catch((error: unknown) => {
      console.error('sandbox merchant: MCP request failed:', error);
      if (!res.headersSent) send(res, internalError());
      else res.socket?.destroy();
    });
    return true;
  }

  private async serveMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const identity = this.callerOf(req);
    if (identity === undefined) return send(res, unauthorized());
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req);
      if (read.kind !== 'ok') {
        const text = JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: read.kind === 'too_large' ? 'Request over 1 MB.' : 'Parse error.' }, id: null });
        res.writeHead(read.kind === 'too_large' ? 413 : 400, { 'Content-Type': 'application/json' }).end(text);
        return;
      }
      body = read.body;
    }
    if (!this.mcp) return send(res, unavailable('starting'));
    const operation = this.faults.rules.length > 0 ? operationOfRpc(body) : undefined;
    const fault = operation === undefined ? undefined : pickFault(this.faults, operation, this.rng);
    // error_5xx before acting, as over REST; the others act, then drop, crash or hold the answer.
    if (fault === 'error_5xx') return send(res, unavailable('injected_fault'));
    if (fault === 'lose_response') withheld(res, () => drop(res));
    if (fault === 'crash_after_commit') withheld(res, () => (this.options.crash ? this.options.crash() : drop(res)));
    if (fault === 'timeout') withheld(res, () => setTimeout(() => drop(res), this.timeoutDelayMs).unref());
    await this.mcp.handle(req, res, identity, body);
  }
}
