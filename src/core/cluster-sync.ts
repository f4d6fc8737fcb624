import type { Dispatcher } from './dispatcher.js';
import type { Logger } from './logger.js';
import type { Processor } from './processor.js';
import type { Scheduler } from './scheduler.js';
import type { Store, StoreNotice } from './store.js';

const page = 1_000;
/** A scan takes at most this many pages; the next one (or the next instance) takes the rest. */
const pagesPerScan = 10;

export interface ClusterSyncOptions {
  readonly store: Store;
  readonly owner: string;
  readonly processor: Processor;
  readonly dispatcher: Dispatcher;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** The slow fallback: how often to look for work nobody told this instance about. */
  readonly pollMs: number;
  /** The lease length: sends in flight have their lanes renewed four times per lease. */
  readonly leaseMs: number;
}

/**
 * How an instance on a shared store finds work it did not ingest: on the store's notices
 * (another instance could not claim a key or lane this one held lately; a task was added)
 * and, for what no notice covers (an instance that died, a notice lost while reconnecting),
 * by a slow poll that takes over pending events and rows whose lease is free or expired.
 * Scans never overlap: a scan asked for while one runs runs once after it.
 * @example
 * const sync = new ClusterSync({ store, owner, processor, dispatcher, scheduler, logger, pollMs: 3_000 });
 * await sync.start();
 */
export class ClusterSync {
  #unwatch?: () => void;
  #timer?: NodeJS.Timeout;
  #heartbeat?: NodeJS.Timeout;
  readonly #scans = { inbox: new Scan(), outbox: new Scan() };

  constructor(private readonly options: ClusterSyncOptions) {}

  /** Takes over what is free now, then listens and polls. */
  async start(): Promise<void> {
    this.#unwatch = this.options.store.watch?.((notice) => this.#notice(notice));
    await Promise.all([this.#scanInbox(), this.#scanOutbox()]);
    this.#timer = setInterval(() => this.#tick(), this.options.pollMs);
    this.#timer.unref();
    this.#heartbeat = setInterval(() => this.#renew(), Math.max(25, Math.floor(this.options.leaseMs / 4)));
    this.#heartbeat.unref();
  }

  stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#timer = undefined;
    this.#heartbeat = undefined;
  }

  #notice(notice: StoreNotice): void {
    const { processor, dispatcher, scheduler, owner } = this.options;
    switch (notice.topic) {
      case 'inbox':
        if (notice.from === owner) return;
        if (notice.key) processor.notice(notice.key);
        else void this.#scanInbox();
        return;
      case 'outbox':
        if (notice.from === owner) return;
        if (notice.lane) dispatcher.notice(notice.lane);
        else void this.#scanOutbox();
        return;
      case 'tasks':
        void scheduler.wake(notice.at);
        return;
      case 'resync':
        this.#tick();
        return;
    }
  }

  #tick(): void {
    const { processor, dispatcher, scheduler } = this.options;
    processor.prune();
    void this.#scanInbox();
    void this.#scanOutbox();
    void scheduler.wake();
    dispatcher.prune();
  }

  #renew(): void {
    this.options.dispatcher.heartbeat().catch((error: unknown) => this.options.logger.warn({ err: describe(error) }, 'could not renew outbox leases'));
  }

  #scanInbox(): Promise<void> {
    const { store, owner, processor } = this.options;
    return this.#scans.inbox.run(async () => {
      for (let after = 0, pages = 0; pages < pagesPerScan; pages++) {
        const items = await store.pending(after, page, owner);
        processor.enqueue(items);
        if (items.length < page) return;
        after = items[items.length - 1]!.seq;
      }
    }, this.options.logger);
  }

  #scanOutbox(): Promise<void> {
    const { store, owner, dispatcher } = this.options;
    return this.#scans.outbox.run(async () => {
      for (let after = 0, pages = 0; pages < pagesPerScan; pages++) {
        let last: number | undefined;
        await dispatcher.adopt(async () => {
          const items = await store.pendingOutbox(after, page, owner);
          last = items.length < page ? undefined : items[items.length - 1]!.id;
          return items;
        });
        if (last === undefined) return;
        after = last;
      }
    }, this.options.logger);
  }
}

/** One kind of scan: never two at once, and one more after the current one when asked meanwhile. */
class Scan {
  #running?: Promise<void>;
  #again = false;

  run(work: () => Promise<void>, logger: Logger): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await work();
        } catch (error) {
          logger.warn({ err: describe(error) }, 'could not look for work in the shared store');
        }
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
