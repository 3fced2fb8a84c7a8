// The checkout's head under interleavings found by review (R13, R14): a get_checkout whose merchant read is
// older than an update that ran meanwhile, and a store that fails on the head write after the merchant charged.
// The engine runs against the in-process sandbox merchant, whose own records say what was charged.
import { describe, expect, it } from 'vitest';
import type { CallHooks, ConfirmRequest } from '../src/checkout/checkouts.js';
import type { CheckoutSession } from '../src/commerce/session.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { created, engine, ok, payWith, slowNextRead, wrapStore } from './support/checkout-engine.js';

const payA = payWith('card_a');

describe('R13/R14: the head under interleavings', () => {
  it('R14: a get_checkout whose merchant read is older than an update that ran meanwhile does not make the head fresh: complete checks the live cart, and the cap holds', async () => {
    const { backend, checkouts, charges } = engine({ maxOrderAmount: 5_000 });
    const { id } = await created(checkouts); // 1 mug: under the cap
    const { hasRead, answer } = slowNextRead(backend); // it reads 1 mug, and answers late
    const reading = checkouts.get('alice', id);
    await hasRead;
    ok(await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] })); // 9 mugs: over the cap
    answer();
    ok(await reading);
    const paid = await checkouts.complete('alice', id, payA);
    expect(paid.ok).toBe(false);
    expect(await charges()).toEqual([]);
  });

  it('R13: the store failing on the head write after the merchant charged does not turn the charge into "this call sent nothing"', async () => {
    let recordSettled = false;
    const { clock, checkouts, charges } = engine({
      wrap: (inner) =>
        wrapStore(inner, {
          // Once: the first head write after the complete's record settled fails, as a store blip would.
          replace: async (k, e, n) => {
            if (k.startsWith('anchor:') && recordSettled) {
              recordSettled = false;
              throw new StoreUnavailableError('store memory:// unavailable: connection reset');
            }
            const written = await inner.replace(k, e, n);
            const value = n as { operation?: string; state?: { status?: string } };
            if (value.operation === 'complete' && value.state?.status === 'succeeded') recordSettled = true;
            return written;
          },
        }),
    });
    const { id } = await created(checkouts);
    const result = await checkouts.complete('alice', id, payA);
    expect(await charges()).toHaveLength(1);
    expect(result.ok ? 'completed' : result.failure.message).toBe('completed');
    // The head still has the complete open: the next call on the checkout settles it first, and says it is done.
    clock.advance(60_000);
    const again = await checkouts.complete('alice', id, payA);
    expect(again.ok && again.checkout.status).toBe('completed');
    expect(await charges()).toHaveLength(1);
  });

  it('R13: an order event that completed the checkout while a complete’s resend ended unknown is not undone by that call’s release', async () => {
    // Another process's order event, landing right after this call's resend is recorded unknown, before its release.
    let betweenSettleAndRelease: (() => Promise<void>) | undefined;
    const { clock, backend, ledger, checkouts, charges } = engine({
      wrap: (inner) =>
        wrapStore(inner, {
          replace: async (k, e, n) => {
            const written = await inner.replace(k, e, n);
            const value = n as { operation?: string; state?: { status?: string } };
            if (written && value.operation === 'complete' && value.state?.status === 'unknown' && betweenSettleAndRelease) {
              const run = betweenSettleAndRelease;
              betweenSettleAndRelease = undefined;
              await run();
            }
            return written;
          },
        }),
    });
    const { id } = await created(checkouts);
    // The first complete is lost on the way (nothing charged); the resend reaches the merchant, its answer is lost.
    const complete = backend.complete.bind(backend);
    let sends = 0;
    backend.complete = async (...args) => {
      sends += 1;
      if (sends > 1) await complete(...args);
      return { kind: 'unknown', reason: 'no answer within ACP_TIMEOUT (15s)' };
    };
    expect((await checkouts.complete('alice', id, payA)).ok).toBe(false);
    betweenSettleAndRelease = async () => {
      const head = (await checkouts.heads.read(id))!.value;
      const key = head.open.find((o) => o.operation === 'complete')!.key;
      const order = { id: 'ord_1', checkout_session_id: id, permalink_url: 'https://sandbox.once-checkout.invalid/orders/ord_1' };
      const completed: CheckoutSession = { ...head.checkout, status: 'completed', order };
      await ledger.settleFromProvider<CheckoutSession>(key, async () => ({ kind: 'settled', result: { kind: 'succeeded', value: completed, anchor: id } }), {
        takeOver: 'order event',
        shows: 'the signed order event',
      });
      await checkouts.heads.applyOrder(id, { seq: 1, digest: 'order-1', value: order }, [key], clock.now());
    };
    await checkouts.complete('alice', id, payA);
    expect(betweenSettleAndRelease).toBeUndefined(); // the event did land in between
    expect(await charges()).toHaveLength(1);
    const head = (await checkouts.heads.read(id))!.value;
    expect({ status: head.checkout.status, open: head.open }).toEqual({ status: 'completed', open: [] });
  });

  it('R13: a complete the merchant refuses while it is still completing the checkout (a payment under way) is unknown, never a refusal', async () => {
    const { backend, checkouts, charges } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    const get = backend.get.bind(backend);
    let processing = false;
    backend.complete = async (...args) => {
      await complete(...args); // the merchant takes the payment…
      processing = true; // …and says it is busy with this request
      return { kind: 'failed', code: 'request_in_progress', message: 'a request is already in progress' };
    };
    backend.get = async (checkoutId) => {
      const seen = await get(checkoutId);
      if (!processing || seen.kind !== 'succeeded') return seen;
      const { order: _order, ...rest } = seen.checkout;
      return { ...seen, checkout: { ...rest, status: 'complete_in_progress' } as CheckoutSession };
    };
    const result = await checkouts.complete('alice', id, payA);
    expect(await charges()).toHaveLength(1);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure.code).not.toBe('merchant_error');
    expect(result.ok ? '' : result.failure.message).not.toMatch(/refused/i);
  });

  const reconfirmation = (answer: 'accepted' | 'declined') => async () => {
    const { backend, checkouts, charges } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    let lose = true;
    backend.complete = async (...args) => {
      if (!lose) return complete(...args);
      lose = false; // the first request never reaches the merchant
      return { kind: 'unknown', reason: 'no answer within ACP_TIMEOUT (15s)' };
    };
    const asked: ConfirmRequest[] = [];
    const first: CallHooks = { confirm: async (request) => (asked.push(request), 'accepted') };
    expect((await checkouts.complete('alice', id, payA, first)).ok).toBe(false); // unknown
    // The merchant changes the cart on its side; the agent is shown it (checkout_changed), then pays again.
    await backend.update(id, { items: [{ id: 'sku_mug', quantity: 5 }] }, { idempotencyKey: 'merchant-side', attempt: 1, requestId: 'merchant-side' });
    const changed = await checkouts.complete('alice', id, payA, first);
    expect(changed.ok ? '' : changed.failure.code).toBe('checkout_changed');
    ok(await checkouts.get('alice', id)); // the agent reads the checkout, as the refusal says
    const again: CallHooks = { confirm: async (request) => (asked.push(request), answer) };
    const paid = await checkouts.complete('alice', id, payA, again);
    expect(asked.map((r) => [r.total, r.earlierAttempt ?? false])).toEqual([
      [asked[0].total, false],
      [asked[1]?.total, true],
    ]);
    expect(asked[1].total).toBeGreaterThan(asked[0].total);
    if (answer === 'accepted') {
      expect(paid.ok).toBe(true);
      expect((await charges()).map((c) => c.amount)).toEqual([asked[1].total]);
    } else {
      expect(paid.ok ? '' : paid.failure.code).toBe('declined_by_user');
      // R13: the earlier attempt may still land, so the answer never says nothing was charged.
      expect(paid.ok ? '' : paid.failure.message).not.toMatch(/nothing was charged/);
      expect(await charges()).toEqual([]);
    }
  };
  it('R14: a complete whose first attempt was lost, after the merchant changed the cart, asks the person again before the resend charges the new total (accepted)', reconfirmation('accepted'));
  it('R14: a complete whose first attempt was lost, after the merchant changed the cart, asks the person again before the resend charges the new total (declined)', reconfirmation('declined'));
});
