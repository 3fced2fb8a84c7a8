// OUR schema of an order a merchant tells us about (ACP 2026-04-17 Order, rfc.orders.md), and how two states of
// one order are put in order. A signed event proves who sent it, not that what it says is well-formed: every
// string is data (controls stripped, capped), every amount an integer of minor units, every URL https (http
// only on loopback) or dropped, ids one line. Status and type fields are open strings (the RFC says unknown
// values must be accepted), kept as data.
import { z } from 'zod';
import { digest } from '../ledger/keys.js';
import { cleanDeep, isAcceptedUrl } from '../commerce/merchant-session.js';

const DATA_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

const data = (max: number) => z.string().max(max).transform((s) => s.replace(DATA_CONTROL, ''));
const id = z.string().min(1).max(256).refine((s) => !ANY_CONTROL.test(s), 'must not contain control characters');
/** A URL we would not pass on is dropped, not a reason to refuse the order. */
const optionalUrl = z.unknown().transform((u) => (isAcceptedUrl(u) ? u : undefined)).optional();
const minorUnits = z.number().int().refine(Number.isSafeInteger, 'must be an integer number of minor units');
const count = z.number().int().min(0).max(1_000_000);
/** ISO 8601 text; kept as written (compared as a time only when it parses). */
const instant = data(64);
const openEnum = data(64);

/** Anything else (addresses, estimates, support details): plain JSON with controls stripped, bounded. */
const json = z.unknown().transform((v) => cleanDeep(v));

const total = z.object({ type: openEnum, display_text: data(256), amount: minorUnits });
const reference = z.object({ id, quantity: z.number().int() });

const lineItem = z.object({
  id,
  title: data(512),
  product_id: data(256).optional(),
  description: data(2048).optional(),
  image_url: optionalUrl,
  url: optionalUrl,
  quantity: z.object({ ordered: count, current: count, fulfilled: count.optional() }),
  unit_price: minorUnits.optional(),
  subtotal: minorUnits.optional(),
  totals: z.array(total).max(50).optional(),
  status: openEnum.optional(),
});

const fulfillmentEvent = z.object({ id, type: openEnum, occurred_at: instant, description: data(1024).optional(), location: data(256).optional() });

const fulfillment = z.object({
  id,
  type: openEnum,
  status: openEnum.optional(),
  line_items: z.array(reference).max(1000).optional(),
  carrier: data(128).optional(),
  tracking_number: data(128).optional(),
  tracking_url: optionalUrl,
  destination: json.optional(),
  estimated_delivery: json.optional(),
  digital_delivery: z
    .object({ access_url: optionalUrl, license_key: data(512).optional(), expires_at: instant.optional() })
    .optional(),
  description: data(1024).optional(),
  events: z.array(fulfillmentEvent).max(500).optional(),
});

const adjustment = z.object({
  id,
  type: openEnum,
  occurred_at: instant,
  status: openEnum,
  line_items: z.array(reference).max(1000).optional(),
  amount: minorUnits.optional(),
  currency: data(8).optional(),
  description: data(1024).optional(),
  reason: data(256).optional(),
});

const order = z.object({
  type: z.literal('order').optional(),
  id,
  checkout_session_id: id,
  permalink_url: z.string().refine(isAcceptedUrl, 'must be an https URL (http only for a loopback host)'),
  order_number: data(128).optional(),
  status: openEnum.optional(),
  estimated_delivery: json.optional(),
  confirmation: json.optional(),
  support: json.optional(),
  line_items: z.array(lineItem).max(1000).optional(),
  fulfillments: z.array(fulfillment).max(200).optional(),
  adjustments: z.array(adjustment).max(500).optional(),
  totals: z.array(total).max(50).optional(),
});

export type MerchantOrder = z.infer<typeof order>;

const event = z.object({ type: data(64), data: z.unknown() });

export type ParsedEvent = { ok: true; type: string; order: MerchantOrder } | { ok: false; problem: string; param?: string };

/** A webhook body `{type, data}` with `data` an order we accept; the problem (and its JSONPath) otherwise. */
export function parseOrderEvent(body: unknown): ParsedEvent {
  const envelope = event.safeParse(body);
  if (!envelope.success) return { ok: false, problem: 'the event must be an object with a string type and the order in data', param: '$' };
  const parsed = parseMerchantOrder(envelope.data.data);
  if (!parsed.ok) return { ok: false, problem: parsed.problem, param: parsed.param };
  return { ok: true, type: envelope.data.type.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64) || 'unspecified', order: parsed.order };
}

export function parseMerchantOrder(value: unknown): { ok: true; order: MerchantOrder } | { ok: false; problem: string; param: string } {
  const parsed = order.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return { ok: false, problem: `data${path}: ${issue.message}`, param: `$.data${path}` };
  }
  return { ok: true, order: dropUndefined(parsed.data) as MerchantOrder };
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, dropUndefined(v)]));
  }
  return value;
}

/** One state of an order, as a short digest of its canonical JSON: equal states, equal digests. */
export function orderDigest(value: MerchantOrder): string {
  return digest(value).slice(0, 32);
}

// --- Which of two states of one order is newer. ACP orders carry no version and no updated_at, so the order
// is read from what only grows: the status along its life, fulfillment events (an append-only log), each
// fulfillment's and adjustment's own status, quantities fulfilled.

const ORDER_STATUS_RANK: Record<string, number> = {
  created: 0,
  confirmed: 1,
  manual_review: 1,
  processing: 2,
  shipped: 3,
  completed: 4,
  canceled: 4,
};
const FULFILLMENT_STATUS_RANK: Record<string, number> = {
  pending: 0,
  processing: 1,
  shipped: 2,
  in_transit: 3,
  out_for_delivery: 4,
  ready_for_pickup: 4,
  delivered: 5,
  failed: 5,
  canceled: 5,
};
const ADJUSTMENT_STATUS_RANK: Record<string, number> = { pending: 0, completed: 1, failed: 1 };

export type Precedence = 'newer' | 'older' | 'same' | 'conflict';

/** Is `next` a later state of the order than `current`, by progress alone? */
export function progressOf(current: MerchantOrder, next: MerchantOrder): Precedence {
  let ahead = false;
  let behind = false;
  const compare = (a: number | undefined, b: number | undefined) => {
    if (a === undefined || b === undefined || a === b) return;
    if (b > a) ahead = true;
    else behind = true;
  };
  compare(rank(ORDER_STATUS_RANK, current.status), rank(ORDER_STATUS_RANK, next.status));
  const eventsOf = (o: MerchantOrder) => new Set((o.fulfillments ?? []).flatMap((f) => (f.events ?? []).map((e) => `${f.id}/${e.id}`)));
  const [before, after] = [eventsOf(current), eventsOf(next)];
  if ([...before].some((e) => !after.has(e))) behind = true;
  if ([...after].some((e) => !before.has(e))) ahead = true;
  const byId = <T extends { id: string }>(items: T[] | undefined) => new Map((items ?? []).map((i) => [i.id, i]));
  const fulfillmentsBefore = byId(current.fulfillments);
  for (const f of next.fulfillments ?? []) {
    const old = fulfillmentsBefore.get(f.id);
    if (old) compare(rank(FULFILLMENT_STATUS_RANK, old.status), rank(FULFILLMENT_STATUS_RANK, f.status));
  }
  const adjustmentsBefore = byId(current.adjustments);
  const adjustmentsAfter = byId(next.adjustments);
  if ([...adjustmentsBefore.keys()].some((k) => !adjustmentsAfter.has(k))) behind = true;
  for (const a of next.adjustments ?? []) {
    const old = adjustmentsBefore.get(a.id);
    if (!old) ahead = true;
    else compare(rank(ADJUSTMENT_STATUS_RANK, old.status), rank(ADJUSTMENT_STATUS_RANK, a.status));
  }
  const fulfilled = (o: MerchantOrder) => (o.line_items ?? []).reduce((sum, l) => sum + (l.quantity.fulfilled ?? 0), 0);
  compare(fulfilled(current), fulfilled(next));
  if (ahead && behind) return 'conflict';
  return ahead ? 'newer' : behind ? 'older' : 'same';
}

/** The latest time the order itself names (fulfillment events, adjustments), ms; 0 when none parses. */
export function latestTimeOf(value: MerchantOrder): number {
  const times = [
    ...(value.fulfillments ?? []).flatMap((f) => (f.events ?? []).map((e) => e.occurred_at)),
    ...(value.adjustments ?? []).map((a) => a.occurred_at),
  ]
    .map((t) => Date.parse(t))
    .filter((t) => Number.isFinite(t));
  return times.length === 0 ? 0 : Math.max(...times);
}

/**
 * Should `next` (signed at `nextSignedAt`) replace `current` (signed at `currentSignedAt`)? Progress decides;
 * when it cannot (the same progress, or each ahead somewhere), the latest time the order names, then the later
 * signature. Never an older state over a newer one as far as the order itself can tell.
 */
export function supersedes(current: MerchantOrder, currentSignedAt: number, next: MerchantOrder, nextSignedAt: number): boolean {
  const progress = progressOf(current, next);
  if (progress === 'newer') return true;
  if (progress === 'older') return false;
  const [a, b] = [latestTimeOf(current), latestTimeOf(next)];
  if (a !== b) return b > a;
  return nextSignedAt > currentSignedAt;
}

function rank(table: Record<string, number>, status: string | undefined): number | undefined {
  return status === undefined ? undefined : table[status];
}
