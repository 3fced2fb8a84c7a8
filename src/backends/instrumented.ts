// A Backend that traces and times each call to the merchant or PSP, for every backend at once: a client span
// with the backend, the merchant, the outbound idempotency key (derived, never secret, R1), the provider's
// request id and the HTTP status (set by src/telemetry/http-client.ts below it), and the backend latency
// histogram. Methods it does not know (a backend may grow) pass through untouched.
import { context, trace, type Span } from '@opentelemetry/api';
import type { CompleteInput } from '../commerce/inputs.js';
import { rawMerchantCode, safeCode } from '../commerce/merchant-text.js';
import { redactDeep } from '../commerce/redact.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { BACKEND_SPAN, markError, SpanKind, tracer } from '../telemetry/tracing.js';
import type { Backend, BackendResult, CallContext } from './backend.js';

const OPERATIONS = new Set<string | symbol>(['create', 'update', 'complete', 'cancel', 'get']);

export function instrumentedBackend(backend: Backend, telemetry: Telemetry): Backend {
  const metrics = telemetry.metrics;

  const call = async (operation: string, args: unknown[], method: (...args: unknown[]) => Promise<BackendResult>): Promise<BackendResult> => {
    // create(input, ctx); update/complete/cancel(id, input, ctx); get(id): no key, nothing mutates.
    const ctx = operation === 'create' ? (args[1] as CallContext) : operation === 'get' ? undefined : (args[2] as CallContext);
    const checkoutId = operation === 'create' ? undefined : (args[0] as string);
    const started = performance.now();
    let span: Span | undefined;
    let result: BackendResult | undefined;
    try {
      if (!telemetry.tracing) return (result = await method.apply(backend, args));
      span = tracer.startSpan(`${backend.name} ${operation}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'once.backend': backend.name,
          'once.merchant': backend.merchant,
          'once.operation': operation,
          ...(checkoutId !== undefined ? { 'once.checkout.id': checkoutId } : {}),
          ...(ctx ? { 'once.idempotency_key': ctx.idempotencyKey, 'once.attempt': ctx.attempt } : {}),
        },
      });
      const active = trace.setSpan(context.active(), span).setValue(BACKEND_SPAN, span);
      result = await context.with(active, () => method.apply(backend, args));
      // complete(id, input, ctx): a merchant may echo the payment token in its code (R10); the engine redacts
      // results only after this wrapper, so the span's words are redacted here.
      const token = operation === 'complete' ? (args[1] as CompleteInput | undefined)?.payment_data?.instrument?.credential?.token : undefined;
      describe(span, token === undefined ? result : redactDeep(result, [token]));
      return result;
    } catch (error) {
      span?.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      span && markError(span, 'threw');
      throw error;
    } finally {
      span?.end();
      metrics?.backend(backend.name, operation, result?.kind ?? 'threw', (performance.now() - started) / 1000);
    }
  };

  const wrappers = new Map<string | symbol, (...args: unknown[]) => Promise<BackendResult>>();
  return new Proxy(backend, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !OPERATIONS.has(property)) return typeof value === 'function' ? value.bind(target) : value;
      let wrapper = wrappers.get(property);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => Promise<BackendResult>;
        wrappers.set(property, (wrapper = (...args: unknown[]) => call(String(property), args, method)));
      }
      return wrapper;
    },
  });
}

/** The answer on the span: its kind, the provider's request id and our code for a failure (never its words). */
function describe(span: Span, result: BackendResult): void {
  span.setAttribute('once.result', result.kind);
  if (result.providerRequestId) span.setAttribute('once.provider_request_id', result.providerRequestId.slice(0, 128));
  if (result.kind === 'failed') {
    // A merchant's own code is its text (it may echo a token we cannot redact here, on a read): ours stands in.
    const code = rawMerchantCode(result.code) === undefined ? safeCode(result.code) : 'merchant_error';
    span.setAttribute('once.error.code', code);
    markError(span, code);
  } else if (result.kind === 'unknown') {
    markError(span, 'outcome_unknown');
  }
}
