// The Stripe fake keeps Stripe's documented idempotency rules (PROVIDERS.md), checked over raw HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFormBody, startStripeFake, type StripeFake } from './fakes/stripe-fake.js';

const AUTH = { Authorization: 'Bearer sk_test_fakeTests123', 'Content-Type': 'application/x-www-form-urlencoded' };

describe('stripe fake: idempotency as Stripe documents it', () => {
  let clock: number;
  let fake: StripeFake;
  const post = (path: string, body: string, key?: string, auth = AUTH) =>
    fetch(`${fake.url}${path}`, { method: 'POST', headers: { ...auth, ...(key ? { 'Idempotency-Key': key } : {}) }, body });

  beforeEach(async () => {
    clock = 1_000_000;
    fake = await startStripeFake({ now: () => clock });
  });
  afterEach(() => fake.close());

  it('parses bracket notation like the SDK sends it', () => {
    expect(parseFormBody('a=1&m[k]=v&s[address][line1]=x%20y&e[0]=p&e[1]=q')).toEqual({
      a: '1',
      m: { k: 'v' },
      s: { address: { line1: 'x y' } },
      e: ['p', 'q'],
    });
  });

  it('replays the first status and body with Idempotent-Replayed, and refuses other parameters with 400 idempotency_error', async () => {
    const first = await post('/v1/payment_intents', 'amount=100&currency=usd', 'k1');
    const firstBody = await first.json();
    const again = await post('/v1/payment_intents', 'amount=100&currency=usd', 'k1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(firstBody);
    const other = await post('/v1/payment_intents', 'amount=200&currency=usd', 'k1');
    expect(other.status).toBe(400);
    expect((await other.json()).error.type).toBe('idempotency_error');
    expect(fake.state.paymentIntents.size).toBe(1);
  });

  it('stores nothing for validation 400s or 401s, so the same key runs once fixed', async () => {
    expect((await post('/v1/payment_intents', 'currency=usd', 'k2')).status).toBe(400);
    const bad = { ...AUTH, Authorization: 'Bearer nope' };
    expect((await post('/v1/payment_intents', 'amount=100&currency=usd', 'k2', bad)).status).toBe(401);
    const fixed = await post('/v1/payment_intents', 'amount=100&currency=usd', 'k2');
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keys are scoped per account and expire after 24 h', async () => {
    await post('/v1/payment_intents', 'amount=100&currency=usd', 'k3');
    const otherAccount = { ...AUTH, Authorization: 'Bearer sk_test_someoneElse' };
    expect((await post('/v1/payment_intents', 'amount=999&currency=usd', 'k3', otherAccount)).status).toBe(200);
    clock += 24 * 3_600_000 - 1;
    expect((await post('/v1/payment_intents', 'amount=100&currency=usd', 'k3')).headers.get('idempotent-replayed')).toBe('true');
    clock += 1;
    const fresh = await post('/v1/payment_intents', 'amount=100&currency=usd', 'k3');
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(fake.state.paymentIntents.size).toBe(3);
  });

  it('stored errors replay too: a declined confirm is not run again under the same key', async () => {
    const pi = await (await post('/v1/payment_intents', 'amount=100&currency=usd', 'k4')).json();
    const declined = await post(`/v1/payment_intents/${pi.id}/confirm`, 'payment_method=pm_card_chargeDeclined', 'k5');
    expect(declined.status).toBe(402);
    const replay = await post(`/v1/payment_intents/${pi.id}/confirm`, 'payment_method=pm_card_chargeDeclined', 'k5');
    expect(replay.status).toBe(402);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.chargeCount()).toBe(0);
  });
});
