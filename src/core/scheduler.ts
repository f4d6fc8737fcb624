import type { Logger } from './logger.js';
import type { InboxItem, Store } from './store.js';

/**
 * Fires due tasks into the inbox. It sleeps until the earliest task is due (no polling),
 * and is woken when a nearer task may have been added.
 */
export class Scheduler {
  #timer?: NodeJS.Timeout;
  #nextAt: number | null = null;
  #stopped = true;
  #busy = false;
  #again = false;
  #running?: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly fired: (items: InboxItem[]) => void,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#stopped = false;
    void this.wake();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A task due at `at` (or of unknown time) may have been added: look again if it is nearer. */
  wake(at?: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (at !== undefined && this.#nextAt !== null && at >= this.#nextAt) return Promise.resolve();
    if (this.#busy) {
      this.#again = true;
      return this.#running ?? Promise.resolve();
    }
    this.#running = this.#tick();
    return this.#running;
  }

  async #tick(): Promise<void> {
    this.#busy = true;
    try {
      do {
        this.#again = false;
        const now = this.clock();
        let fired: InboxItem[];
        do {
          fired = await this.store.fireDueTasks(now, 100);
          if (fired.length > 0) this.fired(fired);
        } while (fired.length === 100);
        this.#nextAt = await this.store.nextTaskAt();
      } while (this.#again);
      this.#arm();
    } catch (error) {
      this.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'scheduler could not read tasks');
      this.#nextAt = this.clock() + 5_000;
      this.#arm();
    } finally {
      this.#busy = false;
    }
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || this.#nextAt === null) return;
    const delay = Math.max(0, Math.min(this.#nextAt - this.clock(), 2_147_483_647));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#nextAt = null;
      void this.wake();
    }, delay);
    this.#timer.unref();
  }
}
