// What the ledger knows about one checkout: its anchor head, the create record that produced it, and every
// record hung off its anchor (R5), so any charge can be explained from the ledger alone (R10).
import type { BackendName } from '../backends/backend.js';
import { headStoreKey, headsWithId, type AnchorHead } from '../checkout/heads.js';
import type { Ledger } from '../ledger/ledger.js';
import type { LedgerRecord } from '../ledger/record.js';

export const BACKEND_NAMES: BackendName[] = ['sandbox', 'acp', 'ucp', 'stripe', 'paypal'];

export interface CheckoutHistory {
  head: AnchorHead;
  /** The create record first, then the anchored records by first use. */
  records: LedgerRecord[];
}

/**
 * The checkout `id` as recorded: at one backend and merchant when given (R15), else the most recently used
 * checkout of that id at any of them; undefined when none.
 */
export async function checkoutHistory(
  ledger: Ledger,
  id: string,
  at?: { backend: BackendName; merchant: string },
): Promise<CheckoutHistory | undefined> {
  let head: AnchorHead | undefined;
  if (at) head = (await ledger.store.get<AnchorHead>(headStoreKey(at.backend, at.merchant, id)))?.value;
  else head = (await headsWithId(ledger.store, id)).sort((a, b) => b.updated_at - a.updated_at)[0];
  if (!head) return undefined;
  const key = headStoreKey(head.backend, head.merchant, id);
  const create = await ledger.read(head.create_key);
  const anchored: LedgerRecord[] = [];
  for await (const record of ledger.records()) {
    if (record.key === head.create_key || record.anchor !== id || record.backend !== head.backend) continue;
    // Records name their head; older ones without it are matched by backend and id.
    if (record.anchor_key === undefined || record.anchor_key === key) anchored.push(record);
  }
  anchored.sort((a, b) => a.first_seen_at - b.first_seen_at);
  return { head, records: create ? [create, ...anchored] : anchored };
}

/** A record by its full key, or by a unique prefix of it (at least 8 characters, as `ledger list` prints). */
export async function findRecord(ledger: Ledger, key: string): Promise<LedgerRecord | undefined> {
  const exact = await ledger.read(key);
  if (exact || key.length < 8) return exact;
  let found: LedgerRecord | undefined;
  for await (const record of ledger.records()) {
    if (!record.key.startsWith(key)) continue;
    if (found) return undefined; // ambiguous: ask for more of the key
    found = record;
  }
  return found;
}
