// Issue 16, case 8: what chaos and bench print agrees with itself and fits a terminal.
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../src/chaos/report.js';
import { faultTotal } from '../src/chaos/run.js';
import type { ChaosSummary } from '../src/chaos/run.js';
import { renderCrash, REPORT_COLUMNS } from '../src/bench/report.js';
import type { CrashRow } from '../src/bench/crash.js';

function summary(): ChaosSummary {
  return {
    tasks: 200,
    processes: 1,
    store: 'sqlite',
    seed: 11,
    faults: { drop_request: 10, drop_response: 9, delay: 8, error_5xx: 7, in_flight_409: 6, cut_body: 5, partition: 4, server_sigkill: 3, store_outage: 0 },
    reinvocations: 230,
    parallelDuplicates: 80,
    completed: 200,
    refused: 0,
    gaveUp: 0,
    stopped: [],
    recoveredAfterStorm: 0,
    sessions: 200,
    orders: 200,
    charges: 200,
    duplicates: 0,
    lostSuccesses: 0,
    wrongAnswers: 0,
    genuineReexecutions: 20,
    interleavings: { payment_switch: 20, update_race: 20, settle_cut: 0 },
    held: { released: 3, expired: 1 },
    toldFailedButCharged: 0,
    chargedNotShown: 0,
    aboveCap: null,
    cap: null,
    wallSeconds: 12.3,
    toolLatencyMs: { p50: 32, p99: 546.03, calls: 900 },
    verdict: {} as ChaosSummary['verdict'],
  };
}

describe('issue 16 case 8: the chaos report', () => {
  it('states the total of injected faults, the same count the progress line shows (one per partition, not per refused request)', () => {
    const s = summary();
    expect(faultTotal(s.faults)).toBe(52);
    expect(formatSummary(s)).toMatch(/^faults injected, all kinds \(the progress line counts the same\)\s+52$/m);
  });

  it('gives both latency percentiles in one unit and one precision', () => {
    expect(formatSummary(summary())).toMatch(/^tool latency p50 \/ p99\s+32 ms \/ 546 ms \(900 calls\)$/m);
  });
});

describe('issue 16 case 8: the bench crash table', () => {
  it(`fits ${REPORT_COLUMNS} columns, answers included`, () => {
    const rows: CrashRow[] = [
      { library: 'once-checkout', scenario: 'dead owner on this host', reExecutions: 0, reconciled: true, blockedMs: 1, answer: `succeeded: ${JSON.stringify({ order: 'ord_0320837fdf9fcf998e225907', payload: 'x'.repeat(120) })}` },
      { library: 'once-checkout', scenario: 'owner on another host, lease 1000 ms', reExecutions: 0, reconciled: true, blockedMs: 1_004, answer: 'succeeded: {"order":"ord_1"}' },
      { library: 'powertools', scenario: 'in-progress expiry 1000 ms (Lambda remaining time)', reExecutions: 1, reconciled: false, blockedMs: 1_010, answer: `ran again after 12 IdempotencyAlreadyInProgressError: ${JSON.stringify({ payload: 'y'.repeat(150) })}` },
    ];
    const lines = renderCrash(rows);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(REPORT_COLUMNS);
    const text = lines.join('\n');
    expect(text).toMatch(/^1\. answer: succeeded: /m);
    expect(text).toMatch(/^3\. answer: ran again after 12 IdempotencyAlreadyInProgressError/m);
    expect(text.replace(/\n {5}/g, '')).toContain('y'.repeat(150)); // wrapped, never cut off
  });
});
