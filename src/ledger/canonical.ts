// Canonical JSON (R2): sorted object keys, NFC-normalised trimmed strings, `undefined` dropped, `null` kept.
// Two values a person would call the same produce the same text, so they hash to the same key. Keys are
// normalised before they are sorted: sorted first, 'é' composed and decomposed would land in different places.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function canonicalize(value: unknown): Json {
  if (value === null) return null;
  if (typeof value === 'string') return normalized(value).trim();
  if (typeof value === 'number') return finite(value);
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [key, v] of sortedEntries(value as Record<string, unknown>)) out[key] = canonicalize(v);
    return out;
  }
  throw new TypeError(`cannot canonicalize a value of type ${typeof value}`);
}

/**
 * The text of `canonicalize(value)`, written directly: the same characters as `JSON.stringify(canonicalize(value))`
 * without building the canonical copy first (this runs on every call, to derive its key).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(normalized(value).trim());
  if (typeof value === 'number') return String(finite(value));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      text += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return `${text}]`;
  }
  if (typeof value === 'object') {
    let text = '{';
    for (const [key, v] of sortedEntries(value as Record<string, unknown>)) {
      if (text.length > 1) text += ',';
      text += `${JSON.stringify(key)}:${canonicalJson(v)}`;
    }
    return `${text}}`;
  }
  throw new TypeError(`cannot canonicalize a value of type ${typeof value}`);
}

/** The defined entries of an object under NFC-normalised keys, sorted by those keys. */
function sortedEntries(object: Record<string, unknown>): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [];
  for (const key of Object.keys(object)) {
    const v = object[key];
    if (v !== undefined) entries.push([normalized(key), v]);
  }
  if (entries.length < 2) return entries;
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i][0] === entries[i - 1][0]) {
      throw new TypeError(`two keys of one object are the same key "${entries[i][0]}" once Unicode-normalised: send one`);
    }
  }
  return entries;
}

const NOT_ASCII = /[^\x00-\x7f]/;

/** NFC form; ASCII text is its own NFC form, and testing for it costs less than normalising. */
function normalized(text: string): string {
  return NOT_ASCII.test(text) ? text.normalize('NFC') : text;
}

function finite(value: number): number {
  if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalize the number ${value}`);
  return value;
}
