// The checkout engine over the in-process sandbox merchant: honest replays (R11), ownership, the spend cap.
import { describe, expect, it } from 'vitest';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { Ledger } from '../src/ledger/ledger.js';
import { ManualClock } from '../src/ledger/clock.js';
import { openMemoryStore } from '../src/store/memory.js';
import { ADDRESS } from './support/server-process.js';

const HOUR = 3_600_000;

function engine(maxOrderAmount?: number) {
  const store = openMemoryStore();
  const clock = new ManualClock();
  const backend = new SandboxBackend({ store, now: () => clock.now() });
  const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR });
  return { clock, backend, checkouts: new Checkouts({ ledger, backend, windowMs: HOUR, maxOrderAmount }) };
}

const cart = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const pay = { payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } } };

async function created(checkouts: Checkouts, principal = 'alice') {
  const result = await checkouts.create(principal, cart);
  if (!result.ok) throw new Error(result.failure.message);
  return result.checkout.id;
}

describe('R11: honest replays', () => {
  it('R11: a replay of an older update returns the current state, not a stale snapshot', async () => {
    const { checkouts, clock } = engine();
    const id = await created(checkouts);
    const express = { selected_fulfillment_options: [{ type: 'shipping' as const, option_id: 'ship_express', item_ids: ['li_sku_mug'] }] };
    const twoMugs = { items: [{ id: 'sku_mug', quantity: 2 }] };
    const first = await checkouts.update('alice', id, express);
    clock.advance(1_000);
    const second = await checkouts.update('alice', id, twoMugs);
    clock.advance(1_000);
    const replay = await checkouts.update('alice', id, express);
    if (!first.ok || !second.ok || !replay.ok) throw new Error('update failed');
    expect(replay.idempotency.replayed).toBe(true);
    expect(replay.checkout).toEqual(second.checkout);
    expect(replay.checkout).not.toEqual(first.checkout);
    expect(replay.idempotency.first_seen_at).toBe(first.idempotency.first_seen_at);
  });
});

describe('principals are kept apart', () => {
  it("another principal's checkout is not found for update, complete, get or cancel, and nothing is sent", async () => {
    const { checkouts, backend } = engine();
    const id = await created(checkouts, 'alice');
    const before = await backend.sandbox.stats();
    for (const attempt of [
      checkouts.update('mallory', id, { items: [{ id: 'sku_mug', quantity: 9 }] }),
      checkouts.complete('mallory', id, pay),
      checkouts.get('mallory', id),
      checkouts.cancel('mallory', id, {}),
    ]) {
      expect(await attempt).toMatchObject({ ok: false, failure: { code: 'checkout_not_found' } });
    }
    expect(await backend.sandbox.stats()).toEqual(before);
    // The same cart from another principal is that principal's own checkout.
    expect(await created(checkouts, 'bob')).not.toBe(id);
  });
});

describe('spend cap', () => {
  it('a complete above ONCE_MAX_ORDER_AMOUNT is refused with spend_cap_exceeded before anything is sent', async () => {
    const { checkouts, backend } = engine(1_000);
    const id = await created(checkouts);
    expect(await checkouts.complete('alice', id, pay)).toMatchObject({ ok: false, failure: { code: 'spend_cap_exceeded' } });
    expect((await backend.sandbox.stats()).charges).toBe(0);
  });
});

describe('R12: merchant business errors are results', () => {
  it('R12: completing an out-of-stock cart is a terminal failure in the merchant\'s words, not an unknown', async () => {
    const { checkouts } = engine();
    const result = await checkouts.create('alice', { ...cart, items: [{ id: 'sku_sold_out', quantity: 1 }] });
    if (!result.ok) throw new Error(result.failure.message);
    expect(result.checkout.messages.some((m) => m.type === 'error')).toBe(true);
    const completed = await checkouts.complete('alice', result.checkout.id, pay);
    expect(completed).toMatchObject({ ok: false, failure: { type: 'merchant_error', retryable: false } });
    if (!completed.ok) expect(completed.failure.message).toMatch(/stock/i);
  });
});

describe('R5/R6: a lost payment retried with another card', () => {
  it('R6: the lost attempt is superseded once the merchant shows it did not complete; one charge, no key conflict', async () => {
    const store = openMemoryStore();
    const clock = new ManualClock();
    const sandbox = new SandboxBackend({ store, now: () => clock.now() });
    let loseNext = true;
    // The first payment (a declined card) reaches the merchant, and its answer is lost on the way back.
    const backend = Object.assign(Object.create(sandbox) as typeof sandbox, {
      async complete(...args: Parameters<typeof sandbox.complete>) {
        const result = await sandbox.complete(...args);
        if (!loseNext) return result;
        loseNext = false;
        return { kind: 'unknown' as const, reason: 'response lost' };
      },
    });
    const checkouts = new Checkouts({ ledger: new Ledger({ store, clock, ttlMs: 23 * HOUR }), backend, windowMs: HOUR });
    const id = await created(checkouts);
    const decline = { payment_data: { instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_decline' } } } };
    expect(await checkouts.complete('alice', id, decline)).toMatchObject({ ok: false, failure: { code: 'outcome_unknown' } });
    const paid = await checkouts.complete('alice', id, pay);
    expect(paid).toMatchObject({ ok: true, checkout: { status: 'completed' }, idempotency: { attempt: 2 } });
    expect((await sandbox.sandbox.stats()).charges).toBe(1);
  });
});

describe('R12: completion counts only as completed with an order', () => {
  it('R12: a complete answered "authentication_required" is payer_action_required with the link, not an unknown to retry', async () => {
    const { checkouts, backend } = engine();
    const id = await created(checkouts);
    // The bank asks for 3-D Secure: the merchant holds no charge yet.
    backend.complete = async (checkoutId) => {
      const seen = await backend.get(checkoutId);
      if (seen.kind !== 'succeeded') return seen;
      return { kind: 'succeeded', checkout: { ...seen.checkout, status: 'authentication_required', continue_url: 'https://bank.example/3ds/1' } };
    };
    const result = await checkouts.complete('alice', id, pay);
    expect(result).toMatchObject({ ok: false, failure: { type: 'payment_error', code: 'payer_action_required', retryable: false } });
    if (!result.ok) expect(result.failure.message).toContain('https://bank.example/3ds/1');
  });
});

describe("get_checkout's idempotency: the create that made the checkout, never made up", () => {
  function withLedger() {
    const store = openMemoryStore();
    const clock = new ManualClock();
    const backend = new SandboxBackend({ store, now: () => clock.now() });
    const ledger = new Ledger({ store, clock, ttlMs: 23 * HOUR });
    return { store, clock, ledger, checkouts: new Checkouts({ ledger, backend, windowMs: HOUR }) };
  }

  it("tells the create's key, attempt, outbound key and first call, as a read that replays nothing", async () => {
    const { checkouts } = withLedger();
    const made = await checkouts.create('alice', cart);
    if (!made.ok) throw new Error(made.failure.message);
    const read = await checkouts.get('alice', made.checkout.id);
    expect(read).toMatchObject({ ok: true });
    if (!read.ok) return;
    expect(read.idempotency).toEqual({ ...made.idempotency, outcome: 'succeeded', replayed: false });
  });

  it('still tells them after the create record expired (ONCE_TTL) and was swept, from the head', async () => {
    const { checkouts, clock, ledger } = withLedger();
    const made = await checkouts.create('alice', cart);
    if (!made.ok) throw new Error(made.failure.message);
    clock.advance(24 * HOUR);
    await ledger.sweep();
    expect(await ledger.read(made.idempotency.key)).toBeUndefined();
    const read = await checkouts.get('alice', made.checkout.id);
    if (!read.ok) throw new Error(read.failure.message);
    expect(read.idempotency).toEqual({ ...made.idempotency, outcome: 'succeeded', replayed: false });
  });

  it('a head written before it kept them, its record gone: attempt and outbound key are left out, not invented', async () => {
    const { checkouts, clock, ledger } = withLedger();
    const made = await checkouts.create('alice', cart);
    if (!made.ok) throw new Error(made.failure.message);
    await checkouts.heads.updateUnlocked(made.checkout.id, ({ create_attempt: _a, create_outbound_key: _k, ...old }) => old);
    // While the record names this checkout, it still tells them.
    const early = await checkouts.get('alice', made.checkout.id);
    if (!early.ok) throw new Error(early.failure.message);
    expect(early.idempotency).toEqual({ ...made.idempotency, outcome: 'succeeded', replayed: false });
    clock.advance(24 * HOUR);
    await ledger.sweep();
    const read = await checkouts.get('alice', made.checkout.id);
    if (!read.ok) throw new Error(read.failure.message);
    expect(read.idempotency).toEqual({ key: made.idempotency.key, outcome: 'succeeded', replayed: false, first_seen_at: made.idempotency.first_seen_at });
  });

  it("a head written before it kept them never borrows a newer generation's create (same cart after the window W)", async () => {
    const { checkouts, clock } = withLedger();
    const made = await checkouts.create('alice', cart);
    if (!made.ok) throw new Error(made.failure.message);
    await checkouts.heads.updateUnlocked(made.checkout.id, ({ create_attempt: _a, create_outbound_key: _k, ...old }) => old);
    clock.advance(2 * HOUR);
    const again = await checkouts.create('alice', cart);
    if (!again.ok) throw new Error(again.failure.message);
    expect(again.checkout.id).not.toBe(made.checkout.id);
    expect(again.idempotency.key).toBe(made.idempotency.key);
    const read = await checkouts.get('alice', made.checkout.id);
    if (!read.ok) throw new Error(read.failure.message);
    expect(read.idempotency.outbound_key).toBeUndefined();
    expect(read.idempotency.attempt).toBeUndefined();
  });
});
