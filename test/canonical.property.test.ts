// R2: the canonical text of an intent, as properties over arbitrary JSON: written directly, it is the text of the
// canonical copy; it does not depend on the order of an object's keys; canonicalizing twice changes nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalJson } from '../src/ledger/canonical.js';

/** Keys as agents and merchants send them: ASCII, accented in either Unicode form, and JavaScript's special names. */
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('é', 'e\u0301', 'Å', 'A\u030a', 'ß', '日本', '__proto__', 'constructor', 'toString', ' padded '),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8 }),
    fc.constantFrom(' é ', 'e\u0301', 'Å'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 20 }).map(objectOf),
  ),
})).value;

/** An object with these entries as own data properties (JSON.parse makes `__proto__` one, an assignment would not). */
function objectOf(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [name, value] of entries) Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

/** The same value with every object's keys in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return objectOf(Object.keys(value).reverse().map((name) => [name, reversed((value as Record<string, unknown>)[name])]));
}

/** The text, or the refusal (two keys the same once normalised), so both sides can be compared. */
function outcome(work: () => string): string {
  try {
    return work();
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

describe('R2: canonical JSON, as properties', () => {
  it('R2: a "__proto__" key is kept as a key in the canonical copy too, never taken as its prototype', () => {
    const sent = JSON.parse('{"b":2,"__proto__":{"a":1}}') as unknown;
    expect(JSON.stringify(canonicalize(sent))).toBe('{"__proto__":{"a":1},"b":2}');
    expect(canonicalJson(sent)).toBe('{"__proto__":{"a":1},"b":2}');
    expect(Object.getPrototypeOf(canonicalize(sent))).toBe(Object.prototype);
  });

  it('R2: the text written directly is the canonical copy’s, whatever the key order, and canonicalizing twice changes nothing', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = outcome(() => canonicalJson(value));
        expect(outcome(() => canonicalJson(reversed(value)))).toBe(text);
        expect(outcome(() => canonicalJson(canonicalize(value)))).toBe(text);
        if (text.startsWith('refused')) return;
        // The same value as the copy (JSON.parse and JSON.stringify would order integer-like keys first).
        expect(JSON.parse(text, (k, v: unknown) => v)).toEqual(JSON.parse(JSON.stringify(canonicalize(value))));
      }),
      { numRuns: 2_000 },
    );
  });
});
