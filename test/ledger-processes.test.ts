// R7 across OS processes on the real stores: one execution among many racing processes, and a crashed
// owner's claim reconciled rather than rerun. R9 with an unreachable store.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../src/ledger/ledger.js';
import { parseStoreUrl } from '../src/config/store-url.js';
import { openStore } from '../src/store/open.js';
import { freshPostgresDatabase, freshRedisDatabase, postgresAvailable, redisAvailable } from './support/services.js';
import { tempDir } from './support/server-process.js';

const WORKER = resolve(import.meta.dirname, 'support', 'ledger-worker.mjs');
const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

function worker(args: string[]): { child: ChildProcessWithoutNullStreams; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: 'pipe' });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() };
}

const targets: Array<[string, () => Promise<string>]> = [['sqlite', async () => `sqlite://${join(tempDir(), 'race.db')}`]];
if (pgUp) targets.push(['postgres', () => freshPostgresDatabase('once_ledger_processes')]);
if (redisUp) targets.push(['redis', () => freshRedisDatabase(12)]);

describe.each(targets)('R7 across processes: %s', (_name, makeUrl) => {
  it('R7: 4 processes × 25 concurrent identical runs execute the call once and return 100 identical outcomes', async () => {
    const url = await makeUrl();
    // Create the schema first so the workers race on the claim, not on CREATE TABLE.
    const store = await openStore(parseStoreUrl(url));
    await store.get('warm-up');
    await store.close();
    const workers = Array.from({ length: 4 }, () => worker([url, 'race', 'order-42', '25']));
    await new Promise((r) => setTimeout(r, 1_500)); // let every process connect before the start signal
    for (const w of workers) w.child.stdin.write('go\n');
    const reports = await Promise.all(
      workers.map(async (w) => JSON.parse((await w.lines.next()).value as string) as { executions: number; outcomes: string[] }),
    );
    const outcomes = reports.flatMap((r) => r.outcomes);
    expect(reports.reduce((sum, r) => sum + r.executions, 0)).toBe(1);
    expect(outcomes).toHaveLength(100);
    expect(new Set(outcomes).size).toBe(1);
    expect(outcomes[0]).toMatch(/^succeeded:order-from-/);
  }, 60_000);

  it('R6/R7: a process SIGKILLed while holding a claim leaves a pending record that the next caller reconciles, not reruns', async () => {
    const url = await makeUrl();
    const holder = worker([url, 'hold', 'order-43']);
    expect((await holder.lines.next()).value).toBe('holding');
    holder.child.kill('SIGKILL');
    await new Promise((r) => holder.child.once('exit', r));

    const store = await openStore(parseStoreUrl(url));
    const ledger = new Ledger({ store, ttlMs: 3_600_000 });
    expect((await ledger.read('order-43'))?.state.status).toBe('pending');
    let executed = 0;
    const reconciledKeys: string[] = [];
    const result = await ledger.run({
      key: 'order-43',
      principal: 'local',
      operation: 'complete',
      backend: 'test',
      fingerprint: 'same-intent',
      summary: {},
      execute: async () => {
        executed += 1;
        return { kind: 'succeeded', value: 'second' };
      },
      reconcile: async (attempt) => {
        reconciledKeys.push(attempt.outboundKey);
        return { kind: 'settled', result: { kind: 'succeeded', value: 'charged-before-the-crash' } };
      },
    });
    expect(result).toMatchObject({ outcome: 'succeeded', value: 'charged-before-the-crash' });
    expect(executed).toBe(0);
    expect(reconciledKeys).toEqual([result.record.outbound_key]);
    expect(result.record.timeline.map((e) => e.event)).toContain('taken_over');
    await store.close();
  }, 60_000);
});

describe('R9: fail closed', () => {
  it.each([
    ['PostgreSQL', 'postgres://postgres@127.0.0.1:9/nothing'],
    ['Redis', 'redis://127.0.0.1:9/0'],
  ])('R9: a ledger on an unreachable %s answers store_unavailable and never invokes the call', async (_name, url) => {
    const store = await openStore(parseStoreUrl(url));
    const ledger = new Ledger({ store, ttlMs: 3_600_000 });
    let invoked = false;
    await expect(
      ledger.run({
        key: 'k',
        principal: 'local',
        operation: 'create',
        backend: 'test',
        fingerprint: 'f',
        summary: {},
        execute: async () => {
          invoked = true;
          return { kind: 'succeeded', value: 'x' };
        },
        reconcile: async () => ({ kind: 'resend' }),
      }),
    ).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(invoked).toBe(false);
    await store.close();
  });
});
