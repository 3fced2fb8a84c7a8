// The sandbox merchant's UCP 2026-04-08 side: checkout sessions over the same stored state as its ACP side
// (sessions, orders and charges under `sandbox:`), with UCP's idempotency rules (signatures.md): a duplicate key
// returns the cached answer without running again, the same key with another body is a conflict (409), and a
// store that fails fails closed (503). Transport-free: ucp-rest.ts and ucp-mcp.ts map it onto HTTP and MCP.
import { randomBytes } from 'node:crypto';
import type { Order } from '../../commerce/session.js';
import { StoreUnavailableError, type Store, type Stored } from '../../store/store.js';
import { writeDecision } from './cas.js';
import { findItem, SANDBOX_CURRENCY } from './catalog.js';
import { isReady, mergeItems, totalOf, type SessionState } from './cart.js';
import { IdempotencyKeys, KEY_RETENTION_MS } from './idempotency.js';
import { DEFAULT_BASE_URL, PREFIX, TOKEN_DECLINE, TOKEN_OK, type SandboxCharge, type SandboxOrderRecord } from './merchant.js';
import { fromPostal } from '../ucp/ucp-address.js';
import { errorResponse, renderUcp, type UcpCheckout, type UcpErrorResponse, type UcpMessage } from './ucp-render.js';
import { parseBody } from './requests.js';
import { ucpCompleteRequest, ucpCreateRequest, ucpUpdateRequest, type UcpUpdateRequest } from './ucp-requests.js';

export type UcpOperation = 'create' | 'get' | 'update' | 'complete' | 'cancel';

export interface UcpMerchantRequest {
  operation: UcpOperation;
  /** The checkout id, for every operation but create. */
  id?: string;
  /** The `checkout` payload (REST body, MCP argument). */
  body?: unknown;
  /** Who calls: keys of two callers never meet. */
  identity: string;
  idempotencyKey?: string;
  /** REST requires a key on every state change; MCP on complete and cancel. */
  keyRequired: boolean;
  /** Fault injection: this complete answers complete_in_progress and charges only after `completeDelayMs`. */
  completeInProgress?: boolean;
}

/** A business answer (a checkout, or an error response without one) or a protocol error (HTTP status / JSON-RPC error). */
export type UcpAnswer =
  | { kind: 'resource'; status: 200 | 201; body: UcpCheckout | UcpErrorResponse }
  | { kind: 'protocol_error'; status: number; code: string; content: string; retryAfterSeconds?: number };

export interface UcpMerchantResponse {
  answer: UcpAnswer;
  /** A cached answer returned for a repeated idempotency key. */
  replayed: boolean;
}

export interface UcpMerchantOptions {
  store: Store;
  now?: () => number;
  baseUrl?: string;
  keyRetentionMs?: number;
  /** How long a complete under the complete_in_progress fault stays in progress. Default 5 s. */
  completeDelayMs?: number;
  /** Called once a session's order is placed and charged (whatever the caller hears): order events start here. */
  onCompleted?: (state: SessionState) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function protocolError(status: number, code: string, content: string, retryAfterSeconds?: number): UcpAnswer {
  return { kind: 'protocol_error', status, code, content, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
}

function error(code: string, content: string, severity: Extract<UcpMessage, { type: 'error' }>['severity'], path?: string): UcpMessage {
  return { type: 'error', code, content, severity, ...(path ? { path } : {}) };
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** Session ids are ours (`cs_<hex>`); anything else cannot name a session, and must not reach a store key. */
function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id);
}

interface Decision {
  answer: UcpAnswer;
  next?: SessionState;
  records?: Array<[string, unknown]>;
}

export class UcpMerchant {
  private readonly store: Store;
  private readonly now: () => number;
  private readonly baseUrl: string;
  private readonly completeDelayMs: number;
  private readonly keys: IdempotencyKeys<UcpAnswer>;
  private readonly onCompleted?: (state: SessionState) => void;

  constructor(options: UcpMerchantOptions) {
    this.onCompleted = options.onCompleted;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    this.completeDelayMs = options.completeDelayMs ?? 5_000;
    this.keys = new IdempotencyKeys<UcpAnswer>(this.store, this.now, options.keyRetentionMs ?? KEY_RETENTION_MS);
  }

  async handle(request: UcpMerchantRequest): Promise<UcpMerchantResponse> {
    const ran = (answer: UcpAnswer): UcpMerchantResponse => ({ answer, replayed: false });
    if (request.operation !== 'create' && (request.id === undefined || request.id === '')) {
      return ran(protocolError(400, 'invalid_request', 'The checkout id is required.'));
    }
    if (request.operation === 'get') return ran(await this.safely(() => this.read(request.id!)));
    const key = request.idempotencyKey;
    if (key === undefined || key === '') {
      if (request.keyRequired) return ran(protocolError(400, 'idempotency_key_required', `An idempotency key is required for ${request.operation}.`));
      return ran(await this.safely(() => this.perform(request)));
    }
    if (!UUID.test(key)) return ran(protocolError(400, 'invalid_idempotency_key', 'The idempotency key must be a UUID.'));
    const scope = { identity: request.identity, method: `ucp:${request.operation}`, path: request.id ?? '', key };
    let begin;
    try {
      begin = await this.keys.begin(scope, request.body ?? null);
    } catch (failure) {
      // Fail closed: without the key store, nothing runs (signatures.md).
      return ran(failed(failure));
    }
    switch (begin.kind) {
      case 'replay':
        return { answer: begin.answer, replayed: true };
      case 'conflict':
        return ran(protocolError(409, 'idempotency_conflict', 'This idempotency key was already used with a different request.'));
      case 'in_flight':
        return ran(protocolError(503, 'idempotency_in_flight', 'A request with this idempotency key is still being processed; retry shortly.', 1));
      case 'run': {
        const answer = await this.safely(() => this.perform(request));
        try {
          // 5xx answers are not kept: the next request with this key runs fresh.
          if (answer.kind === 'protocol_error' && answer.status >= 500) await begin.abandon();
          else await begin.finish(answer);
        } catch {
          // The answer stands; an unrecorded key only means a resend runs again and meets the session's state.
        }
        return ran(answer);
      }
    }
  }

  private async safely(work: () => Promise<UcpAnswer>): Promise<UcpAnswer> {
    try {
      return await work();
    } catch (failure) {
      return failed(failure);
    }
  }

  private perform(request: UcpMerchantRequest): Promise<UcpAnswer> {
    switch (request.operation) {
      case 'create':
        return this.create(request.body);
      case 'update':
        return this.mutate(request.id!, (state) => this.update(state, request.body));
      case 'complete':
        return this.mutate(request.id!, (state) => this.complete(state, request.body, request.completeInProgress === true));
      case 'cancel':
        return this.mutate(request.id!, (state) => this.cancel(state));
      case 'get':
        return this.read(request.id!);
    }
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private sessionKey(id: string): string {
    return `${PREFIX.session}${id}`;
  }

  private checkout(state: SessionState, extra: UcpMessage[] = [], status: 200 | 201 = 200): UcpAnswer {
    return { kind: 'resource', status, body: renderUcp(state, this.baseUrl, extra) };
  }

  private notFound(id: string): UcpAnswer {
    return { kind: 'resource', status: 200, body: errorResponse([error('not_found', `No checkout session '${id}' exists.`, 'unrecoverable')], `${this.baseUrl}/`) };
  }

  /** Reads a session, first settling a complete_in_progress whose time has come. */
  private async read(id: string): Promise<UcpAnswer> {
    if (!isSessionId(id)) return this.notFound(id);
    return this.mutate(id, (state) => ({ answer: this.checkout(state) }));
  }

  private async create(body: unknown): Promise<UcpAnswer> {
    const parsed = parseBody(ucpCreateRequest, body ?? {});
    if (!parsed.ok) return protocolError(400, 'invalid_request', parsed.message);
    const request = parsed.value;
    const currency = request.context?.currency?.toLowerCase();
    if (currency !== undefined && currency !== SANDBOX_CURRENCY) {
      const words = `The sandbox business sells in USD only, not '${request.context?.currency}'.`;
      return { kind: 'resource', status: 200, body: errorResponse([error('currency_unsupported', words, 'unrecoverable', '$.context.currency')], `${this.baseUrl}/`) };
    }
    const unknown = request.line_items.findIndex((line) => findItem(line.item.id) === undefined);
    if (unknown >= 0) {
      const words = `The item ID '${request.line_items[unknown].item.id}' does not exist.`;
      return { kind: 'resource', status: 200, body: errorResponse([error('item_unavailable', words, 'unrecoverable', `$.line_items[${unknown}].item.id`)], `${this.baseUrl}/`) };
    }
    const at = this.iso();
    const state: SessionState = {
      id: newId('cs'),
      phase: 'open',
      currency: SANDBOX_CURRENCY,
      items: mergeItems(request.line_items.map((line) => ({ id: line.item.id, quantity: line.quantity }))),
      discount_codes: request.discounts?.codes ?? [],
      created_at: at,
      updated_at: at,
    };
    applyCart(state, request);
    const claim = await this.store.claim(this.sessionKey(state.id), state);
    if (!claim.claimed) return protocolError(500, 'internal_error', 'Session id collision; retry.');
    return this.checkout(state, [], 201);
  }

  /** Reads, decides and writes one session with compare-and-swap; a due complete_in_progress settles first. */
  private async mutate(id: string, decide: (state: SessionState) => Decision): Promise<UcpAnswer> {
    if (!isSessionId(id)) return this.notFound(id);
    for (let round = 0; round < 10; round += 1) {
      let stored: Stored<SessionState> | undefined = await this.store.get<SessionState>(this.sessionKey(id));
      if (!stored) return this.notFound(id);
      const due = this.settleDue(stored.value);
      if (due) {
        const written = await this.store.replace(this.sessionKey(id), stored, due.next);
        if (!written) continue;
        for (const [key, value] of due.records) await this.store.put(key, value);
        this.onCompleted?.(due.next);
        stored = written;
      }
      const decision = decide(stored.value);
      const answer = await writeDecision(this.store, this.sessionKey(id), stored, decision);
      if (answer !== undefined) {
        if (decision.next?.phase === 'completed' && stored.value.phase !== 'completed') this.onCompleted?.(decision.next);
        return answer;
      }
    }
    return protocolError(503, 'contention', 'The session is changing too fast; retry shortly.', 1);
  }

  /** A complete_in_progress whose time has passed: the order is placed and the charge made, once. */
  private settleDue(state: SessionState): { next: SessionState; records: Array<[string, unknown]> } | undefined {
    const completing = state.completing;
    if (!completing || Date.parse(completing.completes_at) > this.now()) return undefined;
    const { completing: _done, ...rest } = state;
    const next: SessionState = { ...rest, phase: 'completed', order: completing.order, updated_at: this.iso() };
    return { next, records: chargeRecords(next, completing.order, this.iso()) };
  }

  private frozen(state: SessionState, what: string): Decision | undefined {
    if (state.phase === 'open' && !state.completing) return undefined;
    const where = state.completing ? 'being completed' : state.phase;
    return { answer: this.checkout(state, [error('checkout_not_modifiable', `Checkout session '${state.id}' is ${where}; it cannot be ${what}.`, 'unrecoverable')]) };
  }

  private update(state: SessionState, body: unknown): Decision {
    const frozen = this.frozen(state, 'updated');
    if (frozen) return frozen;
    const parsed = parseBody(ucpUpdateRequest, body ?? {});
    if (!parsed.ok) return { answer: protocolError(400, 'invalid_request', parsed.message) };
    const request = parsed.value;
    const unknown = request.line_items.findIndex((line) => findItem(line.item.id) === undefined);
    if (unknown >= 0) {
      return { answer: this.checkout(state, [error('item_unavailable', `The item ID '${request.line_items[unknown].item.id}' does not exist.`, 'recoverable', `$.line_items[${unknown}].item.id`)]) };
    }
    // A full replacement: whatever the request leaves out is cleared.
    const next: SessionState = {
      id: state.id,
      phase: 'open',
      currency: state.currency,
      items: mergeItems(request.line_items.map((line) => ({ id: line.item.id, quantity: line.quantity }))),
      discount_codes: request.discounts?.codes ?? [],
      created_at: state.created_at,
      updated_at: this.iso(),
    };
    applyCart(next, request);
    return { next, answer: this.checkout(next) };
  }

  private complete(state: SessionState, body: unknown, inProgress: boolean): Decision {
    if (state.phase === 'completed' || state.completing) {
      // Immutable once placed: the order stands, nothing is charged again.
      return { answer: this.checkout(state) };
    }
    if (state.phase === 'canceled') return { answer: this.checkout(state, [error('checkout_canceled', `Checkout session '${state.id}' is canceled.`, 'unrecoverable')]) };
    const parsed = parseBody(ucpCompleteRequest, body ?? {});
    if (!parsed.ok) return { answer: protocolError(400, 'invalid_request', parsed.message) };
    const instruments = parsed.value.payment.instruments;
    const instrument = instruments.find((i) => i.selected) ?? instruments[0];
    if (!isReady(state)) return { answer: this.checkout(state) };
    const token = instrument.credential.token;
    const at = this.iso();
    if (token === TOKEN_DECLINE) {
      return {
        answer: this.checkout(state, [error('payment_failed', 'The payment was declined by the card issuer. Try a different payment method.', 'recoverable', '$.payment.instruments[0]')]),
        records: [[`${PREFIX.decline}${state.id}:${newId('dcl')}`, { checkout_session_id: state.id, created_at: at }]],
      };
    }
    if (token !== TOKEN_OK) {
      const words = `Unknown payment token. The sandbox accepts '${TOKEN_OK}' (succeeds) and '${TOKEN_DECLINE}' (declined).`;
      return { answer: this.checkout(state, [error('payment_failed', words, 'recoverable', '$.payment.instruments[0].credential.token')]) };
    }
    const orderId = newId('ord');
    const order: Order = { id: orderId, checkout_session_id: state.id, permalink_url: `${this.baseUrl}/orders/${orderId}`, status: 'created' };
    if (inProgress) {
      const next: SessionState = { ...state, completing: { order, completes_at: new Date(this.now() + this.completeDelayMs).toISOString() }, updated_at: at };
      return { next, answer: this.checkout(next) };
    }
    const next: SessionState = { ...state, phase: 'completed', order, updated_at: at };
    return { next, answer: this.checkout(next), records: chargeRecords(next, order, at) };
  }

  private cancel(state: SessionState): Decision {
    const frozen = this.frozen(state, 'canceled');
    if (frozen) return state.phase === 'canceled' ? { answer: this.checkout(state) } : frozen;
    const next: SessionState = { ...state, phase: 'canceled', updated_at: this.iso() };
    return { next, answer: this.checkout(next) };
  }
}

/** Buyer, destination, chosen option and discount codes of a create or update request, onto a session. */
function applyCart(state: SessionState, request: Pick<UcpUpdateRequest, 'buyer' | 'fulfillment'>): void {
  if (request.buyer) state.buyer = { ...request.buyer, email: request.buyer.email ?? '' };
  const method = request.fulfillment?.methods?.find((m) => m.type === undefined || m.type === 'shipping');
  const destination = method?.destinations?.find((d) => d.id === undefined || d.id === method.selected_destination_id) ?? method?.destinations?.[0];
  if (destination) {
    state.fulfillment_details = { address: fromPostal(destination), ...(destination.phone_number ? { phone_number: destination.phone_number } : {}) };
  }
  const chosen = method?.groups?.find((g) => typeof g.selected_option_id === 'string')?.selected_option_id;
  if (chosen) state.selected = [{ type: 'shipping', option_id: chosen, item_ids: state.items.map((line) => `li_${line.id}`) }];
}

/** The charge and the order of a completed session, under the same keys as the ACP side writes them. */
function chargeRecords(state: SessionState, order: Order, at: string): Array<[string, unknown]> {
  const amount = totalOf(state);
  const charge: SandboxCharge = { id: newId('ch'), checkout_session_id: state.id, amount, currency: state.currency, created_at: at };
  const record: SandboxOrderRecord = { ...order, amount, created_at: at };
  return [
    [`${PREFIX.charge}${state.id}:${charge.id}`, charge],
    [`${PREFIX.order}${state.id}:${order.id}`, record],
  ];
}

/** Store trouble is temporary (503: fail closed); anything else is our bug (500). Neither is cached. */
function failed(failure: unknown): UcpAnswer {
  if (failure instanceof StoreUnavailableError) return protocolError(503, 'store_unavailable', 'The business store is unavailable; retry shortly.', 1);
  const reason = failure instanceof Error ? failure.message : String(failure);
  return protocolError(500, 'internal_error', `The sandbox business failed: ${reason}`);
}
