// The acp backend against the sandbox merchant over real HTTP, directly and through the fault proxy: the
// headers it sends, the bodies, and the BackendResult every fault becomes (R1, R6, R12).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answerToResult } from '../src/backends/acp/acp-answer.js';
import { readResult, statusOfAcpError } from '../src/backends/acp/mcp-transport.js';
import { AcpBackend } from '../src/backends/acp/acp-backend.js';
import { retryAfterMs } from '../src/backends/acp/acp-client.js';
import { merchantIdentity, readAcpConfig } from '../src/backends/acp/acp-config.js';
import { lineItems } from '../src/backends/acp/requests.js';
import type { BackendResult, CallContext } from '../src/backends/backend.js';
import { mulberry32, parseFaults } from '../src/backends/sandbox/faults.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { ConfigError } from '../src/config/config-error.js';
import { openMemoryStore } from '../src/store/memory.js';
import { VERSION } from '../src/version.js';
import { startFaultProxy, tokenFingerprint, type FaultProxy } from './support/fault-proxy.js';

const API_KEY = 'sk_test_acp_secret_0123456789';
const ADDRESS = { name: 'Ada', line_one: '1 St', city: 'Springfield', state: 'IL', country: 'US', postal_code: '62701' };
const CART = { items: [{ id: 'sku_mug', quantity: 2 }, { id: 'sku_cap', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const PAY = (token = 'tok_sandbox_ok') => ({
  payment_data: { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token } } },
});

let merchant: MerchantServer;
let proxy: FaultProxy;
let sleeps: number[] = [];
let n = 0;

/** A ledger-shaped outbound key: oc_ + 33 hex = 36 characters (R1). */
function ctx(label = 'k'): CallContext {
  n += 1;
  const key = `oc_${label}${String(n).padStart(6, '0')}`.padEnd(36, '0');
  return { idempotencyKey: key, attempt: 1, requestId: `req_${n}` };
}

function backend(url: string, timeoutMs = 2_000): AcpBackend {
  return new AcpBackend({
    endpoint: { transport: 'rest', url: new URL(url) },
    apiKey: API_KEY,
    apiVersion: '2026-04-17',
    timeoutMs,
    // Records the waits instead of sleeping: the test controls time, never races it.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

function ok(result: BackendResult) {
  if (result.kind !== 'succeeded') throw new Error(`expected succeeded, got ${JSON.stringify(result)}`);
  return result.checkout;
}

async function created(acp: AcpBackend): Promise<string> {
  return ok(await acp.create(CART, ctx('c'))).id;
}

beforeAll(async () => {
  merchant = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { [API_KEY]: 'agent' } });
  proxy = await startFaultProxy({ target: merchant.url });
});
afterAll(async () => {
  await proxy?.close();
  await merchant?.close();
});
afterEach(() => {
  proxy.clear();
  proxy.partition(false);
  sleeps = [];
});

describe('AcpBackend against the sandbox merchant', () => {
  it('create, update, complete, get and cancel succeed; quantity travels as repeated schema-valid items', async () => {
    const acp = backend(merchant.url);
    const session = ok(await acp.create(CART, ctx()));
    expect(session.status).toBe('ready_for_payment');
    expect(session.line_items.map((l) => [l.item.id, l.quantity])).toEqual([['sku_mug', 2], ['sku_cap', 1]]);
    const updated = ok(await acp.update(session.id, { items: [{ id: 'sku_mug', quantity: 3 }], discounts: null }, ctx()));
    expect(updated.line_items.map((l) => l.quantity)).toEqual([3]);
    const done = ok(await acp.complete(session.id, PAY(), ctx()));
    expect(done.status).toBe('completed');
    expect(done.order?.checkout_session_id).toBe(session.id);
    expect(ok(await acp.get(session.id)).order?.id).toBe(done.order?.id);
    expect(await merchant.merchant.ordersFor(session.id)).toHaveLength(1);

    const other = await created(acp);
    expect(ok(await acp.cancel(other, { reason: 'changed my mind' }, ctx())).status).toBe('canceled');
    expect(lineItems([{ id: 'a', quantity: 2 }])).toEqual([{ id: 'a' }, { id: 'a' }]);
  });

  it('R1: every POST carries the ledger key (≤ 36 chars) and API-Version, Authorization, Request-Id, User-Agent; GET carries no key', async () => {
    const acp = backend(proxy.url);
    const from = proxy.log.length;
    const sent: CallContext[] = [];
    const c1 = ctx();
    sent.push(c1);
    const id = ok(await acp.create(CART, c1)).id;
    for (const step of [
      (c: CallContext) => acp.update(id, { buyer: { email: 'ada@example.com' } }, c),
      (c: CallContext) => acp.complete(id, PAY(), c),
    ]) {
      const c = ctx();
      sent.push(c);
      ok(await step(c));
    }
    ok(await acp.get(id));
    const entries = proxy.log.slice(from);
    expect(entries.map((e) => `${e.method} ${e.path}`)).toEqual([
      'POST /checkout_sessions',
      `POST /checkout_sessions/${id}`,
      `POST /checkout_sessions/${id}/complete`,
      `GET /checkout_sessions/${id}`,
    ]);
    for (const entry of entries) {
      expect(entry.headers['api-version']).toBe('2026-04-17');
      expect(entry.headers.authorization).toBe(`Bearer ${tokenFingerprint(API_KEY)}`);
      expect(entry.headers['user-agent']).toBe(`once-checkout/${VERSION}`);
    }
    entries.slice(0, 3).forEach((entry, i) => {
      expect(entry.headers['idempotency-key']).toBe(sent[i].idempotencyKey);
      expect(entry.headers['idempotency-key'].length).toBeLessThanOrEqual(36);
      expect(entry.headers['request-id']).toBe(sent[i].requestId);
      expect(entry.headers['content-type']).toBe('application/json');
    });
    expect(entries[3].headers['idempotency-key']).toBeUndefined();
  });

  it('R12: a declined payment is a terminal failure in the merchant\'s words, code payment_declined, with the session', async () => {
    const acp = backend(merchant.url);
    const id = await created(acp);
    const result = await acp.complete(id, PAY('tok_sandbox_decline'), ctx());
    expect(result).toMatchObject({ kind: 'failed', code: 'payment_declined', message: expect.stringMatching(/declined by the card issuer/) });
    expect(result.kind === 'failed' && result.checkout?.status).toBeTruthy();
  });

  it('404 → checkout_not_found; 405 (cancel after complete) → failed with the completed session', async () => {
    const acp = backend(merchant.url);
    expect(await acp.get('cs_missing')).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
    expect(await acp.complete('cs_missing', PAY(), ctx())).toMatchObject({ kind: 'failed', code: 'checkout_not_found' });
    const id = await created(acp);
    ok(await acp.complete(id, PAY(), ctx()));
    const refused = await acp.cancel(id, {}, ctx());
    expect(refused).toMatchObject({ kind: 'failed', code: 'checkout_already_completed' });
    expect(refused.kind === 'failed' && refused.checkout?.status).toBe('completed');
  });

  it('same key, different body → failed idempotency_conflict, loudly; never resent', async () => {
    const acp = backend(proxy.url);
    const c = ctx();
    ok(await acp.create(CART, c));
    const from = proxy.log.length;
    const collided = await acp.create({ ...CART, items: [{ id: 'sku_tshirt', quantity: 1 }] }, c);
    expect(collided).toMatchObject({ kind: 'failed', code: 'idempotency_conflict', message: expect.stringMatching(/COLLISION/) });
    expect(proxy.log.length - from).toBe(1);
  });

  it('input ACP cannot express is refused before sending: null buyer', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    const from = proxy.log.length;
    expect(await acp.update(id, { buyer: null }, ctx())).toMatchObject({ kind: 'failed', code: 'invalid_input' });
    expect(proxy.log.length).toBe(from);
  });

  it('issue 13 case 5: without payment_data.handler_id the one card handler the session advertises is used', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    const from = proxy.log.length;
    const noHandler = { payment_data: { instrument: PAY().payment_data.instrument } };
    expect(ok(await acp.complete(id, noHandler, ctx())).status).toBe('completed');
    const sent = proxy.log.slice(from);
    expect(sent.map((e) => e.method)).toEqual(['GET', 'POST']);
    expect((sent[1].body as { payment_data: { handler_id: string } }).payment_data.handler_id).toBe('sandbox');
  });
});

describe('every fault becomes the right BackendResult (through the fault proxy)', () => {
  it('request dropped (never forwarded) → unknown; the same key then creates exactly one session', async () => {
    const acp = backend(proxy.url);
    const before = (await merchant.merchant.stats()).sessions;
    proxy.plan({ fault: 'drop_request', method: 'POST', path: /^\/checkout_sessions$/ });
    const c = ctx();
    expect(await acp.create(CART, c)).toMatchObject({ kind: 'unknown' });
    expect((await merchant.merchant.stats()).sessions).toBe(before);
    ok(await acp.create(CART, c));
    expect((await merchant.merchant.stats()).sessions).toBe(before + 1);
  });

  it('response dropped after the merchant committed → unknown; the same key replays the same session', async () => {
    const acp = backend(proxy.url);
    const before = (await merchant.merchant.stats()).sessions;
    proxy.plan({ fault: 'drop_response', method: 'POST', path: /^\/checkout_sessions$/ });
    const c = ctx();
    expect(await acp.create(CART, c)).toMatchObject({ kind: 'unknown' });
    expect((await merchant.merchant.stats()).sessions).toBe(before + 1);
    const again = ok(await acp.create(CART, c));
    expect((await merchant.merchant.stats()).sessions).toBe(before + 1);
    expect(proxy.log.at(-1)?.upstreamStatus).toBe(201);
    expect(again.id).toMatch(/^cs_/);
  });

  it('answer held past the client timeout → unknown; the order exists once and GET shows it', async () => {
    const acp = backend(proxy.url, 300);
    const id = await created(acp);
    proxy.plan({ fault: 'delay', method: 'POST', path: /\/complete$/, delayMs: 1_500 });
    const result = await acp.complete(id, PAY(), ctx());
    expect(result).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/no answer within 300 ms/) });
    expect(await merchant.merchant.ordersFor(id)).toHaveLength(1);
    expect(ok(await acp.get(id)).status).toBe('completed');
  });

  it('5xx from the proxy (not forwarded) → unknown; nothing happened at the merchant', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    proxy.plan({ fault: 'error_5xx', method: 'POST', path: /\/complete$/, status: 502 });
    expect(await acp.complete(id, PAY(), ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/502/) });
    expect(await merchant.merchant.ordersFor(id)).toHaveLength(0);
  });

  it('body cut in half → unknown (the merchant committed)', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    proxy.plan({ fault: 'cut_body', method: 'POST', path: /\/complete$/ });
    expect(await acp.complete(id, PAY(), ctx())).toMatchObject({ kind: 'unknown' });
    expect(await merchant.merchant.ordersFor(id)).toHaveLength(1);
  });

  it('partition → unknown; healed, the same key goes through once', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    proxy.partition(true);
    const c = ctx();
    expect(await acp.update(id, { discounts: { codes: ['WELCOME'] } }, c)).toMatchObject({ kind: 'unknown' });
    expect(await acp.get(id)).toMatchObject({ kind: 'unknown' });
    proxy.partition(false);
    expect(ok(await acp.update(id, { discounts: { codes: ['WELCOME'] } }, c)).id).toBe(id);
  });

  it('409 idempotency_in_flight → waits Retry-After and resends the same key', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    const from = proxy.log.length;
    proxy.plan({ fault: 'in_flight_409', method: 'POST', path: /\/complete$/, retryAfterSeconds: 2 });
    const c = ctx();
    expect(ok(await acp.complete(id, PAY(), c)).status).toBe('completed');
    expect(sleeps).toEqual([2_000]);
    const posts = proxy.log.slice(from);
    expect(posts.map((e) => [e.fault ?? 'passed', e.headers['idempotency-key']])).toEqual([
      ['in_flight_409', c.idempotencyKey],
      ['passed', c.idempotencyKey],
    ]);
  });

  it('409 idempotency_in_flight that never ends → unknown after 3 bounded resends; a huge Retry-After is not waited', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    proxy.plan({ fault: 'in_flight_409', method: 'POST', path: /\/complete$/, times: Infinity });
    expect(await acp.complete(id, PAY(), ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/in_flight/) });
    expect(sleeps).toEqual([1_000, 1_000, 1_000]);
    expect(proxy.counts.faults.in_flight_409).toBeGreaterThanOrEqual(4);
    proxy.clear();
    sleeps = [];
    proxy.plan({ fault: 'in_flight_409', method: 'POST', path: /\/complete$/, retryAfterSeconds: 60 });
    expect(await acp.complete(id, PAY(), ctx())).toMatchObject({ kind: 'unknown' });
    expect(sleeps).toEqual([]);
    expect(await merchant.merchant.ordersFor(id)).toHaveLength(0);
  });

  it('nth occurrence: a rule fires on the 2nd matching request only', async () => {
    const acp = backend(proxy.url);
    const id = await created(acp);
    proxy.plan({ fault: 'error_5xx', method: 'GET', path: /^\/checkout_sessions\/[^/]+$/, nth: 2 });
    expect((await acp.get(id)).kind).toBe('succeeded');
    expect((await acp.get(id)).kind).toBe('unknown');
    expect((await acp.get(id)).kind).toBe('succeeded');
  });

  it('R10: the API key appears in no result', async () => {
    const acp = backend(proxy.url);
    proxy.plan({ fault: 'drop_request', path: /./ });
    const results = [await acp.create(CART, ctx()), await acp.get('cs_missing'), await backend('http://127.0.0.1:1').get('cs_x')];
    for (const result of results) expect(JSON.stringify(result)).not.toContain(API_KEY);
  });
});

describe('answers the sandbox cannot produce', () => {
  let odd: Server;
  let oddUrl: string;
  let next: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '' };
  beforeAll(async () => {
    odd = createServer((_req, res) => {
      res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
      res.end(next.body);
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}/acp`;
  });
  afterAll(() => new Promise<void>((resolve) => odd.close(() => resolve())));

  it('2xx with an unparseable body → unknown; 2xx without a session → merchant_invalid_answer (create moves no money); 400 idempotency_key_required → internal_error; 409 idempotency_conflict → idempotency_conflict', async () => {
    const acp = backend(oddUrl);
    next = { status: 201, body: '<html>oops</html>' };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/not JSON/) });
    next = { status: 200, body: '{"hello":1}' };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'failed', code: 'merchant_invalid_answer' });
    // complete: the merchant may have charged before answering badly, so it is unknown, settled by reading.
    expect(await acp.complete('cs_1', PAY(), ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/^merchant_invalid_answer/) });
    next = { status: 400, body: JSON.stringify({ type: 'invalid_request', code: 'idempotency_key_required', message: 'Idempotency-Key header is required' }) };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'failed', code: 'internal_error' });
    next = { status: 409, body: JSON.stringify({ type: 'invalid_request', code: 'idempotency_conflict', message: 'used with a different body' }) };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'failed', code: 'idempotency_conflict' });
    next = { status: 429, body: JSON.stringify({ type: 'invalid_request', code: 'rate_limited', message: 'slow down' }) };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'unknown' });
    next = { status: 401, body: JSON.stringify({ type: 'invalid_request', code: 'unauthorized', message: 'bad token' }) };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'failed', code: 'merchant:unauthorized' });
  });

  it('issue 13 case 2: a non-conformant error body keeps the merchant\'s words (short excerpt, quoted), never "refused with status 422" alone', async () => {
    const acp = backend(oddUrl);
    next = { status: 422, body: JSON.stringify({ detail: [{ loc: ['body', 'items'], msg: 'field required', type: 'value_error.missing' }] }) };
    const refused = await acp.create(CART, ctx());
    expect(refused).toMatchObject({ kind: 'failed', code: 'http_422' });
    expect(refused.kind === 'failed' && refused.message).toMatch(/status 422 \(the merchant says “\{'detail':\[\{'loc':\['body','items'\],'msg':'field required'/);
    next = { status: 500, body: '<h1>Internal Server Error</h1>\n<p>boom</p>' };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/status 500 \(the merchant says “<h1>Internal Server Error<\/h1> <p>boom<\/p>”\)/) });
    next = { status: 400, body: 'x'.repeat(5_000) };
    const long = await acp.create(CART, ctx());
    expect(long.kind === 'failed' && long.message.length).toBeLessThan(300);
  });

  it('issue 13 case 2: the pre-2026-04-17 idempotency signal (409 request_not_idempotent) is a conflict; older session shapes read as today\'s', async () => {
    const acp = new AcpBackend({ endpoint: { transport: 'rest', url: new URL(oddUrl) }, apiKey: API_KEY, apiVersion: '2025-12-12', timeoutMs: 2_000 });
    next = { status: 409, body: JSON.stringify({ type: 'request_not_idempotent', code: 'request_conflict', message: 'key reused' }) };
    expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'failed', code: 'idempotency_conflict' });
    const legacy = {
      id: 'cs_old',
      status: 'ready_for_payment',
      currency: 'usd',
      line_items: [{ id: 'li_1', item: { id: 'sku_mug', quantity: 2 }, base_amount: 2800, discount: 0, subtotal: 2800, tax: 245, total: 3045 }],
      fulfillment_options: [{ type: 'shipping', id: 'ship_standard', title: 'Standard', subtitle: '4-6 days', subtotal: 500, tax: 0, total: 500 }],
      fulfillment_address: ADDRESS,
      fulfillment_option_id: 'ship_standard',
      totals: [{ type: 'total', display_text: 'Total', amount: 3545 }],
      messages: [],
      links: [],
    };
    next = { status: 201, body: JSON.stringify(legacy) };
    const read = ok(await acp.create(CART, ctx()));
    expect(read.line_items[0]).toMatchObject({ item: { id: 'sku_mug' }, quantity: 2, totals: expect.arrayContaining([{ type: 'total', display_text: 'total', amount: 3045 }]) });
    expect(read.fulfillment_details?.address).toEqual(ADDRESS);
    expect(read.selected_fulfillment_options).toEqual([{ type: 'shipping', option_id: 'ship_standard', item_ids: ['li_1'] }]);
    expect(read.fulfillment_options[0]).toMatchObject({ description: '4-6 days', totals: [{ type: 'total', amount: 500 }] });
  });

  it('issue 13 case 5: without handler_id and with two card handlers advertised, invalid_input lists them and nothing is sent', async () => {
    const acp = backend(oddUrl);
    const handlers = [
      { id: 'card_a', name: 'dev.acp.tokenized.card' },
      { id: 'card_b', name: 'dev.acp.tokenized.card' },
      { id: 'wallet', name: 'dev.acp.wallet.apple_pay' },
    ];
    next = { status: 200, body: JSON.stringify({ id: 'cs_1', status: 'ready_for_payment', currency: 'usd', capabilities: { payment: { handlers } } }) };
    const refused = await acp.complete('cs_1', { payment_data: { instrument: PAY().payment_data.instrument } }, ctx());
    expect(refused).toMatchObject({ kind: 'failed', code: 'invalid_input' });
    expect(refused.kind === 'failed' && refused.message).toMatch(/offers "card_a" \(dev\.acp\.tokenized\.card\), "card_b" \(dev\.acp\.tokenized\.card\), "wallet" \(dev\.acp\.wallet\.apple_pay\), and 2 of them fit the instrument type "card"/);
  });

  it('a base URL with a path keeps it; complete_in_progress without an error is unknown', async () => {
    expect(merchantIdentity(new URL('https://shop.example/acp/'))).toBe('https://shop.example/acp');
    const inProgress = { id: 'cs_1', status: 'complete_in_progress', messages: [] };
    expect(await answerToResult('complete', { status: 200, body: inProgress }, async () => undefined)).toMatchObject({ kind: 'unknown' });
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs(new Date(Date.now() + 5_000).toUTCString())).toBeGreaterThan(3_000);
  });
});

describe("ACP's MCP binding: reading what a merchant's tool answers (issue 13 case 3)", () => {
  const session = { id: 'cs_1', status: 'ready_for_payment', currency: 'usd' };
  it('a result in structuredContent, as a bare JSON-RPC result, or as JSON text is the same answer', () => {
    expect(readResult({ content: [], structuredContent: session })).toEqual({ kind: 'reply', status: 200, body: session });
    expect(readResult({ ...session })).toEqual({ kind: 'reply', status: 200, body: session });
    expect(readResult({ content: [{ type: 'text', text: JSON.stringify(session) }] })).toEqual({ kind: 'reply', status: 200, body: session });
  });

  it('an isError result carrying an ACP error is that error; the -32000 data maps to the status REST would have had', () => {
    const inFlight = { type: 'invalid_request', code: 'idempotency_in_flight', message: 'busy' };
    expect(readResult({ isError: true, content: [{ type: 'text', text: JSON.stringify(inFlight) }] })).toMatchObject({ status: 409, body: inFlight });
    expect(readResult({ isError: true, content: [{ type: 'text', text: 'it broke' }] })).toMatchObject({ status: 502, text: 'it broke' });
    expect(readResult({ isError: true, content: [{ type: 'text', text: 'MCP error -32602: Input validation error' }] })).toMatchObject({ status: 400 });
    expect(statusOfAcpError({ type: 'processing_error', code: 'internal_error' })).toBe(500);
    expect(statusOfAcpError({ type: 'service_unavailable', code: 'x' })).toBe(503);
    expect(statusOfAcpError({ type: 'invalid_request', code: 'idempotency_conflict' })).toBe(422);
    expect(statusOfAcpError({ type: 'request_not_idempotent', code: 'whatever' })).toBe(422);
    expect(statusOfAcpError({ type: 'invalid_request', code: 'session_not_found' })).toBe(404);
    expect(statusOfAcpError({ type: 'invalid_request', code: 'checkout_already_completed' })).toBe(405);
    expect(statusOfAcpError({ type: 'processing_error', code: 'payment_declined' })).toBe(402);
  });
});

describe('ACP configuration', () => {
  const good = { ACP_BASE_URL: 'https://shop.example/acp', ACP_API_KEY: API_KEY };
  function refused(env: Record<string, string>): ConfigError {
    try {
      readAcpConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('accepted');
  }

  it('reads the defaults; ACP_TIMEOUT takes a duration', () => {
    const config = readAcpConfig(good);
    expect(config).toMatchObject({ apiVersion: 'auto', timeoutMs: 15_000 });
    expect(readAcpConfig({ ...good, ACP_API_VERSION: '2025-09-29' }).apiVersion).toBe('2025-09-29');
    expect(readAcpConfig({ ...good, ACP_TIMEOUT: '2s' }).timeoutMs).toBe(2_000);
    const acp = new AcpBackend(config);
    expect(acp.merchant).toBe('acp:https://shop.example/acp');
    expect(acp.retention).toMatchObject({ providerMs: 24 * 3_600_000, defaultTtlMs: 23 * 3_600_000 });
  });

  it('each missing or invalid variable is one ConfigError naming it, never echoing the key', () => {
    expect(refused({ ACP_API_KEY: API_KEY }).variable).toBe('ACP_BASE_URL');
    expect(refused({ ...good, ACP_BASE_URL: 'not a url' }).variable).toBe('ACP_BASE_URL');
    expect(refused({ ...good, ACP_BASE_URL: 'ftp://shop.example' }).variable).toBe('ACP_BASE_URL');
    expect(refused({ ...good, ACP_BASE_URL: 'https://user:pw@shop.example' }).variable).toBe('ACP_BASE_URL');
    expect(refused({ ACP_BASE_URL: good.ACP_BASE_URL }).variable).toBe('ACP_API_KEY');
    const spaced = refused({ ...good, ACP_API_KEY: `Bearer ${API_KEY}` });
    expect(spaced.variable).toBe('ACP_API_KEY');
    expect(spaced.message).not.toContain(API_KEY);
    expect(refused({ ...good, ACP_API_VERSION: 'latest' }).variable).toBe('ACP_API_VERSION');
    expect(refused({ ...good, ACP_API_VERSION: '2026-01-22' }).message).toMatch(/2025-09-29, 2025-12-12, 2026-01-16, 2026-01-30, 2026-04-17, or auto/);
    expect(refused({ ...good, ACP_MCP_URL: 'https://shop.example/acp/mcp' }).variable).toBe('ACP_MCP_URL');
    expect(readAcpConfig({ ACP_MCP_URL: 'https://shop.example/acp/mcp', ACP_API_KEY: API_KEY }).endpoint.transport).toBe('mcp');
    expect(refused({ ...good, ACP_TIMEOUT: 'soon' }).variable).toBe('ACP_TIMEOUT');
  });
});

describe('faults injected by the HTTP merchant itself (serveMerchant faults)', () => {
  it('error_5xx before acting, lose_response and timeout after committing, crash_after_commit drops the connection', async () => {
    const store = openMemoryStore();
    const faulty = await serveMerchant({
      port: 0,
      store,
      tokens: { [API_KEY]: 'agent' },
      faults: parseFaults('error_5xx@create:1,lose_response@update:1,timeout@complete:1,crash_after_commit@cancel:1'),
      rng: mulberry32(7),
      timeoutDelayMs: 2_000,
    });
    try {
      const acp = backend(faulty.url, 300);
      expect(await acp.create(CART, ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/503/) });
      expect((await faulty.merchant.stats()).sessions).toBe(0);
      // Sessions come from a fault-free merchant on the same store.
      const clean = await serveMerchant({ port: 0, store, tokens: { [API_KEY]: 'agent' } });
      const id = await created(backend(clean.url));
      const other = await created(backend(clean.url));
      await clean.close();
      expect(await acp.update(id, { buyer: { email: 'ada@example.com' } }, ctx())).toMatchObject({ kind: 'unknown' });
      expect(ok(await acp.get(id)).buyer?.email).toBe('ada@example.com');
      expect(await acp.complete(id, PAY(), ctx())).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/no answer/) });
      expect(await faulty.merchant.ordersFor(id)).toHaveLength(1);
      expect(await acp.cancel(other, {}, ctx())).toMatchObject({ kind: 'unknown' });
      expect(ok(await acp.get(other)).status).toBe('canceled');
    } finally {
      await faulty.close();
    }
  });
});
