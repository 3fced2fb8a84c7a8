// Secrets never leave through a merchant's words. A hostile (or careless) merchant may echo the payment
// token or our API key in an error message; whatever a backend returns, and whatever the ledger records,
// passes through here first so the secret it holds is replaced by "[redacted]".

export const REDACTED = '[redacted]';

/** Shorter strings are too likely to occur by chance ("usd", "en") to be worth replacing. */
const MIN_SECRET_LENGTH = 6;

/** Every form in which a secret may come back: as is, URL-encoded, JSON-escaped (and both). */
function formsOf(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(encodeURI(secret));
  forms.add(secret.replace(/ /g, '+'));
  forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
  const jsonEscaped = JSON.stringify(secret).slice(1, -1);
  forms.add(jsonEscaped);
  // Escaped twice over: a JSON string inside a JSON string (an error body quoted in a message).
  forms.add(JSON.stringify(jsonEscaped).slice(1, -1));
  // ASCII-safe JSON (\u00e9 for é), as some serializers write it.
  // As a merchant code comes out of safeCode (merchant-text.ts): anything but [A-Za-z0-9_.-] runs become _.
  forms.add(secret.replace(/[^A-Za-z0-9_.-]+/g, '_'));
  forms.add(jsonEscaped.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

function usable(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of formsOf(secret)) forms.add(form);
  }
  // Longest first, so a form that contains another is replaced whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

function replaceAll(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) {
    if (out.includes(form)) out = out.split(form).join(REDACTED);
    // Percent-encoding is case-insensitive: %2f and %2F are the same character.
    if (form.includes('%')) {
      const lower = form.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
      if (lower !== form && out.includes(lower)) out = out.split(lower).join(REDACTED);
    }
  }
  return out;
}

/** `text` with every occurrence of each secret (length ≥ 6, also URL-encoded or JSON-escaped) replaced. */
export function redactText(text: string, secrets: readonly string[]): string {
  const forms = usable(secrets);
  return forms.length === 0 ? text : replaceAll(text, forms);
}

/**
 * A copy of `value` with every string (and object key) redacted, however deep. Values without secrets
 * come back unchanged (the same object), so the common case costs a walk and no copy.
 */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  const forms = usable(secrets);
  if (forms.length === 0) return value;
  return walk(value, forms, new WeakMap()) as T;
}

function walk(value: unknown, forms: readonly string[], seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return replaceAll(value, forms);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    let changed = false;
    for (const item of value) {
      const next = walk(item, forms, seen);
      if (next !== item) changed = true;
      out.push(next);
    }
    if (!changed) seen.set(value, value);
    return changed ? out : value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // An Error keeps its class and stack shape; its message is what carries the words.
    if (value instanceof Error) {
      const message = replaceAll(value.message, forms);
      if (message === value.message) return value;
      const copy = new (value.constructor as ErrorConstructor)(message);
      Object.assign(copy, walk({ ...value }, forms, seen));
      return copy;
    }
    return value;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  let changed = false;
  for (const [key, item] of Object.entries(value)) {
    const newKey = replaceAll(key, forms);
    const next = walk(item, forms, seen);
    if (newKey !== key || next !== item) changed = true;
    out[newKey] = next;
  }
  if (!changed) {
    seen.set(value, value);
    return value;
  }
  return out;
}
