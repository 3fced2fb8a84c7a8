// The checkout's head: who owns it, its newest known state, what the agent was last shown, which operations
// on it have no known outcome, and the checkout-level claim that lets one mutating operation run at a time
// across processes (R13). Every reader and writer of heads goes through this class.
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { BackendName } from '../backends/backend.js';
import { tickerOf, type LeaseTicker, type Renewal } from '../ledger/lease-ticker.js';
import { ownerIsGone, PROCESS_OWNER } from '../ledger/owner.js';
import type { Clock } from '../ledger/clock.js';
import type { Store, Stored } from '../store/store.js';
import { totalAmount, type CheckoutSession, type Order } from '../commerce/session.js';

export type AnchoredOperation = 'update' | 'complete' | 'cancel';

/** An operation on this checkout whose outcome is not known yet: the next call settles it first (R13). */
export interface OpenOperation {
  key: string;
  operation: AnchoredOperation;
}

/** The checkout-level claim: one mutating operation at a time on one checkout (R13). */
export interface CheckoutLock {
  owner: string;
  token: string;
  operation: string;
  lease_until: number;
}

export interface AnchorHead {
  principal: string;
  backend: BackendName;
  merchant: string;
  anchor: string;
  /** The create record that produced this checkout. */
  create_key: string;
  /**
   * That create's attempt and outbound key, so get_checkout can tell them after its record expires (ONCE_TTL)
   * or starts a new generation; absent on heads written before they were kept.
   */
  create_attempt?: number;
  create_outbound_key?: string;
  /** The newest state we know, from an answer or a read. */
  checkout: CheckoutSession;
  /** False once an operation on the checkout ended without a known outcome: `checkout` may be stale (R14). */
  fresh: boolean;
  /** Fingerprint of the cart and total the agent was last shown (R14). */
  shown: string;
  /** Fingerprint of the cart and total the person last approved for payment (the confirm hook), if asked. */
  confirmed?: string;
  open: OpenOperation[];
  lock?: CheckoutLock;
  /** The latest order the merchant's signed events told us (src/orders): shown with the checkout. */
  order?: HeadOrder;
  first_seen_at: number;
  updated_at: number;
}

/** An order state applied from the checkout's order events; `seq` only grows, so an older one never overwrites it. */
export interface HeadOrder {
  seq: number;
  digest: string;
  value: Order;
}

export const ANCHOR_PREFIX = 'anchor:';

/**
 * The checkout as the agent should see it: with the latest order the merchant's events told us, when the
 * checkout is completed with that order (or the merchant's answer carries none).
 */
export function withOrder(checkout: CheckoutSession, head: AnchorHead): CheckoutSession {
  const order = head.order?.value;
  if (!order || checkout.id !== head.anchor || checkout.status !== 'completed') return checkout;
  if (checkout.order && checkout.order.id !== order.id) return checkout;
  return { ...checkout, order };
}

/**
 * What the agent sees of a cart: goods, quantities, currency and total, as one short string (compared on
 * every replay, so no hashing). Equal strings, same purchase.
 */
export function cartFingerprint(checkout: CheckoutSession): string {
  const items = (checkout.line_items ?? [])
    .map((line) => `${JSON.stringify(String(line.item?.id ?? line.id))}x${Number(line.quantity)}`)
    .sort();
  const total = totalAmount(checkout);
  const amount = typeof total === 'number' && Number.isSafeInteger(total) ? String(total) : '?';
  return `${String(checkout.currency ?? '').toLowerCase()} ${amount} ${items.join(',')}`;
}

/** Scopes heads by merchant as well as backend (R15): two merchants may both number checkouts cs_1, cs_2… */
export function merchantTag(merchant: string): string {
  return createHash('sha256').update(merchant).digest('hex').slice(0, 16);
}

/** Where the head of one checkout lives: by backend, merchant and checkout id (R15). */
export function headStoreKey(backend: BackendName, merchant: string, anchor: string): string {
  return `${ANCHOR_PREFIX}${backend}:${merchantTag(merchant)}:${anchor}`;
}

/** Every head with this checkout id, at any backend and merchant (operators' look-ups by id). */
export async function headsWithId(store: Store, anchor: string): Promise<AnchorHead[]> {
  const found: AnchorHead[] = [];
  for await (const [, head] of store.entries<AnchorHead>(ANCHOR_PREFIX)) if (head.anchor === anchor) found.push(head);
  return found;
}

export class CheckoutHeads {
  /** Locks this process could not release (the store was down): not worth waiting for. */
  private readonly abandoned = new Set<string>();
  /** 'order' (anchor) when this process applied an order event to a head: subscribed clients are told. */
  readonly news = new EventEmitter().setMaxListeners(0);

  constructor(
    readonly store: Store,
    readonly backend: BackendName,
    readonly merchant: string,
    private readonly clock: Clock,
    readonly leaseMs: number,
  ) {
    this.ticker = tickerOf(clock);
  }

  /** What renews this process's checkout-level claims, on the clock they are judged by. */
  readonly ticker: LeaseTicker;

  /** Where heads of this backend and merchant live; `anchor` '' gives the prefix of all of them. */
  keyOf(anchor: string): string {
    return headStoreKey(this.backend, this.merchant, anchor);
  }

  async read(anchor: string): Promise<Stored<AnchorHead> | undefined> {
    return this.store.get<AnchorHead>(this.keyOf(anchor));
  }

  async *all(): AsyncIterable<AnchorHead> {
    for await (const [, head] of this.store.entries<AnchorHead>(this.keyOf(''))) yield head;
  }

  /** A new checkout's head, written once; an existing one (a concurrent create's) wins. */
  async create(head: Omit<AnchorHead, 'fresh' | 'shown' | 'open'>): Promise<Stored<AnchorHead>> {
    const claim = await this.store.claim<AnchorHead>(this.keyOf(head.anchor), {
      ...head,
      fresh: true,
      shown: cartFingerprint(head.checkout),
      open: [],
    });
    return claim.claimed ? claim.stored : claim.current;
  }

  /** Whether `stored` carries a claim that someone alive holds. */
  isBusy(head: AnchorHead): boolean {
    const lock = head.lock;
    if (!lock) return false;
    if (this.abandoned.has(lock.token)) return false;
    return lock.lease_until > this.clock.now() && !ownerIsGone(lock.owner);
  }

  /**
   * Takes the checkout-level claim over the head as read, and marks the operation open in the same write, so
   * a crash mid-call leaves it for the next call to settle; undefined when busy or the head changed meanwhile.
   */
  async tryLock(stored: Stored<AnchorHead>, operation: AnchoredOperation, key: string): Promise<HeldLock | undefined> {
    const head = stored.value;
    if (this.isBusy(head)) return undefined;
    const lock: CheckoutLock = { owner: PROCESS_OWNER, token: randomUUID(), operation, lease_until: this.clock.now() + this.leaseMs };
    const wasOpen = head.open.some((o) => o.key === key);
    const next: AnchorHead = {
      ...head,
      lock,
      open: wasOpen ? head.open : [...head.open, { key, operation }],
      // A claim left behind by a crashed call: whatever it did is not on the head (R14).
      fresh: head.lock ? false : head.fresh,
    };
    const written = await this.store.replace(this.keyOf(head.anchor), stored, next);
    return written ? new HeldLock(this, written, lock.token, wasOpen ? undefined : key) : undefined;
  }

  /**
   * Writes `next` only if the head is still exactly `seen` (nothing written since it was read, not even a claim
   * taken and released) and unclaimed; undefined otherwise.
   */
  async replaceIfUnchanged(seen: Stored<AnchorHead>, next: AnchorHead): Promise<AnchorHead | undefined> {
    if (this.isBusy(seen.value)) return undefined;
    return (await this.store.replace(this.keyOf(seen.value.anchor), seen, next)) ? next : undefined;
  }

  /**
   * Applies `change` to the head unless it is locked by a live owner (a read must not undo a running
   * operation's news); returns the head as written, or undefined when skipped.
   */
  async updateUnlocked(anchor: string, change: (head: AnchorHead) => AnchorHead): Promise<AnchorHead | undefined> {
    for (;;) {
      const current = await this.read(anchor);
      if (!current || this.isBusy(current.value)) return undefined;
      const next = change(current.value);
      if (await this.store.replace(this.keyOf(anchor), current, next)) return next;
    }
  }

  /**
   * Applies an order state from the merchant's events, and settles the complete operations `settled` names
   * (the ledger already says succeeded): written beside a running claim too (its holder re-reads and keeps
   * this), never over a newer order (`seq`). Undefined when there is no head.
   */
  async applyOrder(anchor: string, order: HeadOrder, settled: readonly string[], now: number): Promise<AnchorHead | undefined> {
    for (;;) {
      const current = await this.read(anchor);
      if (!current) return undefined;
      const head = current.value;
      const newer = head.order === undefined || order.seq > head.order.seq;
      const closing = head.open.filter((o) => settled.includes(o.key));
      if (!newer && closing.length === 0) return head;
      const next: AnchorHead = { ...head, ...(newer ? { order } : {}) };
      if (closing.length > 0) {
        next.open = head.open.filter((o) => !settled.includes(o.key));
        next.checkout = { ...head.checkout, status: 'completed', order: (next.order ?? order).value };
        next.fresh = next.open.length === 0;
        next.updated_at = Math.max(now, head.updated_at);
      }
      if (await this.store.replace(this.keyOf(anchor), current, next)) {
        this.news.emit('order', anchor);
        return next;
      }
    }
  }

  /** @internal HeldLock's writes. */
  async write(held: Stored<AnchorHead>, next: AnchorHead): Promise<Stored<AnchorHead> | undefined> {
    return this.store.replace(this.keyOf(next.anchor), held, next);
  }

  /** @internal */
  forget(token: string): void {
    this.abandoned.add(token);
  }

  /** @internal */
  leaseUntil(): number {
    return this.clock.now() + this.leaseMs;
  }
}

/** A checkout-level claim this call holds: renewed while it runs, released with the head's news. */
export class HeldLock {
  private readonly renewal: Renewal;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly heads: CheckoutHeads,
    private current: Stored<AnchorHead>,
    readonly token: string,
    /** The key this claim marked open, to unmark if the operation never ran. */
    readonly markedOpen?: string,
  ) {
    this.renewal = heads.ticker.hold(Math.max(Math.floor(heads.leaseMs / 3), 1_000), () => {
      void this.change((head) => ({ ...head, lock: head.lock && { ...head.lock, lease_until: this.heads.leaseUntil() } })).catch(() => {});
    });
  }

  get head(): AnchorHead {
    return this.current.value;
  }

  /**
   * Whether the claim still holds by its last write: a renewal that failed (the store down) may have let it lapse,
   * and another call may have taken the checkout and changed it meanwhile (R7, R13, R14).
   */
  holds(now: number): boolean {
    const lock = this.current.value.lock;
    return lock?.token === this.token && now < lock.lease_until;
  }

  /** Changes the head while holding the claim (serialised with the renewals). */
  change(edit: (head: AnchorHead) => AnchorHead): Promise<AnchorHead> {
    const run = this.chain.then(() => this.apply(edit, false));
    this.chain = run.catch(() => {});
    return run;
  }

  /** Writes the last news and lets the next operation run. The store being down: the lease will lapse. */
  async release(edit: (head: AnchorHead) => AnchorHead = (head) => head): Promise<void> {
    this.heads.ticker.release(this.renewal);
    const run = this.chain.then(() => this.apply(edit, true));
    this.chain = run.catch(() => {});
    try {
      await run;
    } catch (error) {
      this.heads.forget(this.token);
      throw error;
    }
  }

  private async apply(edit: (head: AnchorHead) => AnchorHead, release: boolean): Promise<AnchorHead> {
    for (;;) {
      const next = { ...edit(this.current.value) };
      if (release) delete next.lock;
      const written = await this.heads.write(this.current, next);
      if (written) {
        this.current = written;
        return next;
      }
      // Someone wrote beside us (an operator's reconcile): read again, still ours only if the token is.
      const fresh = await this.heads.read(this.current.value.anchor);
      if (!fresh || fresh.value.lock?.token !== this.token) throw new Error('the checkout-level claim was taken over');
      this.current = fresh;
    }
  }
}
