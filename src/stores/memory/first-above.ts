/**
 * The index of the first element greater than `value` in an ascending array: where a page
 * of ids after `value` starts, or where a new id goes to keep the array sorted.
 * @example firstAbove([1, 3, 5], 3) // 2
 */
export function firstAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}
