// The store contract: a key-value table (on Keyv) plus the two atomic steps the ledger needs, which each
// engine does natively. Values are JSON; `raw` is the stored text and is what compare-and-swap compares.

export interface Stored<T> {
  value: T;
  raw: string;
}

export type ClaimResult<T> = { claimed: true; stored: Stored<T> } | { claimed: false; current: Stored<T> };

export interface Store {
  /** A URL-ish description without credentials, for logs and doctor. */
  readonly description: string;
  get<T>(key: string): Promise<Stored<T> | undefined>;
  /** Insert-if-absent in one atomic step; when the key exists, returns what is there (one round trip). */
  claim<T>(key: string, value: T): Promise<ClaimResult<T>>;
  /** Compare-and-swap: writes `next` only if the stored text is still `expected.raw`. */
  replace<T>(key: string, expected: Stored<T>, next: T): Promise<Stored<T> | undefined>;
  /** Unconditional write, for data with a single writer (indexes, the sandbox merchant's own state). */
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Deletes only if the stored text is still `expected.raw` (the sweep's safe delete, R8). */
  removeIf<T>(key: string, expected: Stored<T>): Promise<boolean>;
  /** Every entry whose key starts with `prefix`. */
  entries<T>(prefix: string): AsyncIterable<[string, T]>;
  close(): Promise<void>;
}

export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Every store error becomes StoreUnavailableError, so the ledger fails closed on any of them (R9). */
export async function guarded<T>(description: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailableError(`store ${description} unavailable: ${reason}`, { cause: error });
  }
}

/** A store URL without its password, for logs and doctor. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return `${/^[a-z][a-z0-9+.-]*/i.exec(url)?.[0] ?? 'store'}://(unparseable)`;
  }
}
