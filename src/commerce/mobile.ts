/** Why a phone number was refused. */
export type MobileProblem = 'empty' | 'characters' | 'too_short' | 'too_long';

/** A normalized number, or why it was refused. */
export type MobileResult =
  | { readonly ok: true; readonly mobile: string }
  | { readonly ok: false; readonly problem: MobileProblem };

/** Fewest and most digits of a phone number (E.164 allows at most 15). */
export const mobileDigits = { min: 7, max: 15 } as const;

/**
 * Checks and normalizes a phone number, E.164-ish: 7 to 15 digits, an optional leading `+`
 * (or `00`), spaces, dashes, dots and parentheses allowed between digits and dropped.
 * @example parseMobile('+44 (20) 7946-0958') // { ok: true, mobile: '+442079460958' }
 * @example parseMobile('call me') // { ok: false, problem: 'characters' }
 */
export function parseMobile(input: string): MobileResult {
  const text = input.trim();
  if (text === '') return { ok: false, problem: 'empty' };
  if (!/^\+?[\d\s().-]+$/.test(text)) return { ok: false, problem: 'characters' };
  let digits = text.replace(/\D/g, '');
  let international = text.startsWith('+');
  if (!international && digits.startsWith('00')) {
    digits = digits.slice(2);
    international = true;
  }
  if (digits.length < mobileDigits.min) return { ok: false, problem: 'too_short' };
  if (digits.length > mobileDigits.max) return { ok: false, problem: 'too_long' };
  return { ok: true, mobile: `${international ? '+' : ''}${digits}` };
}
