// A Store on a Keyv adapter: Keyv owns the connection and the table; the engine-native SQL (or Map access)
// adds the atomic claim and compare-and-swap that Keyv lacks. Values are stored as Keyv stores them,
// `{"value": …}` as JSON text, so `keyv.get` and our native steps read each other's writes. What claim and
// replace write also carries a write id first, `{"rev":"<id>","value": …}` (Keyv ignores it), so that a
// compare-and-swap sends those 46 characters instead of the whole text it last saw: a ledger record is
// written whole at settle, and sending it a second time to be compared was a third of a fresh run's bytes.
import { randomBytes } from 'node:crypto';
import type Keyv from 'keyv';
import { guarded, unavailable, type ClaimResult, type Store, type Stored } from './store.js';

export const NAMESPACE = 'once';

/** The engine-specific atomic steps, on raw keys (namespace included) and raw text values. */
export interface NativeSteps {
  /** Inserts if absent; returns the text now stored (ours if we inserted). */
  claim(rawKey: string, raw: string): Promise<string>;
  /** Writes `next` only where the text is still `expected`; true if it wrote. */
  replace(rawKey: string, expected: Expected, next: string): Promise<boolean>;
  /** Deletes only where the text is still `expected`; true if it deleted. */
  removeIf(rawKey: string, expected: Expected): Promise<boolean>;
  /** Raw text of one key, one round trip. */
  get(rawKey: string): Promise<string | undefined>;
  /** Raw texts of several keys, one round trip. */
  getMany(rawKeys: readonly string[]): Promise<Array<string | undefined>>;
  /** Raw text of a key and of `rawPrefix` + the string at `$.value.<field>` in it, one round trip. */
  getLinked(rawKey: string, field: string, rawPrefix: string): Promise<[string | undefined, string | undefined]>;
  entries(rawPrefix: string): AsyncIterable<[string, string]>;
  close(): Promise<void>;
}

/**
 * What a compare-and-swap compares. A text we wrote starts with its write id, unique to that write, so the
 * text is unchanged exactly when it still starts with `text` (`prefix`); any other text is compared whole.
 */
export interface Expected {
  text: string;
  prefix: boolean;
}

const REV_OPEN = '{"rev":"';
/** `{"rev":"` + a 36-character write id + `",`: where a text we wrote starts. */
export const REV_PREFIX_LENGTH = REV_OPEN.length + 36 + 2;

// A write id: 96 random bits for this process, then a count of its writes. Unique across processes and
// restarts as a random UUID would be, without drawing random bytes for every write.
const PROCESS_REV = randomBytes(12).toString('hex');
let writes = 0;

/**
 * The stored text of a value, with a new write id: the same text as JSON.stringify({ rev, value }), put
 * together around the value's text (30% less to allocate on every claim and settle: 2.6 kB against 3.6 kB).
 */
export function encode<T>(value: T): string {
  writes += 1;
  return `${REV_OPEN}${PROCESS_REV}${writes.toString(36).padStart(12, '0')}","value":${JSON.stringify(value)}}`;
}

export function expectedOf(raw: string): Expected {
  return raw.startsWith(REV_OPEN) && raw.startsWith('",', REV_PREFIX_LENGTH - 2)
    ? { text: raw.slice(0, REV_PREFIX_LENGTH), prefix: true }
    : { text: raw, prefix: false };
}

/** The compare-and-swap's test in JavaScript (the memory store's). */
export function stillIs(current: string | undefined, expected: Expected): boolean {
  return current !== undefined && (expected.prefix ? current.startsWith(expected.text) : current === expected.text);
}

export function decode<T>(raw: string): T {
  return (JSON.parse(raw) as { value: T }).value;
}

export class KeyvStore implements Store {
  constructor(
    readonly description: string,
    private readonly keyv: Keyv,
    private readonly native: NativeSteps,
  ) {}

  private rawKey(key: string): string {
    return `${NAMESPACE}:${key}`;
  }

  // The steps on a call's path are one async function each (not guarded()'s two): a fresh run makes two.
  async get<T>(key: string): Promise<Stored<T> | undefined> {
    try {
      const raw = await this.native.get(this.rawKey(key));
      return raw === undefined ? undefined : { value: decode<T>(raw), raw };
    } catch (error) {
      throw unavailable(this.description, error);
    }
  }

  getMany<T>(keys: readonly string[]): Promise<Array<Stored<T> | undefined>> {
    return guarded(this.description, async () => {
      const raws = await this.native.getMany(keys.map((key) => this.rawKey(key)));
      return raws.map((raw) => (raw === undefined ? undefined : { value: decode<T>(raw), raw }));
    });
  }

  getLinked<A, B>(key: string, field: string): Promise<[Stored<A> | undefined, Stored<B> | undefined]> {
    if (!/^[a-z_]+$/.test(field)) throw new Error(`getLinked: field ${field} must be a plain name`);
    return this.linked<A, B>(key, field);
  }

  private async linked<A, B>(key: string, field: string): Promise<[Stored<A> | undefined, Stored<B> | undefined]> {
    try {
      const [first, second] = await this.native.getLinked(this.rawKey(key), field, this.rawKey(''));
      return [
        first === undefined ? undefined : { value: decode<A>(first), raw: first },
        second === undefined ? undefined : { value: decode<B>(second), raw: second },
      ];
    } catch (error) {
      throw unavailable(this.description, error);
    }
  }

  async claim<T>(key: string, value: T): Promise<ClaimResult<T>> {
    try {
      const raw = encode(value);
      const now = await this.native.claim(this.rawKey(key), raw);
      if (now === raw) return { claimed: true, stored: { value, raw } };
      return { claimed: false, current: { value: decode<T>(now), raw: now } };
    } catch (error) {
      throw unavailable(this.description, error);
    }
  }

  async replace<T>(key: string, expected: Stored<T>, next: T): Promise<Stored<T> | undefined> {
    try {
      const raw = encode(next);
      const wrote = await this.native.replace(this.rawKey(key), expectedOf(expected.raw), raw);
      return wrote ? { value: next, raw } : undefined;
    } catch (error) {
      throw unavailable(this.description, error);
    }
  }

  put<T>(key: string, value: T): Promise<void> {
    return guarded(this.description, async () => {
      await this.keyv.set(key, value);
    });
  }

  delete(key: string): Promise<boolean> {
    return guarded(this.description, () => this.keyv.delete(key));
  }

  removeIf<T>(key: string, expected: Stored<T>): Promise<boolean> {
    return guarded(this.description, () => this.native.removeIf(this.rawKey(key), expectedOf(expected.raw)));
  }

  async *entries<T>(prefix: string): AsyncIterable<[string, T]> {
    const skip = NAMESPACE.length + 1;
    const iterator = this.native.entries(this.rawKey(prefix))[Symbol.asyncIterator]();
    while (true) {
      const next = await guarded(this.description, () => iterator.next());
      if (next.done) return;
      const [rawKey, raw] = next.value;
      yield [rawKey.slice(skip), decode<T>(raw)];
    }
  }

  close(): Promise<void> {
    return this.native.close();
  }
}

/** JSON text serialisation for Keyv, so the stored text is exactly what `encode` writes. */
export const keyvJson = {
  namespace: NAMESPACE,
  // Keyv would otherwise only emit an event and return false on a failed write: we must fail closed (R9).
  throwOnErrors: true,
  serialize: (data: unknown) => JSON.stringify(data),
  deserialize: <T>(raw: string) => JSON.parse(raw) as T,
};

/** The string at `$.value.<field>` of a stored text, if there is one (the memory store's getLinked). */
export function linkOf(raw: string, field: string): string | undefined {
  const value = (JSON.parse(raw) as { value?: Record<string, unknown> }).value;
  const link = value?.[field];
  return typeof link === 'string' ? link : undefined;
}

/** LIKE pattern for a key prefix, with the wildcard characters escaped (ESCAPE '\'). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
