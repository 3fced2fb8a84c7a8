// R13 against Stripe and PayPal as they behave (the local fakes over real HTTP, the real stripe SDK): a payment
// that went through is never reported as failed, whatever the provider answered the second request.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import type { Backend } from '../src/backends/backend.js';
import { Checkouts, type CheckoutResult } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';
import { tempDir } from './support/server-process.js';

const HOUR = 3_600_000;
const card = (token: string) => ({ payment_data: { instrument: { type: 'card', credential: { type: 'payment_method', token } } } });

let closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

async function engine(backend: Backend): Promise<Checkouts> {
  const store: Store = await openSqliteStore(join(tempDir('once-truth-'), 'ledger.db'));
  closers.push(() => store.close());
  return new Checkouts({ ledger: new Ledger({ store, ttlMs: backend.retention.defaultTtlMs }), backend, windowMs: HOUR });
}

async function stripe(): Promise<{ fake: StripeFake; checkouts: Checkouts; price: string }> {
  const fake = await startStripeFake();
  closers.push(() => fake.close());
  const backend = new StripeBackend({ secretKey: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', apiBase: fake.url, timeoutMs: 1_000 });
  return { fake, checkouts: await engine(backend), price: fake.seedPrice({ currency: 'usd', unit_amount: 4200 }) };
}

function orderOf(result: CheckoutResult): string {
  if (!result.ok) throw new Error(`${result.failure.code}: ${result.failure.message}`);
  expect(result.checkout.status).toBe('completed');
  return result.checkout.order!.id;
}

describe('R13 on Stripe', () => {
  it('R13 scenario 2: 3-D Secure: payer_action_required, the person authenticates, complete again returns the order', async () => {
    const { fake, checkouts, price } = await stripe();
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    const first = await checkouts.complete('local', id, card('pm_card_authenticationRequired'));
    expect(first).toMatchObject({ ok: false, failure: { code: 'payer_action_required' } });
    fake.authenticate(id);
    // As the message told it: call complete again. Stripe would refuse a second confirm of a succeeded intent.
    const again = await checkouts.complete('local', id, card('pm_card_authenticationRequired'));
    const order = orderOf(again);
    expect(orderOf(await checkouts.complete('local', id, card('pm_card_authenticationRequired')))).toBe(order);
    expect(fake.chargeCount()).toBe(1);
  });

  it('R13 scenario 1: a confirm held past the timeout, then another card: one charge and the agent gets the order', async () => {
    const { fake, checkouts, price } = await stripe();
    const created = await checkouts.create('local', { items: [{ id: price, quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    const first = fake.failNext({ path: '/confirm', mode: 'hold' });
    const lost = await checkouts.complete('local', id, card('pm_card_visa'));
    expect(lost).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    // The second card's confirm is held too; the first commits while it waits (payment_intent_unexpected_state).
    const second = fake.failNext({ path: '/confirm', mode: 'hold' });
    const retry = checkouts.complete('local', id, card('pm_card_mastercard'));
    await second.reached;
    first.release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    second.release();
    const order = orderOf(await retry);
    expect(orderOf(await checkouts.complete('local', id, card('pm_card_mastercard')))).toBe(order);
    expect(fake.chargeCount()).toBe(1);
  });
});

async function paypal(): Promise<{ fake: PaypalFake; checkouts: Checkouts }> {
  const fake = await startPaypalFake({ clientId: 'client', clientSecret: 'secret' });
  closers.push(() => fake.close());
  const backend = new PaypalBackend({
    clientId: 'client',
    clientSecret: 'secret',
    apiBase: fake.url,
    catalog: { sku_mug: { name: 'Mug', unit_amount: 1400, currency: 'usd' } },
    timeoutMs: 1_000,
  });
  return { fake, checkouts: await engine(backend) };
}

describe('R13 on PayPal', () => {
  it('issue 15, R13: while PayPal completes the order itself (ORDER_COMPLETION_IN_PROGRESS) the agent hears outcome_unknown, never a failure; then the order', async () => {
    const { fake, checkouts } = await paypal();
    const created = await checkouts.create('local', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    fake.approve(id);
    const finish = fake.beginCompletion(id);
    const first = await checkouts.complete('local', id, card('paypal'));
    expect(first).toMatchObject({ ok: false, failure: { code: 'outcome_unknown', retryable: true } });
    finish();
    const order = orderOf(await checkouts.complete('local', id, card('paypal')));
    expect(order).toBe(fake.state.charges[0].captureId);
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15, R13: a buyer email makes a payment_source order: update and complete wait for the person at payer-action, then one charge', async () => {
    const { fake, checkouts } = await paypal();
    const created = await checkouts.create('local', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', buyer: { email: 'ada@example.com' } });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    expect(created.checkout).toMatchObject({ status: 'pending_approval', continue_url: expect.stringContaining(`token=${id}`) });
    expect(fake.state.orders.get(id)!.status).toBe('PAYER_ACTION_REQUIRED');
    const update = await checkouts.update('local', id, { items: [{ id: 'sku_mug', quantity: 2 }] });
    expect(update).toMatchObject({ ok: false, failure: { code: 'payer_action_required' } });
    const early = await checkouts.complete('local', id, card('paypal'));
    expect(early).toMatchObject({ ok: false, failure: { code: 'payer_action_required', message: expect.stringContaining(`token=${id}`) } });
    fake.approve(id, 'ada@example.com');
    orderOf(await checkouts.complete('local', id, card('paypal')));
    expect(fake.chargeCount()).toBe(1);
    expect(fake.state.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });


  it('R13: a capture answered ORDER_ALREADY_CAPTURED after a superseded capture is the order, not a failure (held on main too: a regression guard)', async () => {
    const fake: PaypalFake = await startPaypalFake({ clientId: 'client', clientSecret: 'secret' });
    closers.push(() => fake.close());
    const backend = new PaypalBackend({
      clientId: 'client',
      clientSecret: 'secret',
      apiBase: fake.url,
      catalog: { sku_mug: { name: 'Mug', unit_amount: 1400, currency: 'usd' } },
      timeoutMs: 1_000,
    });
    const checkouts = await engine(backend);
    const created = await checkouts.create('local', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    fake.approve(id);
    const first = fake.failNext({ path: /\/capture$/, mode: 'hold' });
    const lost = await checkouts.complete('local', id, card('paypal'));
    expect(lost).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    // Other payment data: the engine may not resend the first key; the first capture commits while the
    // second waits, and PayPal refuses the second (ORDER_ALREADY_CAPTURED).
    const second = fake.failNext({ path: /\/capture$/, mode: 'hold' });
    const retry = checkouts.complete('local', id, card('paypal-2'));
    await second.reached;
    first.release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    second.release();
    const order = orderOf(await retry);
    expect(orderOf(await checkouts.complete('local', id, card('paypal')))).toBe(order);
    expect(fake.chargeCount()).toBe(1);
  });
});
