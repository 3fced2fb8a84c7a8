// One UCP call and its answer, whatever carries it (REST or MCP): the backend speaks only these.
export type UcpOperation = 'create' | 'get' | 'update' | 'complete' | 'cancel';

export interface UcpCall {
  operation: UcpOperation;
  /** The checkout id, for every operation but create. */
  id?: string;
  /** The `checkout` payload (REST body; MCP `checkout` argument). */
  checkout?: Record<string, unknown>;
  /** The ledger's key (a UUID) on every state-changing call (R1); never on get. */
  idempotencyKey?: string;
  /** A UUID for tracing (REST Request-Id). */
  requestId: string;
}

export type UcpReply =
  /**
   * The business answered. `status` is the HTTP status (REST, or MCP's HTTP status for a protocol error); an MCP
   * result is 200. `body` is the checkout or error response, or a protocol error's `{code, content}`.
   */
  | { kind: 'reply'; status: number; body: unknown; retryAfter?: string; requestId?: string }
  /** Timeout, reset, refused, cut-off or unreadable answer: the business may or may not have acted. */
  | { kind: 'no_reply'; reason: string };

export interface UcpTransport {
  send(call: UcpCall): Promise<UcpReply>;
  close?(): Promise<void>;
}

