// What the agent reads when a call fails: one error shape, a code it can branch on, and one sentence saying
// what happened and what to do next. Every such sentence lives here, keyed by its code (`failures` for the
// engine's and the server's own refusals, `describeFailure` for a provider's codes), so the tone and the
// advice stay the same wherever a call is refused; test/failure-words.test.ts holds every code to it.
import { cleanText, quoteId, quoteMerchant, rawMerchantCode, safeCode } from '../commerce/merchant-text.js';
import { totalAmount, type CheckoutSession } from '../commerce/session.js';
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

function failure(type: FailureType, code: string, message: string, retryable = false): Failure {
  return { type, code, message, retryable };
}

/** What is still running when a call must wait (`pending`). */
export type Running =
  /** An identical call (the same record) is still running. */
  | { kind: 'same_call' }
  /** Another operation holds the checkout's claim (R13). */
  | { kind: 'other_call'; operation: string }
  /** An earlier update or cancel on the checkout has not settled at the merchant (R13). */
  | { kind: 'earlier_call'; operation: string; detail?: string }
  /** This call's claim on the checkout lapsed while it waited (the person's approval, a store outage): it sent no payment. */
  | { kind: 'claim_lost' };

/** Why the outcome is not known (`outcome_unknown`). */
export type Unknown =
  /** The merchant did not answer this call clearly. */
  | { kind: 'unclear_answer'; detail?: string }
  /** An earlier complete on the checkout has no known outcome, so the checkout cannot change now. */
  | { kind: 'earlier_complete' };

/** Why the arguments were refused (`invalid_input`) before anything was stored or sent. */
export type InvalidInput =
  | { kind: 'card_number'; at: string }
  /** `problems`: the first few fields at fault, each as "field: what it must be"; `total`: how many there were. */
  | { kind: 'arguments'; tool: string; problems: string[]; total: number };

/**
 * Before complete: what the call can say about money. An earlier attempt that may still be at the merchant
 * means never saying "nothing was charged" (R14).
 */
function nothingCharged(attemptOpen: boolean): string {
  return attemptOpen ? 'this call sent nothing, and the earlier attempt is still being checked' : 'nothing was charged';
}

/** The cart and total as the agent is told them: "2 × sku_a, total 5000 usd (minor units)". */
function describeTotal(checkout: CheckoutSession): string {
  const total = totalAmount(checkout);
  const items = checkout.line_items.map((line) => `${line.quantity} × ${quoteId(line.item?.id ?? line.id, 64)}`).join(', ');
  return `${items || 'no items'}, total ${typeof total === 'number' && Number.isSafeInteger(total) ? `${total} ${checkout.currency} (minor units)` : 'unknown'}`;
}

/** The engine's and the server's own refusals, by code: each says what happened and what to do next. */
export const failures = {
  /** Another principal's checkout is indistinguishable from none at all (R15). */
  checkout_not_found: (id: string): Failure =>
    failure(
      'invalid_request',
      'checkout_not_found',
      `No checkout ${quoteId(id)} is known to this server for you; use the checkout_session_id that create_checkout returned.`,
    ),

  /**
   * The ledger store failed (R9: nothing was sent). A transient fault is worth a retry in a few seconds; a
   * permanent one is the operator's to fix, and the agent must not loop on it.
   */
  store_unavailable: (tool: string, fault: StoreFault, afterSend = false): Failure => {
    const what = afterSend
      ? 'The ledger store failed after the request reached the merchant, so the merchant may have acted'
      : `The ledger store cannot be used (${fault.words}), so this call sent nothing to the merchant`;
    const next = fault.transient
      ? `call ${tool} again with the same arguments in a few seconds${afterSend ? ': it checks with the merchant first and never acts twice' : ''}.`
      : `this is a setup fault (${fault.words}) that calling again cannot fix: stop, and tell the person that the once-checkout operator must fix ONCE_STORE (once-checkout doctor shows how).`;
    return { ...failure('service_unavailable', 'store_unavailable', `${what}; ${next}`, fault.transient), cause: fault.cause };
  },

  /** The merchant could not be read: by get_checkout, or (`beforePaying`) by complete before it sends anything. */
  merchant_unavailable: (reason: string, beforePaying?: { earlierAttempt: boolean }): Failure =>
    failure(
      'service_unavailable',
      'merchant_unavailable',
      beforePaying
        ? `The merchant could not be read before paying (${reason}); this call sent nothing${beforePaying.earlierAttempt ? ', and an earlier payment attempt on this checkout may have gone through (it is checked on the next call)' : ''}. Call complete_checkout again in a few seconds.`
        : `The merchant did not answer (${reason}); call get_checkout again in a few seconds.`,
      true,
    ),

  pending: (tool: string, running: Running): Failure => {
    switch (running.kind) {
      case 'same_call':
        return failure('service_unavailable', 'pending', `Another call for this ${tool.replace('_', ' ')} is still running; call ${tool} again with the same arguments in a few seconds to get its result.`, true);
      case 'other_call':
        return failure('service_unavailable', 'pending', `Another call (${running.operation}_checkout) is still running on this checkout; call ${tool} again with the same arguments in a few seconds.`, true);
      case 'earlier_call':
        return failure(
          'service_unavailable',
          'pending',
          `An earlier ${running.operation}_checkout on this checkout has not settled at the merchant yet (${running.detail ?? 'still running'}); call ${tool} again in a few seconds.`,
          true,
        );
      case 'claim_lost':
        return failure(
          'service_unavailable',
          'pending',
          `This call lost its hold on the checkout while it waited (for the person's approval, or for the ledger store), and another call may have changed the checkout meanwhile, so it sent no payment; call ${tool} again: it checks the checkout first.`,
          true,
        );
    }
  },

  outcome_unknown: (tool: string, why: Unknown): Failure =>
    failure(
      'service_unavailable',
      'outcome_unknown',
      why.kind === 'earlier_complete'
        ? 'An earlier complete_checkout on this checkout has no known outcome yet, so the checkout cannot change now; call complete_checkout again with the same arguments to settle it (it never pays twice), or cancel_checkout.'
        : `The merchant did not answer clearly (${why.detail ?? 'no answer'}), so it may or may not have acted; call ${tool} again with the same arguments: it checks with the merchant first and never acts twice.`,
      true,
    ),

  /** R14: the live cart or total is not what the agent was last shown; the result carries the live checkout. */
  checkout_changed: (now: CheckoutSession, attemptOpen: boolean): Failure =>
    failure(
      'invalid_request',
      'checkout_changed',
      `The checkout at the merchant is not the one you last saw (now ${describeTotal(now)}); ${nothingCharged(attemptOpen)}. Show the person the checkout in this result; only if they agree, call get_checkout (its answer is what records that you saw this cart), then complete_checkout again.`,
    ),

  checkout_total_invalid: (attemptOpen: boolean): Failure =>
    failure(
      'merchant_error',
      'checkout_total_invalid',
      `The merchant's checkout shows no usable total (integer minor units), so the payment cannot be checked against the cap or shown to the person; ${nothingCharged(attemptOpen)}. Call get_checkout, and tell the person the merchant's checkout is incomplete.`,
    ),

  spend_cap_exceeded: (total: number, currency: string, cap: number, attemptOpen: boolean): Failure =>
    failure(
      'invalid_request',
      'spend_cap_exceeded',
      `The total ${total} ${currency} is above this server's cap of ${cap}; ${nothingCharged(attemptOpen)}. Ask the person to approve a smaller order.`,
    ),

  declined_by_user: (attemptOpen = false): Failure =>
    failure(
      'payment_error',
      'declined_by_user',
      `The person did not approve this payment, so ${nothingCharged(attemptOpen)}; do not call complete_checkout again unless they ask you to.`,
    ),

  /** R3: the task_id already named a different cart (`anchor`: that cart's checkout, when it has one). */
  intent_conflict: (taskId: string | undefined, anchor?: string): Failure =>
    failure(
      'invalid_request',
      'intent_conflict',
      `task_id "${taskId ?? ''}" already belongs to a different cart${anchor ? ` (checkout ${quoteId(anchor)})` : ''}; use update_checkout to change that checkout, or pass a new task_id to buy this cart separately.`,
    ),

  attempts_exhausted: (attempts: number | undefined, earlierMayLand = false): Failure =>
    earlierMayLand
      ? failure(
          'invalid_request',
          'attempts_exhausted',
          `This checkout's payment was already tried ${attempts} times, the most allowed, and an earlier attempt whose answer was lost may still go through at the merchant; call get_checkout to see whether it did before buying these items any other way, and ask the person how to proceed.`,
        )
      : failure(
          'invalid_request',
          'attempts_exhausted',
          `This checkout already failed ${attempts} times, the most allowed; stop retrying and ask the person how to proceed (for example, create a new checkout).`,
        ),

  /** Refused before anything was stored or sent: a card number anywhere, or arguments the tool's schema rejects. */
  invalid_input: (why: InvalidInput): Failure => {
    if (why.kind === 'card_number') {
      return failure('invalid_request', 'invalid_input', `Invalid arguments: ${why.at} looks like a card number; pass a payment token instead. Nothing was stored or sent.`);
    }
    const more = why.total > why.problems.length ? ` (and ${why.total - why.problems.length} more)` : '';
    return failure('invalid_request', 'invalid_input', `Invalid arguments: ${why.problems.join('; ')}${more}. Fix these fields and call ${why.tool} again; nothing was stored or sent.`);
  },

  rate_limited: (tool: string, perMinute: number, waitSeconds: number): Failure =>
    failure(
      'service_unavailable',
      'rate_limited',
      `Too many calls: at most ${perMinute} create, update, complete or cancel calls a minute are allowed for you; wait ${waitSeconds} s, then call ${tool} again (nothing was stored or sent).`,
      true,
    ),
} satisfies Record<string, (...args: never[]) => Failure>;

/**
 * R13: a payment refused after an earlier attempt was superseded (its answer lost, the merchant showing no effect
 * yet): that attempt's request may still reach the merchant and charge, so the refusal is never the whole story.
 */
export function withEarlierAttempt(refused: Failure): Failure {
  return {
    ...refused,
    message: `${refused.message} But an earlier payment attempt on this checkout, whose answer was lost, may still go through at the merchant: call get_checkout before paying any other way or buying these items elsewhere.`,
  };
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
    // One code per state for the agent, whichever backend said it (the sandbox and UCP say checkout_already_…).
    case 'checkout_already_canceled':
    case 'checkout_canceled':
      return closedCheckout('canceled', 'checkout_canceled', tool);
    case 'checkout_already_expired':
    case 'checkout_expired':
      return closedCheckout('expired', 'checkout_expired', tool);
    case 'checkout_already_completed':
    case 'checkout_completed':
      if (tool === 'complete_checkout') return ourCode(code, words); // the engine answers a completed one with its order (R5)
      return failure(
        'invalid_request',
        'checkout_completed',
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
