// The one way this code builds a Stripe SDK client: pointed at STRIPE_API_BASE, with no retries of its own, on
// the SDK's own Node HTTP client wrapped so that each request is an HTTP client span with its traceparent sent
// (the same behaviour underneath: its timeouts, and its one retry of a reset connection with our key).
import Stripe from 'stripe';
import { inHttpClientSpan } from '../../telemetry/http-client.js';
import { checkStripeApiBase, checkStripeSecretKey, DEFAULT_STRIPE_API_BASE, type StripeConfig } from './stripe-config.js';

const DEFAULT_TIMEOUT_MS = 30_000;

export function createStripeClient(options: Pick<StripeConfig, 'secretKey' | 'apiBase' | 'timeoutMs'>): Stripe {
  checkStripeSecretKey(options.secretKey);
  const base = checkStripeApiBase(options.apiBase ?? DEFAULT_STRIPE_API_BASE);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(options.secretKey, {
    host: base.hostname,
    port: base.port === '' ? (protocol === 'http' ? 80 : 443) : Number(base.port),
    protocol,
    // The ledger owns retries (R6); the SDK's one forced retry of a reset connection reuses our key (tested).
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    telemetry: false,
    httpClient: tracedHttpClient(Stripe.createNodeHttpClient()),
  });
}

function tracedHttpClient(inner: Stripe.HttpClient): Stripe.HttpClient {
  return {
    getClientName: () => inner.getClientName(),
    // async: whatever goes wrong is a rejection the SDK handles, never a throw before its promise exists.
    makeRequest: async (host, port, path, method, headers, requestData, protocol, timeout) =>
      inHttpClientSpan(
        method,
        new URL(`${protocol}://${host}:${port}${path}`),
        headers as Record<string, string>,
        (sent) => inner.makeRequest(host, port, path, method, sent, requestData, protocol, timeout),
        (response) => response.getStatusCode(),
      ),
  };
}
