// The sandbox's UCP REST binding (checkout-rest.md) under /ucp: POST /checkout-sessions (201), GET and PUT
// /checkout-sessions/{id}, POST …/complete and …/cancel. UCP-Agent is required on every request and
// Idempotency-Key on every state change; protocol errors are `{code, content}` with their HTTP status.
import type { UcpMerchant, UcpOperation } from './ucp-merchant.js';
import { jsonReply, profileOf, type HttpReply } from './ucp-reply.js';
import { sessionPath } from './session-path.js';

export type RestRoute = { operation: UcpOperation; id?: string } | { operation: 'none'; status: 404 | 405 };

/** The operation a method and a path below /ucp name. */
export function restRoute(method: string, path: string): RestRoute {
  const at = sessionPath(path, 'checkout-sessions');
  if (!at) return { operation: 'none', status: 404 };
  const { id, action } = at;
  if (id === undefined) return method === 'POST' ? { operation: 'create' } : { operation: 'none', status: 405 };
  if (action === undefined) {
    if (method === 'GET') return { operation: 'get', id };
    return method === 'PUT' ? { operation: 'update', id } : { operation: 'none', status: 405 };
  }
  if (action === 'complete' || action === 'cancel') return method === 'POST' ? { operation: action, id } : { operation: 'none', status: 405 };
  return { operation: 'none', status: 404 };
}

export interface RestCall {
  route: RestRoute;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** The bearer token's identity, when one was sent. */
  bearer?: string;
  completeInProgress: boolean;
}

export async function restReply(merchant: UcpMerchant, call: RestCall): Promise<HttpReply> {
  const requestId = call.headers['request-id'];
  const echo: Record<string, string> = requestId ? { 'Request-Id': requestId } : {};
  const { route } = call;
  if (route.operation === 'none') {
    return jsonReply(route.status, { code: route.status === 404 ? 'not_found' : 'method_not_allowed', content: 'No such UCP operation.' }, echo);
  }
  const profile = profileOf(call.headers['ucp-agent']);
  if (profile === undefined) {
    return jsonReply(400, { code: 'invalid_profile_url', content: 'The UCP-Agent header must be profile="<https URL of your profile>".' }, echo);
  }
  const { answer, replayed } = await merchant.handle({
    operation: route.operation,
    id: route.id,
    body: route.operation === 'get' || route.operation === 'cancel' ? undefined : call.body,
    identity: call.bearer ?? `profile:${profile}`,
    idempotencyKey: call.headers['idempotency-key'],
    keyRequired: route.operation !== 'get',
    completeInProgress: call.completeInProgress,
  });
  const headers: Record<string, string> = { ...echo };
  if (replayed) headers['Idempotent-Replayed'] = 'true';
  if (answer.kind === 'resource') return jsonReply(answer.status, answer.body, headers);
  if (answer.retryAfterSeconds !== undefined) headers['Retry-After'] = String(answer.retryAfterSeconds);
  return jsonReply(answer.status, { code: answer.code, content: answer.content }, headers);
}
