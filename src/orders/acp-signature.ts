// ACP's Merchant-Signature (openapi.agentic_checkout_webhook.yaml): `t=<unix seconds>,v1=<64 hex>`, the
// HMAC-SHA256 of `t + "." + raw body` under the merchant's shared secret. Verified over the raw bytes, in
// constant time, against every secret we hold (the one that verifies names the merchant), within a window.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'merchant-signature';
/** The spec's recommended tolerance. */
export const TOLERANCE_S = 300;

export interface WebhookSecret {
  /** The merchant identity as the ledger records it (e.g. `acp:https://shop.example/api`). */
  merchant: string;
  secret: string;
}

/** The header a merchant sends for `body` signed at `t` (unix seconds). */
export function signAcpEvent(secret: string, body: Buffer | string, t: number): string {
  return `t=${t},v1=${hmac(secret, t, body).toString('hex')}`;
}

function hmac(secret: string, t: number | string, body: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

export type Verification =
  | { ok: true; merchant: string; signedAt: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch'; message: string };

/** The spec's own 401 messages, one per reason. */
const MESSAGES: Record<Exclude<Verification, { ok: true }>['reason'], string> = {
  missing: 'Missing Merchant-Signature header.',
  malformed: 'Merchant-Signature must be t=<timestamp>,v1=<64_hex>.',
  expired: 'Timestamp outside allowed window.',
  mismatch: 'Webhook signature verification failed.',
};

function refused(reason: Exclude<Verification, { ok: true }>['reason']): Verification {
  return { ok: false, reason, message: MESSAGES[reason] };
}

/**
 * Checks `header` against `raw` for each secret. Several `v1=` entries are accepted (a merchant rotating its
 * secret signs with both). Every secret and every signature is compared, match or not, so the time taken
 * does not say which one matched.
 */
export function verifyAcpSignature(
  header: string | string[] | undefined,
  raw: Buffer,
  secrets: readonly WebhookSecret[],
  nowMs: number,
  toleranceS = TOLERANCE_S,
): Verification {
  if (header === undefined || (Array.isArray(header) && header.length === 0)) return refused('missing');
  const text = Array.isArray(header) ? header.join(',') : header;
  let t: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(t|v1|v0)=([^\s,]*)\s*$/.exec(part);
    if (!match) {
      if (part.trim() === '') continue;
      return refused('malformed');
    }
    if (match[1] === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(match[2])) return refused('malformed');
      t = match[2];
    } else if (match[1] === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(match[2])) return refused('malformed');
      signatures.push(Buffer.from(match[2], 'hex'));
    }
  }
  if (t === undefined || signatures.length === 0 || signatures.length > 8) return refused('malformed');
  const signedAt = Number(t);
  if (Math.abs(nowMs / 1000 - signedAt) > toleranceS) return refused('expired');
  let merchant: string | undefined;
  for (const { merchant: name, secret } of secrets) {
    const expected = hmac(secret, t, raw);
    for (const signature of signatures) {
      if (timingSafeEqual(expected, signature) && merchant === undefined) merchant = name;
    }
  }
  return merchant === undefined ? refused('mismatch') : { ok: true, merchant, signedAt: signedAt * 1000 };
}
