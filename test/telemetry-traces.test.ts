// Traces from the operator's side: an OpenTelemetry SDK with an in-memory exporter is registered in this process,
// the app is opened as serve opens it (ONCE_BACKEND=acp, SQLite) against the sandbox merchant over HTTP through
// the fault proxy (which records the headers the merchant receives), and an MCP client calls the tools with a
// W3C traceparent in params._meta, as MCP clients send it.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../src/app.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { loadConfig } from '../src/config/config.js';
import { silentLogger } from '../src/log.js';
import { createServer } from '../src/server/server.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startTelemetry, type Telemetry } from '../src/telemetry/telemetry.js';
import { tools } from '../tools/index.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { ADDRESS, structured, tempDir } from './support/server-process.js';

const API_KEY = 'acp_trace_secret_token_0123456789';
const PAY = { handler_id: 'sandbox', instrument: { type: 'card', credential: { type: 'spt', token: 'tok_sandbox_ok' } } };
const CART = { items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };

const exporter = new InMemorySpanExporter();
/** Every span of every call, for the secrets scan. */
const seen: ReadableSpan[] = [];
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let merchant: MerchantServer;
let proxy: FaultProxy;
let app: App;
let telemetry: Telemetry;
let client: Client;

beforeAll(async () => {
  merchant = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { [API_KEY]: 'agent' } });
  proxy = await startFaultProxy({ target: merchant.url });
  const config = loadConfig({
    ONCE_STORE: `sqlite://${join(tempDir('once-traces-'), 'ledger.db')}`,
    ONCE_BACKEND: 'acp',
    ACP_BASE_URL: proxy.url,
    ACP_API_KEY: API_KEY,
    ACP_TIMEOUT: '1000ms',
  });
  telemetry = await startTelemetry({}, { prometheus: false, logger: silentLogger });
  app = await openApp(config, silentLogger, { telemetry });
  const server = createServer({ checkouts: app.checkouts, principal: 'alice', logger: silentLogger, version: 'test', tools, telemetry });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: 'traces', version: '1' });
  await client.connect(clientSide);
});

afterAll(async () => {
  await client?.close();
  await app?.close();
  await proxy?.close();
  await merchant?.close();
  await provider.shutdown();
});

interface Traced {
  result: CallToolResult;
  traceId: string;
  /** The caller's span, as named in traceparent. */
  callerSpanId: string;
  spans: ReadableSpan[];
  /** The spans recorded during the call, whatever their trace. */
  all: ReadableSpan[];
}

/** One tool call under a fresh caller trace; the spans it produced. */
async function traced(tool: string, args: Record<string, unknown>): Promise<Traced> {
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  exporter.reset();
  const result = (await client.callTool({ name: tool, arguments: args, _meta: { traceparent: `00-${traceId}-${callerSpanId}-01` } })) as CallToolResult;
  await provider.forceFlush();
  const all = exporter.getFinishedSpans();
  seen.push(...all);
  return { result, traceId, callerSpanId, spans: all.filter((s) => s.spanContext().traceId === traceId), all };
}

const named = (t: Traced, name: string) => t.spans.filter((s) => s.name === name);
const one = (t: Traced, name: string) => {
  const found = named(t, name);
  expect(found.map((s) => s.name), `one "${name}" span among ${t.spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0];
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const backendSpans = (t: Traced) => t.spans.filter((s) => s.attributes['once.backend'] !== undefined);

/** Every span of the call is in the caller's trace and hangs, through its parents, from the one tool span. */
function expectOneTrace(t: Traced, tool: string): ReadableSpan {
  expect(t.all.every((s) => s.spanContext().traceId === t.traceId)).toBe(true);
  const root = one(t, `tools/call ${tool}`);
  expect(root.kind).toBe(SpanKind.SERVER);
  expect(parentOf(root)).toBe(t.callerSpanId);
  const byId = new Map(t.spans.map((s) => [s.spanContext().spanId, s]));
  for (const span of t.spans) {
    let at: ReadableSpan | undefined = span;
    while (at && at !== root) at = byId.get(parentOf(at) ?? '');
    expect(at, `${span.name} descends from the tool span`).toBe(root);
  }
  return root;
}

describe('traces: one trace per tool call, from the caller to the merchant', () => {
  let checkoutId = '';

  it('create: the tool span under _meta.traceparent, with the ledger claim and settle, the store round trips, the acp call and its HTTP request; the merchant receives traceparent', async () => {
    const t = await traced('create_checkout', CART);
    const answer = structured(t.result);
    checkoutId = answer.checkout!.id;
    const root = expectOneTrace(t, 'create_checkout');
    expect(root.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'create_checkout',
      'once.operation': 'create',
      'once.outcome': 'succeeded',
      'once.replayed': false,
      'once.attempt': 1,
      'once.key_prefix': answer.idempotency!.key.slice(0, 16),
      'once.checkout.id': checkoutId,
    });

    const claim = one(t, 'ledger claim');
    expect(claim.attributes['once.key_prefix']).toBe(answer.idempotency!.key.slice(0, 16));
    const storeClaim = t.spans.find((s) => s.name === 'claim sqlite' && parentOf(s) === claim.spanContext().spanId);
    expect(storeClaim?.attributes).toMatchObject({ 'db.system.name': 'sqlite', 'db.operation.name': 'claim' });
    const settle = one(t, 'ledger settle');
    expect(settle.attributes['once.outcome']).toBe('succeeded');
    expect(t.spans.some((s) => s.name === 'replace sqlite' && parentOf(s) === settle.spanContext().spanId)).toBe(true);

    const backend = one(t, 'acp create');
    expect(backend.kind).toBe(SpanKind.CLIENT);
    const record = await app.ledger.read(answer.idempotency!.key);
    const providerRequestId = record!.timeline.find((e) => e.event === 'succeeded')!.provider_request_id;
    expect(providerRequestId).toBeTruthy();
    expect(backend.attributes).toMatchObject({
      'once.backend': 'acp',
      'once.merchant': `acp:${proxy.url}`,
      'once.idempotency_key': answer.idempotency!.outbound_key,
      'once.provider_request_id': providerRequestId,
      'http.response.status_code': 201,
      'once.result': 'succeeded',
    });
    const http = one(t, 'POST');
    expect(parentOf(http)).toBe(backend.spanContext().spanId);
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201, 'url.full': `${proxy.url}/checkout_sessions` });

    // What the merchant received: the trace of this tool call, with the HTTP span as its parent.
    const posted = proxy.log.filter((e) => e.method === 'POST' && e.path === '/checkout_sessions').at(-1)!;
    expect(posted.headers.traceparent).toBe(`00-${t.traceId}-${http.spanContext().spanId}-01`);
    expect(posted.headers['idempotency-key']).toBe(answer.idempotency!.outbound_key);
  });

  it('R5: a replay is one trace with no backend span: nothing was sent', async () => {
    const t = await traced('create_checkout', CART);
    expect(structured(t.result).idempotency?.replayed).toBe(true);
    const root = expectOneTrace(t, 'create_checkout');
    expect(root.attributes['once.replayed']).toBe(true);
    expect(backendSpans(t)).toEqual([]);
    expect(named(t, 'ledger claim')).toEqual([]);
    expect(t.spans.some((s) => s.attributes['http.request.method'] !== undefined)).toBe(false);
  });

  it('R6: a complete whose answer is lost ends unknown on its span; the next call reconciles from a read, in its own trace', async () => {
    proxy.plan({ fault: 'drop_response', method: 'POST', path: /\/complete$/ });
    const lost = await traced('complete_checkout', { checkout_session_id: checkoutId, payment_data: PAY });
    expect(structured(lost.result).error?.code).toBe('outcome_unknown');
    const lostRoot = expectOneTrace(lost, 'complete_checkout');
    expect(lostRoot.attributes).toMatchObject({ 'once.outcome': 'outcome_unknown', 'error.type': 'tool_error' });
    expect(one(lost, 'acp complete').attributes).toMatchObject({ 'once.result': 'unknown', 'once.attempt': 1 });
    expect(one(lost, 'ledger settle').attributes['once.outcome']).toBe('unknown');

    const settled = await traced('complete_checkout', { checkout_session_id: checkoutId, payment_data: PAY });
    const answer = structured(settled.result);
    expect(answer.checkout?.status).toBe('completed');
    const root = expectOneTrace(settled, 'complete_checkout');
    expect(root.attributes).toMatchObject({ 'once.outcome': 'succeeded', 'once.replayed': false });
    expect(one(settled, 'ledger reconcile').attributes['once.reconcile.result']).toBe('succeeded');
    // The read that settled it, and no second complete: the merchant already held the order.
    expect(one(settled, 'acp get').attributes).toMatchObject({ 'once.result': 'succeeded', 'http.response.status_code': 200 });
    expect(named(settled, 'acp complete')).toEqual([]);
    const read = proxy.log.filter((e) => e.method === 'GET').at(-1)!;
    expect(read.headers.traceparent?.split('-')[1]).toBe(settled.traceId);
  });

  it('R10: no span attribute carries the API key or the payment token', () => {
    expect(seen.length).toBeGreaterThan(20);
    const everything = JSON.stringify(seen.map((s) => [s.name, s.attributes]));
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain('tok_sandbox_ok');
  });
});
