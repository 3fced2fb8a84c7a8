// Environment → PaypalConfig, or one clear line naming the variable and the fix.
import { HOUR, parseDuration } from '../../config/duration.js';
import { loadCatalogFile, type Catalog } from '../catalog-file.js';

export interface PaypalConfig {
  clientId: string;
  clientSecret: string;
  /** https://api-m.sandbox.paypal.com, https://api-m.paypal.com, or a local fake. */
  apiBase: string;
  /** PayPal keeps no catalog we can price from: item id → name, unit_amount, currency. */
  catalog: Catalog;
  /** How long PayPal keeps a PayPal-Request-Id on Orders v2: 6 h unless the account has 72 h. */
  requestIdRetentionMs?: number;
  /** Per-request timeout; a timeout is an ambiguous outcome (`unknown`). */
  timeoutMs?: number;
}

export const DEFAULT_PAYPAL_API_BASE = 'https://api-m.sandbox.paypal.com';
export const DEFAULT_REQUEST_ID_RETENTION_MS = 6 * HOUR;

type Env = Readonly<Record<string, string | undefined>>;

export function readPaypalConfig(env: Env): PaypalConfig {
  const clientId = env.PAYPAL_CLIENT_ID?.trim();
  if (!clientId) {
    throw new Error('PAYPAL_CLIENT_ID is not set: set it to your PayPal REST app client id (developer.paypal.com → Apps & Credentials)');
  }
  const clientSecret = env.PAYPAL_CLIENT_SECRET?.trim();
  if (!clientSecret) {
    throw new Error('PAYPAL_CLIENT_SECRET is not set: set it to the secret of the PayPal REST app named by PAYPAL_CLIENT_ID');
  }
  const apiBase = env.PAYPAL_API_BASE?.trim() || DEFAULT_PAYPAL_API_BASE;
  checkPaypalApiBase(apiBase);
  const retention = env.PAYPAL_REQUEST_ID_RETENTION?.trim();
  const requestIdRetentionMs = retention ? parseRetention(retention) : DEFAULT_REQUEST_ID_RETENTION_MS;
  const catalogPath = env.ONCE_CATALOG?.trim();
  if (!catalogPath) {
    throw new Error(
      'ONCE_CATALOG is not set: the paypal backend prices items from a JSON catalog file; set ONCE_CATALOG=/path/catalog.json ' +
        '({"<id>": {"name": "…", "unit_amount": 1500, "currency": "usd"}})',
    );
  }
  return { clientId, clientSecret, apiBase, catalog: loadCatalogFile(catalogPath), requestIdRetentionMs };
}

export function checkPaypalApiBase(apiBase: string): URL {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error(`PAYPAL_API_BASE is not a URL (${apiBase}): use ${DEFAULT_PAYPAL_API_BASE} or https://api-m.paypal.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`PAYPAL_API_BASE must be http or https (got ${url.protocol}): use ${DEFAULT_PAYPAL_API_BASE}`);
  }
  return url;
}

function parseRetention(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new Error(
      `PAYPAL_REQUEST_ID_RETENTION is not a duration (${text}): use 6h (PayPal's default) or 72h if PayPal extended it for your account`,
    );
  }
  return ms;
}
