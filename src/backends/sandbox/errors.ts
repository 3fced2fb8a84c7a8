// ACP's flat protocol Error, for answers that cannot be a valid CheckoutSession (4xx/5xx).
import type { SandboxSession } from './cart.js';

/** `request_not_idempotent` only before 2026-04-17 (a key reused with another body). */
export type AcpErrorType = 'invalid_request' | 'request_not_idempotent' | 'processing_error' | 'service_unavailable';

export interface AcpError {
  type: AcpErrorType;
  code: string;
  message: string;
  param?: string;
  supported_versions?: string[];
}

/** One merchant answer before transport: an HTTP status and an ACP body. */
export type Answer =
  | { status: 200 | 201; body: SandboxSession }
  | { status: number; body: AcpError };

export function acpError(status: number, type: AcpErrorType, code: string, message: string, param?: string): Answer {
  const body: AcpError = param === undefined ? { type, code, message } : { type, code, message, param };
  return { status, body };
}

export function invalid(code: string, message: string, param?: string): Answer {
  return acpError(400, 'invalid_request', code, message, param);
}

export function notFound(id: string): Answer {
  return acpError(404, 'invalid_request', 'checkout_not_found', `No checkout session '${id}' exists.`);
}
