// UCP's MCP binding (checkout-mcp.md) through the SDK's Streamable HTTP client: tools create_checkout …
// cancel_checkout with arguments `{meta, id?, checkout?}`, where meta carries `ucp-agent.profile` on every call
// and the ledger's `idempotency-key` on every state change. A result's structuredContent is the answer; a
// JSON-RPC error is a protocol error, read by its HTTP status when the server sent one (the spec's primary
// signal), else by its code and `data.code`. No answer at all is `no_reply`, and the next call reconnects.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tracedFetchLike } from '../../telemetry/http-client.js';
import { VERSION } from '../../version.js';
import { describeError } from '../http-reply.js';
import type { UcpCall, UcpReply, UcpTransport } from './ucp-wire.js';

export interface McpOptions {
  endpoint: URL;
  agentProfile: string;
  apiKey?: string;
  timeoutMs: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** UCP's protocol errors over MCP are all -32000: `data.code` says which HTTP status they stand for (overview.md). */
function statusOfRpc(code: number, data: Json): number {
  if (code === ErrorCode.InternalError) return 500;
  if (code === -32001 || code === ErrorCode.InvalidParams || code === ErrorCode.InvalidRequest || code === ErrorCode.MethodNotFound || code === ErrorCode.ParseError) return 400;
  const what = typeof data.code === 'string' ? data.code.toLowerCase() : '';
  if (/conflict|reuse/.test(what)) return 409;
  if (/not_found/.test(what)) return 404;
  if (/unauthori|signature|key_not_found/.test(what)) return 401;
  if (/forbidden|insufficient_scope|not_trusted/.test(what)) return 403;
  if (/idempotency_key|invalid/.test(what)) return 400;
  // Rate limits, unavailability and anything unnamed: the business may or may not have acted.
  return 503;
}

/** The JSON-RPC error in an HTTP error's text ("Error POSTing to endpoint: {…}"), when there is one. */
function rpcErrorIn(text: string): { code: number; message: string; data?: Json } | undefined {
  const at = text.indexOf('{');
  if (at < 0) return undefined;
  try {
    const message = JSON.parse(text.slice(at)) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    const error = message.error;
    if (!error || typeof error.code !== 'number') return undefined;
    return { code: error.code, message: String(error.message ?? ''), ...(isObject(error.data) ? { data: error.data } : {}) };
  } catch {
    return undefined;
  }
}

function protocolBody(data: Json | undefined, message: string, fallback: string): Json {
  return { code: typeof data?.code === 'string' ? data.code : fallback, content: typeof data?.content === 'string' ? data.content : message };
}

/**
 * The SDK's own errors share codes with UCP's: its request timeout is -32001 (UCP's discovery errors) with
 * `data.timeout`, its closed connection -32000. Neither is an answer from the business.
 */
function isLocal(error: McpError): boolean {
  const data = error.data as Json | undefined;
  if (error.code === ErrorCode.RequestTimeout && typeof data?.timeout === 'number' && data.code === undefined) return true;
  return error.code === ErrorCode.ConnectionClosed && data === undefined;
}

export class UcpMcpClient implements UcpTransport {
  private connected?: Promise<Client>;

  constructor(private readonly options: McpOptions) {}

  private client(): Promise<Client> {
    if (!this.connected) {
      const headers: Record<string, string> = { 'UCP-Agent': `profile="${this.options.agentProfile}"` };
      if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
      const transport = new StreamableHTTPClientTransport(this.options.endpoint, { requestInit: { headers }, fetch: tracedFetchLike });
      const client = new Client({ name: 'once-checkout', version: VERSION });
      const session = client.connect(transport, { timeout: this.options.timeoutMs }).then(() => client);
      session.catch(() => this.drop(session));
      this.connected = session;
    }
    return this.connected;
  }

  /** Drops this session (not a newer one): after no answer, the next call opens a fresh one (a restarted business has none). */
  private drop(session: Promise<Client> | undefined): void {
    if (session === undefined) return;
    if (this.connected === session) this.connected = undefined;
    void session.then((client) => client.close()).catch(() => {});
  }

  async send(call: UcpCall): Promise<UcpReply> {
    const meta: Json = { 'ucp-agent': { profile: this.options.agentProfile } };
    if (call.operation !== 'get') {
      if (!call.idempotencyKey) throw new Error(`ucp: a ${call.operation} without an idempotency-key is a bug (R1)`);
      meta['idempotency-key'] = call.idempotencyKey;
    }
    const args: Json = { meta };
    if (call.id !== undefined) args.id = call.id;
    if (call.checkout !== undefined) args.checkout = call.checkout;
    const timeoutMs = this.options.timeoutMs;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const session = this.client();
      let client: Client;
      try {
        client = await Promise.race([
          session,
          new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(new DOMException('timed out', 'TimeoutError')))),
        ]);
      } catch (error) {
        // No session, so the tool call was never sent: nothing happened at the business.
        this.drop(session);
        return { kind: 'no_reply', reason: `the MCP session could not be opened (${abort.signal.aborted ? `no answer within ${timeoutMs} ms` : describeError(error, timeoutMs)}); the call was not sent` };
      }
      try {
        // Our own signal decides the timeout; the SDK's is a backstop past it.
        const result = (await client.callTool({ name: `${call.operation}_checkout`, arguments: args }, undefined, { signal: abort.signal, timeout: timeoutMs * 2 })) as CallToolResult;
        return this.answer(result);
      } catch (error) {
        if (abort.signal.aborted) {
          this.drop(session);
          return { kind: 'no_reply', reason: `no answer within ${timeoutMs} ms` };
        }
        const reply = this.failure(error);
        if (reply.kind === 'no_reply') this.drop(session);
        return reply;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(result: CallToolResult): UcpReply {
    let body: unknown = result.structuredContent;
    if (body === undefined) {
      // Servers that answer only text: the spec's text content is the same JSON.
      const text = result.content?.find((c) => c.type === 'text') as { text?: string } | undefined;
      try {
        body = text?.text === undefined ? undefined : JSON.parse(text.text);
      } catch {
        body = undefined;
      }
    }
    // A tool that failed says nothing of what it did first: ambiguous, like a 5xx.
    if (result.isError) return { kind: 'reply', status: 502, body: { code: 'tool_error', content: 'the business reported a tool error' } };
    if (body === undefined) return { kind: 'no_reply', reason: 'the business answered with no checkout' };
    return { kind: 'reply', status: 200, body };
  }

  private failure(error: unknown): UcpReply {
    // MCP session management: 404 to a request carrying our Mcp-Session-Id means the business no longer knows the
    // session (restarted, expired). Nothing was processed; the session is dropped (no_reply) and the next call opens one.
    if (error instanceof StreamableHTTPError && error.code === 404) {
      return { kind: 'no_reply', reason: 'the business no longer knows our MCP session (HTTP 404); a new one is opened' };
    }
    if (error instanceof StreamableHTTPError && typeof error.code === 'number' && error.code >= 400) {
      const rpc = rpcErrorIn(error.message);
      return { kind: 'reply', status: error.code, body: protocolBody(rpc?.data, rpc?.message ?? error.message, `http_${error.code}`) };
    }
    if (error instanceof McpError && isObject(error.data) && !isLocal(error)) {
      return { kind: 'reply', status: statusOfRpc(error.code, error.data), body: protocolBody(error.data, error.message, `jsonrpc_${error.code}`) };
    }
    if (error instanceof McpError && (error.code === ErrorCode.InvalidParams || error.code === ErrorCode.InvalidRequest || error.code === ErrorCode.MethodNotFound)) {
      return { kind: 'reply', status: 400, body: protocolBody(undefined, error.message, 'invalid_params') };
    }
    // A closed connection, a cut or unreadable answer: nothing is known.
    return { kind: 'no_reply', reason: describeError(error, this.options.timeoutMs) };
  }

  async close(): Promise<void> {
    const client = this.connected;
    this.connected = undefined;
    await client?.then((c) => c.close()).catch(() => {});
  }
}
