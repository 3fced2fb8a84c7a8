// The one way this code builds a Stripe SDK client: pointed at STRIPE_API_BASE, with no retries of its own.
import Stripe from 'stripe';
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
  });
}
