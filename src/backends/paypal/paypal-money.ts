// Integer ISO 4217 minor units (our unit everywhere, R2) ↔ PayPal's decimal strings ("12.50"), per currency.
//
// PayPal's REST API takes the currencies below (developer.paypal.com/api/rest/reference/currency-codes). All have two
// ISO 4217 minor digits except JPY (none). PayPal takes HUF, JPY and TWD without decimals ("If you pass a decimal
// amount, an error occurs"), so a HUF or TWD amount in ISO minor units (fillér, cents) must be a whole forint or
// dollar: 150000 HUF minor units is "1500"; 150050 cannot be sent exactly and is refused, never rounded.

export interface PaypalMoney {
  currency_code: string;
  value: string;
}

interface CurrencyRule {
  /** ISO 4217 minor digits: how many decimals our integer amounts carry. */
  iso: number;
  /** The decimals PayPal accepts. */
  paypal: number;
}

const TWO: CurrencyRule = { iso: 2, paypal: 2 };
const WHOLE_ONLY_OF_TWO: CurrencyRule = { iso: 2, paypal: 0 };
const MAJOR_UNIT: Readonly<Record<string, string>> = { HUF: 'forint', TWD: 'New Taiwan dollar' };

const CURRENCIES: Readonly<Record<string, CurrencyRule>> = {
  AUD: TWO, BRL: TWO, CAD: TWO, CNY: TWO, CZK: TWO, DKK: TWO, EUR: TWO, HKD: TWO, ILS: TWO, MYR: TWO, MXN: TWO,
  NZD: TWO, NOK: TWO, PHP: TWO, PLN: TWO, GBP: TWO, RUB: TWO, SGD: TWO, SEK: TWO, CHF: TWO, THB: TWO, USD: TWO,
  HUF: WHOLE_ONLY_OF_TWO,
  TWD: WHOLE_ONLY_OF_TWO,
  JPY: { iso: 0, paypal: 0 },
};

export type PaypalMoneyResult = { ok: true; money: PaypalMoney } | { ok: false; reason: string };

/** Minor units → PayPal money, or why PayPal cannot be sent this amount exactly. */
export function toPaypalMoney(minor: number, currency: string): PaypalMoneyResult {
  const code = currency.toUpperCase();
  const rule = CURRENCIES[code];
  if (!rule) return { ok: false, reason: `PayPal does not take ${code} (its REST API takes ${Object.keys(CURRENCIES).join(', ')})` };
  if (!Number.isSafeInteger(minor) || minor < 0) return { ok: false, reason: `${minor} is not a whole, non-negative amount in ${code} minor units` };
  const drop = rule.iso - rule.paypal;
  const step = 10 ** drop;
  if (minor % step !== 0) {
    const unit = MAJOR_UNIT[code] ?? code;
    return {
      ok: false,
      reason: `${minor} ${code} minor units (1/100 ${unit}) is not a whole ${unit}, and PayPal takes ${code} without decimals: price it in multiples of ${step}`,
    };
  }
  const units = minor / step;
  if (rule.paypal === 0) return { ok: true, money: { currency_code: code, value: String(units) } };
  const scale = 10 ** rule.paypal;
  return { ok: true, money: { currency_code: code, value: `${Math.floor(units / scale)}.${String(units % scale).padStart(rule.paypal, '0')}` } };
}

/** A PayPal value → minor units, read exactly (no floating point); 0 when absent, NaN when unreadable. */
export function fromPaypalValue(value: string | undefined, currency: string): number {
  if (value === undefined) return 0;
  const rule = CURRENCIES[currency.toUpperCase()] ?? TWO;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!m) return Number.NaN;
  const fraction = (m[2] ?? '').padEnd(rule.iso, '0');
  if (fraction.length > rule.iso && /[^0]/.test(fraction.slice(rule.iso))) return Number.NaN;
  return Number(m[1]) * 10 ** rule.iso + Number(fraction.slice(0, rule.iso) || '0');
}
