// GET /metrics from the built server in HTTP mode (ONCE_BACKEND=acp against the sandbox merchant over HTTP through
// the fault proxy), after a scripted run whose every count is known: a replay, a declined card, a payment whose
// answer was lost and then settled complete, the spend cap, a declined confirmation, a card number, a rate limit.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { connectHttp, newToken, startHttpServer, type HttpClient, type HttpServerProcess } from './support/http-server-process.js';
import { ADDRESS, structured, tempDir } from './support/server-process.js';

const API_KEY = 'acp_metrics_secret_token_0123456789';
const alice = newToken('alice');
const bob = newToken('bob');
const scraper = newToken('scraper');
const pay = (token: string) => ({ handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token } } });
const cart = (items: Array<{ id: string; quantity: number }>, taskId: string) => ({ items, currency: 'usd', fulfillment_details: { address: ADDRESS }, task_id: taskId });

let merchant: MerchantServer;
let proxy: FaultProxy;
let server: HttpServerProcess;
let client: HttpClient;
/** What the person answers to the next confirmation (then back to yes). */
let nextAnswer: 'accept' | 'decline' = 'accept';

beforeAll(async () => {
  merchant = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { [API_KEY]: 'agent' } });
  proxy = await startFaultProxy({ target: merchant.url });
  server = await startHttpServer({
    ONCE_STORE: `sqlite://${join(tempDir('once-metrics-'), 'ledger.db')}`,
    ONCE_BACKEND: 'acp',
    ACP_BASE_URL: proxy.url,
    ACP_API_KEY: API_KEY,
    ACP_TIMEOUT: '1000ms',
    ONCE_HTTP_TOKENS: `${alice}=alice,${bob}=bob`,
    ONCE_METRICS_TOKEN: scraper,
    ONCE_MAX_ORDER_AMOUNT: '50000',
    ONCE_RATE_LIMIT: '20',
  });
  client = await connectHttp(server.url, alice, {
    elicit: () => {
      const answer = nextAnswer;
      nextAnswer = 'accept';
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    },
  });
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  await proxy?.close();
  await merchant?.close();
});

const metricsUrl = () => new URL('/metrics', server.url).href;

async function scrape(): Promise<string> {
  const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${scraper}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one series, e.g. value(text, 'once_checkout_replays_total', { tool: 'create_checkout' }). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v) && Object.keys(have).filter((k) => k !== 'le').length === Object.keys(labels).length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

describe('GET /metrics after a scripted run', () => {
  let text = '';

  beforeAll(async () => {
    const call = async (tool: string, args: Record<string, unknown>) => structured(await client.call(tool, args));
    // A checkout, and the same create again: a replay.
    const created = await call('create_checkout', cart([{ id: 'sku_tshirt', quantity: 2 }], 'metrics-main'));
    const id = created.checkout!.id;
    expect((await call('create_checkout', cart([{ id: 'sku_tshirt', quantity: 2 }], 'metrics-main'))).idempotency?.replayed).toBe(true);
    // A declined card (attempt 1 fails), then a good one whose answer is lost (attempt 2: unknown)…
    expect((await call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_decline') })).error?.code).toBe('payment_declined');
    proxy.plan({ fault: 'drop_response', method: 'POST', path: /\/complete$/ });
    expect((await call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_ok') })).error?.code).toBe('outcome_unknown');
    // …settled complete by the next call's read.
    expect((await call('complete_checkout', { checkout_session_id: id, payment_data: pay('tok_sandbox_ok') })).checkout?.status).toBe('completed');
    // Refusals: above the spend cap, a person who says no, a card number in the arguments.
    const big = (await call('create_checkout', cart([{ id: 'sku_hoodie', quantity: 10 }], 'metrics-big'))).checkout!.id;
    expect((await call('complete_checkout', { checkout_session_id: big, payment_data: pay('tok_sandbox_ok') })).error?.code).toBe('spend_cap_exceeded');
    const small = (await call('create_checkout', cart([{ id: 'sku_sticker_pack', quantity: 1 }], 'metrics-small'))).checkout!.id;
    nextAnswer = 'decline';
    expect((await call('complete_checkout', { checkout_session_id: small, payment_data: pay('tok_sandbox_ok') })).error?.code).toBe('declined_by_user');
    expect((await call('create_checkout', cart([{ id: 'sku_mug', quantity: 1 }], '4242 4242 4242 4242'))).error?.code).toBe('invalid_input');
    // bob runs into the rate limit (20 a minute): 20 cancels of nothing, then one refused.
    const bobs = await connectHttp(server.url, bob);
    for (let i = 0; i < 20; i += 1) expect(structured(await bobs.call('cancel_checkout', { checkout_session_id: 'cs_nothing' })).error?.code).toBe('checkout_not_found');
    expect(structured(await bobs.call('cancel_checkout', { checkout_session_id: 'cs_nothing' })).error?.code).toBe('rate_limited');
    await bobs.close();
    text = await scrape();
  });

  it('calls by tool and outcome, and replays', () => {
    expect(value(text, 'once_checkout_tool_calls_total', { tool: 'create_checkout', outcome: 'succeeded' })).toBe(4);
    expect(value(text, 'once_checkout_tool_calls_total', { tool: 'create_checkout', outcome: 'invalid_input' })).toBe(1);
    expect(value(text, 'once_checkout_tool_calls_total', { tool: 'complete_checkout', outcome: 'payment_declined' })).toBe(1);
    expect(value(text, 'once_checkout_tool_calls_total', { tool: 'complete_checkout', outcome: 'outcome_unknown' })).toBe(1);
    expect(value(text, 'once_checkout_tool_calls_total', { tool: 'complete_checkout', outcome: 'succeeded' })).toBe(1);
    expect(value(text, 'once_checkout_tool_calls_total', { tool: 'cancel_checkout', outcome: 'checkout_not_found' })).toBe(20);
    expect(value(text, 'once_checkout_replays_total', { tool: 'create_checkout' })).toBe(1);
    expect(value(text, 'once_checkout_replays_total', { tool: 'complete_checkout' })).toBeUndefined();
    expect(value(text, 'once_checkout_tool_call_duration_seconds_count', { tool: 'complete_checkout' })).toBe(5);
  });

  it('R6: one unknown outcome, settled succeeded by one reconciliation, after one attempt beyond the first', () => {
    expect(value(text, 'once_checkout_unknown_outcomes_total', { operation: 'complete' })).toBe(1);
    expect(value(text, 'once_checkout_unknown_settle_duration_seconds_count', { operation: 'complete', result: 'succeeded' })).toBe(1);
    const seconds = value(text, 'once_checkout_unknown_settle_duration_seconds_sum', { operation: 'complete', result: 'succeeded' })!;
    expect(seconds).toBeGreaterThan(0);
    expect(value(text, 'once_checkout_reconciliations_total', { operation: 'complete', result: 'succeeded' })).toBe(1);
    expect(value(text, 'once_checkout_attempts_beyond_first_total', { operation: 'complete' })).toBe(1);
    expect(value(text, 'once_checkout_attempts_beyond_first_total', { operation: 'create' })).toBeUndefined();
  });

  it('refused calls by reason: spend cap, confirmation declined, card number, rate limit', () => {
    expect(value(text, 'once_checkout_refused_calls_total', { reason: 'spend_cap' })).toBe(1);
    expect(value(text, 'once_checkout_refused_calls_total', { reason: 'confirmation_declined' })).toBe(1);
    expect(value(text, 'once_checkout_refused_calls_total', { reason: 'card_number' })).toBe(1);
    expect(value(text, 'once_checkout_refused_calls_total', { reason: 'rate_limit' })).toBe(1);
  });

  it('store round trips by store and backend calls by backend and result, as histograms', () => {
    expect(value(text, 'once_checkout_store_request_duration_seconds_count', { store: 'sqlite', operation: 'claim' })).toBeGreaterThan(0);
    expect(value(text, 'once_checkout_store_request_duration_seconds_count', { store: 'sqlite', operation: 'getLinked' })).toBeGreaterThan(0);
    expect(value(text, 'once_checkout_backend_request_duration_seconds_count', { backend: 'acp', operation: 'create', result: 'succeeded' })).toBe(3);
    expect(value(text, 'once_checkout_backend_request_duration_seconds_count', { backend: 'acp', operation: 'complete', result: 'failed' })).toBe(1);
    expect(value(text, 'once_checkout_backend_request_duration_seconds_count', { backend: 'acp', operation: 'complete', result: 'unknown' })).toBe(1);
    expect(text).toMatch(/^# TYPE once_checkout_backend_request_duration_seconds histogram$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('R10: no principal, token, key or card in the metrics', () => {
    // Names, help and labels: everything but the sample values (a float may well contain the digits 4242).
    const words = text.replace(/ \S+$/gm, '');
    for (const secret of [API_KEY, alice, bob, scraper, 'tok_sandbox', '4242', 'alice', 'cs_']) expect(words).not.toContain(secret);
  });

  it('/metrics answers only its own token; that token cannot call a tool', async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    const asBuyer = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${alice}` } });
    expect(asBuyer.status).toBe(401);
    expect(asBuyer.headers.get('www-authenticate')).toContain('realm="once-checkout-metrics"');
    const asScraper = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${scraper}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(asScraper.status).toBe(401);
  });
});
