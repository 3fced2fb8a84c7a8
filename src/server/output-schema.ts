// The one result schema every tool answers with: what MCP clients validate `structuredContent` against.
import { z } from 'zod';

// Loose objects: merchants add fields, and a client must not reject them.
const total = z.looseObject({ type: z.string(), display_text: z.string(), amount: z.number().int() });

const checkoutOutput = z.looseObject({
  id: z.string(),
  status: z.string(),
  currency: z.string(),
  line_items: z.array(z.looseObject({ id: z.string(), quantity: z.number().int() })),
  totals: z.array(total),
  fulfillment_options: z.array(z.looseObject({ id: z.string(), type: z.string() })),
  messages: z.array(z.looseObject({ type: z.string() })),
  links: z.array(z.looseObject({ type: z.string(), url: z.string() })),
  order: z.looseObject({ id: z.string(), checkout_session_id: z.string(), permalink_url: z.string() }).optional(),
});

const idempotencyOutput = z.strictObject({
  key: z.string().describe('The ledger record key (see `once-checkout ledger show KEY`).'),
  outbound_key: z
    .string()
    .optional()
    .describe('The Idempotency-Key the merchant saw for this attempt (get_checkout: for the create; left out when no longer known).'),
  outcome: z.enum(['succeeded', 'failed', 'pending', 'unknown']),
  replayed: z.boolean().describe('True when this is the recorded outcome of an earlier call, not a new action.'),
  attempt: z.number().int().optional().describe('Which attempt this is (get_checkout: the create\'s; left out when no longer known).'),
  first_seen_at: z.string().describe('When the first call for this intent arrived (ISO 8601).'),
});

const errorOutput = z.strictObject({
  type: z.enum(['invalid_request', 'payment_error', 'merchant_error', 'service_unavailable']),
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  merchant_code: z
    .string()
    .optional()
    .describe("The merchant's own error code, when the merchant refused (code is then merchant_error); data, never one of our codes."),
  cause: z
    .string()
    .optional()
    .describe('store_unavailable only: why the ledger store failed (unreachable, timeout, busy: retry soon; authentication, missing_database, permission, bad_path, …: retrying cannot help).'),
});

/** Success `{checkout, idempotency}` or failure `{error}`: clients validate both against the one schema. */
export const resultOutput = z.strictObject({
  checkout: checkoutOutput.optional(),
  idempotency: idempotencyOutput.optional(),
  error: errorOutput.optional(),
});
