// PayPal replies that are not success → BackendResult: ambiguous ones `unknown`, PayPal's decisions `failed`.
import type { BackendResult } from '../backend.js';
import type { PaypalReply } from './paypal-http.js';

// Capture 422 issues (Orders v2 OpenAPI) that mean the payer's funding was refused: terminal for this attempt. The
// two redirect issues carry a `redirect` link where the person chooses other funding (handed to the agent).
const DECLINE_ISSUES = new Set([
  'INSTRUMENT_DECLINED',
  'REDIRECT_PAYER_FOR_ALTERNATE_FUNDING',
  'TRANSACTION_REFUSED',
  'PAYER_CANNOT_PAY',
  'PAYEE_BLOCKED_TRANSACTION',
]);

export interface PaypalErrorBody {
  name?: string;
  message?: string;
  debug_id?: string;
  details?: Array<{ issue?: string; description?: string }>;
  links?: Array<{ href: string; rel: string }>;
}

export function firstIssue(body: unknown): string | undefined {
  return (body as PaypalErrorBody | null)?.details?.[0]?.issue ?? undefined;
}

export function describePaypalError(body: unknown): string {
  if (typeof body !== 'object' || body === null) return String(body).slice(0, 200);
  const e = body as PaypalErrorBody;
  const detail = e.details?.[0];
  const parts = [e.name, detail?.issue, detail?.description ?? e.message].filter(Boolean);
  return parts.join(': ') || 'no details';
}

export function paypalFailure(
  reply: PaypalReply,
  site: { operation: string; notFoundMeansCheckout: boolean },
): BackendResult {
  if (reply.kind === 'no_reply') return { kind: 'unknown', reason: reply.reason };
  if (reply.kind === 'auth_failed') return { kind: 'failed', code: 'merchant_error', message: reply.message };
  const { status, body } = reply;
  const issue = firstIssue(body);
  const what = describePaypalError(body);
  const withId = <T extends BackendResult>(r: T): T => (reply.debugId ? { ...r, providerRequestId: reply.debugId } : r);

  // PayPal documents only that of two simultaneous requests with one PayPal-Request-Id it "might fail the second"
  // (developer.paypal.com/api/rest/reference/idempotency), with no status or issue; a 409 (RESOURCE_CONFLICT) is
  // the likeliest form. Whatever it is, the first may still be running: unknown, never refused. A reused id is not an
  // error on Orders v2: PayPal "returns the latest status of the previous request", so no issue is mapped for it.
  if (status === 409) {
    return withId({ kind: 'unknown', reason: `PayPal answered 409 (${what}): a request with this PayPal-Request-Id may still be running` });
  }
  if (status === 429 || status >= 500) {
    return withId({ kind: 'unknown', reason: `PayPal answered ${status} (${what}) to ${site.operation}` });
  }
  if (status === 404 && site.notFoundMeansCheckout) return withId({ kind: 'failed', code: 'checkout_not_found', message: what });
  if (issue && DECLINE_ISSUES.has(issue)) return withId({ kind: 'failed', code: 'payment_declined', message: what });
  if (status === 400) return withId({ kind: 'failed', code: 'invalid_input', message: what });
  if (status === 401 || status === 403) {
    return withId({ kind: 'failed', code: 'merchant_error', message: `PayPal refused the request (${status} ${what})` });
  }
  if (status >= 400 && status < 500) return withId({ kind: 'failed', code: 'merchant_error', message: what });
  return withId({ kind: 'unknown', reason: `unexpected PayPal reply ${status} to ${site.operation}` });
}
