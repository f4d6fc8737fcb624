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
 *
 * The write lock is waited for here, not in SQLite: the connection's `busy_timeout` is 0,
 * and a transaction that finds the lock taken (by the checkpointer's thread finishing the
 * log, or another process) is tried again a few milliseconds later, with the writes asked
 * for meanwhile, for up to `busyTimeoutMs`. SQLite's own wait would put the event loop to
 * sleep: no request read, no flow stepped, until the lock came free.
 */
export class TickWriter {
  #queue: Write[] = [];
  /** Writes have waited for the lock since then; a retry is due. */
  #busySince: number | undefined;
  #retries = 0;
  /** Writes of the transaction in progress that have run (none: BEGIN itself failed). */
  #ran = 0;
  readonly #part: (run: () => unknown) => unknown;
  readonly #all: Database.Transaction<(writes: readonly Write[]) => ({ ok: true; value: unknown } | { ok: false; error: unknown })[]>;

  constructor(
    private readonly db: Database.Database,
    private readonly afterRollback: () => void,
    private readonly busyTimeoutMs: number,
  ) {
    this.#part = db.transaction((run: () => unknown) => run());
    this.#all = db.transaction((writes: readonly Write[]) =>
      writes.map((write) => {
        this.#ran++;
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
      if (this.#queue.length === 1 && this.#busySince === undefined) setImmediate(() => this.flush());
    });
  }

  /** Writes asked for and not yet run. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Runs the queued writes now. `wait` (the store's close) waits for the lock in SQLite, up
   * to `busyTimeoutMs`, instead of trying again later.
   */
  flush({ wait = false } = {}): void {
    const writes = this.#queue;
    if (writes.length === 0) return;
    this.#queue = [];
    let outcomes;
    this.#ran = 0;
    try {
      if (wait) this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      try {
        outcomes = this.#all.immediate(writes);
      } finally {
        if (wait) this.db.pragma('busy_timeout = 0');
      }
    } catch (error) {
      if (!wait && this.#ran === 0 && isBusy(error) && this.#waitForLock(writes)) return;
      this.#busySince = undefined;
      this.afterRollback();
      const failure = toEngineError(error, 'STORE');
      for (const write of writes) write.reject(failure);
      return;
    }
    this.#busySince = undefined;
    let rolledBack = false;
    outcomes.forEach((outcome, i) => {
      if (outcome.ok) return writes[i]!.resolve(outcome.value);
      rolledBack = true;
      writes[i]!.reject(toEngineError(outcome.error, 'STORE'));
    });
    if (rolledBack) this.afterRollback();
  }

  /** Keeps `writes` queued for a later try, if they may still wait; answers whether they do. */
  #waitForLock(writes: Write[]): boolean {
    const now = performance.now();
    if (this.#busySince === undefined) {
      this.#busySince = now;
      this.#retries = 0;
    }
    if (now - this.#busySince >= this.busyTimeoutMs) return false;
    this.#queue = writes;
    // 1, 2, 4 ms, then every 4 ms: a checkpoint's last pages take a few milliseconds.
    setTimeout(() => this.flush(), Math.min(4, 2 ** this.#retries++));
    return true;
  }
}

/** SQLITE_BUSY and its extended codes: the lock is someone else's for now. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
