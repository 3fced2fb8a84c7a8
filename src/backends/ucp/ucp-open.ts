// ONCE_BACKEND=ucp from the environment: the settings (one line on any mistake), the endpoint (read from
// /.well-known/ucp for UCP_BUSINESS_URL), and the address that must answer before an agent buys.
import type { Store } from '../../store/store.js';
import type { PreparedBackend } from '../backend.js';
import { UcpBackend } from './ucp-backend.js';
import { readUcpConfig } from './ucp-config.js';
import { resolveEndpoint } from './ucp-discovery.js';

export async function prepareUcpBackend(env: Readonly<Record<string, string | undefined>>, store: Store): Promise<PreparedBackend> {
  const config = readUcpConfig(env);
  const endpoint = await resolveEndpoint(config);
  return { backend: new UcpBackend({ ...config, endpoint, store }), endpoint: { variable: endpoint.variable, url: endpoint.url.href } };
}
