// Issue 16, case 6: a checkout already in the state a call asks for is the answer, not an error; a checkout
// that can never be paid says so plainly, with advice the agent can follow.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, BackendResult } from '../src/backends/backend.js';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { describeFailure } from '../src/checkout/failure.js';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import { ADDRESS, startServer, structured, tempDir, type RunningServer } from './support/server-process.js';

const CART = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const PAY = { payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } } };

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
});

describe('issue 16 case 6 over stdio: cancel and complete on a canceled checkout', () => {
  it('cancel_checkout again with other arguments (no reason) returns the canceled checkout, not checkout_already_canceled', async () => {
    const server = await startServer({ ONCE_STORE: `sqlite://${join(tempDir(), 'c.db')}` });
    servers.push(server);
    const id = structured(await server.call('create_checkout', CART)).checkout!.id;
    const first = await server.call('cancel_checkout', { checkout_session_id: id, reason: 'changed my mind' });
    expect(structured(first).checkout?.status).toBe('canceled');

    const again = await server.call('cancel_checkout', { checkout_session_id: id });
    expect(again.isError, JSON.stringify(again.structuredContent)).toBeFalsy();
    expect(structured(again).checkout).toMatchObject({ id, status: 'canceled' });
    expect(structured(again).idempotency?.outcome).toBe('succeeded');
    expect((again.content[0] as { text: string }).text).toMatch(new RegExp(`^Checkout "?${id}"? is canceled`));
    // The same call once more is a replay of that answer.
    expect(structured(await server.call('cancel_checkout', { checkout_session_id: id })).idempotency?.replayed).toBe(true);
  });

  it('complete_checkout on a canceled checkout says plainly that it cannot be paid, that nothing was charged, and what to do', async () => {
    const server = await startServer({ ONCE_STORE: `sqlite://${join(tempDir(), 'c.db')}` });
    servers.push(server);
    const id = structured(await server.call('create_checkout', CART)).checkout!.id;
    await server.call('cancel_checkout', { checkout_session_id: id });
    const paid = await server.call('complete_checkout', { checkout_session_id: id, ...PAY });
    expect(paid.isError).toBe(true);
    const error = structured(paid).error!;
    expect(error).toMatchObject({ code: 'checkout_canceled', retryable: false });
    expect(error.message).toBe(
      'This checkout is canceled, so it cannot be paid, and nothing was charged. Do not call complete_checkout on it again. If the person still wants these items, call create_checkout with a new task_id (the same cart without one returns this canceled checkout).',
    );
    expect(error.message).not.toMatch(/change the checkout before trying again/);
  });
});

/** The sandbox, except that the merchant shows the checkout expired and refuses payment with a code of its own. */
function expiringBackend(): { backend: Backend; expire(): void } {
  const store = openMemoryStore();
  const sandbox = new SandboxBackend({ store });
  let expired = false;
  const backend = Object.create(sandbox) as Backend;
  backend.get = async (id) => {
    const seen = await sandbox.get(id);
    return expired && seen.kind === 'succeeded' ? { ...seen, checkout: { ...seen.checkout, status: 'expired' } } : seen;
  };
  backend.complete = async (id, input, ctx): Promise<BackendResult> =>
    expired ? { kind: 'failed', code: 'session_not_payable', message: 'nope' } : sandbox.complete(id, input, ctx);
  return { backend, expire: () => void (expired = true) };
}

describe('issue 16 case 6 in the engine: an expired checkout', () => {
  it('R13: complete on a checkout the merchant shows expired is read back and told as expired, whatever code the provider used', async () => {
    const { backend, expire } = expiringBackend();
    const store = openMemoryStore();
    const checkouts = new Checkouts({ ledger: new Ledger({ store, clock: new ManualClock(), ttlMs: 23 * 3_600_000 }), backend, windowMs: 3_600_000 });
    const created = await checkouts.create('alice', CART);
    if (!created.ok) throw new Error(created.failure.message);
    expire();
    const paid = await checkouts.complete('alice', created.checkout.id, PAY);
    expect(paid).toMatchObject({ ok: false, failure: { code: 'checkout_expired', retryable: false } });
    if (paid.ok) return;
    expect(paid.failure.message).toMatch(/^This checkout is expired, so it cannot be paid, and nothing was charged\. .*create_checkout with a new task_id/);
  });

  it('the words for a closed checkout never advise changing it, for any tool', () => {
    for (const code of ['checkout_already_canceled', 'checkout_canceled', 'checkout_already_expired', 'checkout_expired']) {
      for (const tool of ['complete_checkout', 'update_checkout', 'cancel_checkout']) {
        const told = describeFailure(code, 'the merchant said so', tool);
        expect(told.retryable).toBe(false);
        expect(told.message).not.toMatch(/change the checkout before trying again/);
        expect(told.message).toMatch(/create_checkout with a new task_id/);
      }
    }
    expect(describeFailure('checkout_already_completed', '', 'cancel_checkout').message).toMatch(/already completed \(paid\), so it cannot be canceled here/);
  });
});
