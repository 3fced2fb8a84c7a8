// UCP order webhooks against an adversary and a slow profile: a captured delivery replayed under a new Webhook-Id
// and Webhook-Timestamp (neither is signed), and deliveries that arrive while the business's keys are being fetched.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckoutHeads } from '../src/checkout/heads.js';
import type { CheckoutSession } from '../src/commerce/session.js';
import { Ledger } from '../src/ledger/ledger.js';
import { silentLogger } from '../src/log.js';
import type { MerchantOrder } from '../src/orders/merchant-order.js';
import { OrderEvents, orderEventsKey, type OrderEventsRecord } from '../src/orders/order-events.js';
import { signUcpRequest } from '../src/orders/ucp-signature.js';
import { openMemoryStore } from '../src/store/memory.js';
import type { Store } from '../src/store/store.js';
import { UCP_ORDER_EVENTS_PATH, ucpOrderWebhookHandler } from '../src/transports/ucp-order-webhook.js';

const MERCHANT = 'ucp:https://business.example/ucp';
const PROFILE = 'http://127.0.0.1:9/.well-known/ucp';
const KID = 'business-2026';

/** The business's key pair and its published profile (served by a stub fetch, `delayMs` late). */
function business(delayMs = 0) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'ES256' };
  let fetches = 0;
  const fetchImpl = (async () => {
    fetches += 1;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return new Response(JSON.stringify({ ucp: { version: '2026-04-08' }, signing_keys: [jwk] }), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { privateKey, fetchImpl, fetches: () => fetches };
}

/** A UCP order (order.md) for checkout `chk_1`: `quantity` of one line, not shipped yet. */
function ucpOrder(quantity: number): string {
  return JSON.stringify({
    ucp: { version: '2026-04-08' },
    id: 'ord_1',
    checkout_id: 'chk_1',
    permalink_url: 'https://business.example/orders/ord_1',
    currency: 'USD',
    line_items: [{ id: 'li_1', item: { id: 'sku_mug', title: 'Mug', price: 1000 }, quantity: { original: 2, total: quantity, fulfilled: 0 }, totals: [{ type: 'total', amount: 1000 * quantity }] }],
    fulfillment: { expectations: [{ id: 'exp_1', method_type: 'shipping' }], events: [] },
    adjustments: [],
    totals: [{ type: 'total', display_text: 'Total', amount: 1000 * quantity }],
  });
}

interface Receiver {
  store: Store;
  heads: CheckoutHeads;
  port: number;
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** The UCP receiver in process, on a memory store with a head for checkout chk_1 (ours, completed). */
async function receiver(fetchImpl: typeof fetch): Promise<Receiver> {
  const store = openMemoryStore();
  const ledger = new Ledger({ store, ttlMs: 3_600_000, waitMs: 100 });
  const heads = new CheckoutHeads(store, 'ucp', MERCHANT, ledger.clock, ledger.leaseMs);
  const checkout = { id: 'chk_1', status: 'completed', currency: 'usd', line_items: [], totals: [], fulfillment_options: [], messages: [], links: [] } as unknown as CheckoutSession;
  await heads.create({ principal: 'alice', backend: 'ucp', merchant: MERCHANT, anchor: 'chk_1', create_key: 'create-chk_1', checkout, first_seen_at: 1, updated_at: 1 });
  const handler = ucpOrderWebhookHandler({ profile: PROFILE, merchant: MERCHANT, events: new OrderEvents(ledger, heads), logger: silentLogger, fetchImpl });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { store, heads, port: (server.address() as AddressInfo).port, server };
}

/** What the business sends: the body and every header, signed as the reference business signs (RFC 9421). */
function signedEvent(port: number, key: KeyObject, body: string, webhookId: string, webhookTimestamp: number): Record<string, string> {
  const headers = {
    'content-type': 'application/json',
    'ucp-agent': `profile="${PROFILE}"`,
    'webhook-id': webhookId,
    'webhook-timestamp': String(webhookTimestamp),
  };
  const signed = signUcpRequest({ method: 'POST', authority: `127.0.0.1:${port}`, target: UCP_ORDER_EVENTS_PATH, headers, body: Buffer.from(body) }, key, KID, webhookTimestamp);
  return { ...headers, ...signed };
}

/** How many mugs the order on the checkout's head says. */
function mugsOnHead(stored: Awaited<ReturnType<CheckoutHeads['read']>>): number | undefined {
  return (stored?.value.order?.value as MerchantOrder | undefined)?.line_items?.[0]?.quantity.current;
}

async function post(port: number, headers: Record<string, string>, body: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}${UCP_ORDER_EVENTS_PATH}`, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() };
}

describe('review: UCP order webhooks', () => {
  it(
    'UCP signatures.md "Replay attacks" / order.md Webhook-Id, Webhook-Timestamp: a captured signed event resent with a new Webhook-Id and a later Webhook-Timestamp (neither is signed) does not put an older order state back on the checkout',
    async () => {
      const { privateKey, fetchImpl } = business();
      const { port, heads, store } = await receiver(fetchImpl);
      const t0 = Math.floor(Date.now() / 1000) - 600;

      // The business sends the order (2 mugs), then edits it to 1 mug (line_items "can change post-order via edits").
      const first = ucpOrder(2);
      const firstHeaders = signedEvent(port, privateKey, first, 'evt_1', t0);
      expect((await post(port, firstHeaders, first)).status).toBe(200);
      const edited = ucpOrder(1);
      expect((await post(port, signedEvent(port, privateKey, edited, 'evt_2', t0 + 60), edited)).status).toBe(200);
      expect(mugsOnHead(await heads.read('chk_1'))).toBe(1);

      // Someone who saw the first delivery (a log, a proxy) resends its bytes and signature untouched, only the
      // unsigned Webhook-Id and Webhook-Timestamp changed.
      const replay = { ...firstHeaders, 'webhook-id': 'evt_replayed', 'webhook-timestamp': String(t0 + 3600) };
      await post(port, replay, first);

      const record = (await store.get<OrderEventsRecord>(orderEventsKey('ucp', MERCHANT, 'chk_1')))!.value;
      // Expected: the business's latest word (1 mug) stays; the replay is at most recorded, never applied.
      expect(record.latest!.value.line_items![0].quantity.current).toBe(1);
      expect(mugsOnHead(await heads.read('chk_1'))).toBe(1);
    },
    20_000,
  );

  it(
    'UCP order.md "Webhook Signature Verification" (fetch the profile, locate the key by kid): two deliveries that arrive while the business\'s keys are first being fetched are both verified, not one refused key_not_found',
    async () => {
      const { privateKey, fetchImpl, fetches } = business(500);
      const { port } = await receiver(fetchImpl);
      const t = Math.floor(Date.now() / 1000);
      const a = ucpOrder(2);
      const b = ucpOrder(1);
      const answers = await Promise.all([post(port, signedEvent(port, privateKey, a, 'evt_a', t), a), post(port, signedEvent(port, privateKey, b, 'evt_b', t + 1), b)]);
      expect(fetches()).toBe(1);
      // Expected: both signed correctly with the published key, both accepted.
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
    },
    20_000,
  );
});
