// Environment → UcpConfig, or one ConfigError naming the variable and the fix. Exactly one of UCP_MCP_URL (the
// business's MCP endpoint), UCP_BASE_URL (its REST base) or UCP_BUSINESS_URL (its origin, discovered through
// /.well-known/ucp); UCP_AGENT_PROFILE is required; UCP_API_KEY is an optional bearer token.
import { ConfigError } from '../../config/config-error.js';
import { parseDuration } from '../../config/duration.js';
import { endpointUrl as httpEndpoint } from '../endpoint-url.js';

export const UCP_VERSION = '2026-04-08';
export const DEFAULT_UCP_TIMEOUT_MS = 15_000;
/** How long one complete_checkout reads back a checkout the business answered complete_in_progress. */
export const DEFAULT_UCP_COMPLETE_WAIT_MS = 10_000;

export type UcpTransportName = 'rest' | 'mcp';

export const ENDPOINT_VARIABLES = ['UCP_MCP_URL', 'UCP_BASE_URL', 'UCP_BUSINESS_URL'] as const;
export type EndpointVariable = (typeof ENDPOINT_VARIABLES)[number];

/** Where the business is: a transport and endpoint given directly, or an origin to discover them from. */
export type UcpWhere = { kind: 'endpoint'; transport: UcpTransportName; url: URL; variable: EndpointVariable } | { kind: 'business'; origin: URL };

export interface UcpConfig {
  where: UcpWhere;
  /** Sent as meta["ucp-agent"].profile (MCP) or the UCP-Agent header (REST) on every call. */
  agentProfile: string;
  /** Optional bearer token; never logged or recorded (R10). */
  apiKey?: string;
  /** Per-request timeout; past it the outcome is ambiguous (`unknown`). */
  timeoutMs: number;
  completeWaitMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const EXACTLY_ONE =
  'Set exactly one: UCP_MCP_URL (the business\'s MCP endpoint), UCP_BASE_URL (its REST base URL) or UCP_BUSINESS_URL (its origin, read from /.well-known/ucp)';

/** An http(s) URL without credentials, query or fragment, or a ConfigError naming `variable`. */
export function endpointUrl(variable: string, text: string, example: string): URL {
  return httpEndpoint(variable, text, example, 'put a bearer token in UCP_API_KEY');
}

function duration(env: Env, name: string, fallback: number, example: string): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new ConfigError(name, `"${text}" is not a duration`, `Write it like ${example}`);
  return ms;
}

export function readUcpConfig(env: Env): UcpConfig {
  const set = ENDPOINT_VARIABLES.filter((name) => env[name]?.trim());
  if (set.length === 0) throw new ConfigError('UCP_BASE_URL', 'no UCP business is configured (UCP_MCP_URL, UCP_BASE_URL and UCP_BUSINESS_URL are all unset)', EXACTLY_ONE);
  if (set.length > 1) throw new ConfigError(set.join(' and '), 'are both set, so the business to use is ambiguous', EXACTLY_ONE);
  const variable = set[0];
  const text = env[variable]!.trim();
  let where: UcpWhere;
  if (variable === 'UCP_BUSINESS_URL') {
    const origin = endpointUrl(variable, text, 'https://shop.example');
    if (origin.pathname !== '/') throw new ConfigError(variable, `must be the business's origin, not a path (${origin.pathname})`, `Write it like ${origin.origin}; its /.well-known/ucp names the endpoints`);
    where = { kind: 'business', origin };
  } else {
    const transport = variable === 'UCP_MCP_URL' ? 'mcp' : 'rest';
    where = { kind: 'endpoint', transport, url: endpointUrl(variable, text, transport === 'mcp' ? 'https://shop.example/ucp/mcp' : 'https://shop.example/ucp'), variable };
  }
  const profile = env.UCP_AGENT_PROFILE?.trim();
  if (!profile) {
    throw new ConfigError('UCP_AGENT_PROFILE', 'is not set', "Set it to the URL of your platform's UCP profile, e.g. UCP_AGENT_PROFILE=https://agent.example/.well-known/ucp (sent with every call)");
  }
  const profileUrl = (() => {
    try {
      return new URL(profile);
    } catch {
      return undefined;
    }
  })();
  if (!profileUrl || (profileUrl.protocol !== 'https:' && profileUrl.protocol !== 'http:') || /["\\\s]/.test(profile)) {
    throw new ConfigError('UCP_AGENT_PROFILE', `"${profile}" is not an http(s) URL`, 'Write it like https://agent.example/.well-known/ucp');
  }
  const apiKey = env.UCP_API_KEY?.trim() || undefined;
  if (apiKey !== undefined && /\s/.test(apiKey)) throw new ConfigError('UCP_API_KEY', 'contains whitespace', 'Give the bearer token alone, without "Bearer "');
  return {
    where,
    agentProfile: profile,
    apiKey,
    timeoutMs: duration(env, 'UCP_TIMEOUT', DEFAULT_UCP_TIMEOUT_MS, '15s or 500ms (default 15s)'),
    completeWaitMs: duration(env, 'UCP_COMPLETE_WAIT', DEFAULT_UCP_COMPLETE_WAIT_MS, '10s (default 10s; how long a complete_in_progress is read back)'),
  };
}

/** The business's identity in our keys (R2, R15): the endpoint's origin and path, without a trailing slash. */
export function businessIdentity(endpoint: URL): string {
  return `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}`;
}
