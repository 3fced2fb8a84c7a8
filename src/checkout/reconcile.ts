// Reading the anchor to settle an ambiguous attempt (R6): success only when the provider shows it,
// otherwise resend with the same key, so the provider's own idempotency replays or runs it once.
import type { Backend } from '../backends/backend.js';
import type { Reconciled } from '../ledger/ledger.js';
import { isCompleted, type CheckoutSession } from './session.js';

export type AnchoredOperation = 'update' | 'complete' | 'cancel';

export async function reconcileAnchored(
  backend: Backend,
  operation: AnchoredOperation,
  anchor: string,
): Promise<Reconciled<CheckoutSession>> {
  const seen = await backend.get(anchor);
  if (seen.kind === 'unknown') return { kind: 'unknown', reason: seen.reason };
  if (seen.kind === 'failed') {
    return { kind: 'settled', result: { kind: 'failed', code: seen.code, message: seen.message } };
  }
  const checkout = seen.checkout;
  switch (operation) {
    case 'complete':
      if (isCompleted(checkout)) return { kind: 'settled', result: { kind: 'succeeded', value: checkout } };
      if (checkout.status === 'canceled') {
        return { kind: 'settled', result: { kind: 'failed', code: 'checkout_canceled', message: 'The checkout was canceled before it completed.', value: checkout } };
      }
      // The provider is still working on it: sending again now could only race it.
      if (checkout.status === 'complete_in_progress') return { kind: 'unknown', reason: 'completion still in progress at the provider' };
      return { kind: 'resend' };
    case 'cancel':
      if (checkout.status === 'canceled') return { kind: 'settled', result: { kind: 'succeeded', value: checkout } };
      if (checkout.status === 'completed') {
        return { kind: 'settled', result: { kind: 'failed', code: 'checkout_completed', message: 'The checkout had already completed; it cannot be canceled.', value: checkout } };
      }
      return { kind: 'resend' };
    case 'update':
      return { kind: 'resend' };
  }
}
