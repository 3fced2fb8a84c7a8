import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { openMemoryStore } from '../src/store/memory.js';
import { StoreUnavailableError, type Store } from '../src/store/store.js';
import { SandboxMerchant, TOKEN_OK, type MerchantResponse } from '../src/backends/sandbox/merchant.js';
import { canonicalJson } from '../src/backends/sandbox/idempotency.js';
import type { SandboxSession } from '../src/backends/sandbox/cart.js';
import type { AcpError } from '../src/backends/sandbox/errors.js';

const HOUR = 3_600_000;
const address = { name: 'A', line_one: '1 St', city: 'C', state: 'S', country: 'US', postal_code: '10001' };
const cart = { line_items: [{ id: 'sku_mug' }], currency: 'usd', fulfillment_details: { address } };
const session = (r: MerchantResponse) => r.body as SandboxSession;
const error = (r: MerchantResponse) => r.body as AcpError;

function post(merchant: SandboxMerchant, path: string, key: string | undefined, body: unknown, identity = 'agent-1') {
  return merchant.handle({ method: 'POST', path, identity, idempotencyKey: key, body });
}

/** A store whose session writes wait for `release()`, so a request can be held in flight. */
function gatedStore(inner: Store) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered!: () => void;
  const reached = new Promise<void>((resolve) => (entered = resolve));
  // Inherit every Store method from the real one; override only the step we hold.
  const store = Object.create(inner) as Store;
  store.claim = async (k, v) => {
    if (k.startsWith('sandbox:session:')) {
      entered();
      await gate;
    }
    return inner.claim(k, v);
  };
  return { store, reached, release: () => open() };
}

/** A store whose next session write fails with `error`. */
function failingOnce(inner: Store, failure: Error): Store {
  let failed = false;
  const store = Object.create(inner) as Store;
  store.claim = async (k, v) => {
    if (!failed && k.startsWith('sandbox:session:')) {
      failed = true;
      throw failure;
    }
    return inner.claim(k, v);
  };
  return store;
}

describe('sandbox merchant idempotency (ACP 2026-04-17)', () => {
  it('same key, same body: the stored answer is replayed (same session, Idempotent-Replayed), nothing runs twice', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const first = await post(merchant, '/checkout_sessions', 'key-1', cart);
    const second = await post(merchant, '/checkout_sessions', 'key-1', cart);
    expect(first.status).toBe(201);
    expect(first.replayed).toBe(false);
    expect(second.status).toBe(201);
    expect(second.replayed).toBe(true);
    expect(second.headers['Idempotent-Replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect((await merchant.stats()).sessions).toBe(1);
  });

  it('a repeated complete with the same key replays the order and charges once', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const id = session(await post(merchant, '/checkout_sessions', 'c', cart)).id;
    const body = { payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: TOKEN_OK } } } };
    const a = await post(merchant, `/checkout_sessions/${id}/complete`, 'pay-1', body);
    const b = await post(merchant, `/checkout_sessions/${id}/complete`, 'pay-1', body);
    expect(b.replayed).toBe(true);
    expect(session(b).order).toEqual(session(a).order);
    expect(await merchant.stats()).toEqual({ sessions: 1, orders: 1, charges: 1, declines: 0 });
  });

  it('bodies compare by JSON meaning: key order is ignored', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    await post(merchant, '/checkout_sessions', 'k', { currency: 'usd', line_items: [{ id: 'sku_mug' }] });
    const again = await post(merchant, '/checkout_sessions', 'k', { line_items: [{ id: 'sku_mug' }], currency: 'usd' });
    expect(again.replayed).toBe(true);
  });

  it('same key, different body: 422 idempotency_conflict (array order and null vs absent count)', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const items = { currency: 'usd', line_items: [{ id: 'sku_mug' }, { id: 'sku_cap' }] };
    await post(merchant, '/checkout_sessions', 'k', items);
    const reordered = await post(merchant, '/checkout_sessions', 'k', { ...items, line_items: [{ id: 'sku_cap' }, { id: 'sku_mug' }] });
    expect(reordered.status).toBe(422);
    expect(reordered.body).toEqual({
      type: 'invalid_request',
      code: 'idempotency_conflict',
      message: 'Idempotency-Key has already been used with a different request body',
    });
    const id = session(await post(merchant, '/checkout_sessions', 'k2', cart)).id;
    await post(merchant, `/checkout_sessions/${id}`, 'u', {});
    const withNull = await post(merchant, `/checkout_sessions/${id}`, 'u', { buyer: null });
    expect(error(withNull).code).toBe('idempotency_conflict');
  });

  it('a key still in flight: 409 idempotency_in_flight with Retry-After, also from a second merchant on the same store', async () => {
    const shared = openMemoryStore();
    const gated = gatedStore(shared);
    const busy = new SandboxMerchant({ store: gated.store });
    const other = new SandboxMerchant({ store: shared });
    const running = post(busy, '/checkout_sessions', 'slow', cart);
    await gated.reached;
    const duplicate = await post(other, '/checkout_sessions', 'slow', cart);
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers['Retry-After']).toBe('1');
    expect(error(duplicate)).toMatchObject({ type: 'invalid_request', code: 'idempotency_in_flight' });
    gated.release();
    const done = await running;
    expect(done.status).toBe(201);
    const after = await post(other, '/checkout_sessions', 'slow', cart);
    expect(after.replayed).toBe(true);
    expect(session(after).id).toBe(session(done).id);
    expect((await other.stats()).sessions).toBe(1);
  });

  it('an in-flight record whose owner died is taken over after its 30 s lease', async () => {
    let now = 1_000_000;
    const shared = openMemoryStore();
    const gated = gatedStore(shared);
    const dying = new SandboxMerchant({ store: gated.store, now: () => now });
    void post(dying, '/checkout_sessions', 'orphan', cart); // never released: the "process" died
    await gated.reached;
    const survivor = new SandboxMerchant({ store: shared, now: () => now });
    expect((await post(survivor, '/checkout_sessions', 'orphan', cart)).status).toBe(409);
    now += 30_000;
    const taken = await post(survivor, '/checkout_sessions', 'orphan', cart);
    expect(taken.status).toBe(201);
    expect(taken.replayed).toBe(false);
  });

  it('5xx answers are not stored: a retry with the same key runs fresh', async () => {
    const merchant = new SandboxMerchant({ store: failingOnce(openMemoryStore(), new StoreUnavailableError('disk gone')) });
    const failed = await post(merchant, '/checkout_sessions', 'k', cart);
    expect(failed.status).toBe(503);
    expect(error(failed)).toMatchObject({ type: 'service_unavailable', code: 'store_unavailable' });
    const retried = await post(merchant, '/checkout_sessions', 'k', cart);
    expect(retried.status).toBe(201);
    expect(retried.replayed).toBe(false);
    expect((await merchant.stats()).sessions).toBe(1);
  });

  it('an unexpected failure is a 500 processing_error, also not stored', async () => {
    const merchant = new SandboxMerchant({ store: failingOnce(openMemoryStore(), new Error('boom')) });
    const failed = await post(merchant, '/checkout_sessions', 'k', cart);
    expect(failed.status).toBe(500);
    expect(error(failed).type).toBe('processing_error');
    expect((await post(merchant, '/checkout_sessions', 'k', cart)).status).toBe(201);
  });

  it('4xx answers are stored and replayed like any other', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const bad = { line_items: [{ id: 'nope' }], currency: 'usd' };
    await post(merchant, '/checkout_sessions', 'k', bad);
    const again = await post(merchant, '/checkout_sessions', 'k', bad);
    expect(again.status).toBe(400);
    expect(again.replayed).toBe(true);
  });

  it('keys are kept 24 h: a reuse just before is replayed, just after it is a new request', async () => {
    const start = Date.parse('2026-05-01T00:00:00Z');
    let now = start;
    const merchant = new SandboxMerchant({ store: openMemoryStore(), now: () => now });
    const first = await post(merchant, '/checkout_sessions', 'day-key', cart);
    now = start + 24 * HOUR - 1;
    const replay = await post(merchant, '/checkout_sessions', 'day-key', cart);
    expect(replay.replayed).toBe(true);
    expect(session(replay).id).toBe(session(first).id);
    now = start + 24 * HOUR;
    const fresh = await post(merchant, '/checkout_sessions', 'day-key', cart);
    expect(fresh.replayed).toBe(false);
    expect(session(fresh).id).not.toBe(session(first).id);
    // And the new answer is what the key now replays.
    expect(session(await post(merchant, '/checkout_sessions', 'day-key', cart)).id).toBe(session(fresh).id);
  });

  it('keys are scoped per identity and per endpoint path', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const a = await post(merchant, '/checkout_sessions', 'shared', cart, 'agent-a');
    const b = await post(merchant, '/checkout_sessions', 'shared', cart, 'agent-b');
    expect(b.replayed).toBe(false);
    expect(session(b).id).not.toBe(session(a).id);
    const id = session(a).id;
    const update = await post(merchant, `/checkout_sessions/${id}`, 'shared', {}, 'agent-a');
    expect(update.status).toBe(200);
    expect(update.replayed).toBe(false);
  });

  it('every POST needs an Idempotency-Key (400 idempotency_key_required); GET needs none', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore() });
    const r = await post(merchant, '/checkout_sessions', undefined, cart);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ type: 'invalid_request', code: 'idempotency_key_required', message: 'Idempotency-Key header is required' });
    expect((await post(merchant, '/checkout_sessions', 'x'.repeat(256), cart)).status).toBe(400);
    expect((await merchant.stats()).sessions).toBe(0);
  });

  it('test mode ignoreIdempotencyKeys: the same key runs twice (a merchant that ignores keys)', async () => {
    const merchant = new SandboxMerchant({ store: openMemoryStore(), ignoreIdempotencyKeys: true });
    const a = await post(merchant, '/checkout_sessions', 'same', cart);
    const b = await post(merchant, '/checkout_sessions', 'same', cart);
    expect(b.replayed).toBe(false);
    expect(session(b).id).not.toBe(session(a).id);
    expect((await post(merchant, '/checkout_sessions', undefined, cart)).status).toBe(201);
    expect((await merchant.stats()).sessions).toBe(3);
  });
});

describe('canonical JSON for body comparison', () => {
  it('ignores object key order at any depth, keeps array order, null differs from absent', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
    expect(canonicalJson({ a: undefined })).toBe(canonicalJson({}));
  });

  it('property: any permutation of an object\'s keys has the same canonical form', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(object));
      }),
    );
  });
});
