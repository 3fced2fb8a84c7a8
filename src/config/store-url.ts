// ONCE_STORE selects the store by URL: parsed here, with the configuration's errors; opened by store/open.ts.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { StoreUrl } from '../store/store.js';
import { ConfigError, maskCredentials } from './config-error.js';

const EXAMPLES = 'Use sqlite:///absolute/path.db, postgres://user@host:5432/db, redis://host:6379/0, or memory:// (tests only)';

function defaultSqlitePath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'once-checkout', 'ledger.db');
}

export function parseStoreUrl(value: string | undefined, env: NodeJS.ProcessEnv = process.env): StoreUrl {
  if (value === undefined || value.trim() === '' || value.trim() === 'sqlite://') {
    return { kind: 'sqlite', path: defaultSqlitePath(env) };
  }
  const url = value.trim();
  if (url === 'memory://') return { kind: 'memory' };
  if (url.startsWith('sqlite://')) {
    const path = decodeURIComponent(url.slice('sqlite://'.length));
    if (!isAbsolute(path)) {
      throw new ConfigError('ONCE_STORE', `the SQLite path "${path}" is not absolute`, 'Write it as sqlite:///absolute/path.db (three slashes)');
    }
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      const parsed = new URL(url);
      if (!parsed.hostname) throw new Error('no host');
    } catch {
      throw new ConfigError('ONCE_STORE', 'the PostgreSQL URL cannot be parsed', `${EXAMPLES}`);
    }
    return { kind: 'postgres', url };
  }
  if (/^rediss?:\/\//.test(url)) {
    try {
      const parsed = new URL(url);
      if (!parsed.hostname) throw new Error('no host');
      if (!/^\/?(\d*)$/.test(parsed.pathname)) throw new Error('the path is not a database number');
    } catch {
      throw new ConfigError('ONCE_STORE', 'the Redis URL cannot be parsed', 'Write it as redis://[:password@]host:6379[/db] (rediss:// for TLS)');
    }
    return { kind: 'redis', url };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new ConfigError(
    'ONCE_STORE',
    scheme ? `the scheme "${scheme}:" is not a known store` : `"${maskCredentials(url)}" is not a store URL`,
    EXAMPLES,
  );
}
