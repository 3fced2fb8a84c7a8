// After a crash mid-call: what the next caller of the same operation gets, ours and theirs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { recordStoreKey, type LedgerRecord } from '../ledger/record.js';
import type { Store } from '../store/store.js';
import { OurRunner, type Payload } from './ours.js';
import { openTheirs } from './theirs.js';

export interface CrashRow {
  library: 'once-checkout' | 'powertools';
  scenario: string;
  /** Executions of the function after the crash (the crashed one not counted). */
  reExecutions: number;
  reconciled: boolean;
  /** From the first retry to an answer that is not "in progress". */
  blockedMs: number;
  answer: string;
}

const WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

/** Starts a process that claims `payload` and is SIGKILLed in the middle of its backend call. */
async function crashedHolder(storeUrl: string, payload: Payload): Promise<void> {
  const child = spawn(process.execPath, [WORKER, storeUrl, JSON.stringify(payload)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'holding') throw new Error(`crash worker said ${String(first.value)}`);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Ours: a holder SIGKILLed on this host (dead-owner detection), and one "on another host" (lease expiry). */
export async function ourCrash(store: Store, storeUrl: string, leaseMs: number): Promise<CrashRow[]> {
  const rows: CrashRow[] = [];
  for (const scenario of ['dead owner on this host', `owner on another host, lease ${leaseMs} ms`] as const) {
    const runner = new OurRunner(store, { waitMs: leaseMs * 4 });
    const payload = runner.payload(scenario.length);
    await crashedHolder(storeUrl, payload);
    if (scenario !== 'dead owner on this host') {
      // The same record as if its owner lived elsewhere: no pid to check, only the lease tells.
      const key = recordStoreKey(runner.spec(payload).key);
      const current = await store.get<LedgerRecord>(key);
      if (!current || current.value.state.status !== 'pending') throw new Error('the crashed holder left no pending record');
      await store.replace(key, current, {
        ...current.value,
        state: { status: 'pending', owner: 'elsewhere:1:00000000', lease_until: Date.now() + leaseMs },
      });
    }
    let reconciled = false;
    const started = performance.now();
    const result = await runner.ledger.run({
      ...runner.spec(payload),
      reconcile: async () => {
        reconciled = true;
        return { kind: 'settled', result: { kind: 'succeeded', value: { id: 'chk_charged_before_crash' } } };
      },
    });
    rows.push({
      library: 'once-checkout',
      scenario,
      reExecutions: runner.executions,
      reconciled,
      blockedMs: Math.round(performance.now() - started),
      answer: `${result.outcome}: ${JSON.stringify(result.value)}`,
    });
  }
  return rows;
}

/**
 * Theirs: the function never returns (from Redis' view the same as a crash: Powertools has no owner to
 * check and no heartbeat). Retries get IdempotencyAlreadyInProgressError until the in-progress expiry
 * (the Lambda's remaining time), then run the function again without asking whether the first had an effect.
 */
export async function theirCrash(redisUrl: string, remainingMs: number): Promise<CrashRow> {
  const theirs = await openTheirs({ redisUrl, keyPrefix: 'once-bench-pt-crash', remainingMs });
  try {
    const payload = { run: `crash-${process.pid}`, cart: 1 };
    let started!: () => void;
    const holding = new Promise<void>((resolve) => (started = resolve));
    void theirs.run(payload, async () => {
      started();
      await new Promise(() => {});
    });
    await holding;
    const executionsBefore = theirs.executions;
    const t0 = performance.now();
    let refusals = 0;
    for (;;) {
      try {
        const answer = await theirs.run(payload);
        return {
          library: 'powertools',
          scenario: `in-progress expiry ${remainingMs} ms (Lambda remaining time)`,
          reExecutions: theirs.executions - executionsBefore,
          reconciled: false,
          blockedMs: Math.round(performance.now() - t0),
          answer: `ran again after ${refusals} IdempotencyAlreadyInProgressError: ${JSON.stringify(answer)}`,
        };
      } catch (error) {
        if ((error as Error).name !== 'IdempotencyAlreadyInProgressError') throw error;
        refusals += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    await theirs.close();
  }
}
