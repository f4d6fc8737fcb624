import type Database from 'better-sqlite3';
import { toEngineError } from '../../core/errors.js';

interface Write {
  readonly run: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit across callers: every write asked for in one turn of the event loop runs in
 * one IMMEDIATE transaction, at the next `setImmediate`, in the order asked. Under load the
 * engine's three writes of a tick (the webhooks' append, the processed batch's commit, the
 * sent replies' `markSent`) then cost one BEGIN, one COMMIT and one write of each changed
 * page to the log, where three transactions wrote the inbox's and outbox's last pages twice.
 *
 * Each write runs in a savepoint of its own: one that throws is rolled back alone and
 * rejects alone, and the others still commit. Every promise settles once the whole
 * transaction has committed (a write is never reported done before it is durable), and all
 * of them reject when the commit itself fails. `afterRollback` runs when some write's
 * changes were undone, so that caches of rows can be cleared.
 */
export class TickWriter {
  #queue: Write[] = [];
  readonly #part: (run: () => unknown) => unknown;
  readonly #all: Database.Transaction<(writes: readonly Write[]) => ({ ok: true; value: unknown } | { ok: false; error: unknown })[]>;

  constructor(
    db: Database.Database,
    private readonly afterRollback: () => void,
  ) {
    this.#part = db.transaction((run: () => unknown) => run());
    this.#all = db.transaction((writes: readonly Write[]) =>
      writes.map((write) => {
        try {
          return { ok: true as const, value: this.#part(write.run) };
        } catch (error) {
          return { ok: false as const, error };
        }
      }),
    );
  }

  /** Runs `run` in the next tick's transaction; answers what it returned once that commits. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queue.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Writes asked for and not yet run. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Runs the queued writes now (the store calls it before it closes). */
  flush(): void {
    const writes = this.#queue;
    if (writes.length === 0) return;
    this.#queue = [];
    let outcomes;
    try {
      outcomes = this.#all.immediate(writes);
    } catch (error) {
      this.afterRollback();
      const failure = toEngineError(error, 'STORE');
      for (const write of writes) write.reject(failure);
      return;
    }
    let rolledBack = false;
    outcomes.forEach((outcome, i) => {
      if (outcome.ok) return writes[i]!.resolve(outcome.value);
      rolledBack = true;
      writes[i]!.reject(toEngineError(outcome.error, 'STORE'));
    });
    if (rolledBack) this.afterRollback();
  }
}
