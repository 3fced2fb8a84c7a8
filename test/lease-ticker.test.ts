// R7: a running attempt keeps its lease while the call runs, from one shared timer rather than one per call.
// The timers and the wall clock are faked: nothing here sleeps.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseTicker } from '../src/ledger/lease-ticker.js';
import { Ledger, type StepResult } from '../src/ledger/ledger.js';
import { recordStoreKey, type LedgerRecord } from '../src/ledger/record.js';
import { openMemoryStore } from '../src/store/memory.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('R7: lease renewal', () => {
  it('renews each held lease every period, at most half a period late, and stops the timer once nothing is held', () => {
    const ticker = new LeaseTicker();
    const renewed: string[] = [];
    const a = ticker.hold(300, () => renewed.push('a'));
    vi.advanceTimersByTime(299);
    expect(renewed).toEqual([]);
    vi.advanceTimersByTime(151); // t=450, the latest a renewal due at 300 may come
    expect(renewed).toEqual(['a']);
    const b = ticker.hold(300, () => renewed.push('b'));
    vi.advanceTimersByTime(450); // t=900: a at 600 and 900, b at 750
    expect(renewed).toEqual(['a', 'a', 'b', 'a']);
    ticker.release(a);
    ticker.release(b);
    vi.advanceTimersByTime(1_000);
    expect(renewed).toEqual(['a', 'a', 'b', 'a']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call that outlives its lease keeps it: the record stays pending under a live lease, so nobody takes it over', async () => {
    const store = openMemoryStore();
    const ledger = new Ledger({ store, ttlMs: 3_600_000, leaseMs: 300 });
    let finish!: (result: StepResult<string>) => void;
    const running = ledger.run<string>({
      key: 'slow',
      principal: 'local',
      operation: 'complete',
      backend: 'test',
      fingerprint: 'f',
      summary: {},
      execute: () => new Promise((resolve) => (finish = resolve)),
      reconcile: async () => ({ kind: 'resend' }),
    });
    await vi.advanceTimersByTimeAsync(2_000);
    const stored = await store.get<LedgerRecord<string>>(recordStoreKey('slow'));
    expect(stored?.value.state).toMatchObject({ status: 'pending' });
    expect((stored?.value.state as { lease_until: number }).lease_until).toBeGreaterThan(Date.now());
    expect(await ledger.settleFromProvider('slow', async () => ({ kind: 'resend' }))).toMatchObject({ kind: 'skipped', reason: 'running' });
    finish({ kind: 'succeeded', value: 'order_1' });
    expect(await running).toMatchObject({ outcome: 'succeeded', value: 'order_1', replayed: false });
  });
});
