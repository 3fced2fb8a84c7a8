// R2/R4/R5: the canonical intent and the keys derived from it.
import { describe, expect, it } from 'vitest';
import type { CreateInput } from '../src/commerce/inputs.js';
import { anchoredKey, canonicalCreate, canonicalUpdate, createKey, type Scope } from '../src/checkout/intent.js';
import { canonicalJson } from '../src/ledger/canonical.js';
import { digest, outboundKey } from '../src/ledger/keys.js';

const scope: Scope = { principal: 'local', backend: 'sandbox', merchant: 'sandbox' };
const address = { name: 'Ada', line_one: '1 Way', city: 'London', state: 'LDN', country: 'gb', postal_code: 'N1' };
const base: CreateInput = {
  items: [{ id: 'sku_mug', quantity: 2 }, { id: 'sku_cap', quantity: 1 }],
  currency: 'usd',
  fulfillment_details: { address },
};
const keyOf = (input: CreateInput, taskId?: string) => createKey(scope, canonicalCreate(input), taskId).key;

describe('R2: canonical intent', () => {
  it('R2: the same intent gives the same 64-hex SHA-256 key', () => {
    expect(keyOf(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyOf(base)).toBe(keyOf(structuredClone(base)));
  });

  it('R2: reordered, split or duplicated lines, currency case, Unicode form and spacing give the same key', () => {
    const same: CreateInput = {
      items: [{ id: 'sku_cap', quantity: 1 }, { id: ' sku_mug', quantity: 1 }, { id: 'sku_mug', quantity: 1 }],
      currency: ' USD ',
      fulfillment_details: { address: { ...address, country: 'GB', name: 'Ada ' } },
    };
    expect(keyOf(same)).toBe(keyOf(base));
    const composed = { ...base, buyer: { email: 'café@example.com' } };
    const decomposed = { ...base, buyer: { email: 'CAFE\u0301@example.com' } };
    expect(keyOf(decomposed)).toBe(keyOf(composed));
  });

  it.each([
    ['quantity', { ...base, items: [{ id: 'sku_mug', quantity: 3 }, { id: 'sku_cap', quantity: 1 }] }],
    ['goods', { ...base, items: [{ id: 'sku_mug', quantity: 2 }, { id: 'sku_tote', quantity: 1 }] }],
    ['currency', { ...base, currency: 'eur' }],
    ['destination', { ...base, fulfillment_details: { address: { ...address, postal_code: 'N2' } } }],
    ['buyer', { ...base, buyer: { email: 'someone@example.com' } }],
  ])('R2: a changed %s gives a different key', (_what, changed) => {
    expect(keyOf(changed as CreateInput)).not.toBe(keyOf(base));
  });

  it('R2: object keys in another Unicode form sort as their normal form, so the text (and key) is the same', () => {
    // 'é' composed (U+00E9) sorts after 'f'; decomposed ('e' + U+0301) before it. Sorting before normalising
    // wrote the two in different orders: the same intent, two keys.
    const composed = { '\u00e9': 1, f: 2 };
    const decomposed = { 'e\u0301': 1, f: 2 };
    expect(canonicalJson(decomposed)).toBe(canonicalJson(composed));
    expect(digest(decomposed)).toBe(digest(composed));
    expect(canonicalJson(composed)).toBe('{"f":2,"\u00e9":1}');
  });

  it('R2: two keys of one object that are the same after normalising are refused, not silently merged', () => {
    expect(() => canonicalJson({ '\u00e9': 1, 'e\u0301': 2 })).toThrow(/same key/);
  });

  it('R2: for update, null (clear) and absent (leave) stay different', () => {
    const cleared = anchoredKey(scope, 'cs_1', 'update', canonicalUpdate({ buyer: null }) as never).key;
    const left = anchoredKey(scope, 'cs_1', 'update', canonicalUpdate({}) as never).key;
    expect(cleared).not.toBe(left);
  });
});

describe('R4/R5: task ids and anchors', () => {
  it('R4: a task_id keys the record by task; the cart goes into the fingerprint', () => {
    const a = createKey(scope, canonicalCreate(base), 'task-1');
    const otherCart = createKey(scope, canonicalCreate({ ...base, currency: 'eur' }), 'task-1');
    expect(otherCart.key).toBe(a.key);
    expect(otherCart.fingerprint).not.toBe(a.fingerprint);
    expect(createKey(scope, canonicalCreate(base), 'task-2').key).not.toBe(a.key);
    expect(createKey(scope, canonicalCreate(base), undefined).key).not.toBe(a.key);
  });

  it('R5: complete has one key per anchor whatever the payment data; principals and anchors never share keys', () => {
    const one = anchoredKey(scope, 'cs_1', 'complete', { token: 'a' });
    expect(anchoredKey(scope, 'cs_1', 'complete', { token: 'b' })).toEqual(one);
    expect(anchoredKey(scope, 'cs_2', 'complete', { token: 'a' }).key).not.toBe(one.key);
    expect(anchoredKey({ ...scope, principal: 'bob' }, 'cs_1', 'complete', {}).key).not.toBe(one.key);
  });
});

describe('R1: outbound keys', () => {
  it('R1: 35 characters, stable per (record, generation, attempt), new per attempt', () => {
    const k1 = outboundKey('rec', 1000, 1);
    expect(k1).toHaveLength(35);
    expect(outboundKey('rec', 1000, 1)).toBe(k1);
    expect(outboundKey('rec', 1000, 2)).not.toBe(k1);
    expect(outboundKey('rec', 2000, 1)).not.toBe(k1);
  });
});
