// Issue 18, end to end: the reference merchant (in process, over HTTP) sends signed ACP order events to the
// built server in HTTP mode; two server processes share one PostgreSQL store; agents talk MCP over HTTP and
// stdio. Every case names the rule or issue case it proves.
import { randomBytes } from 'node:crypto';
import { ResourceUpdatedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import type { SandboxOrder } from '../src/backends/sandbox/order-events.js';
import { headStoreKey, type AnchorHead } from '../src/checkout/heads.js';
import { signAcpEvent } from '../src/orders/acp-signature.js';
import { orderEventsKey, type OrderEventsRecord } from '../src/orders/order-events.js';
import { openMemoryStore } from '../src/store/memory.js';
import { parseStoreUrl } from '../src/config/store-url.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { ORDER_EVENTS_PATH } from '../src/transports/order-webhook.js';
import { runCli } from './support/cli-process.js';
import { connectHttp, newToken, startHttpServer, type HttpClient, type HttpServerProcess } from './support/http-server-process.js';
import { closedPort as freePort } from './support/ports.js';
import { eventually } from './support/waiting.js';
import { ADDRESS, startServer, structured, type RunningServer } from './support/server-process.js';
import { freshPostgresDatabase, postgresAvailable } from './support/services.js';

const CART = { items: [{ id: 'sku_tshirt', quantity: 2 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const PAY = { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const API_KEY = `key_${randomBytes(12).toString('hex')}`;
const LONG = 120_000;

const available = await postgresAvailable();

describe.skipIf(!available)('issue 18: signed order events, applied exactly once, and the agent told', () => {
  let storeUrl: string;
  let store: Store;
  let merchant: MerchantServer;
  let a: HttpServerProcess;
  let b: HttpServerProcess;
  const token = newToken('alice');
  const clients: HttpClient[] = [];
  let merchantIdentity: string;

  beforeAll(async () => {
    storeUrl = await freshPostgresDatabase('once_order_events');
    store = await openStore(parseStoreUrl(storeUrl));
    const port = await freePort();
    merchant = await serveMerchant({
      port: 0,
      store: openMemoryStore(),
      tokens: { [API_KEY]: 'platform' },
      // Every event delivered twice at once, and again after it was accepted: the merchant's worst habits.
      orderEvents: { url: `http://127.0.0.1:${port}${ORDER_EVENTS_PATH}`, secret: SECRET, faults: { duplicate: 1, retry: 1 }, backoffMs: 50 },
    });
    merchantIdentity = `acp:${merchant.url}`;
    const env = {
      ONCE_STORE: storeUrl,
      ONCE_BACKEND: 'acp',
      ACP_BASE_URL: merchant.url,
      ACP_API_KEY: API_KEY,
      ONCE_HTTP_TOKENS: `${token}=alice`,
      ONCE_RATE_LIMIT: 'off',
      ACP_WEBHOOK_SECRET: SECRET,
    };
    [a, b] = await Promise.all([startHttpServer(env, `127.0.0.1:${port}`), startHttpServer(env)]);
  }, LONG);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all([a?.stop(), b?.stop()]);
    await merchant?.close();
    await store?.close();
  });

  async function client(server: HttpServerProcess): Promise<HttpClient> {
    const c = await connectHttp(server.url, token);
    clients.push(c);
    return c;
  }

  async function buy(c: { call(name: string, args: Record<string, unknown>): Promise<CallToolResult> }): Promise<{ id: string; orderId: string }> {
    const created = structured(await c.call('create_checkout', { ...CART, task_id: randomBytes(6).toString('hex') }));
    const id = created.checkout!.id;
    const completed = structured(await c.call('complete_checkout', { checkout_session_id: id, payment_data: PAY }));
    expect(completed.checkout?.status).toBe('completed');
    return { id, orderId: completed.checkout!.order!.id };
  }

  const events = async (id: string) => (await store.get<OrderEventsRecord>(orderEventsKey('acp', merchantIdentity, id)))?.value;
  const head = async (id: string) => (await store.get<AnchorHead>(headStoreKey('acp', merchantIdentity, id)))?.value;

  function signed(body: string, t = Math.floor(Date.now() / 1000)): Record<string, string> {
    return { 'content-type': 'application/json', 'merchant-signature': signAcpEvent(SECRET, body, t) };
  }

  async function post(server: HttpServerProcess, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`http://127.0.0.1:${server.port}${ORDER_EVENTS_PATH}`, { method: 'POST', headers, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it(
    'issue 18: a valid event is applied once however many times it is delivered, concurrently, to two server processes on one PostgreSQL store',
    async () => {
      const { id, orderId } = await buy(await client(a));
      // The merchant itself delivered order_create 3 times (two at once, then a retry after success).
      await merchant.orders.idle();
      const order = (await merchant.orders.get(orderId))!;
      const body = JSON.stringify({ type: 'order_create', data: order });
      // And the same event 20 more times, to both processes at once, each signed afresh (as retries are).
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a : b, body, signed(body))));
      expect(answers.every((r) => r.status === 200 && r.body.received === true)).toBe(true);

      const record = (await events(id))!;
      expect(record.lines).toHaveLength(1);
      expect(record.lines[0]).toMatchObject({ type: 'order_create', order_id: orderId, outcome: 'applied', seq: 1, deliveries: 23 });
      expect(record.seq).toBe(1);
      expect((await head(id))!.order).toMatchObject({ seq: 1, value: { id: orderId, status: 'created' } });

      // `ledger show` has the event on the checkout's timeline.
      const shown = await runCli(['ledger', 'show', id], { ONCE_STORE: storeUrl });
      expect(shown.stdout).toMatch(/order\s+-\s+order_create\s.*applied.*23 deliveries/);
    },
    LONG,
  );

  it(
    'issue 18: a replay outside the window, a bad signature, a body changed after signing, a missing header and an oversized body get 401 or 413 and change nothing',
    async () => {
      const { id, orderId } = await buy(await client(a));
      await merchant.orders.idle();
      const shipped = (await merchant.orders.advance(orderId, 'ship'))!;
      await merchant.orders.idle();
      const before = await store.get<OrderEventsRecord>(orderEventsKey('acp', merchantIdentity, id));
      const headBefore = await store.get<AnchorHead>(headStoreKey('acp', merchantIdentity, id));
      const delivered: SandboxOrder = structuredClone(shipped);
      delivered.status = 'completed';
      const body = JSON.stringify({ type: 'order_update', data: delivered });
      const now = Math.floor(Date.now() / 1000);
      const spec401 = { type: 'invalid_request', code: 'invalid_signature' };

      const replayed = await post(a, body, signed(body, now - 301));
      expect(replayed).toEqual({ status: 401, body: { ...spec401, message: 'Timestamp outside allowed window.' } });
      const wrongSecret = await post(a, body, { 'content-type': 'application/json', 'merchant-signature': signAcpEvent(`${SECRET}x`, body, now) });
      expect(wrongSecret).toEqual({ status: 401, body: { ...spec401, message: 'Webhook signature verification failed.' } });
      const tampered = await post(b, body.replace('"completed"', '"canceled"'), signed(body, now));
      expect(tampered).toEqual({ status: 401, body: { ...spec401, message: 'Webhook signature verification failed.' } });
      const missing = await post(b, body, { 'content-type': 'application/json' });
      expect(missing).toEqual({ status: 401, body: { ...spec401, message: 'Missing Merchant-Signature header.' } });
      const malformed = await post(a, body, { 'content-type': 'application/json', 'merchant-signature': `t=${now},v1=xyz` });
      expect(malformed).toEqual({ status: 401, body: { ...spec401, message: 'Merchant-Signature must be t=<timestamp>,v1=<64_hex>.' } });
      const huge = JSON.stringify({ type: 'order_update', data: { ...delivered, support: { note: 'x'.repeat(600 * 1024) } } });
      const oversized = await post(a, huge, signed(huge, now));
      expect(oversized.status).toBe(413);
      expect(oversized.body).toMatchObject({ type: 'invalid_request', code: 'request_too_large' });

      expect((await store.get<OrderEventsRecord>(orderEventsKey('acp', merchantIdentity, id)))!.raw).toBe(before!.raw);
      expect((await store.get<AnchorHead>(headStoreKey('acp', merchantIdentity, id)))!.raw).toBe(headBefore!.raw);
      // The refusals are logged without the secret or the signature.
      const logs = [...a.stderr, ...b.stderr].join('\n');
      expect(logs).toContain('order_event_refused');
      expect(logs).not.toContain(SECRET);
      expect(logs).not.toMatch(/v1=[0-9a-f]{64}/);
    },
    LONG,
  );

  it(
    'issue 18: an older order state delivered after a newer one is recorded, not applied',
    async () => {
      const { id, orderId } = await buy(await client(a));
      await merchant.orders.idle();
      // One after the other: the merchant's duplicate and retry faults would otherwise let the two race.
      const shipped = structuredClone((await merchant.orders.advance(orderId, 'ship'))!);
      await merchant.orders.idle();
      const delivered = structuredClone((await merchant.orders.advance(orderId, 'deliver'))!);
      await merchant.orders.idle();
      expect((await head(id))!.order!.value.status).toBe('completed');
      // The shipped state again, late (a retry the merchant signed after the newer one), at the other process.
      const late = JSON.stringify({ type: 'order_update', data: shipped });
      expect((await post(b, late, signed(late))).status).toBe(200);
      const record = (await events(id))!;
      expect(record.lines.map((l) => [l.status, l.outcome])).toEqual([
        ['created', 'applied'],
        ['shipped', 'applied'],
        ['completed', 'applied'],
      ]);
      // A shipped state the server never saw, older than the delivered one: a line of its own, marked late.
      const unseen: SandboxOrder = { ...structuredClone(shipped), fulfillments: shipped.fulfillments.map((f) => ({ ...f, carrier: 'UPS' })) };
      const body = JSON.stringify({ type: 'order_update', data: unseen });
      expect((await post(a, body, signed(body))).status).toBe(200);
      const after = (await events(id))!;
      expect(after.lines.at(-1)).toMatchObject({ status: 'shipped', outcome: 'late', deliveries: 1 });
      expect((await head(id))!.order).toMatchObject({ seq: 3, value: { status: 'completed', fulfillments: [{ status: 'delivered' }] } });
      expect(structured(await (await client(b)).call('get_checkout', { checkout_session_id: id })).checkout!.order).toMatchObject({ status: 'completed' });
      expect(delivered.status).toBe('completed');
    },
    LONG,
  );

  it(
    'issue 18 (R13): an order_create settles a complete whose outcome is unknown, and the next call returns the order without a read of the merchant',
    async () => {
      // A merchant that commits the payment and then loses its answer, on its own store and server.
      const port = await freePort();
      const lossy = await serveMerchant({
        port: 0,
        store: openMemoryStore(),
        tokens: { [API_KEY]: 'platform' },
        faults: { rules: [{ fault: 'lose_response', rate: 1, operation: 'complete' }] },
        orderEvents: { url: `http://127.0.0.1:${port}${ORDER_EVENTS_PATH}`, secret: SECRET, backoffMs: 50 },
      });
      const server = await startHttpServer(
        { ONCE_STORE: storeUrl, ONCE_BACKEND: 'acp', ACP_BASE_URL: lossy.url, ACP_API_KEY: API_KEY, ONCE_HTTP_TOKENS: `${token}=alice`, ONCE_RATE_LIMIT: 'off', ACP_WEBHOOK_SECRET: SECRET },
        `127.0.0.1:${port}`,
      );
      try {
        const agent = await client(server);
        const id = structured(await agent.call('create_checkout', { ...CART, task_id: 'lossy' })).checkout!.id;
        const lost = structured(await agent.call('complete_checkout', { checkout_session_id: id, payment_data: PAY }));
        expect(lost.error?.code).toBe('outcome_unknown');
        await lossy.orders.idle();
        const settled = await eventually('the complete settled by the event', async () => {
          const h = await store.get<AnchorHead>(headStoreKey('acp', `acp:${lossy.url}`, id));
          return h && h.value.open.length === 0 && h.value.checkout.status === 'completed' ? h.value : undefined;
        });
        expect(settled.order?.value.status).toBe('created');
        type Rec = { operation: string; anchor?: string; state: { status: string }; timeline: Array<{ event: string; detail?: string }> };
        const records: Rec[] = [];
        for await (const [, r] of store.entries<Rec>('rec:')) if (r.anchor === id && r.operation === 'complete') records.push(r);
        expect(records).toHaveLength(1);
        const record = records[0];
        expect(record.state.status).toBe('succeeded');
        expect(record.timeline.map((e) => e.detail)).toContain('the signed order event shows succeeded');

        // The merchant is gone: whatever the agent hears now comes from the ledger and the event.
        await lossy.close();
        const again = structured(await agent.call('complete_checkout', { checkout_session_id: id, payment_data: PAY }));
        expect(again.checkout).toMatchObject({ id, status: 'completed', order: { status: 'created' } });
        expect(again.idempotency).toMatchObject({ outcome: 'succeeded', replayed: true });
        const read = structured(await agent.call('get_checkout', { checkout_session_id: id }));
        expect(read.checkout).toMatchObject({ id, status: 'completed', order: { status: 'created', checkout_session_id: id } });
      } finally {
        await server.stop();
        await lossy.close().catch(() => {});
      }
    },
    LONG,
  );

  it(
    'issue 18: an order for a checkout this server does not know is recorded, and reconcile reports it',
    async () => {
      const order = { type: 'order', id: 'ord_stranger', checkout_session_id: 'cs_not_ours', permalink_url: `${merchant.url}/orders/ord_stranger`, status: 'created' };
      const body = JSON.stringify({ type: 'order_create', data: order });
      expect((await post(a, body, signed(body))).status).toBe(200);
      expect((await events('cs_not_ours'))).toMatchObject({ known: false, lines: [{ order_id: 'ord_stranger', outcome: 'applied' }] });
      const report = await runCli(['reconcile'], { ONCE_STORE: storeUrl, ONCE_BACKEND: 'acp', ACP_BASE_URL: merchant.url, ACP_API_KEY: API_KEY });
      expect(report.stdout).toMatch(/unknown order\s+ord_stranger\s+for checkout cs_not_ours at acp:http/);
    },
    LONG,
  );

  it(
    'issue 18: a subscribed MCP client over HTTP receives resources/updated for the order\'s shipment',
    async () => {
      const agent = await client(b);
      const { id, orderId } = await buy(agent);
      await merchant.orders.idle();
      const uri = `checkout://${id}`;
      const updated: string[] = [];
      agent.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
      await agent.client.subscribeResource({ uri });
      // The event reaches process A; the subscriber is on B (same store): B's poll of the head tells it.
      await merchant.orders.advance(orderId, 'ship');
      await eventually('resources/updated', async () => (updated.includes(uri) ? true : undefined));
      const read = await agent.client.readResource({ uri });
      const body = JSON.parse(String((read.contents[0] as { text: string }).text));
      expect(body.checkout.order).toMatchObject({ id: orderId, status: 'shipped', fulfillments: [{ status: 'shipped', carrier: 'USPS' }] });

      // And a client of A, where the event lands, is told at once (in process).
      const direct = await client(a);
      const seen: string[] = [];
      direct.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.push(n.params.uri));
      await direct.client.subscribeResource({ uri });
      await merchant.orders.advance(orderId, 'refund');
      await eventually('resources/updated on A', async () => (seen.includes(uri) ? true : undefined));
      const refunded = structured(await direct.call('get_checkout', { checkout_session_id: id })).checkout!.order as unknown as { adjustments: unknown[]; totals: unknown[] };
      expect(refunded.adjustments).toMatchObject([{ type: 'refund', status: 'completed' }]);
      expect(refunded.totals).toContainEqual(expect.objectContaining({ type: 'amount_refunded' }));
    },
    LONG,
  );

  it(
    'issue 18: a subscribed MCP client over stdio receives resources/updated for the order\'s shipment',
    async () => {
      let stdio: RunningServer | undefined;
      try {
        stdio = await startServer({ ONCE_STORE: storeUrl, ONCE_BACKEND: 'acp', ACP_BASE_URL: merchant.url, ACP_API_KEY: API_KEY, ONCE_PRINCIPAL: 'alice' });
        const { id, orderId } = await buy(stdio);
        await merchant.orders.idle();
        const uri = `checkout://${id}`;
        const updated: string[] = [];
        stdio.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
        await stdio.client.subscribeResource({ uri });
        // Events reach the HTTP server on the same store; the stdio server sees the head change.
        await merchant.orders.advance(orderId, 'ship');
        await eventually('resources/updated over stdio', async () => (updated.includes(uri) ? true : undefined));
        const read = structured(await stdio.call('get_checkout', { checkout_session_id: id }));
        expect(read.checkout!.order).toMatchObject({ status: 'shipped', fulfillments: [{ type: 'shipping', status: 'shipped' }] });
      } finally {
        await stdio?.close();
      }
    },
    LONG,
  );
});
