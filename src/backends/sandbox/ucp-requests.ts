// The UCP 2026-04-08 request payloads the sandbox acts on (the `checkout` of create, update and complete),
// checked strictly where the sandbox acts and leniently elsewhere: unknown fields are ignored, as UCP's
// additionalProperties asks, so requests with context, signals or attribution pass.
import { z } from 'zod';

const postalAddress = z.object({
  id: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  street_address: z.string().optional(),
  extended_address: z.string().optional(),
  address_locality: z.string().optional(),
  address_region: z.string().optional(),
  address_country: z.string().optional(),
  postal_code: z.string().optional(),
  phone_number: z.string().optional(),
});

const lineItem = z.object({
  id: z.string().optional(),
  item: z.object({ id: z.string().min(1) }),
  quantity: z.int().min(1).max(999),
});

const buyer = z.object({
  email: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  phone_number: z.string().optional(),
});

const method = z.object({
  id: z.string().optional(),
  type: z.enum(['shipping', 'pickup']).optional(),
  line_item_ids: z.array(z.string()).optional(),
  destinations: z.array(postalAddress).optional(),
  selected_destination_id: z.string().nullable().optional(),
  groups: z.array(z.object({ id: z.string().optional(), selected_option_id: z.string().nullable().optional() })).optional(),
});

const cart = {
  line_items: z.array(lineItem).min(1).max(100),
  buyer: buyer.optional(),
  fulfillment: z.object({ methods: z.array(method).max(10).optional() }).optional(),
  discounts: z.object({ codes: z.array(z.string()).max(20).optional() }).optional(),
};

export const ucpCreateRequest = z.object({ ...cart, context: z.object({ currency: z.string().optional() }).optional() });

/** Update is a full replacement: what is absent is cleared. */
export const ucpUpdateRequest = z.object(cart);

const instrument = z.object({
  id: z.string(),
  handler_id: z.string(),
  type: z.string(),
  selected: z.boolean().optional(),
  credential: z.object({ type: z.string(), token: z.string() }),
});

export const ucpCompleteRequest = z.object({ payment: z.object({ instruments: z.array(instrument).min(1).max(10) }) });

export type UcpUpdateRequest = z.infer<typeof ucpUpdateRequest>;
