// The sandbox as a Backend: the ACP protocol path (AcpClient) over the in-process merchant, with the faults of
// ONCE_SANDBOX_FAULTS injected between "the merchant acted" and "the client heard". It keeps no ACP bodies of
// its own: what it sends and how it reads the answers is the acp backend's.
import type { Store } from '../../store/store.js';
import { AcpClient } from '../acp/acp-client.js';
import { AcpClientBackend } from '../acp/acp-client-backend.js';
import { LATEST_ACP_VERSION } from '../acp/versions.js';
import { HOUR } from '../../config/duration.js';
import { systemClock } from '../../ledger/clock.js';
import type { Backend, Retention } from '../backend.js';
import { FaultTransport } from './fault-transport.js';
import { NO_FAULTS, parseFaults, type FaultPlan, type Random } from './faults.js';
import { InProcessTransport } from './in-process-transport.js';
import { SandboxMerchant, type SandboxMerchantOptions } from './merchant.js';


export interface SandboxBackendOptions {
  store: Store;
  /** A parsed plan or the ONCE_SANDBOX_FAULTS text. */
  faults?: FaultPlan | string;
  rng?: Random;
  now?: () => number;
  /** How the `timeout` fault waits before giving up; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  timeoutDelayMs?: number;
  /** What `crash_after_commit` does; the default kills this process the hard way. */
  crash?: () => void;
  merchant?: Omit<SandboxMerchantOptions, 'store' | 'now'>;
}

const hardCrash = () => {
  process.kill(process.pid, 'SIGKILL');
};

export class SandboxBackend extends AcpClientBackend implements Backend {
  readonly name = 'sandbox' as const;
  readonly merchant = 'sandbox';
  readonly retention: Retention = {
    providerMs: 24 * HOUR,
    defaultTtlMs: 23 * HOUR,
    description: 'the sandbox merchant keeps Idempotency-Key answers for 24 h (as ACP merchants must)',
  };
  readonly sandbox: SandboxMerchant;
  protected readonly client: AcpClient;

  constructor(options: SandboxBackendOptions) {
    super();
    this.sandbox = new SandboxMerchant({ ...options.merchant, store: options.store, now: options.now });
    const faults = typeof options.faults === 'string' ? parseFaults(options.faults) : (options.faults ?? NO_FAULTS);
    const transport = new FaultTransport(new InProcessTransport(this.sandbox), {
      faults,
      rng: options.rng ?? Math.random,
      sleep: options.sleep ?? systemClock.sleep,
      timeoutDelayMs: options.timeoutDelayMs ?? 20,
      crash: options.crash ?? hardCrash,
    });
    this.client = new AcpClient({ transport, version: LATEST_ACP_VERSION, secrets: [] });
  }


  async describeProtocol(): Promise<string> {
    return `ACP ${LATEST_ACP_VERSION} in process (the sandbox merchant)`;
  }
}
