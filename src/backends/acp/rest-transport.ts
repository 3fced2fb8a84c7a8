// ACP over REST (fetch): one request, one reply or "no reply". Every POST carries the ledger's Idempotency-Key;
// GET carries none. The bearer token goes only into the Authorization header, never into a reason.
import { VERSION } from '../../version.js';
import { isMutating, restPath, type AcpCall, type AcpReply, type AcpTransport } from './transport.js';

export interface RestTransportOptions {
  baseUrl: URL;
  apiKey: string;
  timeoutMs: number;
}

/** What we keep of a body that is not JSON, for an excerpt in our message. */
const TEXT_KEPT = 2_000;

export class RestTransport implements AcpTransport {
  readonly description: string;
  private readonly base: string;

  constructor(private readonly options: RestTransportOptions) {
    this.base = options.baseUrl.href.replace(/\/+$/, '');
    this.description = `REST ${this.base}`;
  }

  async send(call: AcpCall): Promise<AcpReply> {
    const post = isMutating(call.operation);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.options.apiKey}`,
      'API-Version': call.apiVersion,
      'User-Agent': `once-checkout/${VERSION}`,
      Accept: 'application/json',
    };
    if (call.requestId) headers['Request-Id'] = call.requestId;
    if (post) {
      if (!call.idempotencyKey) throw new Error('acp: a POST without an Idempotency-Key is a bug (R1)');
      headers['Idempotency-Key'] = call.idempotencyKey;
      headers['Content-Type'] = 'application/json';
    }
    return this.fetchJson(`${this.base}${restPath(call)}`, {
      method: post ? 'POST' : 'GET',
      headers,
      body: post ? JSON.stringify(call.body ?? {}) : undefined,
    });
  }

  async discover(): Promise<unknown> {
    // RFC discovery: at the origin root, without a bearer token.
    const reply = await this.fetchJson(new URL('/.well-known/acp.json', this.options.baseUrl).href, {
      method: 'GET',
      headers: { Accept: 'application/json', 'User-Agent': `once-checkout/${VERSION}` },
    });
    return reply.kind === 'reply' && reply.status === 200 ? reply.body : undefined;
  }

  private async fetchJson(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<AcpReply> {
    const timeoutMs = this.options.timeoutMs;
    // One signal for the whole exchange, so a body that trickles in past the timeout also counts as no reply.
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal, redirect: 'manual' });
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
      return { kind: 'reply', status: response.status, body: undefined, requestId, retryAfter, text: text.slice(0, TEXT_KEPT) };
    }
    return { kind: 'reply', status: response.status, body, requestId, retryAfter };
  }
}

export function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const words = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return code ? `${code}: ${words}` : words;
}
