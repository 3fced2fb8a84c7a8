// The merchant side of ACP idempotency: keys scoped to (identity, method, path), bodies compared by JSON
// meaning, one atomic claim per key so concurrent duplicates across processes see `in_flight`, 24 h retention.
import { createHash, randomBytes } from 'node:crypto';
import { HOUR } from '../../config/duration.js';
import type { Store, Stored } from '../../store/store.js';
import type { Answer } from './errors.js';

export const KEY_RETENTION_MS = 24 * HOUR;
/** An in-flight record older than this is taken to be abandoned by a crashed process and may be taken over. */
export const IN_FLIGHT_LEASE_MS = 30_000;

type KeyRecord<A> =
  | { state: 'in_flight'; fingerprint: string; started_at: number; owner: string }
  | { state: 'done'; fingerprint: string; started_at: number; owner: string; answer: A };

/** `A` is what a protocol stores per key: ACP's Answer by default, UCP's own answer on the UCP side. */
export type Begin<A = Answer> =
  | { kind: 'run'; finish: (answer: A) => Promise<void>; abandon: () => Promise<void> }
  | { kind: 'replay'; answer: A }
  | { kind: 'conflict' }
  | { kind: 'in_flight' };

/** JSON meaning: object keys sorted, array order kept, `null` kept, absent (undefined) dropped. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface KeyScope {
  identity: string;
  method: string;
  path: string;
  key: string;
}

export class IdempotencyKeys<A = Answer> {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly retentionMs = KEY_RETENTION_MS,
    private readonly leaseMs = IN_FLIGHT_LEASE_MS,
  ) {}

  private storeKey(scope: KeyScope): string {
    return `sandbox:idem:${sha256(JSON.stringify([scope.identity, scope.method, scope.path, scope.key]))}`;
  }

  async begin(scope: KeyScope, body: unknown): Promise<Begin<A>> {
    const key = this.storeKey(scope);
    const fingerprint = sha256(canonicalJson(body));
    const mine: KeyRecord<A> = {
      state: 'in_flight',
      fingerprint,
      started_at: this.now(),
      owner: randomBytes(8).toString('hex'),
    };
    for (let round = 0; round < 5; round += 1) {
      const claim = await this.store.claim<KeyRecord<A>>(key, mine);
      if (claim.claimed) return this.run(key, claim.stored);
      const current = claim.current;
      const age = this.now() - current.value.started_at;
      const stale = age >= this.retentionMs || (current.value.state === 'in_flight' && age >= this.leaseMs);
      if (stale) {
        // Past retention the key is new again; a lapsed in-flight lease means its owner died.
        const taken = await this.store.replace(key, current, mine);
        if (taken) return this.run(key, taken);
        continue;
      }
      if (current.value.fingerprint !== fingerprint) return { kind: 'conflict' };
      if (current.value.state === 'in_flight') return { kind: 'in_flight' };
      return { kind: 'replay', answer: current.value.answer };
    }
    return { kind: 'in_flight' };
  }

  private run(key: string, claimed: Stored<KeyRecord<A>>): Begin<A> {
    return {
      kind: 'run',
      finish: async (answer) => {
        // A failed swap means another process took over after our lease lapsed; its record wins.
        await this.store.replace<KeyRecord<A>>(key, claimed, { ...claimed.value, state: 'done', answer });
      },
      abandon: async () => {
        // 5xx answers are not stored: the next request with this key runs fresh.
        await this.store.removeIf(key, claimed);
      },
    };
  }
}
