// Stripe SDK errors → BackendResult: ambiguous answers become `unknown`, Stripe's decisions become `failed`.
import Stripe from 'stripe';
import type { BackendResult } from '../backend.js';
import { paymentIntentToSession } from './stripe-session.js';

/** What was being done, for messages; `checkout` makes a 404 mean the checkout, not some other object. */
export interface StripeCallSite {
  operation: 'create' | 'update' | 'complete' | 'cancel' | 'get';
  idempotencyKey?: string;
  notFoundMeansCheckout: boolean;
}

export function stripeErrorToResult(err: unknown, site: StripeCallSite): BackendResult {
  const errors = Stripe.errors;
  if (!(err instanceof errors.StripeError)) {
    // Not from the SDK (a bug in our mapping, say): the call may have gone through, so only reconciliation can tell.
    return { kind: 'unknown', reason: `unexpected error during Stripe ${site.operation}: ${describe(err)}` };
  }
  const providerRequestId = err.requestId;
  const withId = <T extends BackendResult>(result: T): T => (providerRequestId ? { ...result, providerRequestId } : result);

  if (err instanceof errors.StripeConnectionError) {
    return withId({ kind: 'unknown', reason: `no reply from Stripe (${err.message}); it may or may not have acted` });
  }
  if (err instanceof errors.StripeRateLimitError) {
    return withId({ kind: 'unknown', reason: 'Stripe rate-limited the request (429); resend it with the same key' });
  }
  if (err instanceof errors.StripeCardError) {
    const checkout = err.payment_intent ? paymentIntentToSession(err.payment_intent) : undefined;
    return withId({ kind: 'failed', code: 'payment_declined', message: err.message, ...(checkout ? { checkout } : {}) });
  }
  if (err instanceof errors.StripeIdempotencyError) {
    return withId({
      kind: 'failed',
      code: 'idempotency_conflict',
      message:
        `BUG: Stripe says idempotency key ${site.idempotencyKey ?? '(none)'} was already used with different parameters ` +
        `(${err.message}). once-checkout derives a distinct key per request, so two requests collided: nothing ran twice, ` +
        'but report this as a bug.',
    });
  }
  if (err instanceof errors.StripeAuthenticationError) {
    return withId({ kind: 'failed', code: 'merchant_error', message: 'Stripe rejected the API key (401): check STRIPE_SECRET_KEY' });
  }
  if (err instanceof errors.StripePermissionError) {
    return withId({ kind: 'failed', code: 'merchant_error', message: `Stripe refused this key the operation (403): ${err.message}` });
  }
  if (err instanceof errors.StripeInvalidRequestError) {
    // The refusal carries the PaymentIntent as it stands (docs.stripe.com/api/errors). One that succeeded between our
    // calls (3-D Secure finished, an earlier confirm went through) is a paid checkout, never a merchant_error (R13).
    const pi = err.payment_intent;
    if (err.code === 'payment_intent_unexpected_state' && pi?.status === 'succeeded') {
      const checkout = paymentIntentToSession(pi);
      if (site.operation === 'complete') return withId({ kind: 'succeeded', checkout });
      return withId({
        kind: 'failed',
        code: 'checkout_completed',
        message: `PaymentIntent ${pi.id} has already been paid (succeeded), so it can no longer ${site.operation === 'cancel' ? 'be canceled' : 'change'}`,
        checkout,
      });
    }
    if (err.statusCode === 404 && site.notFoundMeansCheckout) {
      return withId({ kind: 'failed', code: 'checkout_not_found', message: err.message });
    }
    const isInputProblem = err.param !== undefined || (err.code ?? '').startsWith('parameter_');
    return withId({ kind: 'failed', code: isInputProblem ? 'invalid_input' : 'merchant_error', message: err.message });
  }
  if (err instanceof errors.StripeAPIError) {
    if (err.statusCode === 409) {
      return withId({ kind: 'unknown', reason: 'another request with this idempotency key is still running at Stripe (409)' });
    }
    return withId({ kind: 'unknown', reason: `Stripe answered ${err.statusCode ?? 'an error'}: ${err.message}` });
  }
  return withId({ kind: 'unknown', reason: `Stripe error ${err.type}: ${err.message}` });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
