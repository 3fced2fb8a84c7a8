// Raw card numbers (PANs) must never reach the ledger, a log or a merchant: agents pass payment tokens.
// A PAN here is 13–19 digits, optionally grouped by spaces or dashes (up to three between digits), standing on its own (not part
// of a longer run of letters or digits) and passing the Luhn check.

const CANDIDATE = /(?<![A-Za-z0-9])\d(?:[ -]{0,3}\d){12,18}(?![A-Za-z0-9])/g;
const CANDIDATE_SPAN = /\d(?:[ -]{0,3}\d){12,18}/;

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when `text` contains something that looks like a card number. */
export function containsCardNumber(text: string): boolean {
  if (!CANDIDATE_SPAN.test(text)) return false; // the common case: no long digit run at all
  for (const match of text.matchAll(CANDIDATE)) {
    // "4111 1111 1111 1111 12" (a PAN then an expiry): try every run of whole groups, not just the longest.
    const groups = match[0].split(/[ -]+/);
    for (let start = 0; start < groups.length; start++) {
      let digits = '';
      for (let end = start; end < groups.length && digits.length < 19; end++) {
        digits += groups[end];
        if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits)) return true;
      }
    }
  }
  return false;
}

/**
 * The path of the first argument (key or value, at any depth) that holds a card number, e.g.
 * `payment_data.instrument.credential.token`; undefined when there is none. Never returns the number.
 */
export function findCardNumber(value: unknown): string | undefined {
  // Iterative, so that deeply nested arguments cannot overflow the stack.
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (containsCardNumber(current)) return path || 'arguments';
    } else if (typeof current === 'number') {
      if (Number.isSafeInteger(current) && current > 0 && containsCardNumber(String(current))) return path || 'arguments';
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push([item, `${path}[${index}]`]));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        const at = path === '' ? key : `${path}.${key}`;
        if (containsCardNumber(key)) return path || 'arguments';
        stack.push([item, at]);
      }
    }
  }
  return undefined;
}
