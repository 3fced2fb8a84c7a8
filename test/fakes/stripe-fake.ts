// A faithful local Stripe (API v1 subset) over real HTTP: form-encoded bodies, Bearer auth, Prices, PaymentIntents,
// and idempotency as PROVIDERS.md describes it. Tests drive it with the real `stripe` SDK.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const DAY_MS = 24 * 3_600_000;

export type StripeFaultMode =
  | 'drop_response_after_commit' // runs and stores the request, then resets the connection instead of answering
  | 'reset_before_commit' // resets the connection before anything runs or is stored
  | '500' // answers 500 without running; Stripe stores and replays it
  | 'delay' // waits `ms` before running (the key stays in flight meanwhile)
  | 'hold' // waits until the test calls release() (the key stays in flight meanwhile)
  // Answers 200 with the object as it stands, without acting. Stripe's OpenAPI declares the answer of
  // POST /v1/payment_intents/{intent}/cancel as a payment_intent of any status, and stripe-mock (Stripe's official mock,
  // which serves that spec) answers a cancel with its fixture PaymentIntent in requires_payment_method.
  | 'answer_without_acting';

export interface StripeFault {
  /** Exact path, a path suffix ('/confirm'), or a pattern. */
  path: string | RegExp;
  mode: StripeFaultMode;
  ms?: number;
  /** How many matching requests it hits (default 1). */
  times?: number;
}

export interface FaultHandle {
  /** Resolves when a request reaches the fault (for 'hold': while it is held, its key in flight). */
  reached: Promise<void>;
  /** Lets a held request continue. */
  release(): void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  status: number | 'reset';
  replayed: boolean;
  /** The W3C traceparent the request carried, if any. */
  traceparent?: string;
}

export interface StripeFakeOptions {
  /** Injectable clock (ms) for the 24 h key retention. */
  now?: () => number;
  /** Accepted secret keys → account id; by default any sk_test_/rk_test_ key is its own account. */
  keys?: Record<string, string>;
  /** Display names of accounts, for GET /v1/account. */
  accountNames?: Record<string, string>;
}

interface IdempotencyRecord {
  fingerprint: string;
  createdAt: number;
  state: 'running' | 'done';
  response?: { status: number; body: unknown };
}

interface Reply {
  status: number;
  body: unknown;
  /** False for validation errors: Stripe stores nothing when execution never began. */
  stored: boolean;
}

export interface FakeCharge {
  id: string;
  paymentIntent: string;
  amount: number;
  currency: string;
  account: string;
}

export interface StripeFakeState {
  prices: Map<string, Record<string, unknown>>;
  paymentIntents: Map<string, PaymentIntentRecord>;
  charges: FakeCharge[];
  requests: RecordedRequest[];
  idempotency: Map<string, IdempotencyRecord>;
}

interface PaymentIntentRecord {
  account: string;
  pi: Record<string, unknown>;
}

export interface StripeFake {
  url: string;
  state: StripeFakeState;
  /** Adds a one-time Price directly (no request logged). */
  seedPrice(price: { id?: string; currency: string; unit_amount: number; nickname?: string; active?: boolean }): string;
  failNext(fault: StripeFault): FaultHandle;
  chargeCount(): number;
  /**
   * The person completes the 3-D Secure challenge of a PaymentIntent in requires_action: as at Stripe, the
   * payment then goes through on its own (status succeeded, one charge) with no further call from the client.
   */
  authenticate(paymentIntentId: string): void;
  /** Requests that can change state (POST), in arrival order. */
  mutatingRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export async function startStripeFake(options: StripeFakeOptions = {}): Promise<StripeFake> {
  const now = options.now ?? Date.now;
  const state: StripeFakeState = {
    prices: new Map(),
    paymentIntents: new Map(),
    charges: [],
    requests: [],
    idempotency: new Map(),
  };
  const faults: Array<StripeFault & { left: number; handle: FaultHandle; releaseNow: () => void; reachedNow: () => void }> = [];
  let counter = 0;
  const newId = (prefix: string) => `${prefix}_${(++counter).toString().padStart(6, '0')}fake`;

  const accountOf = (req: IncomingMessage): string | undefined => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) return undefined;
    const key = match[1];
    if (options.keys) return options.keys[key];
    if (!/^(sk|rk)_test_[A-Za-z0-9]+$/.test(key)) return undefined;
    return `acct_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  };

  const takeFault = (path: string) => {
    const index = faults.findIndex((f) =>
      typeof f.path === 'string' ? path === f.path || path.endsWith(f.path) : f.path.test(path),
    );
    if (index === -1) return undefined;
    const fault = faults[index];
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
        send(res, 500, { error: { type: 'api_error', message: `fake crashed: ${String(err)}` } });
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const headerKey = req.headers['idempotency-key'];
    const idempotencyKey = typeof headerKey === 'string' ? headerKey : undefined;
    const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined;
    const log = (status: number | 'reset', replayed = false) =>
      state.requests.push({ method, path, idempotencyKey, status, replayed, ...(traceparent ? { traceparent } : {}) });

    const account = accountOf(req);
    if (!account) {
      log(401);
      return send(res, 401, {
        error: { type: 'invalid_request_error', message: 'Invalid API Key provided. (fake Stripe)' },
      });
    }
    const params = parseFormBody(body);
    const fault = takeFault(path);
    if (fault?.mode === 'reset_before_commit') {
      fault.reachedNow();
      log('reset');
      req.socket.destroy();
      return;
    }

    const keyed = method === 'POST' && idempotencyKey !== undefined;
    const scope = `${account}|${idempotencyKey}`;
    const fingerprint = `${method} ${path} ${canonicalJson(params)}`;
    if (keyed) {
      const existing = state.idempotency.get(scope);
      if (existing && now() - existing.createdAt >= DAY_MS) state.idempotency.delete(scope);
      const record = state.idempotency.get(scope);
      if (record?.state === 'running') {
        log(409);
        return send(res, 409, {
          error: {
            type: 'invalid_request_error',
            code: 'idempotency_key_in_use',
            message:
              'There is currently another in-progress request using this Idempotency Key (that probably means you ' +
              'submitted twice, and the other request is still going through). Please try again later.',
          },
        });
      }
      if (record && record.fingerprint !== fingerprint) {
        log(400);
        return send(res, 400, {
          error: {
            type: 'idempotency_error',
            message:
              `Keys for idempotent requests can only be used with the same parameters they were first used with. ` +
              `Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        });
      }
      if (record?.response) {
        log(fault?.mode === 'drop_response_after_commit' ? 'reset' : record.response.status, true);
        if (fault?.mode === 'drop_response_after_commit') return void req.socket.destroy();
        return send(res, record.response.status, record.response.body, { 'Idempotent-Replayed': 'true' });
      }
      state.idempotency.set(scope, { fingerprint, createdAt: now(), state: 'running' });
    }

    fault?.reachedNow(); // the key, if any, is in flight from here on
    if (fault?.mode === 'hold') await held(fault);
    if (fault?.mode === 'delay') await new Promise((r) => setTimeout(r, fault.ms ?? 0));

    const reply: Reply =
      fault?.mode === '500'
        ? { status: 500, body: { error: { type: 'api_error', message: 'Something went wrong on Stripe (fake).' } }, stored: true }
        : fault?.mode === 'answer_without_acting'
          ? route('GET', path.replace(/\/(cancel|confirm)$/, ''), {}, account)
          : route(method, path, params, account);

    if (keyed) {
      if (reply.stored) {
        state.idempotency.set(scope, {
          fingerprint,
          createdAt: state.idempotency.get(scope)?.createdAt ?? now(),
          state: 'done',
          response: { status: reply.status, body: reply.body },
        });
      } else {
        state.idempotency.delete(scope);
      }
    }
    if (fault?.mode === 'drop_response_after_commit') {
      log('reset');
      req.socket.destroy();
      return;
    }
    log(reply.status);
    send(res, reply.status, reply.body);
  }

  function route(method: string, path: string, params: Record<string, FormValue>, account: string): Reply {
    const segments = path.split('/').filter(Boolean); // ['v1', 'payment_intents', id?, action?]
    if (segments[0] !== 'v1') return notFound('Unrecognized request URL');
    // GET /v1/account: "Retrieves the details of an account" — with no id, the account the API key belongs to
    // (docs.stripe.com/api/accounts/retrieve; stripe-node accounts.retrieveCurrent()).
    if (method === 'GET' && segments[1] === 'account' && segments.length === 2) return ok(accountObject(account));
    if (segments[1] === 'prices') {
      if (method === 'POST' && segments.length === 2) return createPrice(params);
      if (method === 'GET' && segments.length === 3) {
        const price = state.prices.get(segments[2]);
        return price ? ok(price) : missing('price', segments[2]);
      }
    }
    if (segments[1] === 'payment_intents') {
      if (method === 'POST' && segments.length === 2) return createPaymentIntent(params, account);
      const record = state.paymentIntents.get(segments[2] ?? '');
      if (!record || record.account !== account) return missing('payment_intent', segments[2] ?? '', 'intent');
      if (method === 'GET' && segments.length === 3) return ok(record.pi);
      if (method === 'POST' && segments.length === 3) return updatePaymentIntent(record.pi, params);
      if (method === 'POST' && segments[3] === 'confirm') return confirmPaymentIntent(record.pi, params, account);
      if (method === 'POST' && segments[3] === 'cancel') return cancelPaymentIntent(record.pi, params);
    }
    return notFound(`Unrecognized request URL (${method}: ${path}).`);
  }

  function accountObject(id: string) {
    const name = options.accountNames?.[id] ?? null;
    return {
      id,
      object: 'account',
      business_profile: { name },
      settings: { dashboard: { display_name: name, timezone: 'Etc/UTC' } },
      charges_enabled: true,
      country: 'US',
      default_currency: 'usd',
      email: null,
      type: 'standard',
    };
  }

  function createPrice(params: Record<string, FormValue>): Reply {
    const currency = str(params.currency);
    const unitAmount = int(params.unit_amount);
    if (!currency) return paramMissing('currency');
    if (unitAmount === undefined) return paramMissing('unit_amount');
    const id = newId('price');
    state.prices.set(id, priceObject(id, currency, unitAmount, str(params.nickname) ?? null, true));
    return ok(state.prices.get(id));
  }

  function createPaymentIntent(params: Record<string, FormValue>, account: string): Reply {
    const amount = int(params.amount);
    const currency = str(params.currency);
    if (amount === undefined) return paramMissing('amount');
    if (amount < 1) return paramInvalid('amount', 'This value must be greater than or equal to 1.');
    if (!currency) return paramMissing('currency');
    const id = newId('pi');
    const pi: Record<string, unknown> = {
      id,
      object: 'payment_intent',
      amount,
      amount_received: 0,
      currency: currency.toLowerCase(),
      status: 'requires_payment_method',
      capture_method: 'automatic',
      confirmation_method: 'automatic',
      automatic_payment_methods: params.automatic_payment_methods ?? null,
      client_secret: `${id}_secret_fake`,
      created: Math.floor(now() / 1000),
      livemode: false,
      metadata: {},
      receipt_email: str(params.receipt_email) ?? null,
      shipping: null,
      payment_method: null,
      latest_charge: null,
      last_payment_error: null,
      next_action: null,
      cancellation_reason: null,
      canceled_at: null,
    };
    applyMetadata(pi, params.metadata);
    applyShipping(pi, params.shipping);
    state.paymentIntents.set(id, { account, pi });
    return ok(pi);
  }

  function updatePaymentIntent(pi: Record<string, unknown>, params: Record<string, FormValue>): Reply {
    if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(pi.status as string)) {
      return unexpectedState(pi, `You cannot update this PaymentIntent because it has a status of ${pi.status}.`);
    }
    if (params.amount !== undefined) {
      const amount = int(params.amount);
      if (amount === undefined || amount < 1) return paramInvalid('amount', 'Invalid integer.');
      pi.amount = amount;
    }
    if (params.currency !== undefined) pi.currency = String(params.currency).toLowerCase();
    if (params.receipt_email !== undefined) pi.receipt_email = params.receipt_email === '' ? null : params.receipt_email;
    applyMetadata(pi, params.metadata);
    applyShipping(pi, params.shipping);
    return ok(pi);
  }

  function confirmPaymentIntent(pi: Record<string, unknown>, params: Record<string, FormValue>, account: string): Reply {
    // A PaymentIntent that already succeeded (3-D Secure finished, an earlier confirm went through) cannot be confirmed
    // again: 400 payment_intent_unexpected_state, whose error carries `payment_intent`, "the PaymentIntent object for
    // errors returned on a request involving a PaymentIntent" (docs.stripe.com/api/errors), in its current state.
    if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing') {
      return unexpectedState(
        pi,
        `You cannot confirm this PaymentIntent because it has a status of ${pi.status}.`,
      );
    }
    const paymentMethod = str(params.payment_method) ?? (pi.payment_method as string | null);
    if (!paymentMethod) {
      return unexpectedState(pi, 'You cannot confirm this PaymentIntent because it\'s missing a payment method.');
    }
    if (params.receipt_email !== undefined) pi.receipt_email = params.receipt_email === '' ? null : params.receipt_email;
    pi.payment_method = paymentMethod;
    if (paymentMethod === 'pm_card_visa' || paymentMethod === 'pm_card_mastercard') {
      const charge: FakeCharge = {
        id: newId('ch'),
        paymentIntent: pi.id as string,
        amount: pi.amount as number,
        currency: pi.currency as string,
        account,
      };
      state.charges.push(charge);
      Object.assign(pi, {
        status: 'succeeded',
        amount_received: pi.amount,
        latest_charge: charge.id,
        last_payment_error: null,
        next_action: null,
      });
      return ok(pi);
    }
    if (paymentMethod === 'pm_card_chargeDeclined') {
      const error = {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        charge: newId('ch'),
      };
      Object.assign(pi, { status: 'requires_payment_method', payment_method: null, last_payment_error: error });
      return { status: 402, body: { error: { ...error, payment_intent: structuredClone(pi) } }, stored: true };
    }
    if (paymentMethod === 'pm_card_authenticationRequired') {
      Object.assign(pi, {
        status: 'requires_action',
        next_action: {
          type: 'redirect_to_url',
          redirect_to_url: { url: `https://hooks.stripe.com/3d_secure_2/fake/${pi.id as string}`, return_url: null },
        },
      });
      return ok(pi);
    }
    return {
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'payment_method',
          message: `No such PaymentMethod: '${paymentMethod}'`,
        },
      },
      stored: true,
    };
  }

  function cancelPaymentIntent(pi: Record<string, unknown>, params: Record<string, FormValue>): Reply {
    // docs.stripe.com/api/payment_intents/cancel: "Returns a PaymentIntent object if the cancellation succeeds. Returns
    // an error if the PaymentIntent is already canceled or isn't in a cancelable state."
    if (pi.status === 'succeeded' || pi.status === 'canceled') {
      return unexpectedState(
        pi,
        `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of ` +
          'the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, ' +
          'requires_action, processing.',
      );
    }
    Object.assign(pi, {
      status: 'canceled',
      cancellation_reason: str(params.cancellation_reason) ?? null,
      canceled_at: Math.floor(now() / 1000),
    });
    return ok(pi);
  }

  function unexpectedState(pi: Record<string, unknown>, message: string): Reply {
    return {
      status: 400,
      body: {
        error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message, payment_intent: structuredClone(pi) },
      },
      stored: true,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    state,
    seedPrice(price) {
      const id = price.id ?? newId('price');
      state.prices.set(id, priceObject(id, price.currency, price.unit_amount, price.nickname ?? null, price.active ?? true));
      return id;
    },
    failNext(fault) {
      let reachedNow!: () => void;
      let releaseNow!: () => void;
      const reached = new Promise<void>((r) => (reachedNow = r));
      const released = new Promise<void>((r) => (releaseNow = r));
      const handle: FaultHandle = { reached, release: releaseNow };
      faults.push({ ...fault, left: fault.times ?? 1, handle, reachedNow, releaseNow });
      releasedOf.set(handle, released);
      return handle;
    },
    // docs.stripe.com/payments/paymentintents/lifecycle: "After required actions are handled, the PaymentIntent moves
    // to processing for asynchronous payment methods … Other payment methods, such as cards, are processed more quickly
    // and don't go into the processing status": a card's intent succeeds with no further call from the server.
    authenticate: (paymentIntentId: string) => {
      const found = state.paymentIntents.get(paymentIntentId);
      if (!found || found.pi.status !== 'requires_action') throw new Error(`${paymentIntentId} is not awaiting authentication`);
      const pi = found.pi;
      const charge: FakeCharge = { id: newId('ch'), paymentIntent: pi.id as string, amount: pi.amount as number, currency: pi.currency as string, account: found.account };
      state.charges.push(charge);
      Object.assign(pi, { status: 'succeeded', amount_received: pi.amount, latest_charge: charge.id, next_action: null });
    },
    chargeCount: () => state.charges.length,
    mutatingRequests: () => state.requests.filter((r) => r.method === 'POST'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of faults) f.releaseNow();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const releasedOf = new WeakMap<FaultHandle, Promise<void>>();

/** Waits until the test releases a held request. */
function held(fault: { handle: FaultHandle }): Promise<void> {
  return releasedOf.get(fault.handle) ?? Promise.resolve();
}

function priceObject(id: string, currency: string, unitAmount: number, nickname: string | null, active: boolean) {
  return {
    id,
    object: 'price',
    active,
    currency: currency.toLowerCase(),
    unit_amount: unitAmount,
    nickname,
    product: `prod_${id}`,
    type: 'one_time',
    livemode: false,
  };
}

function applyMetadata(pi: Record<string, unknown>, metadata: FormValue | undefined): void {
  if (metadata === undefined) return;
  if (metadata === '') {
    pi.metadata = {};
    return;
  }
  const current = { ...(pi.metadata as Record<string, string>) };
  for (const [k, v] of Object.entries(metadata as Record<string, FormValue>)) {
    if (v === '') delete current[k];
    else current[k] = String(v);
  }
  pi.metadata = current;
}

function applyShipping(pi: Record<string, unknown>, shipping: FormValue | undefined): void {
  if (shipping === undefined) return;
  if (shipping === '') {
    pi.shipping = null;
    return;
  }
  const s = shipping as Record<string, FormValue>;
  const a = (s.address ?? {}) as Record<string, FormValue>;
  pi.shipping = {
    name: str(s.name) ?? null,
    phone: str(s.phone) ?? null,
    carrier: null,
    tracking_number: null,
    address: {
      line1: str(a.line1) ?? null,
      line2: str(a.line2) ?? null,
      city: str(a.city) ?? null,
      state: str(a.state) ?? null,
      country: str(a.country) ?? null,
      postal_code: str(a.postal_code) ?? null,
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Request-Id': `req_${createHash('sha256').update(text + Math.random()).digest('hex').slice(0, 14)}`,
    ...headers,
  });
  res.end(text);
}

const ok = (body: unknown): Reply => ({ status: 200, body: structuredClone(body), stored: true });
const notFound = (message: string): Reply => ({
  status: 404,
  body: { error: { type: 'invalid_request_error', message } },
  stored: true,
});
const missing = (kind: string, id: string, param = kind): Reply => ({
  status: 404,
  body: { error: { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` } },
  stored: true,
});
const paramMissing = (param: string): Reply => ({
  status: 400,
  body: { error: { type: 'invalid_request_error', code: 'parameter_missing', param, message: `Missing required param: ${param}.` } },
  stored: false,
});
const paramInvalid = (param: string, message: string): Reply => ({
  status: 400,
  body: { error: { type: 'invalid_request_error', code: 'parameter_invalid_integer', param, message } },
  stored: false,
});

function str(value: FormValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function int(value: FormValue | undefined): number | undefined {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

// ---- form bodies (Stripe's bracket notation) ----

export type FormValue = string | FormValue[] | { [key: string]: FormValue };

export function parseFormBody(body: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = keyPath(rawKey);
    let node: Record<string, FormValue> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (typeof next !== 'object' || next === null) node[path[i]] = {};
      node = node[path[i]] as Record<string, FormValue>;
    }
    node[path[path.length - 1]] = value;
  }
  return arraysFromIndexes(root) as Record<string, FormValue>;
}

function keyPath(key: string): string[] {
  const first = key.indexOf('[');
  if (first === -1) return [key];
  const parts = [key.slice(0, first)];
  for (const match of key.slice(first).matchAll(/\[([^\]]*)\]/g)) parts.push(match[1]);
  return parts;
}

function arraysFromIndexes(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: Record<string, FormValue> = {};
  for (const k of keys) converted[k] = arraysFromIndexes(value[k]);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => converted[k]);
  }
  return converted;
}

/** Canonical JSON (sorted keys) for comparing the parameters of two requests. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
