// The exactly-once engine. One record per operation intent: claim it atomically, run one attempt under a
// lease, settle it with compare-and-swap, and hand every repeat the recorded outcome.
import { randomUUID } from 'node:crypto';
import type { Json } from './canonical.js';
import { systemClock, type Clock } from './clock.js';
import { LedgerError } from './errors.js';
import { outboundKey, type KeyShape } from './keys.js';
import { tickerOf, type LeaseTicker, type Renewal } from './lease-ticker.js';
import { UNOBSERVED, type LedgerObserver } from './observer.js';
import { ownerIsGone, PROCESS_OWNER } from './owner.js';
import { isSettled, recordStoreKey, RECORD_PREFIX, withUnknownFields, type LedgerRecord, type TimelineEvent } from './record.js';
import { StoreUnavailableError, type Store, type Stored } from '../store/store.js';

/**
 * The store failed after the provider was called, so the provider may have acted: the words for the agent
 * differ from a failure before anything was sent (R9, R13).
 */
export class SettleFailedError extends StoreUnavailableError {
  readonly afterSend = true;
}


export interface AttemptInfo {
  number: number;
  outboundKey: string;
  requestId: string;
}

/** What one execution of an operation produced, in the ledger's terms. */
export type StepResult<T> =
  | { kind: 'succeeded'; value: T; anchor?: string; providerRequestId?: string }
  | { kind: 'failed'; code: string; message: string; value?: T; providerRequestId?: string }
  | { kind: 'unknown'; reason: string; providerRequestId?: string };

/** What reading the provider's state said about an ambiguous attempt (R6). */
export type Reconciled<T> =
  | { kind: 'settled'; result: Extract<StepResult<T>, { kind: 'succeeded' | 'failed' }> }
  /** The provider shows no effect: resend with the same key. */
  | { kind: 'resend' }
  | { kind: 'unknown'; reason: string };

/** What `settleFromProvider` did with one record; it never sends anything (R6). */
export type Settlement<T> =
  /** The provider showed a definite outcome and the record now says so. */
  | { kind: 'settled'; record: LedgerRecord<T> }
  /** The provider showed no definite outcome: the record is `unknown`, and the next call reconciles or resends. */
  | { kind: 'unresolved'; reason: string; resend: boolean; record: LedgerRecord<T> }
  /** Nothing to do: already settled, gone, or a live owner holds the lease. */
  | { kind: 'skipped'; reason: 'settled' | 'running' | 'absent'; record?: LedgerRecord<T> };

export interface RunSpec<T> {
  /** The record key, derived from the intent (R1, R2, R5). */
  key: string;
  principal: string;
  operation: string;
  backend: string;
  anchor?: string;
  fingerprint: string;
  summary: Json;
  /** Create only: the dedup window W (R3). A settled record older than W starts a new generation. */
  windowMs?: number;
  execute(attempt: AttemptInfo): Promise<StepResult<T>>;
  reconcile(attempt: AttemptInfo): Promise<Reconciled<T>>;
  /** Called while waiting for a concurrent duplicate (R7), for progress notifications. */
  onWait?(waitedMs: number): void;
  /**
   * What this call would send, where calls of one record may differ (complete's payment data); defaults to
   * `fingerprint`. An unknown attempt is resent only by a call that would send the same thing (R6).
   */
  attemptFingerprint?: string;
  /**
   * Before any attempt that is not the very first send (attempt n+1, a superseding attempt, a new generation
   * after the record expired), reads the provider: a definite outcome there settles the record and nothing
   * is sent (R13). Undefined: send.
   */
  precheck?(attempt: AttemptInfo): Promise<Extract<StepResult<T>, { kind: 'succeeded' }> | undefined>;
  /** The store key of the object the record's anchor names, kept on the record so one read finds both. */
  anchorKey?(anchor: string): string;
  /**
   * Whether a claim the caller holds beside this record (the checkout-level claim, R13) still holds: checked with
   * the record's lease right before the send, so a call stalled past either sends nothing. Undefined: always.
   */
  stillHeld?(): boolean;
}

/** An unknown attempt the provider shows had no effect, replaced by a call that carries other data. */
export const SUPERSEDED = 'superseded';

export type Outcome = 'succeeded' | 'failed' | 'pending' | 'unknown';

export interface RunResult<T> {
  outcome: Outcome;
  value?: T;
  code?: string;
  message?: string;
  replayed: boolean;
  record: LedgerRecord<T>;
}

export interface LedgerOptions {
  store: Store;
  clock?: Clock;
  /** Record TTL (R8). */
  ttlMs: number;
  /** Lease of a running attempt (R7); renewed while the call runs. */
  leaseMs?: number;
  /** How long a concurrent duplicate waits for the winner (R7). */
  waitMs?: number;
  /** Attempts per record after terminal failures (R6). */
  maxAttempts?: number;
  /** First poll interval while waiting; doubles up to 250 ms. */
  pollMs?: number;
  /** How outbound keys are written for this backend's provider (a UUID for UCP); default `oc_…`. */
  keyShape?: KeyShape;
  /** Telemetry (src/telemetry): sees each claim, reconciliation and settle. */
  observer?: LedgerObserver;
}

export class Ledger {
  readonly store: Store;
  readonly clock: Clock;
  /** Renews this ledger's leases on its clock (R7). @internal used by Lease */
  readonly ticker: LeaseTicker;
  readonly ttlMs: number;
  readonly leaseMs: number;
  readonly waitMs: number;
  readonly maxAttempts: number;
  private readonly pollMs: number;
  private readonly keyShape: KeyShape;
  private readonly observe: LedgerObserver;
  private readonly owner = PROCESS_OWNER;
  /** Attempts this process gave up settling (the store stayed down): their leases need not be waited out. */
  /** Claims this process gave up settling (fence id → their lease's end): past it, the lease says so itself. */
  private readonly abandoned = new Map<string, number>();

  constructor(options: LedgerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.ticker = tickerOf(this.clock);
    this.ttlMs = options.ttlMs;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.waitMs = options.waitMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.pollMs = options.pollMs ?? 10;
    this.keyShape = options.keyShape ?? 'oc';
    this.observe = options.observer ?? UNOBSERVED;
  }

  async run<T>(spec: RunSpec<T>): Promise<RunResult<T>> {
    const storeKey = recordStoreKey(spec.key);
    const wait: Waiting = { started: this.clock.now(), poll: this.pollMs, on: undefined };
    for (;;) {
      const now = this.clock.now();
      const claim = await this.observe.claim(spec.key, spec.operation, () => this.store.claim<LedgerRecord<T>>(storeKey, this.freshRecord(spec, now, 1)));
      if (claim.claimed) return this.runAttempt(spec, claim.stored, 'send');
      const step = await this.nextStep(spec, storeKey, claim.current, now, wait);
      if (step) return step;
    }
  }

  /** What a call does with the record it found instead of claiming one: a result, or undefined to look again. */
  private async nextStep<T>(spec: RunSpec<T>, storeKey: string, current: Stored<LedgerRecord<T>>, now: number, wait: Waiting): Promise<RunResult<T> | undefined> {
    const record = current.value;
    if (isSettled(record) && record.expires_at <= now) {
      // Expired (R8): purged lazily by starting over in the same place.
      return this.startGeneration(spec, storeKey, current, now, false);
    }
    if (record.fingerprint !== spec.fingerprint) {
      throw new LedgerError('intent_conflict', `record ${spec.key} already holds a different intent`, {
        key: spec.key,
        anchor: record.anchor,
        attempt: record.attempt,
      });
    }
    if (spec.windowMs !== undefined && isSettled(record) && now - settledAt(record) >= spec.windowMs) {
      // Past the dedup window W, the same create is a new intent (R3).
      return this.startGeneration(spec, storeKey, current, now, true);
    }
    const state = record.state;
    switch (state.status) {
      case 'succeeded':
        return { outcome: 'succeeded', value: state.result, replayed: true, record };
      case 'failed':
        return this.afterFailure(spec, storeKey, current, state, now, wait);
      case 'pending':
        if (state.lease_until > now && !ownerIsGone(state.owner) && !this.abandoned.has(fenceId(record))) {
          return this.waitForOwner(record, now, spec, wait);
        }
        // The owner crashed or its lease expired: take over and reconcile first (R6, R7).
        return this.takeOverAndReconcile(spec, storeKey, current, now, state.lease_until > now ? `owner ${state.owner} is gone` : `lease of ${state.owner} expired`, wait);
      case 'unknown':
        return this.takeOverAndReconcile(spec, storeKey, current, now, state.reason, wait);
    }
  }

  /** A new generation in place of an expired record (R8) or one settled longer than W ago (R3). */
  private async startGeneration<T>(spec: RunSpec<T>, storeKey: string, current: Stored<LedgerRecord<T>>, now: number, keepTimeline: boolean): Promise<RunResult<T> | undefined> {
    const record = current.value;
    const next = this.freshRecord(spec, now, record.generation + 1);
    if (keepTimeline) next.timeline = [...record.timeline, { at: now, event: 'new_generation', attempt: 1 }, ...next.timeline];
    const mine = await this.store.replace(storeKey, current, next);
    return mine ? this.runAttempt(spec, mine, 'send') : undefined;
  }

  /** A failed record: the failure we waited on is ours; otherwise attempt n+1 (R6), or the provider's word at the cap (R13). */
  private async afterFailure<T>(
    spec: RunSpec<T>,
    storeKey: string,
    current: Stored<LedgerRecord<T>>,
    state: Extract<LedgerRecord<T>['state'], { status: 'failed' }>,
    now: number,
    wait: Waiting,
  ): Promise<RunResult<T> | undefined> {
    const record = current.value;
    const sawItRun = wait.on?.generation === record.generation && wait.on.attempt === record.attempt;
    if (sawItRun) return this.failedResult(record, state, true);
    if (record.attempt >= this.maxAttempts) return this.atAttemptsCap(spec, storeKey, current, state, now);
    // A genuine failure re-executes as attempt n+1 with a new outbound key (R6).
    const mine = await this.store.replace(storeKey, current, this.nextAttempt(record, now, spec));
    return mine ? this.runAttempt(spec, mine, 'send') : undefined;
  }

  /** Out of attempts, but the provider may show the outcome after all (a payment approved since). */
  private async atAttemptsCap<T>(
    spec: RunSpec<T>,
    storeKey: string,
    current: Stored<LedgerRecord<T>>,
    state: Extract<LedgerRecord<T>['state'], { status: 'failed' }>,
    now: number,
  ): Promise<RunResult<T> | undefined> {
    const record = current.value;
    const info: AttemptInfo = { number: record.attempt, outboundKey: record.outbound_key, requestId: randomUUID() };
    const seen = spec.precheck ? await spec.precheck(info) : undefined;
    if (!seen) {
      throw new LedgerError('attempts_exhausted', `${record.attempt} attempts of ${spec.operation} already failed (last: ${state.code})`, {
        key: spec.key,
        anchor: record.anchor,
        attempt: record.attempt,
      });
    }
    const event: TimelineEvent = { at: now, event: 'reconciled', attempt: record.attempt, detail: PRECHECKED };
    const next = this.settledRecord({ ...record, fence: record.fence + 1 }, info, seen, [event], now, spec.anchorKey);
    const mine = await this.store.replace(storeKey, current, next);
    return mine ? this.resultOf(next, true) : undefined;
  }

  /** A live owner runs the attempt: wait for its outcome (R7), up to waitMs. */
  private async waitForOwner<T>(record: LedgerRecord<T>, now: number, spec: RunSpec<T>, wait: Waiting): Promise<RunResult<T> | undefined> {
    wait.on = { generation: record.generation, attempt: record.attempt };
    const waited = now - wait.started;
    if (waited >= this.waitMs) return { outcome: 'pending', replayed: false, record };
    spec.onWait?.(waited);
    await this.clock.sleep(Math.min(wait.poll, this.waitMs - waited));
    wait.poll = Math.min(wait.poll * 2, 250);
    return undefined;
  }

  /** Same attempt, same key, a new fence; reconcile before anything is sent again (R6, R7). */
  private async takeOverAndReconcile<T>(spec: RunSpec<T>, storeKey: string, current: Stored<LedgerRecord<T>>, now: number, why: string, wait: Waiting): Promise<RunResult<T> | undefined> {
    const mine = await this.store.replace(storeKey, current, this.takeOver(current.value, now, why));
    if (!mine) return undefined;
    const settled = await this.runAttempt(spec, mine, 'reconcile');
    if (settled.code !== SUPERSEDED) return settled;
    wait.on = undefined; // the superseded attempt failed for us to replace, not for us to report
    return undefined;
  }

  /**
   * The outcome a settled record hands a repeat as it stands, without claiming anything; undefined when the
   * call must go through run() (absent, running, unknown, failed, expired, another intent, past W).
   */
  replayOf<T>(record: LedgerRecord<T> | undefined, spec: Pick<RunSpec<T>, 'fingerprint' | 'windowMs'>): RunResult<T> | undefined {
    if (!record || record.state.status !== 'succeeded' || record.fingerprint !== spec.fingerprint) return undefined;
    const now = this.clock.now();
    if (record.expires_at <= now) return undefined;
    if (spec.windowMs !== undefined && now - settledAt(record) >= spec.windowMs) return undefined;
    return { outcome: 'succeeded', value: record.state.result, replayed: true, record };
  }

  /** Reads a record without changing it. */
  async read<T = Json>(key: string): Promise<LedgerRecord<T> | undefined> {
    return (await this.store.get<LedgerRecord<T>>(recordStoreKey(key)))?.value;
  }

  async *records<T = Json>(): AsyncIterable<LedgerRecord<T>> {
    for await (const [, record] of this.store.entries<LedgerRecord<T>>(RECORD_PREFIX)) yield record;
  }

  /**
   * Settles an `unknown` or abandoned `pending` record from what the provider shows, without running a new
   * attempt: takes the record over with a new fence (as run() does), reads the provider, and writes a settled
   * state only on a definite outcome; otherwise the record stays `unknown` with the same outbound key (R6, R7).
   */
  async settleFromProvider<T>(
    key: string,
    reconcile: (attempt: AttemptInfo) => Promise<Reconciled<T>>,
    /** Who settles, for the timeline: the sweep reads the provider; a signed order event is the provider's word. */
    by: { takeOver: string; shows: string } = { takeOver: 'reconcile sweep', shows: 'provider' },
  ): Promise<Settlement<T>> {
    const storeKey = recordStoreKey(key);
    for (;;) {
      const current = await this.store.get<LedgerRecord<T>>(storeKey);
      if (!current) return { kind: 'skipped', reason: 'absent' };
      const record = current.value;
      const now = this.clock.now();
      const state = record.state;
      if (state.status === 'succeeded' || state.status === 'failed') return { kind: 'skipped', reason: 'settled', record };
      if (state.status === 'pending' && state.lease_until > now && !ownerIsGone(state.owner)) {
        return { kind: 'skipped', reason: 'running', record };
      }
      const why =
        state.status === 'unknown'
          ? state.reason
          : state.lease_until > now
            ? `owner ${state.owner} is gone`
            : `lease of ${state.owner} expired`;
      const mine = await this.store.replace(storeKey, current, this.takeOver(record, now, `${by.takeOver}: ${why}`));
      if (!mine) continue;

      const info: AttemptInfo = { number: record.attempt, outboundKey: record.outbound_key, requestId: randomUUID() };
      const lease = new Lease(this, storeKey, mine);
      let seen: Reconciled<T>;
      try {
        seen = await this.observe.reconcile(record, () => reconcile(info));
      } catch (error) {
        seen = { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
      } finally {
        const renewing = lease.stop();
        if (renewing) await renewing;
      }

      const at = this.clock.now();
      const events: TimelineEvent[] = [];
      let result: StepResult<T>;
      if (seen.kind === 'settled') {
        events.push({ at, event: 'reconciled', attempt: info.number, detail: `${by.shows} shows ${seen.result.kind}` });
        result = seen.result;
      } else if (seen.kind === 'resend') {
        // Only a new send could settle it, and a sweep never sends: the agent's next call resends this key.
        result = { kind: 'unknown', reason: 'reconcile: the provider shows no effect yet; the next call resends the same key' };
      } else {
        result = { kind: 'unknown', reason: `reconcile: ${seen.reason}` };
      }
      const next = this.settledRecord(lease.current.value, info, result, events, at);
      const written = await this.settle(storeKey, lease.current, next);
      if (!written) {
        // Fenced out: a live call took the record over meanwhile; its outcome is the truth.
        const winner = await this.read<T>(key);
        return { kind: 'skipped', reason: winner && isSettled(winner) ? 'settled' : 'running', record: winner };
      }
      if (result.kind === 'unknown') return { kind: 'unresolved', reason: result.reason, resend: seen.kind === 'resend', record: next };
      return { kind: 'settled', record: next };
    }
  }

  /** Marks a claim as given up by this process, and forgets those whose lease has run out (they need no mark). */
  private abandon<T>(record: LedgerRecord<T>): void {
    const now = this.clock.now();
    for (const [id, until] of this.abandoned) if (until <= now) this.abandoned.delete(id);
    this.abandoned.set(fenceId(record), record.state.status === 'pending' ? record.state.lease_until : now + this.leaseMs);
  }

  /** Deletes settled records past their TTL; never a pending or unknown one (R8). */
  async sweep(): Promise<{ deleted: number; kept: number }> {
    const now = this.clock.now();
    let deleted = 0;
    let kept = 0;
    const expired: string[] = [];
    for await (const record of this.records()) {
      if (isSettled(record) && record.expires_at <= now) expired.push(record.key);
      else kept += 1;
    }
    for (const key of expired) {
      const storeKey = recordStoreKey(key);
      const current = await this.store.get<LedgerRecord>(storeKey);
      // Re-check and delete only the exact text we judged, so a record re-claimed meanwhile survives.
      if (current && isSettled(current.value) && current.value.expires_at <= now) {
        if (await this.store.removeIf(storeKey, current)) {
          deleted += 1;
          continue;
        }
      }
      kept += 1;
    }
    return { deleted, kept };
  }

  private freshRecord<T>(spec: RunSpec<T>, now: number, generation: number): LedgerRecord<T> {
    const key = outboundKey(spec.key, now, 1, this.keyShape);
    const record: LedgerRecord<T> = {
      v: 1,
      key: spec.key,
      principal: spec.principal,
      operation: spec.operation,
      backend: spec.backend,
      fingerprint: spec.fingerprint,
      summary: spec.summary,
      generation,
      generation_started_at: now,
      attempt: 1,
      fence: 1,
      outbound_key: key,
      first_seen_at: now,
      updated_at: now,
      expires_at: now + this.ttlMs,
      state: { status: 'pending', owner: this.owner, lease_until: now + this.leaseMs },
      // The store tells our insert from an identical one (each write has its own id): no claim id needed.
      timeline: [{ at: now, event: 'claimed', attempt: 1, outbound_key: key, fence: 1 }],
    };
    const attemptFingerprint = attemptFingerprintOf(spec);
    return withOptionalFields(record, {
      anchor: spec.anchor,
      anchor_key: spec.anchor && spec.anchorKey ? spec.anchorKey(spec.anchor) : undefined,
      attempt_fingerprint: attemptFingerprint,
      settled_at: undefined,
    });
  }

  private nextAttempt<T>(record: LedgerRecord<T>, now: number, spec: RunSpec<T>): LedgerRecord<T> {
    const attempt = record.attempt + 1;
    const key = outboundKey(record.key, record.generation_started_at, attempt, this.keyShape);
    const fence = record.fence + 1;
    return {
      ...record,
      attempt,
      attempt_fingerprint: attemptFingerprintOf(spec),
      fence,
      outbound_key: key,
      updated_at: now,
      state: { status: 'pending', owner: this.owner, lease_until: now + this.leaseMs },
      timeline: [...record.timeline, { at: now, event: 'claimed', attempt, outbound_key: key, fence }],
    };
  }

  /** Same attempt, same outbound key, a new fence: the old owner can no longer settle (R6, R7). */
  private takeOver<T>(record: LedgerRecord<T>, now: number, why: string): LedgerRecord<T> {
    const fence = record.fence + 1;
    return {
      ...record,
      fence,
      updated_at: now,
      state: { status: 'pending', owner: this.owner, lease_until: now + this.leaseMs },
      timeline: [
        ...record.timeline,
        { at: now, event: 'taken_over', attempt: record.attempt, outbound_key: record.outbound_key, fence, detail: why },
      ],
    };
  }

  private async runAttempt<T>(
    spec: RunSpec<T>,
    claimed: Stored<LedgerRecord<T>>,
    mode: 'send' | 'reconcile',
  ): Promise<RunResult<T>> {
    const record = claimed.value;
    const info: AttemptInfo = { number: record.attempt, outboundKey: record.outbound_key, requestId: randomUUID() };
    const lease = new Lease(this, recordStoreKey(record.key), claimed);
    const events: TimelineEvent[] = [];
    let result: StepResult<T>;
    try {
      // Both claims must still hold right before the send: this record's lease, and any the caller holds beside it.
      const holds = () => lease.holds(this.clock.now()) && spec.stillHeld?.() !== false;
      result = await this.execute(spec, info, mode, events, record, holds);
    } finally {
      const renewing = lease.stop();
      if (renewing) await renewing;
    }

    const next = this.settledRecord(lease.current.value, info, result, events, this.clock.now(), spec.anchorKey);
    // R3: a create is matched for W after it settled, so its record lives at least that long. A settled record
    // resends no key (a failed one goes on with a new key), so outliving the provider's retention is safe (R8).
    if (spec.windowMs !== undefined && next.settled_at !== undefined) next.expires_at = Math.max(next.expires_at, next.settled_at + spec.windowMs);
    const storeKey = recordStoreKey(record.key);
    const mine = lease.current.value;
    // After the send, a store error is never "nothing was sent": it is SettleFailedError (R13).
    const afterSend = async <R>(step: () => Promise<R>): Promise<R> => {
      try {
        return await step();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        // This process will not settle it: a later call here need not wait out the lease (R13).
        this.abandon(mine);
        throw new SettleFailedError(`the outcome could not be recorded: ${error.message}`, { cause: error });
      }
    };
    let written = await afterSend(() => this.settle(storeKey, lease.current, next));
    if (!written) {
      // A write of ours may have landed with its reply lost (a renewal): then the record is still ours by its fence.
      const fresh = await afterSend(() => ownedStill(this.store, storeKey, mine));
      if (fresh) written = await afterSend(() => this.settle(storeKey, fresh, next));
    }
    if (!written) {
      // Fenced out: our lease lapsed and another runner owns the record now; its outcome is the truth.
      const winner = await afterSend(() => this.read<T>(record.key));
      return winner ? this.resultOf(winner, false) : { outcome: 'unknown', replayed: false, record: next };
    }
    return this.resultOf(next, events.some((e) => e.event === 'reconciled' && e.detail === PRECHECKED));
  }

  /**
   * Writes the outcome, retrying a store that is down for as long as our lease holds: the provider has acted,
   * and an unsettled record would hold its lease (and every duplicate) until it expires. Past the lease: throws.
   */
  private async settle<T>(storeKey: string, mine: Stored<LedgerRecord<T>>, next: LedgerRecord<T>): Promise<Stored<LedgerRecord<T>> | undefined> {
    const state = mine.value.state;
    const deadline = state.status === 'pending' ? Math.max(state.lease_until, this.clock.now() + 1_000) : this.clock.now() + 5_000;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await this.observe.settle(mine.value, next, () => this.store.replace(storeKey, mine, next));
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || this.clock.now() + delay > deadline) throw error;
        await this.clock.sleep(delay);
      }
    }
  }

  /** The record as one attempt's result leaves it: state, anchor and the closing timeline event. */
  private settledRecord<T>(
    base: LedgerRecord<T>,
    info: AttemptInfo,
    result: StepResult<T>,
    events: TimelineEvent[],
    now: number,
    anchorKey?: (anchor: string) => string,
  ): LedgerRecord<T> {
    const settledEvent: TimelineEvent = { at: now, event: result.kind, attempt: info.number, outbound_key: info.outboundKey, fence: base.fence };
    if (result.kind === 'failed') {
      settledEvent.code = result.code;
      settledEvent.detail = result.message;
    } else if (result.kind === 'unknown') {
      settledEvent.detail = result.reason;
    }
    if (result.providerRequestId !== undefined) settledEvent.provider_request_id = result.providerRequestId;
    const next: LedgerRecord<T> = {
      v: base.v,
      key: base.key,
      principal: base.principal,
      operation: base.operation,
      backend: base.backend,
      fingerprint: base.fingerprint,
      summary: base.summary,
      generation: base.generation,
      generation_started_at: base.generation_started_at,
      attempt: base.attempt,
      fence: base.fence,
      outbound_key: base.outbound_key,
      first_seen_at: base.first_seen_at,
      updated_at: now,
      expires_at: base.expires_at,
      state:
        result.kind === 'succeeded'
          ? { status: 'succeeded', result: result.value }
          : result.kind === 'failed'
            ? { status: 'failed', code: result.code, message: result.message, result: result.value }
            : { status: 'unknown', reason: result.reason },
      timeline: events.length === 0 ? [...base.timeline, settledEvent] : [...base.timeline, ...events, settledEvent],
    };
    const anchor = base.anchor ?? (result.kind === 'succeeded' ? result.anchor : undefined);
    const known = withOptionalFields(next, {
      anchor,
      anchor_key: base.anchor_key ?? (anchor && anchorKey ? anchorKey(anchor) : undefined),
      attempt_fingerprint: base.attempt_fingerprint,
      settled_at: result.kind === 'unknown' ? base.settled_at : now,
    });
    return withUnknownFields(known, base);
  }

  private async execute<T>(
    spec: RunSpec<T>,
    info: AttemptInfo,
    mode: 'send' | 'reconcile',
    events: TimelineEvent[],
    record: LedgerRecord<T>,
    holds: () => boolean,
  ): Promise<StepResult<T>> {
    try {
      let sending: TimelineEvent;
      if (mode === 'reconcile') {
        const seen = await this.observe.reconcile(record, () => spec.reconcile(info));
        const at = this.clock.now();
        if (seen.kind === 'settled') {
          events.push({ at, event: 'reconciled', attempt: info.number, detail: `provider shows ${seen.result.kind}` });
          return seen.result;
        }
        if (seen.kind === 'unknown') return { kind: 'unknown', reason: `reconcile: ${seen.reason}` };
        const sends = spec.attemptFingerprint ?? spec.fingerprint;
        if ((record.attempt_fingerprint ?? record.fingerprint) !== sends) {
          // The request may still be on its way: with no attempt left to replace it, it stays unknown, never a
          // failure the cap would report while it lands (R13). The next read settles it.
          if (record.attempt >= this.maxAttempts) {
            return { kind: 'unknown', reason: 'the provider shows no effect of the last allowed attempt yet, and its request may still arrive' };
          }
          // The same key with another body would be a conflict at the provider; it shows the attempt took no
          // effect, and the anchor completes at most once there, so a new attempt with a new key replaces it.
          return { kind: 'failed', code: SUPERSEDED, message: 'the provider shows no effect of this attempt; a call with other data replaces it' };
        }
        sending = { at, event: 'resent', attempt: info.number, outbound_key: info.outboundKey };
      } else {
        if (spec.precheck && (record.attempt > 1 || record.generation > 1)) {
          // Not the first send of this intent: the provider may already hold the outcome (R13).
          const seen = await spec.precheck(info);
          if (seen) {
            events.push({ at: this.clock.now(), event: 'reconciled', attempt: info.number, detail: PRECHECKED });
            return seen;
          }
        }
        sending = { at: this.clock.now(), event: 'sent', attempt: info.number, outbound_key: info.outboundKey };
      }
      // A process stalled past its lease (GC, SIGSTOP) may have been taken over, and its attempt superseded under
      // a new key: it must not send now. This narrows that window to the send itself (R7).
      if (!holds()) return { kind: 'unknown', reason: LAPSED };
      events.push(sending);
      return await spec.execute(info);
    } catch (error) {
      return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
    }
  }

  private resultOf<T>(record: LedgerRecord<T>, replayed: boolean): RunResult<T> {
    const state = record.state;
    switch (state.status) {
      case 'succeeded':
        return { outcome: 'succeeded', value: state.result, replayed, record };
      case 'failed':
        return this.failedResult(record, state, replayed);
      case 'unknown':
        return { outcome: 'unknown', message: state.reason, replayed, record };
      case 'pending':
        return { outcome: 'pending', replayed, record };
    }
  }

  private failedResult<T>(
    record: LedgerRecord<T>,
    state: Extract<LedgerRecord<T>['state'], { status: 'failed' }>,
    replayed: boolean,
  ): RunResult<T> {
    return { outcome: 'failed', code: state.code, message: state.message, value: state.result, replayed, record };
  }

  /** @internal used by Lease */
  leaseUntil(): number {
    return this.clock.now() + this.leaseMs;
  }
}

const PRECHECKED = 'provider already shows the outcome; nothing sent';
const LAPSED = 'this call stalled past its claim before sending, and sent nothing; the next call settles it';

/** The keys of T that may be absent. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/**
 * A record with its optional fields added where they have a value. Every optional field must be named (the
 * type says so), so a field added to the record cannot be dropped unnoticed; an absent one is not written as
 * `undefined`, which JSON.stringify would have to skip on every write (a quarter of its time on a record).
 */
function withOptionalFields<T>(record: LedgerRecord<T>, optional: { [K in OptionalKeys<LedgerRecord<T>>]: LedgerRecord<T>[K] }): LedgerRecord<T> {
  for (const name of Object.keys(optional) as Array<keyof typeof optional>) {
    const value = optional[name];
    if (value !== undefined) (record as unknown as Record<string, unknown>)[name] = value;
  }
  return record;
}

/** A call's waiting on a concurrent duplicate (R7): since when, the next poll, and the attempt it saw running. */
interface Waiting {
  started: number;
  poll: number;
  /** The attempt we saw running: when it settles, its outcome is ours too (R7), even a failure. */
  on: { generation: number; attempt: number } | undefined;
}

/** What the attempt sends, kept on the record only where it differs from the intent's fingerprint. */
function attemptFingerprintOf<T>(spec: RunSpec<T>): string | undefined {
  return spec.attemptFingerprint === undefined || spec.attemptFingerprint === spec.fingerprint ? undefined : spec.attemptFingerprint;
}

/** When the record last reached a definite outcome (records from before settled_at: first seen). */
function settledAt<T>(record: LedgerRecord<T>): number {
  return record.settled_at ?? record.first_seen_at;
}

/**
 * The record as stored, if it is still the same pending claim as `mine` (generation, fence and owner): its text
 * may differ from ours only by a write of ours whose reply was lost.
 */
async function ownedStill<T>(store: Store, storeKey: string, mine: LedgerRecord<T>): Promise<Stored<LedgerRecord<T>> | undefined> {
  const stored = await store.get<LedgerRecord<T>>(storeKey);
  const now = stored?.value;
  if (!now || now.state.status !== 'pending' || mine.state.status !== 'pending') return undefined;
  return now.generation === mine.generation && now.fence === mine.fence && now.state.owner === mine.state.owner ? stored : undefined;
}

function fenceId<T>(record: LedgerRecord<T>): string {
  return `${record.key}:${record.generation}:${record.fence}`;
}

/** Keeps an attempt's lease alive while the call runs, so a slow but live owner is not taken over (R7). */
class Lease<T> {
  current: Stored<LedgerRecord<T>>;
  private renewing: Promise<void> | undefined;
  private lost = false;
  private readonly renewal: Renewal;

  /** Whether this claim still holds by its own clock: not taken over, and its lease not run out. */
  holds(now: number): boolean {
    const state = this.current.value.state;
    return !this.lost && state.status === 'pending' && now < state.lease_until;
  }

  constructor(
    private readonly ledger: Ledger,
    private readonly storeKey: string,
    claimed: Stored<LedgerRecord<T>>,
  ) {
    this.current = claimed;
    // One renewal at a time: a tick while one is still being written skips.
    this.renewal = ledger.ticker.hold(Math.max(Math.floor(ledger.leaseMs / 3), 1), () => {
      this.renewing ??= this.renew().finally(() => {
        this.renewing = undefined;
      });
    });
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    const record = this.current.value;
    if (record.state.status !== 'pending') return;
    const next = { ...record, state: { ...record.state, lease_until: this.ledger.leaseUntil() } };
    try {
      const written = await this.ledger.store.replace(this.storeKey, this.current, next);
      if (written) {
        this.current = written;
        return;
      }
      // Not ours any more, unless an earlier renewal of ours landed with its reply lost: the fence tells.
      const fresh = await ownedStill(this.ledger.store, this.storeKey, record);
      if (fresh) this.current = fresh;
      else this.lost = true;
    } catch {
      // The store is down (or the reply was lost): the next renewal, or the settle, finds out which.
    }
  }

  /** Stops renewing; returns the renewal still being written, if one is, for the caller to await. */
  stop(): Promise<void> | undefined {
    this.ledger.ticker.release(this.renewal);
    return this.renewing;
  }
}
