// The PayPal backend over fetch against the local fake: each operation mapped to a CheckoutSession.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BackendResult, CallContext } from '../src/backends/backend.js';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { isCompleted, totalAmount, type CheckoutSession } from '../src/commerce/session.js';
import { startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';

const CATALOG = {
  sku_tshirt: { name: 'T-shirt', unit_amount: 2500, currency: 'usd' },
  sku_mug: { name: 'Mug', unit_amount: 1250, currency: 'usd' },
  sku_poster: { name: 'Poster', unit_amount: 900, currency: 'eur' },
};
const ctx = (key: string): CallContext => ({ idempotencyKey: key, attempt: 1, requestId: `req-${key}` });
const paypalPayment = { payment_data: { instrument: { type: 'paypal', credential: { type: 'approval', token: 'approved' } } } };
const address = { name: 'Ada L', line_one: '1 Main St', city: 'Springfield', state: 'IL', country: 'US', postal_code: '62701' };

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

describe('paypal backend: operations map Orders v2 to CheckoutSessions', () => {
  let fake: PaypalFake;
  let backend: Backend;

  beforeEach(async () => {
    fake = await startPaypalFake();
    backend = new PaypalBackend({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiBase: fake.url, catalog: CATALOG });
  });
  afterEach(() => fake.close());

  it('create prices from the catalog and surfaces the approval link as continue_url with an info message', async () => {
    const checkout = checkoutOf(
      await backend.create(
        { items: [{ id: 'sku_tshirt', quantity: 2 }, { id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address } },
        ctx('k-create-1'),
      ),
    );
    expect(checkout.status).toBe('pending_approval');
    expect(checkout.currency).toBe('usd');
    expect(totalAmount(checkout)).toBe(6250);
    expect(checkout.line_items.map((l) => [l.id, l.quantity, l.unit_amount, l.name])).toEqual([
      ['sku_mug', 1, 1250, 'Mug'],
      ['sku_tshirt', 2, 2500, 'T-shirt'],
    ]);
    expect(checkout.continue_url).toContain(`token=${checkout.id}`);
    expect(checkout.messages[0]).toMatchObject({ type: 'info' });
    expect(checkout.messages[0].content).toContain(checkout.continue_url!);
    expect(checkout.fulfillment_details?.address?.city).toBe('Springfield');
    const order = fake.state.orders.get(checkout.id)!;
    expect(order.intent).toBe('CAPTURE');
    expect(order.purchase_units[0].amount).toMatchObject({ currency_code: 'USD', value: '62.50' });
  });

  it('complete before approval is payer_action_required and tells the agent where to send the person', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-c2'))).id;
    const refused = await backend.complete(id, paypalPayment, ctx('k-complete-2'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'payer_action_required' });
    if (refused.kind === 'failed') expect(refused.message).toMatch(/send the person to https:\/\/www\.sandbox\.paypal\.com\/checkoutnow\?token=/);
    expect(fake.chargeCount()).toBe(0);

    fake.approve(id);
    expect(checkoutOf(await backend.get(id)).status).toBe('ready_for_payment');
    const done = checkoutOf(await backend.complete(id, paypalPayment, ctx('k-complete-3')));
    expect(isCompleted(done)).toBe(true);
    expect(done.order).toMatchObject({ checkout_session_id: id });
    expect(done.order!.id).toMatch(/^CAP/);
    expect(done.order!.permalink_url).toContain(done.order!.id);
    expect(done.buyer?.email).toBe('buyer@example.com');
    expect(fake.chargeCount()).toBe(1);
    expect(isCompleted(checkoutOf(await backend.get(id)))).toBe(true);
  });

  it('update patches only what differs, and a repeated update sends no PATCH at all', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-c4'))).id;
    const input = { items: [{ id: 'sku_tshirt', quantity: 3 }], fulfillment_details: { address } };
    const updated = checkoutOf(await backend.update(id, input, ctx('k-u4')));
    expect(totalAmount(updated)).toBe(7500);
    expect(updated.line_items.map((l) => l.id)).toEqual(['sku_tshirt']);
    expect(updated.fulfillment_details?.address?.line_one).toBe('1 Main St');
    const again = checkoutOf(await backend.update(id, input, ctx('k-u4')));
    expect(again).toEqual(updated);
    expect(fake.state.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);

    // PayPal allows no remove on shipping.address (issue 15): clearing it is refused before any PATCH.
    expect(await backend.update(id, { fulfillment_details: null }, ctx('k-u5'))).toMatchObject({ kind: 'failed', code: 'invalid_input' });
    expect(fake.state.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('update with a buyer keeps going but warns that PayPal takes the buyer from the approving account', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-c6'))).id;
    const updated = checkoutOf(await backend.update(id, { buyer: { email: 'x@example.com' } }, ctx('k-u6')));
    expect(updated.messages.some((m) => m.type === 'warning' && m.code === 'buyer_not_sent')).toBe(true);
  });

  it('cancel is honest: unsupported for a live order, canceled once PayPal voided it, not_cancelable once captured', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-c7'))).id;
    const refused = await backend.cancel(id, {}, ctx('k-x7'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'unsupported' });
    fake.expire(id);
    expect(checkoutOf(await backend.cancel(id, {}, ctx('k-x7'))).status).toBe('canceled');

    const paid = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-c8'))).id;
    fake.approve(paid);
    await backend.complete(paid, paypalPayment, ctx('k-complete-8'));
    expect(await backend.cancel(paid, {}, ctx('k-x8'))).toMatchObject({ kind: 'failed', code: 'not_cancelable' });
  });

  it('unknown ids, unknown items and currency mismatches are clear failures; nothing is created', async () => {
    expect(await backend.get('NOPE123')).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
    expect(await backend.create({ items: [{ id: 'sku_nope', quantity: 1 }], currency: 'usd' }, ctx('k-c9'))).toMatchObject({
      kind: 'failed',
      code: 'invalid_input',
    });
    expect(await backend.create({ items: [{ id: 'sku_poster', quantity: 1 }], currency: 'usd' }, ctx('k-c10'))).toMatchObject({
      kind: 'failed',
      code: 'invalid_input',
    });
    expect(fake.state.orders.size).toBe(0);
  });

  it('retention follows PayPal: 6 h by default (TTL 5 h), or the declared window', () => {
    expect(backend.retention).toMatchObject({ providerMs: 6 * 3_600_000, defaultTtlMs: 5 * 3_600_000 });
    const extended = new PaypalBackend({ clientId: 'a', clientSecret: 'b', apiBase: fake.url, catalog: CATALOG, requestIdRetentionMs: 72 * 3_600_000 });
    expect(extended.retention.providerMs).toBe(72 * 3_600_000);
    expect(extended.retention.defaultTtlMs).toBeLessThan(72 * 3_600_000);
    expect(backend.merchant).toMatch(/^paypal:sandbox:[0-9a-f]{16}$/);
  });
});
