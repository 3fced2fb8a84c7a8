// A Store that counts the calls made to it: each call of a network store is one round trip.
import type { ClaimResult, Store, Stored } from '../store/store.js';

export class CountingStore implements Store {
  calls = 0;

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
    return this.inner.claim(key, value);
  }

  replace<T>(key: string, expected: Stored<T>, next: T): Promise<Stored<T> | undefined> {
    this.calls += 1;
    return this.inner.replace(key, expected, next);
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
