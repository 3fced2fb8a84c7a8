// The configuration, read once from the environment (flags are folded in first). Anything unknown or
// malformed stops start-up with one line naming the variable and the fix.
import { BACKEND_NAMES, type BackendName } from '../backends/names.js';
import type { LogLevel } from '../log.js';
import type { StoreUrl } from '../store/store.js';
import { parseStoreUrl } from './store-url.js';
import { ConfigError } from './config-error.js';
import { HOUR, parseDuration } from './duration.js';

export interface Config {
  store: StoreUrl;
  backend: BackendName;
  principal: string;
  /** Record TTL; undefined means the backend's default (R8). */
  ttlMs?: number;
  windowMs: number;
  maxOrderAmount?: number;
  /** Mutating tool calls per principal per minute (in-process); 0 is off; unset means the mode's default. */
  rateLimitPerMinute?: number;
  logLevel: LogLevel;
  /** HTTP mode's session limits (unset: the defaults in DEFAULT_HTTP_LIMITS). */
  http: HttpLimits;
  env: NodeJS.ProcessEnv;
}

export interface HttpLimits {
  /** Open MCP sessions one principal may hold at once. */
  maxSessionsPerPrincipal: number;
  /** Open MCP sessions in the whole process. */
  maxSessions: number;
  /** A session unused this long is closed. */
  sessionIdleMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxSessionsPerPrincipal: 16, maxSessions: 256, sessionIdleMs: 10 * 60_000 };

const KNOWN_VARIABLES = [
  'ONCE_STORE',
  'ONCE_BACKEND',
  'ONCE_PRINCIPAL',
  'ONCE_TTL',
  'ONCE_DEDUP_WINDOW',
  'ONCE_MAX_ORDER_AMOUNT',
  'ONCE_HTTP_TOKENS',
  'ONCE_HTTP_MAX_SESSIONS',
  'ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL',
  'ONCE_HTTP_SESSION_IDLE',
  /** HTTP mode: the bearer token(s) GET /metrics answers to (a scraper's own, never a buyer's). */
  'ONCE_METRICS_TOKEN',
  'ONCE_CATALOG',
  'ONCE_LOG',
  'ONCE_RATE_LIMIT',
  'ONCE_SANDBOX_FAULTS',
  'ONCE_SANDBOX_SEED',
] as const;

const LEVELS: LogLevel[] = ['debug', 'info', 'warn'];

function duration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError(name, `"${value}" is not a duration`, 'Write it like 30s, 15m, 23h or 1h30m');
  return ms;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  for (const name of Object.keys(env)) {
    if (name.startsWith('ONCE_') && !name.startsWith('ONCE_TEST_') && !(KNOWN_VARIABLES as readonly string[]).includes(name)) {
      throw new ConfigError(name, 'is not a once-checkout setting', `Remove it or use one of ${KNOWN_VARIABLES.join(', ')}`);
    }
  }

  const backend = (env.ONCE_BACKEND?.trim() || 'sandbox') as BackendName;
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new ConfigError('ONCE_BACKEND', `"${env.ONCE_BACKEND}" is not a backend`, `Use one of ${BACKEND_NAMES.join(', ')}`);
  }

  const logLevel = (env.ONCE_LOG?.trim() || 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new ConfigError('ONCE_LOG', `"${env.ONCE_LOG}" is not a log level`, `Use one of ${LEVELS.join(', ')}`);

  const principal = env.ONCE_PRINCIPAL?.trim() || 'local';
  if (!/^[A-Za-z0-9._@:-]{1,128}$/.test(principal)) {
    throw new ConfigError('ONCE_PRINCIPAL', `"${principal}" is not a principal name`, 'Use 1-128 letters, digits or . _ @ : -');
  }

  const ttlMs = duration(env, 'ONCE_TTL');
  const windowMs = duration(env, 'ONCE_DEDUP_WINDOW') ?? HOUR;
  if (ttlMs !== undefined && windowMs > ttlMs) {
    throw new ConfigError('ONCE_DEDUP_WINDOW', `the window is longer than ONCE_TTL`, 'Make the dedup window at most the record TTL (R3 in docs/guarantees.md)');
  }

  let maxOrderAmount: number | undefined;
  const cap = env.ONCE_MAX_ORDER_AMOUNT?.trim();
  if (cap) {
    if (!/^\d+$/.test(cap) || !Number.isSafeInteger(Number(cap)) || Number(cap) <= 0) {
      throw new ConfigError('ONCE_MAX_ORDER_AMOUNT', `"${cap}" is not a positive whole amount`, 'Give the cap in integer minor units, e.g. 5000 for 50.00 USD');
    }
    maxOrderAmount = Number(cap);
  }

  const rateLimitPerMinute = rateLimit(env.ONCE_RATE_LIMIT);

  const maxSessions = count(env, 'ONCE_HTTP_MAX_SESSIONS') ?? DEFAULT_HTTP_LIMITS.maxSessions;
  const maxSessionsPerPrincipal = count(env, 'ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL') ?? Math.min(DEFAULT_HTTP_LIMITS.maxSessionsPerPrincipal, maxSessions);
  if (maxSessionsPerPrincipal > maxSessions) {
    throw new ConfigError('ONCE_HTTP_MAX_SESSIONS_PER_PRINCIPAL', `${maxSessionsPerPrincipal} is above ONCE_HTTP_MAX_SESSIONS (${maxSessions})`, 'Make the per-principal cap at most the global one');
  }
  const sessionIdleMs = duration(env, 'ONCE_HTTP_SESSION_IDLE') ?? DEFAULT_HTTP_LIMITS.sessionIdleMs;
  if (sessionIdleMs < 1_000) {
    throw new ConfigError('ONCE_HTTP_SESSION_IDLE', `"${env.ONCE_HTTP_SESSION_IDLE}" is under a second`, 'Write it like 10m or 30m');
  }
  const http = { maxSessions, maxSessionsPerPrincipal, sessionIdleMs };

  return { store: parseStoreUrl(env.ONCE_STORE, env), backend, principal, ttlMs, windowMs, maxOrderAmount, rateLimitPerMinute, logLevel, http, env };
}

/** A positive whole number of sessions, or undefined when unset. */
function count(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1_000_000) {
    throw new ConfigError(name, `"${env[name]}" is not a session count`, 'Write a whole number of sessions from 1 up, e.g. 16');
  }
  return Number(text);
}

/** HTTP mode's limit when ONCE_RATE_LIMIT is unset; stdio (one local agent) has none unless set. */
export const DEFAULT_HTTP_RATE_LIMIT = 60;

/** `60`, `60/min`, or `off` (0): mutating calls a principal may make per minute. */
function rateLimit(value: string | undefined): number | undefined {
  const text = value?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === 'off') return 0;
  const match = /^(\d+)(?:\/min)?$/.exec(text);
  if (!match || !Number.isSafeInteger(Number(match[1]))) {
    throw new ConfigError('ONCE_RATE_LIMIT', `"${value}" is not a rate`, 'Write the mutating calls allowed per principal per minute, e.g. 60 or 60/min, or off');
  }
  return Number(match[1]);
}
