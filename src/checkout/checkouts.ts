// The checkout engine the tools call: derive the key from the intent, check the anchor belongs to the
// caller, run the operation once through the ledger against the backend, and describe the outcome.
import type {
  Backend,
  BackendResult,
  CallContext,
  CancelInput,
  CompleteInput,
  CreateInput,
  UpdateInput,
} from '../backends/backend.js';
import type { Json } from '../ledger/canonical.js';
import { LedgerError } from '../ledger/errors.js';
import { digest, secretFingerprint } from '../ledger/keys.js';
import type { AttemptInfo, Ledger, RunResult, StepResult } from '../ledger/ledger.js';
import { StoreUnavailableError } from '../store/store.js';
import { readHead, saveHead, type AnchorHead } from './anchors.js';
import { describeFailure, failure, notFound, type Failure } from './failure.js';
import { anchoredKey, canonicalCreate, canonicalUpdate, createKey, type Scope } from './intent.js';
import { reconcileAnchored, type AnchoredOperation } from './reconcile.js';
import { isCompleted, totalAmount, type CheckoutSession } from './session.js';

export interface IdempotencyInfo {
  key: string;
  outbound_key: string;
  outcome: 'succeeded' | 'failed' | 'pending' | 'unknown';
  replayed: boolean;
  attempt: number;
  first_seen_at: string;
}

export type CheckoutResult =
  | { ok: true; checkout: CheckoutSession; idempotency: IdempotencyInfo }
  | { ok: false; failure: Failure; idempotency?: IdempotencyInfo };

export interface CallHooks {
  /** Called while a concurrent duplicate is awaited (R7), for progress notifications. */
  onWait?(waitedMs: number): void;
  /**
   * Asks the person to approve a charge before complete sends anything (never on a replay of a completed
   * checkout). Anything but 'accepted' ends the call with nothing charged.
   */
  confirm?(request: ConfirmRequest): Promise<'accepted' | 'declined'>;
}

/** What the person is asked to approve: one checkout's total, at one merchant. */
export interface ConfirmRequest {
  checkoutId: string;
  merchant: string;
  /** Minor units, or undefined when the session shows no total. */
  total?: number;
  currency: string;
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

export class Checkouts {
  private readonly ledger: Ledger;
  private readonly backend: Backend;
  private readonly windowMs: number;
  private readonly maxOrderAmount?: number;

  constructor(options: CheckoutsOptions) {
    this.ledger = options.ledger;
    this.backend = options.backend;
    this.windowMs = options.windowMs;
    this.maxOrderAmount = options.maxOrderAmount;
  }

  private scope(principal: string): Scope {
    return { principal, backend: this.backend.name, merchant: this.backend.merchant };
  }

  async create(principal: string, args: CreateArgs, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const { task_id: taskId, ...rest } = args;
    const intent = canonicalCreate(rest);
    const { key, fingerprint } = createKey(this.scope(principal), intent, taskId);
    return this.guard(async () => {
      const result = await this.ledger.run<CheckoutSession>({
        key,
        fingerprint,
        principal,
        operation: 'create',
        backend: this.backend.name,
        summary: { ...(intent as unknown as { [k: string]: Json }), task_id: taskId ?? null },
        windowMs: this.windowMs,
        onWait: hooks.onWait,
        execute: async (attempt) => toStep(await this.backend.create(intent, context(attempt)), 'create'),
        // No anchor yet: a create whose answer was lost is resent with the same key (R6).
        reconcile: async () => ({ kind: 'resend' }),
      });
      if (result.outcome === 'succeeded' && result.value) {
        const checkout = await this.settleHead(principal, key, result);
        return this.success(checkout, result);
      }
      return this.outcomeFailure('create_checkout', result);
    }, taskId);
  }

  async update(principal: string, id: string, input: UpdateInput, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const body = canonicalUpdate(input);
    return this.anchored(principal, id, 'update', body as unknown as Json, hooks, (ctx) =>
      this.backend.update(id, body, ctx),
    );
  }

  async complete(principal: string, id: string, input: CompleteInput, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const summary = redactPayment(input);
    return this.anchored(principal, id, 'complete', summary, hooks, (ctx) => this.backend.complete(id, input, ctx));
  }

  async cancel(principal: string, id: string, input: CancelInput, hooks: CallHooks = {}): Promise<CheckoutResult> {
    const body = { reason: input.reason?.normalize('NFC').trim() ?? null };
    return this.anchored(principal, id, 'cancel', body, hooks, (ctx) => this.backend.cancel(id, input, ctx));
  }

  /** Reads the live state from the backend; sends no key and changes nothing at the merchant. */
  async get(principal: string, id: string): Promise<CheckoutResult> {
    return this.guard(async () => {
      const head = await this.ownedHead(principal, id);
      if (!head) return { ok: false, failure: notFound(id) };
      const seen = await this.backend.get(id);
      if (seen.kind === 'unknown') {
        return {
          ok: false,
          failure: failure('service_unavailable', 'merchant_unavailable', `The merchant did not answer (${seen.reason}); call get_checkout again in a few seconds.`, true),
        };
      }
      if (seen.kind === 'failed') return { ok: false, failure: describeFailure(seen.code, seen.message, 'get_checkout') };
      const now = this.ledger.clock.now();
      await saveHead(this.ledger.store, { ...head, checkout: seen.checkout, updated_at: now });
      const create = await this.ledger.read(head.create_key);
      return {
        ok: true,
        checkout: seen.checkout,
        idempotency: {
          key: head.create_key,
          outbound_key: create?.outbound_key ?? '',
          outcome: 'succeeded',
          replayed: false,
          attempt: create?.attempt ?? 1,
          first_seen_at: new Date(head.first_seen_at).toISOString(),
        },
      };
    });
  }

  private async anchored(
    principal: string,
    id: string,
    operation: AnchoredOperation,
    body: Json,
    hooks: CallHooks,
    send: (ctx: CallContext) => Promise<BackendResult>,
  ): Promise<CheckoutResult> {
    const tool = `${operation}_checkout`;
    return this.guard(async () => {
      const head = await this.ownedHead(principal, id);
      if (!head) return { ok: false, failure: notFound(id) };
      if (operation === 'complete' && this.maxOrderAmount !== undefined && head.checkout.status !== 'completed') {
        const total = totalAmount(head.checkout) ?? 0;
        if (total > this.maxOrderAmount) {
          return {
            ok: false,
            failure: failure(
              'invalid_request',
              'spend_cap_exceeded',
              `The total ${total} ${head.checkout.currency} is above this server's cap of ${this.maxOrderAmount}; nothing was charged. Ask the person to approve a smaller order.`,
            ),
          };
        }
      }
      if (operation === 'complete' && hooks.confirm && head.checkout.status !== 'completed') {
        const answer = await hooks.confirm({
          checkoutId: id,
          merchant: this.backend.merchant,
          total: totalAmount(head.checkout),
          currency: head.checkout.currency,
        });
        if (answer !== 'accepted') {
          return {
            ok: false,
            failure: failure(
              'payment_error',
              'declined_by_user',
              'The person did not approve this payment, so nothing was charged; do not call complete_checkout again unless they ask you to.',
            ),
          };
        }
      }
      const { key, fingerprint } = anchoredKey(this.scope(principal), id, operation, body);
      const result = await this.ledger.run<CheckoutSession>({
        key,
        fingerprint,
        principal,
        operation,
        backend: this.backend.name,
        anchor: id,
        summary: body,
        // Complete's key ignores payment data (R5), but a resend under an attempt's key must carry that attempt's.
        attemptFingerprint: digest(body),
        onWait: hooks.onWait,
        execute: async (attempt) => toStep(await send(context(attempt)), operation),
        reconcile: () => reconcileAnchored(this.backend, operation, id),
      });
      const checkout = result.value;
      // The head read above already says whether this outcome is news; a replay usually is not.
      if (checkout && result.record.updated_at > head.updated_at) {
        await saveHead(this.ledger.store, { ...head, checkout, updated_at: result.record.updated_at });
      }
      if (result.outcome === 'succeeded' && checkout) {
        // R11: a replayed update answers with the current state when a newer one changed it since.
        const fresher = result.replayed && head.updated_at > result.record.updated_at ? head.checkout : checkout;
        return this.success(operation === 'update' ? fresher : checkout, result);
      }
      return this.outcomeFailure(tool, result);
    });
  }

  private async ownedHead(principal: string, id: string): Promise<AnchorHead | undefined> {
    const head = await readHead(this.ledger.store, this.backend.name, id);
    // Another principal's checkout is indistinguishable from none at all.
    return head && head.principal === principal ? head : undefined;
  }

  private async settleHead(principal: string, createKey: string, result: RunResult<CheckoutSession>): Promise<CheckoutSession> {
    const checkout = result.value!;
    const head = await readHead(this.ledger.store, this.backend.name, checkout.id);
    if (head && result.replayed) return head.updated_at > result.record.updated_at ? head.checkout : checkout;
    await saveHead(this.ledger.store, {
      principal,
      backend: this.backend.name,
      merchant: this.backend.merchant,
      anchor: checkout.id,
      create_key: createKey,
      checkout,
      first_seen_at: result.record.first_seen_at,
      updated_at: result.record.updated_at,
    });
    return checkout;
  }

  private success(checkout: CheckoutSession, result: RunResult<CheckoutSession>): CheckoutResult {
    return { ok: true, checkout, idempotency: idempotencyOf(result) };
  }

  private outcomeFailure(tool: string, result: RunResult<CheckoutSession>): CheckoutResult {
    const idempotency = idempotencyOf(result);
    switch (result.outcome) {
      case 'failed':
        return { ok: false, failure: describeFailure(result.code ?? 'merchant_error', result.message ?? '', tool), idempotency };
      case 'pending':
        return {
          ok: false,
          failure: failure('service_unavailable', 'pending', `Another call for this ${tool.replace('_', ' ')} is still running; call ${tool} again with the same arguments in a few seconds to get its result.`, true),
          idempotency,
        };
      case 'unknown':
      case 'succeeded':
        return {
          ok: false,
          failure: failure(
            'service_unavailable',
            'outcome_unknown',
            `The merchant did not answer clearly (${result.message ?? 'no answer'}), so it may or may not have acted; call ${tool} again with the same arguments: it checks with the merchant first and never acts twice.`,
            true,
          ),
          idempotency,
        };
    }
  }

  private async guard(work: () => Promise<CheckoutResult>, taskId?: string): Promise<CheckoutResult> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        return {
          ok: false,
          failure: failure('service_unavailable', 'store_unavailable', 'The ledger store cannot be reached, so nothing was sent to the merchant; call again in a few seconds.', true),
        };
      }
      if (error instanceof LedgerError && error.code === 'intent_conflict') {
        const existing = error.details.anchor ? ` (checkout ${error.details.anchor})` : '';
        return {
          ok: false,
          failure: failure(
            'invalid_request',
            'intent_conflict',
            `task_id "${taskId ?? ''}" already belongs to a different cart${existing}; use update_checkout to change that checkout, or pass a new task_id to buy this cart separately.`,
          ),
        };
      }
      if (error instanceof LedgerError && error.code === 'attempts_exhausted') {
        return {
          ok: false,
          failure: failure(
            'invalid_request',
            'attempts_exhausted',
            `This checkout already failed ${error.details.attempt} times, the most allowed; stop retrying and ask the person how to proceed (for example, create a new checkout).`,
          ),
        };
      }
      throw error;
    }
  }
}

function context(attempt: AttemptInfo): CallContext {
  return { idempotencyKey: attempt.outboundKey, attempt: attempt.number, requestId: attempt.requestId };
}

/** Backend answer → ledger step. Complete counts only when the session is completed with an order (R12). */
function toStep(result: BackendResult, operation: string): StepResult<CheckoutSession> {
  switch (result.kind) {
    case 'succeeded':
      if (operation === 'complete' && !isCompleted(result.checkout)) {
        const { status, continue_url: url } = result.checkout;
        if (status === 'authentication_required' || status === 'pending_approval' || status === 'requires_escalation') {
          // The person must act (3-D Secure, PayPal approval): asking again cannot help until they have.
          const where = url ? ` at ${url}` : '';
          return { kind: 'failed', code: 'payer_action_required', message: `The payment needs the buyer to approve it${where} (status ${status}).`, value: result.checkout, providerRequestId: result.providerRequestId };
        }
        return { kind: 'unknown', reason: `complete answered status ${status} without an order`, providerRequestId: result.providerRequestId };
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
