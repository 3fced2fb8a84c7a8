// What the ledger knows about one checkout: its anchor head, the create record that produced it, and every
// record hung off its anchor (R5), so any charge can be explained from the ledger alone (R10); and its JSON
// form, which `ledger show --json` and the checkout:// resource both print.
import type { BackendName } from '../backends/backend.js';
import type { Json } from '../ledger/canonical.js';
import { headStoreKey, headsWithId, type AnchorHead, type CheckoutHeads } from './heads.js';
import type { Ledger } from '../ledger/ledger.js';
import type { LedgerRecord, TimelineEvent } from '../ledger/record.js';
import { readOrderEvents, type OrderEventsRecord } from '../orders/order-events.js';

export interface CheckoutHistory {
  head: AnchorHead;
  /** The create record first, then the anchored records by first use. */
  records: LedgerRecord[];
  /** The merchant's order events for this checkout (issue 18), when any came. */
  orderEvents?: OrderEventsRecord;
}

/**
 * The checkout `id` as recorded: at one backend and merchant when given (R15), else the most recently used
 * checkout of that id at any of them; undefined when none.
 */
export async function checkoutHistory(
  ledger: Ledger,
  id: string,
  at?: { backend: BackendName; merchant: string },
): Promise<CheckoutHistory | undefined> {
  let head: AnchorHead | undefined;
  if (at) head = (await ledger.store.get<AnchorHead>(headStoreKey(at.backend, at.merchant, id)))?.value;
  else head = (await headsWithId(ledger.store, id)).sort((a, b) => b.updated_at - a.updated_at)[0];
  if (!head) return undefined;
  const key = headStoreKey(head.backend, head.merchant, id);
  const create = createOf(await ledger.read(head.create_key), head);
  const anchored: LedgerRecord[] = [];
  for await (const record of ledger.records()) {
    if (record.key === head.create_key || record.anchor !== id || record.backend !== head.backend) continue;
    // Records name their head; older ones without it are matched by backend and id.
    if (record.anchor_key === undefined || record.anchor_key === key) anchored.push(record);
  }
  anchored.sort((a, b) => a.first_seen_at - b.first_seen_at);
  const orderEvents = await readOrderEvents(ledger.store, head.backend, head.merchant, id);
  return { head, records: create ? [create, ...anchored] : anchored, ...(orderEvents ? { orderEvents } : {}) };
}

/**
 * The create record as it made this checkout: a create key used again after the window W made another checkout
 * in a new generation of the same record (R3); only this checkout's generation is its history (R10).
 */
function createOf(record: LedgerRecord | undefined, head: AnchorHead): LedgerRecord | undefined {
  if (!record || record.anchor === head.anchor) return record;
  const generations: TimelineEvent[][] = [[]];
  for (const event of record.timeline) {
    if (event.event === 'new_generation') generations.push([]);
    generations.at(-1)!.push(event);
  }
  const own = generations.find((events) => events.some((e) => e.outbound_key !== undefined && e.outbound_key === head.create_outbound_key));
  if (!own) return undefined;
  const last = own.at(-1)!;
  return {
    ...record,
    anchor: head.anchor,
    attempt: head.create_attempt ?? record.attempt,
    outbound_key: head.create_outbound_key ?? record.outbound_key,
    state: { status: 'succeeded', result: head.checkout as unknown as Json },
    first_seen_at: head.first_seen_at,
    updated_at: last.at,
    timeline: own,
  };
}

/** The principal's checkouts at this backend and merchant, most recently updated first, at most `limit`. */
export async function recentCheckouts(heads: CheckoutHeads, principal: string, limit: number): Promise<AnchorHead[]> {
  const found: AnchorHead[] = [];
  for await (const head of heads.all()) {
    if (head.principal === principal) found.push(head);
  }
  return found.sort((a, b) => b.updated_at - a.updated_at).slice(0, limit);
}

/** A record by its full key, or by a unique prefix of it (at least 8 characters, as `ledger list` prints). */
export async function findRecord(ledger: Ledger, key: string): Promise<LedgerRecord | undefined> {
  const exact = await ledger.read(key);
  if (exact || key.length < 8) return exact;
  let found: LedgerRecord | undefined;
  for await (const record of ledger.records()) {
    if (!record.key.startsWith(key)) continue;
    if (found) return undefined; // ambiguous: ask for more of the key
    found = record;
  }
  return found;
}

export interface RecordSummary {
  key: string;
  operation: string;
  status: LedgerRecord['state']['status'];
  principal: string;
  backend: string;
  anchor: string | null;
  attempt: number;
  outbound_key: string;
  /** The checkout the record settled with (status, order), or the failure code, or why it is unknown. */
  result: string;
  first_seen_at: string;
  updated_at: string;
  expires_at: string;
}

export interface TimelineRow {
  at: string;
  /** A ledger operation, or `order` for a merchant's order event (issue 18). */
  operation: string;
  record: string;
  /** null on an order event line. */
  attempt: number | null;
  /** A ledger event, or the order event's type (`order_create`, `order_update`, …). */
  event: TimelineEvent['event'] | string;
  outbound_key: string | null;
  provider_request_id: string | null;
  code: string | null;
  detail: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function summarize(record: LedgerRecord): RecordSummary {
  return {
    key: record.key,
    operation: record.operation,
    status: record.state.status,
    principal: record.principal,
    backend: record.backend,
    anchor: record.anchor ?? null,
    attempt: record.attempt,
    outbound_key: record.outbound_key,
    result: resultOf(record),
    first_seen_at: iso(record.first_seen_at),
    updated_at: iso(record.updated_at),
    expires_at: iso(record.expires_at),
  };
}

function resultOf(record: LedgerRecord): string {
  const state = record.state;
  switch (state.status) {
    case 'succeeded':
      return describeValue(state.result) ?? 'succeeded';
    case 'failed':
      return `${state.code}: ${state.message}`;
    case 'unknown':
      return state.reason;
    case 'pending':
      return `running under ${state.owner} until ${iso(state.lease_until)}`;
  }
}

/** A checkout value in a few words: its id, status and order. */
function describeValue(value: Json | undefined): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const order = value.order && typeof value.order === 'object' && !Array.isArray(value.order) ? value.order.id : undefined;
  const parts = [value.id, value.status, order ? `order ${String(order)}` : undefined].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.map(String).join(' ') : undefined;
}

/** One line per distinct order state the merchant sent: what it said, and what became of it. */
function orderEventRows(events: OrderEventsRecord | undefined): Array<{ at: number; row: TimelineRow }> {
  return (events?.lines ?? []).map((line) => ({
    at: line.at,
    row: {
      at: iso(line.at),
      operation: 'order',
      record: `order ${line.order_id}`,
      attempt: null,
      event: line.type,
      outbound_key: null,
      provider_request_id: null,
      code: null,
      detail: [
        `order ${line.order_id} ${line.status ?? '(no status)'}: ${line.outcome}${line.seq ? ` (#${line.seq})` : ''}`,
        `${line.deliveries} deliver${line.deliveries === 1 ? 'y' : 'ies'}`,
        `signed ${iso(line.signed_at)}`,
        ...(line.detail ? [line.detail] : []),
        ...(events && !events.known ? ['no such checkout in this ledger'] : []),
      ].join(', '),
    },
  }));
}

/** Every event of these records (and the checkout's order events) on one time line, oldest first. */
export function timelineRows(records: LedgerRecord[], orderEvents?: OrderEventsRecord): TimelineRow[] {
  const rows = records.flatMap((record) =>
    record.timeline.map((event) => ({
      at: event.at,
      row: {
        at: iso(event.at),
        operation: record.operation,
        record: record.key,
        attempt: event.attempt,
        event: event.event,
        outbound_key: event.outbound_key ?? null,
        provider_request_id: event.provider_request_id ?? null,
        code: event.code ?? null,
        // A first claim's detail is only its claim id: noise to an operator.
        detail: event.event === 'claimed' ? null : (event.detail ?? null),
      },
    })),
  );
  return [...rows, ...orderEventRows(orderEvents)].sort((a, b) => a.at - b.at).map((r) => r.row);
}

/** The JSON form of a checkout's history (`ledger show --json`, the checkout:// resource). */
export function historyJson(history: CheckoutHistory) {
  return {
    checkout: history.head.checkout,
    principal: history.head.principal,
    backend: history.head.backend,
    first_seen_at: iso(history.head.first_seen_at),
    updated_at: iso(history.head.updated_at),
    records: history.records.map(summarize),
    ...(history.head.order ? { order: history.head.order.value } : {}),
    timeline: timelineRows(history.records, history.orderEvents),
  };
}
