// The sandbox merchant as an ACP transport without a network: the same `handle` the HTTP server calls, so the
// in-process sandbox backend speaks the very protocol path (requests.ts, acp-answer.ts) the acp backend does.
import { restPath, isMutating, type AcpCall, type AcpReply, type AcpTransport } from '../acp/transport.js';
import type { SandboxMerchant } from './merchant.js';

/** The caller identity the in-process backend presents (keys are scoped per identity). */
export const SANDBOX_IDENTITY = 'once-checkout';

export class InProcessTransport implements AcpTransport {
  readonly description = 'the in-process sandbox merchant';

  constructor(private readonly merchant: SandboxMerchant) {}

  async send(call: AcpCall): Promise<AcpReply> {
    const response = await this.merchant.handle({
      method: isMutating(call.operation) ? 'POST' : 'GET',
      path: restPath(call),
      identity: SANDBOX_IDENTITY,
      idempotencyKey: call.idempotencyKey,
      body: isMutating(call.operation) ? call.body : undefined,
      requestId: call.requestId,
      apiVersion: call.apiVersion,
    });
    return { kind: 'reply', status: response.status, body: response.body, requestId: response.headers['Request-Id'], retryAfter: response.headers['Retry-After'] };
  }

  async discover(): Promise<unknown> {
    return this.merchant.discovery('https://sandbox.once-checkout.invalid', ['rest']);
  }
}
