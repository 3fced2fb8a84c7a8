// Issue 15, Stripe: the cases the fake did not cover, each as Stripe documents it (the fake cites it), each failing on
// the main of the day: what a cancel answer says, a PaymentIntent that succeeded between our calls, the account.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendResult, CallContext } from '../src/backends/backend.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import { readStripeConfig } from '../src/backends/stripe/stripe-config.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { isCompleted, type CheckoutSession } from '../src/commerce/session.js';
import { Ledger } from '../src/ledger/ledger.js';
import { runDoctor } from '../src/operator/doctor.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';
import { tempDir } from './support/server-process.js';

const SECRET = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const ROTATED = 'sk_test_51RotatedKeyOfTheSameAccount';
const ACCOUNT = 'acct_1OnceCheckoutTest';
const HOUR = 3_600_000;
const ctx = (key: string, attempt = 1): CallContext => ({ idempotencyKey: key, attempt, requestId: `req-${key}` });
const card = (token: string) => ({ payment_data: { instrument: { type: 'card', credential: { type: 'spt', token } } } });

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

describe('issue 15: Stripe as documented', () => {
  let fake: StripeFake;
  let backend: Backend;
  let price: string;

  beforeEach(async () => {
    fake = await startStripeFake({ keys: { [SECRET]: ACCOUNT, [ROTATED]: ACCOUNT }, accountNames: { [ACCOUNT]: 'Once Test Shop' } });
    backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    price = fake.seedPrice({ currency: 'usd', unit_amount: 4200 });
  });
  afterEach(() => fake.close());

  const open = async (key: string) => checkoutOf(await backend.create({ items: [{ id: price, quantity: 1 }], currency: 'usd' }, ctx(key))).id;

  it('issue 15 (cancel): a cancel answered with a PaymentIntent that is not canceled is not a cancelled checkout', async () => {
    const id = await open('k-c1');
    fake.failNext({ path: '/cancel', mode: 'answer_without_acting' });
    const result = await backend.cancel(id, {}, ctx('k-x1'));
    expect(result).toMatchObject({ kind: 'failed', code: 'not_canceled', checkout: { id, status: 'ready_for_payment' } });
    if (result.kind === 'failed') expect(result.message).toMatch(/status requires_payment_method, not canceled/);
    // A real cancel still is one.
    expect(checkoutOf(await backend.cancel(id, {}, ctx('k-x2'))).status).toBe('canceled');
  });

  it('issue 15 (cancel), R13: cancelling a paid checkout is checkout_completed with the order, never merchant_error or "canceled"', async () => {
    const id = await open('k-c2');
    checkoutOf(await backend.complete(id, card('pm_card_visa'), ctx('k-pay2')));
    const refused = await backend.cancel(id, {}, ctx('k-x3'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'checkout_completed', checkout: { status: 'completed', order: { id } } });
    fake.failNext({ path: '/cancel', mode: 'answer_without_acting' });
    expect(await backend.cancel(id, {}, ctx('k-x4'))).toMatchObject({ kind: 'failed', code: 'checkout_completed', checkout: { status: 'completed' } });
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15, R13 (3-D Secure): after the person authenticated, confirming the succeeded PaymentIntent returns the order, not merchant_error', async () => {
    const id = await open('k-c3');
    expect(checkoutOf(await backend.complete(id, card('pm_card_authenticationRequired'), ctx('k-pay3'))).status).toBe('authentication_required');
    fake.authenticate(id);
    const again = checkoutOf(await backend.complete(id, card('pm_card_authenticationRequired'), ctx('k-pay3b', 2)));
    expect(isCompleted(again)).toBe(true);
    expect(again.order?.id).toBe(id);
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15, R13 (lost confirm): a confirm that timed out went through; the next confirm, another card under a new key, is the order', async () => {
    const quick = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 300 });
    const id = await open('k-c4');
    const held = fake.failNext({ path: '/confirm', mode: 'hold' });
    expect((await quick.complete(id, card('pm_card_visa'), ctx('k-pay4'))).kind).toBe('unknown');
    held.release();
    await vi.waitFor(() => expect(fake.chargeCount()).toBe(1));
    const next = checkoutOf(await quick.complete(id, card('pm_card_mastercard'), ctx('k-pay4b', 2)));
    expect(isCompleted(next)).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15 (STRIPE_ACCOUNT_ID): read from the environment and checked; the merchant identity is the account, whatever the key', () => {
    const env = { STRIPE_SECRET_KEY: SECRET, STRIPE_API_BASE: fake.url };
    expect(readStripeConfig({ ...env, STRIPE_ACCOUNT_ID: ` ${ACCOUNT} ` }).accountId).toBe(ACCOUNT);
    expect(readStripeConfig(env).accountId).toBeUndefined();
    expect(() => readStripeConfig({ ...env, STRIPE_ACCOUNT_ID: 'shop-1' })).toThrow(/^STRIPE_ACCOUNT_ID is not a Stripe account id \(expected acct_…\)/);
    const before = new StripeBackend(readStripeConfig({ ...env, STRIPE_ACCOUNT_ID: ACCOUNT }));
    const after = new StripeBackend(readStripeConfig({ ...env, STRIPE_SECRET_KEY: ROTATED, STRIPE_ACCOUNT_ID: ACCOUNT }));
    expect(after.merchant).toBe(before.merchant);
    expect(new StripeBackend(readStripeConfig(env)).merchant).not.toBe(before.merchant);
  });

  it('issue 15 (key rotation), R2 R3 R5: with STRIPE_ACCOUNT_ID a rotated key keeps the records: the same cart is the same checkout, paid once', async () => {
    const store: Store = await openSqliteStore(join(tempDir('once-rotation-'), 'ledger.db'));
    try {
      const engine = (secret: string) => {
        const b = new StripeBackend(readStripeConfig({ STRIPE_SECRET_KEY: secret, STRIPE_API_BASE: fake.url, STRIPE_ACCOUNT_ID: ACCOUNT }));
        return new Checkouts({ ledger: new Ledger({ store, ttlMs: b.retention.defaultTtlMs }), backend: b, windowMs: HOUR });
      };
      const cart = { items: [{ id: price, quantity: 2 }], currency: 'usd' };
      const first = await engine(SECRET).create('local', cart);
      if (!first.ok) throw new Error(first.failure.message);
      // The key is rotated (the old one revoked) and the server restarted with the new one.
      const rotated = engine(ROTATED);
      const again = await rotated.create('local', cart);
      if (!again.ok) throw new Error(again.failure.message);
      expect(again.checkout.id).toBe(first.checkout.id);
      expect(again.idempotency.replayed).toBe(true);
      const paid = await rotated.complete('local', first.checkout.id, card('pm_card_visa'));
      expect(paid).toMatchObject({ ok: true, checkout: { status: 'completed' } });
      expect(fake.state.paymentIntents.size).toBe(1);
      expect(fake.chargeCount()).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('issue 15 (doctor): shows which account the key belongs to; a STRIPE_ACCOUNT_ID of another account or a rejected key fails with the fix', async () => {
    const base = { ONCE_STORE: 'memory://', ONCE_BACKEND: 'stripe', STRIPE_SECRET_KEY: SECRET, STRIPE_API_BASE: fake.url };
    const account = async (env: Record<string, string>) => (await runDoctor(env)).find((c) => c.name === 'account');
    expect(await account(base)).toEqual({
      name: 'account',
      status: 'ok',
      detail: `STRIPE_SECRET_KEY belongs to ${ACCOUNT} (Once Test Shop); set STRIPE_ACCOUNT_ID=${ACCOUNT} so records and keys survive a key rotation`,
    });
    expect(await account({ ...base, STRIPE_ACCOUNT_ID: ACCOUNT })).toMatchObject({ status: 'ok', detail: expect.stringMatching(/as STRIPE_ACCOUNT_ID says$/) });
    const other = await account({ ...base, STRIPE_ACCOUNT_ID: 'acct_SomeoneElse' });
    expect(other).toMatchObject({ status: 'fail', detail: expect.stringMatching(new RegExp(`STRIPE_ACCOUNT_ID is acct_SomeoneElse: set STRIPE_ACCOUNT_ID=${ACCOUNT}`)) });
    const revoked = await account({ ...base, STRIPE_SECRET_KEY: 'sk_test_revokedKey123' });
    expect(revoked).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^Stripe rejected STRIPE_SECRET_KEY \(401\)/) });
    expect(JSON.stringify(revoked)).not.toContain('revokedKey123');
  });
});
