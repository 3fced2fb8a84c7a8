// fetch for calls to merchants and PSPs: one HTTP client span each (OpenTelemetry's HTTP conventions), the W3C
// `traceparent` of that span on the request, and the status on the enclosing backend span. Headers are never
// recorded (they carry bearer tokens), nor the query (it may carry one). The REST clients call it, and the MCP
// SDK's Streamable HTTP transport is given it as its fetch (ACP's and UCP's MCP bindings).
import { SpanStatusCode } from '@opentelemetry/api';
import { activeBackendSpan, inSpan, injectTraceHeaders, SpanKind } from './tracing.js';

export type FetchInit = Omit<RequestInit, 'headers'> & { headers?: Record<string, string> };

/** tracedFetch in the shape the MCP SDK's transports take (any URL, any headers). */
export function tracedFetchLike(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  return tracedFetch(String(url), { ...init, headers });
}

export function tracedFetch(url: string, init: FetchInit = {}): Promise<Response> {
  const target = new URL(url);
  const method = (init.method ?? 'GET').toUpperCase();
  const backendSpan = activeBackendSpan();
  const attributes = {
    'http.request.method': method,
    'server.address': target.hostname,
    'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
    'url.full': `${target.origin}${target.pathname}`,
  };
  return inSpan(method, SpanKind.CLIENT, attributes, async (span) => {
    const headers = { ...init.headers };
    injectTraceHeaders(headers);
    const response = await fetch(url, { ...init, headers });
    span.setAttribute('http.response.status_code', response.status);
    backendSpan?.setAttribute('http.response.status_code', response.status);
    if (response.status >= 400) {
      span.setAttribute('error.type', String(response.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    return response;
  });
}
