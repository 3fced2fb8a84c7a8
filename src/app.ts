// Everything one server process needs, assembled from the configuration: store, backend, ledger, engine.
import type { Backend } from './backends/backend.js';
import { instrumentedBackend } from './backends/instrumented.js';
import { openBackend } from './backends/open.js';
import { Checkouts } from './checkout/checkouts.js';
import type { Config } from './config/config.js';
import { effectiveTtl } from './config/retention.js';
import { Ledger } from './ledger/ledger.js';
import { createLogger, type Logger } from './log.js';
import { instrumentedStore } from './store/instrumented.js';
import { openStore, type OpenOptions } from './store/open.js';
import type { Store } from './store/store.js';
import { ledgerObserver } from './telemetry/ledger-observer.js';
import { instrumented, NO_TELEMETRY, type Telemetry } from './telemetry/telemetry.js';

export interface App {
  config: Config;
  store: Store;
  backend: Backend;
  ledger: Ledger;
  checkouts: Checkouts;
  logger: Logger;
  close(): Promise<void>;
}

/** What serve or a command opens the app with besides the configuration. */
export interface AppOptions extends OpenOptions {
  /** Traces and metrics (serve); without it, nothing is wrapped. */
  telemetry?: Telemetry;
}

/** `mustExist` for operator commands: they work on the server's ledger and never create one. */
export async function openApp(config: Config, logger: Logger = createLogger(config.logLevel), options: AppOptions = {}): Promise<App> {
  const { telemetry = NO_TELEMETRY, ...openOptions } = options;
  const opened = await openStore(config.store, openOptions);
  if (config.store.kind === 'memory') logger.log('warn', 'memory_store', { message: 'ONCE_STORE=memory:// keeps nothing after exit; use it for tests only' });
  // Traced and timed only when telemetry is on; otherwise the very objects the engine always used.
  const observed = instrumented(telemetry);
  const store = observed ? instrumentedStore(opened, config.store.kind, telemetry) : opened;
  try {
    // The sandbox merchant keeps its state in the same store: its reads are the merchant's, not the ledger's.
    const opens = await openBackend(config, opened);
    const backend = observed ? instrumentedBackend(opens, telemetry) : opens;
    const ttlMs = effectiveTtl(config.ttlMs, backend.retention, config.windowMs);
    const ledger = new Ledger({ store, ttlMs, keyShape: backend.keyShape, observer: observed ? ledgerObserver(telemetry) : undefined });
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
