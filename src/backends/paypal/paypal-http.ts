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

export interface PaypalHttp {
  send(request: PaypalRequest): Promise<PaypalReply>;
  /** What must never appear in a result: the client secret, its Basic form and the access tokens issued. */
  secrets?(): string[];
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

export function createPaypalHttp(options: PaypalHttpOptions): PaypalHttp {
  const now = options.now ?? Date.now;
  const base = options.apiBase.replace(/\/+$/, '');
  let cached: { token: string; expiresAt: number } | undefined;
  /** Every access token this process was issued (a few a day), so an echo of an old one is redacted too. */
  const issued = new Set<string>();

  async function call(url: string, init: FetchInit): Promise<PaypalReply> {
    let response: Response;
    try {
      response = await tracedFetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (err) {
      return { kind: 'no_reply', reason: describeFetchError(err, base, options.timeoutMs) };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      return { kind: 'no_reply', reason: `PayPal's reply was cut off: ${describeFetchError(err, base, options.timeoutMs)}` };
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

  async function token(): Promise<{ ok: true; token: string } | { ok: false; reply: PaypalReply }> {
    if (cached && now() < cached.expiresAt) return { ok: true, token: cached.token };
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    const reply = await call(`${base}/v1/oauth2/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
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
    issued.add(body.access_token);
    cached = { token: body.access_token, expiresAt: now() + Math.max(0, lifetimeMs - TOKEN_MARGIN_MS) };
    return { ok: true, token: body.access_token };
  }

  async function sendOnce(request: PaypalRequest, accessToken: string): Promise<PaypalReply> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${accessToken}`,
      Accept: 'application/json',
      Prefer: 'return=representation',
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.requestId !== undefined) headers['PayPal-Request-Id'] = request.requestId;
    return call(`${base}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  }

  return {
    secrets() {
      const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
      return [options.clientSecret, basic, ...issued];
    },
    async send(request) {
      const first = await token();
      if (!first.ok) return first.reply;
      const reply = await sendOnce(request, first.token);
      if (reply.kind !== 'reply' || reply.status !== 401) return reply;
      // An expired or revoked token: PayPal ran nothing, so one resend with a fresh token (same request id) is safe.
      cached = undefined;
      const second = await token();
      if (!second.ok) return second.reply;
      return sendOnce(request, second.token);
    },
  };
}

function describeFetchError(err: unknown, base: string, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no reply from PayPal within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return `could not reach PayPal at ${base} (${cause})`;
}
