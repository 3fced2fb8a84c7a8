// The Stripe backend: one checkout is one PaymentIntent, priced from Stripe Prices, driven by the real SDK.
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import type { Backend, BackendResult, CallContext } from '../backend.js';
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../../commerce/inputs.js';
import { redactingBackend } from '../redacting.js';
import { HOUR } from '../../config/duration.js';
import type { Buyer } from '../../commerce/session.js';
import type { StripeBackendOptions } from './stripe-config.js';
import { createStripeClient } from './stripe-client.js';
import { stripeErrorToResult, type StripeCallSite } from './stripe-errors.js';
import { itemsToMetadata, type PricedItem } from './stripe-line-items.js';
import { BUYER_KEY, paymentIntentToSession, shippingParam } from './stripe-session.js';

export const STRIPE_RETENTION = {
  providerMs: 24 * HOUR,
  defaultTtlMs: 23 * HOUR,
  description: 'Stripe Idempotency-Key (API v1, kept at least 24 h)',
} as const;

/** Metadata key recording the ledger key that created the PaymentIntent, for audits. */
export const CREATE_KEY_METADATA = 'once_key';

const CANCELLATION_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;

type Priced = { ok: true; items: PricedItem[]; amount: number } | { ok: false; result: BackendResult };

export function createStripeBackend(options: StripeBackendOptions): Backend {
  const stripe = createStripeClient(options);

  const succeeded = (pi: Stripe.Response<Stripe.PaymentIntent> | Stripe.PaymentIntent): BackendResult => {
    const requestId = 'lastResponse' in pi ? pi.lastResponse?.requestId : undefined;
    return { kind: 'succeeded', checkout: paymentIntentToSession(pi), ...(requestId ? { providerRequestId: requestId } : {}) };
  };
  const site = (operation: StripeCallSite['operation'], ctx?: CallContext): StripeCallSite => ({
    operation,
    idempotencyKey: ctx?.idempotencyKey,
    notFoundMeansCheckout: true,
  });

  /** Retrieves each distinct Price and checks it can be sold in `currency`. */
  async function priceItems(refs: ItemRef[], currency: string, operation: StripeCallSite['operation']): Promise<Priced> {
    const quantities = new Map<string, number>();
    for (const ref of refs) quantities.set(ref.id, (quantities.get(ref.id) ?? 0) + ref.quantity);
    if (quantities.size === 0) return invalid('a checkout needs at least one item');
    const items: PricedItem[] = [];
    for (const [priceId, quantity] of [...quantities].sort(([a], [b]) => a.localeCompare(b))) {
      let price: Stripe.Price;
      try {
        price = await stripe.prices.retrieve(priceId);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404) {
          return invalid(`item ${priceId} is not a Stripe Price in this account (item ids are Price ids, price_…)`);
        }
        return { ok: false, result: stripeErrorToResult(err, { operation, notFoundMeansCheckout: false }) };
      }
      if (!price.active) return invalid(`Stripe Price ${priceId} is archived`);
      if (price.type !== 'one_time') return invalid(`Stripe Price ${priceId} is recurring; only one-time prices can be bought`);
      if (price.unit_amount === null) return invalid(`Stripe Price ${priceId} has no fixed unit_amount`);
      if (price.currency !== currency.toLowerCase()) {
        return invalid(`Stripe Price ${priceId} is in ${price.currency}, the checkout is in ${currency.toLowerCase()}`);
      }
      items.push({ priceId, quantity, unitAmount: price.unit_amount });
    }
    const amount = items.reduce((sum, i) => sum + i.unitAmount * i.quantity, 0);
    return { ok: true, items, amount };
  }

  const backend: Backend = {
    name: 'stripe',
    merchant: stripeMerchantId(options),
    retention: STRIPE_RETENTION,

    async create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
      const priced = await priceItems(input.items, input.currency, 'create');
      if (!priced.ok) return priced.result;
      const params: Stripe.PaymentIntentCreateParams = {
        amount: priced.amount,
        currency: input.currency.toLowerCase(),
        // Server-side confirmation has no return_url, so no redirect-based methods.
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        metadata: { ...itemsToMetadata(priced.items, false), [CREATE_KEY_METADATA]: ctx.idempotencyKey },
      };
      if (input.buyer) {
        params.receipt_email = input.buyer.email;
        Object.assign(params.metadata!, buyerMetadata(input.buyer));
      }
      const shipping = input.fulfillment_details ? shippingParam(input.fulfillment_details) : undefined;
      if (shipping) params.shipping = shipping;
      try {
        return succeeded(await stripe.paymentIntents.create(params, { idempotencyKey: ctx.idempotencyKey }));
      } catch (err) {
        return stripeErrorToResult(err, { ...site('create', ctx), notFoundMeansCheckout: false });
      }
    },

    async update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
      if (input.selected_fulfillment_options && input.selected_fulfillment_options.length > 0) {
        return invalid('Stripe checkouts have no fulfillment options to select').result;
      }
      if (input.discounts && input.discounts.codes.length > 0) {
        return invalid('the Stripe backend does not apply discount codes').result;
      }
      const params: Stripe.PaymentIntentUpdateParams = {};
      const metadata: Record<string, string> = {};
      if (input.items) {
        let current: Stripe.PaymentIntent;
        try {
          current = await stripe.paymentIntents.retrieve(id);
        } catch (err) {
          return stripeErrorToResult(err, site('update', ctx));
        }
        const priced = await priceItems(input.items, current.currency, 'update');
        if (!priced.ok) return priced.result;
        params.amount = priced.amount;
        Object.assign(metadata, itemsToMetadata(priced.items, true));
      }
      if (input.buyer === null) {
        params.receipt_email = '';
        metadata[BUYER_KEY] = '';
      } else if (input.buyer) {
        params.receipt_email = input.buyer.email;
        Object.assign(metadata, { [BUYER_KEY]: '' }, buyerMetadata(input.buyer));
      }
      if (input.fulfillment_details === null) {
        params.shipping = '';
      } else if (input.fulfillment_details) {
        params.shipping = shippingParam(input.fulfillment_details) ?? '';
      }
      if (Object.keys(metadata).length > 0) params.metadata = metadata;
      // Nothing Stripe stores changes: read instead of sending an empty mutation.
      if (Object.keys(params).length === 0) return this.get(id);
      try {
        return succeeded(await stripe.paymentIntents.update(id, params, { idempotencyKey: ctx.idempotencyKey }));
      } catch (err) {
        return stripeErrorToResult(err, site('update', ctx));
      }
    },

    async complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
      const token = input.payment_data?.instrument?.credential?.token;
      if (!token) return invalid('payment_data.instrument.credential.token must be a Stripe PaymentMethod id (pm_…)').result;
      const params: Stripe.PaymentIntentConfirmParams = { payment_method: token };
      if (input.buyer?.email) params.receipt_email = input.buyer.email;
      try {
        return succeeded(await stripe.paymentIntents.confirm(id, params, { idempotencyKey: ctx.idempotencyKey }));
      } catch (err) {
        return stripeErrorToResult(err, site('complete', ctx));
      }
    },

    async cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
      const reason = CANCELLATION_REASONS.find((r) => r === input.reason) ?? 'requested_by_customer';
      let pi: Stripe.Response<Stripe.PaymentIntent>;
      try {
        pi = await stripe.paymentIntents.cancel(id, { cancellation_reason: reason }, { idempotencyKey: ctx.idempotencyKey });
      } catch (err) {
        return stripeErrorToResult(err, site('cancel', ctx));
      }
      // A 200 is not a cancellation: the answer is a PaymentIntent of any status (Stripe's OpenAPI), and only
      // `canceled` means no charge can follow.
      if (pi.status === 'canceled') return succeeded(pi);
      const checkout = paymentIntentToSession(pi);
      if (pi.status === 'succeeded') {
        return { kind: 'failed', code: 'checkout_completed', message: `PaymentIntent ${id} has already been paid (succeeded), so it can no longer be canceled`, checkout };
      }
      return {
        kind: 'failed',
        code: 'not_canceled',
        message: `Stripe answered the cancel of PaymentIntent ${id} with status ${pi.status}, not canceled: the checkout is not canceled. Read it with get_checkout before anything else`,
        checkout,
      };
    },

    async get(id: string): Promise<BackendResult> {
      try {
        return succeeded(await stripe.paymentIntents.retrieve(id));
      } catch (err) {
        return stripeErrorToResult(err, site('get'));
      }
    },
  };
  // Stripe error messages are the PSP's words; the secret key never leaves in them (R10).
  return redactingBackend(backend, () => [options.secretKey]);
}

/** 'stripe:<mode>:<hash>': names the account without revealing the key (R2, R10). */
export function stripeMerchantId(options: Pick<StripeBackendOptions, 'secretKey' | 'accountId'>): string {
  const mode = options.secretKey.includes('_live_') ? 'live' : 'test';
  const identity = options.accountId ?? options.secretKey;
  return `stripe:${mode}:${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

function buyerMetadata(buyer: Buyer): Record<string, string> {
  const json = JSON.stringify(buyer);
  // Stripe caps a metadata value at 500 characters; the receipt email alone still records the buyer.
  return json.length <= 500 ? { [BUYER_KEY]: json } : {};
}

function invalid(message: string): { ok: false; result: BackendResult } {
  return { ok: false, result: { kind: 'failed', code: 'invalid_input', message } };
}
