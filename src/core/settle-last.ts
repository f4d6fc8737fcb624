/**
 * Moves the last element of `items` back to its place by `rank` (ascending), never before
 * index `first`: a queue whose head is in flight keeps it there (`first` 1), and an element
 * that arrives out of order (a scan found an older row) goes to where it belongs.
 */
export function settleLast<T>(items: T[], rank: (item: T) => number, first: number): void {
  let i = items.length - 1;
  const item = items[i]!;
  const at = rank(item);
  while (i > first && rank(items[i - 1]!) > at) {
    items[i] = items[i - 1]!;
    i--;
  }
  items[i] = item;
}
