// Environment → AcpConfig, or one ConfigError naming the variable and the fix.
import { ConfigError } from '../../config/config-error.js';
import { parseDuration } from '../../config/duration.js';
import { ACP_VERSIONS, isAcpVersion, type AcpVersion } from './versions.js';
import { endpointUrl } from '../endpoint-url.js';

export const DEFAULT_ACP_TIMEOUT_MS = 15_000;

/** Where the merchant is: its REST base URL, or its endpoint of ACP's MCP binding. */
export type AcpEndpoint = { transport: 'rest'; url: URL } | { transport: 'mcp'; url: URL };

export interface AcpConfig {
  endpoint: AcpEndpoint;
  /** Sent as `Authorization: Bearer` (both transports); never logged or recorded (R10). */
  apiKey: string;
  /** A released version, or `auto` (the default): discovered from the merchant. */
  apiVersion: AcpVersion | 'auto';
  /** Per-request timeout; past it the outcome is ambiguous (`unknown`). */
  timeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function readUrl(variable: string, text: string, example: string): URL {
  return endpointUrl(variable, text, example, 'put the key in ACP_API_KEY');
}

function readEndpoint(env: Env): AcpEndpoint {
  const base = env.ACP_BASE_URL?.trim();
  const mcp = env.ACP_MCP_URL?.trim();
  if (base && mcp) {
    throw new ConfigError('ACP_MCP_URL', 'is set together with ACP_BASE_URL', "Set exactly one: ACP_BASE_URL for the merchant's REST API, or ACP_MCP_URL for its MCP endpoint");
  }
  if (mcp) return { transport: 'mcp', url: readUrl('ACP_MCP_URL', mcp, 'https://shop.example/acp/mcp') };
  if (!base) {
    throw new ConfigError('ACP_BASE_URL', 'is not set (nor ACP_MCP_URL)', "Set ACP_BASE_URL to the merchant's ACP base URL (https://shop.example/acp), or ACP_MCP_URL to its MCP endpoint");
  }
  return { transport: 'rest', url: readUrl('ACP_BASE_URL', base, 'https://shop.example/acp') };
}

export function readAcpConfig(env: Env): AcpConfig {
  const endpoint = readEndpoint(env);
  const apiKey = env.ACP_API_KEY?.trim();
  if (!apiKey) throw new ConfigError('ACP_API_KEY', 'is not set', 'Set it to the bearer token the merchant issued to you');
  if (/\s/.test(apiKey)) throw new ConfigError('ACP_API_KEY', 'contains whitespace', 'Give the bearer token alone, without "Bearer "');
  const versionText = env.ACP_API_VERSION?.trim() || 'auto';
  if (versionText !== 'auto' && !isAcpVersion(versionText)) {
    throw new ConfigError('ACP_API_VERSION', `"${versionText}" is not a released ACP version`, `Use one of ${ACP_VERSIONS.join(', ')}, or auto (the default)`);
  }
  const apiVersion = versionText as AcpVersion | 'auto';
  const timeoutText = env.ACP_TIMEOUT?.trim();
  let timeoutMs = DEFAULT_ACP_TIMEOUT_MS;
  if (timeoutText) {
    const parsed = parseDuration(timeoutText);
    if (parsed === undefined) throw new ConfigError('ACP_TIMEOUT', `"${timeoutText}" is not a duration`, 'Write it like 15s or 500ms (default 15s)');
    timeoutMs = parsed;
  }
  return { endpoint, apiKey, apiVersion, timeoutMs };
}

/** The merchant's identity in our keys (R2): the URL's origin and path, without a trailing slash. */
export function merchantIdentity(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
