// The one small contract between the engine and a merchant or PSP. Backends never choose keys or retry on
// their own: the ledger hands them the outbound key, and they turn every answer into a BackendResult.
import type { CheckoutSession } from '../commerce/session.js';
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../commerce/inputs.js';
import type { KeyShape } from '../ledger/keys.js';
import type { BackendName } from './names.js';

export type { BackendName } from './names.js';

/** What the ledger gives every mutating call: the outbound key to send (R1) and a request id for the logs. */
export interface CallContext {
  idempotencyKey: string;
  attempt: number;
  requestId: string;
}

export type BackendResult =
  | { kind: 'succeeded'; checkout: CheckoutSession; providerRequestId?: string }
  /** Terminal: the provider decided (declined, out of stock, invalid). A new attempt really runs again (R6). */
  | { kind: 'failed'; code: string; message: string; checkout?: CheckoutSession; providerRequestId?: string }
  /** Ambiguous: the provider may or may not have acted (timeout, reset, 5xx). Reconciled before any rerun. */
  | { kind: 'unknown'; reason: string; providerRequestId?: string };

export interface Retention {
  /** How long the provider keeps an idempotency key (the floor it documents). */
  providerMs: number;
  /** Our default record TTL for this backend: below providerMs (R8). */
  defaultTtlMs: number;
  /** What the provider calls its key, for messages. */
  description: string;
}

export interface Backend {
  readonly name: BackendName;
  /** Identifies the merchant or account, so keys of two merchants never meet (R2). */
  readonly merchant: string;
  readonly retention: Retention;
  /** How the provider wants the ledger's keys written (UCP: a UUID); default the ledger's own `oc_…`. */
  readonly keyShape?: KeyShape;
  /**
   * Updates reach the provider without an idempotency key (PayPal PATCH): an update whose answer was lost may land
   * after its resend and after newer updates, so complete reads the live checkout before the cap and the person's
   * confirmation judge it (R14).
   */
  readonly updatesUnkeyed?: boolean;
  /**
   * The person's approval at the provider is the payment credential (PayPal): while the checkout waits for it, a
   * complete could only be refused, so it sends nothing and spends none of the attempts (R6).
   */
  readonly approvalIsCredential?: boolean;
  create(input: CreateInput, ctx: CallContext): Promise<BackendResult>;
  update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult>;
  complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult>;
  cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult>;
  /** Reads the anchor's current state; sends no key. `failed` with `checkout_not_found` when it does not exist. */
  get(id: string): Promise<BackendResult>;
  /** The protocol and version in use, for the start-up log and doctor (e.g. `ACP 2026-01-30 over MCP …`). */
  describeProtocol?(): Promise<string>;
  close?(): Promise<void>;
}

/** A refusal before anything is sent: the input cannot be said to the provider as given. */
export function invalid(message: string): { ok: false; result: BackendResult } {
  return { ok: false, result: { kind: 'failed', code: 'invalid_input', message } };
}

/** The items in the order a PSP backend lists them: by id. */
export function byId(items: readonly ItemRef[]): ItemRef[] {
  return [...items].sort((a, b) => a.id.localeCompare(b.id));
}

/** A backend built from its settings (nothing contacted yet), and the address that must answer before use. */
export interface PreparedBackend {
  backend: Backend;
  endpoint?: { variable: string; url: string };
}
