// Spans through @opentelemetry/api only: a no-op until an SDK registers a tracer provider (src/telemetry/sdk.ts
// does when OTEL_* asks for it). Attribute names follow OpenTelemetry's semantic conventions where one exists
// (MCP, database, HTTP client); ours are under `once.`. No attribute ever carries a token, key or card.
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';

export const tracer = trace.getTracer('once-checkout', VERSION);

export { SpanKind };

/** The backend call in progress, so the HTTP layer below it can record the status on it. */
export const BACKEND_SPAN = createContextKey('once-checkout backend span');

/** The first 16 hex characters of a record key: enough to find it (`ledger show`), as `ledger list` prints it. */
export function keyPrefix(key: string | undefined): string | undefined {
  return key === undefined ? undefined : key.slice(0, 16);
}

/**
 * Runs `work` in a new span under `parent` (default: the active context). The span ends when the work settles;
 * a throw is recorded by its type only (messages may quote a merchant or a store URL) and rethrown.
 */
export function inSpan<R>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: (span: Span) => Promise<R>,
  parent: Context = context.active(),
): Promise<R> {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await work(span);
    } catch (error) {
      span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

export function markError(span: Span, code: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The caller's trace context: W3C `traceparent`/`tracestate` from the MCP request's `params._meta` (OpenTelemetry's
 * MCP conventions), else from the HTTP request's headers, else the active one (none: the tool call starts a trace).
 */
export function callerContext(meta: Record<string, unknown> | undefined, headers?: Record<string, string | string[] | undefined>): Context {
  if (meta && typeof meta.traceparent === 'string') return propagation.extract(ROOT_CONTEXT, meta, metaGetter);
  if (headers && typeof headers.traceparent === 'string') return propagation.extract(ROOT_CONTEXT, headers as Record<string, unknown>, metaGetter);
  return context.active();
}

/** Adds `traceparent` (and `tracestate`) for the active span to outgoing headers; nothing without an SDK. */
export function injectTraceHeaders(headers: Record<string, string>): void {
  propagation.inject(context.active(), headers);
}

/** The backend span this HTTP request belongs to, if any. */
export function activeBackendSpan(): Span | undefined {
  return context.active().getValue(BACKEND_SPAN) as Span | undefined;
}
