/**
 * Money in the gateway is a decimal string with at most 2 decimals ("10.50") or an integer of
 * minor units (1050); converting between them is string arithmetic, never a float.
 */

/** "10.5" → 1050. */
export function decimalToMinor(decimal: string): number {
  const [whole = '0', frac = ''] = decimal.split('.');
  return Number(whole) * 100 + Number(`${frac}00`.slice(0, 2));
}

/** 1050 → "10.50"; -5 → "-0.05". */
export function minorToDecimal(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const m = Math.abs(Math.trunc(minor));
  return `${sign}${Math.floor(m / 100)}.${String(m % 100).padStart(2, '0')}`;
}
