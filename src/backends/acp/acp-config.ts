// Environment → AcpBackendOptions, or one ConfigError naming the variable and the fix.
import { ConfigError } from '../../config/config-error.js';
import { parseDuration } from '../../config/duration.js';

export const ACP_API_VERSION = '2026-04-17';
export const DEFAULT_ACP_TIMEOUT_MS = 15_000;

export interface AcpConfig {
  /** The merchant's ACP base URL; endpoints are appended to its path. */
  baseUrl: URL;
  /** Sent as `Authorization: Bearer`; never logged or recorded (R10). */
  apiKey: string;
  apiVersion: string;
  /** Per-request timeout; past it the outcome is ambiguous (`unknown`). */
  timeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export function readAcpConfig(env: Env): AcpConfig {
  const base = env.ACP_BASE_URL?.trim();
  if (!base) throw new ConfigError('ACP_BASE_URL', 'is not set', "Set it to the merchant's ACP base URL, e.g. ACP_BASE_URL=https://shop.example/acp");
  let baseUrl: URL;
  try {
    baseUrl = new URL(base);
  } catch {
    throw new ConfigError('ACP_BASE_URL', `"${base}" is not a URL`, 'Write it like https://shop.example/acp');
  }
  if (baseUrl.protocol !== 'https:' && baseUrl.protocol !== 'http:') {
    throw new ConfigError('ACP_BASE_URL', `must be http or https, not ${baseUrl.protocol}`, 'Write it like https://shop.example/acp');
  }
  if (baseUrl.username || baseUrl.password || baseUrl.search || baseUrl.hash) {
    // Credentials in the URL would end up in logs and merchant ids; the key goes in ACP_API_KEY.
    throw new ConfigError('ACP_BASE_URL', 'must not carry credentials, a query or a fragment', 'Give only scheme, host and path; put the key in ACP_API_KEY');
  }
  const apiKey = env.ACP_API_KEY?.trim();
  if (!apiKey) throw new ConfigError('ACP_API_KEY', 'is not set', 'Set it to the bearer token the merchant issued to you');
  if (/\s/.test(apiKey)) throw new ConfigError('ACP_API_KEY', 'contains whitespace', 'Give the bearer token alone, without "Bearer "');
  const apiVersion = env.ACP_API_VERSION?.trim() || ACP_API_VERSION;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(apiVersion)) {
    throw new ConfigError('ACP_API_VERSION', `"${apiVersion}" is not an ACP version date`, `Write it like ${ACP_API_VERSION} (or unset it)`);
  }
  const timeoutText = env.ACP_TIMEOUT?.trim();
  let timeoutMs = DEFAULT_ACP_TIMEOUT_MS;
  if (timeoutText) {
    const parsed = parseDuration(timeoutText);
    if (parsed === undefined) throw new ConfigError('ACP_TIMEOUT', `"${timeoutText}" is not a duration`, 'Write it like 15s or 500ms (default 15s)');
    timeoutMs = parsed;
  }
  return { baseUrl, apiKey, apiVersion, timeoutMs };
}

/** The merchant's identity in our keys (R2): the base URL's origin and path, without a trailing slash. */
export function merchantIdentity(baseUrl: URL): string {
  return `${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}`;
}
