import { describe, expect, it } from 'vitest';
import { addMoney, formatMoney, isCurrency, minorDigits, multiplyMoney, parseMoney, toDecimal } from '../../src/commerce/money.js';

describe('money', () => {
  it('parses decimal strings into integer minor units without float math', () => {
    expect(parseMoney('0.10', 'EUR')).toBe(10);
    expect(parseMoney('12', 'EUR')).toBe(1200);
    expect(parseMoney('12.5', 'EUR')).toBe(1250);
    expect(parseMoney('12.50', 'EUR')).toBe(1250);
    expect(parseMoney(' 0 ', 'EUR')).toBe(0);
    expect(parseMoney('1500', 'JPY')).toBe(1500);
    expect(parseMoney('1.234', 'BHD')).toBe(1234);
    expect(parseMoney('-3.05', 'USD')).toBe(-305);
  });

  it('refuses more decimals than the currency has, and anything that is not a plain decimal', () => {
    expect(() => parseMoney('12.345', 'EUR')).toThrow('"12.345" has 3 decimals; EUR allows 2');
    expect(() => parseMoney('15.5', 'JPY')).toThrow('JPY allows 0');
    expect(() => parseMoney('12,50', 'EUR')).toThrow('use a dot as the decimal separator');
    expect(() => parseMoney('1e3', 'EUR')).toThrow('not a decimal amount');
    expect(() => parseMoney('1,000.00', 'EUR')).toThrow('not a decimal amount');
    expect(() => parseMoney('', 'EUR')).toThrow('not a decimal amount');
    expect(() => parseMoney('99999999999999999999', 'EUR')).toThrow('too large');
    expect(() => parseMoney('1', 'XYZ')).toThrow('not an ISO 4217 currency code');
  });

  it('makes 3 × 0.10 exactly 0.30', () => {
    expect(0.1 * 3).not.toBe(0.3);
    const tenCents = parseMoney('0.10', 'EUR');
    expect(multiplyMoney(tenCents, 3)).toBe(30);
    expect(formatMoney(multiplyMoney(tenCents, 3), 'EUR')).toBe('€0.30');
    expect(toDecimal(multiplyMoney(tenCents, 3), 'EUR')).toBe('0.30');
  });

  it('adds amounts exactly', () => {
    const tenCents = parseMoney('0.10', 'EUR');
    expect(addMoney(...Array.from({ length: 10 }, () => tenCents))).toBe(100);
    expect(addMoney()).toBe(0);
    expect(() => addMoney(0.5)).toThrow('not an amount in minor units');
    expect(() => multiplyMoney(Number.MAX_SAFE_INTEGER, 2)).toThrow();
  });

  it('formats with the currency symbol and its own minor digits', () => {
    expect(formatMoney(1250, 'EUR')).toBe('€12.50');
    expect(formatMoney(300, 'USD')).toBe('$3.00');
    expect(formatMoney(5, 'EUR')).toBe('€0.05');
    expect(formatMoney(1500, 'JPY')).toBe('¥1,500');
    expect(formatMoney(123456789, 'EUR')).toBe('€1,234,567.89');
    expect(formatMoney(-30, 'EUR')).toBe('-€0.30');
    expect(formatMoney(1250, 'EUR', 'de-DE')).toBe('12,50\u00a0€');
  });

  it('knows ISO 4217 codes and their minor digits', () => {
    expect(isCurrency('EUR')).toBe(true);
    expect(isCurrency('eur')).toBe(false);
    expect(isCurrency('XYZ')).toBe(false);
    expect(minorDigits('EUR')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('BHD')).toBe(3);
  });
});
