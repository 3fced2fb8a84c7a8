// Benchmark only: a tool that touches neither the ledger nor a backend and answers a fixed checkout of the
// usual size, so `create_checkout` replays over MCP stdio can be compared with the protocol's own floor.
import { z } from 'zod';
import type { CheckoutResult } from '../checkout/checkouts.js';
import type { CheckoutSession } from '../commerce/session.js';
import { defineTool } from '../tool-definition.js';

const total = (type: 'items_base_amount' | 'subtotal' | 'tax' | 'total', amount: number) => ({
  type,
  display_text: type.replace(/_/g, ' '),
  amount,
});

const CHECKOUT: CheckoutSession = {
  id: 'cs_bench_noop',
  status: 'not_ready_for_payment',
  currency: 'usd',
  line_items: [
    { id: 'li_1', item: { id: 'sku_tshirt', name: 'T-shirt', unit_amount: 2000 }, quantity: 2, totals: [total('subtotal', 4000)] },
    { id: 'li_2', item: { id: 'sku_mug', name: 'Mug', unit_amount: 1200 }, quantity: 1, totals: [total('subtotal', 1200)] },
  ],
  totals: [total('items_base_amount', 5200), total('subtotal', 5200), total('tax', 416), total('total', 5616)],
  fulfillment_options: [
    { type: 'shipping', id: 'ship_standard', title: 'Standard shipping', description: '5-7 days', totals: [total('total', 500)] },
    { type: 'shipping', id: 'ship_express', title: 'Express shipping', description: '1-2 days', totals: [total('total', 1500)] },
  ],
  messages: [{ type: 'info', content_type: 'plain', content: 'Add a shipping address to see the final total.' }],
  links: [{ type: 'terms_of_use', url: 'https://merchant.example/terms' }],
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
};

const RESULT: CheckoutResult = {
  ok: true,
  checkout: CHECKOUT,
  idempotency: {
    key: '0'.repeat(64),
    outbound_key: `oc_${'0'.repeat(32)}`,
    outcome: 'succeeded',
    replayed: true,
    attempt: 1,
    first_seen_at: '2026-01-01T00:00:00.000Z',
  },
};

export const benchNoopTool = defineTool({
  name: 'bench_noop',
  title: 'Benchmark no-op',
  description: 'Benchmark only (served by `once-checkout bench`): does nothing and answers a fixed checkout.',
  input: z.looseObject({}),
  annotations: { title: 'Benchmark no-op', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  handle: async () => RESULT,
});
