// The verdict, from the merchant's own records against the ledger: duplicates (more than one session, order
// or charge for one task) and lost successes (a charge the ledger does not report as succeeded).
import type { SessionState } from '../backends/sandbox/cart.js';
import type { SandboxCharge, SandboxOrderRecord } from '../backends/sandbox/merchant.js';
import { RECORD_PREFIX, type LedgerRecord } from '../ledger/record.js';
import type { Store } from '../store/store.js';
import type { TaskOutcome } from './agent.js';

export interface Finding {
  taskId: string;
  what: string;
  checkoutIds: string[];
  /** The ledger records of the task's checkouts: keys, outbound keys and timelines. */
  records: Array<Pick<LedgerRecord, 'key' | 'operation' | 'anchor' | 'attempt' | 'outbound_key' | 'state' | 'timeline'>>;
}

export interface Verdict {
  sessions: number;
  orders: number;
  charges: number;
  duplicates: Finding[];
  lostSuccesses: Finding[];
  /** Tasks whose agent was told of an order the merchant does not have, or of another one. */
  wrongAnswers: Finding[];
  /** Completes that succeeded on attempt 2 or later after a genuine failure (R6). */
  genuineReexecutions: number;
}

async function all<T>(store: Store, prefix: string): Promise<T[]> {
  const out: T[] = [];
  for await (const [, value] of store.entries<T>(prefix)) out.push(value);
  return out;
}

export async function judge(merchantStore: Store, ledgerStore: Store, outcomes: TaskOutcome[], principal: string): Promise<Verdict> {
  const sessions = await all<SessionState>(merchantStore, 'sandbox:session:');
  const orders = await all<SandboxOrderRecord>(merchantStore, 'sandbox:order:');
  const charges = await all<SandboxCharge>(merchantStore, 'sandbox:charge:');
  const records = (await all<LedgerRecord>(ledgerStore, RECORD_PREFIX)).filter((r) => r.principal === principal);

  const recordsByAnchor = new Map<string, LedgerRecord[]>();
  for (const record of records) {
    const anchor = record.anchor ?? (record.state.status === 'succeeded' ? (record.state.result as { id?: string } | null)?.id : undefined);
    if (!anchor) continue;
    recordsByAnchor.set(anchor, [...(recordsByAnchor.get(anchor) ?? []), record]);
  }
  const sessionsByTask = new Map<string, string[]>();
  for (const session of sessions) {
    const task = session.buyer?.email?.replace(/@chaos\.invalid$/, '') ?? '(no buyer)';
    sessionsByTask.set(task, [...(sessionsByTask.get(task) ?? []), session.id]);
  }
  const count = <T extends { checkout_session_id: string }>(list: T[], ids: string[]) => list.filter((x) => ids.includes(x.checkout_session_id));
  const finding = (taskId: string, what: string, checkoutIds: string[]): Finding => ({
    taskId,
    what,
    checkoutIds,
    records: checkoutIds.flatMap((id) => recordsByAnchor.get(id) ?? []).map(({ key, operation, anchor, attempt, outbound_key, state, timeline }) => ({
      key, operation, anchor, attempt, outbound_key, state, timeline,
    })),
  });

  const duplicates: Finding[] = [];
  const lostSuccesses: Finding[] = [];
  const wrongAnswers: Finding[] = [];
  for (const [taskId, ids] of sessionsByTask) {
    const taskOrders = count(orders, ids);
    const taskCharges = count(charges, ids);
    if (ids.length > 1) duplicates.push(finding(taskId, `${ids.length} checkout sessions for one task`, ids));
    if (taskOrders.length > 1) duplicates.push(finding(taskId, `${taskOrders.length} orders for one task`, ids));
    if (taskCharges.length > 1) duplicates.push(finding(taskId, `${taskCharges.length} charges for one task`, ids));
    for (const charge of taskCharges) {
      const complete = (recordsByAnchor.get(charge.checkout_session_id) ?? []).find((r) => r.operation === 'complete');
      if (complete?.state.status !== 'succeeded') {
        lostSuccesses.push(finding(taskId, `charge ${charge.id} but the ledger's complete is ${complete?.state.status ?? 'missing'}`, ids));
      }
    }
  }
  for (const outcome of outcomes) {
    if (outcome.status !== 'completed') continue;
    const ids = sessionsByTask.get(outcome.taskId) ?? [];
    const merchantOrders = count(orders, ids).map((o) => o.id);
    if (!outcome.orderId || !merchantOrders.includes(outcome.orderId)) {
      wrongAnswers.push(finding(outcome.taskId, `agent was told order ${outcome.orderId}; merchant has ${merchantOrders.join(', ') || 'none'}`, ids));
    }
  }
  const genuineReexecutions = records.filter((r) => r.operation === 'complete' && r.state.status === 'succeeded' && r.attempt > 1).length;
  return { sessions: sessions.length, orders: orders.length, charges: charges.length, duplicates, lostSuccesses, wrongAnswers, genuineReexecutions };
}
