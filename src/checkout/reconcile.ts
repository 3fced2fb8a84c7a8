// Reading the anchor to settle an ambiguous attempt (R6, R13): success only when the provider shows it,
// otherwise resend with the same key, so the provider's own idempotency replays or runs it once.
import type { Backend } from '../backends/backend.js';
import type { Reconciled } from '../ledger/ledger.js';
import type { AnchoredOperation } from './heads.js';
import { quoteId } from '../commerce/merchant-text.js';
import { completionOf, type CheckoutSession } from '../commerce/session.js';

export type { AnchoredOperation } from './heads.js';

/** Reads the checkout (or uses a read made moments ago under the same claim) and judges the attempt. */
export async function reconcileAnchored(
  backend: Backend,
  operation: AnchoredOperation,
  anchor: string,
  alreadyRead?: CheckoutSession,
): Promise<Reconciled<CheckoutSession>> {
  if (alreadyRead) return judge(operation, alreadyRead);
  const seen = await backend.get(anchor);
  if (seen.kind === 'unknown') return { kind: 'unknown', reason: seen.reason };
  if (seen.kind === 'failed') {
    // A refused read says nothing about a payment that may have gone through: a lost complete stays unknown
    // (a merchant answering 4xx to the read must not make us report failure, or pay again, R13).
    if (operation === 'complete') return { kind: 'unknown', reason: `the checkout could not be read (${seen.code})` };
    return { kind: 'settled', result: { kind: 'failed', code: seen.code, message: seen.message } };
  }
  return judge(operation, seen.checkout);
}

/** What one read of the checkout says about an attempt of `operation` whose answer was lost. */
export function judge(operation: AnchoredOperation, checkout: CheckoutSession): Reconciled<CheckoutSession> {
  const completion = completionOf(checkout);
  switch (operation) {
    case 'complete':
      switch (completion) {
        case 'completed':
          return { kind: 'settled', result: { kind: 'succeeded', value: checkout } };
        case 'closed':
          return { kind: 'settled', result: { kind: 'failed', code: 'checkout_canceled', message: `The checkout was ${checkout.status} before it completed.`, value: checkout } };
        case 'awaiting_payer':
          return { kind: 'settled', result: payerActionRequired(checkout) };
        case 'in_progress':
          // The provider is still working on it: sending again now could only race it.
          return { kind: 'unknown', reason: 'completion still in progress at the provider' };
        case 'open':
          return { kind: 'resend' };
      }
      break;
    case 'cancel':
      if (checkout.status === 'canceled') return { kind: 'settled', result: { kind: 'succeeded', value: checkout } };
      if (completion === 'completed') {
        return { kind: 'settled', result: { kind: 'failed', code: 'checkout_completed', message: 'The checkout had already completed; it cannot be canceled.', value: checkout } };
      }
      return { kind: 'resend' };
    case 'update':
      // An update leaves no mark of its own: only a resend under its key can tell.
      return { kind: 'resend' };
  }
}

/** The person must act (3-D Secure, PayPal approval) before the payment can go through. */
export function payerActionRequired(checkout: CheckoutSession) {
  const where = checkout.continue_url ? ` at ${quoteId(checkout.continue_url, 500)}` : '';
  return {
    kind: 'failed' as const,
    code: 'payer_action_required',
    message: `The payment needs the buyer to approve it${where} (status ${checkout.status}).`,
    value: checkout,
  };
}
