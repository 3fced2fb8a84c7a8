// PayPal REST over fetch: an OAuth2 client-credentials token cached until shortly before it expires, and
// requests that end in a reply, no reply (ambiguous), or an authentication failure (configuration).
import { tracedFetch, type FetchInit } from '../../telemetry/http-client.js';

export type PaypalReply =
  | { kind: 'reply'; status: number; body: unknown; debugId?: string }
  /** Timeout, reset, refused: PayPal may or may not have acted. */
  | { kind: 'no_reply'; reason: string }
  /** PayPal refused our credentials: nothing was sent under them. */
  | { kind: 'auth_failed'; message: string };

export interface PaypalRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: unknown;
  /** Sent as PayPal-Request-Id (only where PayPal honours it). */
  requestId?: string;
}

export interface PaypalHttpOptions {
  clientId: string;
  clientSecret: string;
  apiBase: string;
  timeoutMs: number;
  now?: () => number;
}

// Renew this long before PayPal's stated expiry, so a token never dies in flight.
const TOKEN_MARGIN_MS = 60_000;

type Token = { ok: true; token: string } | { ok: false; reply: PaypalReply };

export class PaypalHttp {
  private readonly now: () => number;
  private readonly base: string;
  private cached: { token: string; expiresAt: number } | undefined;
  /** Every access token this process was issued (a few a day), so an echo of an old one is redacted too. */
  private readonly issued = new Set<string>();

  constructor(private readonly options: PaypalHttpOptions) {
    this.now = options.now ?? Date.now;
    this.base = options.apiBase.replace(/\/+$/, '');
  }

  /** What must never appear in a result: the client secret, its Basic form and the access tokens issued. */
  secrets(): string[] {
    return [this.options.clientSecret, this.basicCredentials(), ...this.issued];
  }

  async send(request: PaypalRequest): Promise<PaypalReply> {
    const first = await this.token();
    if (!first.ok) return first.reply;
    const reply = await this.sendOnce(request, first.token);
    if (reply.kind !== 'reply' || reply.status !== 401) return reply;
    // An expired or revoked token: PayPal ran nothing, so one resend with a fresh token (same request id) is safe.
    this.cached = undefined;
    const second = await this.token();
    if (!second.ok) return second.reply;
    return this.sendOnce(request, second.token);
  }

  private basicCredentials(): string {
    return Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString('base64');
  }

  private async call(url: string, init: FetchInit): Promise<PaypalReply> {
    const { timeoutMs } = this.options;
    let response: Response;
    try {
      response = await tracedFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      return { kind: 'no_reply', reason: describeFetchError(err, this.base, timeoutMs) };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      return { kind: 'no_reply', reason: `PayPal's reply was cut off: ${describeFetchError(err, this.base, timeoutMs)}` };
    }
    let body: unknown = text;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the raw text: a proxy's HTML error page, say
      }
    }
    const debugId = response.headers.get('paypal-debug-id') ?? undefined;
    return { kind: 'reply', status: response.status, body, ...(debugId ? { debugId } : {}) };
  }

  /** The cached access token, or a new one from the client credentials. */
  private async token(): Promise<Token> {
    if (this.cached && this.now() < this.cached.expiresAt) return { ok: true, token: this.cached.token };
    const reply = await this.call(`${this.base}/v1/oauth2/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${this.basicCredentials()}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: 'grant_type=client_credentials',
    });
    if (reply.kind !== 'reply') return { ok: false, reply };
    const body = reply.body as { access_token?: string; expires_in?: number; error?: string };
    if (reply.status === 401 || reply.status === 403) {
      return {
        ok: false,
        reply: {
          kind: 'auth_failed',
          message: `PayPal refused the client credentials (${reply.status} ${body.error ?? ''}): check PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET, and that PAYPAL_API_BASE is the matching sandbox or live host`,
        },
      };
    }
    if (reply.status !== 200 || typeof body.access_token !== 'string') {
      // A token we did not get means the real request was never sent; still, let the ledger decide via unknown.
      return { ok: false, reply: { kind: 'no_reply', reason: `PayPal token endpoint answered ${reply.status}` } };
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 0) * 1000;
    this.issued.add(body.access_token);
    this.cached = { token: body.access_token, expiresAt: this.now() + Math.max(0, lifetimeMs - TOKEN_MARGIN_MS) };
    return { ok: true, token: body.access_token };
  }

  private async sendOnce(request: PaypalRequest, accessToken: string): Promise<PaypalReply> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${accessToken}`,
      Accept: 'application/json',
      Prefer: 'return=representation',
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.requestId !== undefined) headers['PayPal-Request-Id'] = request.requestId;
    return this.call(`${this.base}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  }
}

function describeFetchError(err: unknown, base: string, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no reply from PayPal within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return `could not reach PayPal at ${base} (${cause})`;
}
