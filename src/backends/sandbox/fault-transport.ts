// ONCE_SANDBOX_FAULTS around any ACP transport: error_5xx answers 503 before anything is sent; timeout sends
// half the time, then gives up; lose_response sends, then drops the answer; crash_after_commit sends, then
// crashes this process. What the caller hears is exactly what a network would have done to it.
import type { AcpCall, AcpReply, AcpTransport } from '../acp/transport.js';
import { pickFault, type FaultPlan, type Random } from './faults.js';

export interface FaultTransportOptions {
  faults: FaultPlan;
  rng: Random;
  sleep: (ms: number) => Promise<void>;
  timeoutDelayMs: number;
  crash: () => void;
}

export class FaultTransport implements AcpTransport {
  readonly description: string;

  constructor(
    private readonly inner: AcpTransport,
    private readonly options: FaultTransportOptions,
  ) {
    this.description = inner.description;
  }

  async send(call: AcpCall): Promise<AcpReply> {
    const fault = pickFault(this.options.faults, call.operation, this.options.rng);
    if (fault === 'error_5xx') {
      return { kind: 'reply', status: 503, body: { type: 'service_unavailable', code: 'injected_fault', message: 'Injected fault: the merchant is unavailable.' } };
    }
    if (fault === 'timeout') {
      // Half the time the request reached the merchant before the client gave up.
      if (this.options.rng() < 0.5) await this.inner.send(call);
      await this.options.sleep(this.options.timeoutDelayMs);
      return { kind: 'no_reply', reason: 'injected fault: request timed out' };
    }
    const reply = await this.inner.send(call);
    if (fault === 'lose_response') return { kind: 'no_reply', reason: 'response lost' };
    if (fault === 'crash_after_commit' && call.operation !== 'get') this.options.crash();
    return reply;
  }

  discover(): Promise<unknown> {
    return this.inner.discover();
  }
}
