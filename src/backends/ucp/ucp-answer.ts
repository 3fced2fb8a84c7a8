// How a UCP business's answer becomes a BackendResult. The business is untrusted input: its checkout goes
// through OUR schema (ucp-checkout.ts → checkout/merchant-session.ts), its words are quoted and attributed, and
// a code of its own never passes for one of ours. UCP message severities (checkout.md, Error Handling) become
// the agent's next step: recoverable → change the checkout through update_checkout; requires_buyer_input or
// requires_buyer_review → the person acts at continue_url; unrecoverable → start a new checkout.
import { isAcceptedUrl } from '../../commerce/merchant-session.js';
import { cleanText, merchantCode, quoteId, quoteMerchant, safeCode } from '../../commerce/merchant-text.js';
import type { CheckoutSession } from '../../commerce/session.js';
import type { BackendResult } from '../backend.js';
import { MERCHANT_INVALID_ANSWER } from '../acp/acp-answer.js';
import { isErrorResponse, looksLikeCheckout, parseUcpCheckout } from './ucp-checkout.js';
import type { UcpOperation, UcpReply } from './ucp-wire.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type Severity = 'recoverable' | 'requires_buyer_input' | 'requires_buyer_review' | 'unrecoverable';

/** The order the spec's error processing takes them in: unrecoverable, recoverable, then the hand-offs. */
const PRIORITY: Severity[] = ['unrecoverable', 'recoverable', 'requires_buyer_input', 'requires_buyer_review'];

interface UcpError {
  code: string;
  content: string;
  severity: Severity;
  path?: string;
}

/** The business's error messages, most pressing first (unknown severities count as unrecoverable). */
export function errorsOf(messages: unknown): UcpError[] {
  const errors = (Array.isArray(messages) ? messages : []).filter(isObject).filter((m) => m.type === 'error');
  const read = errors.map((m) => ({
    code: typeof m.code === 'string' ? m.code : 'unspecified',
    content: typeof m.content === 'string' ? m.content : '',
    severity: (PRIORITY as readonly unknown[]).includes(m.severity) ? (m.severity as Severity) : 'unrecoverable',
    ...(typeof m.path === 'string' ? { path: m.path } : {}),
  }));
  return read.sort((a, b) => PRIORITY.indexOf(a.severity) - PRIORITY.indexOf(b.severity));
}

/** Our code for a UCP error: a decline is ours, the hand-offs are payer_action_required, the rest by severity. */
function codeOf(error: UcpError): string {
  if (error.code === 'payment_failed') return 'payment_declined';
  if (error.code === 'not_found') return 'checkout_not_found';
  switch (error.severity) {
    case 'recoverable':
      return 'checkout_needs_changes';
    case 'requires_buyer_input':
    case 'requires_buyer_review':
      return 'payer_action_required';
    case 'unrecoverable':
      return 'checkout_unrecoverable';
  }
}

/** The agent's next step for one UCP error, in our words, with the business's quoted and attributed. */
export function nextStepWords(error: UcpError, tool: string, continueUrl?: string): string {
  const where = error.path ? ` at ${quoteId(error.path, 120)}` : '';
  const said = `${quoteMerchant(error.content)} (its code "${safeCode(error.code)}"${where})`;
  const handOff = continueUrl ? ` at ${quoteId(continueUrl, 500)}` : ' (its continue_url)';
  if (error.code === 'payment_failed') return `${said}.`;
  switch (error.severity) {
    case 'recoverable':
      return tool === 'create_checkout'
        ? `The business cannot take this cart as it is: ${said}. Change the items or details and call create_checkout again.`
        : `The business needs a change first: ${said}. Fix it with update_checkout, then call ${tool} again.`;
    case 'requires_buyer_input':
      return `The business needs information from the person that it cannot take through the API: ${said}. Send the person to the business${handOff} to give it.`;
    case 'requires_buyer_review':
      return `The person must review and authorize this order with the business: ${said}. Send them to the business${handOff}.`;
    case 'unrecoverable':
      return `The business cannot go on with this checkout: ${said}. Start a new checkout with other items or details${continueUrl ? `, or send the person to the business${handOff}` : ''}.`;
  }
}

function failedBy(error: UcpError, tool: string, continueUrl: string | undefined, extra: Partial<Extract<BackendResult, { kind: 'failed' }>>): BackendResult {
  return { kind: 'failed', code: codeOf(error), message: nextStepWords(error, tool, continueUrl), ...extra };
}

function protocolWords(body: unknown, status: number): string {
  if (!isObject(body)) return `status ${status}`;
  const code = typeof body.code === 'string' ? `, its code "${safeCode(body.code)}"` : '';
  return `status ${status}${code}: ${quoteMerchant(typeof body.content === 'string' ? body.content : '')}`;
}

/** A protocol error (the request was refused before it was acted on, or the outcome is not known). */
function protocolError(operation: UcpOperation, status: number, body: unknown, providerRequestId?: string): BackendResult {
  const code = isObject(body) && typeof body.code === 'string' ? body.code : `http_${status}`;
  if (status >= 500 || status === 408 || status === 429) {
    return { kind: 'unknown', reason: `the business answered ${protocolWords(body, status)}`, providerRequestId };
  }
  if (status === 409) {
    return {
      kind: 'failed',
      code: 'idempotency_conflict',
      message: `IDEMPOTENCY KEY COLLISION: the business already holds this idempotency key for a different request (${protocolWords(body, status)}). This is a once-checkout bug; nothing was resent under a new key.`,
      providerRequestId,
    };
  }
  if (code === 'idempotency_key_required' || code === 'invalid_idempotency_key') {
    return { kind: 'failed', code: 'internal_error', message: `The business refused our idempotency key (${protocolWords(body, status)}). This is a once-checkout bug; nothing was charged by this request.`, providerRequestId };
  }
  if (status === 404 || code === 'not_found') {
    return { kind: 'failed', code: 'checkout_not_found', message: `The business has no such checkout (${protocolWords(body, status)}).`, providerRequestId };
  }
  const fix = status === 401 || status === 403 ? ' Check UCP_API_KEY.' : code.includes('profile') ? ' Check UCP_AGENT_PROFILE.' : '';
  return { kind: 'failed', code: merchantCode(code), message: `${cleanText(isObject(body) && typeof body.content === 'string' ? body.content : `status ${status}`, 500)}${fix}`, providerRequestId };
}

const TOOL: Record<UcpOperation, string> = {
  create: 'create_checkout',
  get: 'get_checkout',
  update: 'update_checkout',
  complete: 'complete_checkout',
  cancel: 'cancel_checkout',
};

/**
 * One answer → BackendResult. Complete succeeds only with `completed` and an order (R12); complete_in_progress
 * is not a failure and not a reason to resend (the backend reads it back first, ucp-backend.ts).
 */
export function ucpAnswerToResult(operation: UcpOperation, reply: UcpReply): BackendResult {
  if (reply.kind === 'no_reply') return { kind: 'unknown', reason: reply.reason };
  const { status, body } = reply;
  const providerRequestId = reply.requestId === undefined ? undefined : cleanText(reply.requestId, 128);
  const tool = TOOL[operation];
  if (status < 200 || status >= 300) return protocolError(operation, status, body, providerRequestId);
  if (isErrorResponse(body)) {
    // No resource: the business could not create it, or it no longer exists.
    const first = errorsOf(body.messages)[0] ?? { code: 'unspecified', content: '', severity: 'unrecoverable' as const };
    const continueUrl = isAcceptedUrl(body.continue_url) ? body.continue_url : undefined;
    if (first.code === 'not_found') return { kind: 'failed', code: 'checkout_not_found', message: `The business has no such checkout (${quoteMerchant(first.content)}).`, providerRequestId };
    // A read that shows nothing settles nothing (a lost complete must not be judged by it, R13).
    if (operation === 'get') return { kind: 'unknown', reason: `the business answered an error for the read: ${nextStepWords(first, tool, continueUrl)}`, providerRequestId };
    return failedBy(first, tool, continueUrl, { providerRequestId });
  }
  const parsed = parseUcpCheckout(body);
  if (!parsed.ok) {
    const what = looksLikeCheckout(body) ? `a checkout we do not accept (${parsed.problem})` : 'no checkout';
    const reason = `${MERCHANT_INVALID_ANSWER}: the business answered ${status} with ${what}`;
    // As for ACP (acp-answer.ts): a complete or a read that shows nothing we accept leaves the outcome unknown.
    if (operation === 'complete' || operation === 'get') return { kind: 'unknown', reason, providerRequestId };
    return { kind: 'failed', code: MERCHANT_INVALID_ANSWER, message: `The business's answer is not valid: it answered ${status} with ${what}. Nothing was charged.`, providerRequestId };
  }
  const checkout = parsed.session;
  const raw = body as Json;
  const continueUrl = isAcceptedUrl(raw.continue_url) ? raw.continue_url : undefined;
  const errors = errorsOf(raw.messages);
  switch (operation) {
    case 'get':
      return { kind: 'succeeded', checkout, providerRequestId };
    case 'create':
    case 'update':
      if (checkout.status === 'completed' || checkout.status === 'canceled') {
        return { kind: 'failed', code: `checkout_already_${checkout.status}`, message: `The business refused: the checkout is already ${checkout.status}.`, checkout, providerRequestId };
      }
      return { kind: 'succeeded', checkout, providerRequestId };
    case 'cancel':
      if (checkout.status === 'canceled') return { kind: 'succeeded', checkout, providerRequestId };
      if (checkout.status === 'completed') {
        return { kind: 'failed', code: 'checkout_already_completed', message: 'The business refused: the checkout is already completed.', checkout, providerRequestId };
      }
      return errors[0]
        ? failedBy(errors[0], tool, continueUrl, { checkout, providerRequestId })
        : { kind: 'failed', code: 'not_canceled', message: `The business did not cancel the checkout (status ${checkout.status}).`, checkout, providerRequestId };
    case 'complete':
      return completeResult(checkout, errors, continueUrl, providerRequestId);
  }
}

/** What a checkout says about a complete: done, still in progress, handed to the person, or refused and why. */
export function completeResult(checkout: CheckoutSession, errors: UcpError[], continueUrl: string | undefined, providerRequestId?: string): BackendResult {
  if (checkout.status === 'completed' && checkout.order) return { kind: 'succeeded', checkout, providerRequestId };
  if (checkout.status === 'complete_in_progress') {
    return { kind: 'unknown', reason: 'the business is still completing the checkout (complete_in_progress); it is read back, never paid again', providerRequestId };
  }
  if (checkout.status === 'canceled') return { kind: 'failed', code: 'checkout_canceled', message: 'The checkout was canceled before it completed.', checkout, providerRequestId };
  const handOff = errors.find((e) => e.severity === 'requires_buyer_input' || e.severity === 'requires_buyer_review');
  if (checkout.status === 'requires_escalation') {
    const error = errors.find((e) => e.severity === 'unrecoverable' || e.severity === 'recoverable') ?? handOff;
    if (error) return failedBy(error, 'complete_checkout', continueUrl, { checkout, providerRequestId });
    return { kind: 'failed', code: 'payer_action_required', message: `The person must act with the business${continueUrl ? ` at ${quoteId(continueUrl, 500)}` : ''} before it can be paid.`, checkout, providerRequestId };
  }
  if (errors[0]) return failedBy(errors[0], 'complete_checkout', continueUrl, { checkout, providerRequestId });
  return { kind: 'failed', code: 'not_completed', message: `The business did not complete the checkout (status ${checkout.status}).`, checkout, providerRequestId };
}
