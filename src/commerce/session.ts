// The ACP-shaped checkout session every backend returns (ACP 2026-04-17 CheckoutSession, the fields we use).

export type CheckoutStatus =
  | 'incomplete'
  | 'not_ready_for_payment'
  | 'requires_escalation'
  | 'authentication_required'
  | 'ready_for_payment'
  | 'pending_approval'
  | 'complete_in_progress'
  | 'completed'
  | 'canceled'
  | 'in_progress'
  | 'expired';

export interface Address {
  name: string;
  line_one: string;
  line_two?: string;
  city: string;
  state: string;
  country: string;
  postal_code: string;
}

export interface Buyer {
  email: string;
  first_name?: string;
  last_name?: string;
  full_name?: string;
  phone_number?: string;
}

export interface FulfillmentDetails {
  name?: string;
  phone_number?: string;
  email?: string;
  address?: Address;
}

export interface LineItem {
  id: string;
  item: { id: string; name?: string; unit_amount?: number };
  quantity: number;
  name?: string;
  unit_amount?: number;
  totals?: Total[];
}

export type TotalType =
  | 'items_base_amount'
  | 'items_discount'
  | 'subtotal'
  | 'discount'
  | 'fulfillment'
  | 'tax'
  | 'fee'
  | 'total';

export interface Total {
  type: TotalType;
  display_text: string;
  amount: number;
}

export interface FulfillmentOption {
  type: 'shipping' | 'digital' | 'pickup' | 'local_delivery';
  id: string;
  title: string;
  description?: string;
  totals: Total[];
}

export interface SelectedFulfillmentOption {
  type: 'shipping' | 'digital' | 'pickup' | 'local_delivery';
  option_id: string;
  item_ids: string[];
}

export type Message =
  | { type: 'info'; content_type: 'plain' | 'markdown'; content: string; param?: string }
  | { type: 'warning'; code: string; content_type: 'plain' | 'markdown'; content: string; param?: string }
  | { type: 'error'; code: string; content_type: 'plain' | 'markdown'; content: string; param?: string };

export interface Link {
  type: string;
  url: string;
  title?: string;
}

export interface Order {
  id: string;
  checkout_session_id: string;
  permalink_url: string;
  status?: string;
  /** After the purchase, from the merchant's signed order events (src/orders): what shipped, what was refunded. */
  order_number?: string;
  line_items?: unknown[];
  fulfillments?: unknown[];
  adjustments?: unknown[];
  totals?: unknown[];
}

export interface CheckoutSession {
  id: string;
  status: CheckoutStatus;
  currency: string;
  line_items: LineItem[];
  totals: Total[];
  fulfillment_options: FulfillmentOption[];
  selected_fulfillment_options?: SelectedFulfillmentOption[];
  messages: Message[];
  links: Link[];
  buyer?: Buyer;
  fulfillment_details?: FulfillmentDetails;
  order?: Order;
  /** Present when a person must approve the payment elsewhere (PayPal). */
  continue_url?: string;
  created_at?: string;
  updated_at?: string;
}

/** The amount the buyer would pay now, from `totals`. */
export function totalAmount(session: CheckoutSession): number | undefined {
  return session.totals.find((t) => t.type === 'total')?.amount;
}

/** Complete counts as done only when the session says completed and carries an order (R12). */
export function isCompleted(session: CheckoutSession): boolean {
  return session.status === 'completed' && session.order !== undefined;
}

/** Where a checkout stands with its payment: the one reading every backend's state goes through (R13). */
export type Completion =
  /** Completed with an order: the merchant holds the charge. */
  | 'completed'
  /** The person must act first (3-D Secure, PayPal approval, escalation). */
  | 'awaiting_payer'
  /** The merchant is still completing it: sending again could only race it. */
  | 'in_progress'
  /** Canceled or expired: it will never complete. */
  | 'closed'
  /** Not completed, nothing pending: a complete may be sent. */
  | 'open';

export function completionOf(session: CheckoutSession): Completion {
  if (isCompleted(session)) return 'completed';
  switch (session.status) {
    case 'authentication_required':
    case 'pending_approval':
    case 'requires_escalation':
      return 'awaiting_payer';
    case 'complete_in_progress':
      return 'in_progress';
    case 'canceled':
    case 'expired':
      return 'closed';
    default:
      return 'open';
  }
}

/** The first error message in `messages[]`, which ACP merchants use for business failures (R12). */
export function firstError(session: CheckoutSession): Extract<Message, { type: 'error' }> | undefined {
  return session.messages.find((m): m is Extract<Message, { type: 'error' }> => m.type === 'error');
}
