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
    eachEntry(value as Record<string, unknown>, (name, v) => {
      // A "__proto__" member (JSON.parse makes it an own property) stays one: assigned, it would set the prototype.
      if (name === '__proto__') Object.defineProperty(out, name, { value: canonicalize(v), enumerable: true, writable: true, configurable: true });
      else out[name] = canonicalize(v);
    });
    return out;
  }
  throw new TypeError(`cannot canonicalize a value of type ${typeof value}`);
}

/**
 * The text of `canonicalize(value)`, written directly, without building the canonical copy first (this runs on
 * every call, to derive its key). Keys are in code-unit order, always: `JSON.stringify` of the copy would put
 * integer-like keys ("0", "12") first, as JavaScript orders them in an object.
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
    eachEntry(value as Record<string, unknown>, (name, v) => {
      text += `${text.length > 1 ? ',' : ''}${JSON.stringify(name)}:${canonicalJson(v)}`;
    });
    return `${text}}`;
  }
  throw new TypeError(`cannot canonicalize a value of type ${typeof value}`);
}

/** Calls `visit` with each entry of an object that is not undefined, under its NFC name, in canonical order. */
function eachEntry(object: Record<string, unknown>, visit: (name: string, value: unknown) => void): void {
  const ordered = orderedKeys(object);
  const names = ordered[0];
  const keys = ordered[1];
  for (let i = 0; i < keys.length; i++) {
    const v = object[keys[i]];
    if (v !== undefined) visit(names[i], v);
  }
}

/**
 * An object's keys in canonical order, as two lists index by index: their NFC forms, sorted, and the keys they
 * are in the object. Keys that are the same once normalised are refused. Every call derives its key through
 * here, so the usual object (a few ASCII keys, their own NFC forms) takes a path that allocates little:
 * Array.prototype.sort sets up more than the whole rest of a small object's text costs.
 */
function orderedKeys(object: Record<string, unknown>): [names: string[], keys: string[]] {
  const keys = Object.keys(object);
  let ascii = true;
  for (let i = 0; i < keys.length && ascii; i++) ascii = !NOT_ASCII.test(keys[i]);
  if (ascii) {
    sortInPlace(keys);
    return [keys, keys];
  }
  const pairs = keys.map((key): [string, string] => [key.normalize('NFC'), key]);
  pairs.sort((a, b) => byCodeUnits(a[0], b[0]));
  for (let i = 1; i < pairs.length; i++) {
    if (pairs[i][0] === pairs[i - 1][0]) {
      throw new TypeError(`two keys of one object are the same key "${pairs[i][0]}" once Unicode-normalised: send one`);
    }
  }
  return [pairs.map((pair) => pair[0]), pairs.map((pair) => pair[1])];
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts by code units: insertion sort for the few keys an object usually has, the built-in sort beyond. */
function sortInPlace(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort(byCodeUnits);
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j -= 1;
    }
    keys[j + 1] = key;
  }
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
