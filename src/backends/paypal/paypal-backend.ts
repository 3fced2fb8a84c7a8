// The PayPal backend: one checkout is one Orders v2 order (intent CAPTURE), priced from ONCE_CATALOG, over fetch.
// The payer approves at PayPal (continue_url); complete captures. PayPal honours PayPal-Request-Id on create and
// capture but not on PATCH, so update reads the order first and only patches what differs, with absolute values.
import { createHash } from 'node:crypto';
import { HOUR } from '../../config/duration.js';
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../../commerce/inputs.js';
import { redactDeep } from '../../commerce/redact.js';
import { byId, invalid, type Backend, type BackendResult, type CallContext, type Retention } from '../backend.js';
import type { Catalog } from '../catalog-file.js';
import { checkPaypalApiBase, DEFAULT_REQUEST_ID_RETENTION_MS, type PaypalConfig } from './paypal-config.js';
import { describePaypalError, firstIssue, paypalFailure } from './paypal-errors.js';
import { PaypalHttp, type PaypalReply } from './paypal-http.js';
import { toPaypalMoney, type PaypalMoney } from './paypal-money.js';
import {
  approvalUrl,
  isPaypalOrder,
  latestCapture,
  orderToSession,
  shippingOf,
  type PaypalItem,
  type PaypalOrder,
  type PaypalShipping,
} from './paypal-order.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const ORDERS = '/v2/checkout/orders';

type Priced = { ok: true; items: PaypalItem[]; amount: PaypalAmount } | { ok: false; result: BackendResult };
type PaypalAmount = PaypalMoney & { breakdown: { item_total: PaypalMoney } };
type Read = { ok: true; order: PaypalOrder; debugId?: string } | { ok: false; result: BackendResult };
type PatchOp = { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown };
type PatchOps = { ok: true; ops: PatchOp[] } | { ok: false; result: BackendResult };

export function paypalRetention(requestIdRetentionMs?: number): Retention {
  const providerMs = requestIdRetentionMs ?? DEFAULT_REQUEST_ID_RETENTION_MS;
  return {
    providerMs,
    // One hour under PayPal's window (5 h for the default 6 h), so our record never outlives PayPal's.
    defaultTtlMs: providerMs > 2 * HOUR ? providerMs - HOUR : Math.floor(providerMs / 2),
    description: 'PayPal-Request-Id (Orders v2: 6 h unless PayPal extended it to 72 h for the account)',
  };
}

export class PaypalBackend implements Backend {
  readonly name = 'paypal' as const;
  readonly merchant: string;
  readonly retention: Retention;
  /** PATCH carries no PayPal-Request-Id: a PATCH we gave up on may still land after a newer one (R14). */
  readonly updatesUnkeyed = true;
  /** The payer's approval at PayPal is what capture charges: before it, complete sends nothing (R6). */
  readonly approvalIsCredential = true;
  private readonly http: PaypalHttp;
  private readonly catalog: Catalog;
  private readonly permalinkBase: string;

  constructor(options: PaypalConfig) {
    if (!options.clientId) throw new Error('PAYPAL_CLIENT_ID is empty: set the PayPal REST app client id');
    if (!options.clientSecret) throw new Error('PAYPAL_CLIENT_SECRET is empty: set the PayPal REST app secret');
    const base = checkPaypalApiBase(options.apiBase);
    this.http = new PaypalHttp({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      apiBase: options.apiBase,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const live = base.hostname === 'api-m.paypal.com' || base.hostname === 'api.paypal.com';
    this.permalinkBase = live ? 'https://www.paypal.com/activity/payment/' : 'https://www.sandbox.paypal.com/activity/payment/';
    this.catalog = checkCatalog(options.catalog);
    this.merchant = `paypal:${live ? 'live' : 'sandbox'}:${createHash('sha256').update(options.clientId).digest('hex').slice(0, 16)}`;
    this.retention = paypalRetention(options.requestIdRetentionMs);
  }

  create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.createOrder(input, ctx));
  }

  update(id: string, input: UpdateInput, _ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.updateOrder(id, input));
  }

  complete(id: string, _input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.captureOrder(id, ctx));
  }

  cancel(id: string, _input: CancelInput, _ctx: CallContext): Promise<BackendResult> {
    return this.redacted(this.cancelOrder(id));
  }

  async get(id: string): Promise<BackendResult> {
    return this.redacted(this.readOrderResult(id));
  }

  /** PayPal's words reach our results; neither the client secret nor an access token ever does (R10). */
  private async redacted(result: Promise<BackendResult>): Promise<BackendResult> {
    return redactDeep(await result, this.http.secrets());
  }

  private async createOrder(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
    const priced = this.priceItems(input.items, input.currency);
    if (!priced.ok) return priced.result;
    const unit: Record<string, unknown> = { reference_id: 'default', amount: priced.amount, items: priced.items };
    const shipping = input.fulfillment_details ? shippingOf(input.fulfillment_details) : undefined;
    if (shipping) unit.shipping = shipping;
    const body: Record<string, unknown> = { intent: 'CAPTURE', purchase_units: [unit] };
    // The order request's `payer` is deprecated: "the details in the payer object are now available under
    // payment_source.paypal" (Orders v2 OpenAPI). With it PayPal starts the order at PAYER_ACTION_REQUIRED.
    if (input.buyer?.email) body.payment_source = { paypal: { email_address: input.buyer.email } };
    const reply = await this.http.send({ method: 'POST', path: ORDERS, body, requestId: ctx.idempotencyKey });
    const read = this.orderFrom(reply, 'create');
    return read.ok ? this.succeeded(read.order, read.debugId) : read.result;
  }

  private async updateOrder(id: string, input: UpdateInput): Promise<BackendResult> {
    if (input.selected_fulfillment_options && input.selected_fulfillment_options.length > 0) {
      return invalid('PayPal checkouts have no fulfillment options to select').result;
    }
    if (input.discounts && input.discounts.codes.length > 0) {
      return invalid('the PayPal backend does not apply discount codes').result;
    }
    const read = await this.readOrder(id);
    if (!read.ok) return read.result;
    const refused = this.unchangeable(read.order);
    if (refused) return refused;
    const ops = this.patchOps(read.order, input);
    if (!ops.ok) return ops.result;
    // PATCH carries no PayPal-Request-Id; skipping it when the order already matches makes a resend harmless.
    const after = ops.ops.length > 0 ? await this.patchOrder(id, ops.ops) : read;
    if (!after.ok) return after.result;
    const result = this.succeeded(after.order, after.debugId);
    if (input.buyer && result.kind === 'succeeded') {
      result.checkout.messages.push({
        type: 'warning',
        code: 'buyer_not_sent',
        content_type: 'plain',
        content: 'PayPal takes the buyer from the PayPal account that approves the payment; the buyer given was not sent.',
      });
    }
    return result;
  }

  /**
   * "Updates an order with a CREATED or APPROVED status" (Orders v2 OpenAPI, orders.patch): the refusal of any
   * other, before sending a PATCH PayPal would refuse; undefined when the order can change.
   */
  private unchangeable(order: PaypalOrder): BackendResult | undefined {
    if (order.status === 'PAYER_ACTION_REQUIRED') {
      const url = approvalUrl(order);
      return {
        kind: 'failed',
        code: 'payer_action_required',
        message: `PayPal changes an order only while it is CREATED or APPROVED; order ${order.id} waits for the buyer at PayPal${url ? ` (${url})` : ''}.`,
        checkout: this.toSession(order),
      };
    }
    if (order.status !== 'CREATED' && order.status !== 'APPROVED') {
      return { kind: 'failed', code: 'merchant_error', message: `PayPal order ${order.id} is ${order.status} and can no longer change`, checkout: this.toSession(order) };
    }
    return undefined;
  }

  /** Sends the PATCH, then reads the order back as it now stands. */
  private async patchOrder(id: string, ops: PatchOp[]): Promise<Read> {
    const patched = await this.http.send({ method: 'PATCH', path: `${ORDERS}/${encodeURIComponent(id)}`, body: ops });
    if (patched.kind !== 'reply' || patched.status < 200 || patched.status >= 300) {
      return { ok: false, result: paypalFailure(patched, { operation: 'update', notFoundMeansCheckout: true }) };
    }
    const after = await this.readOrder(id);
    // The PATCH went through; if the read-back fails, only a later read can show the result.
    if (!after.ok) {
      return { ok: false, result: after.result.kind === 'unknown' ? after.result : { kind: 'unknown', reason: 'PayPal order unreadable after update' } };
    }
    return { ok: true, order: after.order, debugId: patched.debugId ?? after.debugId };
  }

  private async captureOrder(id: string, ctx: CallContext): Promise<BackendResult> {
    // The payer's approval at PayPal is the payment credential; payment_data carries nothing PayPal needs.
    const reply = await this.http.send({
      method: 'POST',
      path: `${ORDERS}/${encodeURIComponent(id)}/capture`,
      body: {},
      requestId: ctx.idempotencyKey,
    });
    const captured = this.orderFrom(reply, 'complete');
    if (captured.ok) return this.capturedOrder(captured.order, captured.debugId);
    if (reply.kind !== 'reply') return captured.result;
    return this.refusedCapture(id, reply, captured.result);
  }

  /** A capture PayPal did not answer with an order: the buyer's turn, already captured, in progress, or declined. */
  private async refusedCapture(id: string, reply: PaypalReply & { kind: 'reply' }, refusal: BackendResult): Promise<BackendResult> {
    const issue = firstIssue(reply.body);
    // Both mean the buyer's turn at PayPal: ORDER_NOT_APPROVED (never approved) and PAYER_ACTION_REQUIRED
    // ("instruct the buyer to return to PayPal", Orders v2 OpenAPI capture 422).
    if (issue === 'ORDER_NOT_APPROVED' || issue === 'PAYER_ACTION_REQUIRED') return this.notApproved(id);
    if (issue === 'ORDER_ALREADY_CAPTURED') {
      // PayPal captures an order once: the order as it stands, judged like a capture's answer (its capture may be
      // COMPLETED, PENDING, or DECLINED/FAILED: the order is then spent, a decline, not a success without an order).
      const read = await this.readOrder(id);
      if (read.ok) return this.capturedOrder(read.order, read.debugId);
    }
    if (issue === 'ORDER_COMPLETION_IN_PROGRESS') {
      // PayPal is capturing the order itself ("Please try your request again"): not a refusal. Read it; until it
      // shows the capture, the outcome is unknown, so the ledger reads it again before anything else (R6, R13).
      const read = await this.readOrder(id);
      if (read.ok && read.order.status === 'COMPLETED') return this.capturedOrder(read.order, read.debugId);
      return { kind: 'unknown', reason: `PayPal is still completing order ${id} (ORDER_COMPLETION_IN_PROGRESS)`, ...(reply.debugId ? { providerRequestId: reply.debugId } : {}) };
    }
    if (refusal.kind === 'failed' && refusal.code === 'payment_declined') {
      const redirect = (reply.body as { links?: Array<{ rel: string; href: string }> }).links?.find((l) => l.rel === 'redirect');
      return {
        ...refusal,
        message: redirect
          ? `PayPal declined the payer's funding source (${describePaypalError(reply.body)}): send the person to ${redirect.href} to choose another.`
          : refusal.message,
      };
    }
    return refusal;
  }

  /** The buyer has not approved the order at PayPal yet: where to send the person, with the order when readable. */
  private async notApproved(id: string): Promise<BackendResult> {
    const read = await this.readOrder(id);
    const url = read.ok ? approvalUrl(read.order) : undefined;
    return {
      kind: 'failed',
      code: 'payer_action_required',
      message: url
        ? `The buyer has not approved this PayPal payment yet: send the person to ${url} to approve it, then call complete_checkout again.`
        : 'The buyer has not approved this PayPal payment yet: have the person approve it at PayPal, then call complete_checkout again.',
      ...(read.ok ? { checkout: this.toSession(read.order) } : {}),
    };
  }

  private async cancelOrder(id: string): Promise<BackendResult> {
    // Orders v2 has no cancel for a CAPTURE order: report honestly instead of pretending.
    const read = await this.readOrder(id);
    if (!read.ok) return read.result;
    const order = read.order;
    if (order.status === 'VOIDED') return this.succeeded(order, read.debugId);
    if (order.status === 'COMPLETED') {
      return {
        kind: 'failed',
        code: 'not_cancelable',
        message: `PayPal order ${id} is already captured; a refund is needed, which once-checkout does not do`,
        checkout: this.toSession(order),
      };
    }
    return {
      kind: 'failed',
      code: 'unsupported',
      message:
        `PayPal has no API to cancel an order. Order ${id} (${order.status}) is charged only if complete_checkout captures it, ` +
        'and PayPal voids it on its own when it expires: do not complete it.',
      checkout: this.toSession(order),
    };
  }

  private async readOrderResult(id: string): Promise<BackendResult> {
    const read = await this.readOrder(id);
    return read.ok ? this.succeeded(read.order, read.debugId) : read.result;
  }

  private async readOrder(id: string): Promise<Read> {
    return this.orderFrom(await this.http.send({ method: 'GET', path: `${ORDERS}/${encodeURIComponent(id)}` }), 'get');
  }

  /** A 2xx whose body is an order, else the failure it stands for. */
  private orderFrom(reply: PaypalReply, operation: string): Read {
    if (reply.kind === 'reply' && reply.status >= 200 && reply.status < 300) {
      if (isPaypalOrder(reply.body)) return { ok: true, order: reply.body, debugId: reply.debugId };
      // A 2xx we cannot read: PayPal acted, but we do not know the outcome.
      return { ok: false, result: { kind: 'unknown', reason: `PayPal's ${operation} reply was not an order` } };
    }
    return { ok: false, result: paypalFailure(reply, { operation, notFoundMeansCheckout: operation !== 'create' }) };
  }

  /** An order PayPal shows captured: paid (refunded since, or not), pending, or declined at capture. */
  private capturedOrder(order: PaypalOrder, debugId?: string): BackendResult {
    const status = latestCapture(order)?.status;
    if (status === 'DECLINED' || status === 'FAILED') {
      return {
        kind: 'failed',
        code: 'payment_declined',
        message: `PayPal declined the capture (${status}); this order cannot be paid again: create a new checkout`,
        checkout: this.toSession(order),
      };
    }
    return this.succeeded(order, debugId);
  }

  private succeeded(order: PaypalOrder, debugId?: string): BackendResult {
    return { kind: 'succeeded', checkout: this.toSession(order), ...(debugId ? { providerRequestId: debugId } : {}) };
  }

  private toSession(order: PaypalOrder) {
    return orderToSession(order, this.permalinkBase);
  }

  /** Prices the items from the catalog, sorted by id. They arrive merged by id (canonicalItems, checkout/intent.ts). */
  private priceItems(refs: ItemRef[], currency: string): Priced {
    if (refs.length === 0) return invalid('a checkout needs at least one item');
    const items: PaypalItem[] = [];
    let total = 0;
    for (const { id, quantity } of byId(refs)) {
      const entry = this.catalog[id];
      if (!entry) return invalid(`item ${id} is not in the ONCE_CATALOG catalog`);
      if (entry.currency !== currency.toLowerCase()) {
        return invalid(`item ${id} is priced in ${entry.currency}, the checkout is in ${currency.toLowerCase()}`);
      }
      const unitAmount = toPaypalMoney(entry.unit_amount, currency);
      if (!unitAmount.ok) return invalid(`item ${id}: ${unitAmount.reason}`);
      items.push({ name: entry.name, quantity: String(quantity), unit_amount: unitAmount.money, sku: id });
      total += entry.unit_amount * quantity;
    }
    const money = toPaypalMoney(total, currency);
    if (!money.ok) return invalid(`the total: ${money.reason}`);
    return { ok: true, items, amount: { ...money.money, breakdown: { item_total: money.money } } };
  }

  /** The PATCH operations that bring the order to the requested state; none when it is already there. */
  private patchOps(order: PaypalOrder, input: UpdateInput): PatchOps {
    const unit = order.purchase_units[0];
    const ref = `/purchase_units/@reference_id=='${unit?.reference_id ?? 'default'}'`;
    const ops: PatchOp[] = [];
    if (input.items) {
      const priced = this.priceItems(input.items, unit?.amount.currency_code ?? 'USD');
      if (!priced.ok) return priced;
      if (itemsKey(unit?.items ?? [], unit?.amount.value) !== itemsKey(priced.items, priced.amount.value)) {
        ops.push({ op: 'replace', path: `${ref}/amount`, value: priced.amount });
        ops.push({ op: unit?.items ? 'replace' : 'add', path: `${ref}/items`, value: priced.items });
      }
    }
    if (input.fulfillment_details === undefined) return { ok: true, ops };
    const shipping = shippingOps(unit?.shipping, input.fulfillment_details, ref);
    return shipping.ok ? { ok: true, ops: [...ops, ...shipping.ops] } : shipping;
  }
}

/** An amount PayPal cannot take exactly (a HUF price that is not a whole forint) stops start-up, never rounded. */
function checkCatalog(catalog: Catalog): Catalog {
  for (const [id, entry] of Object.entries(catalog)) {
    const money = toPaypalMoney(entry.unit_amount, entry.currency);
    if (!money.ok) throw new Error(`ONCE_CATALOG: item ${JSON.stringify(id)}: ${money.reason}`);
  }
  return catalog;
}

/** The PATCH operations on the shipping name and address; `null` (remove it) is refused. */
function shippingOps(current: PaypalShipping | undefined, details: UpdateInput['fulfillment_details'], ref: string): PatchOps {
  if (details === null) {
    // PayPal allows only replace and add on shipping.address and shipping.name (Orders v2 OpenAPI, orders.patch
    // "Patchable attributes"; a remove is 422 NOT_PATCHABLE): refuse here rather than send it.
    if (current?.address) {
      return invalid(
        'PayPal cannot remove the shipping address from an order (it allows only replacing it): give the new address in ' +
          'fulfillment_details, or create a new checkout without one',
      );
    }
    return { ok: true, ops: [] };
  }
  if (!details) return { ok: true, ops: [] };
  const wanted: PaypalShipping | undefined = shippingOf(details);
  if (!wanted) return invalid('PayPal needs a shipping address in fulfillment_details.address');
  const ops: PatchOp[] = [];
  if (!sameAddress(current?.address, wanted.address)) {
    ops.push({ op: current?.address ? 'replace' : 'add', path: `${ref}/shipping/address`, value: wanted.address });
  }
  if (wanted.name && current?.name?.full_name !== wanted.name.full_name) {
    ops.push({ op: current?.name ? 'replace' : 'add', path: `${ref}/shipping/name`, value: wanted.name });
  }
  return { ok: true, ops };
}

function itemsKey(items: PaypalItem[], total: string | undefined): string {
  const lines = items.map((i) => `${i.sku ?? i.name}*${i.quantity}*${Number(i.unit_amount.value)}`).sort();
  return `${lines.join(',')}=${Number(total)}`;
}

function sameAddress(a: object | undefined, b: object | undefined): boolean {
  const norm = (x: object | undefined) =>
    JSON.stringify(Object.entries(x ?? {}).filter(([, v]) => v !== undefined && v !== '').sort(([k1], [k2]) => k1.localeCompare(k2)));
  return norm(a) === norm(b);
}
