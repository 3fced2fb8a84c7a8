// The sandbox as a Backend: calls the in-process SandboxMerchant through the same `handle` the HTTP server
// uses, sends the ledger's key, and injects faults between "the merchant acted" and "the client heard".
import type { CheckoutSession } from '../../commerce/session.js';
import type { Store } from '../../store/store.js';
import { HOUR, type Backend, type BackendResult, type CallContext, type Retention } from '../backend.js';
import { type CancelInput, type CompleteInput, type CreateInput, type UpdateInput } from '../../commerce/inputs.js';
import { answerToResult } from '../acp-answer.js';
import { NO_FAULTS, parseFaults, pickFault, type FaultPlan, type Operation, type Random } from './faults.js';
import { SandboxMerchant, type MerchantResponse, type SandboxMerchantOptions } from './merchant.js';

/** The caller identity the in-process backend presents (keys are scoped per identity). */
export const SANDBOX_IDENTITY = 'once-checkout';

export interface SandboxBackendOptions {
  store: Store;
  /** A parsed plan or the ONCE_SANDBOX_FAULTS text. */
  faults?: FaultPlan | string;
  rng?: Random;
  now?: () => number;
  /** How the `timeout` fault waits before giving up; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  timeoutDelayMs?: number;
  /** What `crash_after_commit` does; the default kills this process the hard way. */
  crash?: () => void;
  merchant?: Omit<SandboxMerchantOptions, 'store' | 'now'>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const hardCrash = () => {
  process.kill(process.pid, 'SIGKILL');
};

export class SandboxBackend implements Backend {
  readonly name = 'sandbox' as const;
  readonly merchant = 'sandbox';
  readonly retention: Retention = {
    providerMs: 24 * HOUR,
    defaultTtlMs: 23 * HOUR,
    description: 'the sandbox merchant keeps Idempotency-Key answers for 24 h (as ACP merchants must)',
  };
  readonly sandbox: SandboxMerchant;
  private readonly faults: FaultPlan;
  private readonly rng: Random;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutDelayMs: number;
  private readonly crash: () => void;

  constructor(options: SandboxBackendOptions) {
    this.sandbox = new SandboxMerchant({ ...options.merchant, store: options.store, now: options.now });
    this.faults = typeof options.faults === 'string' ? parseFaults(options.faults) : (options.faults ?? NO_FAULTS);
    this.rng = options.rng ?? Math.random;
    this.sleep = options.sleep ?? realSleep;
    this.timeoutDelayMs = options.timeoutDelayMs ?? 20;
    this.crash = options.crash ?? hardCrash;
  }

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    const body: Record<string, unknown> = {
      line_items: input.items.map((item) => ({ id: item.id, quantity: item.quantity })),
      currency: input.currency,
      capabilities: {},
    };
    if (input.buyer !== undefined) body.buyer = input.buyer;
    if (input.fulfillment_details !== undefined) body.fulfillment_details = input.fulfillment_details;
    return this.call('create', '/checkout_sessions', body, ctx);
  }

  update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    const body: Record<string, unknown> = {};
    if (input.items !== undefined) body.line_items = input.items.map((i) => ({ id: i.id, quantity: i.quantity }));
    if (input.buyer !== undefined) body.buyer = input.buyer;
    if (input.fulfillment_details !== undefined) body.fulfillment_details = input.fulfillment_details;
    if (input.selected_fulfillment_options !== undefined) {
      body.selected_fulfillment_options = input.selected_fulfillment_options;
    }
    if (input.discounts !== undefined) body.discounts = input.discounts;
    return this.call('update', `/checkout_sessions/${encodeURIComponent(id)}`, body, ctx);
  }

  complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    const body: Record<string, unknown> = { payment_data: input.payment_data };
    if (input.buyer !== undefined) body.buyer = input.buyer;
    return this.call('complete', `/checkout_sessions/${encodeURIComponent(id)}/complete`, body, ctx);
  }

  cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    const body = input.reason === undefined ? {} : { intent_trace: { reason_code: 'other', trace_summary: input.reason } };
    return this.call('cancel', `/checkout_sessions/${encodeURIComponent(id)}/cancel`, body, ctx);
  }

  get(id: string): Promise<BackendResult> {
    return this.call('get', `/checkout_sessions/${encodeURIComponent(id)}`, undefined, undefined);
  }

  private async call(
    operation: Operation,
    path: string,
    body: unknown,
    ctx: CallContext | undefined,
  ): Promise<BackendResult> {
    const fault = pickFault(this.faults, operation, this.rng);
    if (fault === 'error_5xx') return { kind: 'unknown', reason: 'injected fault: merchant answered 503' };
    const send = () =>
      this.sandbox.handle({
        method: operation === 'get' ? 'GET' : 'POST',
        path,
        identity: SANDBOX_IDENTITY,
        idempotencyKey: ctx?.idempotencyKey,
        body,
        requestId: ctx?.requestId,
      });
    if (fault === 'timeout') {
      // Half the time the request reached the merchant before the client gave up.
      if (this.rng() < 0.5) await send();
      await this.sleep(this.timeoutDelayMs);
      return { kind: 'unknown', reason: 'injected fault: request timed out' };
    }
    const response = await send();
    if (fault === 'lose_response') return { kind: 'unknown', reason: 'response lost' };
    if (fault === 'crash_after_commit' && operation !== 'get') this.crash();
    return toResult(operation, response, () => this.currentSession(path));
  }

  /** The session as it stands now, to attach to a 405 so the ledger sees the order or the cancellation. */
  private async currentSession(path: string): Promise<CheckoutSession | undefined> {
    const id = path.split('/')[2];
    const response = await this.sandbox.handle({ method: 'GET', path: `/checkout_sessions/${id}`, identity: SANDBOX_IDENTITY });
    return response.status === 200 ? (response.body as CheckoutSession) : undefined;
  }
}

/** Merchant answer → BackendResult, read the same way as the HTTP acp backend reads it (acp-answer.ts). */
export function toResult(
  operation: Operation,
  response: MerchantResponse,
  current: () => Promise<CheckoutSession | undefined>,
): Promise<BackendResult> {
  return answerToResult(operation, { status: response.status, body: response.body, requestId: response.headers['Request-Id'] }, current);
}

export function createSandboxBackend(options: SandboxBackendOptions): SandboxBackend {
  return new SandboxBackend(options);
}
