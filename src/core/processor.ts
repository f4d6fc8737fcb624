import type { EngineObserver } from './engine-types.js';
import { toEngineError } from './errors.js';
import type { ActorKey } from './ids.js';
import type { Logger } from './logger.js';
import { planCommit, type Router } from './plan.js';
import { step, type StepResult } from './runtime.js';
import type { Commit, InboxItem, OutboxItem, SnapshotEnvelope, Store } from './store.js';

export interface ProcessorOptions {
  readonly store: Store;
  readonly router: Router;
  readonly logger: Logger;
  readonly observer: EngineObserver;
  readonly clock: () => number;
  /** Called with what each batch committed: outbox rows to send, the earliest new task. */
  readonly committed: (outbox: readonly OutboxItem[], earliestTask: number | null) => void;
  /** A customer wrote at `at` (their conversation key). */
  readonly seen: (key: ActorKey, at: number) => void;
  /** Actors processed in one batch (one event each, one store transaction for all). */
  readonly batchSize?: number;
  /** Hot snapshots kept in memory. */
  readonly cacheSize?: number;
}

/**
 * Runs stored events through their flows. Events of one actor key go strictly one at a
 * time, in arrival order; different keys are processed side by side, one event per key
 * per batch, and a whole batch is committed in one store call (group commit).
 */
export class Processor {
  readonly #queues = new Map<ActorKey, InboxItem[]>();
  readonly #ready = new Set<ActorKey>();
  readonly #cache = new Map<ActorKey, SnapshotEnvelope>();
  readonly #seen = new Set<number>();
  #running = false;
  #queued = 0;
  #waiters: (() => void)[] = [];
  readonly #settled = new Map<number, (outcome: 'done' | 'failed') => void>();

  constructor(private readonly options: ProcessorOptions) {}

  /** Events to process, in arrival order (an event already queued is skipped). */
  enqueue(items: readonly InboxItem[]): void {
    for (const item of items) {
      if (this.#seen.has(item.seq)) continue;
      this.#seen.add(item.seq);
      const key = item.event.key;
      let queue = this.#queues.get(key);
      if (!queue) {
        queue = [];
        this.#queues.set(key, queue);
      }
      queue.push(item);
      this.#ready.add(key);
      this.#queued++;
    }
    if (!this.#running && this.#ready.size > 0) {
      this.#running = true;
      setImmediate(() => void this.#pump());
    }
  }

  /** Resolves once the queued event `seq` is committed ('done') or given up ('failed'). */
  settled(seq: number): Promise<'done' | 'failed'> {
    return new Promise((resolve) => {
      const previous = this.#settled.get(seq);
      this.#settled.set(seq, previous ? (outcome) => (previous(outcome), resolve(outcome)) : resolve);
    });
  }

  /** Events queued and not yet committed. */
  get queued(): number {
    return this.#queued;
  }

  /** Resolves when nothing is queued. */
  async drained(): Promise<void> {
    while (this.#queued > 0 || this.#running) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async #pump(): Promise<void> {
    try {
      while (this.#ready.size > 0) await this.#batch();
    } catch (error) {
      // The store failed: keep everything queued and try again shortly.
      this.options.logger.error({ err: toEngineError(error, 'STORE').message }, 'processing batch failed');
      await new Promise((resolve) => setTimeout(resolve, 500));
      this.#running = false;
      for (const key of this.#queues.keys()) this.#ready.add(key);
      if (this.#ready.size > 0) this.enqueue([]);
      return;
    }
    this.#running = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async #batch(): Promise<void> {
    const { store, router, observer, logger } = this.options;
    const limit = this.options.batchSize ?? 256;
    const keys: ActorKey[] = [];
    for (const key of this.#ready) {
      keys.push(key);
      this.#ready.delete(key);
      if (keys.length === limit) break;
    }
    const envelopes = await Promise.all(keys.map((key) => this.#load(key)));
    const started = performance.now();
    const commits: Commit[] = [];
    const now = this.options.clock();
    const steps: { key: ActorKey; item: InboxItem; result: StepResult; stored: SnapshotEnvelope | null }[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = this.#queues.get(key)![0]!;
      const stored = envelopes[i] ?? null;
      try {
        steps.push({ key, item, result: step(router.flowFor(key), stored, item.event), stored });
      } catch (error) {
        await this.#fail(key, item, error);
      }
    }
    const orderIds = await allocate(store, steps);
    const planned: typeof steps = [];
    for (const s of steps) {
      try {
        commits.push(
          planCommit({ event: s.item.event, seq: s.item.seq, expectedRev: s.stored?.rev ?? 0, result: s.result, orderIds, router, at: now }),
        );
        planned.push(s);
      } catch (error) {
        await this.#fail(s.key, s.item, error);
      }
    }
    if (commits.length === 0) return;
    const results = await store.commit(commits);
    const elapsed = (performance.now() - started) / 1000;
    const outbox: OutboxItem[] = [];
    const told: InboxItem[] = [];
    let earliestTask: number | null = null;
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      const { key, item, result: stepped } = planned[i]!;
      if (!result.ok) {
        // Another writer moved this actor on: reload it and run the event again.
        this.#cache.delete(key);
        this.#ready.add(key);
        continue;
      }
      this.#remember(key, { ...stepped.envelope, rev: result.rev });
      for (const row of result.outbox) outbox.push(row);
      for (const row of result.inbox) told.push(row);
      const seenAt = commits[i]!.customerSeenAt;
      if (seenAt !== undefined) this.options.seen(item.event.key, seenAt);
      for (const task of commits[i]!.tasks) earliestTask = Math.min(earliestTask ?? task.dueAt, task.dueAt);
      observer.processed?.(item.event, elapsed / results.length, stepped.recovered ? 'recovered' : 'ok');
      if (stepped.recovered) logger.warn({ key, recovered: stepped.recovered }, 'stored snapshot could not be used as it was');
      this.#done(key);
    }
    this.options.committed(outbox, earliestTask);
    if (told.length > 0) this.enqueue(told);
  }

  async #fail(key: ActorKey, item: InboxItem, error: unknown): Promise<void> {
    const failure = toEngineError(error, 'FLOW');
    this.options.logger.error(
      { key, seq: item.seq, type: item.event.type, err: failure.message, cause: describeCause(failure.cause) },
      'event failed',
    );
    await this.options.store.fail(item.seq, failure.message);
    this.options.observer.processed?.(item.event, 0, 'failed');
    this.#done(key, 'failed');
  }

  #done(key: ActorKey, outcome: 'done' | 'failed' = 'done'): void {
    const queue = this.#queues.get(key)!;
    const item = queue.shift()!;
    this.#seen.delete(item.seq);
    const settle = this.#settled.get(item.seq);
    if (settle) {
      this.#settled.delete(item.seq);
      settle(outcome);
    }
    this.#queued--;
    if (queue.length === 0) this.#queues.delete(key);
    else this.#ready.add(key);
  }

  async #load(key: ActorKey): Promise<SnapshotEnvelope | null> {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    return this.options.store.load(key);
  }

  #remember(key: ActorKey, envelope: SnapshotEnvelope): void {
    this.#cache.delete(key);
    this.#cache.set(key, envelope);
    if (this.#cache.size > (this.options.cacheSize ?? 10_000)) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
  }
}

async function allocate(store: Store, steps: readonly { result: StepResult }[]) {
  let count = 0;
  for (const s of steps) for (const effect of s.result.effects) if (effect.type === 'create_order') count++;
  return count === 0 ? [] : store.allocateOrderIds(count);
}

function describeCause(cause: unknown): string | undefined {
  return cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause);
}

