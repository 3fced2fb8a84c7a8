// Canonical JSON (R2): sorted object keys, NFC-normalised trimmed strings, `undefined` dropped, `null` kept.
// Two values a person would call the same produce the same text, so they hash to the same key.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function canonicalize(value: unknown): Json {
  if (value === null) return null;
  if (typeof value === 'string') return value.normalize('NFC').trim();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalize the number ${value}`);
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key.normalize('NFC')] = canonicalize(v);
    }
    return out;
  }
  throw new TypeError(`cannot canonicalize a value of type ${typeof value}`);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}
