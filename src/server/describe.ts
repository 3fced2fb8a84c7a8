// One plain sentence about a successful result, for the text content a model reads first. Everything in it
// that the merchant chose is made safe first: the status is one we know (else "in an unknown state"), ids are
// one line, capped and quoted, money is an integer with an ISO currency or left out, and the merchant's own
// words (messages[]) appear only quoted after "the merchant says" — never where our sentences go.
import type { CheckoutResult } from '../checkout/checkouts.js';
import { isCheckoutStatus } from '../commerce/merchant-session.js';
import { quoteId, quoteMerchant } from '../commerce/merchant-text.js';
import { totalAmount } from '../commerce/session.js';

const ISO_CURRENCY = /^[a-z]{3}$/i;
/** At most this many merchant messages are quoted in the sentence (all of them are in the JSON). */
const MESSAGES_SHOWN = 2;

export function describeResult(result: Extract<CheckoutResult, { ok: true }>): string {
  const { checkout, idempotency } = result;
  const total = totalAmount(checkout);
  const money =
    typeof total === 'number' && Number.isSafeInteger(total) && typeof checkout.currency === 'string' && ISO_CURRENCY.test(checkout.currency)
      ? `, total ${total} ${checkout.currency.toLowerCase()} (minor units)`
      : '';
  const status = isCheckoutStatus(checkout.status) ? checkout.status : 'in a state once-checkout does not know';
  const order = checkout.order ? `, order ${quoteId(String(checkout.order.id))}${describeOrder(checkout.order)}` : '';
  const replay = idempotency.replayed
    ? ` This is the recorded result of an earlier identical call (first seen ${idempotency.first_seen_at}); nothing was done twice.`
    : '';
  const said = (Array.isArray(checkout.messages) ? checkout.messages : [])
    .slice(0, MESSAGES_SHOWN)
    .map((m) => ` About this checkout, ${quoteMerchant(typeof m?.content === 'string' ? m.content : '', 200)}.`)
    .join('');
  return `Checkout ${quoteId(String(checkout.id))} is ${status}${money}${order}.${replay}${said}`;
}

/**
 * After the purchase (issue 18): what the merchant's order events said, in our words around its data: the
 * order's status, each shipment's carrier, tracking and status, and completed refunds. Merchant strings are
 * one line, capped and quoted; unknown statuses stay quoted data.
 */
function describeOrder(order: NonNullable<Extract<CheckoutResult, { ok: true }>['checkout']['order']>): string {
  const parts: string[] = [];
  if (typeof order.status === 'string' && order.status !== '') parts.push(`is ${quoteId(order.status, 32)}`);
  for (const item of (Array.isArray(order.fulfillments) ? order.fulfillments : []).slice(0, 3)) {
    const f = item as { type?: unknown; status?: unknown; carrier?: unknown; tracking_number?: unknown };
    const what = typeof f.type === 'string' ? quoteId(f.type, 32) : 'a';
    const status = typeof f.status === 'string' ? ` ${quoteId(f.status, 32)}` : '';
    const carrier = typeof f.carrier === 'string' ? ` with ${quoteId(f.carrier, 40)}` : '';
    const tracking = typeof f.tracking_number === 'string' ? ` (tracking ${quoteId(f.tracking_number, 64)})` : '';
    parts.push(`${what} fulfillment${status}${carrier}${tracking}`);
  }
  const refunded = (Array.isArray(order.totals) ? order.totals : []).find((t) => (t as { type?: unknown }).type === 'amount_refunded') as { amount?: unknown } | undefined;
  if (typeof refunded?.amount === 'number' && Number.isSafeInteger(refunded.amount)) parts.push(`${refunded.amount} (minor units) refunded`);
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}
