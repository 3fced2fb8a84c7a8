// Issue 18 under chaos: the merchant's signed order events, sent with duplicates, retries after success and
// reordering to a server in HTTP mode on the run's store, while agents buy through every fault. Every order must
// be on its checkout's event record, applied once per state, the head showing the newest state, and no complete
// of an ordered checkout left without an outcome.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { retryWindowMs } from '../src/backends/sandbox/order-events.js';
import { ORDER_EVENT_DELIVERY, SETTLE_CUT_MS, type ChaosSummary } from '../src/chaos/run.js';
import { BIN } from './support/server-process.js';

describe('chaos --order-events', () => {
  it('issue 18: the chaos merchant retries a refused order event for longer than the run keeps cutting the store (8 long cuts back to back)', () => {
    // An event refused throughout the cuts (the receiver answers 500 while the store is down) must still arrive:
    // otherwise "order never recorded" would be the harness giving up, not the server losing an order.
    expect(retryWindowMs(ORDER_EVENT_DELIVERY)).toBeGreaterThanOrEqual(8 * SETTLE_CUT_MS.long);
    expect(retryWindowMs({})).toBe(200 + 400 + 800 + 1_600 + 3_200 + 5_000 + 5_000); // the default: 8 attempts
  });


  it('issue 18: order events under chaos on SQLite are applied exactly once, never older over newer, and settle every ordered complete', () => {
    const run = spawnSync(process.execPath, [BIN, 'chaos', '--json', '--tasks', '60', '--seed', '18', '--order-events'], {
      encoding: 'utf8',
      timeout: 200_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`chaos printed no summary (exit ${run.status}): ${run.stderr.slice(-2000)}`);
    const summary = JSON.parse(line) as ChaosSummary;
    const events = summary.orderEvents!;
    const { duplicates, lostSuccesses, wrongAnswers, toldFailedButCharged, chargedNotShown, stopped, verdict } = summary;
    const findings = [...verdict.duplicates, ...verdict.lostSuccesses, ...verdict.wrongAnswers, ...verdict.toldFailedButCharged, ...verdict.chargedNotShown].slice(0, 5).map((f) => f.what);
    const why = JSON.stringify({ events, duplicates, lostSuccesses, wrongAnswers, toldFailedButCharged, chargedNotShown, stopped: stopped.slice(0, 5), findings, stderr: run.stderr.slice(-1500) });
    expect(run.status, why).toBe(0);
    expect(summary.duplicates).toBe(0);
    expect(summary.lostSuccesses).toBe(0);
    expect(events.orders).toBe(summary.orders);
    expect({ missing: events.missing, stale: events.stale, appliedTwice: events.appliedTwice, unsettled: events.unsettled }).toEqual({ missing: [], stale: [], appliedTwice: [], unsettled: [] });
    // The faults were played: more deliveries than states, and some states held back until after newer ones.
    expect(events.deliveries).toBeGreaterThan(events.events);
    expect(events.duplicates + events.retries).toBeGreaterThan(0);
    expect(events.reordered).toBeGreaterThan(0);
    expect(events.applied + events.late).toBe(events.events);
  }, 240_000);
});
