// The one error shape every tool returns: a code the agent can branch on and one sentence saying what next.

export type FailureType = 'invalid_request' | 'payment_error' | 'merchant_error' | 'service_unavailable';

export interface Failure {
  type: FailureType;
  code: string;
  message: string;
  retryable: boolean;
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

/** A provider failure code and message → what the agent is told. */
export function describeFailure(code: string, message: string, tool: string): Failure {
  const words = message.trim().replace(/\.?$/, '.');
  switch (code) {
    case 'payment_declined':
      return failure('payment_error', 'payment_declined', `The payment was declined: ${words} Ask the buyer for another payment method, then call ${tool} again.`);
    case 'checkout_not_found':
      return notFound(words);
    case 'payer_action_required':
      return failure('payment_error', 'payer_action_required', `${words} Send the person to the checkout's continue_url (get_checkout shows it) to approve, then call ${tool} again.`);
    case 'idempotency_conflict':
      // Our derived keys met different parameters at the provider: a defect of ours, never to be retried with a new key.
      return failure('service_unavailable', 'idempotency_conflict', `${words} This is a once-checkout defect, not yours: stop and report it; nothing more will be sent for this call.`);
    case 'invalid_input':
      return failure('invalid_request', 'invalid_input', `${words} Fix the arguments and call ${tool} again.`);
    default:
      return failure('merchant_error', code, `The merchant refused (${code}): ${words} Tell the person, and change the checkout before trying again.`);
  }
}
