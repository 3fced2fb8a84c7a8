// Synthetic records for judging the chaos verdict: what the sandbox merchant stores for a charged checkout, and
// one agent call as the harness logs it. Times are offsets from T0 in milliseconds.
import type { SessionState } from '../../src/backends/sandbox/cart.js';
import type { SandboxCharge, SandboxOrderRecord } from '../../src/backends/sandbox/merchant.js';
import type { Invocation } from '../../src/chaos/agent.js';
import { openMemoryStore } from '../../src/store/memory.js';

export const T0 = Date.parse('2026-05-01T12:00:00.000Z');
export const at = (ms: number) => new Date(T0 + ms).toISOString();
export const MUG = [{ id: 'sku_mug', quantity: 1 }];

export interface MerchantCharge {
  task: string;
  items: Array<{ id: string; quantity: number }>;
  amount: number;
  chargedAt: number;
  /** An order without its charge record. */
  orderOnly?: boolean;
}

/** A merchant that charged `amount` for `items` on checkout cs_<task> (buyer <task>@chaos.invalid) at T0 + chargedAt. */
export async function merchantWith(charges: MerchantCharge[]) {
  const store = openMemoryStore();
  for (const { task, items, amount, chargedAt, orderOnly } of charges) {
    const id = `cs_${task}`;
    const session: SessionState = {
      id,
      phase: 'completed',
      currency: 'usd',
      items,
      buyer: { email: `${task}@chaos.invalid` } as SessionState['buyer'],
      discount_codes: [],
      order: { id: `ord_${task}`, checkout_session_id: id, permalink_url: 'https://x.invalid', status: 'created' } as SessionState['order'],
      created_at: at(0),
      updated_at: at(chargedAt),
    };
    const charge: SandboxCharge = { id: `ch_${task}`, checkout_session_id: id, amount, currency: 'usd', created_at: at(chargedAt) };
    const order = { ...session.order, amount, created_at: at(chargedAt) } as SandboxOrderRecord;
    await store.put(`sandbox:session:${id}`, session);
    if (!orderOnly) await store.put(`sandbox:charge:${id}:${charge.id}`, charge);
    await store.put(`sandbox:order:${id}:${order.id}`, order);
  }
  return store;
}

/** One call as the agent logged it, answered ok unless `rest` says otherwise. */
export function call(tool: string, startedAt: number, answeredAt: number, rest: Partial<Invocation>): Invocation {
  return { tool, startedAt: T0 + startedAt, answeredAt: T0 + answeredAt, ok: true, ...rest };
}
