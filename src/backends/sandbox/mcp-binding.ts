// ACP's MCP binding on the sandbox merchant (docs/mcp-binding.md), at /acp/mcp over Streamable HTTP: the tools
// create_/get_/update_/complete_/cancel_checkout_session take {meta, id, payload}; meta.api_version picks the
// version, meta.idempotency_key is the key (the same rules as REST: SandboxMerchant.handle does it all). A
// session comes back as structuredContent (and as JSON text); an ACP error as JSON-RPC -32000 with the Error in
// `data`. MCP sessions live in this process: a restarted merchant has forgotten them (404), as a real one would.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../../version.js';
import { MCP_TOOLS } from '../acp/mcp-transport.js';
import { restPath, type AcpOperationName } from '../acp/transport.js';
import type { SandboxMerchant } from './merchant.js';

export const ACP_MCP_PATH = '/acp/mcp';
/** MCP sessions idle this long are closed (their client re-initializes). */
const SESSION_IDLE_MS = 10 * 60_000;
const MAX_SESSIONS = 1_000;

const OPERATION_OF: Record<string, AcpOperationName> = Object.fromEntries(
  Object.entries(MCP_TOOLS).map(([operation, tool]) => [tool, operation as AcpOperationName]),
);

/** The tool a JSON-RPC body calls, as an ACP operation (for fault injection and logs), if it calls one. */
export function operationOfRpc(body: unknown): AcpOperationName | undefined {
  const message = body as { method?: unknown; params?: { name?: unknown } } | undefined;
  if (message?.method !== 'tools/call' || typeof message.params?.name !== 'string') return undefined;
  return OPERATION_OF[message.params.name];
}

/** A JSON-RPC error whose code and data the SDK passes through unchanged (McpError would prefix the message). */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const metaSchema = {
  type: 'object',
  properties: {
    api_version: { type: 'string', description: 'ACP version, e.g. 2026-04-17' },
    idempotency_key: { type: 'string', maxLength: 255 },
    request_id: { type: 'string' },
    user_agent: { type: 'string' },
  },
  required: ['api_version'],
  additionalProperties: true,
};

function toolList() {
  const tool = (name: string, description: string, needsId: boolean, payload: 'required' | 'optional' | 'none') => ({
    name,
    description,
    inputSchema: {
      type: 'object' as const,
      properties: {
        meta: metaSchema,
        ...(needsId ? { id: { type: 'string', description: 'The checkout session id' } } : {}),
        ...(payload === 'none' ? {} : { payload: { type: 'object', description: 'The ACP request body of this version' } }),
      },
      required: ['meta', ...(needsId ? ['id'] : []), ...(payload === 'required' ? ['payload'] : [])],
    },
  });
  return [
    tool(MCP_TOOLS.create, 'Create a checkout session', false, 'required'),
    tool(MCP_TOOLS.get, 'Retrieve the current state of a checkout session', true, 'none'),
    tool(MCP_TOOLS.update, 'Update items, fulfillment details, or selected options', true, 'required'),
    tool(MCP_TOOLS.complete, 'Submit payment and finalize the order', true, 'required'),
    tool(MCP_TOOLS.cancel, 'Cancel a session, optionally with an intent trace', true, 'optional'),
  ];
}

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  identity: string;
  lastUsed: number;
}

type ToolCall = { params: { name: string; arguments?: Record<string, unknown> } };

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  const text = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** ACP's MCP binding in front of one SandboxMerchant: an MCP server per session, each bound to its caller. */
export class AcpMcpEndpoint {
  private readonly sessions = new Map<string, OpenSession>();

  constructor(private readonly merchant: SandboxMerchant) {}

  /** Serves one HTTP request to /acp/mcp from a caller already authenticated as `identity`. */
  async handle(req: IncomingMessage, res: ServerResponse, identity: string, body: unknown): Promise<void> {
    const now = Date.now();
    this.sweep(now);
    if (req.method === 'GET') {
      // No server-initiated messages: every answer rides on its own POST's stream.
      res.writeHead(405, { Allow: 'POST, DELETE' }).end();
      return;
    }
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) return this.continueSession(sessionId, req, res, identity, body, now);
    if (req.method !== 'POST' || (body as { method?: unknown } | undefined)?.method !== 'initialize') {
      return rpcError(res, 400, ErrorCode.InvalidRequest, 'No Mcp-Session-Id: initialize first.');
    }
    if (this.sessions.size >= MAX_SESSIONS) return rpcError(res, 503, ErrorCode.InternalError, 'Too many open MCP sessions; retry shortly.');
    await this.openSession(req, res, identity, body);
  }

  async close(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map((s) => s.transport.close().catch(() => {})));
  }

  /** A request in an open session: only its own caller may use it. */
  private async continueSession(sessionId: string, req: IncomingMessage, res: ServerResponse, identity: string, body: unknown, now: number): Promise<void> {
    const open = this.sessions.get(sessionId);
    // Unknown (restarted, expired) or another caller's: not found, so the client opens a new one.
    if (!open || open.identity !== identity) return rpcError(res, 404, -32001, 'Session not found');
    open.lastUsed = now;
    await open.transport.handleRequest(req, res, body);
    if (req.method === 'DELETE') this.sessions.delete(sessionId);
  }

  /** An initialize: a new session, with its own MCP server, for this caller. */
  private async openSession(req: IncomingMessage, res: ServerResponse, identity: string, body: unknown): Promise<void> {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, identity, lastUsed: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await this.newServer(identity).connect(transport);
    await transport.handleRequest(req, res, body);
  }

  private newServer(identity: string): Server {
    const server = new Server({ name: 'once-checkout-sandbox-merchant', version: VERSION }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList() }));
    server.setRequestHandler(CallToolRequestSchema, (request) => this.callTool(identity, request));
    return server;
  }

  /** One tool call: its arguments checked as the binding says, then the same `handle` REST calls. */
  private async callTool(identity: string, request: ToolCall) {
    const operation = OPERATION_OF[request.params.name];
    if (operation === undefined) throw new RpcError(ErrorCode.InvalidParams, `Unknown tool '${request.params.name}'.`);
    const args = request.params.arguments ?? {};
    const meta = args.meta;
    if (!isObject(meta)) throw new RpcError(ErrorCode.InvalidParams, 'meta is required (with meta.api_version).');
    const id = args.id;
    if (operation !== 'create' && (typeof id !== 'string' || id === '')) throw new RpcError(ErrorCode.InvalidParams, 'id is required.');
    const payload = args.payload;
    if (payload !== undefined && !isObject(payload)) throw new RpcError(ErrorCode.InvalidParams, 'payload must be an object.');
    if (payload === undefined && (operation === 'create' || operation === 'update' || operation === 'complete')) {
      throw new RpcError(ErrorCode.InvalidParams, 'payload is required.');
    }
    const response = await this.merchant.handle({
      method: operation === 'get' ? 'GET' : 'POST',
      path: restPath({ operation, id: typeof id === 'string' ? id : undefined }),
      identity,
      idempotencyKey: typeof meta.idempotency_key === 'string' ? meta.idempotency_key : undefined,
      body: operation === 'get' ? undefined : (payload ?? {}),
      requestId: typeof meta.request_id === 'string' ? meta.request_id : undefined,
      apiVersion: typeof meta.api_version === 'string' ? meta.api_version : '',
      keyOptional: true,
    });
    if (response.status >= 200 && response.status < 300) {
      const session = response.body as unknown as Json;
      return { content: [{ type: 'text' as const, text: JSON.stringify(session) }], structuredContent: session };
    }
    const error = response.body as { message?: string };
    throw new RpcError(-32000, error.message ?? 'ACP error', response.body);
  }

  private sweep(now: number): void {
    for (const [id, open] of this.sessions) {
      if (now - open.lastUsed > SESSION_IDLE_MS) {
        this.sessions.delete(id);
        void open.transport.close().catch(() => {});
      }
    }
  }
}
