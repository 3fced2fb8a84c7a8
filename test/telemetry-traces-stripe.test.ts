// Traces of the Stripe backend: the real SDK over HTTP to the local fake, under an OpenTelemetry SDK with an
// in-memory exporter. Each HTTP request the SDK makes is a client span under the backend call's span, and
// carries that span's traceparent, as the REST and MCP clients' requests do.
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentedBackend } from '../src/backends/instrumented.js';
import { StripeBackend } from '../src/backends/stripe/stripe-backend.js';
import type { Backend } from '../src/backends/backend.js';
import { silentLogger } from '../src/log.js';
import { startTelemetry } from '../src/telemetry/telemetry.js';
import { startStripeFake, type StripeFake } from './fakes/stripe-fake.js';

const SECRET = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let fake: StripeFake;
let backend: Backend;

beforeAll(async () => {
  fake = await startStripeFake();
  const telemetry = await startTelemetry({}, { prometheus: false, logger: silentLogger });
  backend = instrumentedBackend(new StripeBackend({ secretKey: SECRET, apiBase: fake.url, timeoutMs: 2_000 }), telemetry);
});

afterAll(async () => {
  await fake?.close();
  await provider.shutdown();
});

describe('traces of the Stripe backend', () => {
  it('R10: each request the Stripe SDK makes is an HTTP client span under the stripe call, sent with its traceparent; no header is recorded', async () => {
    const price = fake.seedPrice({ currency: 'usd', unit_amount: 4200 });
    exporter.reset();
    const result = await backend.create({ items: [{ id: price, quantity: 1 }], currency: 'usd' }, { idempotencyKey: 'k-traced', attempt: 1, requestId: 'req-traced' });
    expect(result.kind).toBe('succeeded');
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const call = spans.find((s) => s.name === 'stripe create');
    expect(call, spans.map((s) => s.name).join(', ')).toBeDefined();
    const http = spans.filter((s) => s.attributes['http.request.method'] !== undefined);
    expect(http.length).toBeGreaterThan(0);
    for (const span of http) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
      expect(String(span.attributes['url.full'])).toMatch(new RegExp(`^${fake.url}/v1/`));
      expect(span.attributes['http.response.status_code']).toBe(200);
      expect(JSON.stringify(span.attributes)).not.toContain(SECRET);
    }
    const traceId = call!.spanContext().traceId;
    const received = fake.state.requests.filter((r) => r.traceparent?.includes(traceId));
    expect(received.length).toBe(http.length);
    const ids = new Set(http.map((s) => s.spanContext().spanId));
    for (const request of received) expect(ids.has(request.traceparent!.split('-')[2])).toBe(true);
  });
});
