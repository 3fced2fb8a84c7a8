// One HTTP exchange with a merchant or business, read the one way ACP's and UCP's REST bindings both need: an
// answer (status, JSON body, Request-Id, Retry-After) or no reply (timeout, reset, cut-off, a 2xx that is not
// JSON), where the other side may or may not have acted.
import { tracedFetch } from '../telemetry/http-client.js';

export type HttpReply =
  | { kind: 'reply'; status: number; body: unknown; requestId?: string; retryAfter?: string; text?: string }
  | { kind: 'no_reply'; reason: string };

/** How much of a non-JSON error body is kept for the failure's words. */
const TEXT_KEPT = 2_000;

export interface HttpExchange {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Who answers, in the no-reply reasons: `the merchant`, `the business`. */
  party: string;
}

export async function fetchReply(url: string, exchange: HttpExchange): Promise<HttpReply> {
  const { method, headers, body: sent, timeoutMs, party } = exchange;
  // One signal for the whole exchange, so a body that trickles in past the timeout also counts as no reply.
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    // traceparent goes out with every request (src/telemetry/http-client.ts); nothing without an SDK.
    response = await tracedFetch(url, { method, headers, body: sent, signal, redirect: 'manual' });
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
      return { kind: 'no_reply', reason: `${party} answered ${response.status} with a body that is not JSON` };
    }
    return { kind: 'reply', status: response.status, body: undefined, requestId, retryAfter, text: text.slice(0, TEXT_KEPT) };
  }
  return { kind: 'reply', status: response.status, body, requestId, retryAfter };
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
