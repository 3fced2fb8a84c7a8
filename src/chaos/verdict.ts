// The verdict, from the merchant's own records against the ledger: duplicates (more than one session, order
// or charge for one task) and lost successes (a charge the ledger does not report as succeeded). Then per
// checkout, against what its agent lived (R13, R14): a charge while the agent was told the payment failed or
// nothing was charged is lost too, and a charge for a cart or total other than the one the agent was last shown
// before paying (or above the run's spend cap) is wrong.
import type { SessionState } from '../backends/sandbox/cart.js';
import type { SandboxCharge, SandboxOrderRecord } from '../backends/sandbox/merchant.js';
import { RECORD_PREFIX, type LedgerRecord } from '../ledger/record.js';
import type { Store } from '../store/store.js';
import type { CartView, Invocation, TaskOutcome } from './agent.js';

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
  /**
   * Lost, per checkout (R13): the merchant holds a charge while the agent was told the payment failed or that
   * nothing was charged: its last answer was an error, or a terminal error came after the charge, or the call
   * in flight when the merchant charged answered that nothing was sent or charged.
   */
  toldFailedButCharged: Finding[];
  /** Wrong, per checkout (R14): the charged cart or total is not the last one the agent was shown before paying. */
  chargedNotShown: Finding[];
  /** Wrong: charges above the run's spend cap (R14); always empty when the run has no cap. */
  aboveCap: Finding[];
  /** The run's spend cap, when it used one. */
  cap?: number;
}

export interface JudgeOptions {
  /** The spend cap the servers ran with (ONCE_MAX_ORDER_AMOUNT), in minor units. */
  cap?: number;
}

/** Words that tell an agent nothing was charged (or sent), whatever the code. */
const NOTHING_CHARGED = /nothing (was |has been )?(charged|sent)|not (been )?charged|was declined|payment failed/i;
/** Words about the checkout's money, not about one call: false whenever the merchant holds a charge (R13). */
const NOT_PAID = /nothing (was |has been )?charged|not (been )?charged|was declined|payment failed/i;

function sameCart(shown: CartView, items: Array<{ id: string; quantity: number }>): boolean {
  const norm = (list: Array<{ id: string; quantity: number }>) => {
    const merged = new Map<string, number>();
    for (const { id, quantity } of list) merged.set(id, (merged.get(id) ?? 0) + quantity);
    return JSON.stringify([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  return norm(shown.items) === norm(items);
}

function cartText(items: Array<{ id: string; quantity: number }>, total?: number): string {
  return `${items.map((i) => `${i.quantity}×${i.id}`).join(' + ') || 'nothing'} = ${total ?? '?'}`;
}

function answerText(entry: Invocation): string {
  return entry.ok ? `ok (${entry.status ?? '?'})` : `${entry.code}: ${entry.message ?? ''}`.slice(0, 240);
}

/**
 * Why the agent of a charged checkout believes it failed, or undefined when it does not. `chargedAt` is when
 * the merchant charged (the merchant and the agents share this process's clock).
 */
export function toldFailure(outcome: TaskOutcome, chargedAt: number): string | undefined {
  const completes = outcome.log.filter((e) => e.tool === 'complete_checkout');
  const last = completes.at(-1);
  if (outcome.status !== 'completed') {
    return last ? `the agent's last word on paying was ${answerText(last)} (task ${outcome.status})` : `the agent never asked to pay (task ${outcome.status}: ${outcome.detail ?? ''})`;
  }
  if (last && last.ok && last.status !== undefined && last.status !== 'completed') return `the agent's last answer shows status ${last.status}, not completed`;
  // (Our own sentence only: merchant messages quoted after it are the merchant's words about the checkout.)
  if (last && last.ok && NOTHING_CHARGED.test((last.message ?? '').split(' About this checkout,')[0])) return `the agent's last answer, a success, reads "${last.message}"`;
  for (const entry of completes) {
    if (entry.ok || entry.answeredAt < chargedAt) continue;
    // After the charge, a terminal failure is false whatever it says; a retryable one only when it was the call
    // in flight when the merchant charged and says nothing was sent or charged.
    if (entry.retryable === false) return `after the charge the agent was told ${answerText(entry)}`;
    if (entry.startedAt <= chargedAt && NOTHING_CHARGED.test(entry.message ?? '')) return `the call in flight when the merchant charged answered ${answerText(entry)}`;
    // "This call sent nothing" may be true of a later call; "nothing was charged" never is, whatever the code.
    if (NOT_PAID.test(entry.message ?? '')) return `after the charge the agent was told ${answerText(entry)}`;
  }
  return undefined;
}

/**
 * The cart the agent was last shown before the complete that was in flight when the merchant charged, or a
 * reason there is none. Shown means: a successful create, update or get answer, or a refusal carrying the live
 * checkout (checkout_changed), received before that complete was sent.
 */
export function shownBefore(outcome: TaskOutcome, chargedAt: number): { shown: CartView } | { why: string } {
  const paying = outcome.log.filter((e) => e.tool === 'complete_checkout' && e.startedAt <= chargedAt).at(-1);
  if (!paying) return { why: 'the merchant charged before the agent asked to pay' };
  const shown = outcome.log.filter((e) => e.cart && e.answeredAt <= paying.startedAt && !(e.tool === 'complete_checkout' && e.ok)).at(-1);
  if (!shown?.cart) return { why: 'the agent was shown no cart before paying' };
  // R14: a cart without its total gave the person nothing to approve; any amount would "match" it.
  if (shown.cart.total === undefined) return { why: `the agent was shown ${cartText(shown.cart.items)} with no total before paying` };
  return { shown: shown.cart };
}

async function all<T>(store: Store, prefix: string): Promise<T[]> {
  const out: T[] = [];
  for await (const [, value] of store.entries<T>(prefix)) out.push(value);
  return out;
}

/** What the merchant holds: its sessions, orders and charges. */
interface MerchantRecords {
  sessions: SessionState[];
  orders: SandboxOrderRecord[];
  charges: SandboxCharge[];
}

/** What every judgement step reads: the merchant's records, its sessions by task, and how to write a finding. */
interface Judging {
  merchant: MerchantRecords;
  sessionsByTask: Map<string, string[]>;
  finding: (taskId: string, what: string, checkoutIds: string[]) => Finding;
}

export async function judge(merchantStore: Store, ledgerStore: Store, outcomes: TaskOutcome[], principal: string, options: JudgeOptions = {}): Promise<Verdict> {
  const merchant: MerchantRecords = {
    sessions: await all<SessionState>(merchantStore, 'sandbox:session:'),
    orders: await all<SandboxOrderRecord>(merchantStore, 'sandbox:order:'),
    charges: await all<SandboxCharge>(merchantStore, 'sandbox:charge:'),
  };
  const records = (await all<LedgerRecord>(ledgerStore, RECORD_PREFIX)).filter((r) => r.principal === principal);
  const recordsByAnchor = ledgerRecordsByCheckout(records);
  const judging: Judging = { merchant, sessionsByTask: sessionsByTask(merchant.sessions), finding: findingWith(recordsByAnchor) };
  const genuineReexecutions = records.filter((r) => r.operation === 'complete' && r.state.status === 'succeeded' && r.attempt > 1).length;
  return {
    sessions: merchant.sessions.length,
    orders: merchant.orders.length,
    charges: merchant.charges.length,
    ...judgeTasks(judging, recordsByAnchor, outcomes),
    genuineReexecutions,
    ...judgeCheckouts(judging, outcomes, options.cap),
    ...(options.cap !== undefined ? { cap: options.cap } : {}),
  };
}

/** The ledger's records per checkout: by anchor, or for a create by the checkout it made. */
function ledgerRecordsByCheckout(records: LedgerRecord[]): Map<string, LedgerRecord[]> {
  const recordsByAnchor = new Map<string, LedgerRecord[]>();
  for (const record of records) {
    const anchor = record.anchor ?? (record.state.status === 'succeeded' ? (record.state.result as { id?: string } | null)?.id : undefined);
    if (!anchor) continue;
    recordsByAnchor.set(anchor, [...(recordsByAnchor.get(anchor) ?? []), record]);
  }
  return recordsByAnchor;
}

/** The task a session was made for (its buyer's e-mail names it). */
function taskOf(session: SessionState | undefined): string {
  return session?.buyer?.email?.replace(/@chaos\.invalid$/, '') ?? '(no buyer)';
}

function sessionsByTask(sessions: SessionState[]): Map<string, string[]> {
  const byTask = new Map<string, string[]>();
  for (const session of sessions) {
    const task = taskOf(session);
    byTask.set(task, [...(byTask.get(task) ?? []), session.id]);
  }
  return byTask;
}

/** A finding, with the ledger records of the task's checkouts. */
function findingWith(recordsByAnchor: Map<string, LedgerRecord[]>): Judging['finding'] {
  return (taskId, what, checkoutIds) => ({
    taskId,
    what,
    checkoutIds,
    records: checkoutIds.flatMap((id) => recordsByAnchor.get(id) ?? []).map(({ key, operation, anchor, attempt, outbound_key, state, timeline }) => ({
      key, operation, anchor, attempt, outbound_key, state, timeline,
    })),
  });
}

/** The entries of `list` on any of the checkouts `ids`. */
function onCheckouts<T extends { checkout_session_id: string }>(list: T[], ids: string[]): T[] {
  return list.filter((x) => ids.includes(x.checkout_session_id));
}

/** Per task: duplicates, charges the ledger does not report as succeeded, and orders the agent was wrongly told of. */
function judgeTasks(
  { merchant, sessionsByTask, finding }: Judging,
  recordsByAnchor: Map<string, LedgerRecord[]>,
  outcomes: TaskOutcome[],
): Pick<Verdict, 'duplicates' | 'lostSuccesses' | 'wrongAnswers'> {
  const duplicates: Finding[] = [];
  const lostSuccesses: Finding[] = [];
  const wrongAnswers: Finding[] = [];
  for (const [taskId, ids] of sessionsByTask) {
    const taskOrders = onCheckouts(merchant.orders, ids);
    const taskCharges = onCheckouts(merchant.charges, ids);
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
    const merchantOrders = onCheckouts(merchant.orders, ids).map((o) => o.id);
    if (!outcome.orderId || !merchantOrders.includes(outcome.orderId)) {
      wrongAnswers.push(finding(outcome.taskId, `agent was told order ${outcome.orderId}; merchant has ${merchantOrders.join(', ') || 'none'}`, ids));
    }
  }
  return { duplicates, lostSuccesses, wrongAnswers };
}

/** What the merchant holds per checkout: its charges, and an order with no charge beside it (same judgement). */
function heldByMerchant({ charges, orders }: MerchantRecords): SandboxCharge[] {
  const charged = new Set(charges.map((c) => c.checkout_session_id));
  return [
    ...charges,
    ...orders
      .filter((o) => !charged.has(o.checkout_session_id))
      .map((o) => ({ id: o.id, checkout_session_id: o.checkout_session_id, amount: o.amount, currency: '', created_at: o.created_at })),
  ];
}

/** Per checkout, against what the agent lived: charged though told it failed, charged not as shown, above the cap. */
function judgeCheckouts(
  { merchant, sessionsByTask, finding }: Judging,
  outcomes: TaskOutcome[],
  cap: number | undefined,
): Pick<Verdict, 'toldFailedButCharged' | 'chargedNotShown' | 'aboveCap'> {
  const toldFailedButCharged: Finding[] = [];
  const chargedNotShown: Finding[] = [];
  const aboveCap: Finding[] = [];
  const sessionById = new Map(merchant.sessions.map((session) => [session.id, session]));
  const outcomeByTask = new Map(outcomes.map((outcome) => [outcome.taskId, outcome]));
  for (const charge of heldByMerchant(merchant)) {
    const session = sessionById.get(charge.checkout_session_id);
    const taskId = taskOf(session);
    const ids = sessionsByTask.get(taskId) ?? [charge.checkout_session_id];
    const chargedAt = Date.parse(charge.created_at);
    const what = `${charge.id.startsWith('ord_') ? 'order' : 'charge'} ${charge.id} of ${cartText(session?.items ?? [], charge.amount)} on ${charge.checkout_session_id}`;
    if (cap !== undefined && charge.amount > cap) {
      aboveCap.push(finding(taskId, `${what} is above the cap of ${cap}`, ids));
    }
    const outcome = outcomeByTask.get(taskId);
    if (!outcome) continue;
    const failure = toldFailure(outcome, chargedAt);
    if (failure) toldFailedButCharged.push(finding(taskId, `${what} but ${failure}`, ids));
    const seen = shownBefore(outcome, chargedAt);
    if ('why' in seen) chargedNotShown.push(finding(taskId, `${what}: ${seen.why}`, ids));
    else if (!sameCart(seen.shown, session?.items ?? []) || seen.shown.total !== charge.amount) {
      chargedNotShown.push(finding(taskId, `${what}, but the agent was last shown ${cartText(seen.shown.items, seen.shown.total)} before paying`, ids));
    }
  }
  return { toldFailedButCharged, chargedNotShown, aboveCap };
}
