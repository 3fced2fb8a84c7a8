// What this process reports, decided once at start: traces when OTEL_* asks for them (or an SDK was registered
// before start, e.g. by `node --import`), metrics when /metrics is served or OTEL_* asks for them. With none of
// that, nothing is wrapped and nothing of the SDK or prom-client is loaded: the hot path stays as it was.
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import type { Logger } from '../log.js';
import { openTelemetrySink, prometheusSink, Metrics, type MetricSink, type PrometheusText } from './metrics.js';
import { describeSignal, readOtelPlan, wantsSdk, type OtelPlan } from './otel-env.js';

export interface Telemetry {
  /** Spans are recorded (a tracer provider is registered). */
  readonly tracing: boolean;
  /** Metrics are recorded; undefined: none. */
  readonly metrics?: Metrics;
  /** The text GET /metrics answers with, when served. */
  readonly prometheus?: PrometheusText;
  /** For the started log line. */
  readonly summary: { traces: string; metrics: string };
  shutdown(): Promise<void>;
}

export const NO_TELEMETRY: Telemetry = {
  tracing: false,
  summary: { traces: 'off', metrics: 'off' },
  shutdown: async () => {},
};

/** Whether the stores, backends and ledger need wrapping at all. */
export function instrumented(telemetry: Telemetry): boolean {
  return telemetry.tracing || telemetry.metrics !== undefined;
}

export interface TelemetryOptions {
  /** serve --http with ONCE_METRICS_TOKEN: keep a Prometheus registry for GET /metrics. */
  prometheus: boolean;
  logger: Logger;
}

export async function startTelemetry(env: NodeJS.ProcessEnv, options: TelemetryOptions): Promise<Telemetry> {
  const plan: OtelPlan = readOtelPlan(env);
  for (const note of plan.notes) options.logger.log('warn', 'telemetry', { message: note });
  const registeredBefore = tracerProviderRegistered();
  const sdk = wantsSdk(plan) ? await (await import('./sdk.js')).startSdk(plan, { traces: !registeredBefore }) : undefined;
  const sinks: MetricSink[] = [];
  let prometheus: PrometheusText | undefined;
  if (options.prometheus) {
    const made = await prometheusSink();
    sinks.push(made.sink);
    prometheus = made.exposition;
  }
  if (plan.metrics) sinks.push(openTelemetrySink());
  const traces = registeredBefore ? 'to the tracer provider registered before start' : describeSignal(plan.traces, 'traces');
  const metricsSummary = [prometheus ? 'GET /metrics (ONCE_METRICS_TOKEN)' : undefined, plan.metrics ? describeSignal(plan.metrics, 'metrics') : undefined]
    .filter(Boolean)
    .join(' and ');
  return {
    tracing: registeredBefore || plan.traces !== undefined,
    metrics: sinks.length > 0 ? new Metrics(sinks) : undefined,
    prometheus,
    summary: { traces, metrics: metricsSummary || 'off' },
    shutdown: async () => {
      await sdk?.shutdown();
    },
  };
}

/**
 * A tracer provider other than the API's no-op one is already registered: an SDK set up before start
 * (`node --import ./otel.mjs`). Then ours is not registered over it, and our spans go to it.
 */
function tracerProviderRegistered(): boolean {
  // The API's global is a proxy, which hands out a delegate's tracer only once a provider is registered.
  return trace.getTracerProvider() instanceof ProxyTracerProvider && (trace.getTracerProvider() as ProxyTracerProvider).getDelegateTracer('once-checkout') !== undefined;
}
