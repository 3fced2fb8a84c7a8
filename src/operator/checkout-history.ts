// What the ledger knows about one checkout: its anchor head, the create record that produced it, and every
// record hung off its anchor (R5), so any charge can be explained from the ledger alone (R10).
import type { BackendName } from '../backends/backend.js';
import { readHead, type AnchorHead } from '../checkout/anchors.js';
import type { Ledger } from '../ledger/ledger.js';
import type { LedgerRecord } from '../ledger/record.js';

export const BACKEND_NAMES: BackendName[] = ['sandbox', 'acp', 'stripe', 'paypal'];

export interface CheckoutHistory {
  head: AnchorHead;
  /** The create record first, then the anchored records by first use. */
  records: LedgerRecord[];
}

/** The checkout `id` as recorded (on `backend`, else on whichever backend knows it), or undefined. */
export async function checkoutHistory(ledger: Ledger, id: string, backend?: BackendName): Promise<CheckoutHistory | undefined> {
  let head: AnchorHead | undefined;
  for (const name of backend ? [backend] : BACKEND_NAMES) {
    head = await readHead(ledger.store, name, id);
    if (head) break;
  }
  if (!head) return undefined;
  const create = await ledger.read(head.create_key);
  const anchored: LedgerRecord[] = [];
  for await (const record of ledger.records()) {
    if (record.anchor === id && record.backend === head.backend && record.key !== head.create_key) anchored.push(record);
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
