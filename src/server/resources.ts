// MCP resources: `checkout://{id}` is a checkout and its ledger timeline, for the calling principal only, so a
// person can @-mention a checkout in a client and see what happened. A foreign checkout is simply not found.
// A client may subscribe to one: it gets notifications/resources/updated when the checkout's order or status
// changes, at once when this process applied the merchant's event, else from a poll of the subscribed heads
// (an event received by another process on the same store, or a stdio server, which receives none itself).
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ReadResourceResult,
  type Resource,
  type ResourceLink,
} from '@modelcontextprotocol/sdk/types.js';
import type { BackendName } from '../backends/backend.js';
import type { Checkouts } from '../checkout/checkouts.js';
import type { AnchorHead } from '../checkout/heads.js';
import { checkoutHistory, historyJson, recentCheckouts } from '../checkout/history.js';
import { quoteId } from '../commerce/merchant-text.js';
import { totalAmount } from '../commerce/session.js';
import type { Ledger } from '../ledger/ledger.js';

const CHECKOUT_SCHEME = 'checkout://';
const MIME = 'application/json';
/** The MCP specification's code for an unknown resource. */
const RESOURCE_NOT_FOUND = -32002;
const LISTED_AT_MOST = 100;
/** How often the heads of subscribed checkouts are read for news applied by other processes. */
const SUBSCRIPTION_POLL_MS = 1_000;
/** Subscriptions one session may hold (each is one key in the poll's single read). */
const SUBSCRIPTIONS_AT_MOST = 100;

export interface CheckoutResourceDeps {
  ledger: Ledger;
  backend: BackendName;
}

function checkoutUri(id: string): string {
  return `${CHECKOUT_SCHEME}${encodeURIComponent(id)}`;
}

/** The link a tool result carries to its checkout (after the text item). */
export function checkoutLink(id: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: checkoutUri(id),
    name: `checkout ${quoteId(id)}`,
    description: 'The checkout and its ledger timeline: every call sent, with keys and outcomes',
    mimeType: MIME,
  };
}

/** What a subscriber is told about when it changes: the checkout's status and its order's state. */
function newsOf(head: AnchorHead): string {
  return `${head.checkout.status}|${head.order?.seq ?? 0}|${head.order?.digest ?? ''}`;
}

export function registerCheckoutResources(server: Server, deps: CheckoutResourceDeps, principal: string, checkouts: Checkouts): void {
  server.registerCapabilities({ resources: { subscribe: true } });
  registerSubscriptions(server, principal, checkouts);

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
        name: `checkout ${quoteId(head.anchor)}`,
        title: `${quoteId(head.anchor)}: ${head.checkout.status}${total === undefined ? '' : `, ${total} ${head.checkout.currency}`}`,
        mimeType: MIME,
      };
    });
    return { resources };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request): Promise<ReadResourceResult> => {
    const uri = request.params.uri;
    const id = parseCheckoutUri(uri);
    if (id === undefined) throw resourceNotFound(uri);
    // The live state when the merchant answers (this also checks ownership); the last recorded one otherwise.
    const live = await checkouts.get(principal, id).catch(() => undefined);
    const history = await checkoutHistory(deps.ledger, id, checkouts.heads);
    if (!history || history.head.principal !== principal) throw resourceNotFound(uri);
    const body = {
      ...historyJson({ ...history, records: history.records.filter((r) => r.principal === principal) }),
      ...(live?.ok ? { checkout: live.checkout, live: true } : { live: false }),
    };
    return { contents: [{ uri, mimeType: MIME, text: JSON.stringify(body, null, 2) }] };
  });
}

function registerSubscriptions(server: Server, principal: string, checkouts: Checkouts): void {
  const heads = checkouts.heads;
  /** uri → the checkout id and the news last told. */
  const subscribed = new Map<string, { id: string; news: string }>();
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;

  const check = async () => {
    const entries = [...subscribed.entries()];
    if (entries.length === 0) return;
    const stored = await heads.store.getMany<AnchorHead>(entries.map(([, s]) => heads.keyOf(s.id)));
    entries.forEach(([uri, subscription], index) => {
      const head = stored[index]?.value;
      if (!head || head.principal !== principal || subscribed.get(uri) !== subscription) return;
      const news = newsOf(head);
      if (news === subscription.news) return;
      subscription.news = news;
      void server.sendResourceUpdated({ uri }).catch(() => {});
    });
  };
  const checkSoon = () => {
    // One read at a time; news arriving meanwhile is caught by the next.
    checking ??= check()
      .catch(() => {})
      .finally(() => (checking = undefined));
    return checking;
  };
  const onOrder = (anchor: string) => {
    if (subscribed.has(checkoutUri(anchor))) void checkSoon();
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    heads.news.off('order', onOrder);
  };

  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const uri = request.params.uri;
    const id = parseCheckoutUri(uri);
    const stored = id === undefined ? undefined : await heads.read(id);
    if (id === undefined || !stored || stored.value.principal !== principal) throw resourceNotFound(uri);
    if (!subscribed.has(uri) && subscribed.size >= SUBSCRIPTIONS_AT_MOST) {
      throw new McpError(-32602, `At most ${SUBSCRIPTIONS_AT_MOST} checkouts can be subscribed in one session; unsubscribe from one first`);
    }
    subscribed.set(uri, { id, news: newsOf(stored.value) });
    if (!timer) {
      heads.news.on('order', onOrder);
      timer = setInterval(() => void checkSoon(), SUBSCRIPTION_POLL_MS);
      timer.unref();
    }
    return {};
  });

  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscribed.delete(request.params.uri);
    if (subscribed.size === 0) stop();
    return {};
  });

  const closed = server.onclose;
  server.onclose = () => {
    subscribed.clear();
    stop();
    closed?.();
  };
}

/** A foreign checkout's resource is indistinguishable from one that does not exist. */
function resourceNotFound(uri: string): McpError {
  return new McpError(RESOURCE_NOT_FOUND, `Resource ${uri} not found`, { uri });
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
