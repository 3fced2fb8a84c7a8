// A complete whose first attempt is unknown, superseded by a call with other payment data (R6, R13),
// and the person's confirmation (R14). Each test drives the engine against the in-process sandbox merchant,
// whose own records say what was charged; a wrapper around the backend plays the network (a held request).
import { describe, expect, it } from 'vitest';
import type { CompleteInput } from '../src/commerce/inputs.js';
import type { CallHooks, CheckoutResult, ConfirmRequest } from '../src/checkout/checkouts.js';
import { created, engine, held, ok, payWith, timedOut } from './support/checkout-engine.js';

const payA = payWith('card_a');
const declining = (handler: string): CompleteInput => ({
  payment_data: { handler_id: handler, instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_decline' } } },
});


/** The engine whose first complete is held by the network (its caller hears a timeout); later ones go through. */
async function firstCompleteHeld() {
  const e = engine();
  const { id } = await created(e.checkouts);
  const complete = e.backend.complete.bind(e.backend);
  let first: ReturnType<typeof held> | undefined;
  e.backend.complete = async (...args) => {
    if (!first) {
      first = held(() => complete(...args));
      return timedOut;
    }
    return complete(...args);
  };
  const lost = await e.checkouts.complete('alice', id, payA);
  expect(lost).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
  /** The held first request reaches the merchant now. */
  const land = async () => {
    first!.release();
    return first!.landed;
  };
  return { ...e, id, land };
}

/** The code and words the agent read. */
const told = (result: CheckoutResult) => (result.ok ? 'ok' : `${result.failure.code}: ${result.failure.message}`);
/** Not a definite failure, or one that says an earlier attempt may still go through. */
const EARLIER_MAY_LAND = /^outcome_unknown|^pending|earlier (payment )?attempt[^.]*may|may still go through/i;

describe('R13: a superseded complete whose request may still land', () => {
  it('R13: the new attempt with other payment data is declined; the agent is not told a bare "declined" while the superseded first request may still charge', async () => {
    const { checkouts, charges, id, land } = await firstCompleteHeld();
    const declined = await checkouts.complete('alice', id, declining('card_b'));
    expect(declined.ok).toBe(false);
    // The first request lands after all: the merchant charges card A.
    expect(await land()).toMatchObject({ kind: 'succeeded' });
    expect(await charges()).toHaveLength(1);
    // get_checkout tells the truth afterwards…
    expect(ok(await checkouts.get('alice', id)).order).toBeDefined();
    // …but the answer the agent acted on ("declined, ask for another payment method") must have said that the
    // earlier attempt may still go through, or not have been a definite failure at all.
    expect(told(declined)).toMatch(EARLIER_MAY_LAND);
  });

  it('R13: after a superseded attempt and two declines, the agent is not told to stop and create a new checkout while the first request may still charge', async () => {
    const { checkouts, charges, id, land } = await firstCompleteHeld();
    expect(await checkouts.complete('alice', id, declining('card_b'))).toMatchObject({ ok: false, failure: { code: 'payment_declined' } });
    expect(await checkouts.complete('alice', id, declining('card_c'))).toMatchObject({ ok: false, failure: { code: 'payment_declined' } });
    const fourth = await checkouts.complete('alice', id, declining('card_d'));
    expect(fourth.ok).toBe(false);
    expect(await land()).toMatchObject({ kind: 'succeeded' });
    expect(await charges()).toHaveLength(1);
    // A later complete does find the order (sound today)…
    expect(ok(await checkouts.complete('alice', id, declining('card_e'))).order).toBeDefined();
    // …but "failed 3 times; stop … create a new checkout" has the model buy the same thing again while attempt 1
    // (never failed: its answer was lost) may still land, and here does.
    expect(told(fourth)).toMatch(EARLIER_MAY_LAND);
  });
});

/** Lets the promises a clock tick started (a lease renewal) run, as they would between two moments of real time. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('R14: what the person approved is what is charged', () => {
  it('R14: while the person is being asked, a store outage longer than the lease lets an update take the checkout; the approved complete then charges the changed cart, above the cap', async () => {
    const { checkouts, charges, clock, cut, ledger } = engine({ maxOrderAmount: 5_000 });
    const { id } = await created(checkouts);
    const asked: ConfirmRequest[] = [];
    const hooks: CallHooks = {
      confirm: async (request) => {
        asked.push(request);
        // The person reads for a while; meanwhile the store is down for longer than the checkout's claim lasts.
        cut.cutFor(ledger.leaseMs + 10_000);
        clock.advance(ledger.leaseMs + 5_000); // the renewal due now fails: the store is down
        await turn();
        clock.advance(5_000); // the store is back; the claim has lapsed
        await turn();
        // The agent (or another process) changes the cart meanwhile: it finds the checkout unclaimed.
        await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] });
        return 'accepted';
      },
    };
    const paid = await checkouts.complete('alice', id, payA, hooks);
    expect(asked).toHaveLength(1);
    // Whatever the update and the complete were told, the merchant must hold no charge other than the approved one
    // (today: one charge of 14203 usd for 9 mugs, above the cap, after the person approved 2023 for one mug).
    for (const charge of await charges()) {
      expect(charge.amount).toBe(asked[0].total);
      expect(charge.amount).toBeLessThanOrEqual(5_000);
    }
    expect(paid.ok ? paid.checkout.line_items[0].quantity : 1).toBe(1);
  });
});
