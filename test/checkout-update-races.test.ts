// update_checkout and cancel_checkout (R13, R14): interleavings with complete_checkout and
// get_checkout after a lost reply, a store error or a crash. Each test drives the engine against the
// in-process sandbox merchant, whose own records say what was charged.
import { describe, expect, it } from 'vitest';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts, type CallHooks } from '../src/checkout/checkouts.js';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { chargesAt, created, engine, HOUR, ok, payWith, wrapStore } from './support/checkout-engine.js';

const payA = payWith('card_a');

/**
 * The engine whose store refuses to settle update records while `failing.on` (a row that stays busy): the merchant
 * applies the update, the ledger cannot say so, and the agent hears store_unavailable ("may have acted").
 */
function updateSettleFails(maxOrderAmount?: number) {
  const failing = { on: false };
  const e = engine({
    maxOrderAmount,
    wrap: (inner) =>
      wrapStore(inner, {
        replace: async (k, e, n) => {
          const next = n as { operation?: string; state?: { status?: string } };
          if (failing.on && k.startsWith('rec:') && next.operation === 'update' && next.state?.status !== 'pending') {
            throw new StoreUnavailableError('store memory:// unavailable: database is locked');
          }
          return inner.replace(k, e, n);
        },
      }),
  });
  return { ...e, failing };
}

describe('R14: update_checkout and cancel_checkout under faults', () => {
  it('R14: an update the merchant applied but whose outcome the ledger could not record (store_unavailable "may have acted") leaves complete checking the live cart: the cap holds', async () => {
    // The store fails every write that would settle the update's record (a row that stays busy), while the
    // checkout's head can still be written: the merchant applied the update, the ledger cannot say so.
    const { checkouts, charges, failing } = updateSettleFails(5_000);
    const { id } = await created(checkouts); // 1 mug (1400): under the cap; the agent was shown it
    failing.on = true;
    const update = await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] }); // 9 mugs: over the cap
    failing.on = false;
    // The agent is told honestly that the merchant may have acted.
    expect(update).toMatchObject({ ok: false, failure: { code: 'store_unavailable' } });
    expect(update.ok ? '' : update.failure.message).toMatch(/may have acted/);
    // It pays the cart it was last shown (1 mug); the person is asked to approve that total.
    const asked: number[] = [];
    const hooks: CallHooks = { confirm: async (request) => (asked.push(request.total), 'accepted') };
    const paid = await checkouts.complete('alice', id, payA, hooks);
    // R14: the update may have changed the cart, so complete must read the live one (9 mugs) and refuse
    // (checkout_changed, then spend_cap_exceeded) rather than charge 9 mugs (14,203) under a 5,000 cap.
    const charged = (await charges()).map((c) => c.amount);
    expect({ ok: paid.ok, asked, charged }).toEqual({ ok: false, asked: [], charged: [] });
  });

  it('R14: an update run by one server process after another process (its clock a little ahead) read the checkout is applied to the head: the answer shows the new cart, and the cap holds', async () => {
    // Two server processes on one ledger store and one merchant, as in a deployment; B's clock is 0.5 s ahead of A's.
    const merchantStore = openMemoryStore();
    const ledgerStore = openMemoryStore();
    const clockA = new ManualClock();
    const clockB = new ManualClock(clockA.now() + 500);
    const processOn = (clock: ManualClock) =>
      new Checkouts({
        ledger: new Ledger({ store: ledgerStore, clock, ttlMs: 23 * HOUR }),
        backend: new SandboxBackend({ store: merchantStore, now: () => clock.now() }),
        windowMs: HOUR,
        maxOrderAmount: 5_000,
      });
    const a = processOn(clockA);
    const b = processOn(clockB);
    const { id } = await created(a); // 1 mug: under the cap
    ok(await b.get('alice', id)); // the agent looks at it through B
    clockA.advance(100);
    clockB.advance(100);
    const updated = await a.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] }); // 9 mugs, through A
    const paid = await a.complete('alice', id, payA);
    const charged = (await chargesAt(merchantStore)).map((c) => c.amount);
    // The update's answer is the merchant's cart (9 mugs), and no charge goes above the 5,000 cap.
    expect({ quantity: updated.ok && updated.checkout.line_items[0].quantity, paid: paid.ok, charged }).toEqual({ quantity: 9, paid: false, charged: [] });
  });
});

describe('R14: two completes sent at once (a model that repeats its call) after the cart changed', () => {
  it('R14: of two completes sent together after the cart changed unseen, the one that waited for the other is refused too: the refusal shown to one call is not an approval for the other', async () => {
    const { checkouts, charges, failing } = updateSettleFails();
    const { id } = await created(checkouts); // 1 mug: what the agent was shown
    failing.on = true;
    const update = await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] }); // applied, not recorded
    failing.on = false;
    expect(update.ok ? 'ok' : update.failure.code).toBe('store_unavailable');
    // The model sends complete twice at once, both for the cart it saw (1 mug). One settles the update and is
    // refused (checkout_changed, with the 9-mug cart); the other was sent before anyone saw that answer.
    const [a, b] = await Promise.all([checkouts.complete('alice', id, payA), checkouts.complete('alice', id, payA)]);
    const codes = [a, b].map((r) => (r.ok ? 'ok' : r.failure.code)).sort();
    expect({ codes, charged: (await charges()).map((c) => c.amount) }).toEqual({ codes: ['checkout_changed', 'checkout_changed'], charged: [] });
  });
});

describe('R14: a refusal whose answer was lost is no approval', () => {
  it('R14: a checkout_changed answer the agent never received (a dropped response) does not let the retry of the same complete charge the new cart; get_checkout does', async () => {
    const { checkouts, charges, failing } = updateSettleFails();
    const { id } = await created(checkouts); // 1 mug: what the agent was shown
    failing.on = true;
    await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] }); // applied, not recorded
    failing.on = false;
    const refused = await checkouts.complete('alice', id, payA); // checkout_changed: this answer is lost on the way
    expect(refused.ok ? 'ok' : refused.failure.code).toBe('checkout_changed');
    const retried = await checkouts.complete('alice', id, payA); // the model retries the call it saw no answer to
    expect({ code: retried.ok ? 'ok' : retried.failure.code, charged: (await charges()).length }).toEqual({ code: 'checkout_changed', charged: 0 });
    ok(await checkouts.get('alice', id)); // the agent reads the checkout, and the person agrees
    expect(ok(await checkouts.complete('alice', id, payA)).status).toBe('completed');
    expect((await charges()).map((c) => c.amount)).toEqual([14_203]);
  });
});
