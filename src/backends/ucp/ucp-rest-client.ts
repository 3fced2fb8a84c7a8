// UCP's REST binding over fetch (checkout-rest.md): POST /checkout-sessions, GET and PUT /checkout-sessions/{id},
// POST …/complete and …/cancel below the endpoint. Every request carries UCP-Agent and a Request-Id; every
// state change the ledger's Idempotency-Key. The bearer token goes only into Authorization.
import { VERSION } from '../../version.js';
import { fetchReply } from '../http-reply.js';
import type { UcpCall, UcpReply, UcpTransport } from './ucp-wire.js';

export interface RestOptions {
  endpoint: URL;
  agentProfile: string;
  apiKey?: string;
  timeoutMs: number;
}

const METHOD = { create: 'POST', get: 'GET', update: 'PUT', complete: 'POST', cancel: 'POST' } as const;

export function restPath(call: Pick<UcpCall, 'operation' | 'id'>): string {
  if (call.operation === 'create') return '/checkout-sessions';
  const session = `/checkout-sessions/${encodeURIComponent(call.id ?? '')}`;
  return call.operation === 'complete' || call.operation === 'cancel' ? `${session}/${call.operation}` : session;
}

export class UcpRestClient implements UcpTransport {
  private readonly base: string;

  constructor(private readonly options: RestOptions) {
    this.base = options.endpoint.href.replace(/\/+$/, '');
  }

  async send(call: UcpCall): Promise<UcpReply> {
    const method = METHOD[call.operation];
    const headers: Record<string, string> = {
      'UCP-Agent': `profile="${this.options.agentProfile}"`,
      'Request-Id': call.requestId,
      'User-Agent': `once-checkout/${VERSION}`,
      Accept: 'application/json',
    };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    if (method !== 'GET') {
      if (!call.idempotencyKey) throw new Error(`ucp: a ${call.operation} without an Idempotency-Key is a bug (R1)`);
      headers['Idempotency-Key'] = call.idempotencyKey;
      headers['Content-Type'] = 'application/json';
    }
    return fetchReply(`${this.base}${restPath(call)}`, {
      method,
      headers,
      body: method === 'GET' ? undefined : JSON.stringify(call.checkout ?? {}),
      timeoutMs: this.options.timeoutMs,
      party: 'the business',
    });
  }
}
