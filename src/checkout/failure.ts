// The one error shape every tool returns: a code the agent can branch on and one sentence saying what next.
import { cleanText, quoteMerchant, rawMerchantCode, safeCode } from '../commerce/merchant-text.js';
import type { StoreFault } from '../store/store-fault.js';

export type FailureType = 'invalid_request' | 'payment_error' | 'merchant_error' | 'service_unavailable';

export interface Failure {
  type: FailureType;
  code: string;
  message: string;
  retryable: boolean;
  /** store_unavailable only: the class of the store's fault (unreachable, authentication, …). */
  cause?: string;
  /** When the merchant refused with its own code: that code (sanitized). `code` is then `merchant_error`. */
  merchant_code?: string;
}

export function failure(type: FailureType, code: string, message: string, retryable = false): Failure {
  return { type, code, message, retryable };
}

/** Another principal's checkout is indistinguishable from none at all (R15). */
export function notFound(id: string): Failure {
  return failure(
    'invalid_request',
    'checkout_not_found',
    `No checkout "${id}" is known to this server for you; use the checkout_session_id that create_checkout returned.`,
  );
}

/**
 * The ledger store failed (R9: nothing was sent). A transient fault is worth a retry in a few seconds; a
 * permanent one is the operator's to fix, and the agent must not loop on it.
 */
export function storeUnavailable(tool: string, fault: StoreFault, afterSend = false): Failure {
  const what = afterSend
    ? 'The ledger store failed after the request reached the merchant, so the merchant may have acted'
    : `The ledger store cannot be used (${fault.words}), so this call sent nothing to the merchant`;
  const next = fault.transient
    ? `call ${tool} again with the same arguments in a few seconds${afterSend ? ': it checks with the merchant first and never acts twice' : ''}.`
    : `this is a setup fault (${fault.words}) that calling again cannot fix: stop, and tell the person that the once-checkout operator must fix ONCE_STORE (once-checkout doctor shows how).`;
  return { ...failure('service_unavailable', 'store_unavailable', `${what}; ${next}`, fault.transient), cause: fault.cause };
}

/** A checkout that was canceled or expired: it can never be paid or changed again; a new one can. */
function closedCheckout(status: 'canceled' | 'expired', code: string, tool: string): Failure {
  const what =
    tool === 'complete_checkout'
      ? `This checkout is ${status}, so it cannot be paid, and nothing was charged.`
      : `This checkout is ${status}, so it can no longer change.`;
  return failure(
    'invalid_request',
    code,
    `${what} Do not call ${tool} on it again. If the person still wants these items, call create_checkout with a new task_id (the same cart without one returns this ${status} checkout).`,
  );
}

/**
 * A provider failure code and message → what the agent is told. Only codes our own code produced (a
 * backend's mapping, the engine) keep their meaning here. A merchant's raw code arrives as `merchant:<code>`
 * (backends/acp-answer.ts) and becomes `merchant_error` with `merchant_code`, its words quoted and attributed:
 * a merchant answering `invalid_input` or `rate_limited` must not get our advice for our codes.
 */
export function describeFailure(code: string, message: string, tool: string): Failure {
  const theirs = rawMerchantCode(code);
  if (theirs !== undefined) {
    return {
      ...failure(
        'merchant_error',
        'merchant_error',
        `The merchant refused (its code "${theirs}"): ${quoteMerchant(message)}. Tell the person, and change the checkout before trying again.`,
      ),
      merchant_code: theirs,
    };
  }
  // Our backends' messages may still carry a provider's words (quoted by the backend); one line, bounded.
  const words = cleanText(message, 600).replace(/\.?$/, '.');
  switch (code) {
    case 'checkout_already_canceled':
    case 'checkout_canceled':
      return closedCheckout('canceled', code, tool);
    case 'checkout_already_expired':
    case 'checkout_expired':
      return closedCheckout('expired', code, tool);
    case 'checkout_already_completed':
    case 'checkout_completed':
      if (tool === 'complete_checkout') return ourCode(code, words); // the engine answers a completed one with its order (R5)
      return failure(
        'invalid_request',
        code,
        `This checkout is already completed (paid), so ${tool === 'cancel_checkout' ? 'it cannot be canceled here' : 'it can no longer change'}. Call get_checkout to show the person the order; a refund or change is between them and the merchant.`,
      );
    case 'payment_declined':
      return failure('payment_error', 'payment_declined', `The payment was declined: ${words} Ask the buyer for another payment method, then call ${tool} again.`);
    case 'checkout_not_found':
      return failure('invalid_request', 'checkout_not_found', `${words} Use the checkout_session_id that create_checkout returned.`);
    case 'payer_action_required':
      return failure('payment_error', 'payer_action_required', `${words} Send the person to the checkout's continue_url (get_checkout shows it) to approve, then call ${tool} again.`);
    case 'idempotency_conflict':
      // Our derived keys met different parameters at the provider: a defect of ours, never to be retried with a new key.
      return failure('service_unavailable', 'idempotency_conflict', `${words} This is a once-checkout defect, not yours: stop and report it; nothing more will be sent for this call.`);
    case 'invalid_input':
      return failure('invalid_request', 'invalid_input', `${words} Fix the arguments and call ${tool} again.`);
    case 'merchant_invalid_answer':
      return failure('merchant_error', 'merchant_invalid_answer', `${words} The merchant is at fault, not your arguments: tell the person; calling ${tool} again with the same arguments returns this same result.`);
    default:
      return ourCode(code, words);
  }
}

/** Our backends' own codes (out of stock, not_cancelable, …); kept code-shaped even from an old record. */
function ourCode(code: string, words: string): Failure {
  const ours = safeCode(code);
  return failure('merchant_error', ours, `The merchant refused (${ours}): ${words} Tell the person, and change the checkout before trying again.`);
}
