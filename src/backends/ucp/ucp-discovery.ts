// UCP_BUSINESS_URL: read the business's profile at /.well-known/ucp (overview.md) and take its checkout service:
// a `dev.ucp.shopping` service over REST or MCP with an endpoint, in a profile that declares the
// `dev.ucp.shopping.checkout` capability. REST is taken when both are offered (its HTTP statuses carry UCP's
// idempotency answers directly). Anything else stops start-up with one line.
import { ConfigError } from '../../config/config-error.js';
import { endpointUrl, type UcpConfig, type UcpTransportName } from './ucp-config.js';

export interface UcpEndpoint {
  transport: UcpTransportName;
  url: URL;
  /** The setting it came from, for messages: UCP_MCP_URL, UCP_BASE_URL or UCP_BUSINESS_URL. */
  variable: string;
  /** Where it was read from, when discovered. */
  discoveredAt?: string;
}

const PROFILE_PATH = '/.well-known/ucp';
const MAX_PROFILE_BYTES = 1_000_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The endpoint the configuration names, reading the business's profile when it names only the business. */
export async function resolveEndpoint(config: UcpConfig, fetchImpl: typeof fetch = fetch): Promise<UcpEndpoint> {
  if (config.where.kind === 'endpoint') return { transport: config.where.transport, url: config.where.url, variable: config.where.variable };
  const variable = 'UCP_BUSINESS_URL';
  const at = `${config.where.origin.origin}${PROFILE_PATH}`;
  const timeoutMs = Math.min(config.timeoutMs, 10_000);
  let profile: unknown;
  try {
    const response = await fetchImpl(at, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    const text = await response.text();
    if (!response.ok) throw new ConfigError(variable, `${at} answered ${response.status}, not a UCP profile`, 'Check UCP_BUSINESS_URL (the business\'s origin), or set UCP_BASE_URL / UCP_MCP_URL to its endpoint');
    if (text.length > MAX_PROFILE_BYTES) throw new ConfigError(variable, `${at} is over 1 MB`, 'Set UCP_BASE_URL or UCP_MCP_URL to the endpoint instead');
    profile = JSON.parse(text);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof SyntaxError) throw new ConfigError(variable, `${at} is not JSON`, 'Check UCP_BUSINESS_URL, or set UCP_BASE_URL / UCP_MCP_URL to the endpoint');
    throw new ConfigError(variable, `${at} cannot be read (${reason(error, timeoutMs)})`, 'Check UCP_BUSINESS_URL and the network, then start again');
  }
  return checkoutService(profile, at, config.where.origin);
}

/** The checkout service a business profile offers, or a ConfigError saying what is missing. */
export function checkoutService(profile: unknown, at: string, origin: URL): UcpEndpoint {
  const variable = 'UCP_BUSINESS_URL';
  const fix = 'Point UCP_BUSINESS_URL at a business that sells through UCP checkout, or set UCP_BASE_URL / UCP_MCP_URL to its endpoint';
  const ucp = isObject(profile) && isObject(profile.ucp) ? profile.ucp : undefined;
  if (!ucp) throw new ConfigError(variable, `${at} is not a UCP profile (no "ucp" object)`, fix);
  const capabilities = isObject(ucp.capabilities) ? ucp.capabilities : {};
  if (!Array.isArray(capabilities['dev.ucp.shopping.checkout'])) {
    throw new ConfigError(variable, `${at} offers no checkout service (no dev.ucp.shopping.checkout capability)`, fix);
  }
  const services = isObject(ucp.services) && Array.isArray(ucp.services['dev.ucp.shopping']) ? (ucp.services['dev.ucp.shopping'] as unknown[]) : [];
  const offered = (transport: UcpTransportName) => services.find((s): s is Json => isObject(s) && s.transport === transport && typeof s.endpoint === 'string');
  const service = offered('rest') ?? offered('mcp');
  if (!service) throw new ConfigError(variable, `${at} offers no checkout service (no dev.ucp.shopping service over rest or mcp with an endpoint)`, fix);
  const url = endpointUrl(variable, service.endpoint as string, 'https://shop.example/ucp');
  if (origin.protocol === 'https:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `${at} names a plain-http endpoint (${url.origin}) for an https business`, fix);
  }
  return { transport: service.transport as UcpTransportName, url, variable, discoveredAt: at };
}
