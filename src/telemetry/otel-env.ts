// What OpenTelemetry's standard OTEL_* variables ask of this process, read without loading any of the SDK:
// start-up decides from this whether to import it at all, and doctor prints it.
// A signal is on when its exporter variable names an exporter, or an OTLP endpoint is set for it. A service
// name alone turns nothing on: exporting to a default localhost collector nobody runs only fills the logs.
import { ConfigError } from '../config/config-error.js';
import { redact } from '../store/store.js';

export type Signal = 'traces' | 'metrics';
export type Exporter = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface SignalPlan {
  exporters: Exporter[];
  /** Where OTLP goes (as the exporter resolves it from the same variables), credentials masked. */
  endpoint: string;
  protocol: OtlpProtocol;
  /** How many OTLP headers are set (their values are credentials and never shown). */
  headers: number;
}

export interface OtelPlan {
  traces?: SignalPlan;
  metrics?: SignalPlan;
  serviceName: string;
  /** OTEL_METRIC_EXPORT_INTERVAL (ms). */
  metricIntervalMs: number;
  /** Settings read but not followed, said at start and by doctor. */
  notes: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_OTLP = 'http://localhost:4318';
const PATHS: Record<Signal, string> = { traces: '/v1/traces', metrics: '/v1/metrics' };
const EXPORTER_VARIABLE: Record<Signal, string> = { traces: 'OTEL_TRACES_EXPORTER', metrics: 'OTEL_METRICS_EXPORTER' };

export function readOtelPlan(env: Env): OtelPlan {
  const notes: string[] = [];
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceServiceName(env.OTEL_RESOURCE_ATTRIBUTES) || 'once-checkout';
  const metricIntervalMs = positiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
  if (truthy(env.OTEL_SDK_DISABLED)) {
    if (asksForAny(env)) notes.push('OTEL_SDK_DISABLED=true: traces and OpenTelemetry metrics stay off');
    return { serviceName, metricIntervalMs, notes };
  }
  return { traces: signal(env, 'traces', notes), metrics: signal(env, 'metrics', notes), serviceName, metricIntervalMs, notes };
}

/** True when any variable would turn a signal on (so the SDK is worth loading). */
export function wantsSdk(plan: OtelPlan): boolean {
  return plan.traces !== undefined || plan.metrics !== undefined;
}

function signal(env: Env, which: Signal, notes: string[]): SignalPlan | undefined {
  const upper = which.toUpperCase();
  const variable = EXPORTER_VARIABLE[which];
  const named = env[variable]?.trim().toLowerCase();
  const ownEndpoint = env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`]?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  let exporters: Exporter[];
  if (named) {
    const names = named.split(',').map((n) => n.trim()).filter(Boolean);
    if (names.includes('none')) return undefined;
    exporters = [];
    for (const name of names) {
      if (name === 'otlp' || name === 'console') exporters.push(name);
      else if (which === 'metrics' && name === 'prometheus') notes.push(`${variable}=prometheus: serve --http answers GET /metrics itself (behind ONCE_METRICS_TOKEN); no separate exporter port is opened`);
      else notes.push(`${variable}: "${name}" is not an exporter once-checkout has; use otlp or console`);
    }
    if (exporters.length === 0) return undefined;
  } else if (ownEndpoint || baseEndpoint) {
    exporters = ['otlp'];
  } else {
    return undefined;
  }
  const protocolVariable = env[`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`]?.trim() ? `OTEL_EXPORTER_OTLP_${upper}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[protocolVariable]?.trim() || 'http/protobuf').toLowerCase();
  if (exporters.includes('otlp') && protocol !== 'http/protobuf' && protocol !== 'http/json') {
    // Sending HTTP to a gRPC port would lose every span without a word: refuse, as for any setting we cannot keep.
    throw new ConfigError(protocolVariable, `"${protocol}" is not supported by once-checkout`, 'Use http/protobuf (the default) or http/json, and the collector\'s HTTP port (4318)');
  }
  const endpoint = ownEndpoint || `${(baseEndpoint || DEFAULT_OTLP).replace(/\/+$/, '')}${PATHS[which]}`;
  const headers = countHeaders(env.OTEL_EXPORTER_OTLP_HEADERS) + countHeaders(env[`OTEL_EXPORTER_OTLP_${upper}_HEADERS`]);
  return { exporters, endpoint: redact(endpoint), protocol: protocol as OtlpProtocol, headers };
}

/** One line per signal, for the started log line and doctor. */
export function describeSignal(plan: SignalPlan | undefined, which: Signal): string {
  if (!plan) {
    return which === 'traces'
      ? 'off (no OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT; nothing of the SDK is loaded)'
      : 'off (no OTEL_METRICS_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT)';
  }
  return plan.exporters
    .map((exporter) =>
      exporter === 'console'
        ? 'console (printed on stderr)'
        : `otlp ${plan.protocol} to ${plan.endpoint}${plan.headers > 0 ? ` with ${plan.headers} header(s) (values not shown)` : ''}`,
    )
    .join(' and ');
}

function asksForAny(env: Env): boolean {
  return ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'].some(
    (name) => env[name]?.trim(),
  );
}

function truthy(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function positiveInt(env: Env, name: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new ConfigError(name, `"${text}" is not a whole number of milliseconds`, 'Write it like 60000 (the default)');
  return value;
}

/** `service.name` from OTEL_RESOURCE_ATTRIBUTES (`key=value,…`, values percent-encoded). */
function resourceServiceName(attributes: string | undefined): string | undefined {
  for (const pair of attributes?.split(',') ?? []) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === 'service.name') {
      try {
        return decodeURIComponent(pair.slice(at + 1).trim()) || undefined;
      } catch {
        return pair.slice(at + 1).trim() || undefined;
      }
    }
  }
  return undefined;
}

function countHeaders(value: string | undefined): number {
  return value?.split(',').filter((pair) => pair.includes('=')).length ?? 0;
}
