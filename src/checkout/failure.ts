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
