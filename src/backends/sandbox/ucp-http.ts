// The sandbox merchant's UCP side on its HTTP port: discovery at /.well-known/ucp, REST under /ucp, MCP at
// /ucp/mcp. The same fault injection as the ACP side (ONCE_SANDBOX_FAULTS): error_5xx answers 503 before the
// business acts; lose_response, timeout and crash_after_commit act, then drop, hold or crash; and UCP's own
// complete_in_progress makes a complete answer complete_in_progress and charge a few seconds later.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pickFault, type FaultName, type FaultPlan, type Random } from './faults.js';
import { mcpOperation, mcpReply, rpcId } from './ucp-mcp.js';
import type { UcpMerchant, UcpOperation } from './ucp-merchant.js';
import { businessProfile, UCP_MCP_PATH, UCP_PROFILE_PATH, UCP_REST_PATH } from './ucp-profile.js';
import { jsonReply, type HttpReply } from './ucp-reply.js';
import { restReply, restRoute } from './ucp-rest.js';

export interface UcpRoutesOptions {
  /** The UCP business (available once the server listens). */
  merchant: () => UcpMerchant | undefined;
  baseUrl: () => string;
  /** A bearer token's caller identity, or undefined when the token is not accepted. */
  identify(token: string): string | undefined;
  /** Whether a bearer token is required (the merchant was given --tokens); UCP's own is optional. */
  tokensRequired: boolean;
  faults: FaultPlan;
  rng: Random;
  timeoutDelayMs: number;
  crash?: () => void;
  /** Public JWKs the business signs its order webhooks with, published in its profile. */
  signingKeys?: () => object[];
}

const MAX_BODY_BYTES = 1_000_000;

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; body: unknown } | { ok: false; status: number; content: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, content: 'The request body is over 1 MB.' };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, body: undefined };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch (error) {
    return { ok: false, status: 400, content: `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function send(res: ServerResponse, reply: HttpReply): void {
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** Handles the request when it is UCP's (and answers true), else leaves it to the ACP side. */
export function ucpRoutes(options: UcpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const drop = (res: ServerResponse): void => {
    res.socket?.destroy();
  };

  function deliver(res: ServerResponse, reply: HttpReply, fault: FaultName | undefined): void {
    switch (fault) {
      case 'lose_response':
        return drop(res);
      case 'crash_after_commit':
        return options.crash ? options.crash() : drop(res);
      case 'timeout':
        // Acted, but answers nothing until the client has long given up.
        setTimeout(() => drop(res), options.timeoutDelayMs).unref();
        return;
      default:
        return send(res, reply);
    }
  }

  /** A 503 before anything is done; for MCP a JSON-RPC error with the request's id. */
  function unavailable(mcp: boolean, body: unknown): HttpReply {
    const data = { code: 'injected_fault', content: 'Injected fault: the business is unavailable.', retry_after: 1 };
    if (!mcp) return jsonReply(503, { code: data.code, content: data.content }, { 'Retry-After': '1' });
    return jsonReply(503, { jsonrpc: '2.0', id: rpcId(body), error: { code: -32000, message: data.content, data } }, { 'Retry-After': '1' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = headersOf(req);
    const merchant = options.merchant();
    if (path === UCP_PROFILE_PATH) {
      send(res, method === 'GET' ? jsonReply(200, businessProfile(options.baseUrl(), options.signingKeys?.() ?? [])) : jsonReply(405, { code: 'method_not_allowed', content: 'GET only.' }));
      return;
    }
    const read = method === 'GET' || method === 'DELETE' ? { ok: true as const, body: undefined } : await readJson(req);
    if (!read.ok) return send(res, jsonReply(read.status, { code: 'invalid_request', content: read.content }));
    const mcp = path === UCP_MCP_PATH;
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    const bearer = auth ? options.identify(auth[1]) : undefined;
    if ((auth && bearer === undefined) || (options.tokensRequired && bearer === undefined)) {
      return send(res, jsonReply(401, { code: 'unauthorized', content: 'A valid bearer token is required.' }, { 'WWW-Authenticate': 'Bearer realm="ucp"' }));
    }
    if (!merchant) return send(res, jsonReply(503, { code: 'starting', content: 'The business is starting.' }, { 'Retry-After': '1' }));
    const route = mcp ? undefined : restRoute(method, path.slice(UCP_REST_PATH.length));
    const operation: UcpOperation | undefined = mcp ? mcpOperation(read.body) : route?.operation === 'none' ? undefined : route?.operation;
    const fault = operation === undefined || options.faults.rules.length === 0 ? undefined : pickFault(options.faults, operation, options.rng);
    if (fault === 'error_5xx') return send(res, unavailable(mcp, read.body));
    const completeInProgress = fault === 'complete_in_progress' && operation === 'complete';
    const reply = mcp
      ? await mcpReply(merchant, { method, url: `${options.baseUrl()}${path}`, headers, body: read.body, bearer, completeInProgress })
      : await restReply(merchant, { route: route!, headers, body: read.body, bearer, completeInProgress });
    deliver(res, reply, operation === 'get' && fault === 'crash_after_commit' ? undefined : fault);
  }

  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://merchant').pathname;
    if (path !== UCP_PROFILE_PATH && path !== UCP_REST_PATH && !path.startsWith(`${UCP_REST_PATH}/`)) return false;
    handle(req, res, path).catch((error: unknown) => {
      console.error('sandbox merchant (UCP): request failed:', error);
      if (!res.headersSent) send(res, jsonReply(500, { code: 'internal_error', content: 'The sandbox business failed.' }));
    });
    return true;
  };
}
