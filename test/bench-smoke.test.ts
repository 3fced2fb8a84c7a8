// `once-checkout bench --quick --json` keeps working: every section is there and contention ran the call
// once per store. No timed assertions: the figures are the benchmark's business, not the test's.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from './support/server-process.js';
import { freshRedisDatabase, POSTGRES_URL, postgresAvailable, redisAvailable } from './support/services.js';

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

describe('once-checkout bench (smoke)', () => {
  it('R7: --quick --json reports every row, and 100 concurrent duplicates execute once on every store', async () => {
    const stores = ['sqlite', 'memory', ...(pgUp ? ['postgres'] : []), ...(redisUp ? ['redis'] : [])];
    const args = [BIN, 'bench', '--quick', '--json', '--stores', stores.join(','), '--scale', '100,200', '--postgres', POSTGRES_URL];
    if (redisUp) args.push('--redis', await freshRedisDatabase(13));
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);

    expect(report.skipped).toEqual([]);
    expect(report.stores.map((s: { store: string }) => s.store)).toEqual(stores);
    for (const s of report.stores) {
      expect(s.fresh).toMatchObject({ n: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number), roundTrips: expect.any(Number) });
      expect(s.replay.roundTrips).toBe(1);
      expect(s.throughput.map((t: { concurrency: number }) => t.concurrency)).toEqual([1, 8, 64]);
      for (const t of s.throughput) expect(t.windows).toHaveLength(report.sizes.windows);
      // A fresh run writes its record twice and sends only a write id to compare against.
      expect(s.bytes.written).toBeGreaterThan(0);
      expect(s.bytes.compared).toBeLessThan(100);
      expect(s.contention).toMatchObject({ duplicates: 100, executions: 1 });
      expect(s.scale.map((row: { records: number }) => row.records)).toEqual([100, 200]);
    }
    expect(report.e2e).toMatchObject({ replay: { p50: expect.any(Number) }, noop: { p50: expect.any(Number) }, ratioP50: expect.any(Number) });
    expect(report.targets.length).toBeGreaterThan(0);
    if (redisUp) {
      // The ratios themselves travel in the JSON, with which way is better, pair by pair.
      expect(report.powertools.comparison.map((c: { metric: string }) => c.metric)).toEqual([
        'fresh p50',
        'replay p50',
        ...[1, 8, 64].flatMap((c) => [`fresh ops/s c=${c}`, `node CPU per run c=${c}`, `Redis CPU per run c=${c}`]),
      ]);
      for (const c of report.powertools.comparison) {
        expect(c).toMatchObject({ better: expect.stringMatching(/^(higher|lower)$/), pairs: 3, ahead: expect.stringMatching(/^(ours|theirs|unclear)$/) });
        expect(c.advantages).toHaveLength(3);
        expect(c.advantage.median).toBeGreaterThan(0);
      }
      expect(report.powertools.wire.ours.toStore).toBeGreaterThan(0);
      expect(report.powertools.wire.theirs.toStore).toBeGreaterThan(0);
      expect(report.powertools.contention.executions).toBe(1);
      expect(report.powertools.contention.answers.IdempotencyAlreadyInProgressError).toBe(99);
      expect(report.crash.map((c: { library: string }) => c.library)).toEqual(['once-checkout', 'once-checkout', 'powertools']);
      for (const c of report.crash.filter((c: { library: string }) => c.library === 'once-checkout')) {
        expect(c).toMatchObject({ reExecutions: 0, reconciled: true });
      }
    }
  }, 150_000);
});
