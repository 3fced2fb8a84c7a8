// ONCE_BACKEND selects the backend; each reads its own settings and refuses bad ones in one line.
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { Backend } from './backend.js';
import { assertReachable } from './reachability.js';

export async function openBackend(config: Config, store: Store): Promise<Backend> {
  switch (config.backend) {
    case 'sandbox': {
      const { createSandboxBackend } = await import('./sandbox/backend.js');
      const { faultsFromEnv } = await import('./sandbox/faults.js');
      return createSandboxBackend({ store, ...faultsFromEnv(config.env) });
    }
    case 'acp': {
      const { AcpBackend } = await import('./acp/acp-backend.js');
      const { readAcpConfig } = await import('./acp/acp-config.js');
      const options = readAcpConfig(config.env);
      await assertReachable('ACP_BASE_URL', options.baseUrl.href);
      return new AcpBackend(options);
    }
    case 'stripe': {
      const { createStripeBackend } = await import('./stripe/stripe-backend.js');
      const { validateStripeConfig } = await import('./stripe/stripe-config.js');
      const options = validateStripeConfig(config.env);
      await assertReachable('STRIPE_API_BASE', options.apiBase ?? 'https://api.stripe.com');
      return createStripeBackend(options);
    }
    case 'paypal': {
      const { createPaypalBackend } = await import('./paypal/paypal-backend.js');
      const { validatePaypalConfig } = await import('./paypal/paypal-config.js');
      const options = validatePaypalConfig(config.env);
      await assertReachable('PAYPAL_API_BASE', options.apiBase);
      return createPaypalBackend(options);
    }
    default: {
      const { ConfigError } = await import('../config/config-error.js');
      throw new ConfigError('ONCE_BACKEND', `the ${config.backend} backend is not available in this build`, 'Use ONCE_BACKEND=sandbox');
    }
  }
}
