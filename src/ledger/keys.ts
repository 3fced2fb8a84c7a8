// Key derivation (R1): every key comes from ledger state and the canonical intent, never from randomness
// and never from the model.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** SHA-256 (hex) of the canonical JSON of `parts`: record keys and argument fingerprints. */
export function digest(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/** Stands in for a payment credential or secret in records and logs (R10): never the value itself. */
export function secretFingerprint(secret: string): string {
  return `fp_${createHash('sha256').update(`once-checkout:secret:${secret}`).digest('hex').slice(0, 16)}`;
}

export const OUTBOUND_KEY_LENGTH = 35;

/**
 * The key sent to the provider for one attempt: 35 characters, within every provider's limit (R1).
 * The generation's start time keeps a new generation (after the window, or after a purge) from reusing
 * a key the provider may still remember.
 */
export function outboundKey(recordKey: string, generationStartedAt: number, attempt: number): string {
  const hash = createHash('sha256').update(`${recordKey}:${generationStartedAt}:${attempt}`).digest('hex');
  return `oc_${hash.slice(0, OUTBOUND_KEY_LENGTH - 3)}`;
}
