// The sandbox merchant speaks every released ACP version, chosen per request. It works in today's shapes
// (2026-04-17): a request in an older version is read into them first, and every session and error it answers
// is written back in the version asked for, valid against that version's schema (../acp-spec).
import { shapeOf, errorsListVersions, type AcpVersion } from '../acp/versions.js';
import { findShippingOption } from './catalog.js';
import type { SandboxSession } from './cart.js';
import type { AcpError } from './errors.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type RequestKind = 'create' | 'update' | 'complete' | 'cancel';

/** A selection in the nested shape of 2025-12-12 ({type, shipping: {option_id, item_ids}}) as a flat one. */
function flatSelection(option: unknown): unknown {
  if (!isObject(option) || typeof option.type !== 'string' || !isObject(option[option.type])) return option;
  const inner = option[option.type] as Json;
  return { type: option.type, option_id: inner.option_id, item_ids: inner.item_ids };
}

/**
 * A body in today's words. Older versions are converted; and in every version the merchant reads leniently what
 * the official examples themselves write outside the schema (a nested selection under 2026-04-17 in the MCP
 * example, an instrument given as a bare `token`). Unknown fields pass through and are ignored.
 */
export function readRequest(version: AcpVersion, kind: RequestKind, body: unknown): unknown {
  if (!isObject(body)) return body;
  const out: Json = { ...body };
  if (shapeOf(version) !== 'handlers') {
    if (Array.isArray(out.items)) {
      out.line_items = out.items;
      delete out.items;
    }
    if (kind === 'create' && out.currency === undefined) out.currency = 'usd';
    if (out.fulfillment_address !== undefined) {
      out.fulfillment_details = { address: out.fulfillment_address };
      delete out.fulfillment_address;
    }
    if (typeof out.fulfillment_option_id === 'string') {
      const id = out.fulfillment_option_id;
      out.selected_fulfillment_options = [{ type: findShippingOption(id)?.type ?? 'shipping', option_id: id, item_ids: [] }];
      delete out.fulfillment_option_id;
    }
    if (kind === 'complete' && isObject(out.payment_data) && typeof out.payment_data.token === 'string') {
      // Before payment handlers: a bare token with its provider; it is a card token for the sandbox.
      out.payment_data = { instrument: { type: 'card', credential: { type: 'spt', token: out.payment_data.token } } };
    }
  }
  if (Array.isArray(out.selected_fulfillment_options)) out.selected_fulfillment_options = out.selected_fulfillment_options.map(flatSelection);
  const payment = out.payment_data;
  if (kind === 'complete' && isObject(payment) && isObject(payment.instrument) && typeof payment.instrument.token === 'string' && payment.instrument.credential === undefined) {
    const { token, ...instrument } = payment.instrument;
    out.payment_data = { ...payment, instrument: { type: 'card', ...instrument, credential: { type: 'spt', token } } };
  }
  return out;
}

const LEGACY_NETWORKS = ['amex', 'discover', 'mastercard', 'visa'];

function amountOf(totals: unknown, type: string): number {
  const found = Array.isArray(totals) ? totals.find((t) => isObject(t) && t.type === type) : undefined;
  return isObject(found) && typeof found.amount === 'number' ? found.amount : 0;
}

/** Today's session in the shape of `version`. */
export function writeSession(version: AcpVersion, session: SandboxSession): Json {
  if (version === '2026-04-17') return session as unknown as Json;
  const shape = shapeOf(version);
  if (shape === 'handlers') {
    // 2026-01-30: the same shapes; its Order status has no `created` yet.
    const out: Json = { ...session, protocol: { version } };
    // Its PaymentHandler has no display_name yet, and its Order status no `created`.
    out.capabilities = { payment: { handlers: session.capabilities.payment.handlers.map(({ display_name: _name, ...handler }) => handler) } };
    if (session.order) out.order = { ...session.order, status: 'confirmed' };
    return out;
  }
  const legacy = shape === 'items';
  const out: Json = {
    id: session.id,
    payment_provider: {
      provider: 'stripe',
      ...(version === '2026-01-16' ? { merchant_id: 'acct_sandbox' } : {}),
      supported_payment_methods: legacy ? ['card'] : [{ type: 'card', supported_card_networks: LEGACY_NETWORKS }],
    },
    status: session.status,
    currency: session.currency,
    line_items: session.line_items.map((line) => {
      const base = amountOf(line.totals, 'items_base_amount');
      const out: Json = {
        id: line.id,
        item: { id: line.item.id, quantity: line.quantity },
        base_amount: base,
        discount: amountOf(line.totals, 'items_discount'),
        subtotal: amountOf(line.totals, 'subtotal'),
        tax: amountOf(line.totals, 'tax'),
        total: amountOf(line.totals, 'total'),
      };
      if (!legacy) {
        if (line.name !== undefined) out.name = line.name;
        if (line.unit_amount !== undefined) out.unit_amount = line.unit_amount;
      }
      return out;
    }),
    fulfillment_options: session.fulfillment_options.map((option) => {
      const total = amountOf(option.totals, 'total');
      if (version === '2026-01-16') return { type: option.type, id: option.id, title: option.title, description: option.description, totals: option.totals };
      return { type: option.type, id: option.id, title: option.title, subtitle: option.description, subtotal: total, tax: 0, total };
    }),
    totals: session.totals,
    // Warnings came with 2026-01-30: before, they are info.
    messages: session.messages.map((m) => (m.type === 'warning' ? { type: 'info', content_type: m.content_type, content: m.content, ...(m.param ? { param: m.param } : {}) } : m)),
    links: session.links.map((link) => ({ type: legacy && link.type === 'return_policy' ? 'seller_shop_policies' : link.type, url: link.url })),
  };
  const buyer = session.buyer;
  if (buyer?.first_name && buyer.last_name) {
    out.buyer = { first_name: buyer.first_name, last_name: buyer.last_name, email: buyer.email, ...(buyer.phone_number ? { phone_number: buyer.phone_number } : {}) };
  }
  const selected = session.selected_fulfillment_options?.[0];
  if (legacy) {
    if (session.fulfillment_details?.address) out.fulfillment_address = session.fulfillment_details.address;
    if (selected) out.fulfillment_option_id = selected.option_id;
  } else {
    if (session.fulfillment_details) out.fulfillment_details = session.fulfillment_details;
    if (session.selected_fulfillment_options) {
      out.selected_fulfillment_options = session.selected_fulfillment_options.map((o) => ({ type: o.type, [o.type]: { option_id: o.option_id, item_ids: o.item_ids } }));
    }
  }
  if (session.order) out.order = { id: session.order.id, checkout_session_id: session.order.checkout_session_id, permalink_url: session.order.permalink_url };
  return out;
}

/** Today's Error in the shape of `version`: before 2026-04-17 there is no supported_versions. */
export function writeError(version: AcpVersion, error: AcpError): AcpError {
  if (errorsListVersions(version) || error.supported_versions === undefined) return error;
  const { supported_versions: _dropped, ...rest } = error;
  return rest;
}
