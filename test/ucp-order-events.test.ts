// Issue 18 over UCP: the reference business signs its order webhooks with RFC 9421 HTTP Message Signatures (a
// P-256 key published in its /.well-known/ucp `signing_keys`); the built server (ucp backend, HTTP mode)
// verifies them with the business's key, applies each Webhook-Id once, and tells the agent.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { toUcpOrder } from '../src/backends/sandbox/order-events.js';
import { headStoreKey, type AnchorHead } from '../src/checkout/heads.js';
import { orderEventsKey, type OrderEventsRecord } from '../src/orders/order-events.js';
import { signUcpRequest } from '../src/orders/ucp-signature.js';
import { openMemoryStore } from '../src/store/memory.js';
import { parseStoreUrl } from '../src/config/store-url.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { UCP_ORDER_EVENTS_PATH } from '../src/transports/ucp-order-webhook.js';
import { connectHttp, newToken, startHttpServer, type HttpClient, type HttpServerProcess } from './support/http-server-process.js';
import { closedPort as freePort } from './support/ports.js';
import { eventually } from './support/waiting.js';
import { ADDRESS, structured, tempDir } from './support/server-process.js';

const PAY = { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'token', token: 'tok_sandbox_ok' } } };
const LONG = 120_000;

describe('issue 18 over UCP: signed order webhooks (RFC 9421, the business\'s published key)', () => {
  let merchant: MerchantServer;
  let server: HttpServerProcess;
  let agent: HttpClient;
  let store: Store;
  let storeUrl: string;
  const token = newToken('alice');

  beforeAll(async () => {
    storeUrl = `sqlite://${join(tempDir('once-ucp-events-'), 'ledger.db')}`;
    const port = await freePort();
    merchant = await serveMerchant({
      port: 0,
      store: openMemoryStore(),
      // Every event twice at once and again after it was accepted.
      ucpOrderEvents: { url: `http://127.0.0.1:${port}${UCP_ORDER_EVENTS_PATH}`, faults: { duplicate: 1, retry: 1 }, backoffMs: 50 },
    });
    server = await startHttpServer(
      {
        ONCE_STORE: storeUrl,
        ONCE_BACKEND: 'ucp',
        UCP_BASE_URL: `${merchant.url}/ucp`,
        UCP_AGENT_PROFILE: 'https://agent.example/profiles/once-checkout.json',
        ONCE_HTTP_TOKENS: `${token}=alice`,
        ONCE_RATE_LIMIT: 'off',
      },
      `127.0.0.1:${port}`,
    );
    agent = await connectHttp(server.url, token);
    store = await openStore(parseStoreUrl(storeUrl));
  }, LONG);

  afterAll(async () => {
    await agent?.close().catch(() => {});
    await server?.stop();
    await merchant?.close();
    await store?.close();
  });

  const merchantId = () => `ucp:${merchant.url}/ucp`;

  it(
    'issue 18 (UCP): each Webhook-Id is applied once however often it is delivered; the shipment reaches get_checkout without a read of the business',
    async () => {
      const id = structured(await agent.call('create_checkout', { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } })).checkout!.id;
      const done = structured(await agent.call('complete_checkout', { checkout_session_id: id, payment_data: PAY }));
      expect(done.checkout?.status).toBe('completed');
      await merchant.orders.idle();
      await merchant.orders.advance(done.checkout!.order!.id, 'ship');
      await merchant.orders.idle();
      const record = (await store.get<OrderEventsRecord>(orderEventsKey('ucp', merchantId(), id)))!.value;
      expect(record.lines.map((l) => [l.status, l.outcome, l.deliveries])).toEqual([
        ['confirmed', 'applied', 3],
        ['shipped', 'applied', 3],
      ]);
      expect(record.lines.every((l) => l.event_id?.startsWith('evt_'))).toBe(true);
      const head = (await store.get<AnchorHead>(headStoreKey('ucp', merchantId(), id)))!.value;
      expect(head.order?.value).toMatchObject({ status: 'shipped', fulfillments: [{ type: 'shipping', status: 'shipped', carrier: 'USPS' }] });
      await merchant.close();
      const read = structured(await agent.call('get_checkout', { checkout_session_id: id }));
      expect(read.checkout!.order).toMatchObject({ id: done.checkout!.order!.id, status: 'shipped' });
      merchant = await serveMerchant({ port: Number(new URL(merchant.url).port), store: openMemoryStore() });
    },
    LONG,
  );

  it(
    'issue 18 (UCP): an unsigned event, a key the business does not publish, another business\'s profile and a body changed after signing are refused and change nothing',
    async () => {
      const order = {
        type: 'order' as const,
        id: 'ord_forged',
        checkout_session_id: 'cs_forged',
        permalink_url: `${merchant.url}/orders/ord_forged`,
        status: 'created',
        line_items: [],
        fulfillments: [],
        adjustments: [],
        totals: [{ type: 'total', display_text: 'Total', amount: 100 }],
      };
      const body = JSON.stringify(toUcpOrder(order, 'usd'));
      const target = `http://127.0.0.1:${server.port}${UCP_ORDER_EVENTS_PATH}`;
      const base = {
        'content-type': 'application/json',
        'ucp-agent': `profile="${merchant.url}/.well-known/ucp"`,
        'webhook-id': `evt_${randomBytes(4).toString('hex')}`,
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      };
      const signedWith = (key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, headers = base) =>
        ({ ...headers, ...signUcpRequest({ method: 'POST', authority: `127.0.0.1:${server.port}`, target: UCP_ORDER_EVENTS_PATH, headers, body: Buffer.from(body) }, key, 'not-published', Math.floor(Date.now() / 1000)) });
      const post = async (headers: Record<string, string>, text = body) => {
        const response = await fetch(target, { method: 'POST', headers, body: text });
        return { status: response.status, body: (await response.json()) as { code: string } };
      };
      expect(await post(base)).toMatchObject({ status: 401, body: { code: 'signature_missing' } });
      expect(await post(signedWith())).toMatchObject({ status: 401, body: { code: 'key_not_found' } });
      const stranger = { ...base, 'ucp-agent': 'profile="https://other-business.example/.well-known/ucp"' };
      expect(await post(signedWith(undefined, stranger))).toMatchObject({ status: 403, body: { code: 'profile_not_trusted' } });
      expect(await post(signedWith(), body.replace('ord_forged', 'ord_forget'))).toMatchObject({ status: 400, body: { code: 'digest_mismatch' } });
      expect(await store.get(orderEventsKey('ucp', merchantId(), 'cs_forged'))).toBeUndefined();
      expect(server.stderr.join('\n')).toContain('order_event_refused');
    },
    LONG,
  );

  it('issue 18 (UCP): the started line names where the business sends its order events', async () => {
    const started = server.stderr.find((l) => l.includes('"event":"started"'))!;
    expect(started).toContain(`"ucp_order_events_url":"http://127.0.0.1:${server.port}${UCP_ORDER_EVENTS_PATH}"`);
    await eventually('nothing', async () => true);
  });
});
