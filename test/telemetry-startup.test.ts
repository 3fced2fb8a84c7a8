// What start-up loads for telemetry, seen from outside: the built server spawned over stdio with a preload that
// records every module it resolves. Without OTEL_* nothing of the OpenTelemetry SDK (nor prom-client) is loaded;
// with OTEL_TRACES_EXPORTER=console the SDK is loaded and spans go to stderr, never into the MCP channel.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/config.js';
import { describeSignal, readOtelPlan } from '../src/telemetry/otel-env.js';
import { callerContext } from '../src/telemetry/tracing.js';
import { ADDRESS, startServer, structured, tempDir } from './support/server-process.js';

const PRELOAD = resolve(import.meta.dirname, 'support', 'record-imports.mjs');
const CART = { items: [{ id: 'sku_mug', quantity: 1 }], currency: 'usd', fulfillment_details: { address: ADDRESS } };
const SDK_MODULE = /\/node_modules\/(@opentelemetry\/(?!api\/)[^/]+|prom-client)\//;

/** Spawns serve on stdio, makes a create and its replay, and returns the modules it resolved and its stderr. */
async function run(env: Record<string, string>) {
  const dir = tempDir('once-imports-');
  const record = join(dir, 'imports.txt');
  const server = await startServer({ ONCE_STORE: `sqlite://${join(dir, 'ledger.db')}`, NODE_OPTIONS: `--import=${PRELOAD}`, RECORD_IMPORTS_TO: record, ...env });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const meta = { traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
  const first = structured((await server.client.callTool({ name: 'create_checkout', arguments: CART, _meta: meta })) as never);
  const again = structured((await server.client.callTool({ name: 'create_checkout', arguments: CART, _meta: meta })) as never);
  await server.close();
  const modules = readFileSync(record, 'utf8').trim().split('\n');
  return { first, again, modules, stderr: server.stderr.join(''), traceId };
}

describe('start-up loads telemetry only when asked', () => {
  it('with no OTEL_* variable, serve resolves no OpenTelemetry SDK module and no prom-client, through a create and its replay', async () => {
    const { first, again, modules } = await run({});
    expect(first.checkout?.status).toBe('ready_for_payment');
    expect(again.idempotency?.replayed).toBe(true);
    // The recorder saw the server's own modules and the API facade (a no-op without an SDK)…
    expect(modules.some((url) => url.endsWith('/dist/src/server/server.js'))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/@opentelemetry/api/'))).toBe(true);
    // …and nothing of the SDK, its exporters or the Prometheus client.
    expect(modules.filter((url) => SDK_MODULE.test(url))).toEqual([]);
  });

  it('OTEL_TRACES_EXPORTER=console loads the SDK and prints each span on stderr, parented on _meta.traceparent; stdout stays MCP', async () => {
    const { first, again, modules, stderr, traceId } = await run({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'shop-agent-checkout' });
    // The client got both answers over stdout: no span was printed there.
    expect(first.checkout?.status).toBe('ready_for_payment');
    expect(again.idempotency?.replayed).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/@opentelemetry/sdk-trace-node/'))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/prom-client/'))).toBe(false);
    expect(stderr).toContain("name: 'tools/call create_checkout'");
    expect(stderr).toContain(`traceId: '${traceId}'`);
    expect(stderr).toContain("'service.name': 'shop-agent-checkout'");
    expect(stderr).toContain("name: 'sandbox create'");
    expect(stderr.match(/name: 'sandbox create'/g)).toHaveLength(1); // the replay sent nothing
  });
});

describe('OpenTelemetry metrics when OTEL_METRICS_EXPORTER asks', () => {
  it('the same metrics go through the OpenTelemetry metrics SDK (console exporter, on stderr), without the Prometheus suffixes', async () => {
    const { stderr, modules } = await run({ OTEL_METRICS_EXPORTER: 'console', OTEL_METRIC_EXPORT_INTERVAL: '100' });
    expect(modules.some((url) => url.includes('/node_modules/@opentelemetry/sdk-metrics/'))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/@opentelemetry/sdk-trace-node/'))).toBe(false);
    expect(stderr).toContain("name: 'once_checkout_tool_calls'");
    expect(stderr).toContain("name: 'once_checkout_replays'");
    expect(stderr).toContain("name: 'once_checkout_store_request_duration'");
  });
});

describe('the caller\'s trace context', () => {
  // An SDK registers the W3C propagator; without one the API extracts nothing (its no-op propagator).
  beforeAll(() => new NodeTracerProvider().register());

  it('comes from params._meta.traceparent, else from the HTTP request\'s traceparent header', () => {
    const fromMeta = trace.getSpanContext(callerContext({ traceparent: '00-11111111111111111111111111111111-2222222222222222-01' }, { traceparent: '00-33333333333333333333333333333333-4444444444444444-01' }));
    expect(fromMeta).toMatchObject({ traceId: '11111111111111111111111111111111', spanId: '2222222222222222', isRemote: true });
    const fromHeader = trace.getSpanContext(callerContext({ progressToken: 1 }, { traceparent: '00-33333333333333333333333333333333-4444444444444444-01' }));
    expect(fromHeader).toMatchObject({ traceId: '33333333333333333333333333333333', spanId: '4444444444444444' });
    expect(trace.getSpanContext(callerContext(undefined))).toBeUndefined();
  });
});

describe('OTEL_* variables: the standard decides, and ONCE_* stays strict', () => {
  it('nothing is on without an exporter or endpoint variable; a service name alone turns nothing on', () => {
    expect(readOtelPlan({})).toMatchObject({ traces: undefined, metrics: undefined, serviceName: 'once-checkout' });
    expect(readOtelPlan({ OTEL_SERVICE_NAME: 'x' })).toMatchObject({ traces: undefined, metrics: undefined, serviceName: 'x' });
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT turns on both signals at the standard paths; per-signal variables win; headers are counted, never shown', () => {
    const plan = readOtelPlan({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/v1/m',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=hunter2hunter2,x-team=shop',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=checkout%20agent,deployment.environment=prod',
    });
    expect(plan.traces).toMatchObject({ exporters: ['otlp'], endpoint: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', headers: 2 });
    expect(plan.metrics).toMatchObject({ exporters: ['otlp'], endpoint: 'http://metrics:9000/v1/m' });
    expect(plan.serviceName).toBe('checkout agent');
    const line = describeSignal(plan.traces, 'traces');
    expect(line).toBe('otlp http/protobuf to http://collector:4318/v1/traces with 2 header(s) (values not shown)');
    expect(line).not.toContain('hunter2');
  });

  it('an endpoint with credentials is shown masked; none, unknown exporters and OTEL_SDK_DISABLED are honoured', () => {
    expect(readOtelPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://u:s3cretpass@otlp.example/?token=abc123' }).traces?.endpoint).not.toMatch(/s3cretpass|abc123/);
    expect(readOtelPlan({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).traces).toBeUndefined();
    const odd = readOtelPlan({ OTEL_TRACES_EXPORTER: 'zipkin,console', OTEL_METRICS_EXPORTER: 'prometheus' });
    expect(odd.traces?.exporters).toEqual(['console']);
    expect(odd.metrics).toBeUndefined();
    expect(odd.notes.join('\n')).toMatch(/"zipkin" is not an exporter[\s\S]*GET \/metrics itself/);
    expect(readOtelPlan({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'console' }).traces).toBeUndefined();
  });

  it('gRPC, which would silently lose every span over HTTP, is refused with the fix', () => {
    expect(() => readOtelPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(ConfigError);
    expect(() => readOtelPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/);
  });

  it('the config accepts OTEL_* (the standard\'s) and ONCE_METRICS_TOKEN, and still refuses an unknown ONCE_* variable', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'console', OTEL_FOO: 'bar', ONCE_METRICS_TOKEN: 'x'.repeat(20) })).not.toThrow();
    expect(() => loadConfig({ ONCE_TRACES: 'on' })).toThrow(/ONCE_TRACES/);
  });
});
