import { Batcher } from './batcher.js';
import { Delivery, errorMessage, type DeliveryOptions } from './delivery.js';
import type { EngineObserver } from './engine-types.js';
import { LeaseBook } from './lease-book.js';
import { settleLast } from './settle-last.js';
import type { Lease, OutboxItem } from './store.js';

export interface DispatcherOptions extends DeliveryOptions {
  readonly observer: EngineObserver;
  readonly maxInFlight: number;
  /** Called whenever an effect leaves the queue (sent, or given up): the engine's backpressure. */
  readonly progressed?: () => void;
  /** Set on a shared store: this instance's lease on the lanes it sends (see the processor's notes). */
  readonly lease?: Lease;
}

interface Lane {
  readonly name: string;
  readonly items: OutboxItem[];
  busy: boolean;
  timer?: NodeJS.Timeout;
  /** Shared store: a claim of this lane is on its way. */
  claiming?: boolean;
  /**
   * Shared store: rows were queued here that did not come from a claim (a commit, a retry).
   * Another instance may have committed rows to the lane before them, which this one never
   * saw: the lane is claimed again (the claim answers every pending row) before it sends.
   */
  unsure?: number;
}

type SentResult = { id: number; platformId?: string; at: number; lane: string };

/**
 * Sends outbox effects. Each lane (a customer's replies) goes one at a time in order;
 * lanes run side by side up to `maxInFlight`. A retryable failure keeps the effect at the
 * head of its lane until a later try; a permanent one records it failed and the lane moves on.
 * Successful sends are marked in the store in batches, one write per tick.
 *
 * On a shared store a lane is sent from only while this instance holds its lease: lanes are
 * claimed in batches (one `claimLanes` per tick) before their head goes out, the lease is
 * renewed while a send is in flight and with each `markSent`, and given up when the lane is empty.
 */
export class Dispatcher {
  readonly #lanes = new Map<string, Lane>();
  readonly #ready: Lane[] = [];
  readonly #delivery: Delivery;
  readonly #sent: Batcher<SentResult, unknown>;
  #inFlight = 0;
  #pending = 0;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  /** Shared store only: leases, the rows queued here, lanes to claim at the next tick. */
  readonly #leases?: LeaseBook;
  readonly #known = new Set<number>();
  readonly #claims = new Set<Lane>();
  /** Lanes given up by a `markSent` still on its way, with that call. */
  readonly #releasing = new Map<string, Promise<unknown>>();
  /** Reads of the store in flight, and the rows settled here meanwhile: such a read may still list them. */
  readonly #reads = new Set<object>();
  readonly #settledDuringReads = new Set<number>();

  constructor(private readonly options: DispatcherOptions) {
    this.#delivery = new Delivery(options);
    if (options.lease) this.#leases = new LeaseBook(options.lease);
    this.#sent = new Batcher<SentResult, unknown>((results) => (this.#leases ? this.#markLeased(results) : options.store.markSent(results)));
  }

  /** Effects committed (or recovered at start), in id order. */
  enqueue(items: readonly OutboxItem[]): void {
    this.#add(items, true);
  }

  #add(items: readonly OutboxItem[], unsure: boolean): void {
    for (const item of items) {
      if (this.#leases) {
        if (this.#known.has(item.id)) continue;
        this.#known.add(item.id);
      }
      let lane = this.#lanes.get(item.lane);
      if (!lane) {
        lane = { name: item.lane, items: [], busy: false };
        this.#lanes.set(item.lane, lane);
      }
      lane.items.push(item);
      if (this.#leases) {
        settleLast(lane.items, (row) => row.id, lane.busy ? 1 : 0);
        if (unsure) lane.unsure = (lane.unsure ?? 0) + 1;
      }
      this.#pending++;
      if (lane.items.length === 1 && !lane.busy && !lane.timer) this.#ready.push(lane);
    }
    this.#kick();
  }

  /** Shared store: queues rows a scan of the store found, leaving out those that went out while it ran. */
  async adopt(read: () => Promise<readonly OutboxItem[]>): Promise<void> {
    const token = this.#beginRead();
    try {
      const items = await read();
      this.enqueue(items.filter((item) => !this.#settledDuringReads.has(item.id)));
    } finally {
      this.#endRead(token);
    }
  }

  #beginRead(): object {
    const token = {};
    this.#reads.add(token);
    return token;
  }

  #endRead(token: object): void {
    this.#reads.delete(token);
    if (this.#reads.size === 0) this.#settledDuringReads.clear();
  }

  /** Shared store: another instance could not claim `lane`; if it was ours lately, claim it again. */
  notice(lane: string): void {
    if (!this.#leases?.knows(lane)) return;
    let found = this.#lanes.get(lane);
    if (!found) {
      found = { name: lane, items: [], busy: false };
      this.#lanes.set(lane, found);
    }
    this.#claim(found);
  }

  /** Shared store: forgets leases that ended long ago. */
  prune(): void {
    this.#leases?.prune();
  }

  /** Shared store: renews the leases of lanes whose send is taking long. */
  async heartbeat(): Promise<void> {
    const leases = this.#leases;
    if (!leases) return;
    const lanes = [...this.#lanes.values()].filter((lane) => lane.busy && leases.ending(lane.name)).map((lane) => lane.name);
    if (lanes.length === 0) return;
    const since = leases.now();
    const kept = new Set(await this.options.store.renewLeases(leases.lease, { lanes }));
    for (const name of lanes) {
      if (kept.has(name)) leases.held(name, since);
      else leases.dropped(name);
    }
  }

  unhealthyChannels(): string[] {
    return [...this.#delivery.unhealthy];
  }

  /** Effects not yet sent or given up, including those waiting for a retry. */
  get pending(): number {
    return this.#pending;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when no send is in flight (and, with `all`, nothing is pending). */
  async settled(all: boolean): Promise<void> {
    while (all ? this.#pending > 0 : this.#inFlight > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /** Starts no new send; timers are cleared. Sends in flight finish. */
  stop(): void {
    this.#stopped = true;
    for (const lane of this.#lanes.values()) if (lane.timer) clearTimeout(lane.timer);
  }

  #kick(): void {
    while (!this.#stopped && this.#inFlight < this.options.maxInFlight && this.#ready.length > 0) {
      const lane = this.#ready.shift()!;
      const head = lane.items[0];
      if (!head || lane.busy || lane.timer || lane.claiming) continue;
      const wait = head.availableAt - this.options.clock();
      if (wait > 0) {
        this.#later(lane, wait);
        continue;
      }
      if (this.#leases && (lane.unsure || !this.#leases.holds(lane.name))) {
        this.#claim(lane);
        continue;
      }
      lane.busy = true;
      this.#inFlight++;
      void this.#send(lane, head);
    }
  }

  #later(lane: Lane, wait: number): void {
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      this.#ready.push(lane);
      this.#kick();
    }, Math.min(wait, 2_147_483_647));
  }

  async #send(lane: Lane, item: OutboxItem): Promise<void> {
    const started = performance.now();
    const { options } = this;
    let outcome: 'sent' | 'retry' | 'failed' | 'blocked' | 'dead';
    let result: { platformId?: string } | void | undefined;
    try {
      result = await this.#delivery.send(item);
      outcome = 'sent';
    } catch (error) {
      const failure = await this.#delivery.failed(item, error);
      outcome = failure.outcome;
      if (failure.outcome === 'retry') {
        if (failure.item) lane.items[0] = failure.item;
        this.#later(lane, failure.delay);
      }
    }
    if (outcome === 'sent') await this.#markSent({ id: item.id, platformId: result?.platformId, at: options.clock(), lane: lane.name });
    options.observer.dispatched?.(item.effect.type, outcome, (performance.now() - started) / 1000);
    lane.busy = false;
    this.#inFlight--;
    if (outcome !== 'retry') {
      lane.items.shift();
      this.#pending--;
      this.#known.delete(item.id);
      if (this.#reads.size > 0) this.#settledDuringReads.add(item.id);
    }
    if (lane.items.length === 0) {
      if (!lane.timer && !lane.claiming) this.#lanes.delete(lane.name);
    } else if (outcome !== 'retry') {
      this.#ready.push(lane);
    }
    if (outcome !== 'retry') options.progressed?.();
    this.#wakeIdle();
    this.#kick();
  }

  /**
   * Records a send. A store that fails here must not make the effect go out again: the
   * write is retried (backing off) until it lands or the dispatcher stops.
   */
  async #markSent(result: SentResult): Promise<void> {
    for (let wait = 100; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        await this.#sent.add([result]);
        return;
      } catch (error) {
        this.options.logger.error({ outboxId: result.id, err: errorMessage(error) }, 'could not record a sent effect');
        if (this.#stopped) return;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Shared store: marks a batch sent, renewing the leases of lanes with more to send and giving up the others. */
  async #markLeased(results: SentResult[]): Promise<void> {
    const leases = this.#leases!;
    const keep: string[] = [];
    const release: string[] = [];
    for (const { lane: name } of results) {
      const lane = this.#lanes.get(name);
      // The row being marked is still the lane's head: the lane is empty after it, unless a
      // claim of the lane is on its way. That claim read the lane's rows under this lease and
      // will answer that it holds the lane: giving the lease up meanwhile would let another
      // instance claim the lane too, and both would send the rows the claim brings.
      if (lane && (lane.items.length > 1 || lane.claiming)) keep.push(name);
      else {
        release.push(name);
        leases.dropped(name);
      }
    }
    const since = leases.now();
    const marking = this.options.store.markSent(results, { ...leases.lease, keep, release });
    for (const name of release) this.#releasing.set(name, marking);
    const kept = new Set(
      await marking.finally(() => {
        for (const name of release) if (this.#releasing.get(name) === marking) this.#releasing.delete(name);
      }),
    );
    // A lane whose lease lapsed (a slow send) is claimed again before its next send.
    for (const name of keep) {
      if (kept.has(name)) leases.held(name, since);
      else leases.dropped(name);
    }
  }

  /** Shared store: claims `lane` with the others asked for in this tick. */
  #claim(lane: Lane): void {
    if (lane.claiming) return;
    lane.claiming = true;
    this.#claims.add(lane);
    if (this.#claims.size === 1) setImmediate(() => void this.#claimAll());
  }

  async #claimAll(): Promise<void> {
    const leases = this.#leases!;
    const lanes = [...this.#claims];
    this.#claims.clear();
    // A claim that reached the store before this instance's release of the same lane would
    // renew the lease only for the release to delete it: this instance would send from a lane
    // another could claim. So the claim waits until such a release has landed (or failed).
    const releases = lanes.flatMap((lane) => this.#releasing.get(lane.name) ?? []);
    if (releases.length > 0) await Promise.allSettled(releases);
    const asked = new Map(lanes.map((lane) => [lane, new Set(lane.items.map((item) => item.id))]));
    const unsure = new Map(lanes.map((lane) => [lane, lane.unsure ?? 0]));
    const since = leases.now();
    const token = this.#beginRead();
    let claimed;
    try {
      claimed = await this.options.store.claimLanes(lanes.map((lane) => lane.name), leases.lease);
    } catch (error) {
      this.#endRead(token);
      this.options.logger.error({ err: errorMessage(error) }, 'could not claim outbox lanes');
      for (const lane of lanes) {
        lane.claiming = false;
        if (lane.items.length > 0) this.#later(lane, 500);
      }
      return;
    }
    const settled = new Set(this.#settledDuringReads);
    this.#endRead(token);
    const taken = new Map(claimed.map((claim) => [claim.lane, claim.pending]));
    for (const lane of lanes) {
      lane.claiming = false;
      const pending = taken.get(lane.name);
      if (pending) leases.held(lane.name, since);
      else leases.dropped(lane.name);
      // Rows queued while the claim was on its way may still hide others: claim again then.
      if (lane.unsure === unsure.get(lane)) lane.unsure = 0;
      const stored = new Set((pending ?? []).map((item) => item.id));
      // Rows queued when the claim was sent and no longer pending went out from another instance.
      for (let i = lane.items.length - 1; i >= (lane.busy ? 1 : 0); i--) {
        const item = lane.items[i]!;
        if (asked.get(lane)!.has(item.id) && (!pending || !stored.has(item.id))) {
          lane.items.splice(i, 1);
          this.#pending--;
          this.#known.delete(item.id);
        }
      }
      if (pending) this.#add(pending.filter((item) => !settled.has(item.id)), false);
      if (lane.items.length === 0 && !lane.busy && !lane.timer) this.#lanes.delete(lane.name);
      else if (!lane.busy && !lane.timer) this.#ready.push(lane);
    }
    this.#wakeIdle();
    this.#kick();
  }

  #wakeIdle(): void {
    if (this.#inFlight === 0 || this.#pending === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
