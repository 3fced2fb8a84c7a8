// Schema pieces the five tools share: what an agent may send, and the result shape every tool returns.
import { z } from 'zod';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency').map((c) => c.toLowerCase()));

/** A bounded, non-empty string: a 10 kB string is a mistake, not a name. */
export const text = (max = 256) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const checkoutSessionId = text(128).describe('The checkout_session_id that create_checkout returned.');

export const item = z
  .strictObject({
    id: text(128).describe('Catalog item id, e.g. "sku_tshirt" (a Price id on Stripe).'),
    quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(999, 'must be at most 999'),
  })
  .describe('One line: which item and how many.');

export const items = z.array(item).min(1, 'must list at least one item').max(100, 'must list at most 100 items');

export const currency = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code such as "usd"')
  .refine((c) => CURRENCIES.has(c.toLowerCase()), 'is not an ISO 4217 currency code')
  .describe('ISO 4217 currency code, e.g. "usd".');

export const buyer = z
  .strictObject({
    email: z.email('must be an email address').max(254),
    first_name: text(128).optional(),
    last_name: text(128).optional(),
    full_name: text(256).optional(),
    phone_number: text(32).optional(),
  })
  .describe('Who is buying.');

export const address = z.strictObject({
  name: text(256),
  line_one: text(256),
  line_two: text(256).optional(),
  city: text(128),
  state: text(128),
  country: z.string().trim().regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO 3166 country code such as "US"'),
  postal_code: text(32),
});

export const fulfillmentDetails = z
  .strictObject({
    name: text(256).optional(),
    phone_number: text(32).optional(),
    email: z.email('must be an email address').max(254).optional(),
    address: address.optional(),
  })
  .describe('Where and to whom the order goes.');

export const selectedFulfillmentOption = z.strictObject({
  type: z.enum(['shipping', 'digital', 'pickup', 'local_delivery']),
  option_id: text(128),
  item_ids: z.array(text(128)).max(100),
});

export const paymentData = z
  .strictObject({
    handler_id: text(128)
      .optional()
      .describe("The merchant's payment handler id (capabilities.payment.handlers[].id); leave it out when the merchant offers one handler for this instrument."),
    instrument: z.strictObject({
      type: text(64).describe('Instrument type, e.g. "card".'),
      credential: z.strictObject({
        type: text(64).describe('Credential type, e.g. "spt" or "payment_method".'),
        token: text(512).describe('The payment token the person or their wallet gave you; never a card number.'),
      }),
    }),
  })
  .describe('How to pay: a token from the buyer\'s wallet or PSP, never raw card data.');

// What the tools answer. Loose objects: merchants add fields, and a client must not reject them.
const total = z.looseObject({ type: z.string(), display_text: z.string(), amount: z.number().int() });

export const checkoutOutput = z.looseObject({
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

export const idempotencyOutput = z.strictObject({
  key: z.string().describe('The ledger record key (see `once-checkout ledger show KEY`).'),
  outbound_key: z.string().describe('The Idempotency-Key the merchant saw for this attempt.'),
  outcome: z.enum(['succeeded', 'failed', 'pending', 'unknown']),
  replayed: z.boolean().describe('True when this is the recorded outcome of an earlier call, not a new action.'),
  attempt: z.number().int(),
  first_seen_at: z.string().describe('When the first call for this intent arrived (ISO 8601).'),
});

export const errorOutput = z.strictObject({
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

export const SAFE_TO_REPEAT =
  'Calling this again with the same arguments is safe: it returns the same checkout or order and never acts twice (the result says replayed: true). Never invent idempotency keys; once-checkout derives them.';
