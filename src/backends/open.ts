// ONCE_BACKEND selects the backend; each reads its own settings and refuses bad ones in one line.
import type { Config } from '../config/config.js';
import { asConfigError, ConfigError } from '../config/config-error.js';
import type { Store } from '../store/store.js';
import type { Backend, PreparedBackend } from './backend.js';
import { assertReachable } from './reachability.js';

export async function openBackend(config: Config, store: Store): Promise<Backend> {
  const { backend, endpoint } = await prepareBackend(config, store);
  if (endpoint) {
    try {
      await assertReachable(endpoint.variable, endpoint.url);
    } catch (error) {
      await backend.close?.().catch(() => {});
      throw error;
    }
  }
  return backend;
}

/** Step one of openBackend, on its own so `doctor` can check settings, retention and reachability apart. */
export async function prepareBackend(config: Config, store: Store): Promise<PreparedBackend> {
  try {
    return await fromSettings(config, store);
  } catch (error) {
    throw asConfigError(error); // every settings mistake exits as a configuration error (78)
  }
}

async function fromSettings(config: Config, store: Store): Promise<PreparedBackend> {
  switch (config.backend) {
    case 'sandbox': {
      const { SandboxBackend } = await import('./sandbox/sandbox-backend.js');
      const { readSandboxConfig } = await import('./sandbox/sandbox-config.js');
      return { backend: new SandboxBackend({ store, ...readSandboxConfig(config.env) }) };
    }
    case 'acp': {
      const { AcpBackend } = await import('./acp/acp-backend.js');
      const { readAcpConfig } = await import('./acp/acp-config.js');
      const options = readAcpConfig(config.env);
      const variable = options.endpoint.transport === 'mcp' ? 'ACP_MCP_URL' : 'ACP_BASE_URL';
      return { backend: new AcpBackend(options), endpoint: { variable, url: options.endpoint.url.href } };
    }
    case 'ucp': {
      const { prepareUcpBackend } = await import('./ucp/ucp-open.js');
      return prepareUcpBackend(config.env, store);
    }
    case 'stripe': {
      const { StripeBackend } = await import('./stripe/stripe-backend.js');
      const { readStripeConfig } = await import('./stripe/stripe-config.js');
      const options = readStripeConfig(config.env);
      return { backend: new StripeBackend(options), endpoint: { variable: 'STRIPE_API_BASE', url: options.apiBase ?? 'https://api.stripe.com' } };
    }
    case 'paypal': {
      const { PaypalBackend } = await import('./paypal/paypal-backend.js');
      const { readPaypalConfig } = await import('./paypal/paypal-config.js');
      const options = readPaypalConfig(config.env);
      return { backend: new PaypalBackend(options), endpoint: { variable: 'PAYPAL_API_BASE', url: options.apiBase } };
    }
    default: {
      throw new ConfigError('ONCE_BACKEND', `the ${config.backend} backend is not available in this build`, 'Use ONCE_BACKEND=sandbox');
    }
  }
}
