/**
 * Money as integer minor units (cents for EUR, yen for JPY). Amounts are never floats: a
 * decimal string is parsed digit by digit, sums and products are integer arithmetic checked
 * against `Number.MAX_SAFE_INTEGER`, and formatting hands Intl an exact decimal string.
 */

const digitsCache = new Map<string, number>();
const formatCache = new Map<string, Intl.NumberFormat>();
let knownCurrencies: ReadonlySet<string> | undefined;

/** Whether `code` is an ISO 4217 currency code this runtime knows (`EUR`, `USD`, `JPY`…). */
export function isCurrency(code: string): boolean {
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return /^[A-Z]{3}$/.test(code) && knownCurrencies.has(code);
}

/**
 * How many minor digits a currency has: 2 for EUR, 0 for JPY, 3 for BHD.
 * @example minorDigits('EUR') // 2
 */
export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    if (!isCurrency(currency)) throw new RangeError(`"${currency}" is not an ISO 4217 currency code`);
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

/**
 * Parses a decimal amount ("12.50", "0.10", "12") into minor units without float math.
 * Rejects more decimals than the currency has, thousands separators and decimal commas.
 * @example parseMoney('0.10', 'EUR') // 10
 */
export function parseMoney(text: string, currency: string): number {
  const digits = minorDigits(currency);
  const trimmed = text.trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match) {
    const hint = /^\d+,\d+$/.test(trimmed) ? ' (use a dot as the decimal separator)' : '';
    throw new RangeError(`"${text}" is not a decimal amount${hint}`);
  }
  const [, sign = '', whole = '', fraction = ''] = match;
  if (fraction.length > digits) {
    throw new RangeError(`"${text}" has ${fraction.length} decimals; ${currency} allows ${digits}`);
  }
  const minor = Number.parseInt(`${whole}${fraction.padEnd(digits, '0')}`, 10);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`"${text}" is too large`);
  return sign === '-' && minor !== 0 ? -minor : minor;
}

/**
 * Minor units as a plain decimal string with the currency's digits.
 * @example toDecimal(1250, 'EUR') // '12.50'
 */
export function toDecimal(minor: number, currency: string): string {
  assertMinor(minor);
  const digits = minorDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  if (digits === 0) return `${sign}${text}`;
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * Formats minor units for a customer, with the currency's own minor digits.
 * @example formatMoney(1250, 'EUR') // '€12.50'
 * @example formatMoney(300, 'USD') // '$3.00'
 */
export function formatMoney(minor: number, currency: string, locale = 'en'): string {
  const key = `${locale}|${currency}`;
  let format = formatCache.get(key);
  if (!format) {
    const digits = minorDigits(currency);
    format = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formatCache.set(key, format);
  }
  // An exact decimal string, never a float: Intl formats string input digit for digit.
  return format.format(toDecimal(minor, currency) as Intl.StringNumericLiteral);
}

/** Adds amounts in minor units. */
export function addMoney(...amounts: readonly number[]): number {
  let total = 0;
  for (const amount of amounts) {
    assertMinor(amount);
    total += amount;
  }
  assertMinor(total);
  return total;
}

/**
 * An amount times a whole quantity.
 * @example multiplyMoney(parseMoney('0.10', 'EUR'), 3) // 30, that is €0.30 exactly
 */
export function multiplyMoney(minor: number, quantity: number): number {
  assertMinor(minor);
  if (!Number.isSafeInteger(quantity)) throw new RangeError(`quantity ${quantity} is not a whole number`);
  const product = minor * quantity;
  assertMinor(product);
  return product;
}

function assertMinor(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`${amount} is not an amount in minor units`);
}
