// create_checkout replays and the record's lifecycle: the window W counted from a late success, a replay after
// another server (its clock behind) changed the checkout, and a reconcile pass run for another merchant.
import { describe, expect, it } from 'vitest';
import type { Backend, BackendResult } from '../src/backends/backend.js';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import type { CheckoutSession } from '../src/commerce/session.js';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger } from '../src/ledger/ledger.js';
import { reconcileSweep } from '../src/operator/reconcile-sweep.js';
import { openMemoryStore } from '../src/store/memory.js';
import { cart, chargesAt, created, engine, HOUR, ok, payWith } from './support/checkout-engine.js';

const MINUTE = 60_000;

/** The first `n` create calls are lost before they reach the merchant (a timeout on connect): unknown, nothing sent. */
function loseCreates(backend: SandboxBackend, n: number): void {
  const real = backend.create.bind(backend);
  let left = n;
  backend.create = async (input, ctx) => {
    if (left > 0) {
      left -= 1;
      return { kind: 'unknown', reason: 'request timed out' };
    }
    return real(input, ctx);
  };
}

describe('R3: the window W counts from the successful attempt, whatever the record TTL says', () => {
  it('R3: a create that succeeded on a retry late in its record’s life is still matched within W after the success (default 23 h TTL, 1 h W)', async () => {
    const { checkouts, backend, clock } = engine();
    loseCreates(backend, 1);
    // The first attempt is lost (unknown); the merchant is unreachable for hours; the agent's retry resends
    // the same key 22 h 30 min later, within the provider's 24 h retention, and the checkout is created then.
    expect(await checkouts.create('alice', cart)).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    clock.advance(22 * HOUR + 30 * MINUTE);
    const first = ok(await checkouts.create('alice', cart));
    // 35 minutes after the checkout was created (well within W = 1 h), the agent repeats the same create.
    clock.advance(35 * MINUTE);
    const again = await checkouts.create('alice', cart);
    expect(ok(again).id).toBe(first.id);
    expect(again.ok && again.idempotency.replayed).toBe(true);
    expect((await backend.sandbox.stats()).sessions).toBe(1);
  });

  it('R3: with W equal to the TTL (as the configuration allows), a create that succeeded 10 min after its first attempt is matched for W after the success', async () => {
    const clock = new ManualClock();
    const backend = new SandboxBackend({ store: openMemoryStore(), now: () => clock.now() });
    const ledger = new Ledger({ store: openMemoryStore(), clock, ttlMs: HOUR });
    const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR });
    loseCreates(backend, 1);
    expect(await checkouts.create('alice', cart)).toMatchObject({ ok: false });
    clock.advance(10 * MINUTE);
    const first = ok(await checkouts.create('alice', cart));
    clock.advance(55 * MINUTE); // 55 min after the success, 65 min after the first attempt
    const again = await checkouts.create('alice', cart);
    expect(ok(again).id).toBe(first.id);
    expect((await backend.sandbox.stats()).sessions).toBe(1);
  });
});

/**
 * A second merchant behind the same backend name, on the same ledger store (R15: "two merchants that both
 * number checkouts cs_1, cs_2… never see each other's"). Its checkout under `id` is completed with its own order.
 */
function otherMerchant(base: Backend, completedThere: CheckoutSession): Backend {
  const refuse = async (): Promise<BackendResult> => ({ kind: 'failed', code: 'not_used', message: 'not used in this test' });
  return {
    name: base.name,
    merchant: 'shop-b',
    retention: base.retention,
    create: refuse,
    update: refuse,
    complete: refuse,
    cancel: refuse,
    get: async (id) => ({ kind: 'succeeded', checkout: { ...completedThere, id } }),
  };
}

describe('R15/R13: the reconcile sweep reads a record’s checkout at the merchant that holds it', () => {
  it('R15: a reconcile pass of the server for another merchant (same backend, same store) does not settle this merchant’s unknown complete from that merchant’s checkout of the same id', async () => {
    const { checkouts, backend, ledger, clock, charges } = engine();
    // Merchant B's own checkout, completed with its own order (made on a sandbox of its own).
    const shopB = new Checkouts({ ledger: new Ledger({ store: openMemoryStore(), clock, ttlMs: 23 * HOUR }), backend: new SandboxBackend({ store: openMemoryStore(), now: () => clock.now() }), windowMs: HOUR });
    const atB = await created(shopB);
    const completedAtB = ok(await shopB.complete('alice', atB.id, payWith('card')));
    expect(completedAtB.order?.id).toBeDefined();

    // At this merchant: alice's complete is lost before it reaches the merchant (unknown, nothing charged).
    const checkout = await created(checkouts);
    const realComplete = backend.complete.bind(backend);
    let lose = true;
    backend.complete = async (id, input, ctx) => {
      if (lose) {
        lose = false;
        return { kind: 'unknown', reason: 'request timed out' };
      }
      return realComplete(id, input, ctx);
    };
    expect(await checkouts.complete('alice', checkout.id, payWith('card'))).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    expect(await charges()).toHaveLength(0);

    // The server of merchant B, on the same store, runs its periodic reconcile pass over every open record.
    clock.advance(5 * MINUTE);
    const entries = await reconcileSweep(ledger, otherMerchant(backend, completedAtB));
    const mine = entries.find((e) => e.anchor === checkout.id);
    expect(mine?.verdict).not.toBe('settled');

    // Alice's agent calls complete again at this merchant: it must pay here once, not be told B's order.
    clock.advance(MINUTE);
    const again = ok(await checkouts.complete('alice', checkout.id, payWith('card')));
    expect(await charges()).toHaveLength(1);
    expect(again.order?.id).not.toBe(completedAtB.order?.id);
  });
});

describe('R11: a create replay shows the checkout as it is now', () => {
  it('R11: a create replayed after an update made by a server whose clock runs behind returns the updated checkout, not the create’s snapshot', async () => {
    // Two servers on one store and one merchant; the second one's clock is 5 s behind the first's.
    const store = openMemoryStore();
    const clockA = new ManualClock();
    const clockB = new ManualClock(clockA.now() - 5_000);
    const backend = new SandboxBackend({ store: openMemoryStore(), now: () => clockA.now() });
    const serverA = new Checkouts({ ledger: new Ledger({ store, clock: clockA, ttlMs: 23 * HOUR }), backend, windowMs: HOUR });
    const serverB = new Checkouts({ ledger: new Ledger({ store, clock: clockB, ttlMs: 23 * HOUR }), backend, windowMs: HOUR });

    const first = await created(serverA);
    clockA.advance(1_000);
    clockB.advance(1_000);
    const updated = ok(await serverB.update('alice', first.id, { items: [{ id: 'sku_mug', quantity: 2 }] }));
    expect(updated.line_items[0]?.quantity).toBe(2);

    clockA.advance(1_000);
    clockB.advance(1_000);
    // The agent repeats its create (the same cart, within W): the replay must show the checkout as it now is.
    const replay = await serverA.create('alice', cart);
    expect(replay.ok && replay.idempotency.replayed).toBe(true);
    expect(ok(replay).line_items[0]?.quantity).toBe(2);
    expect(ok(replay)).toEqual(updated);
  });
});
