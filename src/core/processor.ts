import type { EngineObserver } from './engine-types.js';
import { toEngineError } from './errors.js';
import type { ActorKey } from './ids.js';
import { LeaseBook } from './lease-book.js';
import type { Logger } from './logger.js';
import { planBatch, type Router } from './plan.js';
import { RemoteOutcomes } from './remote-outcomes.js';
import { settleLast } from './settle-last.js';
import type { Commit, InboxItem, Lease, OutboxItem, SnapshotEnvelope, Store } from './store.js';

/*
 * Several instances on one store (a `shared` store: PostgreSQL).
 *
 * Events of one actor key are processed by one instance at a time, in arrival (seq) order,
 * because an instance works on a key only while it holds the key's lease, a row
 * (key, owner, expires_at) in the store:
 * - Before a batch, the instance claims the keys it does not surely hold, and the keys that
 *   got events from anywhere but a claim (ingested here, told, scanned): one `claimKeys` call
 *   for the batch. A key is taken when it is free, expired or already ours; the claim answers
 *   the actor as stored and every pending event of the key, which replace what this instance
 *   had queued for it, so an event another instance stored earlier runs first even when this
 *   one held the key all along. A key someone else holds is dropped here: its events wait in
 *   the inbox for the holder, and the claim NOTIFYs the holder so that it looks at once.
 * - The commit re-checks the lease in its transaction (refusing with `lease` when another
 *   owner took the key), extends it, or gives it up when the key's queue is empty, so that
 *   the next event of that customer is processed by whichever instance ingests it.
 * - The instance that ingests an event processes it at once when it can lease the key, and
 *   otherwise leaves it to the holder. Periodically, and on NOTIFY, each instance takes over
 *   pending events whose key is free or expired (`pending(…, owner)`), in seq order: that is
 *   how the events of an instance that died are finished, a lease period after its death.
 * - An instance that waits for an event another one processes (`ingest` with `wait`) polls
 *   the event's outcome.
 * - Under a lease the commit also refuses an event that is no longer pending, so an event a
 *   stale read queued again is never run twice.
 * The outbox is leased per lane the same way by the dispatcher (a customer's replies keep
 * their order across instances). A store that one process owns has no `shared` flag, and
 * none of this runs: no claim, no lease write, the same calls as a single instance.
 */

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
  /** Set on a shared store: this instance's lease on the keys it processes. */
  readonly lease?: Lease;
  /** Actors processed in one batch (one event each, one store transaction for all). */
  readonly batchSize?: number;
  /**
   * Snapshots kept in memory, parsed, so that the next event of a customer skips the read.
   * 10,000 on a shared store (a read is a round trip); none by default on a store in this
   * process, which reads one in microseconds: there a cache only moves each snapshot into
   * V8's old generation, and replacing it on every event leaves garbage for the major GC
   * (about 60 MB more memory under load, for no CPU saved).
   */
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
  /** Shared store only: the leases, keys to claim again, events another instance settles. */
  readonly #leases?: LeaseBook;
  readonly #refresh = new Set<ActorKey>();
  readonly #inBatch = new Set<ActorKey>();
  /**
   * Keys with events queued here that did not come from a claim (ingested here, told, found
   * by a scan): another instance may have stored earlier events of the key, which this one
   * never saw, so the key is claimed again (the claim answers every pending event) first.
   */
  readonly #unsure = new Map<ActorKey, number>();
  readonly #remote?: RemoteOutcomes;
  readonly #cacheSize: number;

  constructor(private readonly options: ProcessorOptions) {
    this.#cacheSize = options.cacheSize ?? (options.lease ? 10_000 : 0);
    if (!options.lease) return;
    this.#leases = new LeaseBook(options.lease);
    this.#remote = new RemoteOutcomes(options.store, options.logger, {
      wanted: (seq) => this.#settled.has(seq) && !this.#seen.has(seq),
      settle: (seq, outcome) => {
        const settle = this.#settled.get(seq);
        this.#settled.delete(seq);
        settle?.(outcome);
      },
    });
  }

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
      if (this.#leases) {
        // A scan can find an event older than one ingested here; the head may be in a batch.
        if (queue.length > 1 && queue[queue.length - 2]!.seq > item.seq) settleLast(queue, (queued) => queued.seq, this.#inBatch.has(key) ? 1 : 0);
        this.#unsure.set(key, (this.#unsure.get(key) ?? 0) + 1);
      }
      this.#ready.add(key);
      this.#queued++;
    }
    this.#kick();
  }

  /** Shared store: another instance could not claim `key`; if it was ours lately, look at it again. */
  notice(key: ActorKey): void {
    if (!this.#leases?.knows(key)) return;
    this.#refresh.add(key);
    this.#kick();
  }

  /** Shared store: forgets leases that ended long ago. */
  prune(): void {
    this.#leases?.prune();
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

  #kick(): void {
    if (!this.#running && (this.#ready.size > 0 || this.#refresh.size > 0)) {
      this.#running = true;
      setImmediate(() => void this.#pump());
    }
  }

  async #pump(): Promise<void> {
    try {
      while (this.#ready.size > 0 || this.#refresh.size > 0) {
        await this.#batch();
        this.#inBatch.clear();
      }
    } catch (error) {
      // The store failed: keep everything queued and try again shortly.
      this.options.logger.error({ err: toEngineError(error, 'STORE').message }, 'processing batch failed');
      await new Promise((resolve) => setTimeout(resolve, 500));
      this.#running = false;
      for (const key of this.#queues.keys()) this.#ready.add(key);
      this.#kick();
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
    let keys: ActorKey[] = [];
    for (const key of this.#ready) {
      keys.push(key);
      this.#ready.delete(key);
      if (keys.length === limit) break;
    }
    if (this.#leases) {
      this.#inBatch.clear();
      for (const key of keys) this.#inBatch.add(key);
      keys = await this.#claim(keys);
    }
    const envelopes = await Promise.all(keys.map((key) => this.#load(key)));
    const started = performance.now();
    const heads = keys.map((key, i) => ({ key, item: this.#queues.get(key)![0]!, stored: envelopes[i] ?? null }));
    const { planned, failed } = await planBatch(store, router, heads, this.options.clock());
    for (const { key, item, error } of failed) await this.#fail(key, item, error);
    if (planned.length === 0) return;
    const commits = planned.map((p) => p.commit);
    const results = this.#leases ? await this.#commitLeased(commits) : await store.commit(commits);
    const elapsed = (performance.now() - started) / 1000;
    const outbox: OutboxItem[] = [];
    const told: InboxItem[] = [];
    let earliestTask: number | null = null;
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      const { key, item, result: stepped, commit } = planned[i]!;
      if (!result.ok) {
        // Another writer moved this actor on (shared: or took its lease): load or claim it again.
        this.#cache.delete(key);
        this.#leases?.dropped(key);
        this.#ready.add(key);
        continue;
      }
      this.#remember(key, { ...stepped.envelope, rev: result.rev });
      for (const row of result.outbox) outbox.push(row);
      for (const row of result.inbox) told.push(row);
      const seenAt = commit.customerSeenAt;
      if (seenAt !== undefined) this.options.seen(item.event.key, seenAt);
      for (const task of commit.tasks) earliestTask = Math.min(earliestTask ?? task.dueAt, task.dueAt);
      observer.processed?.(item.event, elapsed / results.length, stepped.recovered ? 'recovered' : 'ok');
      if (stepped.recovered) logger.warn({ key, recovered: stepped.recovered }, 'stored snapshot could not be used as it was');
      this.#done(key);
    }
    this.options.committed(outbox, earliestTask);
    if (told.length > 0) this.enqueue(told);
  }

  /** Shared store: leases the batch's keys it does not surely hold; answers the keys it may process. */
  async #claim(keys: ActorKey[]): Promise<ActorKey[]> {
    const leases = this.#leases!;
    const wanted = new Set<ActorKey>(this.#refresh);
    this.#refresh.clear();
    for (const key of keys) if (this.#unsure.has(key) || !leases.holds(key)) wanted.add(key);
    if (wanted.size === 0) return keys;
    const unsure = new Map([...wanted].map((key) => [key, this.#unsure.get(key)]));
    // What was queued when the claim was sent: the claim's pending list replaces exactly that.
    const asked = new Map<ActorKey, Set<number>>();
    for (const key of wanted) asked.set(key, new Set((this.#queues.get(key) ?? []).map((item) => item.seq)));
    const since = leases.now();
    let claimed;
    try {
      claimed = await this.options.store.claimKeys([...wanted], leases.lease);
    } catch (error) {
      for (const key of wanted) if (this.#queues.has(key)) this.#ready.add(key);
      throw error;
    }
    const taken = new Map(claimed.map((c) => [c.key, c]));
    const empty: ActorKey[] = [];
    for (const key of wanted) {
      // Events queued here while the claim was on its way may still hide others: claim again then.
      if (this.#unsure.get(key) === unsure.get(key)) this.#unsure.delete(key);
      const claim = taken.get(key);
      if (!claim) {
        this.#drop(key, asked.get(key)!);
        continue;
      }
      leases.held(key, since);
      if (claim.envelope) this.#remember(key, claim.envelope);
      else this.#cache.delete(key);
      if (!this.#replace(key, claim.pending, asked.get(key)!)) empty.push(key);
    }
    if (empty.length > 0) {
      for (const key of empty) leases.dropped(key);
      await this.options.store.releaseLeases(leases.lease.owner, { keys: empty });
    }
    const batch = keys.filter((key) => this.#queues.has(key) && leases.holds(key));
    const inBatch = new Set(batch);
    for (const key of taken.keys()) if (!inBatch.has(key) && this.#queues.has(key)) this.#ready.add(key);
    return batch;
  }

  /** Shared store: commits under the lease, giving up the keys that have nothing more queued. */
  async #commitLeased(commits: readonly Commit[]) {
    const leases = this.#leases!;
    const release: string[] = [];
    for (const commit of commits) {
      if ((this.#queues.get(commit.key)?.length ?? 0) <= 1) {
        release.push(commit.key);
        leases.dropped(commit.key);
      }
    }
    const since = leases.now();
    const results = await this.options.store.commit(commits, { ...leases.lease, release });
    const released = new Set(release);
    results.forEach((result, i) => {
      const key = commits[i]!.key;
      if (result.ok && !released.has(key)) leases.held(key, since);
    });
    return results;
  }

  /** Replaces a freshly claimed key's queue with the store's pending events; answers whether any are left. */
  #replace(key: ActorKey, pending: readonly InboxItem[], asked: ReadonlySet<number>): boolean {
    const stored = new Set(pending.map((item) => item.seq));
    const merged: InboxItem[] = [...pending];
    for (const item of this.#queues.get(key) ?? []) {
      if (stored.has(item.seq)) continue;
      if (asked.has(item.seq)) this.#forget(item.seq);
      else merged.push(item);
    }
    for (const item of pending) {
      if (this.#seen.has(item.seq)) continue;
      this.#seen.add(item.seq);
      this.#queued++;
    }
    merged.sort((a, b) => a.seq - b.seq);
    if (merged.length === 0) {
      this.#queues.delete(key);
      return false;
    }
    this.#queues.set(key, merged);
    return true;
  }

  /** Another instance holds the key: its events are the holder's to process. */
  #drop(key: ActorKey, asked: ReadonlySet<number>): void {
    this.#cache.delete(key);
    this.#leases?.dropped(key);
    const queue = this.#queues.get(key);
    if (!queue) return;
    const rest = queue.filter((item) => !asked.has(item.seq));
    for (const item of queue) if (asked.has(item.seq)) this.#forget(item.seq);
    if (rest.length > 0) {
      this.#queues.set(key, rest);
      this.#ready.add(key);
    } else {
      this.#queues.delete(key);
    }
  }

  /** An event that left this instance's queue unprocessed: a waiter learns its outcome from the store. */
  #forget(seq: number): void {
    this.#seen.delete(seq);
    this.#queued--;
    if (this.#settled.has(seq)) this.#remote?.watch(seq);
    if (this.#queued === 0 && !this.#running) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
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
    if (this.#cacheSize === 0) return;
    this.#cache.set(key, envelope);
    if (this.#cache.size > this.#cacheSize) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
  }
}

function describeCause(cause: unknown): string | undefined {
  return cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause);
}
