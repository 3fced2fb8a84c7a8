import { z } from 'zod';
import { defineTool } from '../src/tool-definition.js';
import { checkoutSessionId } from './schema-parts.js';

export const getCheckout = defineTool({
  name: 'get_checkout',
  title: 'Get checkout',
  description: 'Read the current state of a checkout (status, totals, order) from the merchant. Changes nothing.',
  input: z.strictObject({ checkout_session_id: checkoutSessionId }),
  annotations: { title: 'Get checkout', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handle: ({ checkout_session_id }, { principal, checkouts }) => checkouts.get(principal, checkout_session_id),
});
