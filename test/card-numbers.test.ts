// The card-number detector: raw PANs (Luhn-valid, 13–19 digits, maybe grouped) are found anywhere in the
// arguments; ids, phone numbers, amounts and long digit runs are not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsCardNumber, findCardNumber, passesLuhn } from '../src/server/card-numbers.js';

const TEST_PANS = [
  '4111111111111111', // Visa
  '4242424242424242', // Stripe's test Visa
  '5555555555554444', // Mastercard
  '2223003122003222', // Mastercard 2-series
  '378282246310005', // Amex, 15 digits
  '6011111111111117', // Discover
  '3056930009020004', // Diners, 14 digits
  '4222222222222', // 13-digit Visa
  '6200000000000005', // UnionPay
  '4000000000000000006', // 19 digits
];

describe('containsCardNumber', () => {
  it.each(TEST_PANS)('finds %s bare, grouped by spaces or dashes, and inside a sentence', (pan) => {
    expect(containsCardNumber(pan)).toBe(true);
    expect(containsCardNumber(pan.replace(/(\d{4})(?=\d)/g, '$1 '))).toBe(true);
    expect(containsCardNumber(pan.replace(/(\d{4})(?=\d)/g, '$1-'))).toBe(true);
    expect(containsCardNumber(`please charge ${pan}, thanks`)).toBe(true);
    expect(containsCardNumber(`card:${pan}`)).toBe(true);
    expect(containsCardNumber(`tok_${pan}`)).toBe(true);
  });

  it('finds a PAN followed or preceded by other digit groups (an expiry, a count)', () => {
    expect(containsCardNumber('4111 1111 1111 1111 12 29')).toBe(true);
    expect(containsCardNumber('2 4111111111111111')).toBe(true);
    expect(containsCardNumber('4111  1111 - 1111  1111')).toBe(true);
  });

  it.each([
    ['a Luhn-failing 16-digit number', '4111111111111112'],
    ['12 digits', '411111111116'],
    ['a 20-digit run', '41111111111111111113'],
    ['a PAN inside a longer alphanumeric id', 'cs_a4111111111111111'],
    ['a PAN glued to letters', 'x4111111111111111y'],
    ['a phone number', '+44 20 7946 0958'],
    ['an amount', '123456789'],
    ['a sandbox token', 'tok_sandbox_ok'],
    ['hex ids', 'cs_0f3a9c2b7d1e4a6b8c0d2e4f'],
    ['an ISO date', '2026-04-17T10:00:00Z'],
  ])('does not flag %s', (_label, text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it('property: every Luhn-valid 13–19 digit number standing on its own is found, however it is grouped', () => {
    const pan = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 12, maxLength: 18 }).map((digits) => {
      for (let check = 0; check < 10; check++) {
        const candidate = [...digits, check].join('');
        if (passesLuhn(candidate)) return candidate;
      }
      throw new Error('unreachable');
    });
    fc.assert(
      fc.property(pan, fc.array(fc.constantFrom('', ' ', '-'), { minLength: 18, maxLength: 18 }), fc.string({ maxLength: 5 }), (digits, seps, around) => {
        const grouped = [...digits].map((d, i) => (i === 0 ? d : `${seps[i - 1]}${d}`)).join('');
        const text = `${around.replace(/[A-Za-z0-9]/g, ' ')} ${grouped} ${around}`;
        expect(containsCardNumber(text)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: a number that fails Luhn is never flagged on its own', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{13,19}$/), (digits) => {
        expect(containsCardNumber(digits)).toBe(passesLuhn(digits));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('findCardNumber', () => {
  it('names the path of the field, never the number, at any depth, in keys and numbers too', () => {
    expect(findCardNumber({ payment_data: { instrument: { credential: { token: '4111 1111 1111 1111' } } } })).toBe(
      'payment_data.instrument.credential.token',
    );
    expect(findCardNumber({ items: [{ id: 'sku_mug' }, { id: '5555555555554444' }] })).toBe('items[1].id');
    expect(findCardNumber({ card: 4111111111111111 })).toBe('card');
    expect(findCardNumber({ buyer: { '4111111111111111': 'x' } })).toBe('buyer');
    expect(findCardNumber({ items: [{ id: 'sku_mug', quantity: 2 }], currency: 'usd', task_id: 'gift-2026-04-17' })).toBeUndefined();
  });

  it('walks deeply nested arguments without overflowing the stack', () => {
    let deep: unknown = '4111111111111111';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findCardNumber({ x: deep })).toMatch(/^x\[0\]/);
  });
});
