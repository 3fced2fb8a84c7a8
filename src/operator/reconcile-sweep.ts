// The reconcile sweep: every `unknown` or abandoned `pending` record is settled from what its backend shows
// (R6). It reads and never sends: what only a resend can settle is left for the agent's next call.
import type { Backend } from '../backends/backend.js';
import { CheckoutHeads, headStoreKey } from '../checkout/heads.js';
import { reconcileAnchored, type AnchoredOperation } from '../checkout/reconcile.js';
import type { CheckoutSession } from '../commerce/session.js';
import type { Ledger } from '../ledger/ledger.js';
import { ownerIsGone } from '../ledger/owner.js';
import type { LedgerRecord, Status } from '../ledger/record.js';
import type { Logger } from '../log.js';
import { inSpan, SpanKind } from '../telemetry/tracing.js';
import { orderEventRecords } from '../orders/order-events.js';

export type SweepVerdict =
  /** The provider showed the outcome; the record now says succeeded or failed. */
  | 'settled'
  /** The provider could not tell (or showed nothing yet); the record stays unknown. */
  | 'unknown'
  /** Only a resend with the same key can settle it: the agent's next identical call does that. */
  | 'needs_retry'
  /** A live call holds the lease, or the record belongs to another backend: left alone. */
  | 'left'
  /** Not a record: a merchant's order event for a checkout this ledger does not hold (issue 18), kept for a person. */
  | 'unknown_order';

export interface SweepEntry {
  key: string;
  operation: string;
  anchor?: string;
  principal: string;
  before: Status;
  verdict: SweepVerdict;
  /** The status after the sweep. */
  after: Status;
  outbound_key: string;
  message: string;
}

const ANCHORED: readonly string[] = ['update', 'complete', 'cancel'] satisfies AnchoredOperation[];

function isOpen(record: LedgerRecord): boolean {
  return record.state.status === 'unknown' || record.state.status === 'pending';
}

export interface SweepOptions {
  /**
   * Leave records changed more recently than this: an agent retrying one settles it itself, and a sweep holding
   * its lease meanwhile would only make that agent wait. The server's periodic pass sets it; the command does not.
   */
  minIdleMs?: number;
}

export async function reconcileSweep(ledger: Ledger, backend: Backend, options: SweepOptions = {}): Promise<SweepEntry[]> {
  const open: LedgerRecord[] = [];
  for await (const record of ledger.records()) if (isOpen(record)) open.push(record);
  open.sort((a, b) => a.first_seen_at - b.first_seen_at);
  const entries: SweepEntry[] = [];
  for (const record of open) entries.push(await settleOne(ledger, backend, record, options.minIdleMs ?? 0));
  return entries;
}

async function settleOne(ledger: Ledger, backend: Backend, record: LedgerRecord, minIdleMs: number): Promise<SweepEntry> {
  const entry = (verdict: SweepVerdict, message: string, after: LedgerRecord<unknown> = record): SweepEntry => ({
    key: record.key,
    operation: record.operation,
    anchor: record.anchor,
    principal: record.principal,
    before: record.state.status,
    verdict,
    after: after.state.status,
    outbound_key: after.outbound_key,
    message,
  });
  const state = record.state;
  const now = ledger.clock.now();
  if (state.status === 'pending' && state.lease_until > now && !ownerIsGone(state.owner)) {
    return entry('left', `a live call (${state.owner}) is running it`);
  }
  if (now - record.updated_at < minIdleMs) {
    return entry('left', `changed ${Math.round((now - record.updated_at) / 1000)} s ago; an agent may still be retrying it`);
  }
  if (record.backend !== backend.name) {
    return entry('left', `recorded for the ${record.backend} backend; run reconcile with ONCE_BACKEND=${record.backend}`);
  }
  if (record.anchor && record.anchor_key !== undefined && record.anchor_key !== headStoreKey(backend.name, backend.merchant, record.anchor)) {
    // R15: the same checkout id at another merchant is another checkout: reading it here would settle this one wrongly.
    return entry('left', `recorded for another ${record.backend} merchant; run reconcile with that merchant's configuration`);
  }
  if (!record.anchor || !ANCHORED.includes(record.operation)) {
    // A create whose answer was lost has no anchor to read (R6): only a resend with the same key can tell.
    return entry('needs_retry', `no checkout id to read at the provider; needs the agent's retry (resend with the same key ${record.outbound_key})`);
  }
  const anchor = record.anchor;
  const settlement = await ledger.settleFromProvider<CheckoutSession>(record.key, () =>
    reconcileAnchored(backend, record.operation as AnchoredOperation, anchor),
  );
  switch (settlement.kind) {
    case 'settled': {
      const settled = settlement.record;
      const value = settled.state.status === 'succeeded' || settled.state.status === 'failed' ? settled.state.result : undefined;
      if (value) await refreshHead(ledger, backend, settled.key, anchor, value, settled.updated_at);
      const what =
        settled.state.status === 'failed'
          ? `failed (${settled.state.code}: ${settled.state.message})`
          : `succeeded: checkout ${value?.status ?? '?'}${value?.order ? `, order ${value.order.id}` : ''}`;
      return entry('settled', `provider shows ${what}`, settled);
    }
    case 'unresolved':
      return settlement.resend
        ? entry('needs_retry', `the provider shows no effect yet; needs the agent's retry (resend with the same key ${settlement.record.outbound_key})`, settlement.record)
        : entry('unknown', settlement.reason, settlement.record);
    case 'skipped':
      return entry('left', settlement.reason === 'running' ? 'a live call took it over meanwhile' : `already ${settlement.reason}`, settlement.record ?? record);
  }
}

/** Keeps the head (what get_checkout and checkout:// show) in step with the settled state (R13). */
async function refreshHead(ledger: Ledger, backend: Backend, key: string, anchor: string, checkout: CheckoutSession, at: number): Promise<void> {
  const heads = new CheckoutHeads(ledger.store, backend.name, backend.merchant, ledger.clock, ledger.leaseMs);
  await heads.updateUnlocked(anchor, (head) => {
    const open = head.open.filter((o) => o.key !== key);
    return at >= head.updated_at ? { ...head, checkout, open, updated_at: at } : { ...head, open };
  });
}

export function sweepSummary(all: SweepEntry[]): string {
  const entries = all.filter((e) => e.verdict !== 'unknown_order');
  const orders = all.length - entries.length;
  const count = (verdict: SweepVerdict) => entries.filter((e) => e.verdict === verdict).length;
  const strangers = orders > 0 ? ` ${orders} order(s) for checkouts this ledger does not know: find them at the merchant.` : '';
  if (entries.length === 0) return `Nothing to reconcile: no unknown or abandoned pending records.${strangers}`;
  return `Reconciled ${entries.length} open record(s): ${count('settled')} settled, ${count('unknown')} still unknown, ${count('needs_retry')} need the agent's retry, ${count('left')} left alone.${strangers}`;
}

/**
 * Orders the merchants' signed events named for checkouts this ledger does not hold (never dropped): each
 * stays listed here until someone finds its purchase (another platform's, a lost store, a wrong secret).
 */
export async function unknownOrders(ledger: Ledger): Promise<SweepEntry[]> {
  const entries: SweepEntry[] = [];
  for await (const record of orderEventRecords(ledger.store)) {
    if (record.known) continue;
    const last = record.lines.at(-1);
    const orderId = record.latest?.value.id ?? last?.order_id ?? '?';
    entries.push({
      key: `order:${orderId}`,
      operation: 'order',
      anchor: record.anchor,
      principal: '-',
      before: 'unknown',
      verdict: 'unknown_order',
      after: 'unknown',
      outbound_key: '',
      message: `order ${orderId} for checkout ${record.anchor} at ${record.merchant}: ${record.lines.length} event(s), last ${last?.type ?? '?'} (status ${record.latest?.value.status ?? 'none'}) at ${new Date(record.updated_at).toISOString()}; this ledger has no such checkout`,
    });
  }
  return entries;
}

const RECONCILE_EVERY_MS = 5 * 60_000;
/** The periodic pass takes only records idle this long: fresher ones are still in an agent's hands. */
const RECONCILE_IDLE_MS = 60_000;

/**
 * The reconcile sweep on a timer, once at start too (a restart after a crash finds the crashed attempts right
 * away) and every 5 minutes; it never keeps the process alive. The returned function stops it.
 */
export function startReconcileTimer(ledger: Ledger, backend: Backend, logger: Logger, scrub: (message: string) => string): () => void {
  const pass = () =>
    // One trace per pass when tracing is on: its reads and settles hang from it.
    void inSpan('reconcile sweep', SpanKind.INTERNAL, {}, () => reconcileSweep(ledger, backend, { minIdleMs: RECONCILE_IDLE_MS })).then(
      (entries) => {
        for (const entry of entries) logger.log(entry.verdict === 'settled' ? 'info' : 'debug', 'reconcile', { ...entry });
      },
      (error: Error) => logger.log('warn', 'reconcile_failed', { message: scrub(error.message) }),
    );
  const timer = setInterval(pass, RECONCILE_EVERY_MS);
  timer.unref();
  const first = setTimeout(pass, 0);
  first.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
