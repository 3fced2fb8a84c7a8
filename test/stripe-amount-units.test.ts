// The Stripe backend's amounts against the engine's unit (ISO 4217 minor units): the currencies where Stripe counts
// otherwise (MGA, ISK), and a cart too long for the PaymentIntent's metadata, refused before anything is sent.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import { Checkouts, type ConfirmRequest } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { formatAmount } from '../src/server/confirm.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';

const HOUR = 3_600_000;
const SECRET = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const card = (token: string) => ({ payment_data: { instrument: { type: 'card', credential: { type: 'payment_method', token } } } });

let closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

function engine(backend: Backend, maxOrderAmount?: number): Checkouts {
  const store = openMemoryStore();
  closers.push(() => store.close());
  return new Checkouts({ ledger: new Ledger({ store, ttlMs: backend.retention.defaultTtlMs }), backend, windowMs: HOUR, maxOrderAmount });
}

async function stripeFake(): Promise<StripeFake> {
  const fake = await startStripeFake();
  closers.push(() => fake.close());
  return fake;
}

describe('Stripe amounts are not ISO 4217 minor units in every currency', () => {
  // docs.stripe.com/currencies: MGA is zero-decimal at Stripe (5000 charges Ar 5,000), ISO 4217 gives it two minor
  // digits; support.stripe.com "Deprecation of fractional ISK charges": "ISK will remain a two-decimal currency in the
  // Stripe API, and an ISK amount of 100 will continue to represent 1 króna", ISO 4217 gives it none. Every amount in
  // once-checkout is ISO minor units (the cap, the person's confirmation): with Stripe's passed through, a cap of 10000
  // (MGA 100.00) let Ar 5,000 through and the person approved "MGA 50.00"; ISK 500 was shown as "ISK 50,000".
  it.each([
    ['MGA', 'mga', 5_000],
    ['ISK', 'isk', 50_000],
  ])('R14: a Stripe checkout in %s (Stripe does not count it in ISO minor units) is refused before the cap or the person judge a wrong amount: nothing is charged', async (_name, currency, unitAmount) => {
    const fake = await stripeFake();
    const price = fake.seedPrice({ currency, unit_amount: unitAmount });
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    const checkouts = engine(backend, 10_000);
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency });
    expect(created.ok ? 'created' : created.failure.code).toBe('invalid_input');
    expect(fake.mutatingRequests()).toEqual([]);
    expect(fake.state.charges).toEqual([]);
  });

  it('R14: a Stripe checkout in a currency Stripe counts as ISO does (JPY, zero-decimal at both) is shown to the person as charged', async () => {
    const fake = await stripeFake();
    const price = fake.seedPrice({ currency: 'jpy', unit_amount: 5_000 }); // ¥5,000 at Stripe and in ISO minor units
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    const checkouts = engine(backend, 10_000);
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency: 'jpy' });
    if (!created.ok) throw new Error(`create failed: ${created.failure.message}`);
    const asked: ConfirmRequest[] = [];
    await checkouts.complete('local', created.checkout.id, card('pm_card_visa'), { confirm: async (request) => (asked.push(request), 'accepted') });
    expect(asked.map((a) => formatAmount(a.total, a.currency))).toEqual(['JPY 5,000']);
    expect(fake.state.charges.map((c) => `${c.amount} ${c.currency}`)).toEqual(['5000 jpy']);
  });
});

describe('a Stripe cart that cannot be sent is a refusal, not an ambiguous outcome', () => {
  // INTERFACE: create_checkout takes 1–100 items, quantity 1–999. Real Price ids are 30 characters (price_ + 24), so
  // 100 lines do not fit the 8 × 500-character metadata chunks (stripe-line-items.ts): itemsToMetadata throws before
  // anything is sent, and the engine hears a throw, which it can only call "may or may not have acted".
  it('R6: a 100-line Stripe cart that the PaymentIntent metadata cannot hold is invalid_input with nothing sent, never outcome_unknown', async () => {
    const fake = await stripeFake();
    const items = Array.from({ length: 100 }, (_, i) => ({
      id: fake.seedPrice({ id: `price_1PqR2sT3uV4wX5yZ6aB7c${String(i).padStart(4, '0')}`, currency: 'usd', unit_amount: 1234 }),
      quantity: 2,
    }));
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    const checkouts = engine(backend);
    const created = await checkouts.create('local', { items, currency: 'usd' });
    expect(fake.mutatingRequests()).toEqual([]);
    expect(created.ok).toBe(false);
    if (!created.ok) expect({ code: created.failure.code, retryable: created.failure.retryable }).toEqual({ code: 'invalid_input', retryable: false });
  });
});
