// Benchmark only: a tool that touches neither the ledger nor a backend and answers a fixed checkout the size of
// the sandbox's, so `create_checkout` replays over MCP stdio can be compared with the protocol's own floor.
import { z } from 'zod';
import { SANDBOX_HANDLERS } from '../backends/sandbox/cart.js';
import type { CheckoutResult } from '../checkout/checkouts.js';
import type { CheckoutSession } from '../commerce/session.js';
import { defineTool } from '../tool-definition.js';

const total = (type: 'items_base_amount' | 'subtotal' | 'tax' | 'total', display_text: string, amount: number) => ({ type, display_text, amount });
const lineTotals = (base: number, tax: number) => [
  total('items_base_amount', 'Base amount', base),
  total('subtotal', 'Subtotal', base),
  total('tax', 'Tax', tax),
  total('total', 'Total', base + tax),
];

// The sandbox merchant's answer to the bench's cart, field for field: the floor carries the same bytes as the
// replay it is compared with (a smaller answer would charge the protocol's cost of the extra bytes to the ledger).
const CHECKOUT: CheckoutSession = {
  id: 'cs_bench_noop_0000000000000',
  status: 'not_ready_for_payment',
  currency: 'usd',
  line_items: [
    { id: 'li_sku_mug', item: { id: 'sku_mug' }, quantity: 1, name: 'Sandbox Mug', unit_amount: 1400, totals: lineTotals(1400, 123) },
    { id: 'li_sku_tshirt', item: { id: 'sku_tshirt' }, quantity: 2, name: 'Sandbox T-Shirt', unit_amount: 2500, totals: lineTotals(5000, 438) },
  ] as CheckoutSession['line_items'],
  totals: [
    total('items_base_amount', 'Item(s) total', 6400),
    total('subtotal', 'Subtotal', 6400),
    total('tax', 'Tax (8.75%)', 561),
    total('total', 'Total', 6961),
  ],
  fulfillment_options: [
    { type: 'shipping', id: 'ship_standard', title: 'Standard shipping', description: 'Arrives in 4-6 business days', totals: [total('total', 'Standard shipping', 500)] },
    { type: 'shipping', id: 'ship_express', title: 'Express shipping', description: 'Arrives in 1-2 business days', totals: [total('total', 'Express shipping', 1500)] },
  ],
  messages: [
    { type: 'error', code: 'missing', content_type: 'plain', content: 'A shipping address is required.', param: '$.fulfillment_details.address' },
    { type: 'error', code: 'missing', content_type: 'plain', content: 'Choose a fulfillment option first.', param: '$.selected_fulfillment_options' },
  ],
  links: [
    { type: 'terms_of_use', url: 'https://sandbox.once-checkout.invalid/terms' },
    { type: 'return_policy', url: 'https://sandbox.once-checkout.invalid/returns' },
  ],
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  protocol: { version: '2026-04-17' },
  capabilities: { payment: { handlers: SANDBOX_HANDLERS } },
} as CheckoutSession;

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
