// Schema pieces the five tools share: what an agent may send.
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

export const SAFE_TO_REPEAT =
  'Calling this again with the same arguments is safe: it returns the same checkout or order and never acts twice (the result says replayed: true). Never invent idempotency keys; once-checkout derives them.';
