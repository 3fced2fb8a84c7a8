// The OpenTelemetry SDK, imported only when OTEL_* asks for traces or metrics (src/telemetry/telemetry.ts). The
// exporters read the rest of the standard variables themselves (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT,
// _COMPRESSION, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES…). The console exporters print on stderr: on
// stdio, stdout is the MCP channel, and a span printed there would break the client's connection.
import { inspect } from 'node:util';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { ConfigError } from '../config/config-error.js';
import { VERSION } from '../version.js';
import type { OtelPlan } from './otel-env.js';

export interface RunningSdk {
  /** Flushes what is buffered and stops the exporters. */
  shutdown(): Promise<void>;
}

/** The packages a plan needs (optionalDependencies: an install with --omit=optional has none of them). */
export function sdkPackages(plan: OtelPlan): string[] {
  const packages = new Set<string>(['@opentelemetry/resources']);
  if (plan.traces) {
    packages.add('@opentelemetry/sdk-trace-node');
    if (plan.traces.exporters.includes('otlp')) packages.add(plan.traces.protocol === 'http/json' ? '@opentelemetry/exporter-trace-otlp-http' : '@opentelemetry/exporter-trace-otlp-proto');
  }
  if (plan.metrics) {
    packages.add('@opentelemetry/sdk-metrics');
    if (plan.metrics.exporters.includes('otlp')) packages.add(plan.metrics.protocol === 'http/json' ? '@opentelemetry/exporter-metrics-otlp-http' : '@opentelemetry/exporter-metrics-otlp-proto');
  }
  return [...packages];
}

/** Packages of the plan that cannot be found, without loading any of them (doctor). */
export function missingSdkPackages(plan: OtelPlan): string[] {
  return sdkPackages(plan).filter((name) => {
    try {
      import.meta.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

export async function startSdk(plan: OtelPlan, options: { traces: boolean }): Promise<RunningSdk> {
  const missing = missingSdkPackages(plan);
  if (missing.length > 0) {
    const variable = plan.traces ? 'OTEL_TRACES_EXPORTER' : 'OTEL_METRICS_EXPORTER';
    throw new ConfigError(variable, `asks for OpenTelemetry, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed`, `Install without --omit=optional, or: npm install ${missing.join(' ')}`);
  }
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = await import('@opentelemetry/resources');
  // Ours first, then what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES say, which wins.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'once-checkout', 'service.version': VERSION }))
    .merge(detectResources({ detectors: [envDetector] }));
  const stops: Array<() => Promise<void>> = [];

  if (plan.traces && options.traces) {
    const sdk = await import('@opentelemetry/sdk-trace-node');
    const processors: SpanProcessor[] = [];
    for (const exporter of plan.traces.exporters) {
      if (exporter === 'console') {
        // Printed as each span ends, so a transcript shows the spans of a call as it happens.
        processors.push(new sdk.SimpleSpanProcessor(stderrSpanExporter()));
      } else {
        const { OTLPTraceExporter } =
          plan.traces.protocol === 'http/json' ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
        processors.push(new sdk.BatchSpanProcessor(new OTLPTraceExporter()));
      }
    }
    const provider = new sdk.NodeTracerProvider({ resource, spanProcessors: processors });
    // Also installs the AsyncLocalStorage context manager and the W3C trace-context and baggage propagators.
    provider.register();
    stops.push(() => provider.shutdown());
  }

  if (plan.metrics) {
    const sdk = await import('@opentelemetry/sdk-metrics');
    const { metrics } = await import('@opentelemetry/api');
    const readers = [];
    for (const exporter of plan.metrics.exporters) {
      let push: PushMetricExporter;
      if (exporter === 'console') {
        push = stderrMetricExporter();
      } else {
        const { OTLPMetricExporter } =
          plan.metrics.protocol === 'http/json' ? await import('@opentelemetry/exporter-metrics-otlp-http') : await import('@opentelemetry/exporter-metrics-otlp-proto');
        push = new OTLPMetricExporter();
      }
      readers.push(new sdk.PeriodicExportingMetricReader({ exporter: push, exportIntervalMillis: plan.metricIntervalMs, exportTimeoutMillis: Math.min(30_000, plan.metricIntervalMs) }));
    }
    const provider = new sdk.MeterProvider({ resource, readers });
    metrics.setGlobalMeterProvider(provider);
    stops.push(() => provider.shutdown());
  }

  return {
    async shutdown() {
      await Promise.allSettled(stops.map((stop) => stop()));
    },
  };
}

const SUCCESS = { code: 0 }; // ExportResultCode.SUCCESS

/** The SDK's ConsoleSpanExporter, field for field, written to stderr. */
function stderrSpanExporter(): SpanExporter {
  const micros = (time: [number, number]) => time[0] * 1_000_000 + Math.round(time[1] / 1_000);
  return {
    export(spans: ReadableSpan[], done) {
      for (const span of spans) {
        const info = {
          resource: { attributes: span.resource.attributes },
          instrumentationScope: span.instrumentationScope,
          traceId: span.spanContext().traceId,
          parentSpanContext: span.parentSpanContext,
          traceState: span.spanContext().traceState?.serialize(),
          name: span.name,
          id: span.spanContext().spanId,
          kind: span.kind,
          timestamp: micros(span.startTime),
          duration: micros(span.duration),
          attributes: span.attributes,
          status: span.status,
          events: span.events,
          links: span.links,
        };
        process.stderr.write(`${inspect(info, { depth: 3 })}\n`);
      }
      done(SUCCESS);
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
}

/** The SDK's ConsoleMetricExporter, written to stderr. */
function stderrMetricExporter(): PushMetricExporter {
  return {
    export(resourceMetrics: ResourceMetrics, done) {
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          process.stderr.write(`${inspect({ descriptor: metric.descriptor, dataPointType: metric.dataPointType, dataPoints: metric.dataPoints }, { depth: null })}\n`);
        }
      }
      done(SUCCESS);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
