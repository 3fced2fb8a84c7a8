// Stripe and PayPal through the whole engine (checkout service + ledger on a SQLite file) and the fault proxy,
// against the local fakes over real HTTP: a lost confirm/capture, a decline then a good card, 50 concurrent completes.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { PaypalBackend } from '../src/backends/paypal/paypal-backend.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import type { LedgerRecord } from '../src/ledger/record.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { DECLINING_PAYER, startPaypalFake, type PaypalFake } from './fakes/paypal-fake.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { tempDir } from './support/server-process.js';

const HOUR = 3_600_000;

interface Rig {
  checkouts: Checkouts;
  store: Store;
  /** Items priced by this provider. */
  items: Array<{ id: string; quantity: number }>;
  payOk: { instrument: { type: string; credential: { type: string; token: string } } };
  payDecline: { instrument: { type: string; credential: { type: string; token: string } } };
  chargeCount(): number;
  /** Which mutating requests reached the provider, with their idempotency header. */
  keyedRequests(): Array<{ path: string; key?: string }>;
  /** Makes the next confirm/capture commit and lose its answer. */
  loseNextCompleteResponse(): void;
  /** Whatever the provider needs before the decline test (PayPal: a declining payer approved the order). */
  prepareDecline(id: string): Promise<void>;
  prepare(id: string): Promise<void>;
  close(): Promise<void>;
}

const card = (token: string) => ({ instrument: { type: 'card', credential: { type: 'payment_method', token } } });

async function engine(backend: Backend): Promise<{ checkouts: Checkouts; store: Store }> {
  const store = await openSqliteStore(join(tempDir('once-psp-'), 'ledger.db'));
  const ledger = new Ledger({ store, ttlMs: backend.retention.defaultTtlMs });
  return { store, checkouts: new Checkouts({ ledger, backend, windowMs: HOUR }) };
}

async function stripeRig(): Promise<Rig> {
  const fake: StripeFake = await startStripeFake();
  const proxy: FaultProxy = await startFaultProxy({ target: fake.url });
  const price = fake.seedPrice({ currency: 'usd', unit_amount: 4200 });
  const backend = new StripeBackend({ secretKey: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', apiBase: proxy.url, timeoutMs: 2_000 });
  const { checkouts, store } = await engine(backend);
  return {
    checkouts,
    store,
    items: [{ id: price, quantity: 2 }],
    payOk: card('pm_card_visa'),
    payDecline: card('pm_card_chargeDeclined'),
    chargeCount: () => fake.chargeCount(),
    keyedRequests: () => fake.mutatingRequests().map((r) => ({ path: r.path, key: r.idempotencyKey })),
    // The charge happens and the answer is lost in the network; the SDK resends a reset connection once on its
    // own (with our key), so both answers must vanish.
    loseNextCompleteResponse: () => proxy.plan({ fault: 'drop_response', method: 'POST', path: /\/confirm$/, times: 2 }),
    prepareDecline: async () => {},
    prepare: async () => {},
    close: async () => {
      await proxy.close();
      await fake.close();
      await store.close();
    },
  };
}

async function paypalRig(): Promise<Rig> {
  const fake: PaypalFake = await startPaypalFake({ clientId: 'client', clientSecret: 'secret' });
  const proxy: FaultProxy = await startFaultProxy({ target: fake.url });
  const backend = new PaypalBackend({
    clientId: 'client',
    clientSecret: 'secret',
    apiBase: proxy.url,
    catalog: { sku_mug: { name: 'Mug', unit_amount: 1400, currency: 'usd' } },
    timeoutMs: 2_000,
  });
  const { checkouts, store } = await engine(backend);
  return {
    checkouts,
    store,
    items: [{ id: 'sku_mug', quantity: 2 }],
    payOk: card('paypal'),
    payDecline: card('paypal'),
    chargeCount: () => fake.chargeCount(),
    keyedRequests: () =>
      fake.mutatingRequests().filter((r) => r.method === 'POST' && !r.path.includes('oauth2')).map((r) => ({ path: r.path, key: r.requestId })),
    loseNextCompleteResponse: () => proxy.plan({ fault: 'drop_response', method: 'POST', path: /\/capture$/ }),
    // PayPal declines by payer: the person approved with a failing funding source, then with a good one.
    prepareDecline: async (id) => fake.approve(id, DECLINING_PAYER),
    prepare: async (id) => fake.approve(id),
    close: async () => {
      await proxy.close();
      await fake.close();
      await store.close();
    },
  };
}

const rigs: Array<[string, () => Promise<Rig>]> = [
  ['stripe', stripeRig],
  ['paypal', paypalRig],
];

describe.each(rigs)('%s through the engine', (_name, makeRig) => {
  let rig: Rig;
  afterEach(async () => rig?.close());

  async function readyCheckout(): Promise<string> {
    const created = await rig.checkouts.create('local', { items: rig.items, currency: 'usd' });
    if (!created.ok) throw new Error(`create failed: ${JSON.stringify(created.failure)}`);
    return created.checkout.id;
  }

  /** R1: every mutating request that reached the provider carried a ledger-derived key of ≤ 36 characters. */
  async function expectOnlyLedgerKeys(): Promise<void> {
    const derived = new Set<string>();
    for await (const [, record] of rig.store.entries<LedgerRecord>('rec:')) {
      for (const event of record.timeline) if (event.outbound_key) derived.add(event.outbound_key);
    }
    const requests = rig.keyedRequests().filter((r) => !r.path.includes('PATCH'));
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      if (request.key === undefined) continue; // PayPal PATCH carries no request id by design
      expect(request.key.length, request.path).toBeLessThanOrEqual(36);
      expect(derived.has(request.key), `${request.path} carried ${request.key}`).toBe(true);
    }
  }

  it('R6: a confirm/capture whose response is lost is answered from the provider state, with one charge', async () => {
    rig = await makeRig();
    const id = await readyCheckout();
    await rig.prepare(id);
    rig.loseNextCompleteResponse();
    const lost = await rig.checkouts.complete('local', id, { payment_data: rig.payOk });
    expect(lost).toMatchObject({ ok: false, failure: { code: 'outcome_unknown', retryable: true } });
    expect(rig.chargeCount()).toBe(1);
    const again = await rig.checkouts.complete('local', id, { payment_data: rig.payOk });
    expect(again).toMatchObject({ ok: true, checkout: { status: 'completed' }, idempotency: { attempt: 1 } });
    expect(rig.chargeCount()).toBe(1);
    await expectOnlyLedgerKeys();
  });

  it('R6: a declined payment then a good one runs attempt 2 and charges once', async () => {
    rig = await makeRig();
    const id = await readyCheckout();
    await rig.prepareDecline(id);
    const declined = await rig.checkouts.complete('local', id, { payment_data: rig.payDecline });
    expect(declined).toMatchObject({ ok: false, failure: { code: 'payment_declined' } });
    await rig.prepare(id);
    const paid = await rig.checkouts.complete('local', id, { payment_data: rig.payOk });
    expect(paid).toMatchObject({ ok: true, checkout: { status: 'completed' }, idempotency: { attempt: 2, replayed: false } });
    expect(rig.chargeCount()).toBe(1);
    await expectOnlyLedgerKeys();
  });

  it('R7: 50 concurrent identical complete calls charge once and all return the same order', async () => {
    rig = await makeRig();
    const id = await readyCheckout();
    await rig.prepare(id);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => rig.checkouts.complete('local', id, { payment_data: rig.payOk })),
    );
    const orders = new Set(results.map((r) => (r.ok ? r.checkout.order?.id : `error:${r.failure.code}`)));
    expect([...orders]).toHaveLength(1);
    expect([...orders][0]).not.toMatch(/^error:/);
    expect(rig.chargeCount()).toBe(1);
    await expectOnlyLedgerKeys();
  });
});
