// How an ACP merchant's answer (status + body) becomes a BackendResult. Shared by the in-process sandbox
// backend and the HTTP acp backend, so both read the protocol the same way.
import { firstError, isCompleted, type CheckoutSession } from '../checkout/session.js';
import type { BackendResult } from './backend.js';

export type AcpOperation = 'create' | 'update' | 'complete' | 'cancel' | 'get';

/** One merchant answer, whatever carried it. */
export interface AcpAnswer {
  status: number;
  body: unknown;
  /** The merchant's Request-Id header, for the record. */
  requestId?: string;
}

/** ACP's flat protocol error. */
export interface AcpErrorBody {
  type?: string;
  code: string;
  message: string;
  param?: string;
}

export function isAcpError(body: unknown): body is AcpErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { code?: unknown }).code === 'string' &&
    typeof (body as { message?: unknown }).message === 'string' &&
    !('status' in body)
  );
}

/** Enough of a CheckoutSession to act on: an id and a status (messages[] defaults to none). */
export function asSession(body: unknown): CheckoutSession | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const candidate = body as Partial<CheckoutSession>;
  if (typeof candidate.id !== 'string' || typeof candidate.status !== 'string') return undefined;
  return Array.isArray(candidate.messages) ? (body as CheckoutSession) : ({ ...candidate, messages: [] } as CheckoutSession);
}

function describe(body: unknown, status: number): string {
  return isAcpError(body) ? `${body.code}: ${body.message}` : `status ${status}`;
}

/**
 * Merchant answer → BackendResult. 2xx sessions succeed (complete only when completed with an order, R12);
 * business errors in messages[] and stored 4xx are terminal; 5xx, 408, 429 and in-flight 409s are ambiguous.
 * `current` reads the session as it stands, to attach to a 405 whose body carries none.
 */
export async function answerToResult(
  operation: AcpOperation,
  answer: AcpAnswer,
  current: () => Promise<CheckoutSession | undefined>,
): Promise<BackendResult> {
  const { status, body } = answer;
  const providerRequestId = answer.requestId;
  if (status >= 500 || status === 408 || status === 429) {
    return { kind: 'unknown', reason: `merchant answered ${status} (${describe(body, status)})`, providerRequestId };
  }
  if (status === 409 && isAcpError(body) && body.code === 'idempotency_in_flight') {
    // The first request with this key is still running: its outcome is not known yet.
    return { kind: 'unknown', reason: 'idempotency_in_flight: the merchant is still processing this key', providerRequestId };
  }
  if (isAcpError(body) && body.code === 'idempotency_conflict') {
    // Branch on the code, not the status: 422 since 2026-04-17, 409 before (PROVIDERS.md).
    return {
      kind: 'failed',
      code: 'idempotency_conflict',
      message: `IDEMPOTENCY KEY COLLISION: the merchant already holds this Idempotency-Key for a different request body (${body.message}). This is a once-checkout bug; nothing was resent under a new key.`,
      providerRequestId,
    };
  }
  if (isAcpError(body) && body.code === 'idempotency_key_required') {
    return {
      kind: 'failed',
      code: 'internal_error',
      message: `The merchant received no Idempotency-Key (${body.message}). This is a once-checkout bug; nothing was charged by this request.`,
      providerRequestId,
    };
  }
  if (status >= 400 || isAcpError(body)) {
    const inBody = asSession(body);
    const code =
      status === 404 ? 'checkout_not_found' : isAcpError(body) ? body.code : inBody ? `checkout_already_${inBody.status}` : `http_${status}`;
    const message = isAcpError(body) ? body.message : `The merchant refused the request with status ${status}.`;
    const failed: BackendResult = { kind: 'failed', code, message, providerRequestId };
    if (status === 405) {
      // Already completed or canceled: the session (from the body or a fresh read) tells the ledger which.
      const checkout = inBody ?? (await current());
      if (checkout) failed.checkout = checkout;
    }
    return failed;
  }
  const checkout = asSession(body);
  if (!checkout) return { kind: 'unknown', reason: `merchant answered ${status} without a checkout session`, providerRequestId };
  if (operation !== 'complete' || isCompleted(checkout)) return { kind: 'succeeded', checkout, providerRequestId };
  const error = firstError(checkout);
  if (!error && checkout.status === 'complete_in_progress') {
    return { kind: 'unknown', reason: 'the merchant is still completing the checkout', providerRequestId };
  }
  return {
    kind: 'failed',
    code: error?.code ?? 'not_completed',
    message: error?.content ?? `The merchant did not complete the checkout (status ${checkout.status}).`,
    checkout,
    providerRequestId,
  };
}
