// Opens the store a parsed ONCE_STORE names (config/store-url.ts parses it), loading only that store's driver.
import { existsSync } from 'node:fs';
import type { Store, StoreUrl } from './store.js';
import { classifyStoreError } from './store-fault.js';
import { NoLedgerError, storeRefusal } from './store-refusal.js';

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
    if (error instanceof NoLedgerError) throw error;
    const fault = classifyStoreError(error);
    throw fault.transient ? error : storeRefusal(url, error, fault);
  }
}
