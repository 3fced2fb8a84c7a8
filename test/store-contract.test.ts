// The same contract on every store: the atomic claim and compare-and-swap the ledger relies on (R7, R8).
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMemoryStore } from '../src/store/memory.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { openRedisStore } from '../src/store/redis.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { parseStoreUrl } from '../src/config/store-url.js';
import type { Store } from '../src/store/store.js';
import { freshPostgresDatabase, freshRedisDatabase, postgresAvailable, redisAvailable } from './support/services.js';

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

const stores: Array<[string, () => Promise<Store>]> = [
  ['memory', async () => openMemoryStore()],
  ['sqlite', async () => openSqliteStore(join(mkdtempSync(join(tmpdir(), 'once-store-')), 'ledger.db'))],
];
if (pgUp) stores.push(['postgres', async () => openPostgresStore(await freshPostgresDatabase('once_store_contract'))]);
if (redisUp) {
  stores.push(['redis', async () => openRedisStore(await freshRedisDatabase(11))]);
  stores.push(['redis, claim by script (Redis before 7.0)', async () => openRedisStore(await freshRedisDatabase(10), { claimByScript: true })]);
  stores.push(['redis, as before 6.2 (no SET … GET)', async () => openRedisStore(await freshRedisDatabase(9), { claimByScript: true, replaceByGetrange: true })]);
}

describe.each(stores)('store contract: %s', (_name, open) => {
  let store: Store;
  afterAll(async () => store?.close());

  it('R7: claim inserts once; a second claim returns what is there', async () => {
    store ??= await open();
    const first = await store.claim('k1', { n: 1 });
    expect(first.claimed).toBe(true);
    const second = await store.claim('k1', { n: 2 });
    expect(second).toMatchObject({ claimed: false, current: { value: { n: 1 } } });
  });

  it('R7: of 50 concurrent claims of one key exactly one wins', async () => {
    store ??= await open();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.claim('race', { i })));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
  });

  it('R7: of 20 concurrent claims of one key with identical values exactly one is told it inserted', async () => {
    store ??= await open();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim('twins', { same: true })));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
  });

  it('R7: replace is compare-and-swap on the stored text (a fencing token)', async () => {
    store ??= await open();
    const claimed = await store.claim('cas', { fence: 1 });
    if (!claimed.claimed) throw new Error('claim failed');
    const newer = await store.replace('cas', claimed.stored, { fence: 2 });
    expect(newer?.value).toEqual({ fence: 2 });
    expect(await store.replace('cas', claimed.stored, { fence: 3 })).toBeUndefined();
    expect((await store.get('cas'))?.value).toEqual({ fence: 2 });
  });

  it('R7: of 20 concurrent compare-and-swaps on one text exactly one wins; on 20 different keys every one does', async () => {
    store ??= await open();
    const one = await store.claim('cas-race', { n: 0 });
    if (!one.claimed) throw new Error('claim failed');
    const racing = await Promise.all(Array.from({ length: 20 }, (_, i) => store.replace('cas-race', one.stored, { n: i + 1 })));
    expect(racing.filter((w) => w !== undefined)).toHaveLength(1);
    expect((await store.get('cas-race'))?.raw).toBe(racing.find((w) => w !== undefined)?.raw);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim(`cas-many-${i}`, { n: 0 })));
    const written = await Promise.all(
      many.map((c, i) => (c.claimed ? store.replace(`cas-many-${i}`, c.stored, { n: i }) : Promise.resolve(undefined))),
    );
    expect(written.every((w) => w !== undefined)).toBe(true);
    for (let i = 0; i < 20; i++) expect((await store.get(`cas-many-${i}`))?.value).toEqual({ n: i });
  });

  it('R7: a replace fenced out leaves the text it found, and a key deleted meanwhile stays absent', async () => {
    store ??= await open();
    const claimed = await store.claim('fenced', { fence: 1 });
    if (!claimed.claimed) throw new Error('claim failed');
    const takenOver = await store.replace('fenced', claimed.stored, { fence: 2, owner: 'other' });
    if (!takenOver) throw new Error('take-over failed');
    expect(await store.replace('fenced', claimed.stored, { fence: 1, settled: true })).toBeUndefined();
    const after = await store.get('fenced');
    expect(after?.raw).toBe(takenOver.raw);
    expect(await store.delete('fenced')).toBe(true);
    expect(await store.replace('fenced', takenOver, { fence: 3 })).toBeUndefined();
    expect(await store.get('fenced')).toBeUndefined();
  });

  it('R7: what claim and replace write starts with a write id of its own: the same value written again is another text (no ABA)', async () => {
    store ??= await open();
    const first = await store.claim('aba', { n: 1 });
    if (!first.claimed) throw new Error('claim failed');
    expect(first.stored.raw).toMatch(/^\{"rev":"[0-9a-z]{36}","value":\{"n":1\}\}$/);
    const second = await store.replace('aba', first.stored, { n: 2 });
    const back = await store.replace('aba', second!, { n: 1 });
    expect(back?.raw).not.toBe(first.stored.raw);
    // A holder of the first text is fenced out although the value is the same again.
    expect(await store.replace('aba', first.stored, { n: 3 })).toBeUndefined();
    expect(await store.removeIf('aba', first.stored)).toBe(false);
    expect(await store.get('aba')).toEqual(back);
  });

  it('R7: a text without a write id (written by Keyv itself, or before write ids) is compared whole', async () => {
    store ??= await open();
    await store.put('plain', { n: 1 });
    const plain = await store.get<{ n: number }>('plain');
    expect(plain?.raw.startsWith('{"value"')).toBe(true);
    const next = await store.replace('plain', plain!, { n: 2 });
    expect(next?.value).toEqual({ n: 2 });
    expect(await store.replace('plain', plain!, { n: 3 })).toBeUndefined();
    expect(await store.removeIf('plain', plain!)).toBe(false);
    expect(await store.removeIf('plain', next!)).toBe(true);
  });

  it('R8: removeIf deletes only the exact text it was shown', async () => {
    store ??= await open();
    const claimed = await store.claim('rm', { a: 1 });
    if (!claimed.claimed) throw new Error('claim failed');
    const changed = await store.replace('rm', claimed.stored, { a: 2 });
    expect(await store.removeIf('rm', claimed.stored)).toBe(false);
    expect(await store.removeIf('rm', changed!)).toBe(true);
    expect(await store.get('rm')).toBeUndefined();
  });

  it('R13: getMany reads several keys in one call, in the order asked, absent ones undefined', async () => {
    store ??= await open();
    await store.put('many:a', { a: 1 });
    await store.put('many:c', { c: 3 });
    const found = await store.getMany<Record<string, number>>(['many:c', 'many:b', 'many:a']);
    expect(found.map((f) => f?.value)).toEqual([{ c: 3 }, undefined, { a: 1 }]);
    // The raw text is what compare-and-swap compares.
    expect(await store.replace('many:a', found[2]!, { a: 2 })).toBeDefined();
  });

  it('R13: getLinked follows a string field of the first value to a second key, in one call', async () => {
    store ??= await open();
    await store.put('link:rec', { head_key: 'link:head:x', other: 1 });
    await store.put('link:head:x', { head: true });
    await store.put('link:lonely', { other: 2 });
    const [rec, head] = await store.getLinked<{ head_key: string }, { head: boolean }>('link:rec', 'head_key');
    expect(rec?.value.head_key).toBe('link:head:x');
    expect(head?.value).toEqual({ head: true });
    expect(await store.replace('link:head:x', head!, { head: false })).toBeDefined();
    const [lonely, none] = await store.getLinked('link:lonely', 'head_key');
    expect(lonely?.value).toEqual({ other: 2 });
    expect(none).toBeUndefined();
    expect(await store.getLinked('link:absent', 'head_key')).toEqual([undefined, undefined]);
  });

  it('put, get, delete and entries by prefix (including LIKE and glob wildcards in keys)', async () => {
    store ??= await open();
    await store.put('p_x:1', { a: 1 });
    await store.put('p_x:2', { a: 2 });
    await store.put('pzx:3', { a: 3 });
    await store.put('p*x:4', { a: 4 }); // a glob character for Redis SCAN MATCH
    const seen: Array<[string, unknown]> = [];
    for await (const entry of store.entries('p_x:')) seen.push(entry);
    expect(seen).toEqual([
      ['p_x:1', { a: 1 }],
      ['p_x:2', { a: 2 }],
    ]);
    const starred: Array<[string, unknown]> = [];
    for await (const entry of store.entries('p*')) starred.push(entry);
    expect(starred).toEqual([['p*x:4', { a: 4 }]]);
    expect(await store.delete('p_x:1')).toBe(true);
    expect(await store.get('p_x:1')).toBeUndefined();
  });
});

describe('R9: ONCE_STORE is parsed before anything starts', () => {
  it('accepts the documented forms', () => {
    expect(parseStoreUrl('sqlite:///tmp/a.db')).toEqual({ kind: 'sqlite', path: '/tmp/a.db' });
    expect(parseStoreUrl('postgres://u@h:5432/db')).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/db' });
    expect(parseStoreUrl('redis://h:6379/2')).toEqual({ kind: 'redis', url: 'redis://h:6379/2' });
    expect(parseStoreUrl('rediss://:pw@h:6380')).toEqual({ kind: 'redis', url: 'rediss://:pw@h:6380' });
    expect(parseStoreUrl('memory://')).toEqual({ kind: 'memory' });
    expect(parseStoreUrl(undefined, { XDG_STATE_HOME: '/state' })).toEqual({
      kind: 'sqlite',
      path: '/state/once-checkout/ledger.db',
    });
  });

  it.each([
    ['mysql://h/db', /ONCE_STORE: the scheme "mysql:" is not a known store\. Use sqlite:\/\/\//],
    ['sqlite://relative.db', /ONCE_STORE: the SQLite path "relative.db" is not absolute/],
    ['postgres://', /ONCE_STORE: the PostgreSQL URL cannot be parsed/],
    ['redis://h:6379/abc', /ONCE_STORE: the Redis URL cannot be parsed/],
    ['just words', /ONCE_STORE: "just words" is not a store URL/],
  ])('a malformed ONCE_STORE (%s) is refused with one line naming the variable and the fix', (value, message) => {
    expect(() => parseStoreUrl(value)).toThrow(message);
  });
});

describe('R9: an unreachable store fails closed', () => {
  it('PostgreSQL on a closed port answers store_unavailable', async () => {
    const store = await openPostgresStore('postgres://postgres@127.0.0.1:1/none');
    await expect(store.claim('k', { a: 1 })).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
  });

  it('Redis on a closed port answers store_unavailable at once, for the claim and for a plain write', async () => {
    const store = await openRedisStore('redis://127.0.0.1:1/0');
    await expect(store.claim('k', { a: 1 })).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.put('k', { a: 1 })).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
  }, 15_000); // a reconnect loop that never gives up would hang here

  it('Redis that accepts connections but never answers is cut off, and the call answers store_unavailable', async () => {
    const silent = createServer(() => {}); // accepts, never replies
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = await openRedisStore(`redis://127.0.0.1:${port}/0`);
    try {
      await expect(store.claim('k', { a: 1 })).rejects.toMatchObject({ code: 'store_unavailable' });
    } finally {
      await store.close();
      silent.close();
      silent.unref();
    }
  }, 20_000);
});

describe('R9: writes fail loudly', () => {
  it('R9: put and delete on an unreachable PostgreSQL reject with store_unavailable instead of returning quietly', async () => {
    const store = await openPostgresStore('postgres://postgres@127.0.0.1:1/none');
    await expect(store.put('k', { a: 1 })).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.delete('k')).rejects.toMatchObject({ code: 'store_unavailable' });
    await store.close();
  });
});
