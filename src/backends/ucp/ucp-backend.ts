// ONCE_BACKEND=ucp: any UCP 2026-04-08 business, over its MCP binding or its REST binding. Every state-changing
// call carries the ledger's key as UCP's idempotency key (a name-based UUID, keyShape 'uuid'); the backend never
// chooses a key or resends on its own. Two things it does that UCP asks of a platform:
// - a complete answered complete_in_progress is read back (GET, with backoff) until it settles, the wait is
//   over or the checkout's expires_at passes; it is never sent again for that reason;
// - update is UCP's full replacement, built from the checkout as the business holds it. What was sent under an
//   attempt's key is kept in the store until the attempt has a definite answer, so a resend of that attempt
//   carries exactly the first body (UCP's rule for a lost answer: the identical request under the same key).
import { randomUUID } from 'node:crypto';
import { redactDeep } from '../../commerce/redact.js';
import { digest } from '../../ledger/keys.js';
import { openMemoryStore } from '../../store/memory.js';
import type { Store } from '../../store/store.js';
import { HOUR } from '../../config/duration.js';
import { systemClock } from '../../ledger/clock.js';
import type { Backend, BackendResult, CallContext, Retention } from '../backend.js';
import { type CancelInput, type CompleteInput, type CreateInput, type UpdateInput } from '../../commerce/inputs.js';
import { completeResult, errorsOf, ucpAnswerToResult } from './ucp-answer.js';
import { parseUcpCheckout } from './ucp-checkout.js';
import { businessIdentity, type UcpConfig } from './ucp-config.js';
import type { UcpEndpoint } from './ucp-discovery.js';
import { UcpMcpClient } from './ucp-mcp-client.js';
import { createBody, completeBody, updateBody, type Built } from './ucp-requests.js';
import { UcpRestClient } from './ucp-rest-client.js';
import type { UcpCall, UcpOperation, UcpReply, UcpTransport } from './ucp-wire.js';

export interface UcpBackendOptions extends UcpConfig {
  endpoint: UcpEndpoint;
  /** Where the bodies of attempts without a definite answer are kept (the ledger's store). */
  store?: Store;
  /** Tests: another carrier than the one the endpoint names. */
  transport?: UcpTransport;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** First read-back of a complete_in_progress after this long; doubling up to the cap. */
const FIRST_READ_BACK_MS = 250;
const MAX_READ_BACK_MS = 2_000;
const SENT_PREFIX = 'ucp:sent:';

type Json = Record<string, unknown>;

export class UcpBackend implements Backend {
  readonly name = 'ucp' as const;
  readonly merchant: string;
  readonly keyShape = 'uuid' as const;
  readonly retention: Retention = {
    providerMs: 24 * HOUR,
    defaultTtlMs: 23 * HOUR,
    description: 'UCP businesses keep idempotency keys for at least 24 h (signatures.md)',
  };
  readonly endpoint: UcpEndpoint;
  private readonly transport: UcpTransport;
  private readonly secrets: readonly string[];
  private readonly store: Store;
  private readonly completeWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: UcpBackendOptions) {
    this.endpoint = options.endpoint;
    this.merchant = `ucp:${businessIdentity(options.endpoint.url)}`;
    const carrier = { endpoint: options.endpoint.url, agentProfile: options.agentProfile, apiKey: options.apiKey, timeoutMs: options.timeoutMs };
    this.transport = options.transport ?? (options.endpoint.transport === 'mcp' ? new UcpMcpClient(carrier) : new UcpRestClient(carrier));
    this.secrets = options.apiKey ? [options.apiKey] : [];
    this.store = options.store ?? openMemoryStore();
    this.completeWaitMs = options.completeWaitMs;
    this.sleep = options.sleep ?? systemClock.sleep;
    this.now = options.now ?? Date.now;
  }

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    return this.mutate('create', undefined, createBody(input), ctx);
  }

  async update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    const key = this.sentKey(ctx.idempotencyKey);
    const kept = await this.store.get<{ checkout: Json }>(key);
    let built: Built;
    if (kept) {
      // A resend of this attempt: exactly what was sent first.
      built = { ok: true, checkout: kept.value.checkout };
    } else {
      const current = await this.transport.send({ operation: 'get', id, requestId: randomUUID() });
      if (current.kind === 'no_reply' || current.status !== 200 || !parseUcpCheckout(current.body).ok) {
        const why = current.kind === 'no_reply' ? current.reason : `status ${current.status}`;
        // Nothing was sent: resending under the same key later is safe, and is what happens. The reason may quote
        // the business (an MCP error's text): redacted like every other answer (R10).
        return redactDeep({ kind: 'unknown', reason: `the checkout could not be read to build UCP's full update (${why}); nothing was sent` }, this.secrets);
      }
      built = updateBody(current.body, input);
      if (built.ok) await this.store.put(key, { checkout: built.checkout, at: this.now() });
    }
    // The body stays kept after a definite answer too: the ledger may fail to record that answer (a crash, a store
    // fault after the send) and resend this attempt, which must carry this body (R6). Kept bodies older than the
    // business's key retention are pruned: past it a resend is a new request at the business anyway.
    await this.pruneSent();
    return this.mutate('update', id, built, ctx);
  }

  async complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    const built = completeBody(input);
    const secrets = [input.payment_data.instrument.credential.token];
    if (!built.ok) return { kind: 'failed', code: 'invalid_input', message: built.message };
    const reply = await this.send({ operation: 'complete', id, checkout: built.checkout, idempotencyKey: ctx.idempotencyKey, requestId: ctx.requestId });
    const result = this.toResult('complete', reply, secrets);
    if (result.kind !== 'unknown' || reply.kind !== 'reply' || reply.status !== 200) return result;
    const body = reply.body as Json;
    if (body.status !== 'complete_in_progress') return result;
    return this.readBack(id, body, result, secrets);
  }

  cancel(id: string, _input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    // UCP's cancel carries no reason; it stays in our ledger only.
    return this.mutate('cancel', id, { ok: true, checkout: {} }, ctx);
  }

  async get(id: string): Promise<BackendResult> {
    return this.toResult('get', await this.send({ operation: 'get', id, requestId: randomUUID() }), []);
  }

  async close(): Promise<void> {
    await this.transport.close?.();
  }

  private async mutate(operation: UcpOperation, id: string | undefined, built: Built, ctx: CallContext): Promise<BackendResult> {
    // Nothing was sent: the input cannot be said in UCP, and saying it differently would change the purchase.
    if (!built.ok) return { kind: 'failed', code: 'invalid_input', message: built.message };
    // MCP's cancel_checkout has no checkout argument; REST's cancel has an empty body.
    const checkout = operation === 'cancel' ? undefined : built.checkout;
    const call: UcpCall = { operation, ...(id === undefined ? {} : { id }), ...(checkout ? { checkout } : {}), idempotencyKey: ctx.idempotencyKey, requestId: ctx.requestId };
    return this.toResult(operation, await this.send(call), []);
  }

  private send(call: UcpCall): Promise<UcpReply> {
    return this.transport.send(call);
  }

  private toResult(operation: UcpOperation, reply: UcpReply, secrets: string[]): BackendResult {
    // Redacted before it is read: a business that echoes our bearer token or the payment token does not get it out (R10).
    const clean = redactDeep(reply, [...this.secrets, ...secrets]);
    return redactDeep(ucpAnswerToResult(operation, clean), [...this.secrets, ...secrets]);
  }

  /**
   * complete_in_progress: not a failure and not a reason to resend. Reads the checkout back with backoff until
   * it settles, the wait is over or it expires; still in progress → `unknown`, and the next call reads again.
   */
  private async readBack(id: string, first: Json, pending: BackendResult, secrets: string[]): Promise<BackendResult> {
    const expiresAt = typeof first.expires_at === 'string' ? Date.parse(first.expires_at) : Number.NaN;
    const deadline = Math.min(this.now() + this.completeWaitMs, Number.isNaN(expiresAt) ? Number.POSITIVE_INFINITY : expiresAt);
    let wait = FIRST_READ_BACK_MS;
    let last = pending;
    while (this.now() < deadline) {
      await this.sleep(Math.min(wait, Math.max(0, deadline - this.now())));
      wait = Math.min(wait * 2, MAX_READ_BACK_MS);
      const reply = redactDeep(await this.send({ operation: 'get', id, requestId: randomUUID() }), [...this.secrets, ...secrets]);
      if (reply.kind !== 'reply' || reply.status !== 200) continue;
      const parsed = parseUcpCheckout(reply.body);
      if (!parsed.ok) continue;
      const body = reply.body as Json;
      last = redactDeep(completeResult(parsed.session, errorsOf(body.messages), parsed.session.continue_url), [...this.secrets, ...secrets]);
      if (parsed.session.status !== 'complete_in_progress') return last;
    }
    return last;
  }

  private prunedAt = 0;

  /** Drops kept update bodies older than the business's key retention, at most once an hour per process. */
  private async pruneSent(): Promise<void> {
    const now = this.now();
    if (now - this.prunedAt < HOUR) return;
    this.prunedAt = now;
    try {
      for await (const [key, kept] of this.store.entries<{ at?: number }>(SENT_PREFIX)) {
        if (typeof kept.at === 'number' && now - kept.at > this.retention.providerMs) await this.store.delete(key).catch(() => false);
      }
    } catch {
      // Pruning is housekeeping: a store fault here changes nothing that is sent.
    }
  }

  private sentKey(idempotencyKey: string): string {
    return `${SENT_PREFIX}${digest([this.merchant, idempotencyKey])}`;
  }
}
