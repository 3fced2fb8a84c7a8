// The metrics, defined once and recorded into one or two sinks: a prom-client registry that serve --http
// answers GET /metrics from, and OpenTelemetry's meter when OTEL_* asks for metrics. Names follow Prometheus
// (snake case, `_total` on counters, base units in the name: `_seconds`); the OpenTelemetry instruments carry
// the same names without those suffixes, which OpenTelemetry's own Prometheus translation adds back.
// Labels are bounded sets (tool, operation, outcome code, store, backend); never a principal, key or id.
import { metrics as otelMetrics, type Counter as OtelCounter, type Histogram as OtelHistogram } from '@opentelemetry/api';
import type { CheckoutResult } from '../checkout/checkouts.js';
import { VERSION } from '../version.js';

interface Definition {
  name: string;
  kind: 'counter' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

const FAST = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const CALLS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SETTLE = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600];

export const DEFINITIONS = {
  toolCalls: { name: 'once_checkout_tool_calls', kind: 'counter', labels: ['tool', 'outcome'], help: 'MCP tool calls by tool and outcome: succeeded, pending, or the error code the agent was given' },
  toolDuration: { name: 'once_checkout_tool_call_duration', kind: 'histogram', labels: ['tool'], buckets: CALLS, help: 'Time to answer an MCP tool call, in seconds' },
  replays: { name: 'once_checkout_replays', kind: 'counter', labels: ['tool'], help: 'Tool calls answered from the ledger (replayed: true): nothing was sent' },
  refused: { name: 'once_checkout_refused_calls', kind: 'counter', labels: ['reason'], help: 'Calls refused before anything was sent: spend_cap, rate_limit, card_number, confirmation_declined' },
  unknown: { name: 'once_checkout_unknown_outcomes', kind: 'counter', labels: ['operation'], help: 'Attempts whose outcome became unknown (timeout, lost answer, 5xx)' },
  unknownSettle: { name: 'once_checkout_unknown_settle_duration', kind: 'histogram', labels: ['operation', 'result'], buckets: SETTLE, help: 'From an attempt becoming unknown to its definite outcome, in seconds' },
  reconciliations: { name: 'once_checkout_reconciliations', kind: 'counter', labels: ['operation', 'result'], help: 'Reads of the provider to settle an ambiguous attempt, by what they showed: succeeded, failed, resend, unknown' },
  retries: { name: 'once_checkout_attempts_beyond_first', kind: 'counter', labels: ['operation'], help: 'Attempts 2, 3… sent with a new key after a genuine failure (R6)' },
  store: { name: 'once_checkout_store_request_duration', kind: 'histogram', labels: ['store', 'operation'], buckets: FAST, help: 'Ledger store round trips, in seconds' },
  backend: { name: 'once_checkout_backend_request_duration', kind: 'histogram', labels: ['backend', 'operation', 'result'], buckets: CALLS, help: 'Calls to the merchant or PSP, in seconds, by result: succeeded, failed, unknown' },
} as const satisfies Record<string, Definition>;

type Name = keyof typeof DEFINITIONS;
type Labels = Record<string, string>;

/** The Prometheus name of a definition, by the OpenTelemetry-to-Prometheus rules: `_total`, `_seconds`. */
export function prometheusName(definition: Definition): string {
  return definition.kind === 'counter' ? `${definition.name}_total` : `${definition.name}_seconds`;
}

export interface MetricSink {
  add(name: Name, labels: Labels, value: number): void;
  observe(name: Name, labels: Labels, value: number): void;
}

/** What a refused call was refused for, from its error code; undefined for anything else. */
const REFUSALS: Record<string, string> = {
  spend_cap_exceeded: 'spend_cap',
  rate_limited: 'rate_limit',
  declined_by_user: 'confirmation_declined',
};

/** Outcome labels beyond this many distinct values collapse into `other` (codes are ours, but bounded anyway). */
const MAX_OUTCOMES = 64;

export class Metrics {
  private readonly outcomes = new Set<string>();

  constructor(private readonly sinks: readonly MetricSink[]) {}

  toolCall(tool: string, result: CheckoutResult, seconds: number, cardNumber: boolean): void {
    const outcome = this.bounded(result.ok ? result.idempotency.outcome : result.failure.code);
    this.add('toolCalls', { tool, outcome });
    this.observe('toolDuration', { tool }, seconds);
    if (result.idempotency?.replayed) this.add('replays', { tool });
    const refusal = cardNumber ? 'card_number' : result.ok ? undefined : REFUSALS[result.failure.code];
    if (refusal) this.add('refused', { reason: refusal });
  }

  unknownOutcome(operation: string): void {
    this.add('unknown', { operation });
  }

  unknownSettled(operation: string, result: string, seconds: number): void {
    this.observe('unknownSettle', { operation, result }, seconds);
  }

  reconciliation(operation: string, result: string): void {
    this.add('reconciliations', { operation, result });
  }

  attemptBeyondFirst(operation: string): void {
    this.add('retries', { operation });
  }

  store(store: string, operation: string, seconds: number): void {
    this.observe('store', { store, operation }, seconds);
  }

  backend(backend: string, operation: string, result: string, seconds: number): void {
    this.observe('backend', { backend, operation, result }, seconds);
  }

  private add(name: Name, labels: Labels): void {
    for (const sink of this.sinks) sink.add(name, labels, 1);
  }

  private observe(name: Name, labels: Labels, value: number): void {
    for (const sink of this.sinks) sink.observe(name, labels, value);
  }

  private bounded(outcome: string): string {
    if (this.outcomes.has(outcome)) return outcome;
    if (this.outcomes.size >= MAX_OUTCOMES) return 'other';
    this.outcomes.add(outcome);
    return outcome;
  }
}

export interface PrometheusText {
  contentType: string;
  text(): Promise<string>;
}

/** A prom-client registry of its own (never the global one), with the process metrics Prometheus users expect. */
export async function prometheusSink(): Promise<{ sink: MetricSink; exposition: PrometheusText }> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const counters = new Map<Name, InstanceType<typeof prom.Counter>>();
  const histograms = new Map<Name, InstanceType<typeof prom.Histogram>>();
  for (const [name, definition] of Object.entries(DEFINITIONS) as Array<[Name, Definition]>) {
    const common = { name: prometheusName(definition), help: definition.help, labelNames: [...definition.labels], registers: [registry] };
    if (definition.kind === 'counter') counters.set(name, new prom.Counter(common));
    else histograms.set(name, new prom.Histogram({ ...common, buckets: [...(definition.buckets ?? [])] }));
  }
  return {
    sink: {
      add: (name, labels, value) => counters.get(name)!.inc(labels, value),
      observe: (name, labels, value) => histograms.get(name)!.observe(labels, value),
    },
    exposition: { contentType: registry.contentType, text: () => registry.metrics() },
  };
}

/** The same metrics through OpenTelemetry's meter (a real one once the SDK registered a MeterProvider). */
export function openTelemetrySink(): MetricSink {
  const meter = otelMetrics.getMeter('once-checkout', VERSION);
  const counters = new Map<Name, OtelCounter>();
  const histograms = new Map<Name, OtelHistogram>();
  for (const [name, definition] of Object.entries(DEFINITIONS) as Array<[Name, Definition]>) {
    if (definition.kind === 'counter') counters.set(name, meter.createCounter(definition.name, { description: definition.help }));
    else {
      histograms.set(
        name,
        meter.createHistogram(definition.name, { description: definition.help, unit: 's', advice: { explicitBucketBoundaries: [...(definition.buckets ?? [])] } }),
      );
    }
  }
  return {
    add: (name, labels, value) => counters.get(name)!.add(value, labels),
    observe: (name, labels, value) => histograms.get(name)!.record(value, labels),
  };
}
