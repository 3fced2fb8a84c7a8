// Our amounts are integers of ISO 4217 minor units (R2). How many decimals that is per currency comes from
// ISO 4217 itself, not from locale data: CLDR shows HUF and TWD without decimals, yet ISO gives them two,
// and showing a person 150000 HUF minor units as "HUF 150,000" would ask them to approve 100 times the charge.

/** ISO 4217 currencies whose minor unit is not 2 digits (the current list, without funds codes). */
const MINOR_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0,
  XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export function isoMinorDigits(currency: string): number {
  return MINOR_DIGITS[currency.toUpperCase()] ?? 2;
}
