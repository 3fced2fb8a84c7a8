// An ACP checkout session as a merchant answers it, with one line and its total: the body hostile-merchant tests
// then change field by field.

/** A `ready_for_payment` session of one 2500 line; `overrides` replace whole fields. */
export function acpSession(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    status: 'ready_for_payment',
    currency: 'usd',
    line_items: [{ id: 'li_1', item: { id: 'sku_1' }, quantity: 1, unit_amount: 2500 }],
    totals: [{ type: 'total', display_text: 'Total', amount: 2500 }],
    fulfillment_options: [],
    messages: [],
    links: [],
    ...overrides,
  };
}
