// OUR schema of what we accept from an ACP merchant as a checkout session. A merchant chooses every string and
// number it returns, so nothing of it is used before it passes here: the status is one we know, every amount
// an integer of minor units (never "2,500.00", 25.5 or NaN), the currency an ISO 4217 code (lower-cased),
// every URL https (http only on a loopback host), ids one line. Strings that are only data have their control
// characters stripped. Fields we do not use are dropped. What does not parse is the merchant's error.
import { z } from 'zod';
import { safeCode } from './merchant-text.js';
import type { CheckoutSession } from './session.js';

export const CHECKOUT_STATUSES = [
  'incomplete',
  'not_ready_for_payment',
  'requires_escalation',
  'authentication_required',
  'ready_for_payment',
  'pending_approval',
  'complete_in_progress',
  'completed',
  'canceled',
  'in_progress',
  'expired',
] as const satisfies readonly CheckoutSession['status'][];

const KNOWN_STATUSES: ReadonlySet<string> = new Set(CHECKOUT_STATUSES);

export function isCheckoutStatus(value: unknown): value is CheckoutSession['status'] {
  return typeof value === 'string' && KNOWN_STATUSES.has(value);
}

/**
 * The total types we keep (ACP 2026-04-17 also has gift_wrap, tip, store_credit, amount_refunded); entries of
 * any other type are dropped: we act on `total` only, and the dropped ones are shown nowhere.
 */
const TOTAL_TYPES = [
  'items_base_amount',
  'items_discount',
  'subtotal',
  'discount',
  'fulfillment',
  'tax',
  'fee',
  'total',
] as const satisfies readonly CheckoutSession['totals'][number]['type'][];
const KNOWN_TOTAL_TYPES: ReadonlySet<string> = new Set(TOTAL_TYPES);
/** Only these may be negative (a merchant may write a reduction either way); every other amount is ≥ 0. */
const MAY_BE_NEGATIVE: ReadonlySet<string> = new Set(['items_discount', 'discount']);

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency').map((c) => c.toLowerCase()));

/** Controls other than new line and tab (which JSON escapes), DEL, C1, separators, zero-width and bidi marks. */
const DATA_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

/** Is this URL one we pass on: https, or http to a loopback host (a local test merchant), no credentials in it. */
export function isAcceptedUrl(text: unknown): text is string {
  if (typeof text !== 'string' || text.length > 2048 || ANY_CONTROL.test(text)) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (url.protocol === 'https:') return url.hostname !== '';
  if (url.protocol === 'http:') return isLoopback(url.hostname);
  return false;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Data text: kept as the merchant wrote it, minus control characters, capped. */
const data = (max: number) => z.string().max(max, `must be at most ${max} characters`).transform((s) => s.replace(DATA_CONTROL, ''));

/** An id we send back in URLs and show in sentences: one line, bounded, not empty. */
const id = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .refine((s) => !ANY_CONTROL.test(s), 'must not contain control characters');

const url = z.string().refine(isAcceptedUrl, 'must be an https URL (http only for a loopback host)');

const minorUnits = z
  .number('must be an integer number of minor units')
  .int('must be an integer number of minor units')
  .refine(Number.isSafeInteger, 'must be an integer number of minor units');
const nonNegative = minorUnits.refine((n) => n >= 0, 'must not be negative');

const total = z
  .object({ type: z.enum(TOTAL_TYPES), display_text: data(256), amount: minorUnits })
  .refine((t) => t.amount >= 0 || MAY_BE_NEGATIVE.has(t.type), { message: 'must not be negative', path: ['amount'] });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Totals of a type ACP does not define are dropped; the ones we know must be valid. */
const totals = z.preprocess(
  (value) => (Array.isArray(value) ? value.filter((t) => !(isObject(t) && typeof t.type === 'string' && !KNOWN_TOTAL_TYPES.has(t.type))) : value),
  z.array(total).max(100),
);

const currency = z
  .string('must be a three-letter ISO 4217 code')
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code')
  .transform((c) => c.toLowerCase())
  .refine((c) => CURRENCIES.has(c), 'is not an ISO 4217 currency code');

const fulfillmentType = z.enum(['shipping', 'digital', 'pickup', 'local_delivery']);

const lineItem = z.object({
  id,
  item: z.object({ id, name: data(512).optional(), unit_amount: nonNegative.optional() }),
  quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'is too large'),
  name: data(512).optional(),
  unit_amount: nonNegative.optional(),
  totals: totals.optional(),
});

const fulfillmentOption = z.object({
  type: fulfillmentType,
  id,
  title: data(256),
  description: data(1024).optional(),
  totals,
});

const selectedFulfillmentOption = z.object({ type: fulfillmentType, option_id: id, item_ids: z.array(id).max(1000) });

const contentType = z.enum(['plain', 'markdown']);
/** A merchant's message code is data: reduced to code characters, case kept (it is never one of ours). */
const messageCode = z.string().max(128).transform(safeCode);
const message = z.discriminatedUnion('type', [
  z.object({ type: z.literal('info'), content_type: contentType, content: data(4000), param: data(256).optional() }),
  z.object({ type: z.literal('warning'), code: messageCode, content_type: contentType, content: data(4000), param: data(256).optional() }),
  z.object({ type: z.literal('error'), code: messageCode, content_type: contentType, content: data(4000), param: data(256).optional() }),
]);

/** Links whose URL we would not pass on are dropped (they are advice, not the purchase). */
const links = z.preprocess(
  (value) => (Array.isArray(value) ? value.filter((l) => !isObject(l) || isAcceptedUrl(l.url)) : value),
  z.array(z.object({ type: data(64), url, title: data(256).optional() })).max(100),
);

const order = z.object({ id, checkout_session_id: id, permalink_url: url, status: data(64).optional() });

const address = z.object({
  name: data(256),
  line_one: data(256),
  line_two: data(256).optional(),
  city: data(128),
  state: data(128),
  country: data(8),
  postal_code: data(32),
});
const buyer = z.object({
  email: data(254),
  first_name: data(128).optional(),
  last_name: data(128).optional(),
  full_name: data(256).optional(),
  phone_number: data(64).optional(),
});
const fulfillmentDetails = z.object({
  name: data(256).optional(),
  phone_number: data(64).optional(),
  email: data(254).optional(),
  address: address.optional(),
});

/** Any JSON, with control characters stripped from every string (capabilities carry handler ids we pass on). */
export function cleanDeep(value: unknown, depth = 0): unknown {
  if (depth > 16) return undefined;
  if (typeof value === 'string') return value.replace(DATA_CONTROL, '');
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => cleanDeep(v, depth + 1));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(DATA_CONTROL, ''), cleanDeep(v, depth + 1)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' || value === null ? value : undefined;
}

const session = z
  .object({
    id,
    status: z.string('must be a checkout status').refine(isCheckoutStatus, 'is not a checkout status we know'),
    currency,
    line_items: z.array(lineItem).max(1000).default([]),
    totals: totals.default([]),
    fulfillment_options: z.array(fulfillmentOption).max(100).default([]),
    selected_fulfillment_options: z.array(selectedFulfillmentOption).max(100).optional(),
    messages: z.array(message).max(100).default([]),
    links: links.default([]),
    // Echoes of what we sent: a malformed echo is dropped, not a reason to refuse the session.
    buyer: buyer.optional().catch(undefined),
    fulfillment_details: fulfillmentDetails.optional().catch(undefined),
    order: order.optional(),
    /** Where a person goes to act on the checkout; a URL we would not pass on is dropped. */
    continue_url: z.unknown().transform((u) => (isAcceptedUrl(u) ? u : undefined)).optional(),
    created_at: data(64).optional().catch(undefined),
    updated_at: data(64).optional().catch(undefined),
    // ACP requires these in every session; they carry no amounts and no URLs we act on.
    protocol: z.object({ version: data(32) }).optional().catch(undefined),
    capabilities: z.record(z.string(), z.unknown()).transform((c) => cleanDeep(c) as Record<string, unknown>).optional().catch(undefined),
  })
  .refine((s) => s.totals.filter((t) => t.type === 'total').length <= 1, {
    message: 'must hold at most one entry of type total',
    path: ['totals'],
  });

export type MerchantSession = CheckoutSession & { protocol?: { version: string }; capabilities?: Record<string, unknown> };

export type ParsedSession = { ok: true; session: MerchantSession } | { ok: false; problem: string };

/** Is this body even meant as a session (an object with an id and a status)? Then a failed parse is the merchant's error. */
export function looksLikeSession(body: unknown): boolean {
  return isObject(body) && 'id' in body && 'status' in body;
}

/** The merchant's body as a session we accept, or the first problems, each naming its field. */
export function parseMerchantSession(body: unknown): ParsedSession {
  const parsed = session.safeParse(body);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
  const value = parsed.data;
  // ACP 2026-01-30+: `currency` is the settlement currency; a different `presentment_currency` is what the buyer is
  // charged in. Our amounts would then not be the charge: no usable total (R14), so the cap and confirmation fail closed.
  if (chargedInAnotherCurrency(body, value.currency)) value.totals = value.totals.filter((t) => t.type !== 'total');
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = field;
  return { ok: true, session: out as unknown as MerchantSession };
}

function chargedInAnotherCurrency(body: unknown, currency: string): boolean {
  if (!isObject(body) || body.presentment_currency === undefined || body.presentment_currency === null) return false;
  return typeof body.presentment_currency !== 'string' || body.presentment_currency.toLowerCase() !== currency;
}

function describeIssues(error: z.ZodError): string {
  const problems = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    return `${path === '' ? 'session' : path}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return `${problems.join('; ')}${more}`;
}
