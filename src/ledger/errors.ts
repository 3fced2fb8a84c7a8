// Named refusals of the ledger; each carries the code the tools report.

export type LedgerErrorCode = 'intent_conflict' | 'attempts_exhausted';

export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly details: { key: string; anchor?: string; attempt?: number } ,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}
