// A backend whose every result has the secrets it holds (API key, client secret, access token) replaced by
// "[redacted]": a provider or merchant that echoes one back in a message, a reason or a session field must not
// get it into a tool result, a log line or the ledger record.
import { redactDeep } from '../commerce/redact.js';
import type { Backend, BackendResult } from './backend.js';

export function redactingBackend(backend: Backend, secrets: () => readonly string[]): Backend {
  const clean = async (result: Promise<BackendResult>): Promise<BackendResult> => redactDeep(await result, secrets());
  const wrapped: Backend = {
    name: backend.name,
    merchant: backend.merchant,
    retention: backend.retention,
    ...(backend.keyShape ? { keyShape: backend.keyShape } : {}),
    create: (input, ctx) => clean(backend.create(input, ctx)),
    update: (id, input, ctx) => clean(backend.update(id, input, ctx)),
    complete: (id, input, ctx) => clean(backend.complete(id, input, ctx)),
    cancel: (id, input, ctx) => clean(backend.cancel(id, input, ctx)),
    get: (id) => clean(backend.get(id)),
  };
  if (backend.close) wrapped.close = () => backend.close!();
  return wrapped;
}
