// The ledger's steps as spans (claim, reconcile, settle) and as metrics, read from what each settle writes: an
// attempt that became unknown, how long an unknown one took to reach its outcome, attempts past the first.
import type { Attributes, Span } from '@opentelemetry/api';
import { SUPERSEDED } from '../ledger/ledger.js';
import type { LedgerObserver, ReconcileOutcome } from '../ledger/observer.js';
import type { LedgerRecord, TimelineEvent } from '../ledger/record.js';
import type { Metrics } from './metrics.js';
import type { Telemetry } from './telemetry.js';
import { inSpan, keyPrefix, SpanKind } from './tracing.js';

export function ledgerObserver(telemetry: Telemetry): LedgerObserver {
  const metrics = telemetry.metrics;
  const traced = <R>(name: string, attributes: Attributes, work: (span?: Span) => Promise<R>) =>
    telemetry.tracing ? inSpan(name, SpanKind.INTERNAL, attributes, work) : work();
  return {
    claim: (key, operation, work) => traced('ledger claim', { 'once.operation': operation, 'once.key_prefix': keyPrefix(key) }, () => work()),

    reconcile: <T, R extends ReconcileOutcome>(record: LedgerRecord<T>, work: () => Promise<R>) =>
      traced('ledger reconcile', attributesOf(record), async (span) => {
        let result = 'unknown';
        try {
          const seen = await work();
          result = seen.kind === 'settled' ? seen.result.kind : seen.kind;
          return seen;
        } catch (error) {
          result = 'error';
          throw error;
        } finally {
          span?.setAttribute('once.reconcile.result', result);
          metrics?.reconciliation(record.operation, result);
        }
      }),

    settle: async <T, R>(before: LedgerRecord<T>, after: LedgerRecord<T>, work: () => Promise<R | undefined>) => {
      const written = await traced('ledger settle', { ...attributesOf(after), 'once.outcome': after.state.status }, () => work());
      if (written !== undefined && metrics) count(metrics, before, after);
      return written;
    },
  };
}

function attributesOf<T>(record: LedgerRecord<T>): Attributes {
  return { 'once.operation': record.operation, 'once.key_prefix': keyPrefix(record.key), 'once.attempt': record.attempt };
}

/** What one settle changed, from the timeline events it added (the record explains itself, R10). */
function count<T>(metrics: Metrics, before: LedgerRecord<T>, after: LedgerRecord<T>): void {
  const added = after.timeline.slice(before.timeline.length);
  if (added.some((e) => e.event === 'sent' && e.attempt > 1)) metrics.attemptBeyondFirst(after.operation);
  const firstUnknown = firstUnknownOf(before.timeline, after.attempt);
  const state = after.state;
  if (state.status === 'unknown') {
    if (!firstUnknown) metrics.unknownOutcome(after.operation);
  } else if (firstUnknown && state.status !== 'pending') {
    const result = state.status === 'failed' && state.code === SUPERSEDED ? 'superseded' : state.status;
    metrics.unknownSettled(after.operation, result, Math.max(0, after.updated_at - firstUnknown.at) / 1000);
  }
}

/** The earliest `unknown` of this attempt since it was claimed (a later generation claims attempt 1 again). */
function firstUnknownOf(timeline: TimelineEvent[], attempt: number): TimelineEvent | undefined {
  let first: TimelineEvent | undefined;
  for (let i = timeline.length - 1; i >= 0; i -= 1) {
    const event = timeline[i];
    if (event.attempt === attempt && event.event === 'unknown') first = event;
    if (event.attempt === attempt && event.event === 'claimed') break;
  }
  return first;
}
