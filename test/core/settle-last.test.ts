import { describe, expect, it } from 'vitest';
import { settleLast } from '../../src/core/settle-last.js';

const settled = (items: number[], first: number) => {
  const copy = [...items];
  settleLast(copy, (n) => n, first);
  return copy;
};

describe('settleLast', () => {
  it('moves a late arrival back to its place and leaves an ordered queue alone', () => {
    expect(settled([2, 5, 9, 4], 0)).toEqual([2, 4, 5, 9]);
    expect(settled([5, 9, 1], 0)).toEqual([1, 5, 9]);
    expect(settled([2, 5, 9], 0)).toEqual([2, 5, 9]);
    expect(settled([7], 0)).toEqual([7]);
  });

  it('never moves anything before the head in flight', () => {
    expect(settled([5, 9, 1], 1)).toEqual([5, 1, 9]);
    expect(settled([5, 9], 1)).toEqual([5, 9]);
  });
});
