import type { Lease } from './store.js';

/**
 * What one instance believes about its own leases (actor keys or outbox lanes). The store
 * decides; this only saves a claim round trip while a lease is surely still ours: it counts
 * from before the claim was sent, and stops trusting it a margin before it ends. A name
 * stays "known" for one more lease period after that, so that a notice about it (another
 * instance could not claim it) is taken up by the instance that held it last.
 * @example
 * const book = new LeaseBook({ owner: 'a1', ms: 15_000 });
 * const since = book.now(); // ... claim ... then
 * book.held('conv:web:shop:u1', since);
 */
export class LeaseBook {
  readonly #until = new Map<string, number>();
  readonly #margin: number;

  constructor(readonly lease: Lease) {
    // A claim or commit round trip, a batch and a slow event loop fit well within a third.
    this.#margin = Math.max(50, Math.floor(lease.ms / 3));
  }

  /** Real time: leases run on the database's clock, never on an engine's test clock. */
  now(): number {
    return Date.now();
  }

  /** The lease on `name` was claimed or renewed by a call sent at `since`. */
  held(name: string, since: number): void {
    this.#until.set(name, since + this.lease.ms);
  }

  /** The lease was given up (or lost): work on it needs a claim first. */
  dropped(name: string): void {
    const until = this.#until.get(name);
    if (until !== undefined) this.#until.set(name, Math.min(until, this.now()));
  }

  /** Whether the lease is surely still ours for a while. */
  holds(name: string): boolean {
    const until = this.#until.get(name);
    return until !== undefined && until - this.#margin > this.now();
  }

  /** Whether the lease ends soon (a send in flight should renew it). */
  ending(name: string): boolean {
    const until = this.#until.get(name);
    return until !== undefined && until > this.now() && until - this.lease.ms / 2 < this.now();
  }

  /** Whether this instance held the lease lately. */
  knows(name: string): boolean {
    const until = this.#until.get(name);
    return until !== undefined && until + this.lease.ms > this.now();
  }

  /** Forgets leases that ended long ago. */
  prune(): void {
    const now = this.now();
    for (const [name, until] of this.#until) if (until + this.lease.ms <= now) this.#until.delete(name);
  }
}
