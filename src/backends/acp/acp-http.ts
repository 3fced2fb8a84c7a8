// ACP over fetch: one request, one reply or "no reply". Every POST carries the ledger's Idempotency-Key;
// GET carries none. The bearer token goes only into the Authorization header, never into a reason.
import { VERSION } from '../../version.js';
import type { AcpConfig } from './acp-config.js';

export type AcpReply =
  | { kind: 'reply'; status: number; body: unknown; requestId?: string; retryAfter?: string }
  /** Timeout, reset, refused, cut-off or unreadable body: the merchant may or may not have acted. */
  | { kind: 'no_reply'; reason: string };

export interface AcpRequest {
  method: 'GET' | 'POST';
  /** Below the base URL, e.g. /checkout_sessions/cs_1/complete. */
  path: string;
  body?: unknown;
  idempotencyKey?: string;
  requestId?: string;
}

export class AcpHttp {
  private readonly base: string;

  constructor(private readonly config: AcpConfig) {
    this.base = config.baseUrl.href.replace(/\/+$/, '');
  }

  async send(request: AcpRequest): Promise<AcpReply> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.config.apiKey}`,
      'API-Version': this.config.apiVersion,
      'User-Agent': `once-checkout/${VERSION}`,
      Accept: 'application/json',
    };
    if (request.requestId) headers['Request-Id'] = request.requestId;
    if (request.method === 'POST') {
      if (!request.idempotencyKey) throw new Error('acp: a POST without an Idempotency-Key is a bug (R1)');
      headers['Idempotency-Key'] = request.idempotencyKey;
      headers['Content-Type'] = 'application/json';
    }
    const timeoutMs = this.config.timeoutMs;
    // One signal for the whole exchange, so a body that trickles in past the timeout also counts as no reply.
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.base}${request.path}`, {
        method: request.method,
        headers,
        body: request.method === 'POST' ? JSON.stringify(request.body ?? {}) : undefined,
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      return { kind: 'no_reply', reason: describeError(error, timeoutMs) };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return { kind: 'no_reply', reason: `the reply was cut off (${describeError(error, timeoutMs)})` };
    }
    const requestId = response.headers.get('request-id') ?? undefined;
    const retryAfter = response.headers.get('retry-after') ?? undefined;
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      if (response.status >= 200 && response.status < 300) {
        return { kind: 'no_reply', reason: `the merchant answered ${response.status} with a body that is not JSON` };
      }
      body = undefined;
    }
    return { kind: 'reply', status: response.status, body, requestId, retryAfter };
  }
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const words = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return code ? `${code}: ${words}` : words;
}
