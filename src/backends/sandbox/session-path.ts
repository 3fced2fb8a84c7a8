// The checkout session id (and the action after it) read out of a request path, once for both sides of the
// sandbox: `/<collection>`, `/<collection>/<id>` or `/<collection>/<id>/<action>` (ACP's checkout_sessions,
// UCP's checkout-sessions). Anything else is not a session path. An id that is not valid percent-encoding is
// kept as written: no session has it, so it is not found (a 404), never a failure of the merchant.

export interface SessionPath {
  id?: string;
  action?: string;
}

/** The parts of a session path, or undefined when the path is not one. */
export function sessionPath(path: string, collection: string): SessionPath | undefined {
  const parts = path.split('?')[0].split('/').filter((p) => p !== '');
  if (parts[0] !== collection || parts.length > 3) return undefined;
  return { id: parts[1] === undefined ? undefined : decoded(parts[1]), action: parts[2] };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
