import type { HistoryCursor, PruneResult } from '../../core/store.js';
import { historyTables, reach } from '../prune.js';
import type { Statements } from './statements.js';

/**
 * The SQLite store's `pruneHistory`, run in a transaction of the caller's: each table's head
 * rows are read and the range old enough deleted (see Store.pruneHistory).
 * @example const prune = historyPruning(s); db.transaction(prune).immediate(Date.now() - 30 * 86_400_000, { inbox: 0, outbox: 0, tasks: 0 }, 100)
 */
export function historyPruning(s: Statements): (before: number, from: HistoryCursor, limit: number) => PruneResult {
  const history = {
    inbox: { head: s.inboxHead, prune: s.pruneInbox },
    outbox: { head: s.outboxHead, prune: s.pruneOutbox },
    tasks: { head: s.tasksHead, prune: s.pruneTasks },
  };
  return (before: number, from: HistoryCursor, limit: number): PruneResult => {
    const next = { ...from };
    let deleted = 0;
    let done = true;
    for (const table of historyTables) {
      const { head, prune } = history[table];
      const reached = reach(head.all(from[table], limit), before, from[table], limit);
      if (reached.upTo > from[table]) deleted += prune.run(from[table], reached.upTo, before).changes;
      next[table] = reached.upTo;
      done &&= reached.done;
    }
    return { deleted, next, done };
  };
}
