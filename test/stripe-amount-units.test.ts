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

describe('review-psp: Stripe amounts are not ISO 4217 minor units in every currency', () => {
  // docs.stripe.com/currencies: MGA is a zero-decimal currency at Stripe (amount 5000 charges Ar 5,000), while ISO 4217,
  // the unit of every amount in once-checkout (src/checkout/money.ts, INTERFACE "money is integer minor units"), gives
  // MGA two minor digits. The cap ONCE_MAX_ORDER_AMOUNT=10000 means MGA 100.00.
  it('R14: a Stripe MGA checkout is never charged above the spend cap (Stripe MGA is zero-decimal, ISO MGA has 2 digits)', async () => {
    const fake = await stripeFake();
    const price = fake.seedPrice({ currency: 'mga', unit_amount: 5000 }); // Ar 5,000 at Stripe
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    const checkouts = engine(backend, 10_000); // cap: MGA 100.00 in ISO minor units
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency: 'mga' });
    if (created.ok) {
      await checkouts.complete('local', created.checkout.id, card('pm_card_visa'));
    } else {
      expect(created.failure.code).toBe('invalid_input');
    }
    // Whatever the fix (convert, or refuse the currency), no charge of Ar 5,000 (500000 ISO minor units) goes through
    // under a cap of 10000 minor units.
    expect(fake.state.charges.map((c) => `${c.amount} ${c.currency}`)).toEqual([]);
  });

  it('R14: the total a person approves for a Stripe MGA checkout is the amount Stripe charges', async () => {
    const fake = await stripeFake();
    const price = fake.seedPrice({ currency: 'mga', unit_amount: 5000 }); // Ar 5,000 at Stripe
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    const checkouts = engine(backend);
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency: 'mga' });
    if (!created.ok) {
      // A fix may refuse the currency outright: then nothing is shown and nothing charged.
      expect(created.failure.code).toBe('invalid_input');
      return;
    }
    const asked: ConfirmRequest[] = [];
    await checkouts.complete('local', created.checkout.id, card('pm_card_visa'), {
      confirm: async (request) => (asked.push(request), 'accepted'),
    });
    expect(asked).toHaveLength(1);
    const shown = formatAmount(asked[0].total, asked[0].currency);
    const charged = fake.state.charges.map((c) => `${c.amount} ${c.currency}`);
    expect(charged).toEqual(['5000 mga']);
    // Ar 5,000 was charged; the person must have been shown MGA 5,000.00, not MGA 50.00.
    expect(shown).toBe('MGA 5,000.00');
  });

  // support.stripe.com "Deprecation of fractional ISK charges": "ISK will remain a two-decimal currency in the Stripe
  // API, and an ISK amount of `100` will continue to represent 1 króna"; ISO 4217 gives ISK no minor digits.
  it('R14: the total a person approves for a Stripe ISK checkout is the amount Stripe charges (Stripe ISK is two-decimal)', async () => {
    const fake = await stripeFake();
    const price = fake.seedPrice({ currency: 'isk', unit_amount: 50_000 }); // ISK 500 at Stripe
    const backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    const checkouts = engine(backend);
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency: 'isk' });
    if (!created.ok) {
      expect(created.failure.code).toBe('invalid_input');
      return;
    }
    const asked: ConfirmRequest[] = [];
    await checkouts.complete('local', created.checkout.id, card('pm_card_visa'), {
      confirm: async (request) => (asked.push(request), 'accepted'),
    });
    expect(asked).toHaveLength(1);
    expect(fake.state.charges.map((c) => `${c.amount} ${c.currency}`)).toEqual(['50000 isk']);
    // ISK 500 was charged; the person must have been shown ISK 500, not ISK 50,000.
    expect(formatAmount(asked[0].total, asked[0].currency)).toBe('ISK 500');
  });
});

describe('review-psp: a Stripe cart that cannot be sent is a refusal, not an ambiguous outcome', () => {
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
