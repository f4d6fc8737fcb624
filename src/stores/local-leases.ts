import type { Lease, LeaseRenewal, StoreNotice } from '../core/store.js';

/**
 * Leases kept in the memory of the one process that owns a store (memory, SQLite). They
 * give those stores the lease semantics of the port, so the same conformance suite runs
 * against them, and let two engines in one process share a memory store. The engine never
 * calls them on a store that is not `shared`.
 * @example
 * const keys = new LocalLeases(Date.now);
 * keys.take('conv:web:shop:u1', { owner: 'a', ms: 15_000 }); // true
 */
export class LocalLeases {
  readonly #held = new Map<string, { owner: string; until: number }>();

  constructor(private readonly clock: () => number) {}

  /** Takes or extends the lease when it is free, expired or the owner's; answers whether it did. */
  take(name: string, { owner, ms }: Lease): boolean {
    const now = this.clock();
    const held = this.#held.get(name);
    if (held && held.owner !== owner && held.until >= now) return false;
    this.#held.set(name, { owner, until: now + ms });
    return true;
  }

  /** Whether `owner` holds the lease (an expired one that nobody took still counts). */
  holds(name: string, owner: string): boolean {
    return this.#held.get(name)?.owner === owner;
  }

  /** Whether `owner` may work on `name`: nobody else holds a live lease on it. */
  open(name: string, owner: string): boolean {
    const held = this.#held.get(name);
    return !held || held.owner === owner || held.until < this.clock();
  }

  /** Extends `keep` and drops `release`, of the owner's leases only; answers the names kept. */
  renew({ owner, ms, keep = [], release = [] }: LeaseRenewal): string[] {
    const until = this.clock() + ms;
    const kept: string[] = [];
    for (const name of keep) {
      const held = this.#held.get(name);
      if (held?.owner !== owner) continue;
      held.until = until;
      kept.push(name);
    }
    for (const name of release) if (this.#held.get(name)?.owner === owner) this.#held.delete(name);
    return kept;
  }

  /** Drops every lease of `owner`. */
  releaseAll(owner: string): void {
    for (const [name, held] of this.#held) if (held.owner === owner) this.#held.delete(name);
  }
}

/** The listeners of an in-process shared store: what a PostgreSQL store does with NOTIFY. */
export class LocalNotices {
  readonly #listeners = new Set<(notice: StoreNotice) => void>();

  watch(listener: (notice: StoreNotice) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Tells every listener, after the current call returned (as a notification arrives after its commit). */
  send(notice: StoreNotice): void {
    if (this.#listeners.size === 0) return;
    setImmediate(() => {
      for (const listener of this.#listeners) listener(notice);
    });
  }
}

/**
 * The port's `renewLeases` and `releaseLeases` over a store's key and lane leases, the same
 * for every store that keeps its leases in memory.
 * @example const { renew, release } = leasePair(keyLeases, laneLeases);
 */
export function leasePair(keys: LocalLeases, lanes: LocalLeases) {
  return {
    renew: (lease: Lease, { keys: keep = [], lanes: keepLanes = [] }: { keys?: readonly string[]; lanes?: readonly string[] }) => [
      ...keys.renew({ ...lease, keep }),
      ...lanes.renew({ ...lease, keep: keepLanes }),
    ],
    release: (owner: string, names?: { keys?: readonly string[]; lanes?: readonly string[] }) => {
      if (!names) {
        keys.releaseAll(owner);
        lanes.releaseAll(owner);
        return;
      }
      keys.renew({ owner, ms: 0, release: names.keys ?? [] });
      lanes.renew({ owner, ms: 0, release: names.lanes ?? [] });
    },
  };
}
