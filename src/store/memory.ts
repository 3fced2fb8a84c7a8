// memory:// — a Keyv Map store for unit tests. JavaScript runs one step at a time, so a synchronous
// check-and-set on the Map is atomic within this process (and nothing is shared with others).
import Keyv from 'keyv';
import { KeyvStore, keyvJson, linkOf, stillIs, type NativeSteps } from './keyv-store.js';

export function openMemoryStore(): KeyvStore {
  const map = new Map<string, string>();
  const keyv = new Keyv({ store: map, ...keyvJson });
  const native: NativeSteps = {
    async claim(rawKey, raw) {
      const existing = map.get(rawKey);
      if (existing !== undefined) return existing;
      map.set(rawKey, raw);
      return raw;
    },
    async replace(rawKey, expected, next) {
      if (!stillIs(map.get(rawKey), expected)) return false;
      map.set(rawKey, next);
      return true;
    },
    async removeIf(rawKey, expected) {
      if (!stillIs(map.get(rawKey), expected)) return false;
      map.delete(rawKey);
      return true;
    },
    async get(rawKey) {
      return map.get(rawKey);
    },
    async getMany(rawKeys) {
      return rawKeys.map((key) => map.get(key));
    },
    async getLinked(rawKey, field, rawPrefix) {
      const first = map.get(rawKey);
      const link = first === undefined ? undefined : linkOf(first, field);
      return [first, link === undefined ? undefined : map.get(rawPrefix + link)];
    },
    async *entries(rawPrefix) {
      for (const [key, raw] of [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (key.startsWith(rawPrefix)) yield [key, raw];
      }
    },
    async close() {},
  };
  return new KeyvStore('memory://', keyv, native);
}
