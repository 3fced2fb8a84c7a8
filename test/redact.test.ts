// R14 secrets: a merchant that echoes a secret back gets "[redacted]" in every place we keep or show it.
import { describe, expect, it } from 'vitest';
import { REDACTED, redactDeep, redactText } from '../src/commerce/redact.js';

const KEY = 'sk_live_ACP/key+with spaces&"quotes"';
const TOKEN = 'tok_visa_4242abcdef';

describe('redact', () => {
  it('R14 secrets: replaces each secret as is, URL-encoded and JSON-escaped', () => {
    const text = `plain ${KEY} url ${encodeURIComponent(KEY)} json ${JSON.stringify(KEY)} token ${TOKEN}`;
    const out = redactText(text, [KEY, TOKEN]);
    expect(out).not.toContain(KEY);
    expect(out).not.toContain(encodeURIComponent(KEY));
    expect(out).not.toContain(JSON.stringify(KEY).slice(1, -1));
    expect(out).not.toContain(TOKEN);
    expect(out).toContain(REDACTED);
  });

  it('R14 secrets: lower-case percent escapes are the same secret', () => {
    const lower = encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    expect(redactText(`x=${lower}`, [KEY])).toBe(`x=${REDACTED}`);
  });

  it('R14 secrets: ignores secrets shorter than 6 characters and empty lists', () => {
    expect(redactText('usd usd', ['usd'])).toBe('usd usd');
    expect(redactText('abc', [])).toBe('abc');
  });

  it('R14 secrets: redactDeep walks objects, arrays and keys, leaving clean values untouched', () => {
    const clean = { a: 1, b: ['x', { c: 'y' }] };
    expect(redactDeep(clean, [TOKEN])).toBe(clean);
    const dirty = { kind: 'failed', message: `echo ${TOKEN}`, nested: [{ [TOKEN]: `k=${encodeURIComponent(KEY)}` }], n: 5, z: null };
    const out = redactDeep(dirty, [KEY, TOKEN]);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
    expect(JSON.stringify(out)).not.toContain(encodeURIComponent(KEY));
    expect(out.n).toBe(5);
    expect(out.z).toBeNull();
    expect(dirty.message).toContain(TOKEN); // the input is not mutated
  });

  it('R14 secrets: the JSON text of a redacted value holds no secret (escaped twice over too)', () => {
    const value = { body: JSON.stringify({ message: `bad ${KEY}` }) };
    expect(JSON.stringify(redactDeep(value, [KEY]))).not.toContain(JSON.stringify(KEY).slice(1, -1));
    expect(JSON.stringify(redactDeep(value, [KEY]))).not.toContain(KEY);
  });
});
