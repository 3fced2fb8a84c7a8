// The anchor head: who owns a checkout and its newest known state. It keeps principals apart (a foreign
// anchor is simply not found) and lets a replayed update answer with the current state (R11).
import type { BackendName } from '../backends/backend.js';
import type { Store } from '../store/store.js';
import type { CheckoutSession } from './session.js';

export interface AnchorHead {
  principal: string;
  backend: BackendName;
  merchant: string;
  anchor: string;
  /** The create record that produced this checkout. */
  create_key: string;
  checkout: CheckoutSession;
  first_seen_at: number;
  updated_at: number;
}

export const ANCHOR_PREFIX = 'anchor:';

export function anchorStoreKey(backend: BackendName, anchor: string): string {
  return `${ANCHOR_PREFIX}${backend}:${anchor}`;
}

export async function readHead(store: Store, backend: BackendName, anchor: string): Promise<AnchorHead | undefined> {
  return (await store.get<AnchorHead>(anchorStoreKey(backend, anchor)))?.value;
}

/** Writes the head unless a newer state is already there (concurrent settles may finish out of order). */
export async function saveHead(store: Store, head: AnchorHead): Promise<void> {
  const key = anchorStoreKey(head.backend, head.anchor);
  for (;;) {
    const claim = await store.claim(key, head);
    if (claim.claimed) return;
    const current = claim.current.value;
    if (current.updated_at > head.updated_at) return;
    const next = { ...head, create_key: current.create_key, first_seen_at: current.first_seen_at, principal: current.principal };
    if (await store.replace(key, claim.current, next)) return;
  }
}
