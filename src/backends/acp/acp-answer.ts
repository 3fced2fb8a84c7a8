// How an ACP merchant's answer (status + body) becomes a BackendResult. Shared by the in-process sandbox
// backend and the HTTP acp backend, so both read the protocol the same way.
//
// The merchant is untrusted input: every session goes through OUR schema (commerce/merchant-session.ts) before
// anything acts on it, every merchant error code travels as `merchant:<code>` so it can never pass for one of
// ours, and merchant text is cleaned to one line, and quoted and attributed wherever it joins our sentences.
import { parseMerchantSession, looksLikeSession } from '../../commerce/merchant-session.js';
import { cleanText, merchantCode, quoteMerchant, safeCode } from '../../commerce/merchant-text.js';
import { firstError, isCompleted, type CheckoutSession } from '../../commerce/session.js';
import type { BackendResult } from '../backend.js';
import { reshapeLegacySession } from './legacy-session.js';

export type AcpOperation = 'create' | 'update' | 'complete' | 'cancel' | 'get';

/** A 2xx whose body is not a session we accept. */
export const MERCHANT_INVALID_ANSWER = 'merchant_invalid_answer';

/** One merchant answer, whatever carried it. */
export interface AcpAnswer {
  status: number;
  body: unknown;
  /** The merchant's Request-Id header, for the record. */
  requestId?: string;
  /** The raw body, when it is not an ACP error we can read: its words are quoted in our message. */
  text?: string;
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

/** The body as a session we accept (commerce/merchant-session.ts), or undefined. */
export function asSession(body: unknown): CheckoutSession | undefined {
  const parsed = parseMerchantSession(reshapeLegacySession(body));
  return parsed.ok ? parsed.session : undefined;
}

/** A merchant error body, for our reasons: its code reduced to code characters, its words quoted. */
function describe(body: unknown, status: number, text?: string): string {
  if (isAcpError(body)) return `status ${status}, its code "${safeCode(body.code)}": ${quoteMerchant(body.message)}`;
  return excerpt(status, body, text);
}

/** A body that is not ACP's Error still says something: a short excerpt of it, quoted as the merchant's. */
function excerpt(status: number, body: unknown, text?: string): string {
  const raw = text ?? (body === undefined ? '' : JSON.stringify(body));
  return raw.trim() === '' ? `status ${status}` : `status ${status} (${quoteMerchant(raw, EXCERPT_MAX)})`;
}

const EXCERPT_MAX = 200;

/**
 * A key reused with another body: `idempotency_conflict` (422 since 2026-04-17), or before that a 409 of type
 * `request_not_idempotent` (PROVIDERS.md: branch on the code and type, never on the status alone).
 */
function isConflict(body: AcpErrorBody): boolean {
  if (body.code === 'idempotency_in_flight') return false;
  return body.code === 'idempotency_conflict' || body.code === 'request_not_idempotent' || body.type === 'request_not_idempotent';
}

/** The merchant's message content as recorded with a `merchant:` code: one line, no controls; quoted when shown. */
function merchantWords(text: string): string {
  return cleanText(text, 500);
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
  const { status, body, text } = answer;
  const providerRequestId = answer.requestId === undefined ? undefined : cleanText(answer.requestId, 128);
  const unsettled = ambiguousOrKeyFault(status, body, text, providerRequestId);
  if (unsettled) return unsettled;
  if (status >= 400 || isAcpError(body)) return refusalToResult(status, body, text, providerRequestId, current);
  return sessionToResult(operation, status, body, providerRequestId);
}

/** An answer that settles nothing (5xx, 408, 429, a key still in flight) or says our key was wrong; else undefined. */
function ambiguousOrKeyFault(status: number, body: unknown, text: string | undefined, providerRequestId: string | undefined): BackendResult | undefined {
  if (status >= 500 || status === 408 || status === 429) {
    return { kind: 'unknown', reason: `merchant answered ${describe(body, status, text)}`, providerRequestId };
  }
  if (status === 409 && isAcpError(body) && body.code === 'idempotency_in_flight') {
    // The first request with this key is still running: its outcome is not known yet.
    return { kind: 'unknown', reason: 'idempotency_in_flight: the merchant is still processing this key', providerRequestId };
  }
  if (isAcpError(body) && isConflict(body)) {
    return {
      kind: 'failed',
      code: 'idempotency_conflict',
      message: `IDEMPOTENCY KEY COLLISION: the merchant already holds this Idempotency-Key for a different request body (${quoteMerchant(body.message)}). This is a once-checkout bug; nothing was resent under a new key.`,
      providerRequestId,
    };
  }
  if (isAcpError(body) && body.code === 'idempotency_key_required') {
    return {
      kind: 'failed',
      code: 'internal_error',
      message: `The merchant received no Idempotency-Key (${quoteMerchant(body.message)}). This is a once-checkout bug; nothing was charged by this request.`,
      providerRequestId,
    };
  }
  return undefined;
}

/** A 4xx or an ACP error: terminal, with the session when the checkout is already completed or canceled. */
async function refusalToResult(
  status: number,
  body: unknown,
  text: string | undefined,
  providerRequestId: string | undefined,
  current: () => Promise<CheckoutSession | undefined>,
): Promise<BackendResult> {
  // Already completed or canceled: the session (from the body or a fresh read) tells the ledger which, and
  // our code comes from its validated status, not from the merchant's words.
  const settled = status === 405 ? (asSession(body) ?? (await current())) : undefined;
  const { code, message } = refusalWords(status, body, text, settled);
  const failed: BackendResult = { kind: 'failed', code, message, providerRequestId };
  if (settled) failed.checkout = settled;
  return failed;
}

/** Our code and message for a refusal: ours where we know its meaning, else the merchant's, namespaced. */
function refusalWords(status: number, body: unknown, text: string | undefined, settled: CheckoutSession | undefined): { code: string; message: string } {
  if (status === 404) {
    return {
      code: 'checkout_not_found',
      message: isAcpError(body) ? `The merchant has no such checkout (${quoteMerchant(body.message)}).` : 'The merchant has no such checkout (status 404).',
    };
  }
  if (settled) {
    const said = isAcpError(body) ? ` (${quoteMerchant(body.message)})` : '';
    return {
      code: `checkout_already_${settled.status}`,
      message: `The merchant refused the request with status ${status}: the checkout is already ${settled.status}${said}.`,
    };
  }
  // ACP's own code for a decline (the MCP binding's example sends it as an error): ours, in its words.
  if (isAcpError(body) && body.code === 'payment_declined') return { code: 'payment_declined', message: quoteMerchant(body.message) };
  // The merchant's own code, namespaced: `invalid_input` or `rate_limited` from a merchant is not ours.
  if (isAcpError(body)) return { code: merchantCode(body.code), message: merchantWords(body.message) };
  return { code: `http_${status}`, message: `The merchant refused the request with ${excerpt(status, body, text)}.` };
}

/** A 2xx: the session through our schema, and for complete whether it completed. */
function sessionToResult(operation: AcpOperation, status: number, body: unknown, providerRequestId: string | undefined): BackendResult {
  const parsed = parseMerchantSession(reshapeLegacySession(body));
  if (!parsed.ok) {
    const what = looksLikeSession(body) ? `a checkout we do not accept (${parsed.problem})` : 'no checkout session';
    const reason = `${MERCHANT_INVALID_ANSWER}: the merchant answered ${status} with ${what}`;
    // complete: the merchant may have charged before writing a malformed answer, so the outcome is unknown and
    // is settled by reading the checkout, never by paying again. get: a read that shows nothing settles
    // nothing; answering `failed` would let reconciliation settle an ambiguous complete as failed and rerun it.
    if (operation === 'complete' || operation === 'get') return { kind: 'unknown', reason, providerRequestId };
    // create/update/cancel move no money. A resend under the same key replays the same stored answer, so
    // `unknown` would never settle; the merchant's error is terminal for this call and said so.
    return {
      kind: 'failed',
      code: MERCHANT_INVALID_ANSWER,
      message: `The merchant's answer is not valid: it answered ${status} with ${what}. Nothing was charged.`,
      providerRequestId,
    };
  }
  const checkout = parsed.session;
  if (operation !== 'complete' || isCompleted(checkout)) return { kind: 'succeeded', checkout, providerRequestId };
  return notCompletedResult(checkout, providerRequestId);
}

/** A complete answered with a session that is not completed: still in progress, declined, or refused. */
function notCompletedResult(checkout: CheckoutSession, providerRequestId: string | undefined): BackendResult {
  const error = firstError(checkout);
  if (!error && checkout.status === 'complete_in_progress') {
    return { kind: 'unknown', reason: 'the merchant is still completing the checkout', providerRequestId };
  }
  if (checkout.status === 'completed') {
    // R12: no order, no success; R13: the merchant says it completed, so never a refusal either.
    return { kind: 'unknown', reason: 'the merchant says the checkout is completed but sent no order', providerRequestId };
  }
  if (error?.code === 'payment_declined') {
    // ACP's own MessageError code for a decline: our mapping to our payment_declined; its words stay the merchant's.
    return { kind: 'failed', code: 'payment_declined', message: quoteMerchant(error.content), checkout, providerRequestId };
  }
  if (error) return { kind: 'failed', code: merchantCode(error.code), message: merchantWords(error.content), checkout, providerRequestId };
  return {
    kind: 'failed',
    code: 'not_completed',
    message: `The merchant did not complete the checkout (status ${checkout.status}).`,
    checkout,
    providerRequestId,
  };
}
