// The sandbox merchant: ACP 2026-04-17 checkout sessions with the protocol's idempotency rules, all state in
// the given Store under `sandbox:`, so a restarted server (or a second process) on the same store carries on.
// `handle` is transport-free; the HTTP server maps it 1:1 and the in-process backend calls it directly.
import { randomBytes } from 'node:crypto';
import type { Message, Order } from '../../commerce/session.js';
import { StoreUnavailableError, type Store } from '../../store/store.js';
import { writeDecision } from './cas.js';
import { SANDBOX_CURRENCY, findItem } from './catalog.js';
import { ACP_VERSIONS, LATEST_ACP_VERSION, conflictIsLegacy, isAcpVersion, type AcpVersion } from '../acp/versions.js';
import {
  availableOptions,
  isReady,
  mergeItems,
  render,
  totalOf,
  type SandboxSession,
  type SessionState,
} from './cart.js';
import { acpError, invalid, notFound, type AcpError, type Answer } from './errors.js';
import { IdempotencyKeys, KEY_RETENTION_MS } from './idempotency.js';
import { sessionPath } from './session-path.js';
import { readRequest, writeError, writeSession } from './wire-versions.js';
import {
  cancelRequest,
  completeRequest,
  createRequest,
  parseBody,
  updateRequest,
  type ItemRequest,
  type UpdateRequest,
} from './requests.js';

export const TOKEN_OK = 'tok_sandbox_ok';
export const TOKEN_DECLINE = 'tok_sandbox_decline';
export const DEFAULT_BASE_URL = 'https://sandbox.once-checkout.invalid';

export interface SandboxMerchantOptions {
  store: Store;
  /** Milliseconds since the epoch; tests inject a clock to cross the 24 h key retention. */
  now?: () => number;
  /** Where links and order permalinks point. */
  baseUrl?: string;
  /** Test mode: a merchant that ignores Idempotency-Key entirely (every POST runs). */
  ignoreIdempotencyKeys?: boolean;
  keyRetentionMs?: number;
  /** The ACP versions it speaks, oldest first; default every released one. */
  versions?: readonly AcpVersion[];
  /** Called once a complete has committed an order (whatever the caller then hears): order events start here. */
  onCompleted?: (session: SandboxSession) => void;
}

export interface MerchantRequest {
  method: string;
  path: string;
  /** Who calls (the bearer token's owner): keys of two callers never meet. */
  identity: string;
  idempotencyKey?: string;
  body?: unknown;
  requestId?: string;
  /**
   * API-Version (REST) or meta.api_version (MCP): one this merchant speaks; '' when the caller sent none (refused).
   * Absent only for in-process callers, who speak the newest version this merchant speaks.
   */
  apiVersion?: string;
  /** True over ACP's MCP binding, where meta.idempotency_key is only recommended. */
  keyOptional?: boolean;
}

export interface MerchantResponse {
  status: number;
  /** A session or an Error, written in the version asked for (wire-versions.ts); typed as today's shapes. */
  body: SandboxSession | AcpError;
  headers: Record<string, string>;
  /** True when this is a stored answer replayed for a repeated Idempotency-Key. */
  replayed: boolean;
}

export interface SandboxCharge {
  id: string;
  checkout_session_id: string;
  amount: number;
  currency: string;
  created_at: string;
}

export interface SandboxOrderRecord extends Order {
  amount: number;
  created_at: string;
}

export interface SandboxStats {
  sessions: number;
  orders: number;
  charges: number;
  declines: number;
}

type Route =
  | { kind: 'create' }
  | { kind: 'get'; id: string }
  | { kind: 'update'; id: string }
  | { kind: 'complete'; id: string }
  | { kind: 'cancel'; id: string }
  | { kind: 'wrong_method' }
  | { kind: 'none' };

/** A decision on one session: the answer, the next state to write (compare-and-swap), side records to add. */
interface Decision {
  answer: Answer;
  next?: SessionState;
  records?: Array<[string, unknown]>;
}

/** Where the merchant keeps its records; the UCP side (ucp-merchant.ts) writes the same ones. */
export const PREFIX = {
  session: 'sandbox:session:',
  order: 'sandbox:order:',
  charge: 'sandbox:charge:',
  decline: 'sandbox:decline:',
} as const;

export function matchRoute(method: string, path: string): Route {
  const at = sessionPath(path, 'checkout_sessions');
  if (!at) return { kind: 'none' };
  const { id, action } = at;
  const post = method === 'POST';
  if (id === undefined) return post ? { kind: 'create' } : { kind: 'wrong_method' };
  if (action === undefined) {
    if (method === 'GET') return { kind: 'get', id };
    return post ? { kind: 'update', id } : { kind: 'wrong_method' };
  }
  if (action === 'complete') return post ? { kind: 'complete', id } : { kind: 'wrong_method' };
  if (action === 'cancel') return post ? { kind: 'cancel', id } : { kind: 'wrong_method' };
  return { kind: 'none' };
}

/** Session ids are ours (`cs_<hex>`); anything else cannot name a session, and must not reach a store key. */
function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(id);
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function unknownItem(items: ItemRequest[]): Answer | undefined {
  const index = items.findIndex((item) => findItem(item.id) === undefined);
  if (index < 0) {
    // Only goods sold by weight take a decimal quantity.
    const partial = items.findIndex((item) => item.quantity !== undefined && !Number.isInteger(item.quantity) && !findItem(item.id)?.fractional);
    return partial < 0 ? undefined : invalid('invalid_quantity', `'${items[partial].id}' is sold by the piece: its quantity must be a whole number.`, `$.line_items[${partial}].quantity`);
  }
  // Same code and words as the ACP example error_400_invalid_item.
  return invalid(
    'invalid_item_id',
    `The item ID '${items[index].id}' does not exist.`,
    `$.line_items[${index}].id`,
  );
}

function finished(state: SessionState): Answer | undefined {
  if (state.phase === 'open') return undefined;
  const code = state.phase === 'completed' ? 'checkout_already_completed' : 'checkout_already_canceled';
  return acpError(405, 'invalid_request', code, `Checkout session '${state.id}' is already ${state.phase}.`);
}

export class SandboxMerchant {
  private readonly store: Store;
  private readonly now: () => number;
  private readonly baseUrl: string;
  private readonly ignoreKeys: boolean;
  private readonly keys: IdempotencyKeys;
  readonly versions: readonly AcpVersion[];
  private readonly onCompleted?: (session: SandboxSession) => void;

  constructor(options: SandboxMerchantOptions) {
    this.versions = options.versions ?? ACP_VERSIONS;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    this.ignoreKeys = options.ignoreIdempotencyKeys ?? false;
    this.keys = new IdempotencyKeys(this.store, this.now, options.keyRetentionMs ?? KEY_RETENTION_MS);
    this.onCompleted = options.onCompleted;
  }

  async handle(request: MerchantRequest): Promise<MerchantResponse> {
    const requestId = request.requestId ?? newId('req');
    const respond = (answer: Answer, replayed = false, extra: Record<string, string> = {}): MerchantResponse => ({
      status: answer.status,
      body: answer.body,
      headers: { 'Request-Id': requestId, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}), ...extra },
      replayed,
    });
    const version = request.apiVersion ?? this.versions.at(-1) ?? LATEST_ACP_VERSION;
    if (!isAcpVersion(version) || !this.versions.includes(version)) return respond(this.versionRefused(version));
    // Every answer leaves in the version asked for; a stored one was written so and replays as it was.
    const out = (answer: Answer): Answer => present(version, answer);
    const route = matchRoute(request.method, request.path);
    if (route.kind === 'none') {
      return respond(acpError(404, 'invalid_request', 'not_found', `No route for ${request.method} ${request.path}.`));
    }
    if (route.kind === 'wrong_method') {
      return respond(
        acpError(405, 'invalid_request', 'method_not_allowed', `${request.method} is not allowed on ${request.path}.`),
      );
    }
    if (route.kind === 'get') return respond(out(await this.safely(() => this.read(route.id))));
    const body = readRequest(version, route.kind, request.body);
    if (this.ignoreKeys) return respond(out(await this.safely(() => this.perform(route, body))));

    const key = request.idempotencyKey;
    // ACP's MCP binding calls the key recommended, not required: a call without one runs unkeyed there.
    if ((key === undefined || key === '') && request.keyOptional) return respond(out(await this.safely(() => this.perform(route, body))));
    if (key === undefined || key === '') {
      return respond(invalid('idempotency_key_required', 'Idempotency-Key header is required'));
    }
    if (key.length > 255) {
      return respond(invalid('idempotency_key_invalid', 'Idempotency-Key must be at most 255 characters'));
    }
    const scope = { identity: request.identity, method: request.method, path: request.path, key };
    let begin;
    try {
      begin = await this.keys.begin(scope, request.body);
    } catch (error) {
      return respond(failure(error));
    }
    switch (begin.kind) {
      case 'replay':
        return respond(begin.answer, true);
      case 'conflict':
        // Before 2026-04-17 this was a 409 of type request_not_idempotent; since, 422 invalid_request.
        return respond(
          out(
            conflictIsLegacy(version)
              ? acpError(409, 'request_not_idempotent', 'idempotency_conflict', 'Idempotency-Key has already been used with a different request body')
              : acpError(422, 'invalid_request', 'idempotency_conflict', 'Idempotency-Key has already been used with a different request body'),
          ),
        );
      case 'in_flight':
        return respond(
          acpError(
            409,
            'invalid_request',
            'idempotency_in_flight',
            'A request with this Idempotency-Key is currently being processed',
          ),
          false,
          { 'Retry-After': '1' },
        );
      case 'run': {
        const answer = out(await this.safely(() => this.perform(route, body)));
        try {
          if (answer.status >= 500) await begin.abandon();
          else await begin.finish(answer);
        } catch {
          // The answer stands; an unrecorded key only means a retry runs again (and meets the session's state).
        }
        return respond(answer);
      }
    }
  }

  /** 400 for a missing or unknown version, listing the ones spoken (2026-01-16 on: unsupported_api_version). */
  private versionRefused(version: string): Answer {
    const spoken = this.versions.join(', ');
    const answer =
      version === ''
        ? acpError(400, 'invalid_request', 'api_version_required', `The API version is required (API-Version header, or meta.api_version); this merchant speaks ${spoken}.`)
        : acpError(400, 'invalid_request', 'unsupported_api_version', `API version '${version}' is not supported; use one of ${spoken}.`);
    return { status: answer.status, body: { ...(answer.body as AcpError), supported_versions: [...this.versions].reverse() } };
  }

  /** /.well-known/acp.json (rfcs/rfc.discovery.md): versions oldest first, the last the newest. */
  discovery(apiBaseUrl: string, transports: Array<'rest' | 'mcp'>): Record<string, unknown> {
    return {
      protocol: { name: 'acp', version: this.versions.at(-1) ?? LATEST_ACP_VERSION, supported_versions: [...this.versions] },
      api_base_url: apiBaseUrl,
      transports,
      capabilities: { services: ['checkout'], supported_currencies: [SANDBOX_CURRENCY] },
    };
  }

  /** Totals over the whole store, counted from the records themselves (so every process agrees). */
  async stats(): Promise<SandboxStats> {
    return {
      sessions: await this.count(PREFIX.session),
      orders: await this.count(PREFIX.order),
      charges: await this.count(PREFIX.charge),
      declines: await this.count(PREFIX.decline),
    };
  }

  async ordersFor(checkoutId: string): Promise<SandboxOrderRecord[]> {
    return this.list<SandboxOrderRecord>(`${PREFIX.order}${checkoutId}:`);
  }

  async chargesFor(checkoutId: string): Promise<SandboxCharge[]> {
    return this.list<SandboxCharge>(`${PREFIX.charge}${checkoutId}:`);
  }

  private async count(prefix: string): Promise<number> {
    let n = 0;
    for await (const _ of this.store.entries(prefix)) n += 1;
    return n;
  }

  private async list<T>(prefix: string): Promise<T[]> {
    const out: T[] = [];
    for await (const [, value] of this.store.entries<T>(prefix)) out.push(value);
    return out;
  }

  private async safely(work: () => Promise<Answer>): Promise<Answer> {
    try {
      return await work();
    } catch (error) {
      return failure(error);
    }
  }

  private perform(route: Exclude<Route, { kind: 'get' | 'none' | 'wrong_method' }>, body: unknown): Promise<Answer> {
    switch (route.kind) {
      case 'create':
        return this.create(body);
      case 'update':
        return this.mutate(route.id, (state) => this.update(state, body));
      case 'complete':
        return this.mutate(route.id, (state) => this.complete(state, body));
      case 'cancel':
        return this.mutate(route.id, (state) => this.cancel(state, body));
    }
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private sessionKey(id: string): string {
    return `${PREFIX.session}${id}`;
  }

  private async read(id: string): Promise<Answer> {
    const stored = isSessionId(id) ? await this.store.get<SessionState>(this.sessionKey(id)) : undefined;
    if (!stored) return notFound(id);
    return { status: 200, body: render(stored.value, this.baseUrl) };
  }

  private async create(body: unknown): Promise<Answer> {
    const parsed = parseBody(createRequest, body);
    if (!parsed.ok) return invalid('invalid', parsed.message, parsed.param);
    const request = parsed.value;
    const currency = request.currency.toLowerCase();
    if (currency !== SANDBOX_CURRENCY) {
      return invalid('unsupported_currency', `The sandbox merchant sells in usd only, not '${request.currency}'.`, '$.currency');
    }
    const bad = unknownItem(request.line_items);
    if (bad) return bad;
    const at = this.iso();
    const state: SessionState = {
      id: newId('cs'),
      phase: 'open',
      currency,
      items: mergeItems(request.line_items),
      discount_codes: [],
      created_at: at,
      updated_at: at,
    };
    if (request.buyer) state.buyer = request.buyer;
    if (request.fulfillment_details) state.fulfillment_details = request.fulfillment_details;
    const claim = await this.store.claim(this.sessionKey(state.id), state);
    if (!claim.claimed) return acpError(500, 'processing_error', 'id_collision', 'Session id collision; retry.');
    return { status: 201, body: render(state, this.baseUrl) };
  }

  /** Reads, decides and writes one session with compare-and-swap, so concurrent writers never both win. */
  private async mutate(id: string, decide: (state: SessionState) => Decision): Promise<Answer> {
    if (!isSessionId(id)) return notFound(id);
    for (let round = 0; round < 10; round += 1) {
      const stored = await this.store.get<SessionState>(this.sessionKey(id));
      if (!stored) return notFound(id);
      const decision = decide(stored.value);
      const answer = await writeDecision(this.store, this.sessionKey(id), stored, decision);
      if (answer !== undefined) {
        if (decision.next?.phase === 'completed' && stored.value.phase !== 'completed') this.onCompleted?.(render(decision.next, this.baseUrl));
        return answer;
      }
    }
    return acpError(503, 'service_unavailable', 'contention', 'The session is changing too fast; retry shortly.');
  }

  private update(state: SessionState, body: unknown): Decision {
    const done = finished(state);
    if (done) return { answer: done };
    const parsed = parseBody(updateRequest, body ?? {});
    if (!parsed.ok) return { answer: invalid('invalid', parsed.message, parsed.param) };
    const request: UpdateRequest = parsed.value;
    const next: SessionState = { ...state, updated_at: this.iso() };
    if (request.line_items !== undefined) {
      const bad = unknownItem(request.line_items);
      if (bad) return { answer: bad };
      next.items = mergeItems(request.line_items);
    }
    if (request.buyer === null) delete next.buyer;
    else if (request.buyer !== undefined) next.buyer = request.buyer;
    if (request.fulfillment_details === null) delete next.fulfillment_details;
    else if (request.fulfillment_details !== undefined) next.fulfillment_details = request.fulfillment_details;
    if (request.discounts === null) next.discount_codes = [];
    else if (request.discounts !== undefined) next.discount_codes = request.discounts.codes;
    if (request.selected_fulfillment_options === null) delete next.selected;
    else if (request.selected_fulfillment_options !== undefined) {
      const offered = availableOptions(next.items);
      const options = request.selected_fulfillment_options;
      const index = options.findIndex((o) => !offered.some((x) => x.id === o.option_id));
      if (index >= 0) {
        return {
          answer: invalid(
            'invalid_fulfillment_option',
            `Fulfillment option '${options[index].option_id}' is not offered; choose one of ${offered.map((o) => o.id).join(', ')}.`,
            `$.selected_fulfillment_options[${index}].option_id`,
          ),
        };
      }
      next.selected = options;
    }
    return { next, answer: { status: 200, body: render(next, this.baseUrl) } };
  }

  private complete(state: SessionState, body: unknown): Decision {
    const done = finished(state);
    if (done) return { answer: done };
    const parsed = parseBody(completeRequest, body);
    if (!parsed.ok) return { answer: invalid('invalid', parsed.message, parsed.param) };
    const request = parsed.value;
    const session = (extra: Message[]): Answer => ({ status: 200, body: render(state, this.baseUrl, extra) });
    if (!isReady(state)) {
      // Business errors are a 2xx session with messages[] (R12); stock errors are already in the render.
      return { answer: session([]) };
    }
    const token = request.payment_data.instrument.credential.token;
    const at = this.iso();
    if (token === TOKEN_DECLINE || request.authentication_result?.outcome === 'denied') {
      const decline = { checkout_session_id: state.id, created_at: at };
      return {
        answer: session([
          {
            type: 'error',
            code: 'payment_declined',
            content_type: 'plain',
            content: 'The payment was declined by the card issuer. Try a different payment method.',
            param: '$.payment_data',
          },
        ]),
        records: [[`${PREFIX.decline}${state.id}:${newId('dcl')}`, decline]],
      };
    }
    if (token !== TOKEN_OK) {
      return {
        answer: session([
          {
            type: 'error',
            code: 'invalid',
            content_type: 'plain',
            content: `Unknown payment token. The sandbox accepts '${TOKEN_OK}' (succeeds) and '${TOKEN_DECLINE}' (declined).`,
            param: '$.payment_data.instrument.credential.token',
          },
        ]),
      };
    }
    const orderId = newId('ord');
    const order: Order = {
      id: orderId,
      checkout_session_id: state.id,
      permalink_url: `${this.baseUrl}/orders/${orderId}`,
      status: 'created',
    };
    const next: SessionState = { ...state, phase: 'completed', order, updated_at: at };
    if (request.buyer) next.buyer = request.buyer;
    const amount = totalOf(next);
    const charge: SandboxCharge = { id: newId('ch'), checkout_session_id: state.id, amount, currency: state.currency, created_at: at };
    const record: SandboxOrderRecord = { ...order, amount, created_at: at };
    return {
      next,
      answer: { status: 200, body: render(next, this.baseUrl) },
      records: [
        [`${PREFIX.charge}${state.id}:${charge.id}`, charge],
        [`${PREFIX.order}${state.id}:${orderId}`, record],
      ],
    };
  }

  private cancel(state: SessionState, body: unknown): Decision {
    const done = finished(state);
    if (done) return { answer: done };
    const parsed = parseBody(cancelRequest, body);
    if (!parsed.ok) return { answer: invalid('invalid', parsed.message, parsed.param) };
    const next: SessionState = { ...state, phase: 'canceled', updated_at: this.iso() };
    return { next, answer: { status: 200, body: render(next, this.baseUrl) } };
  }
}

/** An answer in the version asked for. */
function present(version: AcpVersion, answer: Answer): Answer {
  if (answer.status === 200 || answer.status === 201) {
    return { status: answer.status, body: writeSession(version, answer.body as SandboxSession) as unknown as SandboxSession };
  }
  return { status: answer.status, body: writeError(version, answer.body as AcpError) };
}

/** Store trouble is temporary (503); anything else is our bug (500). Neither is cached. */
function failure(error: unknown): Answer {
  if (error instanceof StoreUnavailableError) {
    return acpError(503, 'service_unavailable', 'store_unavailable', 'The merchant store is unavailable; retry shortly.');
  }
  const reason = error instanceof Error ? error.message : String(error);
  return acpError(500, 'processing_error', 'internal_error', `The sandbox merchant failed: ${reason}`);
}

