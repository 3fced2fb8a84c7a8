// HTTP requests to merchants and PSPs: one HTTP client span each (OpenTelemetry's HTTP conventions), the W3C
// `traceparent` of that span on the request, and the status on the enclosing backend span. Headers are never
// recorded (they carry bearer tokens), nor the query (it may carry one). The REST clients call tracedFetch, the
// MCP SDK's Streamable HTTP transport is given tracedFetchLike as its fetch (ACP's and UCP's MCP bindings), and
// the Stripe SDK's own HTTP client is wrapped with inHttpClientSpan (src/backends/stripe/stripe-client.ts).
import { SpanStatusCode } from '@opentelemetry/api';
import { activeBackendSpan, inSpan, injectTraceHeaders, SpanKind } from './tracing.js';

export type FetchInit = Omit<RequestInit, 'headers'> & { headers?: Record<string, string> };

/**
 * One HTTP client span around `send`, which is handed the request's headers with this span's traceparent
 * added; `statusOf` reads the response's status for the span and the enclosing backend span.
 */
/** How a client reads the statuses of its requests (by default every response is the call's answer). */
export interface StatusReading {
  /** Whether this response is the backend call's answer, whose status the backend span shows. */
  answers?: (status: number) => boolean;
  /** A status of 400 or more that is expected, not an error. */
  expected?: (status: number) => boolean;
}

export function inHttpClientSpan<R>(
  method: string,
  target: URL,
  headers: Record<string, string>,
  send: (headers: Record<string, string>) => Promise<R>,
  statusOf: (response: R) => number,
  reading: StatusReading = {},
): Promise<R> {
  const backendSpan = activeBackendSpan();
  const upper = method.toUpperCase();
  const attributes = {
    'http.request.method': upper,
    'server.address': target.hostname,
    'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
    'url.full': `${target.origin}${target.pathname}`,
  };
  return inSpan(upper, SpanKind.CLIENT, attributes, async (span) => {
    const sent = { ...headers };
    injectTraceHeaders(sent);
    const response = await send(sent);
    const status = statusOf(response);
    span.setAttribute('http.response.status_code', status);
    if (reading.answers?.(status) ?? true) backendSpan?.setAttribute('http.response.status_code', status);
    if (status >= 400 && !reading.expected?.(status)) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    return response;
  });
}

export function tracedFetch(url: string, init: FetchInit = {}, reading: StatusReading = {}): Promise<Response> {
  return inHttpClientSpan(
    init.method ?? 'GET',
    new URL(url),
    init.headers ?? {},
    (headers) => fetch(url, { ...init, headers }),
    (response) => response.status,
    reading,
  );
}

/**
 * An MCP session's requests as Streamable HTTP makes them: the call's answer comes on a POST (202 acknowledges a
 * notification, carrying none), and a 405 to the GET that asks for a standalone stream means the server has none.
 */
const MCP_STATUSES = (method: string): StatusReading => ({
  answers: (status) => method === 'POST' && status !== 202,
  expected: (status) => method === 'GET' && status === 405,
});

/** tracedFetch in the shape the MCP SDK's transports take (any URL, any headers). */
export function tracedFetchLike(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  return tracedFetch(String(url), { ...init, headers }, MCP_STATUSES((init.method ?? 'GET').toUpperCase()));
}
