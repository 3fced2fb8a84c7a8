// Backend inputs → ACP request bodies, one builder per operation for every released version, each valid against
// that version's official schema (../acp-spec). Where our input cannot be said in a version, the request is
// refused here, before anything is sent: saying it differently would change the purchase.
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../../commerce/inputs.js';
import type { Buyer, FulfillmentDetails, SelectedFulfillmentOption } from '../../commerce/session.js';
import { shapeOf, type AcpVersion } from './versions.js';

export type Built = { ok: true; body: Record<string, unknown> } | { ok: false; message: string };

const TRACE_SUMMARY_MAX = 500;
/** The one payment provider the pre-handler versions define (`payment_data.provider` enum). */
const LEGACY_PROVIDER = 'stripe';

/**
 * Since 2026-01-30 an Item has no quantity (an upstream defect): we repeat the item `quantity` times, which is
 * schema-valid and which merchants (our sandbox included) merge back into one line.
 */
export function lineItems(items: ItemRef[]): Array<{ id: string }> {
  return items.flatMap((item) => Array.from({ length: item.quantity }, () => ({ id: item.id })));
}

/** Before 2026-01-30: `items[{id, quantity}]`. */
function quantityItems(items: ItemRef[]): Array<{ id: string; quantity: number }> {
  return items.map((item) => ({ id: item.id, quantity: item.quantity }));
}

type Part<T> = { ok: true; value: T } | { ok: false; message: string };

/** Before 2026-01-30 a Buyer needs first_name, last_name and email, and has no full_name. */
function legacyBuyer(buyer: Buyer, version: AcpVersion): Part<Record<string, string>> {
  let first = buyer.first_name?.trim();
  let last = buyer.last_name?.trim();
  if ((!first || !last) && buyer.full_name) {
    const [head, ...rest] = buyer.full_name.trim().split(/\s+/);
    first ||= head;
    last ||= rest.join(' ');
  }
  if (!first || !last) {
    return { ok: false, message: `This merchant speaks ACP ${version}, which needs the buyer's first_name and last_name (or a full_name of two words) with the email.` };
  }
  const value: Record<string, string> = { first_name: first, last_name: last, email: buyer.email };
  if (buyer.phone_number !== undefined) value.phone_number = buyer.phone_number;
  return { ok: true, value };
}

function buyerFor(buyer: Buyer, version: AcpVersion): Part<unknown> {
  return shapeOf(version) === 'handlers' ? { ok: true, value: buyer } : legacyBuyer(buyer, version);
}

/** 2025-09-29 has only a flat address (`fulfillment_address`); the details' name, phone and email cannot travel. */
function fulfillmentFields(details: FulfillmentDetails, version: AcpVersion): Record<string, unknown> {
  if (shapeOf(version) !== 'items') return { fulfillment_details: details };
  return details.address === undefined ? {} : { fulfillment_address: details.address };
}

function selectedFor(options: SelectedFulfillmentOption[], version: AcpVersion): Part<Record<string, unknown>> {
  const shape = shapeOf(version);
  if (shape === 'handlers') return { ok: true, value: { selected_fulfillment_options: options } };
  const unsupported = options.find((o) => o.type !== 'shipping' && o.type !== 'digital');
  if (unsupported) return { ok: false, message: `ACP ${version} has only shipping and digital fulfillment, not ${unsupported.type}.` };
  if (shape === 'details') {
    return {
      ok: true,
      value: { selected_fulfillment_options: options.map((o) => ({ type: o.type, [o.type]: { option_id: o.option_id, item_ids: o.item_ids } })) },
    };
  }
  const ids = [...new Set(options.map((o) => o.option_id))];
  if (ids.length !== 1) return { ok: false, message: `ACP ${version} selects exactly one fulfillment option (fulfillment_option_id); pass one.` };
  return { ok: true, value: { fulfillment_option_id: ids[0] } };
}

export function createBody(input: CreateInput, version: AcpVersion): Built {
  const body: Record<string, unknown> =
    shapeOf(version) === 'handlers'
      ? // capabilities is required on create; an empty object declares no optional agent capabilities.
        { line_items: lineItems(input.items), currency: input.currency, capabilities: {} }
      : // Before 2026-01-30 the merchant chooses the currency; the one it answers is checked against ours.
        { items: quantityItems(input.items) };
  const refused = addBuyerAndFulfillment(body, input, version);
  if (refused) return refused;
  return { ok: true, body };
}

/** The buyer and fulfillment fields of a create or update body, as this version spells them; a refusal if any. */
function addBuyerAndFulfillment(body: Record<string, unknown>, input: CreateInput | UpdateInput, version: AcpVersion): Built | undefined {
  if (input.buyer !== undefined && input.buyer !== null) {
    const buyer = buyerFor(input.buyer, version);
    if (!buyer.ok) return buyer;
    body.buyer = buyer.value;
  }
  if (input.fulfillment_details !== undefined && input.fulfillment_details !== null) Object.assign(body, fulfillmentFields(input.fulfillment_details, version));
  return undefined;
}

export function updateBody(input: UpdateInput, version: AcpVersion): Built {
  // ACP has no null in its update schema: lists clear with [], buyer and fulfillment details cannot be cleared.
  if (input.buyer === null) return { ok: false, message: 'ACP merchants cannot clear the buyer; send the new buyer details instead of null.' };
  if (input.fulfillment_details === null) {
    return { ok: false, message: 'ACP merchants cannot clear the fulfillment details; send the new details instead of null.' };
  }
  const shape = shapeOf(version);
  const body: Record<string, unknown> = {};
  if (input.items !== undefined) {
    if (shape === 'handlers') body.line_items = lineItems(input.items);
    else body.items = quantityItems(input.items);
  }
  const refused = addBuyerAndFulfillment(body, input, version);
  if (refused) return refused;
  if (input.selected_fulfillment_options !== undefined) {
    if (input.selected_fulfillment_options === null && shape === 'items') {
      return { ok: false, message: `ACP ${version} cannot clear the selected fulfillment option; select another one instead.` };
    }
    const selected = selectedFor(input.selected_fulfillment_options ?? [], version);
    if (!selected.ok) return selected;
    Object.assign(body, selected.value);
  }
  if (input.discounts !== undefined) {
    if (shape === 'handlers') body.discounts = input.discounts ?? { codes: [] };
    else if (input.discounts !== null && input.discounts.codes.length > 0) {
      return { ok: false, message: `ACP ${version} has no discount codes; this merchant cannot take them.` };
    }
  }
  return { ok: true, body };
}

export function completeBody(input: CompleteInput, version: AcpVersion): Built {
  const { handler_id: handlerId, instrument } = input.payment_data;
  let payment: Record<string, unknown>;
  if (shapeOf(version) === 'handlers') {
    if (handlerId === undefined) {
      return { ok: false, message: "ACP merchants need payment_data.handler_id with the instrument; pass the id of one of the merchant's payment handlers." };
    }
    payment = { handler_id: handlerId, instrument: { type: instrument.type, credential: { type: instrument.credential.type, token: instrument.credential.token } } };
  } else {
    // Before payment handlers the token travels alone, with its provider.
    payment = { token: instrument.credential.token, provider: LEGACY_PROVIDER };
  }
  const body: Record<string, unknown> = { payment_data: payment };
  if (input.buyer !== undefined) {
    const buyer = buyerFor(input.buyer, version);
    if (!buyer.ok) return buyer;
    body.buyer = buyer.value;
  }
  return { ok: true, body };
}

export function cancelBody(input: CancelInput, version: AcpVersion): Built {
  // 2025-09-29 defines no cancel body; from 2025-12-12 an intent_trace may say why.
  if (input.reason === undefined || shapeOf(version) === 'items') return { ok: true, body: {} };
  return { ok: true, body: { intent_trace: { reason_code: 'other', trace_summary: input.reason.slice(0, TRACE_SUMMARY_MAX) } } };
}
