// Issue 15, PayPal: the Orders v2 cases the fake did not cover, each as PayPal's OpenAPI documents it (the fake cites
// it), each failing on the main of the day: refunds, patches PayPal refuses, capture 422 issues, payment_source, money.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BackendResult, CallContext } from '../src/backends/backend.js';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { isCompleted, totalAmount, type CheckoutSession } from '../src/commerce/session.js';
import { ALTERNATE_FUNDING_PAYER, startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';

const CATALOG = {
  sku_mug: { name: 'Mug', unit_amount: 1250, currency: 'usd' },
  sku_paprika: { name: 'Paprika', unit_amount: 150000, currency: 'huf' },
  sku_tea: { name: 'Oolong', unit_amount: 45000, currency: 'twd' },
  sku_cup: { name: 'Cup', unit_amount: 1200, currency: 'jpy' },
};
const ctx = (key: string, attempt = 1): CallContext => ({ idempotencyKey: key, attempt, requestId: `req-${key}` });
const pay = { payment_data: { instrument: { type: 'paypal', credential: { type: 'approval', token: 'approved' } } } };
const address = { name: 'Ada L', line_one: '1 Main St', city: 'Springfield', state: 'IL', country: 'US', postal_code: '62701' };

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

describe('issue 15: PayPal Orders v2 as documented', () => {
  let fake: PaypalFake;
  let backend: Backend;

  beforeEach(async () => {
    fake = await startPaypalFake();
    backend = new PaypalBackend({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiBase: fake.url, catalog: CATALOG, timeoutMs: 2_000 });
  });
  afterEach(() => fake.close());

  const patches = () => fake.state.requests.filter((r) => r.method === 'PATCH');

  async function paidOrder(key: string): Promise<{ id: string; captureId: string }> {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd' }, ctx(`${key}-create`))).id;
    fake.approve(id);
    const done = checkoutOf(await backend.complete(id, pay, ctx(`${key}-capture`)));
    return { id, captureId: done.order!.id };
  }

  it('issue 15 (refund): a capture PayPal shows PARTIALLY_REFUNDED or REFUNDED is a completed order with a note, not a decline', async () => {
    const { id, captureId } = await paidOrder('k-refund');
    fake.refund(captureId, '5.00');
    const partly = checkoutOf(await backend.get(id));
    expect(partly.status).toBe('completed');
    expect(partly.order?.id).toBe(captureId);
    expect(partly.messages.some((m) => m.type === 'error')).toBe(false);
    expect(partly.messages.map((m) => m.content).join(' ')).toMatch(/paid, then partly refunded/);

    fake.refund(captureId);
    const refunded = checkoutOf(await backend.get(id));
    expect(isCompleted(refunded)).toBe(true);
    expect(refunded.messages.map((m) => m.content).join(' ')).toMatch(/refunded in full/);
  });

  it('issue 15 (refund), R6: a lost capture resent after a refund returns the latest state (REFUNDED): completed, one charge', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-lost-create'))).id;
    fake.approve(id);
    fake.failNext({ path: '/capture', mode: 'drop_response_after_commit' });
    expect((await backend.complete(id, pay, ctx('k-lost-capture'))).kind).toBe('unknown');
    fake.refund(fake.state.charges[0].captureId);
    const resent = await backend.complete(id, pay, ctx('k-lost-capture'));
    expect(isCompleted(checkoutOf(resent))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15 (clear address): fulfillment_details null is refused before sending, since PayPal allows no remove on shipping.address', async () => {
    const id = checkoutOf(
      await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address } }, ctx('k-addr')),
    ).id;
    const refused = await backend.update(id, { fulfillment_details: null }, ctx('k-clear'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'invalid_input' });
    if (refused.kind === 'failed') expect(refused.message).toMatch(/cannot remove the shipping address.*give the new address/);
    expect(patches()).toHaveLength(0);
    // Replacing it is what PayPal allows.
    const moved = checkoutOf(await backend.update(id, { fulfillment_details: { address: { ...address, city: 'Shelbyville' } } }, ctx('k-move')));
    expect(moved.fulfillment_details?.address?.city).toBe('Shelbyville');
    // Nothing to clear on an order without an address: no PATCH, no refusal.
    const bare = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd' }, ctx('k-bare'))).id;
    expect(checkoutOf(await backend.update(bare, { fulfillment_details: null }, ctx('k-clear-bare'))).fulfillment_details).toBeUndefined();
    expect(patches()).toHaveLength(1);
  });

  it('issue 15 (payment_source): a buyer email goes in payment_source.paypal, not the deprecated payer; the order waits at payer-action', async () => {
    const created = checkoutOf(
      await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', buyer: { email: 'ada@example.com' } }, ctx('k-ps')),
    );
    const order = fake.state.orders.get(created.id)!;
    expect(order.payment_source).toEqual({ paypal: { email_address: 'ada@example.com' } });
    expect(order.payer).toBeUndefined();
    expect(order.status).toBe('PAYER_ACTION_REQUIRED');
    expect(created.status).toBe('pending_approval');
    expect(created.continue_url).toMatch(/^https:\/\/www\.sandbox\.paypal\.com\/checkoutnow\?token=/);
    expect(created.buyer?.email).toBe('ada@example.com');
  });

  it('issue 15 (PATCH status): an order at PAYER_ACTION_REQUIRED is not patched; update says it is the buyer\'s turn, with the link', async () => {
    const id = checkoutOf(
      await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', buyer: { email: 'ada@example.com' } }, ctx('k-par')),
    ).id;
    const refused = await backend.update(id, { items: [{ id: 'sku_mug', quantity: 3 }] }, ctx('k-par-update'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'payer_action_required', checkout: { id, status: 'pending_approval' } });
    if (refused.kind === 'failed') expect(refused.message).toContain(`checkoutnow?token=${id}`);
    expect(patches()).toHaveLength(0);
    // Once the buyer approved, PayPal patches it (APPROVED).
    fake.approve(id);
    expect(totalAmount(checkoutOf(await backend.update(id, { items: [{ id: 'sku_mug', quantity: 3 }] }, ctx('k-par-update'))))).toBe(3750);
    expect(patches()).toHaveLength(1);
  });

  it('issue 15 (capture PAYER_ACTION_REQUIRED): the buyer\'s turn like ORDER_NOT_APPROVED, with the payer-action link; after it, one charge', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-cpar'))).id;
    fake.approve(id);
    fake.requirePayerAction(id); // e.g. 3-D Secure on the card in the buyer's wallet
    const refused = await backend.complete(id, pay, ctx('k-cpar-1'));
    expect(refused).toMatchObject({ kind: 'failed', code: 'payer_action_required', checkout: { status: 'pending_approval' } });
    if (refused.kind === 'failed') expect(refused.message).toMatch(new RegExp(`send the person to https://www\\.sandbox\\.paypal\\.com/checkoutnow\\?token=${id}`));
    fake.approve(id);
    expect(isCompleted(checkoutOf(await backend.complete(id, pay, ctx('k-cpar-2', 2))))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15 (ORDER_COMPLETION_IN_PROGRESS): unknown while PayPal completes the order itself, then the order; never a terminal error', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-cip'))).id;
    fake.approve(id);
    const finish = fake.beginCompletion(id);
    const first = await backend.complete(id, pay, ctx('k-cip-capture'));
    expect(first).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/ORDER_COMPLETION_IN_PROGRESS/) });
    finish();
    // The ledger resends under the same key (R6): PayPal answers ORDER_ALREADY_CAPTURED, read back as the order.
    expect(isCompleted(checkoutOf(await backend.complete(id, pay, ctx('k-cip-capture'))))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('issue 15 (REDIRECT_PAYER_FOR_ALTERNATE_FUNDING): a decline whose redirect link is handed to the agent', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx('k-alt'))).id;
    fake.approve(id, ALTERNATE_FUNDING_PAYER);
    const declined = await backend.complete(id, pay, ctx('k-alt-capture'));
    expect(declined).toMatchObject({ kind: 'failed', code: 'payment_declined' });
    if (declined.kind === 'failed') {
      expect(declined.message).toMatch(/REDIRECT_PAYER_FOR_ALTERNATE_FUNDING.*send the person to https:\/\/www\.sandbox\.paypal\.com\/checkoutnow\?token=/);
    }
    expect(fake.chargeCount()).toBe(0);
  });

  it('issue 15 (money): HUF and TWD catalog prices in ISO minor units go to PayPal as whole units, never 100 times; JPY stays yen', async () => {
    const huf = checkoutOf(await backend.create({ items: [{ id: 'sku_paprika', quantity: 2 }], currency: 'huf' }, ctx('k-huf')));
    expect(fake.state.orders.get(huf.id)!.purchase_units[0].amount).toMatchObject({ currency_code: 'HUF', value: '3000' });
    expect(fake.state.orders.get(huf.id)!.purchase_units[0].items[0].unit_amount).toEqual({ currency_code: 'HUF', value: '1500' });
    expect(totalAmount(huf)).toBe(300000);
    expect(huf.line_items[0].unit_amount).toBe(150000);

    const twd = checkoutOf(await backend.create({ items: [{ id: 'sku_tea', quantity: 1 }], currency: 'twd' }, ctx('k-twd')));
    expect(fake.state.orders.get(twd.id)!.purchase_units[0].amount).toMatchObject({ currency_code: 'TWD', value: '450' });
    expect(totalAmount(twd)).toBe(45000);

    const jpy = checkoutOf(await backend.create({ items: [{ id: 'sku_cup', quantity: 1 }], currency: 'jpy' }, ctx('k-jpy')));
    expect(fake.state.orders.get(jpy.id)!.purchase_units[0].amount).toMatchObject({ currency_code: 'JPY', value: '1200' });
    expect(totalAmount(jpy)).toBe(1200);

    // Paid in HUF: the capture is the same 3000 forint.
    fake.approve(huf.id);
    checkoutOf(await backend.complete(huf.id, pay, ctx('k-huf-capture')));
    expect(fake.state.charges[0]).toMatchObject({ value: '3000', currency: 'HUF' });
  });

  it('issue 15 (money): a price PayPal cannot take exactly (HUF not a whole forint, a currency PayPal lacks) stops start-up, never rounded', () => {
    const make = (entry: { unit_amount: number; currency: string }) =>
      new PaypalBackend({ clientId: 'i', clientSecret: 's', apiBase: fake.url, catalog: { sku_x: { name: 'X', ...entry } } });
    expect(() => make({ unit_amount: 150050, currency: 'huf' })).toThrow(/^ONCE_CATALOG: item "sku_x": 150050 HUF minor units .*not a whole forint.*multiples of 100/);
    expect(() => make({ unit_amount: 45001, currency: 'twd' })).toThrow(/^ONCE_CATALOG: item "sku_x": .*TWD without decimals/);
    expect(() => make({ unit_amount: 1000, currency: 'kwd' })).toThrow(/^ONCE_CATALOG: item "sku_x": PayPal does not take KWD/);
    expect(() => make({ unit_amount: 150000, currency: 'huf' })).not.toThrow();
  });
});
