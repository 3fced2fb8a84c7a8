// The chaos checker is not blind: each test hands the verdict (src/chaos/verdict.ts, order-events.ts) or the harness
// (agent.ts, run.ts) the records or the run a broken build would produce, and expects it to be caught.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/backends/sandbox/faults.js';
import { headStoreKey } from '../src/checkout/heads.js';
import { runTask, type Invocation, type TaskOutcome } from '../src/chaos/agent.js';
import { checkOrderEvents } from '../src/chaos/order-events.js';
import { protocolWire } from '../src/chaos/protocols.js';
import { isClean } from '../src/chaos/report.js';
import { runChaos } from '../src/chaos/run.js';
import type { ServerPool } from '../src/chaos/server-pool.js';
import { judge } from '../src/chaos/verdict.js';
import { orderEventsKey, type OrderEventsRecord } from '../src/orders/order-events.js';
import { openMemoryStore } from '../src/store/memory.js';
import { at, call, merchantWith, MUG, T0 } from './support/chaos-records.js';

const ROOT = resolve(import.meta.dirname, '..');



function completed(task: string, log: Invocation[]): TaskOutcome {
  return { taskId: task, status: 'completed', checkoutId: `cs_${task}`, orderId: `ord_${task}`, reinvocations: 0, parallelDuplicates: 0, log };
}

describe('the chaos verdict is blind to', () => {
  it('R13: an answer after the charge that says the payment failed and nothing was charged, when its code is retryable and a later call succeeds', async () => {
    // The merchant charged at +200 during the first complete, whose answer was lost (honestly: unknown). The next
    // call, sent after the charge, is told "the payment failed and nothing was charged" under a retryable code;
    // a model reading that tells the person it failed (or buys elsewhere). The harness agent retries only
    // because the code is retryable, is then told "completed", and the verdict forgives the lie.
    const lied = completed('r13', [
      call('update_checkout', 0, 10, { cart: { items: MUG, total: 3023 }, status: 'ready_for_payment' }),
      call('complete_checkout', 100, 1_100, { ok: false, code: 'outcome_unknown', message: 'The merchant did not answer clearly, so it may or may not have acted', retryable: true }),
      call('complete_checkout', 1_200, 1_300, {
        ok: false,
        code: 'merchant_unavailable',
        message: 'The payment failed and nothing was charged; call complete_checkout again in a few seconds.',
        retryable: true,
      }),
      call('complete_checkout', 1_400, 1_500, { status: 'completed', orderId: 'ord_r13', cart: { items: MUG, total: 3023 } }),
    ]);
    const verdict = await judge(await merchantWith([{ task: 'r13', items: MUG, amount: 3023, chargedAt: 200 }]), openMemoryStore(), [lied], 'p');
    expect(verdict.toldFailedButCharged.map((f) => f.taskId)).toEqual(['r13']);
  });

  it('R14: a charge of any amount when the agent was shown the cart without a total', async () => {
    // A build whose answers carry no total (or one the harness cannot read) leaves the person nothing to approve;
    // the verdict then compares items only, so a charge of 99.99 for one mug (shown at no price) passes.
    const noTotal = completed('r14', [
      call('update_checkout', 0, 10, { cart: { items: MUG }, status: 'ready_for_payment' }),
      call('complete_checkout', 100, 110, { status: 'completed', orderId: 'ord_r14', cart: { items: MUG } }),
    ]);
    const verdict = await judge(await merchantWith([{ task: 'r14', items: MUG, amount: 9_999, chargedAt: 105 }]), openMemoryStore(), [noTotal], 'p');
    expect(verdict.chargedNotShown.map((f) => f.taskId)).toEqual(['r14']);
  });

  it('R14: an update race is counted as played though no request was ever held (interleavings.update_race > 0 proves nothing)', async () => {
    // A proxy whose hold never matches the server's requests (a wire the harness no longer recognises) holds
    // nothing: update A goes straight through, there is no race. The agent still reports the race as played,
    // and chaos.test.ts asserts only `interleavings.update_race > 0`, never that a request was held.
    const checkout = (items: Array<{ id: string; quantity: number }>, status: string) => ({
      id: 'cs_fake',
      status,
      currency: 'usd',
      line_items: items.map((i, n) => ({ id: `li_${n}`, item: { id: i.id }, quantity: i.quantity })),
      totals: [{ type: 'total', amount: 1_400 * items.reduce((s, i) => s + i.quantity, 0) }],
      ...(status === 'completed' ? { order: { id: 'ord_fake' } } : {}),
    });
    let items = MUG;
    const pool = {
      async call(name: string, args: Record<string, any>): Promise<CallToolResult> {
        if (name === 'update_checkout' && Array.isArray(args.items)) items = args.items;
        const body = checkout(items, name === 'complete_checkout' ? 'completed' : 'ready_for_payment');
        return { content: [{ type: 'text', text: 'ok' }], structuredContent: { checkout: body } };
      },
    } as unknown as ServerPool;
    const outcome = await runTask(
      { taskId: 'race', items: MUG, declineFirst: false, interleaving: 'update_race' },
      {
        pool,
        random: mulberry32(1),
        parallelChance: 0,
        maxTries: 3,
        callTimeoutMs: 1_000,
        latencies: [],
        // The proxy's hold: armed, never matching, so never held (onRelease is never called).
        interleave: { hold: () => () => {}, wire: protocolWire('acp') },
      },
    );
    expect(outcome.status).toBe('completed');
    expect(outcome.played).toBeUndefined();
  });

  it('R13 (order events, issue 18): a merchant state applied twice under two digests of our own making', async () => {
    // appliedTwice compares the server's own digests; a build whose digest also covers something that changes
    // per delivery (the signature's time) applies a retried state again, as a new line with a new seq, and the
    // check sees two distinct digests. The merchant sent "created" once; the ledger applied it twice.
    const merchant = 'merchant.example';
    const merchantStore = openMemoryStore();
    const ledger = openMemoryStore();
    const order = { type: 'order', id: 'ord_1', checkout_session_id: 'cs_1', status: 'created' };
    await merchantStore.put('sandbox:orderlife:ord_1', { order, currency: 'usd', protocol: 'acp' });
    const line = (digest: string, seq: number) => ({ at: T0 + seq, type: 'order_create', order_id: 'ord_1', status: 'created', digest, signed_at: T0 + seq, outcome: 'applied' as const, seq, deliveries: 1, last_delivery_at: T0 + seq });
    const record: OrderEventsRecord = {
      v: 1,
      claim_id: 'c',
      backend: 'acp',
      merchant,
      anchor: 'cs_1',
      known: true,
      seq: 2,
      latest: { digest: 'b'.repeat(32), signed_at: T0 + 2, value: order as never },
      lines: [line('a'.repeat(32), 1), line('b'.repeat(32), 2)],
      first_seen_at: T0,
      updated_at: T0 + 2,
    };
    await ledger.put(orderEventsKey('acp', merchant, 'cs_1'), record);
    await ledger.put(headStoreKey('acp', merchant, 'cs_1'), { anchor: 'cs_1', order: { value: order } });
    const check = await checkOrderEvents(merchantStore, ledger, merchant, { events: 1, deliveries: 2, duplicates: 0, retries: 1, reordered: 0, givenUp: 0 });
    expect(check.appliedTwice).toEqual(['cs_1']);
  });
});

describe('the chaos harness never plays', () => {
  it('R14: a cart changed at the merchant before complete, so a build without the live-cart guard passes', async () => {
    // The sandbox's catalog and prices never change, and every update race is reconciled (same key) before the
    // agent is shown update B, so the guard "the live cart differs from the last one the agent was told:
    // refuse with checkout_changed" is never needed. A build with it removed runs clean.
    // Under the repository, so the copy finds node_modules; .tmp is ignored by git.
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const broken = mkdtempSync(join(ROOT, '.tmp', 'chaos-broken-build-'));
    try {
      // dereference: a dist that is a link must be copied, never written through.
      cpSync(join(ROOT, 'dist'), join(broken, 'dist'), { recursive: true, dereference: true });
      const engine = join(broken, 'dist', 'src', 'checkout', 'checkouts.js');
      expect(realpathSync(engine).startsWith(realpathSync(broken))).toBe(true);
      const source = readFileSync(engine, 'utf8');
      const sabotaged = source.replace(/if \(seenByAgent !== held\.head\.shown[^{]*\{/, 'if (false) {');
      expect(sabotaged).not.toBe(source);
      writeFileSync(engine, sabotaged);
      const summary = await runChaos({ tasks: 30, processes: 1, seed: 7, concurrency: 8, faultRate: 0.15, bin: join(broken, 'dist', 'src', 'index.js') });
      expect(summary.completed).toBeGreaterThan(25);
      expect(isClean(summary), 'a build that never refuses a changed cart must not pass chaos').toBe(false);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  }, 120_000);
});
