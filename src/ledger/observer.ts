// What telemetry may see of the engine: each claim, reconciliation and settle, wrapped so it can be timed and
// traced. The ledger calls these and nothing else; without telemetry they only run the work.
import type { LedgerRecord } from './record.js';

/** What the observer reads of a reconciliation's outcome (the ledger's Reconciled, kept structural: no cycle). */
export type ReconcileOutcome = { kind: 'resend' | 'unknown' } | { kind: 'settled'; result: { kind: string } };

export interface LedgerObserver {
  /** The atomic claim of a record (R7). */
  claim<R>(key: string, operation: string, work: () => Promise<R>): Promise<R>;
  /** Reading the provider to settle an ambiguous attempt of `record` (R6). */
  reconcile<T, R extends ReconcileOutcome>(record: LedgerRecord<T>, work: () => Promise<R>): Promise<R>;
  /** Writing `after` over `before`; `work` resolves to undefined when fenced out (nothing written). */
  settle<T, R>(before: LedgerRecord<T>, after: LedgerRecord<T>, work: () => Promise<R | undefined>): Promise<R | undefined>;
}

export const UNOBSERVED: LedgerObserver = {
  claim: (_key, _operation, work) => work(),
  reconcile: (_record, work) => work(),
  settle: (_before, _after, work) => work(),
};
