// The checkout as the unit of truth (R13–R15), tried as an adversary would: interleavings that used to end
// with a charge the agent was told had failed, a charge above the cap, or a cart the agent never saw.
// Each scenario drives the engine against the in-process sandbox merchant, whose own records say what was
// charged; a wrapper around the backend plays the network (a held request, a lost answer).
import { describe, expect, it } from 'vitest';
import type { Backend, BackendResult } from '../src/backends/backend.js';
import { Checkouts, type CallHooks } from '../src/checkout/checkouts.js';
import type { CheckoutSession } from '../src/commerce/session.js';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import { cart, created, engine, held, HOUR, ok, payWith, timedOut } from './support/checkout-engine.js';
import { toCallToolResult } from '../src/server/server.js';
import { resultOutput } from '../src/server/output-schema.js';

const payA = payWith('card_a');
const payB = payWith('card_b');



describe('R13: the agent ends with the order whenever the merchant charged', () => {
  it('R13 scenario 1: a retry with other payment data while the first is still at the merchant returns the first one’s order', async () => {
    const { backend, checkouts, charges } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    let first: ReturnType<typeof held> | undefined;
    backend.complete = async (...args) => {
      if (!first) {
        first = held(() => complete(...args));
        return timedOut;
      }
      // Attempt 1 commits just before attempt 2 arrives: the merchant refuses the second as already completed.
      first.release();
      await first.landed;
      return complete(...args);
    };
    const lost = await checkouts.complete('alice', id, payA);
    expect(lost).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    const second = await checkouts.complete('alice', id, payB);
    const checkout = ok(second);
    expect(checkout.status).toBe('completed');
    expect(checkout.order?.id).toBeDefined();
    // And every later call says so too, never "failed" or attempts_exhausted.
    for (const pay of [payB, payA, payB]) expect(ok(await checkouts.complete('alice', id, pay)).order?.id).toBe(checkout.order?.id);
    expect(await charges()).toHaveLength(1);
  });

  it('R13 scenario 3: after an approved complete whose answer was lost, the person is not asked again and the order is returned', async () => {
    const { backend, checkouts, charges } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    let lose = true;
    backend.complete = async (...args) => {
      const answer = await complete(...args);
      if (!lose) return answer;
      lose = false;
      return timedOut; // the merchant charged; the answer never came back
    };
    const asked: number[] = [];
    const hooks = (answer: 'accepted' | 'declined'): CallHooks => ({
      confirm: async (request) => {
        asked.push(request.total);
        return answer;
      },
    });
    expect(await checkouts.complete('alice', id, payA, hooks('accepted'))).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    // The person would say no now: they must not be asked, and must not hear "nothing was charged".
    const again = await checkouts.complete('alice', id, payA, hooks('declined'));
    expect(ok(again).order).toBeDefined();
    expect(asked).toHaveLength(1);
    expect(await charges()).toHaveLength(1);
  });

  it('R13 scenario 7: complete repeated after its record expired returns the order and sends nothing', async () => {
    const { backend, checkouts, clock, charges } = engine();
    const { id } = await created(checkouts);
    const order = ok(await checkouts.complete('alice', id, payA)).order;
    clock.advance(23 * HOUR + 60_000);
    let sent = 0;
    const complete = backend.complete.bind(backend);
    backend.complete = async (...args) => {
      sent += 1;
      return complete(...args);
    };
    const again = await checkouts.complete('alice', id, payA);
    expect(ok(again).order?.id).toBe(order?.id);
    expect(sent).toBe(0);
    expect(await charges()).toHaveLength(1);
  });

  it('R13 scenario 8: a store cut after the merchant charged is retried through; the agent gets the order', async () => {
    const { backend, checkouts, cut, charges } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    backend.complete = async (...args) => {
      const answer = await complete(...args);
      cut.cutFor(3_000); // shorter than the lease: the settle waits for the store to come back
      return answer;
    };
    const result = await checkouts.complete('alice', id, payA);
    expect(ok(result).order).toBeDefined();
    expect(await charges()).toHaveLength(1);
  });

  it('R13 scenario 8: a store cut longer than the lease is reported as "may have been sent", and the next call gets the order at once', async () => {
    const { backend, checkouts, cut, charges, ledger } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    let cutOnce = true;
    backend.complete = async (...args) => {
      const answer = await complete(...args);
      if (cutOnce) cut.cutFor(ledger.leaseMs * 2);
      cutOnce = false;
      return answer;
    };
    const failed = await checkouts.complete('alice', id, payA);
    expect(failed).toMatchObject({ ok: false, failure: { code: 'store_unavailable', retryable: true } });
    if (!failed.ok) {
      expect(failed.failure.message).toMatch(/may have acted/);
      expect(failed.failure.message).not.toMatch(/nothing was sent/);
    }
    // The store is back (the clock ran past the cut while the settle waited); no "still running" for 30 s.
    ledger.clock.sleep(ledger.leaseMs * 2);
    const again = await checkouts.complete('alice', id, payA);
    expect(ok(again).order).toBeDefined();
    expect(await charges()).toHaveLength(1);
  });
});

describe('R14: what the person was shown is what is charged', () => {
  it('R14 scenario 4: the cap holds against the live total after an update whose answer was lost', async () => {
    const { backend, checkouts, charges } = engine({ maxOrderAmount: 5_000 });
    const { id } = await created(checkouts);
    const update = backend.update.bind(backend);
    backend.update = async (...args) => {
      await update(...args); // the merchant applied 9 mugs
      return timedOut;
    };
    expect(await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] })).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    backend.update = update;
    // The agent last saw 1 mug: complete shows it the live cart instead of charging it.
    const changed = await checkouts.complete('alice', id, payA);
    expect(changed).toMatchObject({ ok: false, failure: { code: 'checkout_changed' } });
    if (!changed.ok) expect(changed.checkout?.line_items[0].quantity).toBe(9);
    // The agent receives that live checkout in the tool result, in the shape clients validate.
    const told = toCallToolResult(changed);
    expect(resultOutput.safeParse(told.structuredContent).success).toBe(true);
    expect((told.structuredContent as { checkout: CheckoutSession }).checkout.line_items[0].quantity).toBe(9);
    // Refused again until the agent has read it (a refusal's answer may be lost): get_checkout records it as seen.
    expect(await checkouts.complete('alice', id, payA)).toMatchObject({ ok: false, failure: { code: 'checkout_changed' } });
    ok(await checkouts.get('alice', id));
    // Now shown, the live total is above the cap.
    expect(await checkouts.complete('alice', id, payA)).toMatchObject({ ok: false, failure: { code: 'spend_cap_exceeded' } });
    expect(await charges()).toHaveLength(0);
  });

  it('R14 scenario 4: the confirmation prompt shows the live total, not the stale one', async () => {
    const { backend, checkouts } = engine();
    const { id } = await created(checkouts);
    const update = backend.update.bind(backend);
    backend.update = async (...args) => {
      await update(...args);
      return timedOut;
    };
    await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] });
    backend.update = update;
    const asked: number[] = [];
    const hooks: CallHooks = { confirm: async (request) => (asked.push(request.total), 'declined') };
    await checkouts.complete('alice', id, payA, hooks); // checkout_changed: shows the live cart
    ok(await checkouts.get('alice', id)); // the agent reads it, as the refusal says
    await checkouts.complete('alice', id, payA, hooks);
    const live = ok(await checkouts.get('alice', id));
    expect(asked).toEqual([live.totals.find((t) => t.type === 'total')?.amount]);
    expect(asked[0]).toBeGreaterThan(9 * 1400);
  });

  it('R14 scenario 4: a checkout without a usable total fails closed under a cap', async () => {
    const { backend, checkouts, charges } = engine({ maxOrderAmount: 5_000 });
    const create = backend.create.bind(backend);
    backend.create = async (...args) => {
      const answer = await create(...args);
      return answer.kind === 'succeeded' ? { ...answer, checkout: { ...answer.checkout, totals: answer.checkout.totals.filter((t) => t.type !== 'total') } } : answer;
    };
    const { id } = await created(checkouts);
    const result = await checkouts.complete('alice', id, payA);
    expect(result).toMatchObject({ ok: false, failure: { code: 'checkout_total_invalid' } });
    expect(await charges()).toHaveLength(0);
  });

  it('R13/R14 scenario 5: an update that lands late cannot overtake a newer one; the charge is for the cart last shown', async () => {
    const { backend, checkouts, charges } = engine();
    const { id } = await created(checkouts);
    const update = backend.update.bind(backend);
    let first: ReturnType<typeof held> | undefined;
    backend.update = async (...args) => {
      if (!first) {
        first = held(() => update(...args));
        return timedOut;
      }
      return update(...args);
    };
    await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] });
    const shown = ok(await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 1 }] }));
    expect(shown.line_items[0].quantity).toBe(1);
    // The first request finally reaches the merchant, under the key the engine already settled.
    first!.release();
    await first!.landed;
    const paid = await checkouts.complete('alice', id, payA);
    const total = shown.totals.find((t) => t.type === 'total')?.amount;
    if (paid.ok) {
      expect(paid.checkout.line_items[0].quantity).toBe(1);
    } else {
      // Or the merchant's cart moved after all: then the agent is shown it, and nothing is charged.
      expect(paid.failure.code).toBe('checkout_changed');
    }
    const charged = await charges();
    expect(charged.every((c) => c.amount === total)).toBe(true);
  });
});

/** A merchant that numbers its checkouts cs_1, cs_2…, as some do: enough of ACP for create and get. */
function numberingMerchant(merchant: string): Backend {
  const sessions = new Map<string, CheckoutSession>();
  const session = (id: string): CheckoutSession => ({
    id,
    status: 'ready_for_payment',
    currency: 'usd',
    line_items: [{ id: 'li_1', item: { id: 'sku_mug' }, quantity: 1 }],
    totals: [{ type: 'total', display_text: 'Total', amount: 1400 }],
    fulfillment_options: [],
    messages: [],
    links: [],
  });
  const found = async (id: string): Promise<BackendResult> => {
    const checkout = sessions.get(id);
    return checkout ? { kind: 'succeeded', checkout } : { kind: 'failed', code: 'checkout_not_found', message: `no ${id}` };
  };
  return {
    name: 'acp',
    merchant,
    retention: { providerMs: 24 * HOUR, defaultTtlMs: 23 * HOUR, description: 'Idempotency-Key' },
    create: async () => {
      const checkout = session(`cs_${sessions.size + 1}`);
      sessions.set(checkout.id, checkout);
      return { kind: 'succeeded', checkout };
    },
    update: async (id) => found(id),
    complete: async (id) => found(id),
    cancel: async (id) => {
      const checkout = sessions.get(id);
      if (!checkout) return found(id);
      checkout.status = 'canceled';
      return { kind: 'succeeded', checkout };
    },
    get: found,
  };
}

describe('R15: anchors are scoped by backend, merchant and checkout id', () => {
  it('R15 scenario 6: two merchants numbering checkouts alike, one store: each principal sees only its own', async () => {
    const store = openMemoryStore();
    const clock = new ManualClock();
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR });
    const atA = new Checkouts({ ledger, backend: numberingMerchant('https://a.example'), windowMs: HOUR });
    const atB = new Checkouts({ ledger, backend: numberingMerchant('https://b.example'), windowMs: HOUR });
    const alices = ok(await atA.create('alice', cart));
    const bobs = ok(await atB.create('bob', cart));
    expect(alices.id).toBe('cs_1');
    expect(bobs.id).toBe('cs_1');
    // Bob reaches his own checkout; Alice cannot read or cancel it through either server.
    expect(ok(await atB.get('bob', 'cs_1')).id).toBe('cs_1');
    expect(await atB.get('alice', 'cs_1')).toMatchObject({ ok: false, failure: { code: 'checkout_not_found' } });
    expect(await atB.cancel('alice', 'cs_1', {})).toMatchObject({ ok: false, failure: { code: 'checkout_not_found' } });
    expect(ok(await atB.get('bob', 'cs_1')).status).toBe('ready_for_payment');
    expect(ok(await atA.get('alice', 'cs_1')).id).toBe('cs_1');
  });
});



describe('R14 with a hostile merchant: the guards rest on our ledger, not on the merchant’s claims', () => {
  it('issue 20 case 1: a merchant that says "completed" before any complete does not turn off the cap or the confirmation', async () => {
    const { backend, checkouts } = engine({ maxOrderAmount: 5_000 });
    const create = backend.create.bind(backend);
    const claimsCompleted = (checkout: CheckoutSession): CheckoutSession => ({
      ...checkout,
      status: 'completed',
      order: { id: 'ord_forged', checkout_session_id: checkout.id, permalink_url: 'https://merchant.example/orders/forged' },
      totals: checkout.totals.map((t) => (t.type === 'total' ? { ...t, amount: 250_000 } : t)),
    });
    backend.create = async (...args) => {
      const answer = await create(...args);
      return answer.kind === 'succeeded' ? { ...answer, checkout: claimsCompleted(answer.checkout) } : answer;
    };
    const get = backend.get.bind(backend);
    backend.get = async (id) => {
      const answer = await get(id);
      return answer.kind === 'succeeded' ? { ...answer, checkout: claimsCompleted(answer.checkout) } : answer;
    };
    let sent = 0;
    const complete = backend.complete.bind(backend);
    backend.complete = async (...args) => {
      sent += 1;
      return complete(...args);
    };
    const { id } = await created(checkouts);
    await checkouts.get('alice', id);
    expect(await checkouts.complete('alice', id, payA)).toMatchObject({ ok: false, failure: { code: 'spend_cap_exceeded' } });
    expect(sent).toBe(0);
  });

  it('issue 20 case 1: with confirmation, a merchant claiming "completed" still has the person asked before anything is sent', async () => {
    const { backend, checkouts } = engine();
    const get = backend.get.bind(backend);
    const { id } = await created(checkouts);
    backend.get = async (checkoutId) => {
      const answer = await get(checkoutId);
      if (answer.kind !== 'succeeded') return answer;
      const order = { id: 'ord_forged', checkout_session_id: checkoutId, permalink_url: 'https://merchant.example/o' };
      return { ...answer, checkout: { ...answer.checkout, status: 'completed', order } };
    };
    await checkouts.get('alice', id);
    let sent = 0;
    backend.complete = async () => {
      sent += 1;
      return timedOut;
    };
    const asked: number[] = [];
    const result = await checkouts.complete('alice', id, payA, { confirm: async (request) => (asked.push(request.total), 'declined') });
    expect(result).toMatchObject({ ok: false, failure: { code: 'declined_by_user' } });
    expect(asked).toHaveLength(1);
    expect(sent).toBe(0);
  });
});

describe('R13: a refused read never settles a lost payment as failed', () => {
  it('R13: after a lost complete, a merchant answering the read with 4xx leaves it unknown; when it reads again, the order', async () => {
    const { backend, checkouts, charges } = engine();
    const { id } = await created(checkouts);
    const complete = backend.complete.bind(backend);
    backend.complete = async (...args) => {
      await complete(...args);
      return timedOut;
    };
    await checkouts.complete('alice', id, payA);
    const get = backend.get.bind(backend);
    backend.get = async () => ({ kind: 'failed', code: 'merchant:forbidden', message: 'no' });
    const refused = await checkouts.complete('alice', id, payA);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.failure.message).not.toMatch(/nothing was charged|declined/);
    backend.get = get;
    backend.complete = complete;
    expect(ok(await checkouts.complete('alice', id, payA)).order).toBeDefined();
    expect(await charges()).toHaveLength(1);
  });
});

describe('R13: words when the merchant cannot be read', () => {
  it('R13: after an earlier attempt (3-D Secure the person may have finished), an unreadable merchant is never "nothing was charged"', async () => {
    const { backend, checkouts } = engine();
    const { id } = await created(checkouts);
    backend.complete = async (checkoutId) => {
      const seen = await backend.get(checkoutId);
      if (seen.kind !== 'succeeded') return seen;
      return { kind: 'succeeded', checkout: { ...seen.checkout, status: 'authentication_required', continue_url: 'https://bank.example/3ds' } };
    };
    expect(await checkouts.complete('alice', id, payA)).toMatchObject({ ok: false, failure: { code: 'payer_action_required' } });
    backend.get = async () => timedOut;
    const unread = await checkouts.complete('alice', id, payA);
    expect(unread).toMatchObject({ ok: false, failure: { code: 'merchant_unavailable', retryable: true } });
    if (!unread.ok) expect(unread.failure.message).not.toMatch(/nothing was charged/);
  });
});
