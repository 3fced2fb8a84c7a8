// A sandbox session's stored state and how it renders as an ACP 2026-04-17 CheckoutSession: line items,
// totals, fulfillment options, status and messages are all derived, so they can never drift from the cart.
import type {
  Buyer,
  CheckoutSession,
  FulfillmentDetails,
  FulfillmentOption,
  LineItem,
  Message,
  Order,
  SelectedFulfillmentOption,
  Total,
} from '../../commerce/session.js';
import { findItem, optionsFor, taxOn, type CatalogItem, type ShippingOption } from './catalog.js';

export const ACP_VERSION = '2026-04-17';

/** The one payment handler the sandbox takes: tokenized cards (tok_sandbox_ok, tok_sandbox_decline). */
export const SANDBOX_HANDLER_ID = 'sandbox';

export interface CartLine {
  id: string;
  quantity: number;
}

/** What the merchant stores per session; everything else in the response is computed from it. */
export interface SessionState {
  id: string;
  phase: 'open' | 'completed' | 'canceled';
  currency: string;
  items: CartLine[];
  buyer?: Buyer;
  fulfillment_details?: FulfillmentDetails;
  /** The buyer's explicit choice; absent means the default (see `effectiveOption`). */
  selected?: SelectedFulfillmentOption[];
  discount_codes: string[];
  order?: Order;
  /** UCP's complete_in_progress fault: the order placed, charged once `completes_at` has passed (ucp-merchant.ts). */
  completing?: { order: Order; completes_at: string };
  created_at: string;
  updated_at: string;
}

/** The session as the sandbox returns it: the shared shape plus the fields ACP requires in every response. */
export type SandboxSession = CheckoutSession & {
  protocol: { version: string };
  capabilities: { payment: { handlers: PaymentHandler[] } };
};

export interface PaymentHandler {
  id: string;
  name: string;
  display_name: string;
  version: string;
  spec: string;
  requires_delegate_payment: boolean;
  requires_pci_compliance: boolean;
  psp: string;
  config_schema: string;
  instrument_schemas: string[];
  config: Record<string, unknown>;
}

/** What every session advertises in capabilities.payment.handlers (ACP 2026-01-30 on). */
export const SANDBOX_HANDLERS: PaymentHandler[] = [
  {
    id: SANDBOX_HANDLER_ID,
    name: 'dev.acp.tokenized.card',
    display_name: 'Card (sandbox tokens)',
    version: '2026-01-22',
    spec: 'https://acp.dev/handlers/tokenized.card',
    requires_delegate_payment: false,
    requires_pci_compliance: false,
    psp: 'sandbox',
    config_schema: 'https://acp.dev/schemas/handlers/tokenized.card/config.json',
    instrument_schemas: ['https://acp.dev/schemas/handlers/tokenized.card/instrument.json'],
    // Nothing that looks like a payment token: tokens are secrets wherever they appear (R10).
    config: { environment: 'sandbox' },
  },
];

/** Line items merged by id (same id twice: quantities added), in first-seen order. */
export function mergeItems(items: { id: string; quantity?: number }[]): CartLine[] {
  const merged = new Map<string, number>();
  for (const item of items) merged.set(item.id, (merged.get(item.id) ?? 0) + (item.quantity ?? 1));
  return [...merged].map(([id, quantity]) => ({ id, quantity }));
}

export function lineId(itemId: string): string {
  return `li_${itemId}`;
}

function catalogItems(state: SessionState): CatalogItem[] {
  // Items are validated on write, so every id is in the catalog.
  return state.items.map((line) => findItem(line.id) as CatalogItem);
}

export function availableOptions(items: CartLine[]): ShippingOption[] {
  return optionsFor(items.every((line) => findItem(line.id)?.digital === true));
}

export function needsAddress(state: SessionState): boolean {
  return availableOptions(state.items).some((option) => option.type === 'shipping');
}

/**
 * The option in force: the buyer's choice if it is still offered; otherwise the default, which is download for an
 * all-digital cart and standard shipping once an address is known (as the ACP create example does).
 */
export function effectiveOption(state: SessionState): ShippingOption | undefined {
  const offered = availableOptions(state.items);
  const chosen = state.selected?.[0];
  const match = chosen && offered.find((option) => option.id === chosen.option_id);
  if (match) return match;
  if (offered.length === 1 && offered[0].type === 'digital') return offered[0];
  if (state.fulfillment_details?.address) return offered[0];
  return undefined;
}

function total(type: Total['type'], display_text: string, amount: number): Total {
  return { type, display_text, amount };
}

function lineItems(state: SessionState): LineItem[] {
  return state.items.map((line, index) => {
    const item = catalogItems(state)[index];
    const base = Math.round(item.unit_amount * line.quantity);
    const tax = taxOn(base);
    return {
      id: lineId(item.id),
      item: { id: item.id },
      quantity: line.quantity,
      name: item.name,
      unit_amount: item.unit_amount,
      totals: [
        total('items_base_amount', 'Base amount', base),
        total('subtotal', 'Subtotal', base),
        total('tax', 'Tax', tax),
        total('total', 'Total', base + tax),
      ],
    };
  });
}

/** Cart totals: tax is 8.75 % of each line (rounded per line), shipping is not taxed. */
export function cartTotals(state: SessionState): Total[] {
  const lines = lineItems(state);
  const sum = (type: Total['type']) =>
    lines.reduce((acc, line) => acc + (line.totals?.find((t) => t.type === type)?.amount ?? 0), 0);
  const base = sum('items_base_amount');
  const tax = sum('tax');
  const option = effectiveOption(state);
  const totals = [total('items_base_amount', 'Item(s) total', base), total('subtotal', 'Subtotal', base)];
  if (option) totals.push(total('fulfillment', option.title, option.amount));
  totals.push(total('tax', 'Tax (8.75%)', tax));
  totals.push(total('total', 'Total', base + (option?.amount ?? 0) + tax));
  return totals;
}

/** The amount the buyer pays now. */
export function totalOf(state: SessionState): number {
  return cartTotals(state).find((t) => t.type === 'total')?.amount ?? 0;
}

function errorMessage(code: string, content: string, param?: string): Message {
  return param === undefined
    ? { type: 'error', code, content_type: 'plain', content }
    : { type: 'error', code, content_type: 'plain', content, param };
}

/** Business errors that hold whatever the buyer does next (R12): out-of-stock lines. */
export function stockErrors(state: SessionState): Message[] {
  return catalogItems(state).flatMap((item, index) =>
    item.availability === 'out_of_stock'
      ? [
          errorMessage(
            'out_of_stock',
            `'${item.name}' (${item.id}) is out of stock. Remove it from the cart to continue.`,
            `$.line_items[${index}]`,
          ),
        ]
      : [],
  );
}

/** What still blocks payment, as `missing` errors. */
export function missingErrors(state: SessionState): Message[] {
  const missing: Message[] = [];
  if (needsAddress(state) && !state.fulfillment_details?.address) {
    missing.push(errorMessage('missing', 'A shipping address is required.', '$.fulfillment_details.address'));
  }
  if (!effectiveOption(state)) {
    missing.push(
      errorMessage('missing', 'Choose a fulfillment option first.', '$.selected_fulfillment_options'),
    );
  }
  return missing;
}

function blockers(state: SessionState): Message[] {
  const stock = stockErrors(state);
  return stock.length > 0 ? stock : missingErrors(state);
}

export function isReady(state: SessionState): boolean {
  return stockErrors(state).length === 0 && missingErrors(state).length === 0;
}

function discountWarnings(state: SessionState): Message[] {
  return state.discount_codes.map((code, index) => ({
    type: 'warning',
    code: 'discount_code_invalid',
    content_type: 'plain',
    content: `The sandbox merchant has no discount code '${code}'.`,
    param: `$.discounts.codes[${index}]`,
  }));
}

function fulfillmentOption(option: ShippingOption): FulfillmentOption {
  return {
    type: option.type,
    id: option.id,
    title: option.title,
    description: option.description,
    totals: [total('total', option.title, option.amount)],
  };
}

export function render(state: SessionState, baseUrl: string, extra: Message[] = []): SandboxSession {
  const lines = lineItems(state);
  const option = effectiveOption(state);
  const status =
    state.phase === 'completed'
      ? 'completed'
      : state.phase === 'canceled'
        ? 'canceled'
        : isReady(state)
          ? 'ready_for_payment'
          : 'not_ready_for_payment';
  const session: SandboxSession = {
    id: state.id,
    protocol: { version: ACP_VERSION },
    capabilities: { payment: { handlers: SANDBOX_HANDLERS } },
    status,
    currency: state.currency,
    line_items: lines,
    fulfillment_options: availableOptions(state.items).map(fulfillmentOption),
    totals: cartTotals(state),
    // What blocks payment is said on every open session: out of stock first, else what is still missing.
    messages: [...(state.phase === 'open' ? blockers(state) : []), ...discountWarnings(state), ...extra],
    links: [
      { type: 'terms_of_use', url: `${baseUrl}/terms` },
      { type: 'return_policy', url: `${baseUrl}/returns` },
    ],
    created_at: state.created_at,
    updated_at: state.updated_at,
  };
  if (option) {
    session.selected_fulfillment_options = [
      { type: option.type, option_id: option.id, item_ids: lines.map((line) => line.id) },
    ];
  }
  if (state.buyer) session.buyer = state.buyer;
  if (state.fulfillment_details) session.fulfillment_details = state.fulfillment_details;
  if (state.order) session.order = state.order;
  return session;
}
