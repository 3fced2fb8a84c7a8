// A faithful local PayPal (OAuth2 token + Orders v2 subset) over real HTTP: PayPal-Request-Id on create and
// capture (a repeat returns the latest state of what the first request did), none on PATCH, test-only approval.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const HOUR = 3_600_000;
/** A payer whose funding source PayPal declines at capture. */
export const DECLINING_PAYER = 'declined@example.com';

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
  /** Same PayPal-Request-Id, different body: PayPal does not document it; replay (default) or refuse. */
  requestIdMismatch?: 'replay' | 'reject';
}

interface RequestIdRecord {
  fingerprint: string;
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
        log(409);
        return send(res, 409, issueBody('RESOURCE_CONFLICT', 'PREVIOUS_REQUEST_IN_PROGRESS', 'A previous request with this PayPal-Request-Id is still in progress.'));
      }
      if (record) {
        const fingerprint = `${method} ${path} ${text}`;
        if (record.fingerprint !== fingerprint && options.requestIdMismatch === 'reject') {
          log(422);
          return send(res, 422, issueBody('UNPROCESSABLE_ENTITY', 'PAYPAL_REQUEST_ID_PREVIOUSLY_USED', 'The PayPal-Request-Id has already been used for another request.'));
        }
        // The latest state of what the first request did, not a snapshot.
        const order = state.orders.get(record.orderId ?? '');
        if (fault?.mode === 'drop_response_after_commit') {
          log('reset', true);
          return void req.socket.destroy();
        }
        log(record.status ?? 200, true);
        return send(res, record.status ?? 200, order);
      }
      state.requestIds.set(scope, { fingerprint: `${method} ${path} ${text}`, createdAt: now(), state: 'running' });
    }

    fault?.reachedNow();
    if (fault?.mode === 'hold') await fault.released;
    if (fault?.mode === 'delay') await new Promise((r) => setTimeout(r, fault.ms ?? 0));

    const reply =
      fault?.mode === '500'
        ? { status: 500, body: { name: 'INTERNAL_SERVER_ERROR', message: 'An internal server error occurred.', debug_id: newId() } as unknown, orderId: undefined }
        : route(method, path, body);

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

  function route(method: string, path: string, body: any): { status: number; body: unknown; orderId?: string } { // eslint-disable-line @typescript-eslint/no-explicit-any
    const m = /^\/v2\/checkout\/orders(?:\/([^/]+))?(?:\/(capture))?$/.exec(path);
    if (!m) return { status: 404, body: issueBody('NOT_FOUND', 'INVALID_RESOURCE_ID', 'The requested resource was not found.') };
    const [, id, action] = m;
    if (!id && method === 'POST') return createOrder(body);
    const order = state.orders.get(decodeURIComponent(id ?? ''));
    if (!order) {
      return { status: 404, body: issueBody('RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID', 'Specified resource ID does not exist. Please check the resource ID and try again.') };
    }
    if (method === 'GET' && !action) return { status: 200, body: order, orderId: order.id };
    if (method === 'PATCH' && !action) return patchOrder(order, body);
    if (method === 'POST' && action === 'capture') return captureOrder(order);
    return { status: 405, body: issueBody('METHOD_NOT_SUPPORTED', 'METHOD_NOT_SUPPORTED', `${method} ${path}`) };
  }

  function createOrder(body: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (body?.intent !== 'CAPTURE' && body?.intent !== 'AUTHORIZE') return invalid('MISSING_REQUIRED_PARAMETER', '/intent');
    const units = body.purchase_units;
    if (!Array.isArray(units) || units.length === 0) return invalid('MISSING_REQUIRED_PARAMETER', '/purchase_units');
    for (const unit of units) {
      const problem = checkAmounts(unit);
      if (problem) return unprocessable(problem, 'Amounts do not add up.');
    }
    const id = newId();
    const time = new Date(now()).toISOString();
    const order: Json = {
      id,
      intent: body.intent,
      status: 'CREATED',
      purchase_units: units.map((u: Json) => ({ reference_id: 'default', ...u })),
      create_time: time,
      update_time: time,
      links: orderLinks(id, 'CREATED'),
    };
    if (body.payer) order.payer = body.payer;
    state.orders.set(id, order);
    if (options.autoApprove) approve(id);
    return { status: 201, body: order, orderId: id };
  }

  function patchOrder(order: Json, ops: unknown) {
    if (!['CREATED', 'APPROVED'].includes(order.status)) return unprocessable('ORDER_ALREADY_COMPLETED', `The order is ${order.status}.`);
    if (!Array.isArray(ops)) return invalid('MALFORMED_REQUEST_JSON', '/');
    const draft = structuredClone(order);
    for (const op of ops as Json[]) {
      const m = /^\/purchase_units\/@reference_id=='([^']*)'\/(amount|items|shipping\/address|shipping\/name)$/.exec(op.path ?? '');
      const unit = m ? draft.purchase_units.find((u: Json) => u.reference_id === m[1]) : undefined;
      if (!m || !unit || !['add', 'replace', 'remove'].includes(op.op)) return unprocessable('INVALID_PATCH_OPERATION', `cannot ${op.op} ${op.path}`);
      const field = m[2];
      if (field.startsWith('shipping/')) {
        const key = field.slice('shipping/'.length);
        unit.shipping = unit.shipping ?? {};
        if (op.op === 'remove') delete unit.shipping[key];
        else unit.shipping[key] = op.value;
      } else if (op.op === 'remove') {
        delete unit[field];
      } else {
        unit[field] = op.value;
      }
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
    if (order.status === 'COMPLETED') return unprocessable('ORDER_ALREADY_CAPTURED', 'Order already captured.');
    if (order.status === 'VOIDED') return unprocessable('ORDER_ALREADY_VOIDED', 'Order is voided.');
    if (order.status !== 'APPROVED') {
      return unprocessable('ORDER_NOT_APPROVED', 'Payer has not yet approved the Order for payment. Please redirect the payer to the \'rel\':\'approve\' url.');
    }
    if (order.payer?.email_address === DECLINING_PAYER) {
      const reply = unprocessable('INSTRUMENT_DECLINED', 'The instrument presented was either declined by the processor or bank, or it can\'t be used for this payment.');
      (reply.body as Json).links = [{ href: approveUrl(order.id), rel: 'redirect', method: 'GET' }];
      return reply;
    }
    const unit = order.purchase_units[0];
    const capture = { id: newId('CAP'), status: 'COMPLETED', amount: { currency_code: unit.amount.currency_code, value: unit.amount.value }, create_time: new Date(now()).toISOString() };
    unit.payments = { captures: [capture] };
    order.status = 'COMPLETED';
    order.update_time = capture.create_time;
    order.links = orderLinks(order.id, 'COMPLETED');
    state.charges.push({ captureId: capture.id, orderId: order.id, value: capture.amount.value, currency: capture.amount.currency_code });
    return { status: 201, body: order, orderId: order.id };
  }

  function approve(orderId: string, payerEmail = 'buyer@example.com'): void {
    const order = state.orders.get(orderId);
    if (!order) throw new Error(`no such order ${orderId}`);
    if (order.status !== 'CREATED' && order.status !== 'APPROVED') throw new Error(`order ${orderId} is ${order.status}`);
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

/** Items must add up to item_total, and item_total to the amount (no tax or shipping in this fake). */
function checkAmounts(unit: Json): string | undefined {
  const cents = (v: unknown) => Math.round(Number(v) * 100);
  if (!unit?.amount?.currency_code || unit.amount.value === undefined) return 'AMOUNT_MISSING';
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
