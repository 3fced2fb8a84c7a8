// Request bodies the sandbox merchant accepts (ACP 2026-04-17, leniently): unknown fields are ignored, so
// official ACP requests with attribution, consents or notes pass; the fields we act on are checked strictly.
import { z } from 'zod';

const address = z.object({
  name: z.string(),
  line_one: z.string(),
  line_two: z.string().optional(),
  city: z.string(),
  state: z.string(),
  country: z.string(),
  postal_code: z.string(),
});

const buyer = z.object({
  email: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  full_name: z.string().optional(),
  phone_number: z.string().optional(),
});

const fulfillmentDetails = z.object({
  name: z.string().optional(),
  phone_number: z.string().optional(),
  email: z.string().optional(),
  address: address.optional(),
});

/** ACP 2026-04-17 items carry no quantity (an open upstream defect): we accept a `quantity` or repeated ids. */
const item = z.object({ id: z.string().min(1), quantity: z.number().positive().max(999).optional() });

const selectedOption = z.object({
  type: z.enum(['shipping', 'digital', 'pickup', 'local_delivery']),
  option_id: z.string(),
  item_ids: z.array(z.string()),
});

export const createRequest = z.object({
  line_items: z.array(item).min(1).max(100),
  currency: z.string().min(3),
  buyer: buyer.optional(),
  fulfillment_details: fulfillmentDetails.optional(),
  capabilities: z.record(z.string(), z.unknown()).optional(),
});

/** `null` clears a field, an absent field leaves it (R2). */
export const updateRequest = z.object({
  line_items: z.array(item).min(1).max(100).optional(),
  buyer: buyer.nullable().optional(),
  fulfillment_details: fulfillmentDetails.nullable().optional(),
  selected_fulfillment_options: z.array(selectedOption).nullable().optional(),
  discounts: z.object({ codes: z.array(z.string()) }).nullable().optional(),
});

export const completeRequest = z.object({
  payment_data: z.object({
    handler_id: z.string().optional(),
    instrument: z.object({
      type: z.string(),
      credential: z.object({ type: z.string(), token: z.string() }),
    }),
  }),
  buyer: buyer.optional(),
  /** 3-D Secure outcome from the issuer; the sandbox declines when it says `denied`. */
  authentication_result: z.object({ outcome: z.string() }).optional(),
});

export const cancelRequest = z
  .object({ intent_trace: z.object({ reason_code: z.string(), trace_summary: z.string().optional() }).optional() })
  .optional();

export type UpdateRequest = z.infer<typeof updateRequest>;
export type ItemRequest = z.infer<typeof item>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; param: string; message: string };

/** Parses a body; on failure names the first bad field as an RFC 9535 JSONPath for the flat Error's `param`. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): Parsed<T> {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const param = issue.path.reduce<string>(
    (path, part) => (typeof part === 'number' ? `${path}[${part}]` : `${path}.${String(part)}`),
    '$',
  );
  return { ok: false, param, message: `${param}: ${issue.message}` };
}
