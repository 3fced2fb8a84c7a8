// What carries one ACP call: REST, ACP's MCP binding, or a direct call into the in-process sandbox merchant.
// A transport only moves bytes and says whether an answer came; what the answer means is read in acp-answer.ts,
// and what is sent is built in requests.ts, once for every transport.
import type { AcpVersion } from './versions.js';

export type AcpOperationName = 'create' | 'get' | 'update' | 'complete' | 'cancel';

export interface AcpCall {
  operation: AcpOperationName;
  /** The checkout session id; absent only on create. */
  id?: string;
  /** The request body (REST) or `payload` (MCP); absent on get. */
  body?: Record<string, unknown>;
  apiVersion: AcpVersion;
  /** The ledger's key (R1): on every mutating call, never on get. */
  idempotencyKey?: string;
  requestId?: string;
}

export type AcpReply =
  /**
   * The merchant answered. `status` is the HTTP status over REST; over MCP it is read from the ACP error in a
   * JSON-RPC error (200 for a result), so one reading serves both.
   */
  | { kind: 'reply'; status: number; body: unknown; requestId?: string; retryAfter?: string; text?: string }
  /** Timeout, reset, refused, cut-off or unreadable body, a dropped stream: the merchant may or may not have acted. */
  | { kind: 'no_reply'; reason: string };

export interface AcpTransport {
  /** How this transport is named in logs and doctor, e.g. `REST http://shop/acp`. */
  readonly description: string;
  send(call: AcpCall): Promise<AcpReply>;
  /** The merchant's /.well-known/acp.json, when it serves one (RFC discovery); undefined otherwise. */
  discover(): Promise<unknown>;
  close?(): Promise<void>;
}

/** The REST path of a call, below the base URL. */
export function restPath(call: Pick<AcpCall, 'operation' | 'id'>): string {
  if (call.operation === 'create') return '/checkout_sessions';
  const session = `/checkout_sessions/${encodeURIComponent(call.id ?? '')}`;
  if (call.operation === 'complete') return `${session}/complete`;
  if (call.operation === 'cancel') return `${session}/cancel`;
  return session;
}

export function isMutating(operation: AcpOperationName): boolean {
  return operation !== 'get';
}
