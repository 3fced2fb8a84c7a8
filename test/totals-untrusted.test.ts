// The total the cap and the confirmation judge, derived from a merchant's answer written as a hostile merchant
// would (R14): totals that do not add up, another presentment currency, amounts a double cannot show exactly.
import { describe, expect, it } from 'vitest';
import { answerToResult } from '../src/backends/acp/acp-answer.js';
import { parseUcpCheckout } from '../src/backends/ucp/ucp-checkout.js';
import { totalAmount, type CheckoutSession } from '../src/commerce/session.js';
import { confirmMessage, formatAmount } from '../src/server/confirm.js';
import { acpSession } from './support/acp-session.js';

/** A valid UCP checkout as a business answers it (as in ucp-backend-adversary.test.ts), with these totals. */
function ucpCheckout(totals: unknown[]) {
  return {
    ucp: { version: '2026-04-08', status: 'success', payment_handlers: {} },
    id: 'chk_review_1',
    status: 'ready_for_complete',
    currency: 'USD',
    line_items: [{ id: 'li_1', item: { id: 'sku_mug', title: 'Mug', price: 100000 }, quantity: 1, totals: [] }],
    totals,
    links: [],
    messages: [],
  };
}

/** The total the cap and the confirmation would judge for this UCP answer, or undefined when there is none. */
function judgedUcpTotal(totals: unknown[]): number | undefined {
  const parsed = parseUcpCheckout(ucpCheckout(totals));
  return parsed.ok ? totalAmount(parsed.session) : undefined;
}

describe('review: the total the cap and the confirmation judge', () => {
  it('R14 UCP totals: a checkout whose entries do not add up to its total gives no usable total (UCP: never complete autonomously)', () => {
    // UCP checkout.md "Verification": platforms MUST NOT autonomously complete a checkout whose totals do not sum to
    // the `total` entry. Here the subtotal (and the one item) is 1,000.00 and a fee is 50.00, but `total` says 1.00:
    // under a cap of 50.00 (5000) this passes and the person would be asked to "Pay USD 1.00".
    const mismatched = [
      { type: 'subtotal', amount: 100000 },
      { type: 'fee', display_text: 'Service fee', amount: 5000 },
      { type: 'total', amount: 100 },
    ];
    // A consistent one, with a business-defined negative type we do not keep (the spec's own example), still has it.
    const consistent = [
      { type: 'subtotal', display_text: 'Subtotal', amount: 10000 },
      { type: 'discount', display_text: 'Summer Sale', amount: -1500 },
      { type: 'tax', display_text: 'Tax', amount: 680 },
      { type: 'account_credit', display_text: 'Account Credit', amount: -2500 },
      { type: 'total', display_text: 'Amount Due', amount: 6680 },
    ];
    expect(judgedUcpTotal(consistent)).toBe(6680);
    expect(judgedUcpTotal(mismatched)).toBeUndefined();
  });

  it('R14 ACP presentment currency: a session charging in another (presentment) currency gives no usable total', async () => {
    // ACP 2026-01-30 and 2026-04-17: `currency` is the SETTLEMENT currency; `presentment_currency` (with each
    // total's `presentment_amount`) is what the buyer is charged in when it differs. We drop both silently, so the
    // cap judges 5000 JPY minor units and the person is asked to "Pay JPY 5,000", while the buyer's card is
    // presented USD 999.99.
    const body = acpSession('cs_presentment', {
      currency: 'jpy',
      presentment_currency: 'usd',
      exchange_rate: 0.0067,
      totals: [{ type: 'total', display_text: 'Total', amount: 5000, presentment_amount: 99999 }],
    });
    const result = await answerToResult('get', { status: 200, body }, async () => undefined);
    const judged = result.kind === 'succeeded' ? totalAmount(result.checkout) : undefined;
    // Either refused as an answer, or accepted without a total the cap and the confirmation could use (fail closed).
    expect(judged).toBeUndefined();
  });

  it('R14 confirmation text: an amount above 2^46 cents is shown to the person exactly, or not at all', () => {
    // minor / 10 ** digits is a double: 9007199254740991 cents becomes 90071992547409.90 in the prompt, one cent
    // less than the amount the cap judged and the merchant charges.
    const minor = Number.MAX_SAFE_INTEGER; // 9007199254740991, accepted by our schema and by the cap check
    for (const [currency, exact] of [
      ['usd', 'USD 90,071,992,547,409.91'],
      ['kwd', 'KWD 9,007,199,254,740.991'],
    ] as const) {
      const shown = formatAmount(minor, currency);
      expect(shown === undefined || shown === exact, `${currency}: ${shown}`).toBe(true);
    }
    const told = confirmMessage({ checkoutId: 'cs_1', merchant: 'https://shop.example', total: minor, currency: 'usd' });
    expect(told).not.toContain('547,409.90');
  });

  it('R14 confirmation text: a total of -0 (JSON "-0", accepted as non-negative) is never shown as a negative amount', async () => {
    const body = JSON.parse(JSON.stringify(acpSession('cs_negzero')).replace('"amount":2500', '"amount":-0')) as Record<string, unknown>;
    const result = await answerToResult('get', { status: 200, body }, async () => undefined);
    expect(result.kind).toBe('succeeded');
    const checkout = (result as { checkout: CheckoutSession }).checkout;
    const total = totalAmount(checkout);
    expect(total === 0).toBe(true); // the cap judges zero (-0 or 0)…
    const told = confirmMessage({ checkoutId: checkout.id, merchant: 'https://shop.example', total: total as number, currency: checkout.currency });
    expect(told).not.toContain('-USD'); // …and the person must not be asked to "Pay -USD 0.00"
  });
});
