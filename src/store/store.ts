// The store contract: a key-value table (on Keyv) plus the two atomic steps the ledger needs, which each
// engine does natively. Values are JSON; `raw` is the stored text and is what compare-and-swap compares.
import { classifyStoreError, type StoreFault } from './store-fault.js';

export interface Stored<T> {
  value: T;
  raw: string;
}

export type ClaimResult<T> = { claimed: true; stored: Stored<T> } | { claimed: false; current: Stored<T> };

export interface Store {
  /** A URL-ish description without credentials, for logs and doctor. */
  readonly description: string;
  get<T>(key: string): Promise<Stored<T> | undefined>;
  /** Several keys in one round trip, in the order asked. */
  getMany<T>(keys: readonly string[]): Promise<Array<Stored<T> | undefined>>;
  /**
   * A value and the value it points to, in one round trip: the second key is the first value's string field
   * `field`. The head of a checkout is found this way from its create record (one statement or script).
   */
  getLinked<A, B>(key: string, field: string): Promise<[Stored<A> | undefined, Stored<B> | undefined]>;
  /**
   * Insert-if-absent in one atomic step; when the key exists, returns what is there (one round trip).
   * `claimed` is true only for this call's own insert, even where another call inserted an identical value.
   */
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
  /** Transient (retry soon) or permanent (the operator must fix ONCE_STORE), from the driver's error. */
  readonly fault: StoreFault;
  constructor(message: string, options?: { cause?: unknown; fault?: StoreFault }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
    this.fault = options?.fault ?? classifyStoreError(options?.cause);
  }
}

/** Every store error becomes StoreUnavailableError, so the ledger fails closed on any of them (R9). */
export function unavailable(description: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`store ${description} unavailable: ${reason}`, { cause: error });
}

/** Runs `work`, any failure as StoreUnavailableError (R9). */
export async function guarded<T>(description: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw unavailable(description, error);
  }
}

/**
 * Query parameters that carry credentials. node-postgres honours `?password=`, `?sslpassword=` and reads
 * `?sslkey=`; other drivers and proxies take tokens and keys the same way. Generous on purpose: a masked
 * harmless parameter costs nothing, a printed password costs a rotation.
 */
export const SECRET_PARAM = /pass|pwd|secret|token|key|auth|credential|cert|signature/i;
const MASK = '***';

/** A store URL with every credential masked (the userinfo password and secret query parameters), for logs and doctor. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    if (parsed.search) {
      // Rebuilt by hand: URLSearchParams would re-encode the parameters left alone.
      const query = parsed.search
        .slice(1)
        .split('&')
        .map((pair) => {
          const at = pair.indexOf('=');
          const name = at < 0 ? pair : pair.slice(0, at);
          return SECRET_PARAM.test(safeDecode(name)) && at >= 0 ? `${name}=${MASK}` : pair;
        })
        .join('&');
      parsed.search = `?${query}`;
    }
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return `${/^[a-z][a-z0-9+.-]*/i.exec(url)?.[0] ?? 'store'}://(unparseable)`;
  }
}

/** The credential values a store URL carries, decoded and as written, so text that echoes one can be scrubbed. */
export function storeUrlSecrets(url: string): string[] {
  const secrets = new Set<string>();
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.add(parsed.password).add(safeDecode(parsed.password));
    for (const pair of parsed.search.slice(1).split('&')) {
      const at = pair.indexOf('=');
      if (at < 0 || !SECRET_PARAM.test(safeDecode(pair.slice(0, at)))) continue;
      const raw = pair.slice(at + 1);
      secrets.add(raw).add(safeDecode(raw.replace(/\+/g, ' '))).add(safeDecode(raw));
    }
  } catch {
    // unparseable: nothing we can name; redact() prints only the scheme
  }
  return [...secrets].filter((s) => s.length >= 3);
}

/** `text` with every credential of `url` replaced by ***: for error messages that might echo the URL. */
export function scrubStoreSecrets(text: string, url: string): string {
  let out = text;
  for (const secret of storeUrlSecrets(url).sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Which store ONCE_STORE names (config/store-url.ts parses it; store/open.ts opens it). */
export type StoreUrl =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'redis'; url: string }
  | { kind: 'memory' };
