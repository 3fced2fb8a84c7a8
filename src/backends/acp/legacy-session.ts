// Sessions in the shapes of ACP before 2026-01-30, reshaped into today's before our untrusted-merchant parser
// (commerce/merchant-session.ts) reads them: flat line-item amounts become totals, `fulfillment_address`
// becomes `fulfillment_details.address`, a `fulfillment_option_id` or a nested selection becomes the flat one.
// Chosen by what the body holds, not by the version we asked for: some merchants ignore API-Version. Nothing
// here trusts the body; it only moves fields, and the parser judges them after.

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const LINE_AMOUNTS: Array<[string, string]> = [
  ['base_amount', 'items_base_amount'],
  ['discount', 'items_discount'],
  ['subtotal', 'subtotal'],
  ['tax', 'tax'],
  ['total', 'total'],
];

function lineItem(line: unknown): unknown {
  if (!isObject(line) || Array.isArray(line.totals) || line.total === undefined) return line;
  const totals = LINE_AMOUNTS.filter(([field]) => line[field] !== undefined).map(([field, type]) => ({
    type,
    display_text: type,
    amount: line[field],
  }));
  const item = isObject(line.item) ? line.item : {};
  const { quantity: itemQuantity, ...itemRest } = item;
  const out: Json = { ...line, item: itemRest, quantity: line.quantity ?? itemQuantity ?? 1, totals };
  for (const [field] of LINE_AMOUNTS) delete out[field];
  return out;
}

function fulfillmentOption(option: unknown): unknown {
  if (!isObject(option) || Array.isArray(option.totals) || option.total === undefined) return option;
  const { subtotal: _subtotal, tax: _tax, total, subtitle, ...rest } = option;
  const out: Json = { ...rest, totals: [{ type: 'total', display_text: typeof option.title === 'string' ? option.title : 'total', amount: total }] };
  if (out.description === undefined && subtitle !== undefined) out.description = subtitle;
  return out;
}

function selected(option: unknown): unknown {
  if (!isObject(option) || option.option_id !== undefined || typeof option.type !== 'string') return option;
  const inner = option[option.type];
  return isObject(inner) ? { type: option.type, option_id: inner.option_id, item_ids: inner.item_ids } : option;
}

export function reshapeLegacySession(body: unknown): unknown {
  if (!isObject(body)) return body;
  const out: Json = { ...body };
  if (Array.isArray(out.line_items)) out.line_items = out.line_items.map(lineItem);
  if (Array.isArray(out.fulfillment_options)) out.fulfillment_options = out.fulfillment_options.map(fulfillmentOption);
  if (out.fulfillment_address !== undefined) {
    if (out.fulfillment_details === undefined) out.fulfillment_details = { address: out.fulfillment_address };
    delete out.fulfillment_address;
  }
  if (typeof out.fulfillment_option_id === 'string') {
    if (out.selected_fulfillment_options === undefined) {
      const id = out.fulfillment_option_id;
      const offered = Array.isArray(out.fulfillment_options) ? out.fulfillment_options.find((o) => isObject(o) && o.id === id) : undefined;
      const lines = Array.isArray(out.line_items) ? out.line_items.flatMap((l) => (isObject(l) && typeof l.id === 'string' ? [l.id] : [])) : [];
      out.selected_fulfillment_options = [{ type: isObject(offered) ? offered.type : 'shipping', option_id: id, item_ids: lines }];
    }
    delete out.fulfillment_option_id;
  }
  if (Array.isArray(out.selected_fulfillment_options)) out.selected_fulfillment_options = out.selected_fulfillment_options.map(selected);
  return out;
}
