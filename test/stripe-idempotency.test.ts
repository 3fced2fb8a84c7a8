// The exactly-once rules the Stripe backend keeps, proved with the real SDK over HTTP against the local fake.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendResult, CallContext } from '../src/backends/backend.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import { isCompleted, type CheckoutSession } from '../src/commerce/session.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';

const SECRET = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const HOUR = 3_600_000;
const ctx = (key: string, attempt = 1): CallContext => ({ idempotencyKey: key, attempt, requestId: `req-${key}` });
const card = (token: string) => ({ payment_data: { instrument: { type: 'card', credential: { type: 'spt', token } } } });

function checkoutOf(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

describe('stripe backend: exactly-once rules', () => {
  let clock: number;
  let fake: StripeFake;
  let backend: Backend;
  let price: string;
  const sentKeys = new Set<string>();
  const track = (c: CallContext) => (sentKeys.add(c.idempotencyKey), c);

  beforeEach(async () => {
    clock = Date.UTC(2026, 5, 1);
    sentKeys.clear();
    fake = await startStripeFake({ now: () => clock });
    backend = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 });
    price = fake.seedPrice({ currency: 'usd', unit_amount: 4200 });
  });
  afterEach(async () => {
    // R1: every mutating request that reached Stripe carried a key we passed, within 36 characters.
    for (const request of fake.mutatingRequests()) {
      expect(request.idempotencyKey, `${request.method} ${request.path}`).toBeDefined();
      expect(sentKeys.has(request.idempotencyKey!), `${request.path} carried ${request.idempotencyKey}`).toBe(true);
      expect(request.idempotencyKey!.length).toBeLessThanOrEqual(36);
    }
    await fake.close();
  });

  async function newCheckout(key: string): Promise<string> {
    return checkoutOf(await backend.create({ items: [{ id: price, quantity: 1 }], currency: 'usd' }, track(ctx(key)))).id;
  }

  it('R6: a confirm whose response is lost after commit is unknown; get shows completed; a resend with the same key replays (one charge)', async () => {
    const id = await newCheckout('k-create-lost');
    // Twice: the SDK retries a reset connection once on its own (with our key), so both replies must vanish.
    fake.failNext({ path: '/confirm', mode: 'drop_response_after_commit', times: 2 });
    const lost = await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-lost')));
    expect(lost.kind).toBe('unknown');
    expect(fake.chargeCount()).toBe(1);

    const reconciled = checkoutOf(await backend.get(id));
    expect(isCompleted(reconciled)).toBe(true);

    const resent = checkoutOf(await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-lost'))));
    expect(isCompleted(resent)).toBe(true);
    expect(fake.chargeCount()).toBe(1);
    const confirms = fake.mutatingRequests().filter((r) => r.path.endsWith('/confirm'));
    expect(confirms.map((r) => [r.idempotencyKey, r.replayed])).toEqual([
      ['k-complete-lost', false],
      ['k-complete-lost', true],
      ['k-complete-lost', true],
    ]);
  });

  it("R1: the SDK's own retry of a reset connection resends the ledger's key, never one it made up", async () => {
    const id = await newCheckout('k-create-reset');
    fake.failNext({ path: '/confirm', mode: 'drop_response_after_commit', times: 1 });
    const result = await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-reset')));
    expect(isCompleted(checkoutOf(result))).toBe(true);
    const confirms = fake.mutatingRequests().filter((r) => r.path.endsWith('/confirm'));
    expect(confirms).toHaveLength(2);
    expect(confirms.every((r) => r.idempotencyKey === 'k-complete-reset')).toBe(true);
    expect(confirms[1].replayed).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('R6: a timeout is unknown, and the held confirm that commits later shows up on get', async () => {
    const quick = new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 150 });
    const id = await newCheckout('k-create-timeout');
    const hold = fake.failNext({ path: '/confirm', mode: 'hold' });
    const result = await quick.complete(id, card('pm_card_visa'), track(ctx('k-complete-timeout')));
    expect(result.kind).toBe('unknown');
    hold.release();
    await vi.waitFor(() => expect(fake.chargeCount()).toBe(1));
    expect(isCompleted(checkoutOf(await quick.get(id)))).toBe(true);
    const resent = await quick.complete(id, card('pm_card_visa'), track(ctx('k-complete-timeout')));
    expect(isCompleted(checkoutOf(resent))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('R6: a decline is terminal and replays as a decline; a good card under a new key charges once', async () => {
    const id = await newCheckout('k-create-decline');
    const declined = await backend.complete(id, card('pm_card_chargeDeclined'), track(ctx('k-complete-1')));
    expect(declined).toMatchObject({ kind: 'failed', code: 'payment_declined', message: 'Your card was declined.' });
    if (declined.kind === 'failed') expect(declined.checkout?.status).toBe('ready_for_payment');

    // The same key replays the stored decline: Stripe does not run it again.
    const replayed = await backend.complete(id, card('pm_card_chargeDeclined'), track(ctx('k-complete-1')));
    expect(replayed).toMatchObject({ kind: 'failed', code: 'payment_declined' });

    const paid = await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-2', 2)));
    expect(isCompleted(checkoutOf(paid))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('R7: concurrent identical confirms under one key charge once; the others are unknown (409 in flight)', async () => {
    const id = await newCheckout('k-create-race');
    const hold = fake.failNext({ path: '/confirm', mode: 'hold' });
    const first = backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-race')));
    await hold.reached;
    const others = await Promise.all(
      [1, 2, 3, 4].map(() => backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-race')))),
    );
    for (const other of others) {
      expect(other.kind).toBe('unknown');
      if (other.kind === 'unknown') expect(other.reason).toContain('409');
    }
    hold.release();
    expect(isCompleted(checkoutOf(await first))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('one key with different parameters is a loud idempotency_conflict, never a second PaymentIntent', async () => {
    await newCheckout('k-create-collide');
    const other = fake.seedPrice({ currency: 'usd', unit_amount: 100 });
    const collided = await backend.create({ items: [{ id: other, quantity: 5 }], currency: 'usd' }, track(ctx('k-create-collide')));
    expect(collided).toMatchObject({ kind: 'failed', code: 'idempotency_conflict' });
    if (collided.kind === 'failed') expect(collided.message).toMatch(/^BUG: .*k-create-collide/);
    expect(fake.state.paymentIntents.size).toBe(1);
  });

  it('R8: Stripe replays a stored 500 under the same key until the key expires after 24 h', async () => {
    const id = await newCheckout('k-create-500');
    fake.failNext({ path: '/confirm', mode: '500' });
    expect((await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-500')))).kind).toBe('unknown');
    expect((await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-500')))).kind).toBe('unknown');
    expect(fake.chargeCount()).toBe(0);
    clock += 24 * HOUR;
    const later = await backend.complete(id, card('pm_card_visa'), track(ctx('k-complete-500')));
    expect(isCompleted(checkoutOf(later))).toBe(true);
    expect(fake.chargeCount()).toBe(1);
  });

  it('a create whose response is lost is resent with the same key and returns the same PaymentIntent', async () => {
    fake.failNext({ path: '/v1/payment_intents', mode: 'drop_response_after_commit', times: 2 });
    const input = { items: [{ id: price, quantity: 2 }], currency: 'usd' };
    expect((await backend.create(input, track(ctx('k-create-again')))).kind).toBe('unknown');
    const again = checkoutOf(await backend.create(input, track(ctx('k-create-again'))));
    expect(fake.state.paymentIntents.size).toBe(1);
    expect(fake.state.paymentIntents.has(again.id)).toBe(true);
  });
});
