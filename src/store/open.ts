// ONCE_STORE selects the store by URL.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { Store } from './store.js';
import { classifyStoreError } from './store-fault.js';
import { NoLedgerError, storeRefusal } from './store-refusal.js';

export type StoreUrl =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'redis'; url: string }
  | { kind: 'memory' };

const EXAMPLES = 'Use sqlite:///absolute/path.db, postgres://user@host:5432/db, redis://host:6379/0, or memory:// (tests only)';

export function defaultSqlitePath(env: NodeJS.ProcessEnv = process.env): string {
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
    scheme ? `the scheme "${scheme}:" is not a known store` : `"${url}" is not a store URL`,
    EXAMPLES,
  );
}

export interface OpenOptions {
  /**
   * For commands that only read (ledger, doctor, reconcile): never create a file, directory or table; a
   * ledger that is not there is a NoLedgerError ("no ledger at …").
   */
  mustExist?: boolean;
}

/** Opens the store; a fault no retry can fix (a path that cannot hold the file) is one ONCE_STORE line. */
export async function openStore(url: StoreUrl, options: OpenOptions = {}): Promise<Store> {
  const mustExist = options.mustExist ?? false;
  try {
    switch (url.kind) {
      case 'sqlite':
        if (mustExist && !existsSync(url.path)) throw new NoLedgerError(url, 'no such file');
        return await (await import('./sqlite.js')).openSqliteStore(url.path);
      case 'postgres':
        return await (await import('./postgres.js')).openPostgresStore(url.url, { create: !mustExist });
      case 'redis':
        return await (await import('./redis.js')).openRedisStore(url.url);
      case 'memory':
        if (mustExist) throw new NoLedgerError(url, 'a memory store lives only inside the process that made it');
        return (await import('./memory.js')).openMemoryStore();
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const fault = classifyStoreError(error);
    throw fault.transient ? error : storeRefusal(url, error, fault);
  }
}
