// A merchant's order events, applied exactly once. Merchants deliver at least once (retries, duplicates, out
// of order), so each checkout has one event record (`orderev:`) that decides, in one compare-and-swap, whether
// a delivery is a new state (a line, applied or late) or one seen before (its line counts the delivery). The
// checkout's head then converges to the record's latest applied state, which is idempotent: a crash between the
// two writes is healed by the merchant's retry. An order for a checkout this server does not know is recorded
// all the same (reconcile reports it), never dropped.
import { randomUUID } from 'node:crypto';
import { CheckoutHeads, merchantTag, type AnchorHead } from '../checkout/heads.js';
import type { CheckoutSession } from '../commerce/session.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Store } from '../store/store.js';
import { orderDigest, supersedes, type MerchantOrder } from './merchant-order.js';

export const ORDER_EVENTS_PREFIX = 'orderev:';
/** Re-converging after a running complete: 100 ms doubling to 5 s, about a minute (two 30 s leases) in all. */
const MAX_LATER = 16;
/** Lines kept per checkout (distinct states; duplicates only count). */
const MAX_LINES = 200;

export function orderEventsKey(backend: string, merchant: string, anchor: string): string {
  return `${ORDER_EVENTS_PREFIX}${backend}:${merchantTag(merchant)}:${anchor}`;
}

/** One distinct order state the merchant sent, however many times it was delivered. */
export interface OrderEventLine {
  /** First delivery. */
  at: number;
  /** The event type as sent (`order_create`, `order_update`, or one the spec does not define yet). */
  type: string;
  order_id: string;
  status: string | null;
  digest: string;
  /** The event's own id, where the protocol gives one (UCP's Webhook-Id): deliveries are matched by it. */
  event_id?: string;
  /** The signature's timestamp (ACP) or the event's (UCP Webhook-Timestamp) of the first delivery (ms). */
  signed_at: number;
  /** applied: became the checkout's order; late: an older state than the one applied, recorded only. */
  outcome: 'applied' | 'late';
  /** The applied sequence number (only grows). */
  seq?: number;
  detail?: string;
  deliveries: number;
  last_delivery_at: number;
}

export interface OrderEventsRecord {
  v: 1;
  /**
   * Set once, when the record is created: a store's claim tells "mine" from "already there" by the stored
   * text, so two identical first deliveries must not write identical records.
   */
  claim_id: string;
  backend: string;
  merchant: string;
  /** The checkout the events name (ACP `checkout_session_id`). */
  anchor: string;
  /** Whether this server had the checkout when the last event came: reconcile reports those it did not. */
  known: boolean;
  seq: number;
  latest?: { digest: string; signed_at: number; value: MerchantOrder };
  lines: OrderEventLine[];
  first_seen_at: number;
  updated_at: number;
}

export interface Delivery {
  /** The merchant whose secret verified the signature. */
  merchant: string;
  type: string;
  order: MerchantOrder;
  /** When the event was signed (ACP) or happened (UCP), ms: the last word between states of equal progress. */
  signedAt: number;
  /** The event's identity when the protocol gives one (UCP Webhook-Id); else the order state is its identity. */
  eventId?: string;
}

export interface DeliveryResult {
  outcome: 'applied' | 'late' | 'duplicate';
  known: boolean;
  anchor: string;
  line: OrderEventLine;
  /** Complete records this event settled as succeeded (R13: the merchant's word). */
  settled: string[];
}

export class OrderEvents {
  private readonly store: Store;

  constructor(
    private readonly ledger: Ledger,
    private readonly heads: CheckoutHeads,
  ) {
    this.store = ledger.store;
  }

  async receive(delivery: Delivery): Promise<DeliveryResult> {
    const anchor = delivery.order.checkout_session_id;
    // Another merchant's checkout is never one of ours (R15), whatever its id.
    const served = delivery.merchant === this.heads.merchant;
    const key = orderEventsKey(this.heads.backend, delivery.merchant, anchor);
    const digest = orderDigest(delivery.order);
    let result: Omit<DeliveryResult, 'settled'>;
    let record: OrderEventsRecord;
    for (;;) {
      const now = this.ledger.clock.now();
      const [head, stored] = served
        ? await this.store.getMany<unknown>([this.heads.keyOf(anchor), key])
        : [undefined, await this.store.get<unknown>(key)];
      const known = head !== undefined;
      const current = stored as { value: OrderEventsRecord; raw: string } | undefined;
      const eventId = delivery.eventId;
      // A state already recorded is a repeat whatever Webhook-Id it comes under: UCP's Webhook-Id and
      // Webhook-Timestamp are not covered by the signature, so a captured event resent under a new id (and a
      // later time) must not be applied again over a newer state.
      const seen = current?.value.lines.find((l) => (eventId !== undefined && l.event_id === eventId) || l.digest === digest);
      if (current && seen) {
        const line = { ...seen, deliveries: seen.deliveries + 1, last_delivery_at: now };
        record = { ...current.value, known, lines: current.value.lines.map((l) => (l === seen ? line : l)), updated_at: now };
        if (await this.store.replace(key, current, record)) {
          result = { outcome: 'duplicate', known, anchor, line };
          break;
        }
        continue;
      }
      const latest = current?.value.latest;
      const apply = !latest || (latest.digest !== digest && supersedes(latest.value, latest.signed_at, delivery.order, delivery.signedAt));
      const seq = (current?.value.seq ?? 0) + (apply ? 1 : 0);
      const line: OrderEventLine = {
        at: now,
        type: delivery.type,
        order_id: delivery.order.id,
        status: delivery.order.status ?? null,
        digest,
        ...(eventId !== undefined ? { event_id: eventId } : {}),
        signed_at: delivery.signedAt,
        outcome: apply ? 'applied' : 'late',
        ...(apply ? { seq } : { detail: `an older state than the one applied (${latest?.value.status ?? 'no status'}); recorded, not applied` }),
        deliveries: 1,
        last_delivery_at: now,
      };
      record = {
        v: 1,
        claim_id: current?.value.claim_id ?? randomUUID(),
        backend: this.heads.backend,
        merchant: delivery.merchant,
        anchor,
        known,
        seq,
        latest: apply ? { digest, signed_at: delivery.signedAt, value: delivery.order } : latest,
        lines: [...(current?.value.lines ?? []), line].slice(-MAX_LINES),
        first_seen_at: current?.value.first_seen_at ?? now,
        updated_at: now,
      };
      const written = current ? await this.store.replace(key, current, record) : (await this.store.claim(key, record)).claimed;
      if (written) {
        result = { outcome: line.outcome, known, anchor, line };
        break;
      }
    }
    const settled = served ? await this.converge(anchor, record) : [];
    return { ...result, settled };
  }

  /**
   * A complete still running when its order event came (the merchant announces an order before its answer
   * reaches us) settles itself only if that answer arrives. If it ends unknown, the event still settles it:
   * converged again until nothing is running, bounded by two leases. Safe in any process (CAS and fences).
   */
  private later(anchor: string, record: OrderEventsRecord, attempt = 1): void {
    const waitMs = Math.min(100 * 2 ** attempt, 5_000);
    const timer = setTimeout(() => {
      void this.converge(anchor, record, attempt).catch(() => {});
    }, waitMs);
    timer.unref();
  }

  /**
   * Brings the head to the record's latest order, and settles every complete on it whose outcome is unknown:
   * an order for the checkout is the merchant's word that it completed (R13). Safe to run again.
   */
  private async converge(anchor: string, record: OrderEventsRecord, attempt = 0): Promise<string[]> {
    const latest = record.latest;
    if (!latest) return [];
    const stored = await this.heads.read(anchor);
    if (!stored) return [];
    const head: AnchorHead = stored.value;
    const completed: CheckoutSession = { ...head.checkout, status: 'completed', order: latest.value };
    const settled: string[] = [];
    let running = false;
    for (const open of head.open) {
      if (open.operation !== 'complete') continue;
      const outcome = await this.ledger.settleFromProvider<CheckoutSession>(
        open.key,
        async () => ({ kind: 'settled', result: { kind: 'succeeded', value: completed, anchor } }),
        { takeOver: 'order event', shows: 'the signed order event' },
      );
      // A call still running settles itself from the merchant's answer; anything settled is closed here.
      if (outcome.kind === 'settled' || (outcome.kind === 'skipped' && outcome.reason !== 'running')) settled.push(open.key);
      else running = true;
    }
    await this.heads.applyOrder(anchor, { seq: record.seq, digest: latest.digest, value: latest.value }, settled, this.ledger.clock.now());
    if (running && attempt < MAX_LATER) this.later(anchor, record, attempt + 1);
    return settled;
  }
}

/** Every checkout's event record (operators: `ledger show`, `reconcile`). */
export async function* orderEventRecords(store: Store): AsyncIterable<OrderEventsRecord> {
  for await (const [, record] of store.entries<OrderEventsRecord>(ORDER_EVENTS_PREFIX)) yield record;
}

/** The event record of one checkout at one backend and merchant. */
export async function readOrderEvents(store: Store, backend: string, merchant: string, anchor: string): Promise<OrderEventsRecord | undefined> {
  return (await store.get<OrderEventsRecord>(orderEventsKey(backend, merchant, anchor)))?.value;
}
