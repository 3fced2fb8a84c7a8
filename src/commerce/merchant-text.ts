// A merchant chooses every string it sends us. When one of them appears in text we write (a tool result's
// first line, a failure message, the confirmation prompt), it must read as the merchant's data, never as our
// words: control characters (new lines included) are stripped, length is capped, ids are quoted, free text is
// quoted *and* attributed, and a merchant's error code never takes the place of one of ours.

/** C0/C1 controls, DEL, line/paragraph separators, zero-width and bidi-override characters. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  const found = CONTROL.test(text);
  CONTROL.lastIndex = 0;
  return found;
}

/** One line: controls become spaces, runs of white space one space, capped at `max` characters. */
export function cleanText(text: string, max = 300): string {
  const flat = String(text).replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Quotation marks inside merchant text would let it close our quote and speak on; they become '. */
function unquote(text: string): string {
  return text.replace(/[“”„‟"«»‹›〝〞＂]/g, "'");
}

/** Merchant free text as it may appear in our sentences: `the merchant says “…”`. */
export function quoteMerchant(text: string | undefined, max = 300): string {
  const inner = unquote(cleanText(text ?? '', max));
  return inner === '' ? 'the merchant gave no message' : `the merchant says “${inner}”`;
}

/** A merchant-chosen id (checkout, order) in our sentences: one line, capped, in straight quotes. */
export function quoteId(id: string, max = 100): string {
  return `"${unquote(cleanText(id, max))}"`;
}

/**
 * Codes that read as code: letters, digits and _ . - only, at most 64 characters. The case is kept: a secret
 * the merchant put in its code must still match when it is redacted.
 */
export function safeCode(code: string): string {
  const safe = String(code)
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[_.-]+|[_.-]+$/g, '')
    .slice(0, 64);
  return safe === '' ? 'unspecified' : safe;
}

/**
 * A merchant's raw error code travels (and is recorded) as `merchant:<code>`, so it can never be mistaken for
 * a code our own mapping produced (`invalid_input`, `rate_limited`, …) when it is described to the agent.
 */
export const MERCHANT_CODE_PREFIX = 'merchant:';

export function merchantCode(raw: string): string {
  return `${MERCHANT_CODE_PREFIX}${safeCode(raw)}`;
}

/** The merchant's own code when `code` carries one, else undefined. */
export function rawMerchantCode(code: string): string | undefined {
  return code.startsWith(MERCHANT_CODE_PREFIX) ? safeCode(code.slice(MERCHANT_CODE_PREFIX.length)) : undefined;
}
