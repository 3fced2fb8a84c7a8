// One plain sentence about a successful result, for the text content a model reads first.
import type { CheckoutResult } from '../checkout/checkouts.js';
import { totalAmount } from '../checkout/session.js';

export function describeResult(result: Extract<CheckoutResult, { ok: true }>): string {
  const { checkout, idempotency } = result;
  const total = totalAmount(checkout);
  const money = total === undefined ? '' : `, total ${total} ${checkout.currency} (minor units)`;
  const order = checkout.order ? `, order ${checkout.order.id}` : '';
  const replay = idempotency.replayed
    ? ` This is the recorded result of an earlier identical call (first seen ${idempotency.first_seen_at}); nothing was done twice.`
    : '';
  return `Checkout ${checkout.id} is ${checkout.status}${money}${order}.${replay}`;
}
