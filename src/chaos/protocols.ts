// What a chaos run needs to know of the protocol its servers speak to the sandbox merchant: the servers'
// settings, the network faults that protocol meets, how to find one checkout's complete and update on the
// wire (for the interleavings' holds), and which answer says a complete just completed (for the settle cut).
import type { ProxyAnswer, ProxyFault, RequestMatch } from './fault-proxy.js';
import { PROXY_FAULTS } from './fault-proxy.js';

export const CHAOS_PROTOCOLS = ['acp', 'acp-mcp', 'ucp', 'ucp-mcp'] as const;
export type ChaosProtocol = (typeof CHAOS_PROTOCOLS)[number];

export interface ProtocolWire {
  protocol: ChaosProtocol;
  /** The server settings that point its backend at the merchant behind the proxy. */
  serverEnv(proxyUrl: string, token: string): Record<string, string>;
  /** Network faults this protocol meets: a canned 409 idempotency_in_flight is ACP's alone (to UCP a 409 is a key conflict). */
  faults: readonly ProxyFault[];
  /** The sandbox's own faults for this protocol (ONCE_SANDBOX_FAULTS syntax), e.g. UCP's complete_in_progress. */
  merchantFaults?: string;
  complete(checkoutId: string): RequestMatch;
  update(checkoutId: string): RequestMatch;
  /** The checkout whose complete this answer reports completed, if it is one. */
  completedBy(answer: ProxyAnswer): string | undefined;
  /** Whether this answer is a complete answered complete_in_progress (counted as a fault). */
  inProgress(answer: ProxyAnswer): boolean;
}

const AGENT_PROFILE = 'https://chaos.once-checkout.invalid/.well-known/ucp';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function json(buffer: Buffer): Record<string, any> | undefined {
  try {
    return JSON.parse(buffer.toString('utf8')) as Record<string, any>;
  } catch {
    return undefined;
  }
}

/** The tool a JSON-RPC tools/call names, and the checkout id it is about. */
function toolCall(body: unknown): { name?: string; id?: string } {
  const params = (body as { method?: string; params?: { name?: string; arguments?: { id?: string } } } | undefined)?.params;
  return { name: params?.name, id: params?.arguments?.id };
}

/** A -32000 internal error is the MCP binding's own fault; over REST the 5xx are already in the mix. */
const REST_FAULTS = PROXY_FAULTS.filter((fault) => fault !== 'rpc_error');

const acp: ProtocolWire = {
  protocol: 'acp',
  serverEnv: (proxyUrl, token) => ({ ONCE_BACKEND: 'acp', ACP_BASE_URL: proxyUrl, ACP_API_KEY: token, ACP_TIMEOUT: '1s' }),
  faults: REST_FAULTS,
  complete: (id) => ({ method: 'POST', path: new RegExp(`^/checkout_sessions/${escape(encodeURIComponent(id))}/complete$`) }),
  update: (id) => ({ method: 'POST', path: new RegExp(`^/checkout_sessions/${escape(encodeURIComponent(id))}$`) }),
  completedBy({ method, path, status, body }) {
    const match = method === 'POST' && status === 200 ? /^\/checkout_sessions\/([^/]+)\/complete$/.exec(path) : null;
    return match && json(body)?.status === 'completed' ? decodeURIComponent(match[1]) : undefined;
  },
  inProgress: () => false,
};

/**
 * ACP over its MCP binding: the proxy sees each ACP tool call as the REST call it stands for (fault-proxy.ts), so
 * the holds and the settle cut match as over REST; a cut body is a dropped stream, 409 in flight a -32000.
 */
const acpMcp: ProtocolWire = {
  ...acp,
  protocol: 'acp-mcp',
  serverEnv: (proxyUrl, token) => ({ ONCE_BACKEND: 'acp', ACP_MCP_URL: `${proxyUrl}/acp/mcp`, ACP_API_KEY: token, ACP_TIMEOUT: '1s' }),
  faults: PROXY_FAULTS,
};

const UCP_FAULTS = REST_FAULTS.filter((fault) => fault !== 'in_flight_409');
/** 1 complete in 10 answers complete_in_progress and charges 1.5 s later, read back by the server. */
const UCP_MERCHANT_FAULTS = 'complete_in_progress@complete:0.1';

const ucpRest: ProtocolWire = {
  protocol: 'ucp',
  serverEnv: (proxyUrl, token) => ({ ONCE_BACKEND: 'ucp', UCP_BASE_URL: `${proxyUrl}/ucp`, UCP_AGENT_PROFILE: AGENT_PROFILE, UCP_API_KEY: token, UCP_TIMEOUT: '1s' }),
  faults: UCP_FAULTS,
  merchantFaults: UCP_MERCHANT_FAULTS,
  complete: (id) => ({ method: 'POST', path: new RegExp(`^/ucp/checkout-sessions/${escape(encodeURIComponent(id))}/complete$`) }),
  update: (id) => ({ method: 'PUT', path: new RegExp(`^/ucp/checkout-sessions/${escape(encodeURIComponent(id))}$`) }),
  completedBy({ method, path, status, body }) {
    const match = method === 'POST' && status === 200 ? /^\/ucp\/checkout-sessions\/([^/]+)\/complete$/.exec(path) : null;
    return match && json(body)?.status === 'completed' ? decodeURIComponent(match[1]) : undefined;
  },
  inProgress: ({ method, path, status, body }) => method === 'POST' && status === 200 && path.endsWith('/complete') && json(body)?.status === 'complete_in_progress',
};

const mcpPath = /^\/ucp\/mcp$/;
const ucpMcp: ProtocolWire = {
  protocol: 'ucp-mcp',
  serverEnv: (proxyUrl, token) => ({ ONCE_BACKEND: 'ucp', UCP_MCP_URL: `${proxyUrl}/ucp/mcp`, UCP_AGENT_PROFILE: AGENT_PROFILE, UCP_API_KEY: token, UCP_TIMEOUT: '1s' }),
  faults: UCP_FAULTS,
  merchantFaults: UCP_MERCHANT_FAULTS,
  complete: (id) => ({ method: 'POST', path: mcpPath, body: (b) => toolCall(b).name === 'complete_checkout' && toolCall(b).id === id }),
  update: (id) => ({ method: 'POST', path: mcpPath, body: (b) => toolCall(b).name === 'update_checkout' && toolCall(b).id === id }),
  completedBy({ status, body, request }) {
    const call = toolCall(request);
    if (status !== 200 || call.name !== 'complete_checkout') return undefined;
    return json(body)?.result?.structuredContent?.status === 'completed' ? call.id : undefined;
  },
  inProgress: ({ status, body, request }) => status === 200 && toolCall(request).name === 'complete_checkout' && json(body)?.result?.structuredContent?.status === 'complete_in_progress',
};

export function protocolWire(protocol: ChaosProtocol): ProtocolWire {
  return { acp, 'acp-mcp': acpMcp, ucp: ucpRest, 'ucp-mcp': ucpMcp }[protocol];
}
