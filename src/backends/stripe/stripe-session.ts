// PaymentIntent → the ACP-shaped CheckoutSession every backend returns.
import type Stripe from 'stripe';
import type { Address, Buyer, CheckoutSession, CheckoutStatus, FulfillmentDetails, Message, Order } from '../../commerce/session.js';
import { itemsFromMetadata, toLineItem } from './stripe-line-items.js';

export const BUYER_KEY = 'once_buyer';

export function checkoutStatus(status: Stripe.PaymentIntent.Status): CheckoutStatus {
  switch (status) {
    case 'requires_payment_method':
    case 'requires_confirmation':
      return 'ready_for_payment';
    case 'requires_action':
      return 'authentication_required';
    case 'processing':
    case 'requires_capture':
      return 'complete_in_progress';
    case 'succeeded':
      return 'completed';
    case 'canceled':
      return 'canceled';
    default:
      // A status newer than this code: say "in progress" rather than guess success or failure.
      return 'in_progress';
  }
}

export function paymentIntentToSession(pi: Stripe.PaymentIntent): CheckoutSession {
  const status = checkoutStatus(pi.status);
  const items = itemsFromMetadata(pi.metadata);
  const subtotal = items.reduce((sum, i) => sum + i.unitAmount * i.quantity, 0);
  const session: CheckoutSession = {
    id: pi.id,
    status,
    currency: pi.currency,
    line_items: items.map(toLineItem),
    totals: [
      { type: 'subtotal', display_text: 'Subtotal', amount: subtotal },
      { type: 'total', display_text: 'Total', amount: pi.amount },
    ],
    fulfillment_options: [],
    messages: sessionMessages(pi),
    links: [],
    created_at: new Date(pi.created * 1000).toISOString(),
  };
  const buyer = buyerOf(pi);
  if (buyer) session.buyer = buyer;
  const fulfillment = fulfillmentOf(pi.shipping);
  if (fulfillment) session.fulfillment_details = fulfillment;
  const redirect = pi.next_action?.redirect_to_url?.url;
  if (status === 'authentication_required' && redirect) session.continue_url = redirect;
  if (status === 'completed') session.order = orderOf(pi);
  return session;
}

function orderOf(pi: Stripe.PaymentIntent): Order {
  const dashboard = pi.livemode ? 'https://dashboard.stripe.com/payments/' : 'https://dashboard.stripe.com/test/payments/';
  return { id: pi.id, checkout_session_id: pi.id, permalink_url: `${dashboard}${pi.id}`, status: 'confirmed' };
}

function sessionMessages(pi: Stripe.PaymentIntent): Message[] {
  const messages: Message[] = [];
  // A warning, not an error: the checkout itself is fine and can be paid with another card.
  if (pi.status === 'requires_payment_method' && pi.last_payment_error) {
    messages.push({
      type: 'warning',
      code: 'payment_declined',
      content_type: 'plain',
      content: `The last payment attempt failed: ${pi.last_payment_error.message ?? pi.last_payment_error.code ?? 'declined'}`,
    });
  }
  if (pi.status === 'requires_action') {
    messages.push({
      type: 'info',
      content_type: 'plain',
      content: 'The card issuer requires the buyer to authenticate this payment before it can complete.',
    });
  }
  return messages;
}

function buyerOf(pi: Stripe.PaymentIntent): Buyer | undefined {
  const stored = pi.metadata?.[BUYER_KEY];
  if (stored) {
    try {
      return JSON.parse(stored) as Buyer;
    } catch {
      // fall through to the receipt email
    }
  }
  return pi.receipt_email ? { email: pi.receipt_email } : undefined;
}

function fulfillmentOf(shipping: Stripe.PaymentIntent.Shipping | null): FulfillmentDetails | undefined {
  if (!shipping) return undefined;
  const a = shipping.address;
  const address: Address = {
    name: shipping.name ?? '',
    line_one: a?.line1 ?? '',
    city: a?.city ?? '',
    state: a?.state ?? '',
    country: a?.country ?? '',
    postal_code: a?.postal_code ?? '',
  };
  if (a?.line2) address.line_two = a.line2;
  const details: FulfillmentDetails = { name: shipping.name ?? undefined, address };
  if (shipping.phone) details.phone_number = shipping.phone;
  return details;
}

/** FulfillmentDetails → Stripe shipping; Stripe needs an address and a name, so details without them send none. */
export function shippingParam(details: FulfillmentDetails): Stripe.PaymentIntentCreateParams.Shipping | undefined {
  const a = details.address;
  if (!a) return undefined;
  const shipping: Stripe.PaymentIntentCreateParams.Shipping = {
    name: a.name || details.name || '',
    address: {
      line1: a.line_one,
      line2: a.line_two,
      city: a.city,
      state: a.state,
      country: a.country,
      postal_code: a.postal_code,
    },
  };
  if (details.phone_number) shipping.phone = details.phone_number;
  return shipping;
}
