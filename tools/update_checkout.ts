import { z } from 'zod';
import { defineTool } from '../src/tool-definition.js';
import { buyer, checkoutSessionId, fulfillmentDetails, items, SAFE_TO_REPEAT, selectedFulfillmentOption, text } from './schema-parts.js';

export const updateCheckout = defineTool({
  name: 'update_checkout',
  title: 'Update checkout',
  description: [
    'Change an open checkout: items, buyer, fulfillment details, the selected fulfillment option (e.g. a shipping speed) or discount codes. Omit a field to leave it; pass null to clear it.',
    SAFE_TO_REPEAT,
  ].join(' '),
  input: z.strictObject({
    checkout_session_id: checkoutSessionId,
    items: items.optional().describe('The full new list of lines (replaces the old list).'),
    buyer: buyer.nullable().optional(),
    fulfillment_details: fulfillmentDetails.nullable().optional(),
    selected_fulfillment_options: z.array(selectedFulfillmentOption).max(100).nullable().optional()
      .describe('Which fulfillment option (an id from the checkout\'s fulfillment_options) applies to which line ids.'),
    discounts: z.strictObject({ codes: z.array(text(64)).max(20) }).nullable().optional().describe('Discount codes; replaces any submitted before.'),
  }),
  annotations: { title: 'Update checkout', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handle: ({ checkout_session_id, ...changes }, { principal, checkouts, hooks }) =>
    checkouts.update(principal, checkout_session_id, changes, hooks),
});
