import { z } from 'zod';
import { defineTool } from '../src/tool-definition.js';
import { buyer, currency, fulfillmentDetails, items, SAFE_TO_REPEAT, text } from './schema-parts.js';

export const createCheckout = defineTool({
  name: 'create_checkout',
  title: 'Create checkout',
  description: [
    'Start a checkout with a merchant for the given items and currency; returns the checkout session with its line items, totals and fulfillment options.',
    SAFE_TO_REPEAT,
    'To buy the same items again as a separate order, pass a new task_id; the same task_id with a different cart is refused (use update_checkout to change a cart).',
  ].join(' '),
  input: z.strictObject({
    items: items.describe('What to buy: 1–100 lines of {id, quantity}. The same id twice is merged.'),
    currency,
    buyer: buyer.optional(),
    fulfillment_details: fulfillmentDetails.optional(),
    task_id: text(128)
      .optional()
      .describe('Optional name of the agent task this purchase belongs to. A new task_id makes a deliberate second order of the same cart.'),
  }),
  annotations: { title: 'Create checkout', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handle: (args, { principal, checkouts, hooks }) => checkouts.create(principal, args, hooks),
});
