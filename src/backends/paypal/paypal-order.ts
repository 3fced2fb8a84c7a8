// PayPal Orders v2 shapes (the fields we use) and Order → the ACP-shaped CheckoutSession.
import type { Address, CheckoutSession, CheckoutStatus, FulfillmentDetails, LineItem, Message, Order } from '../../commerce/session.js';
import { fromPaypalValue, type PaypalMoney } from './paypal-money.js';

export interface PaypalItem {
  name: string;
  quantity: string;
  unit_amount: PaypalMoney;
  sku?: string;
}

export interface PaypalAddress {
  address_line_1?: string;
  address_line_2?: string;
  admin_area_2?: string;
  admin_area_1?: string;
  postal_code?: string;
  country_code?: string;
}

export interface PaypalShipping {
  name?: { full_name?: string };
  address?: PaypalAddress;
}

export interface PaypalCapture {
  id: string;
  status: string;
  amount?: PaypalMoney;
}

export interface PaypalPurchaseUnit {
  reference_id?: string;
  amount: PaypalMoney & { breakdown?: { item_total?: PaypalMoney } };
  items?: PaypalItem[];
  shipping?: PaypalShipping;
  payments?: { captures?: PaypalCapture[] };
}

export interface PaypalLink {
  href: string;
  rel: string;
  method?: string;
}

export interface PaypalOrder {
  id: string;
  status: string;
  intent?: string;
  purchase_units: PaypalPurchaseUnit[];
  payer?: { email_address?: string; name?: { given_name?: string; surname?: string } };
  payment_source?: { paypal?: { email_address?: string } };
  links?: PaypalLink[];
  create_time?: string;
  update_time?: string;
}

export function isPaypalOrder(body: unknown): body is PaypalOrder {
  const o = body as PaypalOrder | null;
  return typeof o === 'object' && o !== null && typeof o.id === 'string' && typeof o.status === 'string' && Array.isArray(o.purchase_units);
}

/** Where the payer approves: `approve` (no payment_source) or `payer-action` (with one). */
export function approvalUrl(order: Pick<PaypalOrder, 'links'>): string | undefined {
  return order.links?.find((l) => l.rel === 'approve' || l.rel === 'payer-action')?.href;
}

export function latestCapture(order: PaypalOrder): PaypalCapture | undefined {
  const captures = order.purchase_units[0]?.payments?.captures ?? [];
  return captures[captures.length - 1];
}

// Orders v2 OpenAPI, capture_status: COMPLETED, DECLINED, PARTIALLY_REFUNDED, PENDING, REFUNDED, FAILED.
const REFUNDED = new Set(['REFUNDED', 'PARTIALLY_REFUNDED']);

function checkoutStatus(order: PaypalOrder): CheckoutStatus {
  switch (order.status) {
    case 'CREATED':
    case 'PAYER_ACTION_REQUIRED':
      return 'pending_approval';
    case 'APPROVED':
    case 'SAVED':
      return 'ready_for_payment';
    case 'COMPLETED': {
      const capture = latestCapture(order);
      // A refunded capture was paid first: the order completed, and a refund was made on it since.
      if (!capture || capture.status === 'COMPLETED' || REFUNDED.has(capture.status)) return 'completed';
      if (capture.status === 'PENDING') return 'complete_in_progress';
      // DECLINED or FAILED: the order is spent and cannot be captured again.
      return 'not_ready_for_payment';
    }
    case 'VOIDED':
      return 'canceled';
    default:
      return 'in_progress';
  }
}

export function orderToSession(order: PaypalOrder, permalinkBase: string): CheckoutSession {
  const unit = order.purchase_units[0];
  const currency = (unit?.amount.currency_code ?? '').toLowerCase();
  const status = checkoutStatus(order);
  const lineItems: LineItem[] = (unit?.items ?? []).map((item) => {
    const id = item.sku ?? item.name;
    const unitAmount = fromPaypalValue(item.unit_amount.value, currency);
    const quantity = Number(item.quantity);
    return {
      id,
      item: { id, name: item.name, unit_amount: unitAmount },
      quantity,
      name: item.name,
      unit_amount: unitAmount,
      totals: [{ type: 'subtotal', display_text: 'Subtotal', amount: unitAmount * quantity }],
    };
  });
  const total = fromPaypalValue(unit?.amount.value, currency);
  const subtotal = unit?.amount.breakdown?.item_total
    ? fromPaypalValue(unit.amount.breakdown.item_total.value, currency)
    : lineItems.reduce((sum, l) => sum + (l.unit_amount ?? 0) * l.quantity, 0);
  const session: CheckoutSession = {
    id: order.id,
    status,
    currency,
    line_items: lineItems,
    totals: [
      { type: 'subtotal', display_text: 'Subtotal', amount: subtotal },
      { type: 'total', display_text: 'Total', amount: total },
    ],
    fulfillment_options: [],
    messages: [],
    links: [],
  };
  if (order.create_time) session.created_at = order.create_time;
  if (order.update_time) session.updated_at = order.update_time;
  const email = order.payer?.email_address ?? order.payment_source?.paypal?.email_address;
  if (email) session.buyer = { email };
  const fulfillment = fulfillmentOf(unit?.shipping);
  if (fulfillment) session.fulfillment_details = fulfillment;
  const approve = approvalUrl(order);
  if (status === 'pending_approval' && approve) {
    session.continue_url = approve;
    session.messages.push(approvalMessage(approve));
  }
  if (status === 'not_ready_for_payment') {
    session.messages.push({
      type: 'error',
      code: 'payment_declined',
      content_type: 'plain',
      content: 'PayPal declined the capture of this order; it cannot be paid again. Create a new checkout to retry.',
    });
  }
  if (status === 'completed') session.order = orderOf(order, permalinkBase);
  const refunded = latestCapture(order)?.status;
  if (status === 'completed' && refunded && REFUNDED.has(refunded)) {
    session.messages.push({
      type: 'info',
      content_type: 'plain',
      content: `This order was paid, then ${refunded === 'REFUNDED' ? 'refunded in full' : 'partly refunded'} at PayPal (capture ${refunded}).`,
    });
  }
  return session;
}

export function approvalMessage(url: string): Message {
  return {
    type: 'info',
    content_type: 'plain',
    content: `The buyer must approve this payment at PayPal: send the person to ${url}, then call complete_checkout.`,
  };
}

function orderOf(order: PaypalOrder, permalinkBase: string): Order {
  const capture = latestCapture(order);
  const id = capture?.id ?? order.id;
  return { id, checkout_session_id: order.id, permalink_url: `${permalinkBase}${id}`, status: 'confirmed' };
}

function fulfillmentOf(shipping: PaypalShipping | undefined): FulfillmentDetails | undefined {
  if (!shipping?.address) return undefined;
  const a = shipping.address;
  const address: Address = {
    name: shipping.name?.full_name ?? '',
    line_one: a.address_line_1 ?? '',
    city: a.admin_area_2 ?? '',
    state: a.admin_area_1 ?? '',
    country: a.country_code ?? '',
    postal_code: a.postal_code ?? '',
  };
  if (a.address_line_2) address.line_two = a.address_line_2;
  return { ...(shipping.name?.full_name ? { name: shipping.name.full_name } : {}), address };
}

/** FulfillmentDetails → PayPal shipping (name and address), or undefined when there is no address. */
export function shippingOf(details: FulfillmentDetails): PaypalShipping | undefined {
  const a = details.address;
  if (!a) return undefined;
  const address: PaypalAddress = {
    address_line_1: a.line_one,
    admin_area_2: a.city,
    admin_area_1: a.state,
    postal_code: a.postal_code,
    country_code: a.country.toUpperCase(),
  };
  if (a.line_two) address.address_line_2 = a.line_two;
  const fullName = a.name || details.name;
  return { ...(fullName ? { name: { full_name: fullName } } : {}), address };
}
