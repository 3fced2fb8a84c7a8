// The exactly-once engine. One record per operation intent: claim it atomically, run one attempt under a
// lease, settle it with compare-and-swap, and hand every repeat the recorded outcome.
import { randomUUID } from 'node:crypto';
import type { Json } from './canonical.js';
import { systemClock, type Clock } from './clock.js';
import { LedgerError } from './errors.js';
import { outboundKey } from './keys.js';
import { ownerIsGone, PROCESS_OWNER } from './owner.js';
import { isSettled, recordStoreKey, RECORD_PREFIX, type LedgerRecord, type TimelineEvent } from './record.js';
import type { Store, Stored } from '../store/store.js';

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
}

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
}

export class Ledger {
  readonly store: Store;
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly leaseMs: number;
  readonly waitMs: number;
  readonly maxAttempts: number;
  private readonly pollMs: number;
  private readonly owner = PROCESS_OWNER;

  constructor(options: LedgerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.ttlMs;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.waitMs = options.waitMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.pollMs = options.pollMs ?? 10;
  }

  async run<T>(spec: RunSpec<T>): Promise<RunResult<T>> {
    const storeKey = recordStoreKey(spec.key);
    const started = this.clock.now();
    let poll = this.pollMs;
    // The attempt we saw running: when it settles, its outcome is ours too (R7), even a failure.
    let waitedOn: { generation: number; attempt: number } | undefined;

    for (;;) {
      const now = this.clock.now();
      const claim = await this.store.claim<LedgerRecord<T>>(storeKey, this.freshRecord(spec, now, 1));
      if (claim.claimed) return this.runAttempt(spec, claim.stored, 'send');

      const current = claim.current;
      const record = current.value;

      if (isSettled(record) && record.expires_at <= now) {
        // Expired (R8): purged lazily by starting over in the same place.
        const next = this.freshRecord(spec, now, record.generation + 1);
        const mine = await this.store.replace(storeKey, current, next);
        if (mine) return this.runAttempt(spec, mine, 'send');
        continue;
      }

      if (record.fingerprint !== spec.fingerprint) {
        throw new LedgerError(
          'intent_conflict',
          `record ${spec.key} already holds a different intent`,
          { key: spec.key, anchor: record.anchor, attempt: record.attempt },
        );
      }

      if (spec.windowMs !== undefined && isSettled(record) && now - record.first_seen_at >= spec.windowMs) {
        // Past the dedup window W, the same create is a new intent (R3).
        const next = this.freshRecord(spec, now, record.generation + 1);
        next.timeline = [...record.timeline, { at: now, event: 'new_generation', attempt: 1 }, ...next.timeline];
        const mine = await this.store.replace(storeKey, current, next);
        if (mine) return this.runAttempt(spec, mine, 'send');
        continue;
      }

      const state = record.state;
      switch (state.status) {
        case 'succeeded':
          return { outcome: 'succeeded', value: state.result, replayed: true, record };
        case 'failed': {
          const sawItRun = waitedOn?.generation === record.generation && waitedOn.attempt === record.attempt;
          if (sawItRun) return this.failedResult(record, state, true);
          if (record.attempt >= this.maxAttempts) {
            throw new LedgerError(
              'attempts_exhausted',
              `${record.attempt} attempts of ${spec.operation} already failed (last: ${state.code})`,
              { key: spec.key, anchor: record.anchor, attempt: record.attempt },
            );
          }
          // A genuine failure re-executes as attempt n+1 with a new outbound key (R6).
          const next = this.nextAttempt(record, now);
          const mine = await this.store.replace(storeKey, current, next);
          if (mine) return this.runAttempt(spec, mine, 'send');
          continue;
        }
        case 'pending': {
          if (state.lease_until > now && !ownerIsGone(state.owner)) {
            waitedOn = { generation: record.generation, attempt: record.attempt };
            const waited = now - started;
            if (waited >= this.waitMs) return { outcome: 'pending', replayed: false, record };
            spec.onWait?.(waited);
            await this.clock.sleep(Math.min(poll, this.waitMs - waited));
            poll = Math.min(poll * 2, 250);
            continue;
          }
          // The owner crashed or its lease expired: take over and reconcile first (R6, R7).
          const why = state.lease_until > now ? `owner ${state.owner} is gone` : `lease of ${state.owner} expired`;
          const next = this.takeOver(record, now, why);
          const mine = await this.store.replace(storeKey, current, next);
          if (mine) return this.runAttempt(spec, mine, 'reconcile');
          continue;
        }
        case 'unknown': {
          const next = this.takeOver(record, now, state.reason);
          const mine = await this.store.replace(storeKey, current, next);
          if (mine) return this.runAttempt(spec, mine, 'reconcile');
          continue;
        }
      }
    }
  }

  /** Reads a record without changing it. */
  async read<T = Json>(key: string): Promise<LedgerRecord<T> | undefined> {
    return (await this.store.get<LedgerRecord<T>>(recordStoreKey(key)))?.value;
  }

  async *records<T = Json>(): AsyncIterable<LedgerRecord<T>> {
    for await (const [, record] of this.store.entries<LedgerRecord<T>>(RECORD_PREFIX)) yield record;
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
    const key = outboundKey(spec.key, now, 1);
    return {
      v: 1,
      key: spec.key,
      principal: spec.principal,
      operation: spec.operation,
      backend: spec.backend,
      anchor: spec.anchor,
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
      // A unique claim id makes our insert distinguishable from an identical concurrent one.
      timeline: [{ at: now, event: 'claimed', attempt: 1, outbound_key: key, fence: 1, detail: randomUUID() }],
    };
  }

  private nextAttempt<T>(record: LedgerRecord<T>, now: number): LedgerRecord<T> {
    const attempt = record.attempt + 1;
    const key = outboundKey(record.key, record.generation_started_at, attempt);
    const fence = record.fence + 1;
    return {
      ...record,
      attempt,
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
      result = await this.execute(spec, info, mode, events);
    } finally {
      await lease.stop();
    }

    const now = this.clock.now();
    const settledEvent: TimelineEvent = {
      at: now,
      event: result.kind,
      attempt: info.number,
      outbound_key: info.outboundKey,
      fence: record.fence,
      provider_request_id: result.providerRequestId,
      ...(result.kind === 'failed' ? { code: result.code, detail: result.message } : {}),
      ...(result.kind === 'unknown' ? { detail: result.reason } : {}),
    };
    const base = lease.current.value;
    const next: LedgerRecord<T> = {
      ...base,
      anchor: base.anchor ?? (result.kind === 'succeeded' ? result.anchor : undefined),
      updated_at: now,
      state:
        result.kind === 'succeeded'
          ? { status: 'succeeded', result: result.value }
          : result.kind === 'failed'
            ? { status: 'failed', code: result.code, message: result.message, result: result.value }
            : { status: 'unknown', reason: result.reason },
      timeline: [...base.timeline, ...events, settledEvent],
    };
    const written = await this.store.replace(recordStoreKey(record.key), lease.current, next);
    if (!written) {
      // Fenced out: our lease lapsed and another runner owns the record now; its outcome is the truth.
      const now2 = await this.read<T>(record.key);
      return now2 ? this.resultOf(now2, false) : { outcome: 'unknown', replayed: false, record: next };
    }
    return this.resultOf(next, false);
  }

  private async execute<T>(
    spec: RunSpec<T>,
    info: AttemptInfo,
    mode: 'send' | 'reconcile',
    events: TimelineEvent[],
  ): Promise<StepResult<T>> {
    try {
      if (mode === 'reconcile') {
        const seen = await spec.reconcile(info);
        const at = this.clock.now();
        if (seen.kind === 'settled') {
          events.push({ at, event: 'reconciled', attempt: info.number, detail: `provider shows ${seen.result.kind}` });
          return seen.result;
        }
        if (seen.kind === 'unknown') return { kind: 'unknown', reason: `reconcile: ${seen.reason}` };
        events.push({ at, event: 'resent', attempt: info.number, outbound_key: info.outboundKey });
      } else {
        events.push({ at: this.clock.now(), event: 'sent', attempt: info.number, outbound_key: info.outboundKey });
      }
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

/** Keeps an attempt's lease alive while the call runs, so a slow but live owner is not taken over (R7). */
class Lease<T> {
  current: Stored<LedgerRecord<T>>;
  private timer: NodeJS.Timeout;
  private renewing: Promise<void> = Promise.resolve();
  private lost = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly storeKey: string,
    claimed: Stored<LedgerRecord<T>>,
  ) {
    this.current = claimed;
    this.timer = setInterval(() => {
      this.renewing = this.renewing.then(() => this.renew());
    }, Math.max(Math.floor(ledger.leaseMs / 3), 1));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    const record = this.current.value;
    if (record.state.status !== 'pending') return;
    const next = { ...record, state: { ...record.state, lease_until: this.ledger.leaseUntil() } };
    try {
      const written = await this.ledger.store.replace(this.storeKey, this.current, next);
      if (written) this.current = written;
      else this.lost = true;
    } catch {
      // The store is down: the settle will fail closed too; nothing to do here.
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }
}
