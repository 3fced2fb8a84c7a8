import { z } from 'zod';
import { defineTool } from '../src/tool-definition.js';
import { buyer, checkoutSessionId, paymentData, SAFE_TO_REPEAT } from './schema-parts.js';

export const completeCheckout = defineTool({
  name: 'complete_checkout',
  title: 'Complete checkout (pay)',
  description: [
    'Pay for a checkout that is ready_for_payment and place the order; returns the checkout with its order.',
    'A checkout is paid at most once: calling this again, even after a timeout or with other payment data, returns the same order and charges nothing more.',
    'After a declined payment, calling again with a different payment method really tries again (at most 3 attempts).',
    SAFE_TO_REPEAT,
  ].join(' '),
  input: z.strictObject({
    checkout_session_id: checkoutSessionId,
    payment_data: paymentData,
    buyer: buyer.optional(),
  }),
  annotations: { title: 'Complete checkout (pay)', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handle: ({ checkout_session_id, ...payment }, { principal, checkouts, hooks }) =>
    checkouts.complete(principal, checkout_session_id, payment, hooks),
});
