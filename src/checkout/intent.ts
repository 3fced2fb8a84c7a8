// The canonical purchase intent and the record keys of each operation (R2, R4, R5).
import type { BackendName } from '../backends/backend.js';
import type { CreateInput, ItemRef, UpdateInput } from '../commerce/inputs.js';
import { canonicalize, type Json } from '../ledger/canonical.js';
import { digest } from '../ledger/keys.js';

/** Line items merged by id (same id twice: quantities added) and sorted by id (R2). */
export function canonicalItems(items: ItemRef[]): ItemRef[] {
  const merged = new Map<string, number>();
  for (const { id, quantity } of items) {
    const key = id.normalize('NFC').trim();
    merged.set(key, (merged.get(key) ?? 0) + quantity);
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, quantity]) => ({ id, quantity }));
}

/** The create intent as a person means it: goods, quantities, currency, buyer and destination (R2). */
export function canonicalCreate(input: CreateInput): CreateInput {
  return canonicalize({
    items: canonicalItems(input.items),
    currency: input.currency.trim().toLowerCase(),
    buyer: input.buyer && { ...input.buyer, email: input.buyer.email.trim().toLowerCase() },
    fulfillment_details: input.fulfillment_details && {
      ...input.fulfillment_details,
      address: input.fulfillment_details.address && {
        ...input.fulfillment_details.address,
        country: input.fulfillment_details.address.country.trim().toUpperCase(),
      },
    },
  }) as unknown as CreateInput;
}

/** The update body with `null` (clear) kept apart from absent (leave) (R2). */
export function canonicalUpdate(input: UpdateInput): UpdateInput {
  return canonicalize({
    ...input,
    items: input.items && canonicalItems(input.items),
    buyer: input.buyer && { ...input.buyer, email: input.buyer.email.trim().toLowerCase() },
  }) as unknown as UpdateInput;
}

export interface Scope {
  principal: string;
  backend: BackendName;
  merchant: string;
}

/**
 * The create record: keyed by the intent, or by `task_id` when the agent names its task, so the same cart
 * under a new task_id is a new checkout and a reused task_id with another cart is a conflict (R4).
 */
export function createKey(scope: Scope, intent: CreateInput, taskId: string | undefined): { key: string; fingerprint: string } {
  const fingerprint = digest(intent as unknown as Json);
  const subject = taskId === undefined ? { intent: fingerprint } : { task_id: taskId.normalize('NFC').trim() };
  return { key: digest(['create', scope.principal, scope.backend, scope.merchant, subject]), fingerprint };
}

/** Every later key hangs off the anchor (R5): update and cancel by body, complete once per anchor. */
export function anchoredKey(scope: Scope, anchor: string, operation: 'update' | 'cancel' | 'complete', body: Json): { key: string; fingerprint: string } {
  const subject = operation === 'complete' ? null : body;
  const key = digest([operation, scope.principal, scope.backend, scope.merchant, anchor, subject]);
  return { key, fingerprint: digest([anchor, operation, subject]) };
}
