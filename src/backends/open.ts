// ONCE_BACKEND selects the backend; each reads its own settings and refuses bad ones in one line.
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { Backend } from './backend.js';

export async function openBackend(config: Config, store: Store): Promise<Backend> {
  switch (config.backend) {
    case 'sandbox': {
      const { createSandboxBackend } = await import('./sandbox/backend.js');
      const { faultsFromEnv } = await import('./sandbox/faults.js');
      return createSandboxBackend({ store, ...faultsFromEnv(config.env) });
    }
    default: {
      const { ConfigError } = await import('../config/config-error.js');
      throw new ConfigError('ONCE_BACKEND', `the ${config.backend} backend is not available in this build`, 'Use ONCE_BACKEND=sandbox');
    }
  }
}
