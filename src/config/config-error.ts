// A configuration mistake: one line naming the variable and the fix, and start-up stops.
import { SECRET_PARAM } from '../store/store.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
    fix: string,
  ) {
    super(`${variable}: ${problem}. ${fix}`);
    this.name = 'ConfigError';
  }
}

/**
 * A settings check that words its own line (a backend's settings, the catalog, the sandbox's faults) becomes a
 * ConfigError with that line kept, so every configuration mistake exits the same way (78, EX_CONFIG).
 */
export function asConfigError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ConfigError) return error;
  const variable = /^[A-Z][A-Z0-9_]{2,}/.exec(error.message)?.[0];
  if (variable === undefined) return error; // not a settings line: a defect, reported as one
  const config = new ConfigError(variable, '', '');
  config.message = error.message;
  return config;
}

/**
 * A setting's value as a message may quote it: a URL's password (`//user:password@`) and secret-named query
 * parameters masked, also when the value does not parse as a URL (R10).
 */
export function maskCredentials(value: string): string {
  return value.replace(/(\/\/[^/@\s]*?:)[^@\s]*@/g, '$1***@').replace(SECRET_QUERY_VALUE, '$1***');
}

/** A query parameter whose name says it carries a credential (as store URLs are masked, store.ts), and its value. */
const SECRET_QUERY_VALUE = new RegExp(`([?&;][^=&;\\s]*(?:${SECRET_PARAM.source})[^=&;\\s]*=)[^&;\\s'"]*`, 'gi');
