// A sandbox session as a UCP 2026-04-08 checkout (with the fulfillment and discount extensions): the same
// stored state the ACP side renders (cart.ts), so both protocols show one cart, one total, one order.
import { HOUR } from '../../config/duration.js';
import { toPostal } from '../ucp/ucp-address.js';
import { findItem, taxOn, type CatalogItem } from './catalog.js';
import { availableOptions, cartTotals, effectiveOption, isReady, lineId, missingErrors, stockErrors, type SessionState } from './cart.js';

export const UCP_VERSION = '2026-04-08';
/** How long a UCP checkout stays open (the spec's default TTL when the business sends none). */
export const CHECKOUT_TTL_MS = 6 * HOUR;

/** The payment handler the sandbox advertises; it accepts the sandbox tokens (tok_sandbox_ok, tok_sandbox_decline). */
export const SANDBOX_HANDLER = { name: 'dev.once_checkout.sandbox_token', id: 'sandbox' } as const;

export type UcpStatus = 'incomplete' | 'requires_escalation' | 'ready_for_complete' | 'complete_in_progress' | 'completed' | 'canceled';
export type Severity = 'recoverable' | 'requires_buyer_input' | 'requires_buyer_review' | 'unrecoverable';

export type UcpMessage =
  | { type: 'error'; code: string; content: string; severity: Severity; path?: string; content_type?: 'plain' }
  | { type: 'warning'; code: string; content: string; path?: string; content_type?: 'plain' }
  | { type: 'info'; content: string; code?: string; path?: string; content_type?: 'plain' };

export interface UcpTotal {
  type: string;
  display_text?: string;
  amount: number;
}

export type UcpCheckout = Record<string, unknown> & { id: string; status: UcpStatus };

/** The `ucp` envelope of an error response (no resource). */
export interface UcpErrorResponse {
  ucp: { version: string; status: 'error' };
  messages: UcpMessage[];
  continue_url?: string;
}

/** The `ucp` metadata every checkout answer carries: version, active capabilities, payment handlers. */
export function ucpEnvelope(): Record<string, unknown> {
  const version = UCP_VERSION;
  return {
    version,
    status: 'success',
    capabilities: {
      'dev.ucp.shopping.checkout': [{ version }],
      'dev.ucp.shopping.fulfillment': [{ version, extends: 'dev.ucp.shopping.checkout' }],
      'dev.ucp.shopping.discount': [{ version, extends: 'dev.ucp.shopping.checkout' }],
    },
    payment_handlers: {
      [SANDBOX_HANDLER.name]: [{ id: SANDBOX_HANDLER.id, version, available_instruments: [{ type: 'card' }], config: {} }],
    },
  };
}

export function errorResponse(messages: UcpMessage[], continueUrl?: string): UcpErrorResponse {
  return { ucp: { version: UCP_VERSION, status: 'error' }, messages, ...(continueUrl ? { continue_url: continueUrl } : {}) };
}

function status(state: SessionState): UcpStatus {
  if (state.phase === 'completed') return 'completed';
  if (state.phase === 'canceled') return 'canceled';
  if (state.completing) return 'complete_in_progress';
  return isReady(state) ? 'ready_for_complete' : 'incomplete';
}

function lineItems(state: SessionState): Array<Record<string, unknown>> {
  return state.items.map((line) => {
    const item = findItem(line.id) as CatalogItem;
    const base = item.unit_amount * line.quantity;
    const tax = taxOn(base);
    return {
      id: lineId(item.id),
      item: { id: item.id, title: item.name, price: item.unit_amount },
      quantity: line.quantity,
      totals: [
        { type: 'subtotal', display_text: 'Subtotal', amount: base },
        { type: 'tax', display_text: 'Tax', amount: tax },
        { type: 'total', display_text: 'Total', amount: base + tax },
      ],
    };
  });
}

/** UCP's totals add up (sum of the others = total): ACP's items_base_amount repeats the subtotal, so it is left out. */
function totals(state: SessionState): UcpTotal[] {
  return cartTotals(state)
    .filter((t) => t.type !== 'items_base_amount')
    .map((t) => ({ type: t.type, display_text: t.display_text, amount: t.amount }));
}

/** Physical carts ship: one shipping method, one group holding every line, the sandbox's two options. */
function fulfillment(state: SessionState): Record<string, unknown> | undefined {
  const offered = availableOptions(state.items).filter((o) => o.type === 'shipping');
  if (offered.length === 0) return undefined;
  const lineIds = state.items.map((line) => lineId(line.id));
  const address = state.fulfillment_details?.address;
  const chosen = effectiveOption(state);
  return {
    methods: [
      {
        id: 'method_shipping',
        type: 'shipping',
        line_item_ids: lineIds,
        destinations: address ? [{ id: 'dest_1', ...toPostal(address, state.fulfillment_details?.phone_number) }] : [],
        selected_destination_id: address ? 'dest_1' : null,
        groups: [
          {
            id: 'group_1',
            line_item_ids: lineIds,
            selected_option_id: chosen?.type === 'shipping' ? chosen.id : null,
            options: offered.map((o) => ({ id: o.id, title: o.title, description: o.description, totals: [{ type: 'total', display_text: o.title, amount: o.amount }] })),
          },
        ],
      },
    ],
  };
}

/** What blocks completion, with UCP severities: all of it the platform can fix through the API (recoverable). */
function messages(state: SessionState, extra: UcpMessage[]): UcpMessage[] {
  const out: UcpMessage[] = [];
  if (state.phase === 'open' && !state.completing) {
    for (const error of stockErrors(state)) {
      if (error.type === 'error') out.push({ type: 'error', code: 'out_of_stock', content: error.content, severity: 'recoverable', ...(error.param ? { path: error.param } : {}) });
    }
    if (stockErrors(state).length === 0) {
      for (const error of missingErrors(state)) {
        if (error.type !== 'error') continue;
        const path = error.param === '$.fulfillment_details.address' ? '$.fulfillment.methods[0].destinations' : '$.fulfillment.methods[0].groups[0].selected_option_id';
        out.push({ type: 'error', code: 'missing', content: error.content, severity: 'recoverable', path });
      }
    }
  }
  state.discount_codes.forEach((code, index) => {
    out.push({ type: 'warning', code: 'discount_code_invalid', content: `The sandbox merchant has no discount code '${code}'.`, path: `$.discounts.codes[${index}]` });
  });
  return [...out, ...extra];
}

export function renderUcp(state: SessionState, baseUrl: string, extra: UcpMessage[] = []): UcpCheckout {
  const current = status(state);
  const checkout: UcpCheckout = {
    ucp: ucpEnvelope(),
    id: state.id,
    status: current,
    currency: state.currency.toUpperCase(),
    line_items: lineItems(state),
    totals: totals(state),
    messages: messages(state, extra),
    links: [
      { type: 'terms_of_service', url: `${baseUrl}/terms` },
      { type: 'refund_policy', url: `${baseUrl}/returns` },
    ],
    expires_at: new Date(Date.parse(state.created_at) + CHECKOUT_TTL_MS).toISOString(),
  };
  // The spec: continue_url for every non-terminal status, none once completed or canceled.
  if (current !== 'completed' && current !== 'canceled') checkout.continue_url = `${baseUrl}/ucp/checkout/${encodeURIComponent(state.id)}`;
  if (state.buyer) checkout.buyer = { ...state.buyer };
  const shipping = fulfillment(state);
  if (shipping) checkout.fulfillment = shipping;
  checkout.discounts = { codes: [...state.discount_codes], applied: [] };
  if (state.order) checkout.order = { id: state.order.id, permalink_url: state.order.permalink_url };
  return checkout;
}
