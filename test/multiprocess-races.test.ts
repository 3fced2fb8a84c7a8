// What only shows across server processes sharing one store: clock skew between them, and a process paused
// between the person's approval and its send. Each test builds two processes in-process: two Checkouts
// and Ledgers on one ledger store, one merchant, and each process its own ManualClock.
import { describe, expect, it } from 'vitest';
import { SandboxBackend } from '../src/backends/sandbox/sandbox-backend.js';
import { Checkouts } from '../src/checkout/checkouts.js';
import { ManualClock } from '../src/ledger/clock.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openMemoryStore } from '../src/store/memory.js';
import type { Store } from '../src/store/store.js';
import { chargesAt, created, HOUR, ok, payWith, wrapStore } from './support/checkout-engine.js';

/** Two server processes on one ledger store and one merchant; B's clock is `skewMs` behind A's. */
function twoProcesses(skewMs: number) {
  const merchantStore = openMemoryStore();
  const ledgerStore = openMemoryStore();
  const clockA = new ManualClock();
  const clockB = new ManualClock(clockA.now() - skewMs);
  const processOn = (clock: ManualClock) =>
    new Checkouts({
      ledger: new Ledger({ store: ledgerStore, clock, ttlMs: 23 * HOUR }),
      backend: new SandboxBackend({ store: merchantStore, now: () => clock.now() }),
      windowMs: HOUR,
    });
  const advance = (ms: number) => {
    clockA.advance(ms);
    clockB.advance(ms);
  };
  return { a: processOn(clockA), b: processOn(clockB), advance, ledgerStore, merchantStore };
}

describe('review: across server processes', () => {
  it('R11: a replay of an older update, after a newer update ran on a process whose clock is behind, returns the current cart, not the stale snapshot', async () => {
    const { a, b, advance } = twoProcesses(2_000); // B's clock 2 s behind A's: NTP drift within a normal range
    const { id } = await created(a);
    advance(100);
    const first = ok(await a.update('alice', id, { items: [{ id: 'sku_mug', quantity: 2 }] })); // U1 through A
    advance(100);
    const second = ok(await b.update('alice', id, { items: [{ id: 'sku_mug', quantity: 3 }] })); // U2 through B, after U1
    advance(100);
    // The agent repeats U1 (a model that retries its call): a replay, answered from the record.
    const replay = await a.update('alice', id, { items: [{ id: 'sku_mug', quantity: 2 }] });
    const live = ok(await b.get('alice', id));
    expect({ first: first.line_items[0].quantity, second: second.line_items[0].quantity, live: live.line_items[0].quantity }).toEqual({ first: 2, second: 3, live: 3 });
    // R11: "a replay of an older update returns the current state, not a stale snapshot".
    expect(replay.ok && { replayed: replay.idempotency.replayed, quantity: replay.checkout.line_items[0].quantity }).toEqual({ replayed: true, quantity: 3 });
  });

  it('R13: a complete whose process pauses after the person approved and before its send, past the checkout-level claim but within the lease of its record, does not send while another process runs an update on the checkout (the cart charged is the one approved)', async () => {
    // Two processes, clocks in step. The person takes 29 s to approve (A renews its checkout-level claim meanwhile);
    // right after, A stops (GC pause, SIGSTOP) on its way to claim the complete's record, for 22 s: past the
    // checkout-level claim's lease (last renewed 20 s in), within the record's (30 s from the claim).
    const merchantStore = openMemoryStore();
    const ledgerStore = openMemoryStore();
    const clockA = new ManualClock();
    const clockB = new ManualClock(clockA.now());
    let stall: Promise<void> | undefined;
    let resume!: () => void;
    let stalled!: () => void;
    const hasStalled = new Promise<void>((resolve) => (stalled = resolve));
    const stallingComplete = (inner: Store) =>
      wrapStore(inner, {
        claim: async (key, value) => {
          if (stall && key.startsWith('rec:') && (value as { operation?: string }).operation === 'complete') {
            stalled();
            await stall;
          }
          return inner.claim(key, value);
        },
      });
    const processOn = (clock: ManualClock, store: Store) =>
      new Checkouts({
        ledger: new Ledger({ store, clock, ttlMs: 23 * HOUR }),
        backend: new SandboxBackend({ store: merchantStore, now: () => clock.now() }),
        windowMs: HOUR,
        maxOrderAmount: 5_000,
      });
    const a = processOn(clockA, stallingComplete(ledgerStore));
    const b = processOn(clockB, ledgerStore);
    const { id } = await created(a); // 1 mug (2023 with shipping and tax): under the cap, shown to the agent
    const asked: number[] = [];
    const thinking = async (total: number) => {
      asked.push(total);
      for (let s = 0; s < 29; s += 1) {
        clockA.advance(1_000);
        clockB.advance(1_000);
        await new Promise((resolve) => setImmediate(resolve)); // A's renewals of its claim land
      }
      return 'accepted' as const;
    };
    stall = new Promise<void>((resolve) => (resume = resolve));
    const paying = a.complete('alice', id, payWith('card_a'), { confirm: (r) => thinking(r.total) });
    await hasStalled; // the person approved 2023; A holds the checkout's claim and is about to claim its record
    clockB.advance(22_000); // A is stopped; B's clock runs: A's checkout-level claim has lapsed
    const updated = ok(await b.update('alice', id, { items: [{ id: 'sku_mug', quantity: 9 }] })); // 9 mugs, over the cap
    clockA.advance(22_000); // A resumes
    resume();
    const paid = await paying;
    const charged = (await chargesAt(merchantStore)).map((c) => c.amount);
    expect({ asked, quantity: updated.line_items[0].quantity }).toEqual({ asked: [2023], quantity: 9 });
    // R13 (one mutating operation at a time on a checkout) and R14: the person approved 2023 under a 5,000 cap;
    // the 9-mug cart B's update left must not be charged.
    expect({ paid: paid.ok, charged }).toEqual({ paid: false, charged: [] });
  });
});
