import { describe, expect, it } from 'vitest';
import { createKeyedLock } from '../../src/api/keyed-lock.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createKeyedLock', () => {
  it('runs calls for one key one at a time, in call order, and other keys beside them', async () => {
    const serial = createKeyedLock();
    const events: string[] = [];
    const job = (name: string, ms: number) => async () => {
      events.push(`${name}>`);
      await tick(ms);
      events.push(`<${name}`);
      return name;
    };
    const results = await Promise.all([serial('a', job('a1', 30)), serial('a', job('a2', 1)), serial('b', job('b1', 5))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('<a1')).toBeLessThan(events.indexOf('a2>'));
    expect(events.indexOf('b1>')).toBeLessThan(events.indexOf('<a1'));
  });

  it('goes on after a call that throws', async () => {
    const serial = createKeyedLock();
    const failed = serial('a', async () => {
      throw new Error('boom');
    });
    const next = serial('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
