// ONCE_BACKEND=acp: any ACP merchant, of any released version (or `auto`), over REST (ACP_BASE_URL) or over
// ACP's own MCP binding (ACP_MCP_URL). The protocol is AcpClient's; this file only picks the transport.
import { HOUR } from '../../config/duration.js';
import type { Backend, Retention } from '../backend.js';
import { AcpClient, type InFlightPolicy } from './acp-client.js';
import { AcpClientBackend } from './acp-client-backend.js';
import { merchantIdentity, type AcpConfig } from './acp-config.js';
import { McpTransport } from './mcp-transport.js';
import { RestTransport } from './rest-transport.js';
import type { AcpTransport } from './transport.js';

export interface AcpBackendOptions extends AcpConfig {
  inFlight?: InFlightPolicy;
  sleep?: (ms: number) => Promise<void>;
}

export function transportFor(config: Pick<AcpConfig, 'endpoint' | 'apiKey' | 'timeoutMs'>): AcpTransport {
  const { endpoint, apiKey, timeoutMs } = config;
  return endpoint.transport === 'mcp'
    ? new McpTransport({ url: endpoint.url, apiKey, timeoutMs })
    : new RestTransport({ baseUrl: endpoint.url, apiKey, timeoutMs });
}

export class AcpBackend extends AcpClientBackend implements Backend {
  readonly name = 'acp' as const;
  readonly merchant: string;
  readonly retention: Retention = {
    providerMs: 24 * HOUR,
    defaultTtlMs: 23 * HOUR,
    description: 'ACP merchants keep Idempotency-Key answers for at least 24 h',
  };
  readonly client: AcpClient;

  constructor(options: AcpBackendOptions) {
    super();
    this.merchant = `acp:${merchantIdentity(options.endpoint.url)}`;
    this.client = new AcpClient({
      transport: transportFor(options),
      version: options.apiVersion,
      secrets: [options.apiKey],
      inFlight: options.inFlight,
      sleep: options.sleep,
    });
  }


  /** The protocol in use, for the start-up log and doctor: `ACP 2026-01-30 over MCP http://… (auto: …)`. */
  async describeProtocol(): Promise<string> {
    const { version, how } = await this.client.protocol();
    return `ACP ${version} over ${this.client.transport.description} (${how})`;
  }

  async close(): Promise<void> {
    await this.client.transport.close?.();
  }
}
