// Backend inputs → ACP 2026-04-17 request bodies that validate against the official schemas. Where our input
// cannot be said in that schema, the request is refused here, before anything is sent.
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../../commerce/inputs.js';

export type Built = { ok: true; body: Record<string, unknown> } | { ok: false; message: string };

const TRACE_SUMMARY_MAX = 500;

/**
 * The 2026-04-17 Item has no quantity (an upstream defect): we repeat the item `quantity` times, which is
 * schema-valid and which merchants (our sandbox included) merge back into one line.
 */
export function lineItems(items: ItemRef[]): Array<{ id: string }> {
  return items.flatMap((item) => Array.from({ length: item.quantity }, () => ({ id: item.id })));
}

export function createBody(input: CreateInput): Built {
  // capabilities is required on create; an empty object declares no optional agent capabilities.
  const body: Record<string, unknown> = { line_items: lineItems(input.items), currency: input.currency, capabilities: {} };
  if (input.buyer !== undefined) body.buyer = input.buyer;
  if (input.fulfillment_details !== undefined) body.fulfillment_details = input.fulfillment_details;
  return { ok: true, body };
}

export function updateBody(input: UpdateInput): Built {
  // ACP has no null in its update schema: lists clear with [], buyer and fulfillment details cannot be cleared.
  if (input.buyer === null) return { ok: false, message: 'ACP merchants cannot clear the buyer; send the new buyer details instead of null.' };
  if (input.fulfillment_details === null) {
    return { ok: false, message: 'ACP merchants cannot clear the fulfillment details; send the new details instead of null.' };
  }
  const body: Record<string, unknown> = {};
  if (input.items !== undefined) body.line_items = lineItems(input.items);
  if (input.buyer !== undefined) body.buyer = input.buyer;
  if (input.fulfillment_details !== undefined) body.fulfillment_details = input.fulfillment_details;
  if (input.selected_fulfillment_options !== undefined) body.selected_fulfillment_options = input.selected_fulfillment_options ?? [];
  if (input.discounts !== undefined) body.discounts = input.discounts ?? { codes: [] };
  return { ok: true, body };
}

export function completeBody(input: CompleteInput): Built {
  const { handler_id: handlerId, instrument } = input.payment_data;
  if (handlerId === undefined) {
    return { ok: false, message: "ACP merchants need payment_data.handler_id with the instrument; pass the id of one of the merchant's payment handlers." };
  }
  const body: Record<string, unknown> = {
    payment_data: {
      handler_id: handlerId,
      instrument: { type: instrument.type, credential: { type: instrument.credential.type, token: instrument.credential.token } },
    },
  };
  if (input.buyer !== undefined) body.buyer = input.buyer;
  return { ok: true, body };
}

export function cancelBody(input: CancelInput): Built {
  if (input.reason === undefined) return { ok: true, body: {} };
  return { ok: true, body: { intent_trace: { reason_code: 'other', trace_summary: input.reason.slice(0, TRACE_SUMMARY_MAX) } } };
}
