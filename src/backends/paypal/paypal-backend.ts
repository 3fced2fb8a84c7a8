// The PayPal backend: one checkout is one Orders v2 order (intent CAPTURE), priced from ONCE_CATALOG, over fetch.
// The payer approves at PayPal (continue_url); complete captures. PayPal honours PayPal-Request-Id on create and
// capture but not on PATCH, so update reads the order first and only patches what differs, with absolute values.
import { createHash } from 'node:crypto';
import type { Backend, BackendResult, CallContext } from '../backend.js';
import type { CancelInput, CompleteInput, CreateInput, ItemRef, UpdateInput } from '../../commerce/inputs.js';
import { redactingBackend } from '../redacting.js';
import { HOUR } from '../../config/duration.js';
import type { Catalog } from '../catalog-file.js';
import { checkPaypalApiBase, DEFAULT_REQUEST_ID_RETENTION_MS, type PaypalBackendOptions } from './paypal-config.js';
import { describePaypalError, firstIssue, paypalFailure } from './paypal-errors.js';
import { createPaypalHttp, type PaypalReply } from './paypal-http.js';
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

export function paypalRetention(requestIdRetentionMs?: number) {
  const providerMs = requestIdRetentionMs ?? DEFAULT_REQUEST_ID_RETENTION_MS;
  return {
    providerMs,
    // One hour under PayPal's window (5 h for the default 6 h), so our record never outlives PayPal's.
    defaultTtlMs: providerMs > 2 * HOUR ? providerMs - HOUR : Math.floor(providerMs / 2),
    description: 'PayPal-Request-Id (Orders v2: 6 h unless PayPal extended it to 72 h for the account)',
  };
}

export function createPaypalBackend(options: PaypalBackendOptions): Backend {
  if (!options.clientId) throw new Error('PAYPAL_CLIENT_ID is empty: set the PayPal REST app client id');
  if (!options.clientSecret) throw new Error('PAYPAL_CLIENT_SECRET is empty: set the PayPal REST app secret');
  const base = checkPaypalApiBase(options.apiBase);
  const http = createPaypalHttp({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    apiBase: options.apiBase,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const live = base.hostname === 'api-m.paypal.com' || base.hostname === 'api.paypal.com';
  const permalinkBase = live ? 'https://www.paypal.com/activity/payment/' : 'https://www.sandbox.paypal.com/activity/payment/';
  const catalog: Catalog = options.catalog;
  // An amount PayPal cannot take exactly (a HUF price that is not a whole forint) stops start-up, never rounded.
  for (const [id, entry] of Object.entries(catalog)) {
    const money = toPaypalMoney(entry.unit_amount, entry.currency);
    if (!money.ok) throw new Error(`ONCE_CATALOG: item ${JSON.stringify(id)}: ${money.reason}`);
  }

  const toSession = (order: PaypalOrder) => orderToSession(order, permalinkBase);
  const succeeded = (order: PaypalOrder, debugId?: string): BackendResult => ({
    kind: 'succeeded',
    checkout: toSession(order),
    ...(debugId ? { providerRequestId: debugId } : {}),
  });

  /** An order PayPal shows captured: paid (refunded since, or not), pending, or declined at capture. */
  function capturedOrder(order: PaypalOrder, debugId?: string): BackendResult {
    const status = latestCapture(order)?.status;
    if (status === 'DECLINED' || status === 'FAILED') {
      return {
        kind: 'failed',
        code: 'payment_declined',
        message: `PayPal declined the capture (${status}); this order cannot be paid again: create a new checkout`,
        checkout: toSession(order),
      };
    }
    return succeeded(order, debugId);
  }

  /** A 2xx whose body is an order, else the failure it stands for. */
  function orderFrom(reply: PaypalReply, operation: string): Read {
    if (reply.kind === 'reply' && reply.status >= 200 && reply.status < 300) {
      if (isPaypalOrder(reply.body)) return { ok: true, order: reply.body, debugId: reply.debugId };
      // A 2xx we cannot read: PayPal acted, but we do not know the outcome.
      return { ok: false, result: { kind: 'unknown', reason: `PayPal's ${operation} reply was not an order` } };
    }
    return { ok: false, result: paypalFailure(reply, { operation, notFoundMeansCheckout: operation !== 'create' }) };
  }

  async function readOrder(id: string): Promise<Read> {
    return orderFrom(await http.send({ method: 'GET', path: `${ORDERS}/${encodeURIComponent(id)}` }), 'get');
  }

  function priceItems(refs: ItemRef[], currency: string): Priced {
    const quantities = new Map<string, number>();
    for (const ref of refs) quantities.set(ref.id, (quantities.get(ref.id) ?? 0) + ref.quantity);
    if (quantities.size === 0) return invalid('a checkout needs at least one item');
    const items: PaypalItem[] = [];
    let total = 0;
    for (const [id, quantity] of [...quantities].sort(([a], [b]) => a.localeCompare(b))) {
      const entry = catalog[id];
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

  const backend: Backend = {
    name: 'paypal',
    merchant: `paypal:${live ? 'live' : 'sandbox'}:${createHash('sha256').update(options.clientId).digest('hex').slice(0, 16)}`,
    retention: paypalRetention(options.requestIdRetentionMs),

    async create(input: CreateInput, ctx: CallContext): Promise<BackendResult> {
      const priced = priceItems(input.items, input.currency);
      if (!priced.ok) return priced.result;
      const unit: Record<string, unknown> = { reference_id: 'default', amount: priced.amount, items: priced.items };
      const shipping = input.fulfillment_details ? shippingOf(input.fulfillment_details) : undefined;
      if (shipping) unit.shipping = shipping;
      const body: Record<string, unknown> = { intent: 'CAPTURE', purchase_units: [unit] };
      // The order request's `payer` is deprecated: "the details in the payer object are now available under
      // payment_source.paypal" (Orders v2 OpenAPI). With it PayPal starts the order at PAYER_ACTION_REQUIRED.
      if (input.buyer?.email) body.payment_source = { paypal: { email_address: input.buyer.email } };
      const reply = await http.send({ method: 'POST', path: ORDERS, body, requestId: ctx.idempotencyKey });
      const read = orderFrom(reply, 'create');
      return read.ok ? succeeded(read.order, read.debugId) : read.result;
    },

    async update(id: string, input: UpdateInput, _ctx: CallContext): Promise<BackendResult> {
      if (input.selected_fulfillment_options && input.selected_fulfillment_options.length > 0) {
        return invalid('PayPal checkouts have no fulfillment options to select').result;
      }
      if (input.discounts && input.discounts.codes.length > 0) {
        return invalid('the PayPal backend does not apply discount codes').result;
      }
      const read = await readOrder(id);
      if (!read.ok) return read.result;
      const order = read.order;
      // "Updates an order with a CREATED or APPROVED status" (Orders v2 OpenAPI, orders.patch): refuse any other
      // before sending a PATCH PayPal would refuse.
      if (order.status === 'PAYER_ACTION_REQUIRED') {
        const url = approvalUrl(order);
        return {
          kind: 'failed',
          code: 'payer_action_required',
          message: `PayPal changes an order only while it is CREATED or APPROVED; order ${id} waits for the buyer at PayPal${url ? ` (${url})` : ''}.`,
          checkout: toSession(order),
        };
      }
      if (order.status !== 'CREATED' && order.status !== 'APPROVED') {
        return { kind: 'failed', code: 'merchant_error', message: `PayPal order ${id} is ${order.status} and can no longer change`, checkout: toSession(order) };
      }
      const ops = patchOps(order, input);
      if (!ops.ok) return ops.result;
      let current = order;
      let debugId = read.debugId;
      // PATCH carries no PayPal-Request-Id; skipping it when the order already matches makes a resend harmless.
      if (ops.ops.length > 0) {
        const patched = await http.send({ method: 'PATCH', path: `${ORDERS}/${encodeURIComponent(id)}`, body: ops.ops });
        if (patched.kind !== 'reply' || patched.status < 200 || patched.status >= 300) {
          return paypalFailure(patched, { operation: 'update', notFoundMeansCheckout: true });
        }
        const after = await readOrder(id);
        // The PATCH went through; if the read-back fails, only a later read can show the result.
        if (!after.ok) return after.result.kind === 'unknown' ? after.result : { kind: 'unknown', reason: 'PayPal order unreadable after update' };
        current = after.order;
        debugId = patched.debugId ?? after.debugId;
      }
      const result = succeeded(current, debugId);
      if (input.buyer && result.kind === 'succeeded') {
        result.checkout.messages.push({
          type: 'warning',
          code: 'buyer_not_sent',
          content_type: 'plain',
          content: 'PayPal takes the buyer from the PayPal account that approves the payment; the buyer given was not sent.',
        });
      }
      return result;
    },

    async complete(id: string, _input: CompleteInput, ctx: CallContext): Promise<BackendResult> {
      // The payer's approval at PayPal is the payment credential; payment_data carries nothing PayPal needs.
      const reply = await http.send({
        method: 'POST',
        path: `${ORDERS}/${encodeURIComponent(id)}/capture`,
        body: {},
        requestId: ctx.idempotencyKey,
      });
      const captured = orderFrom(reply, 'complete');
      if (captured.ok) return capturedOrder(captured.order, captured.debugId);
      if (reply.kind !== 'reply') return captured.result;
      const issue = firstIssue(reply.body);
      // Both mean the buyer's turn at PayPal: ORDER_NOT_APPROVED (never approved) and PAYER_ACTION_REQUIRED
      // ("instruct the buyer to return to PayPal", Orders v2 OpenAPI capture 422).
      if (issue === 'ORDER_NOT_APPROVED' || issue === 'PAYER_ACTION_REQUIRED') {
        const read = await readOrder(id);
        const url = read.ok ? approvalUrl(read.order) : undefined;
        return {
          kind: 'failed',
          code: 'payer_action_required',
          message: url
            ? `The buyer has not approved this PayPal payment yet: send the person to ${url} to approve it, then call complete_checkout again.`
            : 'The buyer has not approved this PayPal payment yet: have the person approve it at PayPal, then call complete_checkout again.',
          ...(read.ok ? { checkout: toSession(read.order) } : {}),
        };
      }
      if (issue === 'ORDER_ALREADY_CAPTURED') {
        // PayPal captures an order once; report the order as it stands rather than an error.
        const read = await readOrder(id);
        if (read.ok) return succeeded(read.order, read.debugId);
      }
      if (issue === 'ORDER_COMPLETION_IN_PROGRESS') {
        // PayPal is capturing the order itself ("Please try your request again"): not a refusal. Read it; until it
        // shows the capture, the outcome is unknown, so the ledger reads it again before anything else (R6, R13).
        const read = await readOrder(id);
        if (read.ok && read.order.status === 'COMPLETED') return capturedOrder(read.order, read.debugId);
        return { kind: 'unknown', reason: `PayPal is still completing order ${id} (ORDER_COMPLETION_IN_PROGRESS)`, ...(reply.debugId ? { providerRequestId: reply.debugId } : {}) };
      }
      if (captured.result.kind === 'failed' && captured.result.code === 'payment_declined') {
        const redirect = (reply.body as { links?: Array<{ rel: string; href: string }> }).links?.find((l) => l.rel === 'redirect');
        return {
          ...captured.result,
          message: redirect
            ? `PayPal declined the payer's funding source (${describePaypalError(reply.body)}): send the person to ${redirect.href} to choose another.`
            : captured.result.message,
        };
      }
      return captured.result;
    },

    async cancel(id: string, _input: CancelInput, _ctx: CallContext): Promise<BackendResult> {
      // Orders v2 has no cancel for a CAPTURE order: report honestly instead of pretending.
      const read = await readOrder(id);
      if (!read.ok) return read.result;
      const order = read.order;
      if (order.status === 'VOIDED') return succeeded(order, read.debugId);
      if (order.status === 'COMPLETED') {
        return {
          kind: 'failed',
          code: 'not_cancelable',
          message: `PayPal order ${id} is already captured; a refund is needed, which once-checkout does not do`,
          checkout: toSession(order),
        };
      }
      return {
        kind: 'failed',
        code: 'unsupported',
        message:
          `PayPal has no API to cancel an order. Order ${id} (${order.status}) is charged only if complete_checkout captures it, ` +
          'and PayPal voids it on its own when it expires: do not complete it.',
        checkout: toSession(order),
      };
    },

    async get(id: string): Promise<BackendResult> {
      const read = await readOrder(id);
      return read.ok ? succeeded(read.order, read.debugId) : read.result;
    },
  };
  // PayPal's words reach our results; neither the client secret nor an access token ever does (R10).
  return redactingBackend(backend, () => [options.clientSecret, ...(http.secrets?.() ?? [])]);

  /** The PATCH operations that bring the order to the requested state; none when it is already there. */
  function patchOps(order: PaypalOrder, input: UpdateInput): { ok: true; ops: PatchOp[] } | { ok: false; result: BackendResult } {
    const unit = order.purchase_units[0];
    const ref = `/purchase_units/@reference_id=='${unit?.reference_id ?? 'default'}'`;
    const currency = unit?.amount.currency_code ?? 'USD';
    const ops: PatchOp[] = [];
    if (input.items) {
      const priced = priceItems(input.items, currency);
      if (!priced.ok) return priced;
      if (itemsKey(unit?.items ?? [], unit?.amount.value) !== itemsKey(priced.items, priced.amount.value)) {
        ops.push({ op: 'replace', path: `${ref}/amount`, value: priced.amount });
        ops.push({ op: unit?.items ? 'replace' : 'add', path: `${ref}/items`, value: priced.items });
      }
    }
    if (input.fulfillment_details === null) {
      // PayPal allows only replace and add on shipping.address and shipping.name (Orders v2 OpenAPI, orders.patch
      // "Patchable attributes"; a remove is 422 NOT_PATCHABLE): refuse here rather than send it.
      if (unit?.shipping?.address) {
        return invalid(
          'PayPal cannot remove the shipping address from an order (it allows only replacing it): give the new address in ' +
            'fulfillment_details, or create a new checkout without one',
        );
      }
    } else if (input.fulfillment_details) {
      const wanted: PaypalShipping | undefined = shippingOf(input.fulfillment_details);
      if (!wanted) return invalid('PayPal needs a shipping address in fulfillment_details.address');
      if (!sameAddress(unit?.shipping?.address, wanted.address)) {
        ops.push({ op: unit?.shipping?.address ? 'replace' : 'add', path: `${ref}/shipping/address`, value: wanted.address });
      }
      if (wanted.name && unit?.shipping?.name?.full_name !== wanted.name.full_name) {
        ops.push({ op: unit?.shipping?.name ? 'replace' : 'add', path: `${ref}/shipping/name`, value: wanted.name });
      }
    }
    return { ok: true, ops };
  }
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

function invalid(message: string): { ok: false; result: BackendResult } {
  return { ok: false, result: { kind: 'failed', code: 'invalid_input', message } };
}
