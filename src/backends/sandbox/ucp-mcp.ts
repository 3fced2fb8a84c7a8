// The sandbox's UCP MCP binding (checkout-mcp.md) at /ucp/mcp: the tools create_checkout, get_checkout,
// update_checkout, complete_checkout and cancel_checkout over Streamable HTTP (stateless, JSON answers).
// Arguments are `{meta, id?, checkout?}`; `meta["ucp-agent"].profile` is required on every call and
// `meta["idempotency-key"]` on complete and cancel. A checkout (or an error response) is the result's
// structuredContent; a protocol error is a JSON-RPC error (-32000, -32001 for the profile, -32603 for 500)
// with `{code, content}` as data, sent with its HTTP status as the spec asks.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../../version.js';
import type { UcpMerchant, UcpOperation } from './ucp-merchant.js';
import { isProfileUrl, type HttpReply } from './ucp-reply.js';

export const UCP_TOOLS: Record<string, UcpOperation> = {
  create_checkout: 'create',
  get_checkout: 'get',
  update_checkout: 'update',
  complete_checkout: 'complete',
  cancel_checkout: 'cancel',
};

/** JSON-RPC code for UCP's discovery and profile errors (overview.md). */
const DISCOVERY_ERROR = -32001;
const PROTOCOL_ERROR = -32000;

const META = {
  type: 'object',
  required: ['ucp-agent'],
  properties: {
    'ucp-agent': { type: 'object', required: ['profile'], properties: { profile: { type: 'string', format: 'uri' } } },
    'idempotency-key': { type: 'string', format: 'uuid' },
  },
};

function toolOf(name: string, operation: UcpOperation): Tool {
  const needsId = operation !== 'create';
  const needsCheckout = operation === 'create' || operation === 'update' || operation === 'complete';
  const keyed = operation === 'complete' || operation === 'cancel';
  return {
    name,
    description: `UCP ${operation} checkout (dev.ucp.shopping.checkout 2026-04-08) at the once-checkout sandbox business.`,
    inputSchema: {
      type: 'object',
      required: ['meta', ...(needsId ? ['id'] : []), ...(needsCheckout ? ['checkout'] : [])],
      properties: {
        meta: keyed ? { ...META, required: ['ucp-agent', 'idempotency-key'] } : META,
        ...(needsId ? { id: { type: 'string' } } : {}),
        ...(needsCheckout ? { checkout: { type: 'object' } } : {}),
      },
    },
  };
}

/** The JSON-RPC `tools/call` a request body carries, for fault injection: its tool's operation. */
export function mcpOperation(body: unknown): UcpOperation | undefined {
  const message = body as { method?: unknown; params?: { name?: unknown } } | undefined;
  if (message?.method !== 'tools/call' || typeof message.params?.name !== 'string') return undefined;
  return UCP_TOOLS[message.params.name];
}

/** The JSON-RPC id of a request body (for an error answered before the business acts). */
export function rpcId(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

export interface McpCall {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** The bearer token's identity, when one was sent. */
  bearer?: string;
  completeInProgress: boolean;
}

function rpcServer(merchant: UcpMerchant, call: McpCall, status: { value?: number }): Server {
  const server = new Server({ name: 'once-checkout-sandbox-ucp', version: VERSION }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: Object.entries(UCP_TOOLS).map(([name, op]) => toolOf(name, op)) }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const operation = UCP_TOOLS[request.params.name];
    if (!operation) throw new McpError(ErrorCode.InvalidParams, `No tool ${request.params.name}; this business offers ${Object.keys(UCP_TOOLS).join(', ')}.`);
    const args = (request.params.arguments ?? {}) as { meta?: Record<string, unknown>; id?: unknown; checkout?: unknown };
    const agent = args.meta?.['ucp-agent'] as { profile?: unknown } | undefined;
    if (!isProfileUrl(agent?.profile)) {
      status.value = 400;
      throw new McpError(DISCOVERY_ERROR, 'UCP discovery failed', { code: 'invalid_profile_url', content: 'meta["ucp-agent"].profile must be the URL of your profile.' });
    }
    const key = args.meta?.['idempotency-key'];
    const { answer } = await merchant.handle({
      operation,
      id: typeof args.id === 'string' ? args.id : undefined,
      body: args.checkout,
      identity: call.bearer ?? `profile:${agent.profile}`,
      idempotencyKey: typeof key === 'string' ? key : undefined,
      keyRequired: operation === 'complete' || operation === 'cancel',
      completeInProgress: call.completeInProgress,
    });
    if (answer.kind === 'resource') {
      return { structuredContent: answer.body as unknown as Record<string, unknown>, content: [{ type: 'text', text: JSON.stringify(answer.body) }] };
    }
    status.value = answer.status;
    const data = { code: answer.code, content: answer.content, ...(answer.retryAfterSeconds === undefined ? {} : { retry_after: answer.retryAfterSeconds }) };
    throw new McpError(answer.status === 500 ? ErrorCode.InternalError : PROTOCOL_ERROR, answer.content, data);
  });
  return server;
}

/** One HTTP request to /ucp/mcp, answered in full (a fresh stateless server per request). */
export async function mcpReply(merchant: UcpMerchant, call: McpCall): Promise<HttpReply> {
  if (call.method !== 'POST') {
    // Stateless: no server-initiated stream to open (GET) and no session to end (DELETE).
    return { status: 405, headers: { Allow: 'POST', 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', error: { code: PROTOCOL_ERROR, message: 'Method not allowed.' }, id: null }) };
  }
  const status: { value?: number } = {};
  const server = rpcServer(merchant, call, status);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    const headers = new Headers();
    for (const [name, value] of Object.entries(call.headers)) if (value !== undefined) headers.set(name, value);
    const request = new Request(call.url, { method: 'POST', headers, body: JSON.stringify(call.body ?? null) });
    const response = await transport.handleRequest(request, { parsedBody: call.body });
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => (out[name] = value));
    const text = await response.text();
    return { status: response.ok && status.value !== undefined ? status.value : response.status, headers: out, body: text };
  } finally {
    await server.close().catch(() => {});
  }
}
