// The Stripe backend through the real SDK against the local fake: each operation mapped to a CheckoutSession.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BackendResult, CallContext } from '../src/backends/backend.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import { isCompleted, totalAmount, type CheckoutSession } from '../src/commerce/session.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';

const SECRET = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const ctx = (key: string): CallContext => ({ idempotencyKey: key, attempt: 1, requestId: `req-${key}` });
const card = (token: string) => ({ payment_data: { instrument: { type: 'card', credential: { type: 'spt', token } } } });

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

describe('stripe backend: operations map PaymentIntents to CheckoutSessions', () => {
  let fake: StripeFake;
  let backend: Backend;
  let tshirt: string;
  let mug: string;

  beforeEach(async () => {
    fake = await startStripeFake();
    backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url });
    tshirt = fake.seedPrice({ currency: 'usd', unit_amount: 2500 });
    mug = fake.seedPrice({ currency: 'usd', unit_amount: 1200 });
  });
  afterEach(() => fake.close());

  it('create prices items from Stripe Prices and returns a ready_for_payment session', async () => {
    const result = await backend.create(
      {
        items: [
          { id: tshirt, quantity: 2 },
          { id: mug, quantity: 1 },
        ],
        currency: 'usd',
        buyer: { email: 'ada@example.com', first_name: 'Ada' },
        fulfillment_details: {
          address: { name: 'Ada L', line_one: '1 Main St', city: 'Springfield', state: 'IL', country: 'US', postal_code: '62701' },
        },
      },
      ctx('k-create-1'),
    );
    const checkout = checkoutOf(result);
    expect(checkout.id).toMatch(/^pi_/);
    expect(checkout.status).toBe('ready_for_payment');
    expect(checkout.currency).toBe('usd');
    expect(totalAmount(checkout)).toBe(6200);
    expect(checkout.line_items.map((l) => [l.id, l.quantity, l.unit_amount])).toEqual(
      [
        [tshirt, 2, 2500],
        [mug, 1, 1200],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(checkout.buyer).toEqual({ email: 'ada@example.com', first_name: 'Ada' });
    expect(checkout.fulfillment_details?.address?.line_one).toBe('1 Main St');
    const pi = fake.state.paymentIntents.get(checkout.id)!.pi;
    expect(pi.amount).toBe(6200);
    expect((pi.metadata as Record<string, string>).once_key).toBe('k-create-1');
    expect(pi.receipt_email).toBe('ada@example.com');
  });

  it('update reprices items, changes the buyer and clears shipping with null', async () => {
    const id = checkoutOf(
      await backend.create(
        {
          items: [{ id: tshirt, quantity: 1 }],
          currency: 'usd',
          fulfillment_details: {
            address: { name: 'A', line_one: '1 Main', city: 'C', state: 'S', country: 'US', postal_code: '1' },
          },
        },
        ctx('k-create-2'),
      ),
    ).id;
    const updated = checkoutOf(
      await backend.update(
        id,
        { items: [{ id: mug, quantity: 3 }], buyer: { email: 'bob@example.com' }, fulfillment_details: null },
        ctx('k-update-2'),
      ),
    );
    expect(totalAmount(updated)).toBe(3600);
    expect(updated.line_items.map((l) => l.id)).toEqual([mug]);
    expect(updated.buyer?.email).toBe('bob@example.com');
    expect(updated.fulfillment_details).toBeUndefined();
  });

  it('complete confirms with the PaymentMethod token and returns completed with an order', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: tshirt, quantity: 1 }], currency: 'usd' }, ctx('k-c3'))).id;
    const done = checkoutOf(await backend.complete(id, card('pm_card_visa'), ctx('k-complete-3')));
    expect(isCompleted(done)).toBe(true);
    expect(done.order).toMatchObject({ id, checkout_session_id: id });
    expect(done.order?.permalink_url).toContain(id);
    expect(fake.chargeCount()).toBe(1);
    const read = checkoutOf(await backend.get(id));
    expect(isCompleted(read)).toBe(true);
  });

  it('requires_action maps to authentication_required with the redirect as continue_url', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: tshirt, quantity: 1 }], currency: 'usd' }, ctx('k-c4'))).id;
    const pending = checkoutOf(await backend.complete(id, card('pm_card_authenticationRequired'), ctx('k-complete-4')));
    expect(pending.status).toBe('authentication_required');
    expect(pending.continue_url).toMatch(/^https:\/\/hooks\.stripe\.com\//);
    expect(isCompleted(pending)).toBe(false);
  });

  it('cancel cancels; cancelling a completed checkout is checkout_completed with the paid checkout (issue 15)', async () => {
    const a = checkoutOf(await backend.create({ items: [{ id: tshirt, quantity: 1 }], currency: 'usd' }, ctx('k-c5'))).id;
    expect(checkoutOf(await backend.cancel(a, { reason: 'abandoned' }, ctx('k-cancel-5'))).status).toBe('canceled');
    expect(fake.state.paymentIntents.get(a)!.pi.cancellation_reason).toBe('abandoned');

    const b = checkoutOf(await backend.create({ items: [{ id: mug, quantity: 1 }], currency: 'usd' }, ctx('k-c6'))).id;
    await backend.complete(b, card('pm_card_visa'), ctx('k-complete-6'));
    const refused = await backend.cancel(b, {}, ctx('k-cancel-6'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'checkout_completed', checkout: { status: 'completed' } });
  });

  it('get of an unknown id is checkout_not_found; unknown or foreign-currency prices are invalid_input', async () => {
    expect(await backend.get('pi_nope')).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
    expect(await backend.create({ items: [{ id: 'price_nope', quantity: 1 }], currency: 'usd' }, ctx('k-c7'))).toMatchObject({
      kind: 'failed',
      code: 'invalid_input',
    });
    const eur = fake.seedPrice({ currency: 'eur', unit_amount: 900 });
    const mixed = await backend.create({ items: [{ id: eur, quantity: 1 }], currency: 'usd' }, ctx('k-c8'));
    expect(mixed).toMatchObject({ kind: 'failed', code: 'invalid_input' });
    expect(fake.state.paymentIntents.size).toBe(0);
  });

  it('merchant identity names the account without containing the secret key', () => {
    expect(backend.merchant).toMatch(/^stripe:test:[0-9a-f]{16}$/);
    expect(backend.merchant).not.toContain(SECRET.slice(8));
    expect(backend.retention).toMatchObject({ providerMs: 24 * 3_600_000, defaultTtlMs: 23 * 3_600_000 });
  });
});
