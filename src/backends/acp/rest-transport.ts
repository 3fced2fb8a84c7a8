// ACP over REST (fetch): one request, one reply or "no reply". Every POST carries the ledger's Idempotency-Key;
// GET carries none. The bearer token goes only into the Authorization header, never into a reason.
import { VERSION } from '../../version.js';
import { fetchReply } from '../http-reply.js';
import { isMutating, restPath, type AcpCall, type AcpReply, type AcpTransport } from './transport.js';

export interface RestTransportOptions {
  baseUrl: URL;
  apiKey: string;
  timeoutMs: number;
}

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

  private fetchJson(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<AcpReply> {
    return fetchReply(url, { ...init, timeoutMs: this.options.timeoutMs, party: 'the merchant' });
  }
}
