// A faithful local PayPal (OAuth2 token + Orders v2 subset) over real HTTP: PayPal-Request-Id on create and
// capture (a repeat returns the latest state of what the first request did), none on PATCH, test-only approval.
// "Orders v2 OpenAPI" below is paypal/paypal-rest-api-specifications openapi/checkout_orders_v2.json (version 2.13).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const HOUR = 3_600_000;
/** A payer whose funding source PayPal declines at capture. */
export const DECLINING_PAYER = 'declined@example.com';
/** A payer whose funding PayPal refuses at capture with REDIRECT_PAYER_FOR_ALTERNATE_FUNDING. */
export const ALTERNATE_FUNDING_PAYER = 'alternate-funding@example.com';

export type PaypalFaultMode = 'drop_response_after_commit' | 'reset_before_commit' | '500' | 'delay' | 'hold';

export interface PaypalFault {
  /** Exact path, a path suffix ('/capture'), or a pattern. */
  path: string | RegExp;
  /** Only requests with this method (default: any). */
  method?: string;
  mode: PaypalFaultMode;
  ms?: number;
  times?: number;
}

export interface PaypalFaultHandle {
  reached: Promise<void>;
  release(): void;
}

export interface PaypalRecordedRequest {
  method: string;
  path: string;
  requestId?: string;
  status: number | 'reset';
  replayed: boolean;
}

export interface PaypalFakeOptions {
  clientId?: string;
  clientSecret?: string;
  now?: () => number;
  /** Orders start APPROVED by a default payer (tests that do not exercise approval). */
  autoApprove?: boolean;
  requestIdRetentionMs?: number;
  tokenTtlSeconds?: number;
}

interface RequestIdRecord {
  createdAt: number;
  state: 'running' | 'done';
  orderId?: string;
  status?: number;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface PaypalFakeState {
  orders: Map<string, Json>;
  charges: Array<{ captureId: string; orderId: string; value: string; currency: string }>;
  requests: PaypalRecordedRequest[];
  tokensIssued: number;
  requestIds: Map<string, RequestIdRecord>;
}

export interface PaypalFake {
  url: string;
  clientId: string;
  clientSecret: string;
  state: PaypalFakeState;
  /** What the payer does at the approval link. */
  approve(orderId: string, payerEmail?: string): void;
  /** What PayPal does to an order left unapproved too long. */
  expire(orderId: string): void;
  /**
   * PayPal starts completing the order on its own (as for processing_instruction ORDER_COMPLETE_ON_PAYMENT_APPROVAL):
   * until `finish()` a capture is refused with ORDER_COMPLETION_IN_PROGRESS; `finish()` captures it.
   */
  beginCompletion(orderId: string): () => void;
  /**
   * PayPal asks the payer for one more step on an approved order, "e.g. 3DS authentication" (Orders v2 OpenAPI,
   * order_status PAYER_ACTION_REQUIRED): the order shows a payer-action link until approve() is called again.
   */
  requirePayerAction(orderId: string): void;
  /** The merchant refunds a capture (Payments v2 refund): all of it by default, else `value` of it. */
  refund(captureId: string, value?: string): void;
  failNext(fault: PaypalFault): PaypalFaultHandle;
  chargeCount(): number;
  /** Requests that can change state (POST and PATCH, token requests excluded). */
  mutatingRequests(): PaypalRecordedRequest[];
  close(): Promise<void>;
}

export async function startPaypalFake(options: PaypalFakeOptions = {}): Promise<PaypalFake> {
  const clientId = options.clientId ?? 'fake-client-id';
  const clientSecret = options.clientSecret ?? 'fake-client-secret';
  const now = options.now ?? Date.now;
  const retention = options.requestIdRetentionMs ?? 6 * HOUR;
  const state: PaypalFakeState = { orders: new Map(), charges: [], requests: [], tokensIssued: 0, requestIds: new Map() };
  const tokens = new Map<string, number>();
  const faults: Array<PaypalFault & { left: number; handle: PaypalFaultHandle; reachedNow: () => void; released: Promise<void>; releaseNow: () => void }> = [];
  /** Orders PayPal is completing on its own (beginCompletion). */
  const completing = new Set<string>();
  let counter = 0;
  const newId = (prefix = '') => `${prefix}${(++counter).toString(36).toUpperCase().padStart(6, '0')}FAKE${String(now()).slice(-7)}`;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) =>
        send(res, 500, { name: 'INTERNAL_SERVER_ERROR', message: `fake crashed: ${String(err)}` }),
      );
    });
  });

  const takeFault = (method: string, path: string) => {
    const i = faults.findIndex(
      (f) =>
        (f.method === undefined || f.method === method) &&
        (typeof f.path === 'string' ? path === f.path || path.endsWith(f.path) : f.path.test(path)),
    );
    if (i === -1) return undefined;
    const f = faults[i];
    if (--f.left <= 0) faults.splice(i, 1);
    return f;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, text: string): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const header = req.headers['paypal-request-id'];
    const requestId = typeof header === 'string' ? header : undefined;
    const log = (status: number | 'reset', replayed = false) => state.requests.push({ method, path, requestId, status, replayed });

    if (method === 'POST' && path === '/v1/oauth2/token') {
      const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
      if (req.headers.authorization !== expected || !text.includes('grant_type=client_credentials')) {
        log(401);
        return send(res, 401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
      }
      const token = `A21AA${newId()}`;
      const ttl = options.tokenTtlSeconds ?? 32_400;
      tokens.set(token, now() + ttl * 1000);
      state.tokensIssued += 1;
      log(200);
      return send(res, 200, { scope: 'https://uri.paypal.com/services/payments', access_token: token, token_type: 'Bearer', app_id: 'APP-FAKE', expires_in: ttl, nonce: newId() });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || (tokens.get(bearer) ?? 0) <= now()) {
      log(401);
      return send(res, 401, { error: 'invalid_token', error_description: 'Token signature verification failed' });
    }
    let body: any = undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        log(400);
        return send(res, 400, issueBody('INVALID_REQUEST', 'MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.'));
      }
    }
    const fault = takeFault(method, path);
    if (fault?.mode === 'reset_before_commit') {
      fault.reachedNow();
      log('reset');
      return void req.socket.destroy();
    }

    // PayPal honours the request id on create and capture only.
    const keyed = method === 'POST' && requestId !== undefined && (path === '/v2/checkout/orders' || path.endsWith('/capture'));
    const scope = `${clientId}|${requestId}`;
    if (keyed) {
      const existing = state.requestIds.get(scope);
      if (existing && now() - existing.createdAt >= retention) state.requestIds.delete(scope);
      const record = state.requestIds.get(scope);
      if (record?.state === 'running') {
        // "When you send two simultaneous API requests with same PayPal-Request-Id header, PayPal processes the first
        // request and might fail the second request" (developer.paypal.com/api/rest/reference/idempotency); the status
        // is not documented: this fake answers the Orders v2 OpenAPI's error_409 (RESOURCE_CONFLICT, no issue named).
        log(409);
        return send(res, 409, { name: 'RESOURCE_CONFLICT', message: 'The server has detected a conflict while processing this request.', debug_id: newId() });
      }
      if (record) {
        // "PayPal returns the latest status of the previous request that used that same header" (the idempotency
        // guide above), whatever this request's body: Orders v2 names no error for a reused id (its OpenAPI has no
        // PAYPAL_REQUEST_ID_PREVIOUSLY_USED; that issue belongs to Payment Method Tokens v3).
        const order = state.orders.get(record.orderId ?? '');
        if (fault?.mode === 'drop_response_after_commit') {
          log('reset', true);
          return void req.socket.destroy();
        }
        log(record.status ?? 200, true);
        return send(res, record.status ?? 200, order);
      }
      state.requestIds.set(scope, { createdAt: now(), state: 'running' });
    }

    fault?.reachedNow();
    if (fault?.mode === 'hold') await fault.released;
    if (fault?.mode === 'delay') await new Promise((r) => setTimeout(r, fault.ms ?? 0));

    const reply =
      fault?.mode === '500'
        ? { status: 500, body: { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error occurred.', debug_id: newId() } as unknown, orderId: undefined }
        : route(method, path, body, requestId);

    if (keyed) {
      // Only a success is remembered: PayPal lets a 5xx or a refusal be retried with the same id.
      if (reply.status >= 200 && reply.status < 300 && reply.orderId) {
        const record = state.requestIds.get(scope)!;
        Object.assign(record, { state: 'done', orderId: reply.orderId, status: reply.status });
      } else {
        state.requestIds.delete(scope);
      }
    }
    if (fault?.mode === 'drop_response_after_commit') {
      log('reset');
      return void req.socket.destroy();
    }
    log(reply.status);
    send(res, reply.status, reply.body);
  }

  function route(method: string, path: string, body: any, requestId: string | undefined): { status: number; body: unknown; orderId?: string } { // eslint-disable-line @typescript-eslint/no-explicit-any
    const m = /^\/v2\/checkout\/orders(?:\/([^/]+))?(?:\/(capture))?$/.exec(path);
    if (!m) return { status: 404, body: issueBody('NOT_FOUND', 'INVALID_RESOURCE_ID', 'The requested resource was not found.') };
    const [, id, action] = m;
    if (!id && method === 'POST') return createOrder(body, requestId);
    const order = state.orders.get(decodeURIComponent(id ?? ''));
    if (!order) {
      return { status: 404, body: issueBody('RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID', 'Specified resource ID does not exist. Please check the resource ID and try again.') };
    }
    if (method === 'GET' && !action) return { status: 200, body: order, orderId: order.id };
    if (method === 'PATCH' && !action) return patchOrder(order, body);
    if (method === 'POST' && action === 'capture') return captureOrder(order);
    return { status: 405, body: issueBody('METHOD_NOT_SUPPORTED', 'METHOD_NOT_SUPPORTED', `${method} ${path}`) };
  }

  function createOrder(body: any, requestId: string | undefined) { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (body?.intent !== 'CAPTURE' && body?.intent !== 'AUTHORIZE') return invalid('MISSING_REQUIRED_PARAMETER', '/intent');
    const units = body.purchase_units;
    if (!Array.isArray(units) || units.length === 0) return invalid('MISSING_REQUIRED_PARAMETER', '/purchase_units');
    // Orders v2 OpenAPI, create 400: PAYPAL_REQUEST_ID_REQUIRED "A PayPal-Request-Id is required if you are trying to
    // process payment for an Order" (an order created with a payment_source).
    if (body.payment_source && requestId === undefined) {
      return { status: 400, body: issueBody('INVALID_REQUEST', 'PAYPAL_REQUEST_ID_REQUIRED', 'A PayPal-Request-Id is required if you are trying to process payment for an Order.') };
    }
    for (const unit of units) {
      const problem = checkAmounts(unit);
      if (problem) return unprocessable(problem, 'Amounts do not add up.');
    }
    const id = newId();
    const time = new Date(now()).toISOString();
    // Orders v2 OpenAPI, order_status PAYER_ACTION_REQUIRED: "Redirect the payer to the "rel":"payer-action" HATEOAS
    // link … prior to authorizing or capturing the order"; an order created with payment_source.paypal starts there.
    const status = body.payment_source?.paypal ? 'PAYER_ACTION_REQUIRED' : 'CREATED';
    const order: Json = {
      id,
      intent: body.intent,
      status,
      purchase_units: units.map((u: Json) => ({ reference_id: 'default', ...u })),
      create_time: time,
      update_time: time,
      links: orderLinks(id, status),
    };
    if (body.payment_source) order.payment_source = body.payment_source;
    // Orders v2 OpenAPI: `payer` is deprecated in the order request ("use payment_source.paypal") but still accepted.
    if (body.payer) order.payer = body.payer;
    state.orders.set(id, order);
    if (options.autoApprove) approve(id);
    return { status: 201, body: order, orderId: id };
  }

  function patchOrder(order: Json, ops: unknown) {
    // Orders v2 OpenAPI, orders.patch: "Updates an order with a CREATED or APPROVED status. You cannot update an order
    // with the COMPLETED status" (422 ORDER_ALREADY_COMPLETED); any other status is refused here as NOT_PATCHABLE.
    if (order.status === 'COMPLETED') return unprocessable('ORDER_ALREADY_COMPLETED', 'The order cannot be patched after it is completed.');
    if (!['CREATED', 'APPROVED'].includes(order.status)) return unprocessable('NOT_PATCHABLE', `Cannot be patched (the order is ${order.status}).`);
    if (!Array.isArray(ops)) return invalid('MALFORMED_REQUEST_JSON', '/');
    const draft = structuredClone(order);
    for (const op of ops as Json[]) {
      const m = /^\/purchase_units\/@reference_id=='([^']*)'\/(amount|items|shipping\/address|shipping\/name)$/.exec(op.path ?? '');
      const unit = m ? draft.purchase_units.find((u: Json) => u.reference_id === m[1]) : undefined;
      if (!m || !unit) return unprocessable('INVALID_JSON_POINTER_FORMAT', `cannot ${op.op} ${op.path}`);
      const field = m[2];
      // Orders v2 OpenAPI, orders.patch "Patchable attributes": amount replace; items replace, add, remove;
      // shipping.name and shipping.address replace, add. Anything else is 422 NOT_PATCHABLE.
      if (!PATCHABLE[field].includes(op.op)) return unprocessable('NOT_PATCHABLE', `Cannot be patched: ${op.op} ${op.path}.`);
      const holder = field.startsWith('shipping/') ? (unit.shipping = unit.shipping ?? {}) : unit;
      const key = field.startsWith('shipping/') ? field.slice('shipping/'.length) : field;
      // 400 INVALID_PATCH_OPERATION: "Cannot add a property that's already present, use replace. Cannot remove a
      // property thats not present, use add. Cannot replace a property thats not present, use add."
      const present = holder[key] !== undefined;
      if ((op.op === 'add' && present) || (op.op !== 'add' && !present)) {
        return { status: 400, body: issueBody('INVALID_REQUEST', 'INVALID_PATCH_OPERATION', `The operation cannot be honored: ${op.op} ${op.path}.`) as unknown };
      }
      if (op.op === 'remove') delete holder[key];
      else holder[key] = op.value;
    }
    for (const unit of draft.purchase_units) {
      const problem = checkAmounts(unit);
      if (problem) return unprocessable(problem, 'Amounts do not add up after the patch.');
    }
    draft.update_time = new Date(now()).toISOString();
    state.orders.set(order.id, draft);
    return { status: 204, body: undefined, orderId: order.id };
  }

  function captureOrder(order: Json) {
    // Orders v2 OpenAPI, capture 422 issues, each as this fake meets it:
    if (order.status === 'COMPLETED') return unprocessable('ORDER_ALREADY_CAPTURED', 'Order already captured.If \'intent=CAPTURE\' only one capture per order is allowed.');
    if (order.status === 'VOIDED') return unprocessable('ORDER_ALREADY_VOIDED', 'Order is voided.');
    if (completing.has(order.id)) {
      // ORDER_COMPLETION_IN_PROGRESS: "PayPal is still in the process of capturing the order on your behalf … Please
      // try your request again."
      return unprocessable('ORDER_COMPLETION_IN_PROGRESS', 'PayPal is still in the process of capturing the order on your behalf as instructed. Please try your request again.');
    }
    if (order.status === 'PAYER_ACTION_REQUIRED') {
      // PAYER_ACTION_REQUIRED: "Transaction cannot complete successfully, instruct the buyer to return to PayPal."
      return unprocessable('PAYER_ACTION_REQUIRED', 'Transaction cannot complete successfully, instruct the buyer to return to PayPal.');
    }
    if (order.status !== 'APPROVED') {
      return unprocessable('ORDER_NOT_APPROVED', 'Payer has not yet approved the Order for payment. Please redirect the payer to the \'rel\':\'approve\' url.');
    }
    if (order.payer?.email_address === DECLINING_PAYER) {
      const reply = unprocessable('INSTRUMENT_DECLINED', 'The instrument presented was either declined by the processor or bank, or it can\'t be used for this payment.');
      (reply.body as Json).links = [{ href: approveUrl(order.id), rel: 'redirect', method: 'GET' }];
      return reply;
    }
    if (order.payer?.email_address === ALTERNATE_FUNDING_PAYER) {
      // REDIRECT_PAYER_FOR_ALTERNATE_FUNDING: "Transaction failed. Redirect the payer to select another funding
      // source." (error_422 carries `links`; the redirect is one of them, as for INSTRUMENT_DECLINED).
      const reply = unprocessable('REDIRECT_PAYER_FOR_ALTERNATE_FUNDING', 'Transaction failed. Redirect the payer to select another funding source.');
      (reply.body as Json).links = [{ href: approveUrl(order.id), rel: 'redirect', method: 'GET' }];
      return reply;
    }
    return { status: 201, body: capture(order), orderId: order.id };
  }

  function capture(order: Json): Json {
    const unit = order.purchase_units[0];
    const captured = { id: newId('CAP'), status: 'COMPLETED', amount: { currency_code: unit.amount.currency_code, value: unit.amount.value }, create_time: new Date(now()).toISOString() };
    unit.payments = { captures: [captured] };
    order.status = 'COMPLETED';
    order.update_time = captured.create_time;
    order.links = orderLinks(order.id, 'COMPLETED');
    state.charges.push({ captureId: captured.id, orderId: order.id, value: captured.amount.value, currency: captured.amount.currency_code });
    return order;
  }

  function approve(orderId: string, payerEmail = 'buyer@example.com'): void {
    const order = state.orders.get(orderId);
    if (!order) throw new Error(`no such order ${orderId}`);
    if (!['CREATED', 'APPROVED', 'PAYER_ACTION_REQUIRED'].includes(order.status)) throw new Error(`order ${orderId} is ${order.status}`);
    order.status = 'APPROVED';
    order.payer = { email_address: payerEmail, payer_id: `PAYER${orderId.slice(0, 6)}`, name: { given_name: 'Test', surname: 'Buyer' } };
    order.links = orderLinks(orderId, 'APPROVED');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  function orderLinks(id: string, status: string) {
    const self = { href: `${url}/v2/checkout/orders/${id}`, rel: 'self', method: 'GET' };
    if (status === 'COMPLETED' || status === 'VOIDED') return [self];
    if (status === 'PAYER_ACTION_REQUIRED') return [self, { href: approveUrl(id), rel: 'payer-action', method: 'GET' }];
    const links = [self, { href: `${url}/v2/checkout/orders/${id}`, rel: 'update', method: 'PATCH' }, { href: `${url}/v2/checkout/orders/${id}/capture`, rel: 'capture', method: 'POST' }];
    if (status === 'CREATED') links.splice(1, 0, { href: approveUrl(id), rel: 'approve', method: 'GET' });
    return links;
  }

  return {
    url,
    clientId,
    clientSecret,
    state,
    approve,
    expire(orderId) {
      const order = state.orders.get(orderId);
      if (!order) throw new Error(`no such order ${orderId}`);
      order.status = 'VOIDED';
      order.links = orderLinks(orderId, 'VOIDED');
    },
    beginCompletion(orderId) {
      const order = state.orders.get(orderId);
      if (!order || order.status !== 'APPROVED') throw new Error(`order ${orderId} is not approved`);
      completing.add(orderId);
      return () => {
        completing.delete(orderId);
        capture(order);
      };
    },
    requirePayerAction(orderId) {
      const order = state.orders.get(orderId);
      if (!order || order.status !== 'APPROVED') throw new Error(`order ${orderId} is not approved`);
      order.status = 'PAYER_ACTION_REQUIRED';
      order.links = orderLinks(orderId, 'PAYER_ACTION_REQUIRED');
    },
    refund(captureId, value) {
      // Orders v2 OpenAPI, capture_status: a refunded capture reads REFUNDED, or PARTIALLY_REFUNDED when part of it
      // was refunded; the order stays COMPLETED.
      const order = [...state.orders.values()].find((o) => o.purchase_units[0]?.payments?.captures?.some((c: Json) => c.id === captureId));
      if (!order) throw new Error(`no capture ${captureId}`);
      const captured = order.purchase_units[0].payments.captures.find((c: Json) => c.id === captureId);
      const full = value === undefined || value === captured.amount.value;
      captured.status = full ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
      captured.status_details = full ? { reason: 'REFUNDED' } : undefined;
      order.update_time = new Date(now()).toISOString();
    },
    failNext(fault) {
      let reachedNow!: () => void;
      let releaseNow!: () => void;
      const reached = new Promise<void>((r) => (reachedNow = r));
      const released = new Promise<void>((r) => (releaseNow = r));
      faults.push({ ...fault, left: fault.times ?? 1, handle: { reached, release: releaseNow }, reachedNow, released, releaseNow });
      return { reached, release: releaseNow };
    },
    chargeCount: () => state.charges.length,
    mutatingRequests: () => state.requests.filter((r) => (r.method === 'POST' || r.method === 'PATCH') && r.path !== '/v1/oauth2/token'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of faults) f.releaseNow();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function approveUrl(id: string): string {
  return `https://www.sandbox.paypal.com/checkoutnow?token=${id}`;
}

// Orders v2 OpenAPI, patch "Patchable attributes" (the fields this fake keeps): which ops PayPal allows on each.
const PATCHABLE: Record<string, string[]> = {
  amount: ['replace'],
  items: ['replace', 'add', 'remove'],
  'shipping/address': ['replace', 'add'],
  'shipping/name': ['replace', 'add'],
};

// developer.paypal.com/api/rest/reference/currency-codes: the currencies the REST API takes; HUF, JPY and TWD "do not
// support decimals. If you pass a decimal amount, an error occurs" (here 422 DECIMAL_PRECISION, an Orders v2 issue).
const WHOLE_ONLY = new Set(['HUF', 'JPY', 'TWD']);
const CURRENCIES = new Set(['AUD', 'BRL', 'CAD', 'CNY', 'CZK', 'DKK', 'EUR', 'HKD', 'HUF', 'ILS', 'JPY', 'MYR', 'MXN', 'TWD', 'NZD', 'NOK', 'PHP', 'PLN', 'GBP', 'RUB', 'SGD', 'SEK', 'CHF', 'THB', 'USD']);

/** A PayPal value in hundredths, or the issue PayPal raises for it in this currency. */
function hundredths(value: unknown, currency: string): number | string {
  const m = typeof value === 'string' ? /^(\d+)(?:\.(\d{1,2}))?$/.exec(value) : null;
  if (!m) return typeof value === 'string' && /^\d+\.\d{3,}$/.test(value) ? 'DECIMAL_PRECISION' : 'INVALID_PARAMETER_SYNTAX';
  if (m[2] !== undefined && WHOLE_ONLY.has(currency)) return 'DECIMAL_PRECISION';
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** Amounts are valid in their currency, items add up to item_total, and item_total to the amount (no tax or shipping here). */
function checkAmounts(unit: Json): string | undefined {
  const currency = unit?.amount?.currency_code;
  if (!currency || unit.amount.value === undefined) return 'AMOUNT_MISSING';
  if (!CURRENCIES.has(currency)) return 'INVALID_CURRENCY_CODE';
  const values = [unit.amount.value, unit.amount.breakdown?.item_total?.value, ...(Array.isArray(unit.items) ? unit.items.map((i: Json) => i.unit_amount?.value) : [])];
  for (const v of values) {
    if (v === undefined) continue;
    const parsed = hundredths(v, currency);
    if (typeof parsed === 'string') return parsed;
  }
  const cents = (v: unknown) => hundredths(v, currency) as number;
  const itemTotal = unit.amount.breakdown?.item_total;
  if (Array.isArray(unit.items)) {
    if (!itemTotal) return 'ITEM_TOTAL_REQUIRED';
    const sum = unit.items.reduce((s: number, i: Json) => s + cents(i.unit_amount?.value) * Number(i.quantity), 0);
    if (sum !== cents(itemTotal.value)) return 'ITEM_TOTAL_MISMATCH';
  }
  if (itemTotal && cents(itemTotal.value) !== cents(unit.amount.value)) return 'AMOUNT_MISMATCH';
  return undefined;
}

function issueBody(name: string, issue: string, description: string) {
  return { name, message: description, debug_id: `dbg${Math.random().toString(16).slice(2, 12)}`, details: [{ issue, description }] };
}

function invalid(issue: string, field: string) {
  return { status: 400, body: { ...issueBody('INVALID_REQUEST', issue, `A required field or parameter is missing: ${field}`), details: [{ field, issue, description: 'A required field / parameter is missing.' }] } as unknown };
}

function unprocessable(issue: string, description: string) {
  return { status: 422, body: issueBody('UNPROCESSABLE_ENTITY', issue, description) as unknown };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}),
    'PayPal-Debug-Id': `f${Math.random().toString(16).slice(2, 14)}`,
  });
  res.end(text);
}
