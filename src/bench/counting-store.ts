// A Store that counts the calls made to it (each call of a network store is one round trip) and the bytes
// of text its claims and replaces wrote and compared.
import { expectedOf } from '../store/keyv-store.js';
import type { ClaimResult, Store, Stored } from '../store/store.js';

export class CountingStore implements Store {
  calls = 0;
  /** Count bytes too (off in timed runs: it adds a step to every claim and replace). */
  countBytes = false;
  /** Characters of the texts written by claims and replaces that took. */
  written = 0;
  /** Characters sent to compare-and-swap against (the write id, or a whole text without one). */
  compared = 0;

  constructor(private readonly inner: Store) {}

  get description(): string {
    return this.inner.description;
  }

  get<T>(key: string): Promise<Stored<T> | undefined> {
    this.calls += 1;
    return this.inner.get<T>(key);
  }

  getMany<T>(keys: readonly string[]): Promise<Array<Stored<T> | undefined>> {
    this.calls += 1;
    return this.inner.getMany<T>(keys);
  }

  getLinked<A, B>(key: string, field: string): Promise<[Stored<A> | undefined, Stored<B> | undefined]> {
    this.calls += 1;
    return this.inner.getLinked<A, B>(key, field);
  }

  claim<T>(key: string, value: T): Promise<ClaimResult<T>> {
    this.calls += 1;
    const result = this.inner.claim(key, value);
    if (!this.countBytes) return result;
    return result.then((r) => {
      if (r.claimed) this.written += r.stored.raw.length;
      return r;
    });
  }

  replace<T>(key: string, expected: Stored<T>, next: T): Promise<Stored<T> | undefined> {
    this.calls += 1;
    const written = this.inner.replace(key, expected, next);
    if (!this.countBytes) return written;
    this.compared += expectedOf(expected.raw).text.length;
    return written.then((w) => {
      if (w) this.written += w.raw.length;
      return w;
    });
  }

  put<T>(key: string, value: T): Promise<void> {
    this.calls += 1;
    return this.inner.put(key, value);
  }

  delete(key: string): Promise<boolean> {
    this.calls += 1;
    return this.inner.delete(key);
  }

  removeIf<T>(key: string, expected: Stored<T>): Promise<boolean> {
    this.calls += 1;
    return this.inner.removeIf(key, expected);
  }

  entries<T>(prefix: string): AsyncIterable<[string, T]> {
    this.calls += 1;
    return this.inner.entries<T>(prefix);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
