import { toEngineError } from './errors.js';
import type { Logger } from './logger.js';
import type { HistoryCursor, Store } from './store.js';

/** How long the store keeps history (settled events, the message log, finished tasks). */
export interface RetentionOptions {
  /** Milliseconds: history older than this is deleted. */
  readonly keepMs: number;
  /** How often to look for history to delete (hourly by default); the first look is at start. */
  readonly everyMs?: number;
  /** Rows of each table deleted in one transaction (100 by default): work waits for a batch at most. */
  readonly batch?: number;
}

const start: HistoryCursor = { inbox: 0, outbox: 0, tasks: 0 };
/**
 * The rest between two batches. Deleting dirties pages all over the indexes; without a rest
 * a long pass outruns the checkpoints, and SQLite's backstop then checkpoints in a commit.
 * Measured on SQLite with 400,000 rows to delete, batches of 100: 1.2 ms a batch at the
 * median, 25 ms at most with a 5 ms rest, 216 ms at most without (500 rows: 4 ms and 275 ms).
 */
const restMs = 5;

/**
 * Deletes history the store no longer needs to keep, on a timer: events processed or failed,
 * messages sent or given up, and tasks that ran or were removed, once older than `keepMs`.
 * Each pass walks the tables oldest first in small batches, resting between them.
 * Several instances on one database may each run it: the deletes are the same.
 * @example
 * const pruner = new HistoryPruner(store, logger, Date.now, { keepMs: 30 * 86_400_000 });
 * pruner.start();
 */
export class HistoryPruner {
  #timer?: NodeJS.Timeout;
  #running?: Promise<number>;
  #started = false;
  #stopping = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly clock: () => number,
    private readonly options: RetentionOptions,
  ) {
    const { keepMs, everyMs = 1, batch = 1 } = options;
    if (!(keepMs > 0 && everyMs > 0 && Number.isInteger(batch) && batch > 0)) {
      throw new RangeError('retention: keepMs and everyMs must be positive, batch a positive integer');
    }
  }

  /** Prunes now, then every `everyMs`; does nothing for a store without `pruneHistory`. */
  start(): void {
    if (!this.store.pruneHistory || this.#started) return;
    this.#started = true;
    this.#stopping = false;
    const every = this.options.everyMs ?? 3_600_000;
    const pass = () => {
      void this.prune()
        .catch((error: unknown) => this.logger.warn({ err: toEngineError(error, 'STORE').message }, 'could not delete old history'))
        .finally(() => {
          if (!this.#stopping) this.#timer = setTimeout(pass, every).unref();
        });
    };
    pass();
  }

  /** No pass starts after this; resolves once a pass under way stopped (between two batches). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#started = false;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One pass (or the one under way): deletes history older than `keepMs`; answers how many rows went. */
  prune(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const prune = this.store.pruneHistory?.bind(this.store);
    if (!prune) return 0;
    const before = this.clock() - this.options.keepMs;
    const batch = this.options.batch ?? 100;
    let from = start;
    let deleted = 0;
    for (;;) {
      const result = await prune(before, from, batch);
      deleted += result.deleted;
      from = result.next;
      if (result.done || this.#stopping) break;
      // Events and sends waiting on the store go first, and the checkpoints keep up.
      await new Promise((resolve) => setTimeout(resolve, restMs));
    }
    if (deleted > 0) this.logger.info({ deleted, before }, 'deleted old history');
    return deleted;
  }
}
