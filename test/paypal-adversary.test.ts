// The PayPal backend against what PayPal really does: a DECLINED capture captured again, a PATCH that lands late,
// completes called before the person approved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendResult, CallContext } from '../src/backends/backend.js';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import type { CheckoutSession } from '../src/commerce/session.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';

const HOUR = 3_600_000;
const CATALOG = { sku_mug: { name: 'Mug', unit_amount: 1250, currency: 'usd' } };
const ctx = (key: string, attempt = 1): CallContext => ({ idempotencyKey: key, attempt, requestId: `req-${key}` });
const pay = { payment_data: { instrument: { type: 'paypal', credential: { type: 'approval', token: 'approved' } } } };

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

/**
 * What PayPal shows after it answered a capture 201 with capture status DECLINED (Orders v2 OpenAPI capture_status;
 * the backend itself models it: "DECLINED or FAILED: the order is spent and cannot be captured again").
 * The fake never produces a 201 DECLINED capture, so the test writes PayPal's state directly.
 */
function declineCapture(fake: PaypalFake, id: string): void {
  const order = fake.state.orders.get(id)!;
  const unit = order.purchase_units[0];
  unit.payments = { captures: [{ id: 'CAPDECLINED1', status: 'DECLINED', amount: { ...unit.amount, breakdown: undefined } }] };
  order.status = 'COMPLETED';
  order.links = order.links.filter((l: { rel: string }) => l.rel === 'self');
}

describe('review: PayPal backend', () => {
  let fake: PaypalFake;

  beforeEach(async () => {
    fake = await startPaypalFake();
  });
  afterEach(() => fake.close());

  const backendWith = (timeoutMs = 2_000) =>
    new PaypalBackend({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiBase: fake.url, catalog: CATALOG, timeoutMs });

  it('R12: a capture answered ORDER_ALREADY_CAPTURED on an order whose capture PayPal DECLINED is a decline, not a success without an order', async () => {
    const backend = backendWith();
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd' }, ctx('k-dec-create'))).id;
    fake.approve(id);
    declineCapture(fake, id); // attempt 1's capture: 201, capture DECLINED
    // Attempt 2 (a new key after the recorded decline): PayPal refuses the capture with ORDER_ALREADY_CAPTURED.
    const second = await backend.complete(id, pay, ctx('k-dec-capture-2', 2));
    expect(fake.chargeCount()).toBe(0);
    expect(second).toMatchObject({ kind: 'failed', code: 'payment_declined' });
  });

  it('R12: through the engine, that ORDER_ALREADY_CAPTURED on a DECLINED capture is told as a decline, never as an unknown outcome', async () => {
    const backend = backendWith();
    const ledger = new Ledger({ store: openMemoryStore(), ttlMs: backend.retention.defaultTtlMs });
    const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR });
    const created = await checkouts.create('alice', { items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    fake.approve(id);
    declineCapture(fake, id);
    const answer = await checkouts.complete('alice', id, pay);
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.failure.code).toBe('payment_declined');
    // And the next call is not stuck reconciling a capture that PayPal has already declined.
    const again = await checkouts.complete('alice', id, pay);
    if (!again.ok) expect(again.failure.code).not.toMatch(/unknown/);
  });

  it('R14: an update whose PATCH lands late (after its resend and a newer update) cannot make complete charge above the cap', async () => {
    const backend = backendWith(300);
    const ledger = new Ledger({ store: openMemoryStore(), ttlMs: backend.retention.defaultTtlMs });
    const cap = 5_000;
    const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR, maxOrderAmount: cap });
    const created = await checkouts.create('alice', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    fake.approve(id);

    // Update A (9 mugs, 112.50): PayPal holds the PATCH past our timeout; the outcome is unknown.
    const held = fake.failNext({ method: 'PATCH', path: `/v2/checkout/orders/${id}`, mode: 'hold' });
    const a = await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] });
    expect(a.ok).toBe(false);
    await held.reached;

    // Update B (2 mugs, 25.00): settles A first (read, PATCH again), then PATCHes B. The agent is shown 25.00.
    const b = await checkouts.update('alice', id, { items: [{ id: 'sku_mug', quantity: 2 }] });
    if (!b.ok) throw new Error(b.failure.message);
    expect(b.checkout.totals.find((t) => t.type === 'total')?.amount).toBe(2500);

    // The first PATCH of A now lands at PayPal (no PayPal-Request-Id on PATCH: nothing stops it).
    held.release();
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.state.orders.get(id)!.purchase_units[0].amount.value).toBe('112.50');

    // Complete: the cap (50.00) and what the agent was shown (25.00) must judge what PayPal captures.
    const done = await checkouts.complete('alice', id, pay);
    const captured = fake.state.charges.map((c) => Math.round(Number(c.value) * 100));
    expect(captured.every((v) => v <= cap), `captured ${captured} with a cap of ${cap}; complete answered ${JSON.stringify(done.ok ? 'ok' : done.failure.code)}`).toBe(true);
  });

  it('R6: completes called while the person has not yet approved at PayPal use no attempts; after approval the checkout still pays', async () => {
    const backend = backendWith();
    const ledger = new Ledger({ store: openMemoryStore(), ttlMs: backend.retention.defaultTtlMs });
    const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR });
    const created = await checkouts.create('alice', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' });
    if (!created.ok) throw new Error(created.failure.message);
    const id = created.checkout.id;
    // The agent is told "send the person to … approve it, then call complete_checkout again"; it checks back 3 times
    // before the person is done at PayPal. PayPal captured nothing and declined nothing: the order just waits.
    for (let i = 0; i < 3; i++) {
      const early = await checkouts.complete('alice', id, pay);
      expect(early.ok).toBe(false);
      if (!early.ok) expect(early.failure.code).toBe('payer_action_required');
    }
    fake.approve(id);
    const paid = await checkouts.complete('alice', id, pay);
    expect(paid.ok ? paid.checkout.status : paid.failure.code).toBe('completed');
    expect(fake.chargeCount()).toBe(1);
  });
});
