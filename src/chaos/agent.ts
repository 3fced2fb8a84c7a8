// A simulated agent: create → update → complete, re-invoking the way models do: after a timeout, after a
// retryable error, after the server restarted, and sometimes twice in parallel.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerPool } from './server-pool.js';

export interface TaskPlan {
  taskId: string;
  items: Array<{ id: string; quantity: number }>;
  /** Pays with a declined card first, so the good card is a genuine attempt 2 (R6). */
  declineFirst: boolean;
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
}

const ADDRESS = { name: 'Chaos Monkey', line_one: '1 Fault Lane', city: 'Springfield', state: 'OR', country: 'US', postal_code: '97477' };
const RETRYABLE = new Set(['outcome_unknown', 'pending', 'store_unavailable', 'merchant_unavailable', 'rate_limited']);

type Step = { ok: true; data: Record<string, any> } | { ok: false; code: string; message: string; retryable: boolean };

function readResult(result: CallToolResult): Step {
  const structured = (result.structuredContent ?? {}) as Record<string, any>;
  if (!result.isError) return { ok: true, data: structured };
  const error = structured.error ?? { code: 'unknown_error', message: String((result.content[0] as { text?: string })?.text), retryable: false };
  return { ok: false, code: error.code, message: error.message, retryable: RETRYABLE.has(error.code) };
}

export async function runTask(plan: TaskPlan, options: AgentOptions): Promise<TaskOutcome> {
  const outcome: TaskOutcome = { taskId: plan.taskId, status: 'gave_up', reinvocations: 0, parallelDuplicates: 0 };

  async function once(name: string, args: Record<string, unknown>): Promise<Step> {
    const started = performance.now();
    try {
      const step = readResult(await options.pool.call(name, args, options.callTimeoutMs));
      options.latencies.push(performance.now() - started);
      return step;
    } catch (error) {
      // The server died under us, or the call timed out: the model sees no answer at all.
      return { ok: false, code: 'no_answer', message: error instanceof Error ? error.message : String(error), retryable: true };
    }
  }

  async function invoke(name: string, args: Record<string, unknown>): Promise<Step> {
    let last: Step = { ok: false, code: 'no_answer', message: 'never called', retryable: true };
    for (let attempt = 0; attempt < options.maxTries; attempt++) {
      if (attempt > 0) {
        outcome.reinvocations += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1_000) * (0.5 + options.random())));
      }
      const parallel = options.random() < options.parallelChance ? 2 : 1;
      if (parallel === 2) outcome.parallelDuplicates += 1;
      const steps = await Promise.all(Array.from({ length: parallel }, () => once(name, args)));
      const success = steps.find((s) => s.ok);
      if (success) return success;
      const definite = steps.find((s) => !s.ok && !s.retryable);
      if (definite) return definite;
      last = steps[0];
    }
    return last;
  }

  const created = await invoke('create_checkout', {
    items: plan.items,
    currency: 'usd',
    buyer: { email: `${plan.taskId}@chaos.invalid` },
    fulfillment_details: { address: ADDRESS },
    task_id: plan.taskId,
  });
  if (!created.ok) return stop(outcome, created);
  const checkout = created.data.checkout as { id: string; line_items: Array<{ id: string }> };
  outcome.checkoutId = checkout.id;

  const updated = await invoke('update_checkout', {
    checkout_session_id: checkout.id,
    selected_fulfillment_options: [{ type: 'shipping', option_id: 'ship_express', item_ids: checkout.line_items.map((l) => l.id) }],
  });
  if (!updated.ok) return stop(outcome, updated);

  const pay = (token: string) => ({
    checkout_session_id: checkout.id,
    payment_data: { handler_id: 'card', instrument: { type: 'card', credential: { type: 'spt', token } } },
  });
  if (plan.declineFirst) {
    const declined = await invoke('complete_checkout', pay('tok_sandbox_decline'));
    if (declined.ok || declined.code !== 'payment_declined') return stop(outcome, declined.ok ? { ok: false, code: 'not_declined', message: 'a declined card was accepted', retryable: false } : declined);
  }
  const paid = await invoke('complete_checkout', pay('tok_sandbox_ok'));
  if (!paid.ok) return stop(outcome, paid);
  outcome.status = 'completed';
  outcome.orderId = (paid.data.checkout as { order?: { id: string } }).order?.id;
  return outcome;
}

function stop(outcome: TaskOutcome, step: Extract<Step, { ok: false }>): TaskOutcome {
  outcome.status = step.retryable ? 'gave_up' : 'refused';
  outcome.detail = `${step.code}: ${step.message}`;
  return outcome;
}
