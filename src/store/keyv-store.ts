// A Store on a Keyv adapter: Keyv owns the connection and the table; the engine-native SQL (or Map access)
// adds the atomic claim and compare-and-swap that Keyv lacks. Values are stored exactly as Keyv stores them,
// `{"value": …}` as JSON text, so `keyv.get` and our native steps read each other's writes.
import type Keyv from 'keyv';
import { guarded, type ClaimResult, type Store, type Stored } from './store.js';

export const NAMESPACE = 'once';

/** The engine-specific atomic steps, on raw keys (namespace included) and raw text values. */
export interface NativeSteps {
  /** Inserts if absent; returns the text now stored (ours if we inserted). */
  claim(rawKey: string, raw: string): Promise<string>;
  /** Writes `next` only where the text is still `expected`; true if it wrote. */
  replace(rawKey: string, expected: string, next: string): Promise<boolean>;
  /** Deletes only where the text is still `expected`; true if it deleted. */
  removeIf(rawKey: string, expected: string): Promise<boolean>;
  /** Raw text of one key, one round trip. */
  get(rawKey: string): Promise<string | undefined>;
  /** Raw texts of several keys, one round trip. */
  getMany(rawKeys: readonly string[]): Promise<Array<string | undefined>>;
  /** Raw text of a key and of `rawPrefix` + the string at `$.value.<field>` in it, one round trip. */
  getLinked(rawKey: string, field: string, rawPrefix: string): Promise<[string | undefined, string | undefined]>;
  entries(rawPrefix: string): AsyncIterable<[string, string]>;
  close(): Promise<void>;
}

export function encode<T>(value: T): string {
  return JSON.stringify({ value });
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

  get<T>(key: string): Promise<Stored<T> | undefined> {
    return guarded(this.description, async () => {
      const raw = await this.native.get(this.rawKey(key));
      return raw === undefined ? undefined : { value: decode<T>(raw), raw };
    });
  }

  getMany<T>(keys: readonly string[]): Promise<Array<Stored<T> | undefined>> {
    return guarded(this.description, async () => {
      const raws = await this.native.getMany(keys.map((key) => this.rawKey(key)));
      return raws.map((raw) => (raw === undefined ? undefined : { value: decode<T>(raw), raw }));
    });
  }

  getLinked<A, B>(key: string, field: string): Promise<[Stored<A> | undefined, Stored<B> | undefined]> {
    if (!/^[a-z_]+$/.test(field)) throw new Error(`getLinked: field ${field} must be a plain name`);
    return guarded(this.description, async () => {
      const [first, second] = await this.native.getLinked(this.rawKey(key), field, this.rawKey(''));
      return [
        first === undefined ? undefined : { value: decode<A>(first), raw: first },
        second === undefined ? undefined : { value: decode<B>(second), raw: second },
      ];
    });
  }

  claim<T>(key: string, value: T): Promise<ClaimResult<T>> {
    return guarded(this.description, async () => {
      const raw = encode(value);
      const now = await this.native.claim(this.rawKey(key), raw);
      if (now === raw) return { claimed: true, stored: { value, raw } };
      return { claimed: false, current: { value: decode<T>(now), raw: now } };
    });
  }

  replace<T>(key: string, expected: Stored<T>, next: T): Promise<Stored<T> | undefined> {
    return guarded(this.description, async () => {
      const raw = encode(next);
      const wrote = await this.native.replace(this.rawKey(key), expected.raw, raw);
      return wrote ? { value: next, raw } : undefined;
    });
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
    return guarded(this.description, () => this.native.removeIf(this.rawKey(key), expected.raw));
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
