import { z } from 'zod';
import { defineTool } from '../src/tool-definition.js';
import { checkoutSessionId, SAFE_TO_REPEAT, text } from './schema-parts.js';

export const cancelCheckout = defineTool({
  name: 'cancel_checkout',
  title: 'Cancel checkout',
  description: ['Cancel an open checkout so it can no longer be paid. A completed checkout cannot be canceled.', SAFE_TO_REPEAT].join(' '),
  input: z.strictObject({
    checkout_session_id: checkoutSessionId,
    reason: text(500).optional().describe('Why, in a few words.'),
  }),
  annotations: { title: 'Cancel checkout', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handle: ({ checkout_session_id, reason }, { principal, checkouts, hooks }) =>
    checkouts.cancel(principal, checkout_session_id, { reason }, hooks),
});
