// Line items ride on the PaymentIntent's metadata (Stripe keeps no cart on a PaymentIntent), compactly:
// "price_id*quantity*unit_amount" joined by commas, split over a few keys to respect the 500-character limit.
import type { LineItem } from '../../commerce/session.js';

export interface PricedItem {
  priceId: string;
  quantity: number;
  unitAmount: number;
}

const CHUNK_KEYS = 8;
const CHUNK_LIMIT = 500;
export const ITEMS_KEY_PREFIX = 'once_items_';

/** Metadata entries for the items; `clearUnused` writes '' to unused chunk keys so an update deletes stale ones. */
export function itemsToMetadata(items: PricedItem[], clearUnused: boolean): Record<string, string> {
  const chunks: string[] = [];
  let current = '';
  for (const item of items) {
    const entry = `${item.priceId}*${item.quantity}*${item.unitAmount}`;
    const next = current === '' ? entry : `${current},${entry}`;
    if (next.length > CHUNK_LIMIT) {
      chunks.push(current);
      current = entry;
    } else {
      current = next;
    }
  }
  if (current !== '') chunks.push(current);
  if (chunks.length > CHUNK_KEYS) throw new Error(`too many line items to record on a PaymentIntent (${items.length})`);
  const metadata: Record<string, string> = {};
  for (let i = 0; i < CHUNK_KEYS; i++) {
    if (i < chunks.length) metadata[`${ITEMS_KEY_PREFIX}${i}`] = chunks[i];
    else if (clearUnused) metadata[`${ITEMS_KEY_PREFIX}${i}`] = '';
  }
  return metadata;
}

/** Reads the items back; unreadable entries are skipped rather than failing a read of the checkout. */
export function itemsFromMetadata(metadata: Record<string, string> | null | undefined): PricedItem[] {
  const items: PricedItem[] = [];
  for (let i = 0; i < CHUNK_KEYS; i++) {
    const chunk = metadata?.[`${ITEMS_KEY_PREFIX}${i}`];
    if (!chunk) continue;
    for (const entry of chunk.split(',')) {
      const [priceId, quantity, unitAmount] = entry.split('*');
      const q = Number(quantity);
      const u = Number(unitAmount);
      if (priceId && Number.isSafeInteger(q) && Number.isSafeInteger(u)) items.push({ priceId, quantity: q, unitAmount: u });
    }
  }
  return items;
}

export function toLineItem(item: PricedItem): LineItem {
  const subtotal = item.unitAmount * item.quantity;
  return {
    id: item.priceId,
    item: { id: item.priceId, unit_amount: item.unitAmount },
    quantity: item.quantity,
    unit_amount: item.unitAmount,
    totals: [{ type: 'subtotal', display_text: 'Subtotal', amount: subtotal }],
  };
}
