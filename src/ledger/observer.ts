// What telemetry may see of the engine: each claim, reconciliation and settle, wrapped so it can be timed and
// traced. The ledger calls these and nothing else; without telemetry they only run the work.
import type { Reconciled } from './ledger.js';
import type { LedgerRecord } from './record.js';

export interface LedgerObserver {
  /** The atomic claim of a record (R7). */
  claim<R>(key: string, operation: string, work: () => Promise<R>): Promise<R>;
  /** Reading the provider to settle an ambiguous attempt of `record` (R6). */
  reconcile<T>(record: LedgerRecord<T>, work: () => Promise<Reconciled<T>>): Promise<Reconciled<T>>;
  /** Writing `after` over `before`; `work` resolves to undefined when fenced out (nothing written). */
  settle<T, R>(before: LedgerRecord<T>, after: LedgerRecord<T>, work: () => Promise<R | undefined>): Promise<R | undefined>;
}

export const UNOBSERVED: LedgerObserver = {
  claim: (_key, _operation, work) => work(),
  reconcile: (_record, work) => work(),
  settle: (_before, _after, work) => work(),
};
