import { parseMoney } from '../commerce/money.js';

/**
 * A decimal amount of the push body in minor units, read from its decimal text: `24.95`
 * (a JSON number, whose shortest text is what was written) or `"24.95"` become 2495
 * exactly. Throws a `RangeError` saying why for exponents, too many decimals for the
 * currency, or an amount too large.
 * @example minorUnits(24.95, 'USD') // 2495
 * @example minorUnits('1000', 'JPY') // 1000
 */
export function minorUnits(amount: number | string, currency: string): number {
  if (typeof amount === 'number' && !Number.isFinite(amount)) throw new RangeError(`${amount} is not an amount`);
  return parseMoney(typeof amount === 'number' ? String(amount) : amount, currency);
}
