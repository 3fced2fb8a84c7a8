// Backend inputs → UCP 2026-04-08 `checkout` payloads that validate against the official schemas (create,
// update, complete views). Where our input cannot be said in UCP, the request is refused here, before anything
// is sent. Update is UCP's full replacement: it starts from the checkout as the business holds it now and
// changes only what the input names (`null` clears a field, absent leaves it).
import type { CompleteInput, CreateInput, UpdateInput } from '../../commerce/inputs.js';
import type { FulfillmentDetails } from '../../commerce/session.js';
import { toPostal, type UcpPostalAddress } from './ucp-address.js';

export type Built = { ok: true; checkout: Record<string, unknown> } | { ok: false; message: string };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The instrument id we give the one instrument we send (UCP requires one; the business does not know ours). */
export const INSTRUMENT_ID = 'instrument_1';

function lineItems(items: CreateInput['items']): Json[] {
  return items.map((item) => ({ item: { id: item.id }, quantity: item.quantity }));
}

function buyerOf(buyer: NonNullable<CreateInput['buyer']>): Json {
  // UCP's buyer has first_name, last_name, email and phone_number; a full name alone is kept as it is.
  const out: Json = { email: buyer.email };
  for (const field of ['first_name', 'last_name', 'phone_number', 'full_name'] as const) if (buyer[field] !== undefined) out[field] = buyer[field];
  return out;
}

function destinationOf(details: FulfillmentDetails): UcpPostalAddress | undefined {
  return details.address ? toPostal(details.address, details.phone_number) : undefined;
}

export function createBody(input: CreateInput): Built {
  const checkout: Json = {
    line_items: lineItems(input.items),
    // UCP lets the business set the currency; context tells it which one the buyer asked for.
    context: { currency: input.currency.toUpperCase() },
  };
  if (input.buyer !== undefined) checkout.buyer = buyerOf(input.buyer);
  const destination = input.fulfillment_details && destinationOf(input.fulfillment_details);
  if (destination) checkout.fulfillment = { methods: [{ type: 'shipping', destinations: [destination] }] };
  return { ok: true, checkout };
}

/** The platform's part of a method as the business shows it (ids it gave, our destination, the chosen options). */
function methodsOf(current: Json): Json[] {
  const fulfillment = isObject(current.fulfillment) ? current.fulfillment : undefined;
  const methods = Array.isArray(fulfillment?.methods) ? fulfillment.methods.filter(isObject) : [];
  return methods.map((method) => {
    const out: Json = {};
    if (typeof method.id === 'string') out.id = method.id;
    if (typeof method.type === 'string') out.type = method.type;
    out.line_item_ids = Array.isArray(method.line_item_ids) ? method.line_item_ids.filter((id) => typeof id === 'string') : [];
    const destinations = Array.isArray(method.destinations) ? method.destinations.filter(isObject) : [];
    const chosen = destinations.find((d) => d.id === method.selected_destination_id) ?? destinations[0];
    if (chosen) {
      const { id: _merchants, ...postal } = chosen;
      out.destinations = [postal];
    }
    const groups = Array.isArray(method.groups) ? method.groups.filter(isObject) : [];
    const picked = groups.filter((g) => typeof g.id === 'string').map((g) => ({ id: g.id, selected_option_id: typeof g.selected_option_id === 'string' ? g.selected_option_id : null }));
    if (picked.length > 0) out.groups = picked;
    return out;
  });
}

/** The line items as the business holds them, in the platform's words (item id and quantity). */
function currentItems(current: Json): Json[] {
  const lines = Array.isArray(current.line_items) ? current.line_items.filter(isObject) : [];
  return lines.filter((line) => isObject(line.item) && typeof line.item.id === 'string').map((line) => ({ item: { id: (line.item as Json).id }, quantity: line.quantity }));
}

export function updateBody(current: unknown, input: UpdateInput): Built {
  if (!isObject(current)) return { ok: false, message: 'The checkout could not be read to update it.' };
  const checkout: Json = { line_items: input.items !== undefined ? lineItems(input.items) : currentItems(current) };
  const buyer = input.buyer === undefined ? (isObject(current.buyer) ? current.buyer : undefined) : input.buyer === null ? undefined : buyerOf(input.buyer);
  if (buyer) checkout.buyer = buyer;

  let methods = methodsOf(current);
  if (input.items !== undefined) {
    // New items: each method serves the lines of the items still there (new lines get ids from the business).
    const kept = new Set(input.items.map((item) => item.id));
    const lineIdOf = new Map<string, string>();
    for (const line of Array.isArray(current.line_items) ? current.line_items.filter(isObject) : []) {
      if (isObject(line.item) && typeof line.id === 'string') lineIdOf.set(String(line.item.id), line.id);
    }
    methods = methods.map((method) => ({
      ...method,
      line_item_ids: [...kept].map((id) => lineIdOf.get(id)).filter((id): id is string => id !== undefined),
    }));
  }
  if (input.fulfillment_details === null) methods = [];
  else if (input.fulfillment_details !== undefined) {
    const destination = destinationOf(input.fulfillment_details);
    if (!destination) return { ok: false, message: 'UCP businesses ship to an address: fulfillment_details needs an address.' };
    methods = methods.length > 0 ? methods.map((m, i) => (i === 0 ? { ...m, destinations: [destination] } : m)) : [{ type: 'shipping', line_item_ids: [], destinations: [destination] }];
  }
  if (input.selected_fulfillment_options === null) {
    methods = methods.map((m) => (Array.isArray(m.groups) ? { ...m, groups: (m.groups as Json[]).map((g) => ({ ...g, selected_option_id: null })) } : m));
  } else if (input.selected_fulfillment_options !== undefined) {
    const wanted = input.selected_fulfillment_options.map((o) => o.option_id);
    const fulfillment = isObject(current.fulfillment) ? current.fulfillment : {};
    const offered = (Array.isArray(fulfillment.methods) ? fulfillment.methods.filter(isObject) : []).flatMap((m) =>
      (Array.isArray(m.groups) ? m.groups.filter(isObject) : []).map((g) => ({ group: g.id, options: (Array.isArray(g.options) ? g.options.filter(isObject) : []).map((o) => o.id) })),
    );
    for (const option of wanted) {
      const group = offered.find((g) => g.options.includes(option));
      if (!group || typeof group.group !== 'string') {
        return { ok: false, message: `The business offers no fulfillment option "${option}" for this checkout; choose one of its fulfillment_options.` };
      }
      methods = methods.map((m) => (Array.isArray(m.groups) ? { ...m, groups: (m.groups as Json[]).map((g) => (g.id === group.group ? { ...g, selected_option_id: option } : g)) } : m));
    }
  }
  if (methods.length > 0) checkout.fulfillment = { methods };

  const currentCodes = isObject(current.discounts) && Array.isArray(current.discounts.codes) ? current.discounts.codes.filter((c) => typeof c === 'string') : [];
  const codes = input.discounts === undefined ? currentCodes : input.discounts === null ? [] : input.discounts.codes;
  if (codes.length > 0 || isObject(current.discounts)) checkout.discounts = { codes };
  return { ok: true, checkout };
}

export function completeBody(input: CompleteInput): Built {
  if (input.buyer !== undefined) {
    return { ok: false, message: 'UCP businesses take the buyer before payment: call update_checkout with the buyer, then complete_checkout without it.' };
  }
  const { handler_id: handlerId, instrument } = input.payment_data;
  if (handlerId === undefined) {
    return { ok: false, message: "UCP businesses need payment_data.handler_id: pass the id of one of the business's payment handlers (the checkout's capabilities.payment.handlers)." };
  }
  return {
    ok: true,
    checkout: {
      payment: {
        instruments: [
          {
            id: INSTRUMENT_ID,
            handler_id: handlerId,
            type: instrument.type,
            selected: true,
            credential: { type: instrument.credential.type, token: instrument.credential.token },
          },
        ],
      },
    },
  };
}
