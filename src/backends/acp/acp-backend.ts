// ONCE_BACKEND=acp: any ACP 2026-04-17 merchant over HTTP. Sends the ledger's key on every POST, waits out a
// merchant's 409 idempotency_in_flight a bounded while (same key), and reads every answer through acp-answer.
import { redactDeep } from '../../commerce/redact.js';
import type { CheckoutSession } from '../../commerce/session.js';
import { answerToResult, asSession, type AcpOperation } from '../acp-answer.js';
import { HOUR, type Backend, type BackendResult, type CallContext, type Retention } from '../backend.js';
import { type CancelInput, type CompleteInput, type CreateInput, type UpdateInput } from '../../commerce/inputs.js';
import { merchantIdentity, readAcpConfig, type AcpConfig } from './acp-config.js';
import { AcpHttp, type AcpReply } from './acp-http.js';
import { cancelBody, completeBody, createBody, updateBody, type Built } from './acp-requests.js';

export interface InFlightPolicy {
  /** How many times a 409 idempotency_in_flight is waited out and resent with the same key. */
  maxResends: number;
  /** The most all those waits may add up to. */
  maxTotalWaitMs: number;
}

export interface AcpBackendOptions extends AcpConfig {
  inFlight?: InFlightPolicy;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_IN_FLIGHT: InFlightPolicy = { maxResends: 3, maxTotalWaitMs: 10_000 };
// Without a usable Retry-After we wait this long before resending.
const DEFAULT_RETRY_AFTER_MS = 1_000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class AcpBackend implements Backend {
  readonly name = 'acp' as const;
  readonly merchant: string;
  readonly retention: Retention = {
    providerMs: 24 * HOUR,
    defaultTtlMs: 23 * HOUR,
    description: 'ACP merchants keep Idempotency-Key answers for at least 24 h',
  };
  private readonly http: AcpHttp;
  /** What never leaves this backend in a result: the bearer token. */
  private readonly secrets: readonly string[];
  private readonly inFlight: InFlightPolicy;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: AcpBackendOptions) {
    this.merchant = `acp:${merchantIdentity(options.baseUrl)}`;
    this.http = new AcpHttp(options);
    this.secrets = [options.apiKey];
    this.inFlight = options.inFlight ?? DEFAULT_IN_FLIGHT;
    this.sleep = options.sleep ?? realSleep;
  }

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    return this.post('create', '/checkout_sessions', createBody(input), ctx);
  }

  update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    return this.post('update', sessionPath(id), updateBody(input), ctx);
  }

  complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    return this.post('complete', `${sessionPath(id)}/complete`, completeBody(input), ctx);
  }

  cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    return this.post('cancel', `${sessionPath(id)}/cancel`, cancelBody(input), ctx);
  }

  async get(id: string): Promise<BackendResult> {
    const reply = await this.http.send({ method: 'GET', path: sessionPath(id) });
    return this.toResult('get', reply, id);
  }

  private async post(operation: AcpOperation, path: string, built: Built, ctx: CallContext): Promise<BackendResult> {
    // Nothing was sent: the input cannot be said in ACP, and saying it differently would change the purchase.
    if (!built.ok) return { kind: 'failed', code: 'invalid_input', message: built.message };
    const request = { method: 'POST' as const, path, body: built.body, idempotencyKey: ctx.idempotencyKey, requestId: ctx.requestId };
    let reply = await this.http.send(request);
    let waitedMs = 0;
    for (let resend = 0; resend < this.inFlight.maxResends && isInFlight(reply); resend += 1) {
      const waitMs = retryAfterMs(reply.kind === 'reply' ? reply.retryAfter : undefined);
      if (waitedMs + waitMs > this.inFlight.maxTotalWaitMs) break;
      await this.sleep(waitMs);
      waitedMs += waitMs;
      // The first request with this key is still running at the merchant: ask again with the same key (R6).
      reply = await this.http.send(request);
    }
    return this.toResult(operation, reply, sessionIdOf(path));
  }

  private async toResult(operation: AcpOperation, reply: AcpReply, id: string | undefined): Promise<BackendResult> {
    if (reply.kind === 'no_reply') return redactDeep({ kind: 'unknown', reason: reply.reason }, this.secrets);
    // Redacted before it is read too: a code is lower-cased on the way, and a lower-cased key is still the key.
    const body = redactDeep(reply.body, this.secrets);
    const result = await answerToResult(operation, { status: reply.status, body, requestId: reply.requestId }, () => this.current(id));
    // A merchant that echoes our bearer token (in a message, a reason, a session field) does not get it out (R10).
    return redactDeep(result, this.secrets);
  }

  /** The session as it stands now (for a 405 without one in its body). */
  private async current(id: string | undefined): Promise<CheckoutSession | undefined> {
    if (id === undefined) return undefined;
    const reply = await this.http.send({ method: 'GET', path: sessionPath(id) });
    return reply.kind === 'reply' && reply.status === 200 ? asSession(redactDeep(reply.body, this.secrets)) : undefined;
  }
}

function sessionPath(id: string): string {
  return `/checkout_sessions/${encodeURIComponent(id)}`;
}

function sessionIdOf(path: string): string | undefined {
  const id = path.split('/')[2];
  return id === undefined ? undefined : decodeURIComponent(id);
}

function isInFlight(reply: AcpReply): boolean {
  if (reply.kind !== 'reply' || reply.status !== 409) return false;
  const body = reply.body as { code?: unknown } | undefined;
  return body?.code === 'idempotency_in_flight';
}

/** Retry-After in seconds or as an HTTP date; anything else falls back to a default. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number {
  if (header === undefined || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - now);
}

export function createAcpBackend(env: Readonly<Record<string, string | undefined>>, options: Partial<AcpBackendOptions> = {}): AcpBackend {
  return new AcpBackend({ ...readAcpConfig(env), ...options });
}
