// What an agent asks of a checkout, in the words every backend takes: the inputs of create, update, complete and
// cancel. Below checkout/ and backends/, so both speak it without importing each other.
import type { Buyer, FulfillmentDetails, SelectedFulfillmentOption } from './session.js';

export interface ItemRef {
  id: string;
  quantity: number;
}

export interface CreateInput {
  items: ItemRef[];
  currency: string;
  buyer?: Buyer;
  fulfillment_details?: FulfillmentDetails;
}

/** `null` clears a field, an absent field leaves it as it is (R2). */
export interface UpdateInput {
  items?: ItemRef[];
  buyer?: Buyer | null;
  fulfillment_details?: FulfillmentDetails | null;
  selected_fulfillment_options?: SelectedFulfillmentOption[] | null;
  discounts?: { codes: string[] } | null;
}

export interface PaymentData {
  handler_id?: string;
  instrument: { type: string; credential: { type: string; token: string } };
}

export interface CompleteInput {
  payment_data: PaymentData;
  buyer?: Buyer;
}

export interface CancelInput {
  reason?: string;
}
