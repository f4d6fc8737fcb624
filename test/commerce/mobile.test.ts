import { describe, expect, it } from 'vitest';
import { parseMobile } from '../../src/commerce/mobile.js';

describe('parseMobile', () => {
  it('normalizes numbers written with spaces, dashes, dots and parentheses', () => {
    expect(parseMobile('+44 (20) 7946-0958')).toEqual({ ok: true, mobile: '+442079460958' });
    expect(parseMobile(' 030 1234 5678 ')).toEqual({ ok: true, mobile: '03012345678' });
    expect(parseMobile('555.123.4567')).toEqual({ ok: true, mobile: '5551234567' });
    expect(parseMobile('0049 30 1234567')).toEqual({ ok: true, mobile: '+49301234567' });
  });

  it('accepts 7 to 15 digits', () => {
    expect(parseMobile('1234567')).toEqual({ ok: true, mobile: '1234567' });
    expect(parseMobile('+123456789012345')).toEqual({ ok: true, mobile: '+123456789012345' });
  });

  it('refuses with the reason', () => {
    expect(parseMobile('')).toEqual({ ok: false, problem: 'empty' });
    expect(parseMobile('   ')).toEqual({ ok: false, problem: 'empty' });
    expect(parseMobile('call me maybe')).toEqual({ ok: false, problem: 'characters' });
    expect(parseMobile('+44 20 7946 0958 ext 2')).toEqual({ ok: false, problem: 'characters' });
    expect(parseMobile('44+20')).toEqual({ ok: false, problem: 'characters' });
    expect(parseMobile('123456')).toEqual({ ok: false, problem: 'too_short' });
    expect(parseMobile('+1234567890123456')).toEqual({ ok: false, problem: 'too_long' });
  });
});
