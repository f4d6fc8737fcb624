import { toEngineError } from './errors.js';
import type { Logger } from './logger.js';
import type { Store } from './store.js';

/**
 * Events a caller waits for (`ingest` with `wait`) that another instance of a shared store
 * processes: their outcomes are read from the store, backing off from 25 ms to 250 ms.
 * @example
 * const remote = new RemoteOutcomes(store, logger, { wanted: (seq) => waiting.has(seq), settle });
 * remote.watch(seq);
 */
export class RemoteOutcomes {
  readonly #seqs = new Set<number>();
  #polling = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly hooks: {
      /** Whether someone still waits for `seq` here (and it was not queued here again). */
      readonly wanted: (seq: number) => boolean;
      readonly settle: (seq: number, outcome: 'done' | 'failed') => void;
    },
  ) {}

  watch(seq: number): void {
    this.#seqs.add(seq);
    void this.#poll();
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      for (let wait = 25; this.#seqs.size > 0; wait = Math.min(wait * 2, 250)) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        for (const seq of this.#seqs) if (!this.hooks.wanted(seq)) this.#seqs.delete(seq);
        if (this.#seqs.size === 0) break;
        try {
          for (const { seq, outcome } of await this.store.outcomes([...this.#seqs])) {
            this.#seqs.delete(seq);
            this.hooks.settle(seq, outcome);
          }
        } catch (error) {
          this.logger.warn({ err: toEngineError(error, 'STORE').message }, 'could not read event outcomes');
        }
      }
    } finally {
      this.#polling = false;
    }
  }
}
