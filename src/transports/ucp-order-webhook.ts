// POST /webhooks/ucp/orders: UCP order events from the business this server buys from (HTTP mode, ucp
// backend). UCP signs them with RFC 9421 HTTP Message Signatures under a key in the business's profile
// (`signing_keys` at /.well-known/ucp), not a shared secret: the signer must be that business (order.md), the
// Content-Digest must match the raw bytes, the signature must verify. Webhook-Id is the event's identity and
// Webhook-Timestamp its time. The same exactly-once application as ACP's events follows.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { isAcceptedUrl } from '../commerce/merchant-session.js';
import type { Logger } from '../log.js';
import { fromUcpOrder } from '../orders/ucp-order.js';
import type { OrderEvents } from '../orders/order-events.js';
import { publicKeyOf, verifyUcpRequest } from '../orders/ucp-signature.js';
import { StoreUnavailableError } from '../store/store.js';
import { logDelivery, MAX_EVENT_BYTES } from './order-webhook.js';
import { readRawBody, sendJson } from './request-body.js';

export const UCP_ORDER_EVENTS_PATH = '/webhooks/ucp/orders';
/** A fetched profile's keys are used this long; an unknown kid refetches, at most once per REFETCH_MS. */
const KEYS_TTL_MS = 5 * 60_000;
const REFETCH_MS = 30_000;
const MAX_PROFILE_BYTES = 1_000_000;

export interface UcpOrderWebhookOptions {
  /** The business's profile URL (`https://business/.well-known/ucp`): the only signer we accept. */
  profile: string;
  /** Its identity as the ledger records it (the ucp backend's merchant). */
  merchant: string;
  events: OrderEvents;
  logger: Logger;
  fetchImpl?: typeof fetch;
  maxBytes?: number;
}

/** The business's signing keys, fetched from its profile (HTTPS, or http on loopback; no redirects) and cached. */
export class ProfileKeys {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  /** The fetch under way: deliveries that arrive meanwhile wait for it rather than find no key. */
  private refreshing: Promise<void> | undefined;

  constructor(
    readonly profile: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async keyFor(kid: string): Promise<KeyObject | undefined> {
    const now = Date.now();
    if (this.refreshing) await this.refreshing;
    else if (now - this.fetchedAt > KEYS_TTL_MS || (!this.keys.has(kid) && now - this.fetchedAt > REFETCH_MS)) {
      this.refreshing = this.refresh(now).finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    return this.keys.get(kid);
  }

  private async refresh(now: number): Promise<void> {
    this.fetchedAt = now;
    try {
      const response = await this.fetchImpl(this.profile, { redirect: 'error', signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
      const text = await response.text();
      if (!response.ok || text.length > MAX_PROFILE_BYTES) return;
      const profile = JSON.parse(text) as { signing_keys?: unknown; ucp?: { signing_keys?: unknown } };
      const listed = Array.isArray(profile.signing_keys) ? profile.signing_keys : Array.isArray(profile.ucp?.signing_keys) ? profile.ucp.signing_keys : [];
      const keys = new Map<string, KeyObject>();
      for (const jwk of listed.slice(0, 20)) {
        const key = publicKeyOf(jwk);
        const kid = (jwk as { kid?: unknown }).kid;
        if (key && typeof kid === 'string') keys.set(kid, key);
      }
      this.keys = keys;
    } catch {
      // Unreachable or malformed: the keys we had stay until the next refresh; an unknown kid is refused.
    }
  }
}

export function ucpOrderWebhookHandler(options: UcpOrderWebhookOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (!isAcceptedUrl(options.profile)) throw new Error(`the business profile ${options.profile} is not an https URL (http only on loopback)`);
  const keys = new ProfileKeys(options.profile, options.fetchImpl);
  const limit = options.maxBytes ?? MAX_EVENT_BYTES;
  const { logger } = options;
  return async (req, res) => {
    const eventId = typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'].slice(0, 256) : undefined;
    // UCP's REST error body: a code and its words.
    const refuse = (status: number, code: string, content: string, headers: Record<string, string> = {}) => {
      logger.log('warn', 'order_event_refused', { protocol: 'ucp', status, reason: code, remote: req.socket.remoteAddress, ...(eventId ? { event_id: eventId } : {}) });
      sendJson(res, status, { code, content }, headers);
    };
    if (req.method !== 'POST') return refuse(405, 'method_not_allowed', 'Order events are sent with POST.', { allow: 'POST' });
    const raw = await readRawBody(req, limit);
    if (raw === 'gone') return;
    if (raw === 'too_large') {
      req.resume();
      return refuse(413, 'request_too_large', `The event is over ${limit} bytes.`, { connection: 'close' });
    }
    const verified = await verifyUcpRequest(
      { method: req.method, authority: req.headers.host ?? '', target: req.url ?? '/', headers: req.headers, body: raw },
      options.profile,
      (kid) => keys.keyFor(kid),
    );
    if (!verified.ok) return refuse(verified.status, verified.code, verified.message);
    const stamp = Number(req.headers['webhook-timestamp']);
    if (!eventId || !Number.isSafeInteger(stamp) || stamp <= 0) {
      return refuse(400, 'invalid_event', 'Webhook-Id and Webhook-Timestamp (unix seconds) are required.');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(400, 'invalid_json', 'The event is not JSON.');
    }
    const parsed = fromUcpOrder(body);
    if (!parsed.ok) return refuse(400, 'invalid_event', `The event is not an order we accept: ${parsed.problem}.`);
    try {
      const result = await options.events.receive({ merchant: options.merchant, type: 'order', order: parsed.order, signedAt: stamp * 1000, eventId });
      logDelivery(logger, result, parsed.order, { protocol: 'ucp', merchant: options.merchant, event_id: eventId });
      sendJson(res, 200, { ucp: { version: '2026-04-08', status: 'success' } });
    } catch (failure) {
      const store = failure instanceof StoreUnavailableError;
      logger.log('warn', 'order_event_failed', { protocol: 'ucp', merchant: options.merchant, reason: store ? 'store_unavailable' : 'internal' });
      sendJson(res, store ? 503 : 500, { code: store ? 'store_unavailable' : 'internal_error', content: 'The event could not be recorded; retry it later.' });
    }
  };
}
