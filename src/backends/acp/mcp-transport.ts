// ACP over its own MCP binding (docs/mcp-binding.md): the SDK's Streamable HTTP client calls the merchant's tools
// create_/get_/update_/complete_/cancel_checkout_session with {meta, id, payload}. Every mutating call carries
// meta.idempotency_key (the binding calls it recommended; we always send it, R1). An ACP error comes back as a
// JSON-RPC -32000 error with the ACP Error in `data`; a result is read from structuredContent, a bare result or
// JSON text, whichever the merchant sends. Anything else that goes wrong on the way (timeout, reset, a dropped
// stream, a session the merchant forgot) is "no reply": the engine reconciles with get_checkout_session before
// any resend, exactly as over REST. The bearer token (ACP_API_KEY) rides on the HTTP connection, never in `meta`.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { tracedFetchLike } from '../../telemetry/http-client.js';
import { VERSION } from '../../version.js';
import { describeError } from '../http-reply.js';
import { isMutating, type AcpCall, type AcpOperationName, type AcpReply, type AcpTransport } from './transport.js';

export interface McpTransportOptions {
  url: URL;
  apiKey: string;
  timeoutMs: number;
}

export const MCP_TOOLS: Record<AcpOperationName, string> = {
  create: 'create_checkout_session',
  get: 'get_checkout_session',
  update: 'update_checkout_session',
  complete: 'complete_checkout_session',
  cancel: 'cancel_checkout_session',
};

const TEXT_KEPT = 2_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An ACP Error (type, code, message) as the binding puts it in a JSON-RPC error's `data`. */
function isAcpErrorData(value: unknown): value is { type?: unknown; code: string; message?: unknown } {
  return isObject(value) && typeof value.code === 'string';
}

/**
 * The HTTP status the same ACP error would have had over REST, so one reading (acp-answer.ts) serves both
 * transports: 5xx and in-flight stay ambiguous, a conflict stays a conflict, a missing session is a 404.
 */
export function statusOfAcpError(error: { type?: unknown; code: string }): number {
  const code = error.code;
  if (code === 'idempotency_in_flight') return 409;
  if (code === 'idempotency_conflict' || code === 'request_not_idempotent' || error.type === 'request_not_idempotent') return 422;
  if (code === 'payment_declined') return 402;
  if (error.type === 'service_unavailable') return 503;
  if (error.type === 'processing_error') return 500;
  if (code === 'checkout_not_found' || code === 'session_not_found' || code === 'not_found') return 404;
  if (code.startsWith('checkout_already_') || code === 'method_not_allowed') return 405;
  if (code === 'unauthorized') return 401;
  if (code === 'forbidden') return 403;
  if (code === 'rate_limited') return 429;
  return 400;
}

export class McpTransport implements AcpTransport {
  readonly description: string;
  private connection?: Promise<Client>;

  constructor(private readonly options: McpTransportOptions) {
    this.description = `MCP ${options.url.href}`;
  }

  async send(call: AcpCall): Promise<AcpReply> {
    const meta: Json = { api_version: call.apiVersion, user_agent: `once-checkout/${VERSION}` };
    if (isMutating(call.operation)) {
      if (!call.idempotencyKey) throw new Error('acp: a mutating call without an idempotency key is a bug (R1)');
      meta.idempotency_key = call.idempotencyKey;
    }
    if (call.requestId) meta.request_id = call.requestId;
    const args: Json = { meta };
    if (call.id !== undefined) args.id = call.id;
    if (isMutating(call.operation)) args.payload = call.body ?? {};
    let client: Client;
    try {
      client = await this.connect();
    } catch (error) {
      return this.failed(error);
    }
    try {
      const result = await client.request(
        { method: 'tools/call', params: { name: MCP_TOOLS[call.operation], arguments: args } },
        ResultSchema,
        { timeout: this.options.timeoutMs, maxTotalTimeout: this.options.timeoutMs },
      );
      return readResult(result);
    } catch (error) {
      return this.failed(error);
    }
  }

  async discover(): Promise<unknown> {
    try {
      const response = await fetch(new URL('/.well-known/acp.json', this.options.url), {
        headers: { Accept: 'application/json', 'User-Agent': `once-checkout/${VERSION}` },
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'manual',
      });
      return response.status === 200 ? await response.json() : undefined;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  /** One MCP session, opened on first use and again after any failure (a forgotten session, a dropped stream). */
  private connect(): Promise<Client> {
    if (this.connection) return this.connection;
    const transport = new StreamableHTTPClientTransport(this.options.url, {
      fetch: tracedFetchLike, // one HTTP client span per request, and its traceparent sent
      requestInit: { headers: { Authorization: `Bearer ${this.options.apiKey}`, 'User-Agent': `once-checkout/${VERSION}` } },
      // A resumed stream would replay nothing we need: a lost answer is reconciled by a read instead.
      reconnectionOptions: { initialReconnectionDelay: 1_000, maxReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 1, maxRetries: 0 },
    });
    const client = new Client({ name: 'once-checkout', version: VERSION });
    const connecting = client.connect(transport, { timeout: this.options.timeoutMs }).then(() => client);
    // A stream cut mid-answer leaves its call waiting for nothing: close the session, so every call on it ends
    // now as "no reply" (reconciled), and the next call opens a fresh session.
    transport.onerror = (error) => {
      if (/SSE stream disconnected/.test(error.message)) void this.reset(connecting);
    };
    this.connection = connecting;
    connecting.catch(() => void this.reset(connecting));
    return connecting;
  }

  private async reset(which?: Promise<Client>): Promise<void> {
    const current = this.connection;
    if (current === undefined || (which !== undefined && which !== current)) return;
    this.connection = undefined;
    const client = await current.catch(() => undefined);
    await client?.close().catch(() => {});
  }

  /** Anything but an ACP error in a JSON-RPC error: what we can say about it, and whether the merchant answered. */
  private failed(error: unknown): AcpReply {
    if (error instanceof McpError) {
      if (isAcpErrorData(error.data)) return { kind: 'reply', status: statusOfAcpError(error.data), body: error.data };
      if (error.code === ErrorCode.RequestTimeout) {
        void this.reset();
        return { kind: 'no_reply', reason: `no answer within ${this.options.timeoutMs} ms` };
      }
      if (error.code === ErrorCode.ConnectionClosed) return { kind: 'no_reply', reason: 'the MCP stream was dropped before the answer' };
      if (error.code === ErrorCode.InvalidParams || error.code === ErrorCode.MethodNotFound || error.code === ErrorCode.InvalidRequest) {
        // Refused before ACP's logic ran (the binding reserves these for malformed calls): nothing happened.
        return { kind: 'reply', status: 400, body: undefined, text: error.message.slice(0, TEXT_KEPT) };
      }
      // -32000 without an ACP error, or any other JSON-RPC error: the merchant may have acted.
      return { kind: 'no_reply', reason: `the merchant answered JSON-RPC error ${error.code} without an ACP error` };
    }
    if (error instanceof StreamableHTTPError) {
      void this.reset();
      const status = typeof error.code === 'number' ? error.code : -1;
      if (status === 404) return { kind: 'no_reply', reason: 'the merchant no longer knows our MCP session (404); a new one is opened' };
      if (status === 401 || status === 403) {
        const text = error.message.replace(/^Streamable HTTP error: Error POSTing to endpoint: /, '');
        return { kind: 'reply', status, body: parseJson(text), text: text.slice(0, TEXT_KEPT) };
      }
      return { kind: 'no_reply', reason: status > 0 ? `the MCP endpoint answered HTTP ${status}` : error.message.slice(0, 200) };
    }
    void this.reset();
    return { kind: 'no_reply', reason: describeError(error, this.options.timeoutMs) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A tool result as an answer: structuredContent, a bare result, or JSON text; an isError result is an ACP error. */
export function readResult(result: Json): AcpReply {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content.find((c): c is { type: 'text'; text: string } => isObject(c) && c.type === 'text' && typeof c.text === 'string')?.text;
  let body: unknown;
  if (isObject(result.structuredContent)) body = result.structuredContent;
  else if ('id' in result && 'status' in result) {
    const { _meta: _ignored, ...bare } = result;
    body = bare;
  } else if (text !== undefined) body = parseJson(text);
  if (result.isError === true) {
    // A tool-level error: ACP's Error when the merchant put one there, else its words.
    if (isAcpErrorData(body)) return { kind: 'reply', status: statusOfAcpError(body), body };
    // The SDK's McpServer answers its own input validation this way ("MCP error -32602: …"): refused before it ran.
    if (/^MCP error -32602\b/.test(text ?? '')) return { kind: 'reply', status: 400, body: undefined, text: (text ?? '').slice(0, TEXT_KEPT) };
    // Anything else is what McpServer makes of a handler that threw (its 5xx): the merchant may have acted.
    return { kind: 'reply', status: 502, body: undefined, text: (text ?? '').slice(0, TEXT_KEPT) };
  }
  if (body === undefined) {
    return { kind: 'reply', status: 200, body: undefined, text: (text ?? '').slice(0, TEXT_KEPT) };
  }
  return { kind: 'reply', status: 200, body };
}
