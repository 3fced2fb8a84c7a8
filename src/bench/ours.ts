// The workload on our ledger: one run = derive the key, claim, execute a no-op backend call, settle.
import { randomUUID } from 'node:crypto';
import type { Json } from '../ledger/canonical.js';
import { digest } from '../ledger/keys.js';
import { Ledger, type RunSpec } from '../ledger/ledger.js';
import type { Store } from '../store/store.js';
import { CountingStore } from './counting-store.js';

/** What the no-op backend answers: the size of a small checkout summary. */
export const RESULT = { id: 'chk_bench', status: 'ready_for_payment', currency: 'usd', total: 4200 };

export interface Payload {
  run: string;
  cart: number;
}

export class OurRunner {
  readonly counting: CountingStore;
  readonly ledger: Ledger;
  executions = 0;
  private readonly runId = randomUUID().slice(0, 8);

  constructor(store: Store, options: { leaseMs?: number; waitMs?: number } = {}) {
    this.counting = new CountingStore(store);
    this.ledger = new Ledger({ store: this.counting, ttlMs: 3_600_000, ...options });
  }

  payload(i: number): Payload {
    return { run: this.runId, cart: i };
  }

  spec(payload: Payload, execute?: () => Promise<void>): RunSpec<Json> {
    const key = digest(payload);
    return {
      key,
      principal: 'bench',
      operation: 'create',
      backend: 'noop',
      fingerprint: key,
      summary: payload as unknown as Json,
      execute: async () => {
        this.executions += 1;
        await execute?.();
        return { kind: 'succeeded', value: RESULT };
      },
      reconcile: async () => ({ kind: 'resend' }),
    };
  }

  async run(payload: Payload, execute?: () => Promise<void>) {
    return this.ledger.run(this.spec(payload, execute));
  }
}
