// POST /agentic_checkout/webhooks/order_events: ACP order events from merchants (HTTP mode, on when
// ACP_WEBHOOK_SECRET is set). The signature is the authentication, so no bearer token and no Host check (a
// merchant reaches it through a proxy under a public name; a browser cannot sign). The raw bytes are verified
// before anything is parsed; a body over the limit is 413; every refusal is the spec's error body and changes
// nothing. Nothing secret is logged: not the secret, not the signature.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { SIGNATURE_HEADER, TOLERANCE_S, verifyAcpSignature, type WebhookSecret } from '../orders/acp-signature.js';
import { parseOrderEvent, type MerchantOrder } from '../orders/merchant-order.js';
import type { DeliveryResult, OrderEvents } from '../orders/order-events.js';
import { StoreUnavailableError } from '../store/store.js';
import { readRawBody, sendJson } from './request-body.js';

export const ORDER_EVENTS_PATH = '/agentic_checkout/webhooks/order_events';
/** A full order with a thousand line items fits; a body meant to exhaust memory does not. */
export const MAX_EVENT_BYTES = 512 * 1024;

export interface OrderWebhookOptions {
  secrets: readonly WebhookSecret[];
  events: OrderEvents;
  logger: Logger;
  now?: () => number;
  maxBytes?: number;
  toleranceS?: number;
}

type ErrorType = 'invalid_request' | 'processing_error' | 'service_unavailable';

function error(type: ErrorType, code: string, message: string, param?: string) {
  return { type, code, message, ...(param ? { param } : {}) };
}

/** The log line of one applied, late or repeated delivery (ACP and UCP alike). */
export function logDelivery(logger: Logger, result: DeliveryResult, order: MerchantOrder, fields: Record<string, unknown>): void {
  logger.log(result.known ? 'info' : 'warn', 'order_event', {
    ...fields,
    checkout: result.anchor,
    order: order.id,
    status: order.status ?? null,
    outcome: result.outcome,
    known: result.known,
    deliveries: result.line.deliveries,
    ...(result.settled.length > 0 ? { settled: result.settled } : {}),
  });
}

export function orderWebhookHandler(options: OrderWebhookOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const now = options.now ?? Date.now;
  const limit = options.maxBytes ?? MAX_EVENT_BYTES;
  const { logger } = options;
  return async (req, res) => {
    const requestId = typeof req.headers['request-id'] === 'string' ? req.headers['request-id'].slice(0, 128) : undefined;
    const refuse = (status: number, reason: string, body: ReturnType<typeof error>, headers: Record<string, string> = {}) => {
      logger.log('warn', 'order_event_refused', { status, reason, remote: req.socket.remoteAddress, ...(requestId ? { request_id: requestId } : {}) });
      sendJson(res, status, body, headers);
    };
    if (req.method !== 'POST') {
      return refuse(405, 'method', error('invalid_request', 'method_not_allowed', 'Order events are sent with POST.'), { allow: 'POST' });
    }
    const raw = await readRawBody(req, limit);
    if (raw === 'gone') return;
    if (raw === 'too_large') {
      req.resume();
      return refuse(413, 'body_too_large', error('invalid_request', 'request_too_large', `The event is over ${limit} bytes.`), { connection: 'close' });
    }
    const verified = verifyAcpSignature(req.headers[SIGNATURE_HEADER], raw, options.secrets, now(), options.toleranceS ?? TOLERANCE_S);
    if (!verified.ok) return refuse(401, `signature_${verified.reason}`, error('invalid_request', 'invalid_signature', verified.message));
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(400, 'bad_json', error('invalid_request', 'invalid_json', 'The event is not JSON.'));
    }
    const parsed = parseOrderEvent(body);
    if (!parsed.ok) return refuse(400, 'invalid_event', error('invalid_request', 'invalid_event', `The event is not an order event we accept: ${parsed.problem}.`, parsed.param));
    try {
      const result = await options.events.receive({ merchant: verified.merchant, type: parsed.type, order: parsed.order, signedAt: verified.signedAt });
      logDelivery(logger, result, parsed.order, { merchant: verified.merchant, type: parsed.type, ...(requestId ? { request_id: requestId } : {}) });
      sendJson(res, 200, { received: true, ...(requestId ? { request_id: requestId } : {}) });
    } catch (failure) {
      // Not recorded: the merchant retries, and the retry is applied (or found) exactly once.
      const store = failure instanceof StoreUnavailableError;
      logger.log('warn', 'order_event_failed', { merchant: verified.merchant, reason: store ? 'store_unavailable' : 'internal', message: failure instanceof Error ? failure.message : String(failure) });
      sendJson(
        res,
        500,
        store
          ? error('service_unavailable', 'store_unavailable', 'The ledger store is unavailable; retry the event later.')
          : error('processing_error', 'internal_error', 'The event could not be recorded; retry it later.'),
      );
    }
  };
}
