// The checkout engine the tools call: derive the key from the intent, check the checkout belongs to the
// caller, run one operation at a time on it through the ledger against the backend, and describe the outcome.
// The checkout, not the operation, is the unit of truth (R13): what the agent was shown is what is charged
// (R14), and it is never told a payment failed while the merchant holds one.
import type { Backend, BackendResult, CallContext } from '../backends/backend.js';
import type { CancelInput, CompleteInput, CreateInput, UpdateInput } from '../commerce/inputs.js';
import type { Json } from '../ledger/canonical.js';
import { LedgerError } from '../ledger/errors.js';
import { digest, secretFingerprint } from '../ledger/keys.js';
import { SettleFailedError, SUPERSEDED, type AttemptInfo, type Ledger, type RunResult, type RunSpec, type StepResult } from '../ledger/ledger.js';
import { isSettled, recordStoreKey, type LedgerRecord } from '../ledger/record.js';
import { StoreUnavailableError } from '../store/store.js';
import { describeFailure, failures, withEarlierAttempt, type Failure } from './failure.js';
import { cartFingerprint, CheckoutHeads, withOrder, type AnchorHead, type AnchoredOperation, type HeldLock } from './heads.js';
import { anchoredKey, canonicalCreate, canonicalUpdate, createKey, type Scope } from './intent.js';
import { judge, payerActionRequired, reconcileAnchored } from './reconcile.js';
import { safeCode } from '../commerce/merchant-text.js';
import { redactDeep } from '../commerce/redact.js';
import { completionOf, totalAmount, type CheckoutSession } from '../commerce/session.js';

export interface IdempotencyInfo {
  key: string;
  /**
   * The operation's attempt and the key the merchant saw for it. Always there, but for get_checkout on a
   * checkout whose head predates keeping them and whose create record is gone: then unknown, and left out.
   */
  outbound_key?: string;
  outcome: 'succeeded' | 'failed' | 'pending' | 'unknown';
  replayed: boolean;
  attempt?: number;
  first_seen_at: string;
}

export type CheckoutResult =
  | { ok: true; checkout: CheckoutSession; idempotency: IdempotencyInfo }
  /** `checkout`: the live checkout, when the failure is about it (checkout_changed). */
  | { ok: false; failure: Failure; idempotency?: IdempotencyInfo; checkout?: CheckoutSession };

export interface CallHooks {
  /** Called while a concurrent call on the same checkout is awaited (R7, R13), for progress notifications. */
  onWait?(waitedMs: number): void;
  /**
   * Asks the person to approve a charge before complete sends anything: never on a replay of a completed
   * checkout, and while an earlier attempt has no known outcome only if the cart changed since the person
   * approved it (R14). Anything but 'accepted' ends the call with nothing sent.
   */
  confirm?(request: ConfirmRequest): Promise<'accepted' | 'declined'>;
}

/** What the person is asked to approve: one checkout's total, at one merchant. */
export interface ConfirmRequest {
  checkoutId: string;
  merchant: string;
  /** Minor units: the merchant's live total, checked to be an integer. */
  total: number;
  currency: string;
  /**
   * An earlier attempt, made for a cart the person approved, has no known outcome, and the cart has changed since:
   * the person is asked again, told that the earlier attempt may still go through.
   */
  earlierAttempt?: boolean;
}

export interface CheckoutsOptions {
  ledger: Ledger;
  backend: Backend;
  /** The create dedup window W (R3). */
  windowMs: number;
  /** Spend cap per checkout in minor units; complete above it is refused before anything is sent. */
  maxOrderAmount?: number;
}

export type CreateArgs = CreateInput & { task_id?: string };

type HeadEdit = (head: AnchorHead) => AnchorHead;

/** An update, complete or cancel on an existing checkout, as the engine runs it. */
interface OperationCall {
  principal: string;
  id: string;
  operation: AnchoredOperation;
  body: Json;
  hooks: CallHooks;
  send(ctx: CallContext): Promise<BackendResult>;
  /** Secrets of this call (the payment token) that must not come back in anything we keep or return. */
  secrets: string[];
  /**
   * The cart the agent had been shown when this call arrived (the head's `shown` at its first read). An answer
   * given to another call while this one waited for the claim cannot have informed it (R14).
   */
  shownAtArrival?: string;
}

export class Checkouts {
  readonly heads: CheckoutHeads;
  private readonly ledger: Ledger;
  private readonly backend: Backend;
  private readonly windowMs: number;
  private readonly maxOrderAmount?: number;

  constructor(options: CheckoutsOptions) {
    this.ledger = options.ledger;
    this.backend = options.backend;
    this.windowMs = options.windowMs;
    this.maxOrderAmount = options.maxOrderAmount;
    this.heads = new CheckoutHeads(this.ledger.store, this.backend.name, this.backend.merchant, this.ledger.clock, this.ledger.leaseMs);
  }

  private scope(principal: string): Scope {
    return { principal, backend: this.backend.name, merchant: this.backend.merchant };
  }

  async create(principal: string, args: CreateArgs, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const { task_id: taskId, ...rest } = args;
    const intent = canonicalCreate(rest);
    const { key, fingerprint } = createKey(this.scope(principal), intent, taskId);
    return this.withErrorsAsFailures('create_checkout', async () => {
      // A replay reads its record and the checkout's head in one round trip (R11).
      const [stored, head] = await this.ledger.store.getLinked<LedgerRecord<CheckoutSession>, AnchorHead>(recordStoreKey(key), 'anchor_key');
      const replay = this.ledger.replayOf(stored?.value, { fingerprint, windowMs: this.windowMs });
      if (replay && head && head.value.principal === principal) return this.shown(head.value, replay);

      const result = await this.ledger.run<CheckoutSession>({
        key,
        fingerprint,
        principal,
        operation: 'create',
        backend: this.backend.name,
        summary: { ...(intent as unknown as { [k: string]: Json }), task_id: taskId ?? null },
        windowMs: this.windowMs,
        anchorKey: (anchor) => this.heads.keyOf(anchor),
        onWait: hooks.onWait,
        execute: async (attempt) => toStep(await this.backend.create(intent, callContextOf(attempt)), 'create'),
        // No anchor yet: a create whose answer was lost is resent with the same key (R6).
        reconcile: async () => ({ kind: 'resend' }),
      });
      if (result.outcome !== 'succeeded' || !result.value) return this.outcomeFailure('create_checkout', result);
      const checkout = result.value;
      const written = await this.heads.create({
        principal,
        backend: this.backend.name,
        merchant: this.backend.merchant,
        anchor: checkout.id,
        create_key: key,
        create_attempt: result.record.attempt,
        create_outbound_key: result.record.outbound_key,
        checkout,
        first_seen_at: result.record.first_seen_at,
        updated_at: result.record.updated_at,
      });
      // Another principal's head under this id (a merchant reusing ids) is not ours to show (R15).
      if (written.value.principal !== principal) return { ok: false, failure: failures.checkout_not_found(checkout.id) };
      return this.shown(written.value, result);
    }, taskId);
  }

  async update(principal: string, id: string, input: UpdateInput, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const body = canonicalUpdate(input);
    return this.runOnCheckout({ principal, id, operation: 'update', body: body as unknown as Json, hooks, secrets: [], send: (ctx) => this.backend.update(id, body, ctx) });
  }

  async complete(principal: string, id: string, input: CompleteInput, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const token = input.payment_data.instrument.credential.token;
    return this.runOnCheckout({
      principal,
      id,
      operation: 'complete',
      body: redactPayment(input),
      hooks,
      secrets: [token],
      send: (ctx) => this.backend.complete(id, input, ctx),
    });
  }

  async cancel(principal: string, id: string, input: CancelInput, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const reason = input.reason?.normalize('NFC').trim() || undefined;
    // What is recorded is exactly what is sent, so a resend of a lost cancel carries the same body (R6).
    return this.runOnCheckout({ principal, id, operation: 'cancel', body: { reason: reason ?? null }, hooks, secrets: [], send: (ctx) => this.backend.cancel(id, { reason }, ctx) });
  }

  /**
   * Reads the live state from the backend; sends no key and changes nothing at the merchant. A completed
   * checkout whose order the merchant's signed events keep current is answered from the head: a completed
   * session does not change, and the events are the merchant's word on its order.
   */
  async get(principal: string, id: string): Promise<CheckoutResult> {
    return this.withErrorsAsFailures('get_checkout', async () => {
      const stored = await this.heads.read(id);
      if (!stored || stored.value.principal !== principal) return { ok: false, failure: failures.checkout_not_found(id) };
      const head = stored.value;
      if (head.order && head.open.length === 0 && head.checkout.status === 'completed') {
        return { ok: true, checkout: withOrder(head.checkout, head), idempotency: await this.creationFacts(head) };
      }
      const seen = await this.backend.get(id);
      if (seen.kind === 'unknown') {
        return { ok: false, failure: failures.merchant_unavailable(seen.reason) };
      }
      if (seen.kind === 'failed') return { ok: false, failure: describeFailure(seen.code, seen.message, 'get_checkout') };
      const live = seen.checkout;
      // R13: a complete with no known outcome that the merchant now shows done is settled from this read.
      const settled = new Set<string>();
      for (const open of head.open) {
        if (open.operation !== 'complete' || completionOf(live) !== 'completed') continue;
        const outcome = await this.ledger.settleFromProvider<CheckoutSession>(open.key, async () => judge('complete', live));
        if (outcome.kind === 'settled' || (outcome.kind === 'skipped' && outcome.reason !== 'running')) settled.add(open.key);
      }
      const now = this.ledger.clock.now();
      const shown = cartFingerprint(live);
      // Written since this read began (another call's answer, an order event): that news may be newer than this
      // read, and a completed checkout stays so (R11, R13). The head keeps it, stale, and the agent is shown it.
      let kept = false;
      const withRead = (h: AnchorHead, fresh: boolean): AnchorHead => {
        const open = h.open.filter((o) => !settled.has(o.key));
        const done = (c: CheckoutSession) => c.status === 'completed';
        kept = !fresh && (done(h.checkout) !== done(live) ? done(h.checkout) : JSON.stringify(h.checkout) !== JSON.stringify(head.checkout));
        if (kept) return { ...h, open, fresh: false, shown: cartFingerprint(h.checkout) };
        return { ...h, checkout: live, fresh: fresh && open.length === 0, shown, open, updated_at: now };
      };
      // The read is fresh only if nothing wrote the head since it was read before asking the merchant. Otherwise
      // (R14) it may be older than another call's answer: complete then reads the live cart before paying.
      const written = (await this.heads.replaceIfUnchanged(stored, withRead(head, true))) ?? (await this.heads.updateUnlocked(id, (h) => withRead(h, false)));
      const answer = written && kept ? written.checkout : live;
      return { ok: true, checkout: withOrder(answer, written ?? head), idempotency: await this.creationFacts(head) };
    });
  }

  /**
   * What get_checkout answers as its idempotency: the create that made this checkout, as its head recorded
   * it (a head written before it kept them: its create record, while that still names this checkout; a
   * create outside the window W runs a new generation under the same key). A read sends no key and replays
   * nothing, and a head is written only once its create succeeded.
   */
  private async creationFacts(head: AnchorHead): Promise<IdempotencyInfo> {
    let attempt = head.create_attempt;
    let outboundKey = head.create_outbound_key;
    if (attempt === undefined || outboundKey === undefined) {
      const record = await this.ledger.read(head.create_key);
      if (record?.anchor === head.anchor) ({ attempt, outbound_key: outboundKey } = record);
    }
    return {
      key: head.create_key,
      ...(outboundKey === undefined ? {} : { outbound_key: outboundKey }),
      outcome: 'succeeded',
      replayed: false,
      ...(attempt === undefined ? {} : { attempt }),
      first_seen_at: new Date(head.first_seen_at).toISOString(),
    };
  }

  /**
   * Runs an update, complete or cancel on an existing checkout of the caller's: a replay of a recorded call
   * is answered at once; otherwise the call waits its turn for the checkout's claim (R13) and runs under it.
   */
  private async runOnCheckout(call: OperationCall): Promise<CheckoutResult> {
    const tool = `${call.operation}_checkout`;
    const { key, fingerprint } = anchoredKey(this.scope(call.principal), call.id, call.operation, call.body);
    return this.withErrorsAsFailures(tool, async () => {
      // One read finds the checkout and this operation's record; a replay ends here (R5, R11).
      const started = this.ledger.clock.now();
      let poll = 10;
      for (;;) {
        const [head, stored] = await this.ledger.store.getMany<unknown>([this.heads.keyOf(call.id), recordStoreKey(key)]);
        const headValue = head?.value as AnchorHead | undefined;
        if (!head || !headValue || headValue.principal !== call.principal) return { ok: false, failure: failures.checkout_not_found(call.id) };
        const record = stored?.value as LedgerRecord<CheckoutSession> | undefined;
        const replay = this.ledger.replayOf(record, { fingerprint });
        if (replay) return this.shown(headValue, replay);
        call.shownAtArrival ??= headValue.shown;
        // One mutating operation at a time on a checkout, across processes (R13).
        const held = await this.heads.tryLock({ value: headValue, raw: head.raw }, call.operation, key);
        if (held) return this.underClaim(call, held, key, fingerprint, record);
        if (!this.heads.isBusy(headValue)) continue; // the head changed between the read and the claim
        const waited = this.ledger.clock.now() - started;
        if (waited >= this.ledger.waitMs) {
          return { ok: false, failure: failures.pending(tool, { kind: 'other_call', operation: headValue.lock?.operation ?? 'another' }) };
        }
        call.hooks.onWait?.(waited);
        await this.ledger.clock.sleep(Math.min(poll, this.ledger.waitMs - waited));
        poll = Math.min(poll * 2, 250);
      }
    });
  }

  /** The operation under the checkout-level claim: settle what is open, guard the money, run, record the news. */
  private async underClaim(
    call: OperationCall,
    held: HeldLock,
    key: string,
    fingerprint: string,
    record: LedgerRecord<CheckoutSession> | undefined,
  ): Promise<CheckoutResult> {
    const tool = `${call.operation}_checkout`;
    const edits: HeadEdit[] = [];
    const ran = { value: false, resent: false, lost: false };
    const release = () =>
      held.release((head) => {
        const next = edits.reduce((h, edit) => edit(h), head);
        // Refused before anything was sent: the operation is open only if it was before this call.
        return ran.value || !held.markedOpen ? next : { ...next, open: next.open.filter((o) => o.key !== held.markedOpen) };
      });
    let result: CheckoutResult;
    try {
      result = await this.runClaimed(call, held, key, fingerprint, record, edits, tool, ran);
    } catch (error) {
      await release().catch(() => {});
      throw error;
    }
    // The news must be on the head before the answer goes out: the next complete relies on it (R14).
    try {
      await release();
    } catch (error) {
      // Once something was sent, the answer is the ledger's and true (R13): saying "nothing was sent" would be a
      // lie. The operations stay open on the head, which the next call on this checkout settles first.
      if (!ran.value && !ran.resent && !ran.lost) throw error;
    }
    return result;
  }

  private async runClaimed(
    call: OperationCall,
    held: HeldLock,
    key: string,
    fingerprint: string,
    record: LedgerRecord<CheckoutSession> | undefined,
    edits: HeadEdit[],
    tool: string,
    ran: { value: boolean; resent: boolean; lost: boolean },
  ): Promise<CheckoutResult> {
    // R13: every other operation on this checkout without a known outcome is settled first.
    const blocked = await this.settleOpen(call, held, key, edits, ran);
    if (blocked) return blocked;

    let live: CheckoutSession | undefined;
    if (call.operation === 'complete') {
      const ready = await this.beforeComplete(call, held, record, edits);
      ran.lost = ready.kind === 'lost';
      if (ready.kind !== 'ready') return ready.result;
      live = ready.live;
    }

    const readLive = async (): Promise<CheckoutSession | undefined> => {
      if (live) return live;
      const seen = redactDeep(await this.backend.get(call.id), call.secrets);
      if (seen.kind !== 'succeeded') throw new Error(seen.kind === 'unknown' ? seen.reason : `the checkout could not be read (${safeCode(seen.code)})`);
      return (live = seen.checkout);
    };
    const spec: RunSpec<CheckoutSession> = {
      key,
      fingerprint,
      principal: call.principal,
      operation: call.operation,
      backend: this.backend.name,
      anchor: call.id,
      anchorKey: (anchor) => this.heads.keyOf(anchor),
      summary: call.body,
      // Complete's key ignores payment data (R5), but a resend under an attempt's key must carry that attempt's.
      attemptFingerprint: digest(call.body),
      onWait: call.hooks.onWait,
      execute: async (attempt) => {
        const answer = redactDeep(await call.send(callContextOf(attempt)), call.secrets);
        const step = toStep(answer, call.operation);
        if (call.operation === 'complete') return this.readBack(call, step);
        return call.operation === 'cancel' ? this.alreadyCanceled(call, step) : step;
      },
      reconcile: async () => reconcileAnchored(this.backend, call.operation, call.id, call.operation === 'complete' ? live : undefined),
      // R13: a call stalled past the checkout-level claim (another process may have changed the cart) sends nothing.
      stillHeld: () => held.holds(this.ledger.clock.now()),
      // R13: before attempt n+1, a superseding attempt or a new generation, the checkout is read.
      precheck:
        call.operation === 'complete'
          ? async () => {
              const checkout = await readLive();
              return checkout && completionOf(checkout) === 'completed' ? { kind: 'succeeded', value: checkout, anchor: call.id } : undefined;
            }
          : undefined,
    };
    let result: RunResult<CheckoutSession>;
    try {
      result = await this.ledger.run(spec);
    } catch (error) {
      // The store failed after the send: the merchant may have acted (R13). The operation stays open and the head
      // stale, so the next call settles it first and complete reads the live cart before paying (R14).
      if (error instanceof SettleFailedError) {
        ran.value = true;
        edits.push((h) => ({ ...h, fresh: false }));
      }
      throw error;
    }
    ran.value = true;
    edits.push(this.newsOf(key, result));
    if (result.outcome === 'succeeded' && result.value) return this.success(held.head, result, edits);
    return this.outcomeFailure(tool, result);
  }

  /**
   * R13: operations on this checkout whose outcome is not known are settled before anything else runs. A lost
   * update or cancel is resent under its own key (the merchant replays or runs it once), so it cannot land
   * after a newer one; a lost complete is read from the merchant. Returns a refusal when one stays open.
   */
  private async settleOpen(call: OperationCall, held: HeldLock, ownKey: string, edits: HeadEdit[], ran: { resent: boolean }): Promise<CheckoutResult | undefined> {
    for (const open of held.head.open) {
      if (open.key === ownKey) continue;
      const record = await this.ledger.read<CheckoutSession>(open.key);
      let settledRecord: LedgerRecord<CheckoutSession> | undefined = record && isSettled(record) ? record : undefined;
      if (record && !settledRecord) {
        if (open.operation === 'complete') {
          const outcome = await this.ledger.settleFromProvider<CheckoutSession>(open.key, () => reconcileAnchored(this.backend, 'complete', call.id));
          if (outcome.kind === 'settled') settledRecord = outcome.record;
          else if (call.operation !== 'cancel') {
            // A cancel may race a lost payment (the merchant lets only one of them happen); an update may not.
            return { ok: false, failure: failures.outcome_unknown(`${call.operation}_checkout`, { kind: 'earlier_complete' }) };
          }
        } else {
          ran.resent = true;
          const result = await this.ledger.run<CheckoutSession>(this.resendSpec(call, record, open.operation));
          if (result.outcome === 'succeeded' || result.outcome === 'failed') settledRecord = result.record;
          else {
            const running = { kind: 'earlier_call', operation: open.operation, detail: result.message } as const;
            return { ok: false, failure: failures.pending(`${call.operation}_checkout`, running) };
          }
        }
      }
      if (!record || settledRecord) edits.push(this.newsOf(open.key, settledRecord ? this.resultFrom(settledRecord) : undefined));
    }
    return undefined;
  }

  /** The spec that resends a recorded update or cancel exactly as it was first sent. */
  private resendSpec(call: OperationCall, record: LedgerRecord<CheckoutSession>, operation: AnchoredOperation): RunSpec<CheckoutSession> {
    const summary = record.summary as { reason?: string | null };
    const send = (ctx: CallContext) =>
      operation === 'update'
        ? this.backend.update(call.id, record.summary as unknown as UpdateInput, ctx)
        : this.backend.cancel(call.id, { reason: summary.reason ?? undefined }, ctx);
    return {
      key: record.key,
      fingerprint: record.fingerprint,
      attemptFingerprint: record.attempt_fingerprint,
      principal: record.principal,
      operation,
      backend: this.backend.name,
      anchor: call.id,
      anchorKey: (anchor) => this.heads.keyOf(anchor),
      summary: record.summary,
      execute: async (attempt) => toStep(await send(callContextOf(attempt)), operation),
      reconcile: () => reconcileAnchored(this.backend, operation, call.id),
    };
  }

  /**
   * R14, before complete: the state to judge is the merchant's live one whenever ours may be stale (an
   * earlier attempt, an ambiguous operation); the agent must have been shown that cart and total; the cap and
   * the person's confirmation use its total, which must be an integer. A checkout our ledger already holds
   * an attempt for, and that the merchant shows completed, needs no guard: nothing will be sent.
   */
  private async beforeComplete(
    call: OperationCall,
    held: HeldLock,
    record: LedgerRecord<CheckoutSession> | undefined,
    edits: HeadEdit[],
  ): Promise<{ kind: 'refused' | 'lost'; result: CheckoutResult } | { kind: 'ready'; live?: CheckoutSession }> {
    const refuse = (f: Failure, checkout?: CheckoutSession) => ({ kind: 'refused' as const, result: { ok: false as const, failure: f, ...(checkout ? { checkout } : {}) } });
    const status = record?.state.status;
    // An earlier attempt that may still be at the merchant: never ask again, never say "nothing was charged".
    const attemptOpen = status === 'pending' || status === 'unknown';
    let live: CheckoutSession | undefined;
    // The person approves at the provider (PayPal), where we cannot see it: a checkout waiting for it is read.
    const awaitingPayer = this.backend.approvalIsCredential === true && completionOf(held.head.checkout) === 'awaiting_payer';
    if (record !== undefined || !held.head.fresh || awaitingPayer || this.backend.updatesUnkeyed === true) {
      // The merchant may have been sent this token by an earlier attempt: what it answers is redacted (R10).
      const seen = redactDeep(await this.backend.get(call.id), call.secrets);
      if (seen.kind === 'unknown') {
        return refuse(failures.merchant_unavailable(seen.reason, { earlierAttempt: record !== undefined }));
      }
      if (seen.kind === 'failed') return refuse(describeFailure(seen.code, seen.message, 'complete_checkout'));
      live = seen.checkout;
      const read = live;
      const at = this.ledger.clock.now();
      // Not over newer news written meanwhile (an order event from another process): a completed checkout stays so.
      edits.push((h) =>
        h.updated_at > at || (h.checkout.status === 'completed' && read.status !== 'completed')
          ? h
          : { ...h, checkout: read, fresh: h.open.every((o) => o.operation === 'complete'), updated_at: at },
      );
      // Our ledger sent a complete before and the merchant shows the order: settle from it, send nothing.
      if (record !== undefined && completionOf(live) === 'completed') return { kind: 'ready', live };
      // R6: the person has not approved yet; sending would only be refused, and would spend one of the attempts.
      if (this.backend.approvalIsCredential === true && !attemptOpen && completionOf(live) === 'awaiting_payer') {
        return refuse(describeFailure('payer_action_required', payerActionRequired(live).message, 'complete_checkout'), live);
      }
    }
    const current = live ?? held.head.checkout;
    const seenByAgent = cartFingerprint(current);
    // Both must hold: the cart was shown (by now), and it was shown before this call was sent, not to a call that
    // ran while this one waited (two completes sent at once: the other's refusal is no approval for this one).
    if (seenByAgent !== held.head.shown || (call.shownAtArrival !== undefined && seenByAgent !== call.shownAtArrival)) {
      // Not recorded as shown: this answer may be lost (a dropped response, a killed server), and the retry of the
      // same complete would then charge a cart the agent never saw. get_checkout's answer is what records it.
      return refuse(failures.checkout_changed(current, attemptOpen), current);
    }
    const total = totalAmount(current);
    // R14: while an attempt is open the person is not asked again, unless the cart changed since they approved it:
    // a resend would charge the cart as it is now.
    const approvedOther = held.head.confirmed !== undefined && held.head.confirmed !== seenByAgent;
    const confirm = !attemptOpen || approvedOther ? call.hooks.confirm : undefined;
    const guarded = this.maxOrderAmount !== undefined || confirm !== undefined;
    if (guarded && (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0)) {
      return refuse(failures.checkout_total_invalid(attemptOpen));
    }
    if (this.maxOrderAmount !== undefined && (total as number) > this.maxOrderAmount) {
      return refuse(failures.spend_cap_exceeded(total as number, current.currency, this.maxOrderAmount, attemptOpen));
    }
    if (confirm) {
      const request: ConfirmRequest = { checkoutId: call.id, merchant: this.backend.merchant, total: total as number, currency: current.currency };
      const answer = await confirm(attemptOpen ? { ...request, earlierAttempt: true } : request);
      // Declined with an attempt still open, that attempt may yet land: never "nothing was charged" (R13).
      if (answer !== 'accepted') return refuse(failures.declined_by_user(attemptOpen));
      edits.push((h) => ({ ...h, confirmed: seenByAgent }));
    }
    // The person may have taken minutes: had our claim lapsed meanwhile (renewals failing while the store was down),
    // another call may have changed the checkout, and what was approved and capped is not what would be charged.
    if (!held.holds(this.ledger.clock.now())) return { kind: 'lost', result: { ok: false, failure: failures.pending('complete_checkout', { kind: 'claim_lost' }) } };
    return { kind: 'ready', live };
  }

  /**
   * R13: any refusal of a complete is read back: "already completed", "unexpected state" and their kin from
   * every provider mean the merchant may hold the charge, and the checkout says which.
   */
  private async readBack(call: OperationCall, step: StepResult<CheckoutSession>): Promise<StepResult<CheckoutSession>> {
    if (step.kind !== 'failed') return step;
    // Read right after the token was sent: the answer is redacted like the complete's own (R10).
    const seen = redactDeep(await this.backend.get(call.id), call.secrets);
    if (seen.kind !== 'succeeded') {
      // Its code only (as reconcile.ts words a refused read): a merchant's message is not ours to repeat unquoted.
      const why = seen.kind === 'unknown' ? seen.reason : safeCode(seen.code);
      return { kind: 'unknown', reason: `the merchant refused (${step.code}) and the checkout could not be read back (${why})`, providerRequestId: step.providerRequestId };
    }
    const checkout = seen.checkout;
    switch (completionOf(checkout)) {
      case 'completed':
        return { kind: 'succeeded', value: checkout, anchor: call.id, providerRequestId: step.providerRequestId };
      case 'awaiting_payer':
        return { ...payerActionRequired(checkout), providerRequestId: step.providerRequestId };
      case 'closed':
        // Canceled or expired: one code whatever the provider said, so the agent is told plainly (failure.ts).
        return { ...step, code: `checkout_already_${checkout.status}`, value: checkout };
      case 'in_progress':
        // R13: the merchant is still completing it (a payment may be under way): not a refusal, whatever it said.
        return { kind: 'unknown', reason: `the merchant answered ${step.code}, and the checkout is still completing there`, providerRequestId: step.providerRequestId };
      default:
        // "completed" without an order: the merchant may hold the charge (R13), so not a refusal.
        if (checkout.status === 'completed') {
          return { kind: 'unknown', reason: `the merchant answered ${step.code}, and the checkout reads completed without an order`, providerRequestId: step.providerRequestId };
        }
        return { ...step, value: checkout };
    }
  }

  /**
   * Issue 16: a cancel refused because the checkout is already canceled has the state it asked for, so it is
   * answered with that checkout, not an error (a cancel repeated with other arguments, such as no reason).
   */
  private async alreadyCanceled(call: OperationCall, step: StepResult<CheckoutSession>): Promise<StepResult<CheckoutSession>> {
    if (step.kind !== 'failed') return step;
    let checkout = step.value;
    if (checkout === undefined) {
      const seen = await this.backend.get(call.id);
      if (seen.kind !== 'succeeded') return step;
      checkout = seen.checkout;
    }
    if (checkout.status !== 'canceled') return step;
    return { kind: 'succeeded', value: checkout, anchor: call.id, providerRequestId: step.providerRequestId };
  }

  /** What one operation's outcome changes on the head. */
  private newsOf(key: string, result: RunResult<CheckoutSession> | undefined): HeadEdit {
    return (head) => {
      if (!result) return { ...head, open: head.open.filter((o) => o.key !== key) };
      const definite = result.outcome === 'succeeded' || result.outcome === 'failed';
      const open = definite ? head.open.filter((o) => o.key !== key) : head.open;
      // An answer this call got under the claim is newer than anything on the head, whatever the clocks of the
      // processes that wrote it say (R14); a replayed record is newer only by its time. A completed checkout stays so.
      const newer = !result.replayed || result.record.updated_at >= head.updated_at;
      const undoesCompletion = head.checkout.status === 'completed' && result.value?.status !== 'completed';
      const checkout = definite && result.value && newer && !undoesCompletion ? result.value : undefined;
      // A failure that carries no checkout says nothing about the cart: the merchant may have applied it (a 2xx
      // without a session, a tool that threw), so complete reads the live cart before paying (R14).
      const blind = result.outcome === 'failed' && result.value === undefined;
      return {
        ...head,
        open,
        ...(checkout ? { checkout, updated_at: Math.max(head.updated_at, result.record.updated_at) } : {}),
        // Stale once anything ended without a known outcome, until a definite answer or a read says otherwise.
        fresh: definite ? open.length === 0 && ((head.fresh && !blind) || checkout !== undefined) : false,
      };
    };
  }

  private resultFrom(record: LedgerRecord<CheckoutSession>): RunResult<CheckoutSession> {
    const state = record.state;
    if (state.status === 'succeeded') return { outcome: 'succeeded', value: state.result, replayed: true, record };
    if (state.status === 'failed') return { outcome: 'failed', value: state.result, code: state.code, message: state.message, replayed: true, record };
    return { outcome: state.status, replayed: true, record };
  }

  /** A successful answer: the newest state we hold, recorded as shown to the agent (R11, R14). */
  private async shown(head: AnchorHead, result: RunResult<CheckoutSession>): Promise<CheckoutResult> {
    const checkout = withOrder(newest(head, result), head);
    const fingerprint = cartFingerprint(checkout);
    if (fingerprint !== head.shown) await this.heads.updateUnlocked(head.anchor, (h) => ({ ...h, shown: fingerprint }));
    return { ok: true, checkout, idempotency: idempotencyOf(result) };
  }

  private success(head: AnchorHead, result: RunResult<CheckoutSession>, edits: HeadEdit[]): CheckoutResult {
    const checkout = withOrder(newest(head, result), head);
    edits.push((h) => ({ ...h, shown: cartFingerprint(checkout) }));
    return { ok: true, checkout, idempotency: idempotencyOf(result) };
  }

  private outcomeFailure(tool: string, result: RunResult<CheckoutSession>): CheckoutResult {
    const idempotency = idempotencyOf(result);
    switch (result.outcome) {
      case 'failed': {
        const refused = describeFailure(result.code ?? 'merchant_error', result.message ?? '', tool);
        // R13: an earlier payment attempt, superseded while its request may still be on its way, can still charge
        // (not a canceled or expired checkout: nothing can complete it any more).
        const closed = result.value?.status === 'canceled' || result.value?.status === 'expired';
        return { ok: false, failure: tool === 'complete_checkout' && !closed && supersededEarlier(result.record) ? withEarlierAttempt(refused) : refused, idempotency };
      }
      case 'pending':
        return { ok: false, failure: failures.pending(tool, { kind: 'same_call' }), idempotency };
      case 'unknown':
      case 'succeeded':
        return { ok: false, failure: failures.outcome_unknown(tool, { kind: 'unclear_answer', detail: result.message }), idempotency };
    }
  }

  /** Runs `work`, answering the store's faults and the ledger's refusals as the failures the agent is told. */
  private async withErrorsAsFailures(tool: string, work: () => Promise<CheckoutResult>, taskId?: string): Promise<CheckoutResult> {
    try {
      return await work();
    } catch (error) {
      // The store's fault class decides whether calling again can help (issue 16).
      if (error instanceof SettleFailedError) return { ok: false, failure: failures.store_unavailable(tool, error.fault, true) };
      if (error instanceof StoreUnavailableError) return { ok: false, failure: failures.store_unavailable(tool, error.fault) };
      if (error instanceof LedgerError && error.code === 'intent_conflict') return { ok: false, failure: failures.intent_conflict(taskId, error.details.anchor) };
      if (error instanceof LedgerError && error.code === 'attempts_exhausted') {
        const record = tool === 'complete_checkout' ? await this.ledger.read<CheckoutSession>(error.details.key).catch(() => undefined) : undefined;
        return { ok: false, failure: failures.attempts_exhausted(error.details.attempt, record !== undefined && supersededEarlier(record)) };
      }
      throw error;
    }
  }
}

/** Whether an attempt of this record was superseded: its answer was lost, and its request may still land (R13). */
function supersededEarlier(record: LedgerRecord<CheckoutSession>): boolean {
  return record.timeline.some((event) => event.code === SUPERSEDED);
}

/** What the backend is given for one attempt: the outbound key the ledger derived, and ids for the trail. */
function callContextOf(attempt: AttemptInfo): CallContext {
  return { idempotencyKey: attempt.outboundKey, attempt: attempt.number, requestId: attempt.requestId };
}

/**
 * The checkout to answer with: this call's own answer (got under the checkout's claim, it is the newest, R14); for
 * a replay, the head's state unless the replayed operation's news never reached the head (R11). No clocks compared.
 */
function newest(head: AnchorHead, result: RunResult<CheckoutSession>): CheckoutSession {
  const value = result.value!;
  if (!result.replayed || head.anchor !== value.id) return value;
  // A create's head is written from that create's answer and only newer news after it: never older, whatever
  // the clocks of the processes that wrote it said (R11).
  if (result.record.operation === 'create') return head.checkout;
  // An operation whose news the head took (it is no longer open there) is older than the head's state, whatever the
  // clocks of the processes that wrote either said (R11); one still open there never reached the head.
  return head.open.some((o) => o.key === result.record.key) ? value : head.checkout;
}

/** Backend answer → ledger step. Complete counts only when the session is completed with an order (R12). */
function toStep(result: BackendResult, operation: string): StepResult<CheckoutSession> {
  switch (result.kind) {
    case 'succeeded':
      if (operation === 'complete') {
        const checkout = result.checkout;
        switch (completionOf(checkout)) {
          case 'completed':
            break;
          case 'awaiting_payer':
            // The person must act (3-D Secure, PayPal approval): asking again cannot help until they have.
            return { ...payerActionRequired(checkout), providerRequestId: result.providerRequestId };
          default:
            return { kind: 'unknown', reason: `complete answered status ${checkout.status} without an order`, providerRequestId: result.providerRequestId };
        }
      }
      return { kind: 'succeeded', value: result.checkout, anchor: result.checkout.id, providerRequestId: result.providerRequestId };
    case 'failed':
      return { kind: 'failed', code: result.code, message: result.message, value: result.checkout, providerRequestId: result.providerRequestId };
    case 'unknown':
      return { kind: 'unknown', reason: result.reason, providerRequestId: result.providerRequestId };
  }
}

function idempotencyOf(result: RunResult<CheckoutSession>): IdempotencyInfo {
  return {
    key: result.record.key,
    outbound_key: result.record.outbound_key,
    outcome: result.outcome,
    replayed: result.replayed,
    attempt: result.record.attempt,
    first_seen_at: new Date(result.record.first_seen_at).toISOString(),
  };
}

/** The complete arguments as recorded: the payment token replaced by its fingerprint (R10). */
function redactPayment(input: CompleteInput): Json {
  const { credential } = input.payment_data.instrument;
  return {
    payment_data: {
      handler_id: input.payment_data.handler_id ?? null,
      instrument: {
        type: input.payment_data.instrument.type,
        credential: { type: credential.type, token_fingerprint: secretFingerprint(credential.token) },
      },
    },
    buyer: (input.buyer as unknown as Json) ?? null,
  };
}
