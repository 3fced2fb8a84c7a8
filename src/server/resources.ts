// MCP resources: `checkout://{id}` is a checkout and its ledger timeline, for the calling principal only, so a
// person can @-mention a checkout in a client and see what happened. A foreign checkout is simply not found.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
  type ResourceLink,
} from '@modelcontextprotocol/sdk/types.js';
import type { BackendName } from '../backends/backend.js';
import type { Checkouts } from '../checkout/checkouts.js';
import { checkoutHistory, historyJson, recentCheckouts } from '../checkout/history.js';
import { totalAmount } from '../commerce/session.js';
import type { Ledger } from '../ledger/ledger.js';

export const CHECKOUT_SCHEME = 'checkout://';
const MIME = 'application/json';
/** The MCP specification's code for an unknown resource. */
const RESOURCE_NOT_FOUND = -32002;
const LISTED_AT_MOST = 100;

export interface CheckoutResourceDeps {
  ledger: Ledger;
  backend: BackendName;
}

export function checkoutUri(id: string): string {
  return `${CHECKOUT_SCHEME}${encodeURIComponent(id)}`;
}

/** The link a tool result carries to its checkout (after the text item). */
export function checkoutLink(id: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: checkoutUri(id),
    name: `checkout ${id}`,
    description: 'The checkout and its ledger timeline: every call sent, with keys and outcomes',
    mimeType: MIME,
  };
}

export function registerCheckoutResources(server: Server, deps: CheckoutResourceDeps, principal: string, checkouts: Checkouts): void {
  server.registerCapabilities({ resources: {} });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: `${CHECKOUT_SCHEME}{id}`,
        name: 'checkout',
        title: 'Checkout and its ledger timeline',
        description: 'A checkout by its checkout_session_id, with every recorded attempt (keys, provider request ids, outcomes)',
        mimeType: MIME,
      },
    ],
  }));

  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const heads = await recentCheckouts(checkouts.heads, principal, LISTED_AT_MOST);
    const resources: Resource[] = heads.map((head) => {
      const total = totalAmount(head.checkout);
      return {
        uri: checkoutUri(head.anchor),
        name: `checkout ${head.anchor}`,
        title: `${head.anchor}: ${head.checkout.status}${total === undefined ? '' : `, ${total} ${head.checkout.currency}`}`,
        mimeType: MIME,
      };
    });
    return { resources };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request): Promise<ReadResourceResult> => {
    const uri = request.params.uri;
    const id = parseCheckoutUri(uri);
    const notFound = new McpError(RESOURCE_NOT_FOUND, `Resource ${uri} not found`, { uri });
    if (id === undefined) throw notFound;
    // The live state when the merchant answers (this also checks ownership); the last recorded one otherwise.
    const live = await checkouts.get(principal, id).catch(() => undefined);
    const history = await checkoutHistory(deps.ledger, id, checkouts.heads);
    if (!history || history.head.principal !== principal) throw notFound;
    const body = {
      ...historyJson({ ...history, records: history.records.filter((r) => r.principal === principal) }),
      ...(live?.ok ? { checkout: live.checkout, live: true } : { live: false }),
    };
    return { contents: [{ uri, mimeType: MIME, text: JSON.stringify(body, null, 2) }] };
  });
}

function parseCheckoutUri(uri: string): string | undefined {
  if (!uri.startsWith(CHECKOUT_SCHEME)) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(uri.slice(CHECKOUT_SCHEME.length));
  } catch {
    return undefined;
  }
  return id !== '' && !id.includes('/') ? id : undefined;
}
