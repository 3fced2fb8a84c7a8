// The exactly-once rules the PayPal backend keeps, proved over HTTP against the local fake.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendResult, CallContext } from '../src/backends/backend.js';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { isCompleted, type CheckoutSession } from '../src/commerce/session.js';
import { DECLINING_PAYER, startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';

const CATALOG = { sku_mug: { name: 'Mug', unit_amount: 1250, currency: 'usd' } };
const HOUR = 3_600_000;
const ctx = (key: string, attempt = 1): CallContext => ({ idempotencyKey: key, attempt, requestId: `req-${key}` });
const pay = { payment_data: { instrument: { type: 'paypal', credential: { type: 'approval', token: 'approved' } } } };

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

describe('paypal backend: exactly-once rules', () => {
  let clock: number;
  let fake: PaypalFake;
  let backend: Backend;
  const sentKeys = new Set<string>();
  const track = (c: CallContext) => (sentKeys.add(c.idempotencyKey), c);

  beforeEach(async () => {
    clock = Date.UTC(2026, 5, 1);
    sentKeys.clear();
    fake = await startPaypalFake({ now: () => clock });
    backend = new PaypalBackend({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiBase: fake.url, catalog: CATALOG, timeoutMs: 2_000 });
  });
  afterEach(async () => {
    // R1: every create and capture that reached PayPal carried a key we passed, within 36 characters.
    for (const r of fake.mutatingRequests().filter((r) => r.method === 'POST')) {
      expect(r.requestId, `${r.method} ${r.path}`).toBeDefined();
      expect(sentKeys.has(r.requestId!)).toBe(true);
      expect(r.requestId!.length).toBeLessThanOrEqual(36);
    }
    await fake.close();
  });

  async function approvedCheckout(key: string, payer?: string): Promise<string> {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd' }, track(ctx(key)))).id;
    fake.approve(id, payer);
    return id;
  }

  it('R6: a capture whose response is lost after commit is unknown; get shows completed; a resend with the same id replays (one charge)', async () => {
    const id = await approvedCheckout('k-create-lost');
    fake.failNext({ path: '/capture', mode: 'drop_response_after_commit' });
    expect((await backend.complete(id, pay, track(ctx('k-capture-lost')))).kind).toBe('unknown');
    expect(fake.chargeCount()).toBe(1);
    expect(isCompleted(checkoutOf(await backend.get(id)))).toBe(true);
    const resent = checkoutOf(await backend.complete(id, pay, track(ctx('k-capture-lost'))));
    expect(isCompleted(resent)).toBe(true);
    expect(fake.chargeCount()).toBe(1);
    const captures = fake.mutatingRequests().filter((r) => r.path.endsWith('/capture'));
    expect(captures.map((r) => [r.requestId, r.replayed])).toEqual([
      ['k-capture-lost', false],
      ['k-capture-lost', true],
    ]);
  });

  it('R6: a lost create is resent with the same PayPal-Request-Id and returns the same order, in its latest state', async () => {
    fake.failNext({ path: '/v2/checkout/orders', mode: 'drop_response_after_commit' });
    const input = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' };
    expect((await backend.create(input, track(ctx('k-create-again')))).kind).toBe('unknown');
    const [id] = [...fake.state.orders.keys()];
    fake.approve(id);
    const again = checkoutOf(await backend.create(input, track(ctx('k-create-again'))));
    expect(again.id).toBe(id);
    expect(again.status).toBe('ready_for_payment');
    expect(fake.state.orders.size).toBe(1);
  });

  it('R6: a timeout is unknown, and the held capture that commits later shows up on get', async () => {
    const quick = new PaypalBackend({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiBase: fake.url, catalog: CATALOG, timeoutMs: 150 });
    const id = await approvedCheckout('k-create-timeout');
    const hold = fake.failNext({ path: '/capture', mode: 'hold' });
    expect((await quick.complete(id, pay, track(ctx('k-capture-timeout')))).kind).toBe('unknown');
    hold.release();
    await vi.waitFor(() => expect(fake.chargeCount()).toBe(1));
    expect(isCompleted(checkoutOf(await quick.get(id)))).toBe(true);
  });

  it('R6: a declined funding source is terminal with the way out; after re-approval a new key charges once', async () => {
    const id = await approvedCheckout('k-create-decline', DECLINING_PAYER);
    const declined = await backend.complete(id, pay, track(ctx('k-capture-1')));
    expect(declined).toMatchObject({ kind: 'failed', code: 'payment_declined' });
    if (declined.kind === 'failed') expect(declined.message).toMatch(/INSTRUMENT_DECLINED.*send the person to https:/);
    fake.approve(id, 'good@example.com');
    const paid = await backend.complete(id, pay, track(ctx('k-capture-2', 2)));
    expect(isCompleted(checkoutOf(paid))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('R7: concurrent identical captures under one id charge once; the others are unknown', async () => {
    const id = await approvedCheckout('k-create-race');
    const hold = fake.failNext({ path: '/capture', mode: 'hold' });
    const first = backend.complete(id, pay, track(ctx('k-capture-race')));
    await hold.reached;
    const others = await Promise.all([1, 2, 3].map(() => backend.complete(id, pay, track(ctx('k-capture-race')))));
    expect(others.map((o) => o.kind)).toEqual(['unknown', 'unknown', 'unknown']);
    hold.release();
    expect(isCompleted(checkoutOf(await first))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('a 5xx is unknown and not remembered by PayPal: the same id then runs once', async () => {
    const id = await approvedCheckout('k-create-500');
    fake.failNext({ path: '/capture', mode: '500' });
    expect((await backend.complete(id, pay, track(ctx('k-capture-500')))).kind).toBe('unknown');
    expect(fake.chargeCount()).toBe(0);
    expect(isCompleted(checkoutOf(await backend.complete(id, pay, track(ctx('k-capture-500')))))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('a capture with a new key on a captured order reports the order, and PayPal never charges twice', async () => {
    const id = await approvedCheckout('k-create-twice');
    await backend.complete(id, pay, track(ctx('k-capture-a')));
    const second = checkoutOf(await backend.complete(id, pay, track(ctx('k-capture-b', 2))));
    expect(isCompleted(second)).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('the OAuth token is fetched once and reused until it nears expiry, then renewed', async () => {
    const id = await approvedCheckout('k-create-token');
    await backend.get(id);
    await backend.get(id);
    expect(fake.state.tokensIssued).toBe(1);
    clock += 9 * HOUR; // past the fake's 32 400 s token lifetime
    expect(checkoutOf(await backend.get(id)).id).toBe(id);
    expect(fake.state.tokensIssued).toBe(2);
  });

  it('a PATCH whose response is lost is unknown; the resend reads first and sends no second PATCH', async () => {
    const id = checkoutOf(await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, track(ctx('k-create-patch')))).id;
    fake.failNext({ method: 'PATCH', path: `/v2/checkout/orders/${id}`, mode: 'drop_response_after_commit' });
    const input = { items: [{ id: 'sku_mug', quantity: 4 }] };
    const patches = () => fake.state.requests.filter((r) => r.method === 'PATCH');
    expect((await backend.update(id, input, track(ctx('k-update-patch')))).kind).toBe('unknown');
    expect(patches()).toHaveLength(1);
    const again = checkoutOf(await backend.update(id, input, track(ctx('k-update-patch'))));
    expect(again.line_items[0].quantity).toBe(4);
    expect(patches()).toHaveLength(1);
  });
});
