// One span per MCP tool call, by OpenTelemetry's MCP conventions (`tools/call {tool}`, kind server, parent from
// the request's `params._meta.traceparent`), carrying what the ledger decided; and the tool-call metrics.
import type { Span } from '@opentelemetry/api';
import type { CheckoutResult } from '../checkout/checkouts.js';
import type { Telemetry } from './telemetry.js';
import { callerContext, inSpan, keyPrefix, markError, SpanKind } from './tracing.js';

export interface ToolRequestInfo {
  meta?: Record<string, unknown>;
  requestId: string | number;
  sessionId?: string;
  headers?: Record<string, string | string[] | undefined>;
}

export function inToolSpan<R>(tool: string, principal: string, request: ToolRequestInfo, work: (span: Span) => Promise<R>): Promise<R> {
  const attributes = {
    'mcp.method.name': 'tools/call',
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': tool,
    'jsonrpc.request.id': String(request.requestId),
    ...(request.sessionId ? { 'mcp.session.id': request.sessionId } : {}),
    'once.operation': tool.replace(/_checkout$/, ''),
    'once.principal': principal,
  };
  return inSpan(`tools/call ${tool}`, SpanKind.SERVER, attributes, work, callerContext(request.meta, request.headers));
}

/** What the call ended in, on its span and in the metrics. `cardNumber`: refused for carrying one. */
export function recordToolCall(span: Span, telemetry: Telemetry | undefined, tool: string, result: CheckoutResult, seconds: number, cardNumber: boolean): void {
  const idempotency = result.idempotency;
  if (span.isRecording()) {
    span.setAttribute('once.outcome', result.ok ? result.idempotency.outcome : result.failure.code);
    if (idempotency) {
      span.setAttribute('once.replayed', idempotency.replayed);
      if (idempotency.attempt !== undefined) span.setAttribute('once.attempt', idempotency.attempt);
      span.setAttribute('once.key_prefix', keyPrefix(idempotency.key)!);
    }
    const checkoutId = result.ok ? result.checkout.id : result.checkout?.id;
    if (checkoutId) span.setAttribute('once.checkout.id', checkoutId);
    if (!result.ok) {
      span.setAttribute('error.type', 'tool_error');
      span.setAttribute('once.error.code', result.failure.code);
      markError(span, result.failure.code);
    }
  }
  telemetry?.metrics?.toolCall(tool, result, seconds, cardNumber);
}
