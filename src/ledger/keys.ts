// Key derivation (R1): every key comes from ledger state and the canonical intent, never from randomness
// and never from the model.
import * as crypto from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** SHA-256 (hex) of a text: one call (crypto.hash, Node 20.12+) costs half a Hash object's three. */
const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** SHA-256 (hex) of the canonical JSON of `parts`: record keys and argument fingerprints. */
export function digest(parts: unknown): string {
  return sha256(canonicalJson(parts));
}

/** Stands in for a payment credential or secret in records and logs (R10): never the value itself. */
export function secretFingerprint(secret: string): string {
  return `fp_${sha256(`once-checkout:secret:${secret}`).slice(0, 16)}`;
}

export const OUTBOUND_KEY_LENGTH = 35;

/**
 * The key sent to the provider for one attempt: 35 characters, within every provider's limit (R1).
 * The generation's start time keeps a new generation (after the window, or after a purge) from reusing
 * a key the provider may still remember.
 */
export function outboundKey(recordKey: string, generationStartedAt: number, attempt: number, shape: KeyShape = 'oc'): string {
  const name = `${recordKey}:${generationStartedAt}:${attempt}`;
  if (shape === 'uuid') return nameBasedUuid(name);
  return `oc_${sha256(name).slice(0, OUTBOUND_KEY_LENGTH - 3)}`;
}

/**
 * How a provider wants its key written: `oc` is ours (`oc_` + 32 hex), `uuid` is for providers whose spec says
 * UUID (UCP's Idempotency-Key): a name-based UUID (RFC 9562 version 5), so still derived, never random (R1).
 */
export type KeyShape = 'oc' | 'uuid';

/** once-checkout's namespace for name-based UUIDs (itself the version-5 UUID of "once-checkout" in the URL namespace). */
export const KEY_NAMESPACE = '248e5dce-4ae0-59b6-840a-be22013f7e42';

/** RFC 9562 UUIDv5: SHA-1 of namespace bytes + name, version and variant bits set. 36 characters (R1). */
export function nameBasedUuid(name: string, namespace = KEY_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = crypto.createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
