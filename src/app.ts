// Everything one server process needs, assembled from the configuration: store, backend, ledger, engine.
import type { Backend } from './backends/backend.js';
import { openBackend } from './backends/open.js';
import { Checkouts } from './checkout/checkouts.js';
import type { Config } from './config/config.js';
import { effectiveTtl } from './config/retention.js';
import { Ledger } from './ledger/ledger.js';
import { createLogger, type Logger } from './log.js';
import { openStore, type OpenOptions } from './store/open.js';
import type { Store } from './store/store.js';

export interface App {
  config: Config;
  store: Store;
  backend: Backend;
  ledger: Ledger;
  checkouts: Checkouts;
  logger: Logger;
  close(): Promise<void>;
}

/** `mustExist` for operator commands: they work on the server's ledger and never create one. */
export async function openApp(config: Config, logger: Logger = createLogger(config.logLevel), options: OpenOptions = {}): Promise<App> {
  const store = await openStore(config.store, options);
  if (config.store.kind === 'memory') logger.log('warn', 'memory_store', { message: 'ONCE_STORE=memory:// keeps nothing after exit; use it for tests only' });
  try {
    const backend = await openBackend(config, store);
    const ttlMs = effectiveTtl(config.ttlMs, backend.retention, config.windowMs);
    const ledger = new Ledger({ store, ttlMs, keyShape: backend.keyShape });
    const checkouts = new Checkouts({ ledger, backend, windowMs: config.windowMs, maxOrderAmount: config.maxOrderAmount });
    return {
      config,
      store,
      backend,
      ledger,
      checkouts,
      logger,
      async close() {
        await backend.close?.();
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
