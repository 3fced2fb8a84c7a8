// Traces over ACP's MCP binding: the same operator's view as test/telemetry-traces.test.ts, with the app speaking
// ACP over MCP (ACP_MCP_URL) to the sandbox merchant through the fault proxy, which records the headers the
// merchant receives. Each HTTP request of the MCP session is a client span under the backend call's span, and
// carries that span's traceparent.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../src/app.js';
import { serveMerchant, type MerchantServer } from '../src/backends/sandbox/http.js';
import { loadConfig } from '../src/config/config.js';
import { silentLogger } from '../src/log.js';
import { createServer } from '../src/server/server.js';
import { openMemoryStore } from '../src/store/memory.js';
import { startTelemetry } from '../src/telemetry/telemetry.js';
import { tools } from '../tools/index.js';
import { startFaultProxy, tokenFingerprint, type FaultProxy } from './support/fault-proxy.js';
import { ADDRESS, structured, tempDir } from './support/server-process.js';

const API_KEY = 'acp_trace_mcp_secret_0123456789';
const CART = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let merchant: MerchantServer;
let proxy: FaultProxy;
let app: App;
let client: Client;

beforeAll(async () => {
  merchant = await serveMerchant({ port: 0, store: openMemoryStore(), tokens: { [API_KEY]: 'agent' } });
  proxy = await startFaultProxy({ target: merchant.url });
  const config = loadConfig({
    ONCE_STORE: `sqlite://${join(tempDir('once-traces-mcp-'), 'ledger.db')}`,
    ONCE_BACKEND: 'acp',
    ACP_MCP_URL: `${proxy.url}/acp/mcp`,
    ACP_API_KEY: API_KEY,
  });
  const telemetry = await startTelemetry({}, { prometheus: false, logger: silentLogger });
  app = await openApp(config, silentLogger, { telemetry });
  const server = createServer({ checkouts: app.checkouts, principal: 'alice', logger: silentLogger, version: 'test', tools, telemetry });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: 'traces-mcp', version: '1' });
  await client.connect(clientSide);
});

afterAll(async () => {
  await client?.close();
  await app?.close();
  await proxy?.close();
  await merchant?.close();
  await provider.shutdown();
});

describe('traces over ACP\u2019s MCP binding', () => {
  it('R10: each HTTP request of the MCP session is a client span under the acp call, and the merchant receives its traceparent; no header is recorded', async () => {
    const traceId = randomBytes(16).toString('hex');
    exporter.reset();
    const result = (await client.callTool({
      name: 'create_checkout',
      arguments: CART,
      _meta: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    })) as CallToolResult;
    expect(structured(result).checkout?.id).toBeTruthy();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const backend = spans.find((s) => s.name === 'acp create');
    expect(backend, spans.map((s) => s.name).join(', ')).toBeDefined();
    const http = spans.filter((s) => s.attributes['http.request.method'] !== undefined);
    const posts = http.filter((s) => s.name === 'POST');
    expect(posts.length).toBeGreaterThan(0); // the session's initialize, then the tool call
    // The call's answer is the tool call's (not the notification's 202 or the stream GET's 405, which is no error).
    expect(backend!.attributes['http.response.status_code']).toBe(200);
    for (const span of http) {
      expect(span.status.code, `${span.name} ${String(span.attributes['http.response.status_code'])}`).not.toBe(SpanStatusCode.ERROR);
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.parentSpanContext?.spanId).toBe(backend!.spanContext().spanId);
      expect(span.attributes['url.full']).toBe(`${proxy.url}/acp/mcp`);
      expect(JSON.stringify(span.attributes)).not.toContain(API_KEY);
    }
    // What the merchant received (the proxy names an MCP request by its method, a tool call by its ACP operation).
    const sent = proxy.log.filter((e) => e.headers.traceparent?.includes(traceId));
    expect(sent.length).toBe(http.length);
    const httpIds = new Set(http.map((s) => s.spanContext().spanId));
    for (const entry of sent) expect(httpIds.has(String(entry.headers.traceparent).split('-')[2])).toBe(true);
    expect(sent.some((e) => e.method === 'POST' && e.path === '/checkout_sessions')).toBe(true);
    // The transport's own headers pass through the traced fetch: the bearer token (fingerprinted in the log).
    expect(sent.every((e) => e.headers.authorization === `Bearer ${tokenFingerprint(API_KEY)}`)).toBe(true);
  });
});
