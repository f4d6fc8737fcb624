import type { HistoryCursor } from '../core/store.js';

/** The tables `pruneHistory` walks, in the order it walks them. */
export const historyTables: readonly (keyof HistoryCursor)[] = ['inbox', 'outbox', 'tasks'];

/** The oldest rows of one table after a cursor, in id order, with the time that ages them. */
export type HeadRow = { readonly id: number; readonly at: number };

/**
 * How far one batch of `pruneHistory` may go in a table: over the rows of `head` (the
 * `limit` rows after the cursor, in id order) that are older than `before`, stopping at the
 * first that is not. Ids grow with time, so the rest of the table is newer still: `done`
 * then, or when the table ended within the batch.
 * @example reach([{ id: 4, at: 10 }, { id: 5, at: 99 }], 50, 3, 100) // { upTo: 4, done: true }
 */
export function reach(head: readonly HeadRow[], before: number, after: number, limit: number): { upTo: number; done: boolean } {
  let upTo = after;
  for (const row of head) {
    if (row.at >= before) return { upTo, done: true };
    upTo = row.id;
  }
  return { upTo, done: head.length < limit };
}

/** What one table's part of a `pruneHistory` call did. */
export interface TablePruned {
  readonly deleted: number;
  readonly upTo: number;
  readonly done: boolean;
}

/**
 * One table's part of `pruneHistory` for a memory store, whose rows sit in a map in id
 * order: `reach` over the rows after `after`, then the rows in range that `prunable` takes
 * are deleted (`dropped` hears of each, to clean its indexes).
 * @example prunedFromMap(rows, { after: 0, before: cutoff, limit: 500 }, (row) => row.createdAt, (row) => row.status !== 'pending')
 */
export function prunedFromMap<R>(
  rows: Map<number, R>,
  { after, before, limit }: { readonly after: number; readonly before: number; readonly limit: number },
  age: (row: R) => number,
  prunable: (row: R) => boolean,
  dropped?: (row: R) => void,
): TablePruned {
  const head: HeadRow[] = [];
  for (const [id, row] of rows) {
    if (head.length >= limit) break;
    if (id > after) head.push({ id, at: age(row) });
  }
  const { upTo, done } = reach(head, before, after, limit);
  let deleted = 0;
  for (const { id } of head) {
    if (id > upTo) break;
    const row = rows.get(id)!;
    if (!prunable(row)) continue;
    rows.delete(id);
    dropped?.(row);
    deleted++;
  }
  return { deleted, upTo, done };
}
