// A UCP checkout as the ACP-shaped CheckoutSession every backend returns, with nothing the agent needs lost:
// status, line items (title → name, price → unit_amount), totals, fulfillment options and the chosen ones,
// messages (path → param), links, buyer, destination, continue_url, the order (checkout.order.id) and the
// business's payment handlers (capabilities.payment.handlers, whose ids complete_checkout takes). The result
// then goes through OUR schema of a merchant session (checkout/merchant-session.ts) like any merchant's answer.
import { parseMerchantSession, type ParsedSession } from '../../commerce/merchant-session.js';
import type { CheckoutStatus } from '../../commerce/session.js';
import { fromPostal, type UcpPostalAddress } from './ucp-address.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export const UCP_STATUSES = ['incomplete', 'requires_escalation', 'ready_for_complete', 'complete_in_progress', 'completed', 'canceled'] as const;
export type UcpStatus = (typeof UCP_STATUSES)[number];

/** UCP's six statuses in ACP's words: the same states, ready_for_complete is ACP's ready_for_payment. */
const STATUS: Record<UcpStatus, CheckoutStatus> = {
  incomplete: 'incomplete',
  requires_escalation: 'requires_escalation',
  ready_for_complete: 'ready_for_payment',
  complete_in_progress: 'complete_in_progress',
  completed: 'completed',
  canceled: 'canceled',
};

/** UCP's default labels for well-known total types (checkout.md), used when the business sends none. */
const LABELS: Record<string, string> = {
  subtotal: 'Subtotal',
  discount: 'Discount',
  items_discount: 'Item Discounts',
  fulfillment: 'Shipping',
  tax: 'Tax',
  fee: 'Fee',
  total: 'Total',
};

export function isUcpStatus(value: unknown): value is UcpStatus {
  return typeof value === 'string' && (UCP_STATUSES as readonly string[]).includes(value);
}

/** Is this body a checkout (an id and a status), rather than an error response or a protocol error? */
export function looksLikeCheckout(body: unknown): body is Json {
  return isObject(body) && 'id' in body && 'status' in body;
}

/** Is this body UCP's error response (no resource, `ucp.status: "error"` and messages)? */
export function isErrorResponse(body: unknown): body is { ucp: Json; messages: unknown[]; continue_url?: unknown } {
  return isObject(body) && isObject(body.ucp) && body.ucp.status === 'error' && Array.isArray(body.messages);
}

function total(entry: Json): Json {
  const type = typeof entry.type === 'string' ? entry.type : '';
  return { type, display_text: typeof entry.display_text === 'string' ? entry.display_text : (LABELS[type] ?? type), amount: entry.amount };
}

function message(entry: Json): Json {
  const content = { content_type: entry.content_type === 'markdown' ? 'markdown' : 'plain', content: entry.content, ...(typeof entry.path === 'string' ? { param: entry.path } : {}) };
  if (entry.type === 'info') return { type: 'info', ...content };
  return { type: entry.type, code: typeof entry.code === 'string' ? entry.code : 'unspecified', ...content };
}

function fulfillment(checkout: Json): Json {
  const methods = list(isObject(checkout.fulfillment) ? checkout.fulfillment.methods : undefined);
  const options = new Map<string, Json>();
  const selected: Json[] = [];
  let destination: Json | undefined;
  for (const method of methods) {
    const type = method.type === 'pickup' ? 'pickup' : 'shipping';
    const destinations = list(method.destinations);
    destination ??= destinations.find((d) => d.id === method.selected_destination_id) ?? (destinations.length === 1 ? destinations[0] : undefined);
    for (const group of list(method.groups)) {
      for (const option of list(group.options)) {
        if (typeof option.id !== 'string' || options.has(option.id)) continue;
        options.set(option.id, {
          type,
          id: option.id,
          title: option.title,
          ...(typeof option.description === 'string' ? { description: option.description } : {}),
          totals: list(option.totals).map(total),
        });
      }
      if (typeof group.selected_option_id === 'string') {
        selected.push({ type, option_id: group.selected_option_id, item_ids: Array.isArray(group.line_item_ids) ? group.line_item_ids : [] });
      }
    }
  }
  const out: Json = { fulfillment_options: [...options.values()] };
  if (selected.length > 0) out.selected_fulfillment_options = selected;
  if (destination) {
    const postal = destination as UcpPostalAddress;
    out.fulfillment_details = { address: fromPostal(postal), ...(typeof postal.phone_number === 'string' ? { phone_number: postal.phone_number } : {}) };
  }
  return out;
}

/** The business's payment handlers, as ACP's capabilities.payment.handlers: what complete_checkout's handler_id names. */
function handlers(checkout: Json): Json[] {
  const byName = isObject(checkout.ucp) && isObject(checkout.ucp.payment_handlers) ? checkout.ucp.payment_handlers : {};
  return Object.entries(byName).flatMap(([name, entries]) =>
    list(entries)
      .filter((h) => typeof h.id === 'string')
      .map((h) => ({ id: h.id, name, ...(typeof h.version === 'string' ? { version: h.version } : {}), ...(typeof h.spec === 'string' ? { spec: h.spec } : {}) })),
  );
}

/** A UCP checkout → the ACP-shaped session, before our schema checks it. */
export function toAcpShape(checkout: Json): Json {
  const session: Json = {
    id: checkout.id,
    status: isUcpStatus(checkout.status) ? STATUS[checkout.status] : checkout.status,
    currency: checkout.currency,
    line_items: list(checkout.line_items).map((line) => {
      const item = isObject(line.item) ? line.item : {};
      return {
        id: line.id,
        item: { id: item.id, ...(typeof item.title === 'string' ? { name: item.title } : {}), ...(item.price !== undefined ? { unit_amount: item.price } : {}) },
        quantity: line.quantity,
        ...(typeof item.title === 'string' ? { name: item.title } : {}),
        ...(item.price !== undefined ? { unit_amount: item.price } : {}),
        ...(Array.isArray(line.totals) ? { totals: list(line.totals).map(total) } : {}),
      };
    }),
    totals: list(checkout.totals).map(total),
    messages: list(checkout.messages).map(message),
    links: list(checkout.links).map((link) => ({ type: link.type, url: link.url, ...(typeof link.title === 'string' ? { title: link.title } : {}) })),
    ...fulfillment(checkout),
  };
  if (isObject(checkout.buyer)) session.buyer = checkout.buyer;
  if (checkout.continue_url !== undefined) session.continue_url = checkout.continue_url;
  if (isObject(checkout.order)) session.order = { id: checkout.order.id, checkout_session_id: checkout.id, permalink_url: checkout.order.permalink_url };
  if (isObject(checkout.ucp) && typeof checkout.ucp.version === 'string') session.protocol = { version: checkout.ucp.version };
  const offered = handlers(checkout);
  if (offered.length > 0) session.capabilities = { payment: { handlers: offered } };
  return session;
}

/** A UCP checkout, mapped and checked against our schema of what we accept from a merchant. */
export function parseUcpCheckout(body: unknown): ParsedSession {
  if (!isObject(body)) return { ok: false, problem: 'session: not an object' };
  const mismatch = totalsMismatch(body.totals);
  if (mismatch) return { ok: false, problem: mismatch };
  return parseMerchantSession(toAcpShape(body));
}

/**
 * UCP checkout.md, Verification: the entries other than `total` must add up to it, and a platform MUST NOT complete
 * a checkout autonomously when they do not. Checked on the business's own entries, before unknown types are dropped.
 */
function totalsMismatch(totals: unknown): string | undefined {
  const entries = list(totals);
  const grand = entries.filter((e) => e.type === 'total');
  if (grand.length !== 1 || !entries.every((e) => Number.isSafeInteger(e.amount))) return undefined; // the schema judges these
  const sum = entries.filter((e) => e.type !== 'total').reduce((acc, e) => acc + (e.amount as number), 0);
  const total = grand[0].amount as number;
  return sum === total ? undefined : `totals: the entries add up to ${sum}, not to the total ${total}`;
}
