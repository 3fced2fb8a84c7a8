// The Stripe backend: one checkout is one PaymentIntent, priced from Stripe Prices, driven by the real SDK.
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { HOUR } from '../../config/duration.js';
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../../commerce/inputs.js';
import { redactDeep } from '../../commerce/redact.js';
import type { Buyer } from '../../commerce/session.js';
import { byId, invalid, type Backend, type BackendResult, type CallContext, type Retention } from '../backend.js';
import type { StripeConfig } from './stripe-config.js';
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
type PaymentIntentReply = Stripe.Response<Stripe.PaymentIntent> | Stripe.PaymentIntent;

export class StripeBackend implements Backend {
  readonly name = 'stripe' as const;
  readonly merchant: string;
  readonly retention: Retention = STRIPE_RETENTION;
  private readonly stripe: Stripe;
  private readonly secretKey: string;

  constructor(options: StripeConfig) {
    this.stripe = createStripeClient(options);
    this.merchant = stripeMerchantId(options);
    this.secretKey = options.secretKey;
  }

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.createPaymentIntent(input, ctx));
  }

  update(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.updatePaymentIntent(id, input, ctx));
  }

  complete(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.confirmPaymentIntent(id, input, ctx));
  }

  cancel(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.cancelPaymentIntent(id, input, ctx));
  }

  get(id: string): Promise<BackendResult> {
    return this.redacted(this.readPaymentIntent(id));
  }

  /** Stripe error messages are the PSP's words; the secret key never leaves in them (R10). */
  private async redacted(result: Promise<BackendResult>): Promise<BackendResult> {
    return redactDeep(await result, [this.secretKey]);
  }

  private async createPaymentIntent(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    const priced = await this.priceItems(input.items, input.currency, 'create');
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
      return succeeded(await this.stripe.paymentIntents.create(params, { idempotencyKey: ctx.idempotencyKey }));
    } catch (err) {
      return stripeErrorToResult(err, { ...site('create', ctx), notFoundMeansCheckout: false });
    }
  }

  private async updatePaymentIntent(id: string, input: UpdateInput, ctx: CallContext): Promise<BackendResult> {
    if (input.selected_fulfillment_options && input.selected_fulfillment_options.length > 0) {
      return invalid('Stripe checkouts have no fulfillment options to select').result;
    }
    if (input.discounts && input.discounts.codes.length > 0) {
      return invalid('the Stripe backend does not apply discount codes').result;
    }
    const built = await this.updateParams(id, input, ctx);
    if (!built.ok) return built.result;
    const { params } = built;
    // Nothing Stripe stores changes: read instead of sending an empty mutation.
    if (Object.keys(params).length === 0) return this.readPaymentIntent(id);
    try {
      return succeeded(await this.stripe.paymentIntents.update(id, params, { idempotencyKey: ctx.idempotencyKey }));
    } catch (err) {
      return stripeErrorToResult(err, site('update', ctx));
    }
  }

  /** The PaymentIntent fields an update changes: amount and items (priced in its currency), buyer, shipping. */
  private async updateParams(
    id: string,
    input: UpdateInput,
    ctx: CallContext,
  ): Promise<{ ok: true; params: Stripe.PaymentIntentUpdateParams } | { ok: false; result: BackendResult }> {
    const params: Stripe.PaymentIntentUpdateParams = {};
    const metadata: Record<string, string> = {};
    if (input.items) {
      let current: Stripe.PaymentIntent;
      try {
        current = await this.stripe.paymentIntents.retrieve(id);
      } catch (err) {
        return { ok: false, result: stripeErrorToResult(err, site('update', ctx)) };
      }
      const priced = await this.priceItems(input.items, current.currency, 'update');
      if (!priced.ok) return priced;
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
    return { ok: true, params };
  }

  private async confirmPaymentIntent(id: string, input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    const token = input.payment_data?.instrument?.credential?.token;
    if (!token) return invalid('payment_data.instrument.credential.token must be a Stripe PaymentMethod id (pm_…)').result;
    const params: Stripe.PaymentIntentConfirmParams = { payment_method: token };
    if (input.buyer?.email) params.receipt_email = input.buyer.email;
    try {
      return succeeded(await this.stripe.paymentIntents.confirm(id, params, { idempotencyKey: ctx.idempotencyKey }));
    } catch (err) {
      return stripeErrorToResult(err, site('complete', ctx));
    }
  }

  private async cancelPaymentIntent(id: string, input: CancelInput, ctx: CallContext): Promise<BackendResult> {
    const reason = CANCELLATION_REASONS.find((r) => r === input.reason) ?? 'requested_by_customer';
    let pi: Stripe.Response<Stripe.PaymentIntent>;
    try {
      pi = await this.stripe.paymentIntents.cancel(id, { cancellation_reason: reason }, { idempotencyKey: ctx.idempotencyKey });
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
  }

  private async readPaymentIntent(id: string): Promise<BackendResult> {
    try {
      return succeeded(await this.stripe.paymentIntents.retrieve(id));
    } catch (err) {
      return stripeErrorToResult(err, site('get'));
    }
  }

  /**
   * Retrieves each Price, sorted by id, and checks it can be sold in `currency`. The items arrive merged by id
   * (canonicalItems, checkout/intent.ts), one line per Price.
   */
  private async priceItems(refs: ItemRef[], currency: string, operation: StripeCallSite['operation']): Promise<Priced> {
    if (refs.length === 0) return invalid('a checkout needs at least one item');
    const otherUnits = STRIPE_UNITS_NOT_ISO[currency.toLowerCase()];
    if (otherUnits) return invalid(otherUnits);
    const items: PricedItem[] = [];
    for (const { id: priceId, quantity } of byId(refs)) {
      let price: Stripe.Price;
      try {
        price = await this.stripe.prices.retrieve(priceId);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404) {
          return invalid(`item ${priceId} is not a Stripe Price in this account (item ids are Price ids, price_…)`);
        }
        return { ok: false, result: stripeErrorToResult(err, { operation, notFoundMeansCheckout: false }) };
      }
      const refused = unsellable(price, priceId, currency);
      if (refused) return invalid(refused);
      items.push({ priceId, quantity, unitAmount: price.unit_amount! });
    }
    try {
      // Refused here, before anything is sent: a throw from inside a call can only be reported as ambiguous.
      itemsToMetadata(items, false);
    } catch (err) {
      return invalid(err instanceof Error ? err.message : String(err));
    }
    const amount = items.reduce((sum, i) => sum + i.unitAmount * i.quantity, 0);
    return { ok: true, items, amount };
  }
}

/**
 * Currencies whose Stripe amounts are not ISO 4217 minor units (docs.stripe.com/currencies), the unit of every amount
 * here (R2, R14): the cap and the person's confirmation would judge one amount while Stripe charges another.
 */
const STRIPE_UNITS_NOT_ISO: Readonly<Record<string, string>> = {
  mga: 'Stripe counts MGA in whole ariary (zero-decimal) while ISO 4217 gives it 2 minor digits: the Stripe backend does not sell in MGA',
  isk: 'Stripe counts ISK in hundredths (two-decimal) while ISO 4217 gives it none: the Stripe backend does not sell in ISK',
};

/** Why a Price cannot be bought in this checkout, or undefined when it can. */
function unsellable(price: Stripe.Price, priceId: string, currency: string): string | undefined {
  if (!price.active) return `Stripe Price ${priceId} is archived`;
  if (price.type !== 'one_time') return `Stripe Price ${priceId} is recurring; only one-time prices can be bought`;
  if (price.unit_amount === null) return `Stripe Price ${priceId} has no fixed unit_amount`;
  if (price.currency !== currency.toLowerCase()) {
    return `Stripe Price ${priceId} is in ${price.currency}, the checkout is in ${currency.toLowerCase()}`;
  }
  return undefined;
}

function succeeded(pi: PaymentIntentReply): BackendResult {
  const requestId = 'lastResponse' in pi ? pi.lastResponse?.requestId : undefined;
  return { kind: 'succeeded', checkout: paymentIntentToSession(pi), ...(requestId ? { providerRequestId: requestId } : {}) };
}

function site(operation: StripeCallSite['operation'], ctx?: CallContext): StripeCallSite {
  return { operation, idempotencyKey: ctx?.idempotencyKey, notFoundMeansCheckout: true };
}

/** 'stripe:<mode>:<hash>': names the account without revealing the key (R2, R10). */
export function stripeMerchantId(options: Pick<StripeConfig, 'secretKey' | 'accountId'>): string {
  const mode = options.secretKey.includes('_live_') ? 'live' : 'test';
  const identity = options.accountId ?? options.secretKey;
  return `stripe:${mode}:${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

function buyerMetadata(buyer: Buyer): Record<string, string> {
  const json = JSON.stringify(buyer);
  // Stripe caps a metadata value at 500 characters; the receipt email alone still records the buyer.
  return json.length <= 500 ? { [BUYER_KEY]: json } : {};
}
