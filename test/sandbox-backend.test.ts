import { describe, it, expect } from 'vitest';
import { openMemoryStore } from '../src/store/memory.js';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { TOKEN_DECLINE, TOKEN_OK } from '../src/backends/sandbox/merchant.js';
import type { BackendResult, CallContext } from '../src/backends/backend.js';
import type { CompleteInput } from '../src/commerce/inputs.js';
import type { CheckoutSession } from '../src/commerce/session.js';

const address = { name: 'A', line_one: '1 St', city: 'C', state: 'S', country: 'US', postal_code: '10001' };
let n = 0;
const ctx = (key = `key-${++n}`, attempt = 1): CallContext => ({ idempotencyKey: key, attempt, requestId: `req-${n}` });
const pay = (token: string): CompleteInput => ({
  payment_data: { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token } } },
});

function checkout(result: BackendResult): CheckoutSession {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

/** An rng that returns the given draws in order, then 0.99 (no fault). */
function scripted(...draws: number[]) {
  return () => draws.shift() ?? 0.99;
}

async function readyCheckout(backend: SandboxBackend) {
  return checkout(
    await backend.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd', fulfillment_details: { address } }, ctx()),
  );
}

describe('SandboxBackend: mapping merchant answers to BackendResult', () => {
  it('declares name, merchant and a 23 h TTL under the 24 h key retention (R8)', () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    expect(backend.name).toBe('sandbox');
    expect(backend.merchant).toBe('sandbox');
    expect(backend.retention.providerMs).toBe(24 * 3_600_000);
    expect(backend.retention.defaultTtlMs).toBe(23 * 3_600_000);
  });

  it('create, update, complete, get: succeeded with the ACP session; complete carries the order', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const created = checkout(await backend.create({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd' }, ctx()));
    expect(created.status).toBe('not_ready_for_payment');
    const updated = checkout(await backend.update(created.id, { fulfillment_details: { address } }, ctx()));
    expect(updated.status).toBe('ready_for_payment');
    const result = await backend.complete(created.id, pay(TOKEN_OK), ctx());
    expect(result.kind).toBe('succeeded');
    expect(result.providerRequestId).toBeDefined();
    expect(checkout(result).order?.checkout_session_id).toBe(created.id);
    expect(checkout(await backend.get(created.id)).status).toBe('completed');
  });

  it('R12: a declined payment is a terminal failure with code payment_declined and the merchant\'s words', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const ready = await readyCheckout(backend);
    const result = await backend.complete(ready.id, pay(TOKEN_DECLINE), ctx());
    expect(result).toMatchObject({
      kind: 'failed',
      code: 'payment_declined',
      // The merchant's words, quoted and attributed: the sandbox is an ACP merchant like any other.
      message: 'the merchant says “The payment was declined by the card issuer. Try a different payment method.”',
    });
    expect(result.kind === 'failed' && result.checkout?.status).toBe('ready_for_payment');
    expect(await backend.sandbox.stats()).toMatchObject({ orders: 0, charges: 0, declines: 1 });
  });

  it('R12: out of stock is a terminal failure with the merchant\'s words', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const created = await backend.create(
      { items: [{ id: 'sku_sold_out', quantity: 1 }], currency: 'usd', fulfillment_details: { address } },
      ctx(),
    );
    // The session exists (an anchor for the ledger); its messages say why it cannot be paid.
    expect(checkout(created).messages[0]).toMatchObject({ type: 'error', code: 'out_of_stock' });
    const result = await backend.complete(checkout(created).id, pay(TOKEN_OK), ctx());
    expect(result.kind).toBe('failed');
    if (result.kind !== 'failed') return;
    // The merchant's own code travels namespaced, so it can never pass for one of ours.
    expect(result.code).toBe('merchant:out_of_stock');
    expect(result.message).toContain('Limited Edition Jacket');
    expect(result.message).toContain('out of stock');
  });

  it('a 4xx flat error is terminal: unknown item → invalid_item_id; unknown session → checkout_not_found', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    expect(await backend.create({ items: [{ id: 'sku_nope', quantity: 1 }], currency: 'usd' }, ctx())).toMatchObject({
      kind: 'failed',
      code: 'merchant:invalid_item_id',
    });
    expect(await backend.get('cs_missing')).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
    expect(await backend.complete('cs_missing', pay(TOKEN_OK), ctx())).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
  });

  it('complete of a completed checkout under a new key fails (405) and attaches the session with its order', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const ready = await readyCheckout(backend);
    const first = checkout(await backend.complete(ready.id, pay(TOKEN_OK), ctx()));
    const second = await backend.complete(ready.id, pay(TOKEN_OK), ctx());
    expect(second).toMatchObject({ kind: 'failed', code: 'checkout_already_completed' });
    expect(second.kind === 'failed' && second.checkout?.order).toEqual(first.order);
    expect((await backend.sandbox.stats()).charges).toBe(1);
  });

  it('R1: the same key resent replays the first answer (no second session or charge)', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const input = { items: [{ id: 'sku_cap', quantity: 1 }], currency: 'usd', fulfillment_details: { address } };
    const a = checkout(await backend.create(input, ctx('create-k')));
    const b = checkout(await backend.create(input, ctx('create-k', 2)));
    expect(b.id).toBe(a.id);
    const p1 = checkout(await backend.complete(a.id, pay(TOKEN_OK), ctx('pay-k')));
    const p2 = checkout(await backend.complete(a.id, pay(TOKEN_OK), ctx('pay-k', 2)));
    expect(p2.order).toEqual(p1.order);
    expect(await backend.sandbox.stats()).toEqual({ sessions: 1, orders: 1, charges: 1, declines: 0 });
  });

  it('cancel succeeds with status canceled; null clears a list, but the fulfillment details cannot be cleared in ACP (issue 13: one ACP path)', async () => {
    const backend = new SandboxBackend({ store: openMemoryStore() });
    const ready = await readyCheckout(backend);
    expect(await backend.update(ready.id, { fulfillment_details: null }, ctx())).toMatchObject({ kind: 'failed', code: 'invalid_input' });
    const cleared = checkout(await backend.update(ready.id, { discounts: null, selected_fulfillment_options: null }, ctx()));
    expect(cleared.status).toBe('ready_for_payment');
    expect(checkout(await backend.cancel(ready.id, { reason: 'no longer needed' }, ctx())).status).toBe('canceled');
  });
});

describe('SandboxBackend: injected faults', () => {
  it('R6: lose_response — the merchant commits, the client hears unknown; a resend with the same key returns the first order', async () => {
    const store = openMemoryStore();
    const backend = new SandboxBackend({ store, faults: 'lose_response@complete:1', rng: () => 0 });
    const ready = await readyCheckout(backend);
    const lost = await backend.complete(ready.id, pay(TOKEN_OK), ctx('pay'));
    expect(lost).toEqual({ kind: 'unknown', reason: 'response lost' });
    expect((await backend.sandbox.stats()).orders).toBe(1);

    const calm = new SandboxBackend({ store });
    const seen = checkout(await calm.get(ready.id));
    expect(seen.status).toBe('completed');
    const resent = checkout(await calm.complete(ready.id, pay(TOKEN_OK), ctx('pay', 2)));
    expect(resent.order).toEqual(seen.order);
    expect(await calm.sandbox.stats()).toEqual({ sessions: 1, orders: 1, charges: 1, declines: 0 });
  });

  it('error_5xx — fails before the merchant acts, as unknown; the resend runs once', async () => {
    const store = openMemoryStore();
    const backend = new SandboxBackend({ store, faults: 'error_5xx@complete:1', rng: () => 0 });
    const ready = await readyCheckout(backend);
    const result = await backend.complete(ready.id, pay(TOKEN_OK), ctx('pay'));
    expect(result.kind).toBe('unknown');
    expect((await backend.sandbox.stats()).orders).toBe(0);
    expect(checkout(await new SandboxBackend({ store }).complete(ready.id, pay(TOKEN_OK), ctx('pay', 2))).status).toBe('completed');
  });

  it('timeout — the merchant acts or not (by the rng), the client waits the short delay and hears unknown', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
    };
    const store = openMemoryStore();
    const reached = new SandboxBackend({ store, faults: 'timeout@complete:1', rng: scripted(0, 0.2), sleep });
    const a = await readyCheckout(reached);
    expect(await reached.complete(a.id, pay(TOKEN_OK), ctx())).toMatchObject({ kind: 'unknown' });
    expect(await reached.sandbox.ordersFor(a.id)).toHaveLength(1);

    const lostOnTheWay = new SandboxBackend({ store, faults: 'timeout@complete:1', rng: scripted(0, 0.7), sleep });
    const b = await readyCheckout(lostOnTheWay);
    expect(await lostOnTheWay.complete(b.id, pay(TOKEN_OK), ctx())).toMatchObject({ kind: 'unknown' });
    expect(await lostOnTheWay.sandbox.ordersFor(b.id)).toHaveLength(0);
    expect(slept).toEqual([20, 20]);
  });

  it('crash_after_commit — the merchant commits, then the process is killed (injected here)', async () => {
    let crashes = 0;
    const backend = new SandboxBackend({
      store: openMemoryStore(),
      faults: 'crash_after_commit@complete:1',
      rng: () => 0,
      crash: () => {
        crashes += 1;
      },
    });
    const ready = await readyCheckout(backend);
    expect(crashes).toBe(0);
    await backend.complete(ready.id, pay(TOKEN_OK), ctx());
    expect(crashes).toBe(1);
    expect(await backend.sandbox.ordersFor(ready.id)).toHaveLength(1);
  });

  it('the same seed gives the same fault outcomes run after run', async () => {
    const { mulberry32 } = await import('../src/backends/sandbox/faults.js');
    const run = async () => {
      const backend = new SandboxBackend({
        store: openMemoryStore(),
        faults: 'lose_response:0.3,error_5xx:0.2',
        rng: mulberry32(2026),
      });
      const kinds: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        kinds.push((await backend.create({ items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd' }, ctx())).kind);
      }
      return { kinds, stats: await backend.sandbox.stats() };
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.kinds).toContain('unknown');
    expect(first.kinds).toContain('succeeded');
  });
});
