// Integer minor units ↔ PayPal's decimal strings ("12.50"), per the currency's exponent.

// Currencies PayPal accepts only without decimals.
const ZERO_DECIMAL = new Set(['JPY', 'HUF', 'TWD']);

export interface PaypalMoney {
  currency_code: string;
  value: string;
}

export function toPaypalMoney(minor: number, currency: string): PaypalMoney {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return { currency_code: code, value: String(minor) };
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return { currency_code: code, value: `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}` };
}

export function fromPaypalValue(value: string | undefined, currency: string): number {
  if (value === undefined) return 0;
  if (ZERO_DECIMAL.has(currency.toUpperCase())) return Math.round(Number(value));
  return Math.round(Number(value) * 100);
}
