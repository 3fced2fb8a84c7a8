// A simulated agent: create → update → complete, re-invoking the way models do: after a timeout, after a
// retryable error, after the server restarted, and sometimes twice in parallel. Some agents also move on
// while a call is still in flight (R13, R14): they pay again with other payment data after a complete timed
// out, or change the cart again after an update timed out, and then pay. Every answer is logged, so the
// verdict can judge each checkout by what its agent was told and shown.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HoldRule, RequestMatch } from './fault-proxy.js';
import type { ServerPool } from './server-pool.js';

/** An agent that moves on while a call is still in flight at the merchant (the issue "The checkout is the unit of truth"). */
export type Interleaving =
  /** The first complete is held in the network past the timeout; the agent pays again with other payment data. */
  | 'payment_switch'
  /** Update A (9 of each) is held past the timeout; the agent sends update B (1 of each), then pays. */
  | 'update_race'
  /**
   * An update is held past the timeout and the agent pays at once, still shown the old cart: the update lands
   * (reconciled, or let go by the complete), so the live cart is not the one shown and complete must refuse (R14).
   */
  | 'update_moved_on';

export interface TaskPlan {
  taskId: string;
  items: Array<{ id: string; quantity: number }>;
  /** Pays with a declined card first, so the good card is a genuine attempt 2 (R6). */
  declineFirst: boolean;
  interleaving?: Interleaving;
  /** PostgreSQL: the ledger's store is cut right after the merchant answers this task's complete. */
  settleCut?: boolean;
}

/** A cart as the agent saw it: items by id and the total, in minor units. */
export interface CartView {
  items: Array<{ id: string; quantity: number }>;
  total?: number;
}

/** One invocation as the agent lived it: a call (or two in parallel) and the answer it acted on. */
export interface Invocation {
  tool: string;
  startedAt: number;
  answeredAt: number;
  ok: boolean;
  code?: string;
  message?: string;
  retryable?: boolean;
  /** Successful answers: the checkout the agent was shown (`message`: the first line of the text it read). */
  cart?: CartView;
  status?: string;
  orderId?: string;
}

export interface TaskOutcome {
  taskId: string;
  status: 'completed' | 'gave_up' | 'refused';
  checkoutId?: string;
  orderId?: string;
  /** Why the task stopped, when it did not complete. */
  detail?: string;
  reinvocations: number;
  parallelDuplicates: number;
  /** Every answer the agent acted on, in order (across a retry after the storm too). */
  log: Invocation[];
  /**
   * The interleaving the agent actually played: a switch needs the first complete to have failed, and either
   * needs the proxy to have held a request under its hold (a hold that never matched played nothing).
   */
  played?: Interleaving;
}

export interface AgentOptions {
  pool: ServerPool;
  random: () => number;
  /** Chance that a call is sent twice at once. */
  parallelChance: number;
  /** Re-invocations per call before the agent gives up for now. */
  maxTries: number;
  callTimeoutMs: number;
  latencies: number[];
  /** The run's levers for interleavings; without them the agent plays none. */
  interleave?: {
    /** Holds one request at the fault proxy (see HoldRule); the returned function disarms it. */
    hold(rule: HoldRule): () => void;
    /** One checkout's complete and update on the wire, in the protocol the servers speak (protocols.ts). */
    wire: { complete(checkoutId: string): RequestMatch; update(checkoutId: string): RequestMatch };
    /** The task's checkout exists (so a settle cut can be aimed at its complete). */
    created?(plan: TaskPlan, checkoutId: string): void;
  };
}

const ADDRESS = { name: 'Chaos Monkey', line_one: '1 Fault Lane', city: 'Springfield', state: 'OR', country: 'US', postal_code: '97477' };
const RETRYABLE = new Set(['outcome_unknown', 'pending', 'store_unavailable', 'merchant_unavailable', 'rate_limited']);

type Step = { ok: true; data: Record<string, any>; words?: string } | { ok: false; code: string; message: string; retryable: boolean; data?: Record<string, any> };

/** Payment data: the first is what agents pay with; the second is "the person picked their wallet instead". */
const CARD = { handler_id: 'card', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const WALLET = { handler_id: 'wallet', instrument: { type: 'card', credential: { type: 'network_token', token: 'tok_sandbox_ok' } } };
const DECLINED = { handler_id: 'card', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_decline' } } };

/** How long a held request stays in the network at most (the server's merchant timeout is 1 s). */
const HOLD_MS = 6_000;

export function cartOf(checkout: Record<string, any> | undefined): CartView | undefined {
  if (!checkout || !Array.isArray(checkout.line_items)) return undefined;
  const items = (checkout.line_items as Array<{ item?: { id?: string }; id?: string; quantity?: number }>).map((line) => ({
    id: String(line.item?.id ?? line.id),
    quantity: Number(line.quantity ?? 0),
  }));
  const total = (checkout.totals as Array<{ type: string; amount: number }> | undefined)?.find((t) => t.type === 'total')?.amount;
  return { items, total };
}

function readResult(result: CallToolResult): Step {
  const structured = (result.structuredContent ?? {}) as Record<string, any>;
  // The words the model reads first, kept with a success too: a "success" that says nothing was charged is not one.
  const words = String((result.content?.[0] as { text?: string } | undefined)?.text ?? '').split('\n')[0].slice(0, 300);
  if (!result.isError) return { ok: true, data: structured, words };
  const error = structured.error ?? { code: 'unknown_error', message: String((result.content[0] as { text?: string })?.text), retryable: false };
  return { ok: false, code: error.code, message: error.message, retryable: RETRYABLE.has(error.code), data: structured };
}

export async function runTask(plan: TaskPlan, options: AgentOptions): Promise<TaskOutcome> {
  const calls = new TaskCalls(plan.taskId, options);
  try {
    return await buy(plan, calls, options);
  } finally {
    calls.disarmHolds();
    // Planned is not played: without a request held in the network there was no race to judge.
    if (!calls.heldAny) delete calls.outcome.played;
  }
}

/** One task's calls as an agent makes them: re-invoked, sometimes in parallel, every answer logged in `outcome`. */
class TaskCalls {
  readonly outcome: TaskOutcome;
  private readonly disarms: Array<() => void> = [];
  /** Whether the proxy held (then let go) a request under one of this task's holds. */
  heldAny = false;

  constructor(
    taskId: string,
    private readonly options: AgentOptions,
  ) {
    this.outcome = { taskId, status: 'gave_up', reinvocations: 0, parallelDuplicates: 0, log: [] };
  }

  /** A call the agent insists on: re-invoked until a clear answer or `maxTries`, sometimes twice at once. */
  async invoke(name: string, args: Record<string, unknown>): Promise<Step> {
    const { options, outcome } = this;
    let last: Step = { ok: false, code: 'no_answer', message: 'never called', retryable: true };
    for (let attempt = 0; attempt < options.maxTries; attempt++) {
      if (attempt > 0) {
        outcome.reinvocations += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1_000) * (0.5 + options.random())));
      }
      const parallel = options.random() < options.parallelChance ? 2 : 1;
      if (parallel === 2) outcome.parallelDuplicates += 1;
      const startedAt = Date.now();
      const steps = await Promise.all(Array.from({ length: parallel }, () => this.once(name, args)));
      const success = steps.find((s) => s.ok);
      if (success) return this.record(name, startedAt, success);
      const definite = steps.find((s) => !s.ok && !s.retryable);
      if (definite) return this.record(name, startedAt, definite);
      // Two unclear answers: the agent believes the one that admits not knowing ("unknown") over one that
      // speaks only for its own call ("nothing was sent"), as the other call may have gone through.
      last = this.record(name, startedAt, steps.find((s) => !s.ok && (s.code === 'outcome_unknown' || s.code === 'pending' || s.code === 'no_answer')) ?? steps[0]);
    }
    return last;
  }

  /** One call, no retry, no parallel twin: the agent will not insist on this one. */
  async single(name: string, args: Record<string, unknown>): Promise<Step> {
    const startedAt = Date.now();
    return this.record(name, startedAt, await this.once(name, args));
  }

  /** Arms a hold at the proxy for this task's next request matching `held`, until `releaseOn` or HOLD_MS. */
  hold(held: RequestMatch, releaseOn: RequestMatch): void {
    const disarm = this.options.interleave?.hold({ ...held, releaseOn, maxMs: HOLD_MS, onRelease: () => void (this.heldAny = true) });
    if (disarm) this.disarms.push(disarm);
  }

  disarmHolds(): void {
    for (const disarm of this.disarms) disarm();
  }

  private async once(name: string, args: Record<string, unknown>): Promise<Step> {
    const started = performance.now();
    try {
      const step = readResult(await this.options.pool.call(name, args, this.options.callTimeoutMs));
      this.options.latencies.push(performance.now() - started);
      return step;
    } catch (error) {
      // The server died under us, or the call timed out: the model sees no answer at all.
      return { ok: false, code: 'no_answer', message: error instanceof Error ? error.message : String(error), retryable: true };
    }
  }

  /** Logs the answer the agent acts on: what it was told, and the cart it was shown. */
  private record(tool: string, startedAt: number, step: Step): Step {
    const entry: Invocation = { tool, startedAt, answeredAt: Date.now(), ok: step.ok };
    if (step.ok) {
      const checkout = step.data.checkout as Record<string, any> | undefined;
      entry.cart = cartOf(checkout);
      entry.status = checkout?.status;
      entry.orderId = checkout?.order?.id;
      if (step.words) entry.message = step.words;
    } else {
      Object.assign(entry, { code: step.code, message: step.message, retryable: step.retryable });
      // checkout_changed carries the live checkout: that is shown to the agent too (R14).
      const live = cartOf((step.data?.error?.checkout ?? step.data?.checkout) as Record<string, any> | undefined);
      if (live) entry.cart = live;
    }
    this.outcome.log.push(entry);
    return step;
  }
}

/** The checkout a task bought on, and its complete and update on the wire (when the run plays interleavings). */
interface TaskCheckout {
  id: string;
  completeCall?: RequestMatch;
  updateCall?: RequestMatch;
}

/** create → update (→ the update race) → pay, stopped at the first answer the agent cannot get past. */
async function buy(plan: TaskPlan, calls: TaskCalls, options: AgentOptions): Promise<TaskOutcome> {
  const { outcome } = calls;
  const created = await calls.invoke('create_checkout', {
    items: plan.items,
    currency: 'usd',
    buyer: { email: `${plan.taskId}@chaos.invalid` },
    fulfillment_details: { address: ADDRESS },
    task_id: plan.taskId,
  });
  if (!created.ok) return stop(outcome, created);
  const session = created.data.checkout as { id: string; line_items: Array<{ id: string }> };
  outcome.checkoutId = session.id;
  options.interleave?.created?.(plan, session.id);
  const checkout: TaskCheckout = { id: session.id, completeCall: options.interleave?.wire.complete(session.id), updateCall: options.interleave?.wire.update(session.id) };

  const updated = await calls.invoke('update_checkout', {
    checkout_session_id: checkout.id,
    selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_express', item_ids: session.line_items.map((l) => l.id) }],
  });
  if (!updated.ok) return stop(outcome, updated);

  if (plan.interleaving === 'update_race' && options.interleave) {
    const settled = await raceUpdates(plan, calls, checkout);
    if (!settled.ok) return stop(outcome, settled);
  }
  if (plan.interleaving === 'update_moved_on' && options.interleave) {
    calls.outcome.played = 'update_moved_on';
    calls.hold(checkout.updateCall!, checkout.completeCall!);
    await calls.single('update_checkout', { checkout_session_id: checkout.id, items: plan.items.map((i) => ({ id: i.id, quantity: i.quantity + 1 })) });
  }
  return pay(plan, calls, checkout, options.interleave !== undefined);
}

/**
 * Update A is stuck in the network until the agent pays; the agent, told nothing clear, changes its mind
 * (update B) and pays. What it was shown last is B, so B is what may be charged (R14).
 */
async function raceUpdates(plan: TaskPlan, calls: TaskCalls, checkout: TaskCheckout): Promise<Step> {
  calls.outcome.played = 'update_race';
  calls.hold(checkout.updateCall!, checkout.completeCall!);
  await calls.single('update_checkout', { checkout_session_id: checkout.id, items: plan.items.map((i) => ({ id: i.id, quantity: 9 })) });
  return calls.invoke('update_checkout', { checkout_session_id: checkout.id, items: plan.items.map((i) => ({ id: i.id, quantity: 1 })) });
}

/** Pays (a declined card first, when planned; the payment switch, when played), and pays again for a changed cart. */
async function pay(plan: TaskPlan, calls: TaskCalls, checkout: TaskCheckout, interleaves: boolean): Promise<TaskOutcome> {
  const { outcome } = calls;
  const payWith = (paymentData: typeof CARD) => ({ checkout_session_id: checkout.id, payment_data: paymentData });
  // The live cart changed under the agent (R14): it looks at the checkout, and pays for what it now sees.
  const payLooking = async (paymentData: typeof CARD): Promise<Step> => {
    let paid = await calls.invoke('complete_checkout', payWith(paymentData));
    for (let round = 0; round < 2 && !paid.ok && paid.code === 'checkout_changed'; round++) {
      const seen = await calls.invoke('get_checkout', { checkout_session_id: checkout.id });
      if (!seen.ok) return seen;
      paid = await calls.invoke('complete_checkout', payWith(paymentData));
    }
    return paid;
  };
  if (plan.declineFirst) {
    const declined = await payLooking(DECLINED);
    if (declined.ok || declined.code !== 'payment_declined') return stop(outcome, declined.ok ? { ok: false, code: 'not_declined', message: 'a declined card was accepted', retryable: false } : declined);
  }
  let paymentData = CARD;
  if (plan.interleaving === 'payment_switch' && interleaves) {
    // The first complete is stuck in the network until the next complete for this checkout arrives, then
    // lands first: the merchant charges it while the agent, told nothing clear, pays with its wallet.
    calls.hold(checkout.completeCall!, checkout.completeCall!);
    const first = await calls.single('complete_checkout', payWith(CARD));
    if (first.ok) return done(outcome, first);
    outcome.played = 'payment_switch';
    paymentData = WALLET;
  }
  const paid = await payLooking(paymentData);
  if (!paid.ok) return stop(outcome, paid);
  return done(outcome, paid);
}

function done(outcome: TaskOutcome, step: Extract<Step, { ok: true }>): TaskOutcome {
  outcome.status = 'completed';
  outcome.orderId = (step.data.checkout as { order?: { id: string } }).order?.id;
  return outcome;
}

function stop(outcome: TaskOutcome, step: Extract<Step, { ok: false }>): TaskOutcome {
  outcome.status = step.retryable ? 'gave_up' : 'refused';
  outcome.detail = `${step.code}: ${step.message}`;
  return outcome;
}
