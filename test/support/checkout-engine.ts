// The checkout engine as the engine tests drive it: Checkouts and the Ledger on a memory store (cuttable, and
// wrappable to play store faults), against the in-process sandbox merchant whose own records say what was charged.
import type { BackendResult } from '../../src/backends/backend.js';
import type { CompleteInput } from '../../src/commerce/inputs.js';
import { SandboxBackend } from '../../src/backends/sandbox/sandbox-backend.js';
import { Checkouts, type CheckoutResult } from '../../src/checkout/checkouts.js';
import type { CheckoutSession } from '../../src/commerce/session.js';
import { ManualClock } from '../../src/ledger/clock.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { openMemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { ADDRESS } from './server-process.js';

export const HOUR = 3_600_000;

/** `inner` with some of its steps replaced; every other step is `inner`'s own. */
export function wrapStore(inner: Store, steps: Partial<Omit<Store, 'description'>>): Store {
  return {
    description: inner.description,
    get: (key) => inner.get(key),
    getMany: (keys) => inner.getMany(keys),
    getLinked: (key, field) => inner.getLinked(key, field),
    claim: (key, value) => inner.claim(key, value),
    replace: (key, expected, next) => inner.replace(key, expected, next),
    put: (key, value) => inner.put(key, value),
    delete: (key) => inner.delete(key),
    removeIf: (key, expected) => inner.removeIf(key, expected),
    entries: (prefix) => inner.entries(prefix),
    close: () => inner.close(),
    ...steps,
  };
}

/** A store that can be cut: every call fails as an unreachable store would, until `upAt` on the clock. */
export function cuttableStore(inner: Store, clock: ManualClock) {
  let upAt = 0;
  const down = () => clock.now() < upAt;
  const guard = <T>(work: () => Promise<T>): Promise<T> => (down() ? Promise.reject(new StoreUnavailableError('store memory:// unavailable: connection refused')) : work());
  const store = wrapStore(inner, {
    get: (key) => guard(() => inner.get(key)),
    getMany: (keys) => guard(() => inner.getMany(keys)),
    getLinked: (key, field) => guard(() => inner.getLinked(key, field)),
    claim: (key, value) => guard(() => inner.claim(key, value)),
    replace: (key, expected, next) => guard(() => inner.replace(key, expected, next)),
    put: (key, value) => guard(() => inner.put(key, value)),
    delete: (key) => guard(() => inner.delete(key)),
    removeIf: (key, expected) => guard(() => inner.removeIf(key, expected)),
  });
  return { store, cutFor: (ms: number) => void (upAt = clock.now() + ms) };
}

/** The engine on a cuttable memory store; `wrap` puts a fault-playing store between the ledger and it. */
export function engine(options: { maxOrderAmount?: number; wrap?: (store: Store) => Store } = {}) {
  const clock = new ManualClock();
  const merchantStore = openMemoryStore();
  const cut = cuttableStore(openMemoryStore(), clock);
  const backend = new SandboxBackend({ store: merchantStore, now: () => clock.now() });
  const ledger = new Ledger({ store: options.wrap ? options.wrap(cut.store) : cut.store, clock, ttlMs: 23 * HOUR });
  const checkouts = new Checkouts({ ledger, backend, windowMs: HOUR, maxOrderAmount: options.maxOrderAmount });
  return { clock, backend, ledger, checkouts, cut, charges: () => chargesAt(merchantStore) };
}

export async function chargesAt(store: Store): Promise<Array<{ checkout_session_id: string; amount: number }>> {
  const found: Array<{ checkout_session_id: string; amount: number }> = [];
  for await (const [, charge] of store.entries<{ checkout_session_id: string; amount: number }>('sandbox:charge:')) found.push(charge);
  return found;
}

export const cart = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
export const payWith = (handler: string): CompleteInput => ({
  payment_data: { handler_id: handler, instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } },
});

export async function created(checkouts: Checkouts): Promise<CheckoutSession> {
  const result = await checkouts.create('alice', cart);
  if (!result.ok) throw new Error(result.failure.message);
  return result.checkout;
}

export function ok(result: CheckoutResult): CheckoutSession {
  if (!result.ok) throw new Error(`${result.failure.code}: ${result.failure.message}`);
  return result.checkout;
}

/** A request the network holds: it reaches the merchant only when released, and its caller hears a timeout. */
export function held(send: () => Promise<BackendResult>) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const landed = gate.then(send);
  return { release, landed };
}

/** What the caller of a held request hears. */
export const timedOut: BackendResult = { kind: 'unknown', reason: 'no answer within ACP_TIMEOUT (15s)' };

/** Makes the next backend.get read the merchant at once but answer only when `answer()` is called. */
export function slowNextRead(backend: SandboxBackend) {
  const get = backend.get.bind(backend);
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  let read!: () => void;
  const hasRead = new Promise<void>((resolve) => (read = resolve));
  let slow = true;
  backend.get = async (...args) => {
    const seen = await get(...args); // the merchant's state at this moment
    if (slow) {
      slow = false;
      read();
      await answered; // its answer is slow to come back
    }
    return seen;
  };
  return { hasRead, answer };
}
