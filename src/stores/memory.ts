import { EngineError, toEngineError } from '../core/errors.js';
import type { InboundEvent } from '../core/events.js';
import type { ActorKey } from '../core/ids.js';
import { leasePair, LocalLeases, LocalNotices } from './local-leases.js';
import { MemoryCustomers } from './memory/customers.js';
import { MemoryOrders } from './memory/orders.js';
import { MemoryOutbox } from './memory/outbox.js';
import { MemoryTasks } from './memory/tasks.js';
import { prunedFromMap } from './prune.js';
import { taskDueEvent, type Commit, type CommitResult, type InboxItem, type LeaseRenewal, type Store } from '../core/store.js';

export interface MemoryStoreOptions {
  /** Milliseconds since the epoch, for arrival and failure times; tests drive it. */
  readonly clock?: () => number;
  /**
   * Lets several engines in this process share the store, coordinating through its leases
   * and notices as instances do on PostgreSQL (tests of the multi-instance mode).
   */
  readonly shared?: boolean;
}

interface InboxRow {
  readonly seq: number;
  readonly eventId: string;
  readonly key: ActorKey;
  readonly json: string;
  readonly receivedAt: number;
  status: 0 | 1 | 2;
  error?: string;
  doneAt?: number;
}

/** A commit that passed its revision check, with everything that could throw already done. */
interface Plan {
  readonly commit: Commit;
  readonly snapshot: string;
  readonly effects: string[];
  readonly events: string[];
  readonly orders: string[];
}

const conflict: CommitResult = Object.freeze({ ok: false, reason: 'conflict' });
const leaseLost: CommitResult = Object.freeze({ ok: false, reason: 'lease' });

/**
 * A store in plain maps, with the SQLite store's semantics (checked by the same conformance
 * suite): JSON round-trips, deduplication, revision checks, and batches that write all or
 * nothing. For tests, the flow test kit and embedders that need no durability.
 *
 * This file keeps the inbox, the actors, commits and leases; the outbox (the message log),
 * customers, orders and tasks are in ./memory/.
 * @example
 * const store = createMemoryStore({ clock: () => 0 });
 * const [item] = await store.append([event]);
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? Date.now;
  let closed = false;
  let lastSeq = 0;

  const inbox = new Map<number, InboxRow>();
  const eventSeqs = new Map<string, number>();
  // Maps keep insertion order, and ids only grow: these iterate in id order.
  const pendingSeqs = new Set<number>();
  const actors = new Map<string, { flowId: string; flowVersion: number; rev: number; snapshot: string }>();
  const outbox = new MemoryOutbox();
  const customers = new MemoryCustomers();
  const orders = new MemoryOrders(customers);
  const tasks = new MemoryTasks();
  const keyLeases = new LocalLeases(clock);
  const laneLeases = new LocalLeases(clock);
  const leases = leasePair(keyLeases, laneLeases);
  const notices = new LocalNotices();
  const shared = options.shared === true;

  function guard<T>(fn: () => T): Promise<T> {
    try {
      if (closed) throw new EngineError('STORE', 'the store is closed');
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(toEngineError(error, 'STORE'));
    }
  }

  function insertEvent(event: InboundEvent, json: string, at: number): InboxItem | null {
    if (eventSeqs.has(event.id)) return null;
    const seq = ++lastSeq;
    eventSeqs.set(event.id, seq);
    inbox.set(seq, { seq, eventId: event.id, key: event.key, json, receivedAt: at, status: 0 });
    pendingSeqs.add(seq);
    return { seq, event };
  }

  function settleEvent(seq: number, status: 1 | 2, at: number, error?: string): void {
    const row = inbox.get(seq);
    if (!row || row.status !== 0) return;
    row.status = status;
    row.doneAt = at;
    if (error !== undefined) row.error = error;
    pendingSeqs.delete(seq);
  }

  /** Checks leases and revisions and serializes every commit before anything is written, as SQLite would roll back. */
  function plan(commits: readonly Commit[], lease?: LeaseRenewal): (Plan | CommitResult)[] {
    const revs = new Map<string, number>();
    const newOrders = new Set<number>();
    return commits.map((commit) => {
      if (lease && !keyLeases.holds(commit.key, lease.owner)) return leaseLost;
      if (lease && !pendingSeqs.has(commit.seq)) return conflict;
      const rev = revs.get(commit.key) ?? actors.get(commit.key)?.rev ?? 0;
      if (rev !== commit.expectedRev) return conflict;
      revs.set(commit.key, rev + 1);
      for (const order of commit.createOrders) {
        if (orders.has(order.id) || newOrders.has(order.id)) {
          throw new EngineError('STORE', `order ${order.id} already exists`);
        }
        newOrders.add(order.id);
      }
      return {
        commit,
        snapshot: JSON.stringify(commit.envelope.snapshot ?? null),
        effects: commit.outbox.map((item) => JSON.stringify(item.effect)),
        events: commit.inbox.map((event) => JSON.stringify(event)),
        orders: commit.createOrders.map((order) => JSON.stringify(order.data)),
      };
    });
  }

  function apply({ commit: c, snapshot, effects, events, orders: data }: Plan): CommitResult {
    const { at } = c;
    const rev = c.expectedRev + 1;
    actors.set(c.key, { flowId: c.envelope.flowId, flowVersion: c.envelope.flowVersion, rev, snapshot });
    settleEvent(c.seq, 1, at);
    if (c.customer) {
      const id = customers.id(c.customer, at);
      if (c.customerSeenAt !== undefined) customers.seen(id, c.customerSeenAt);
    }
    const added = c.outbox.map((item, i) => outbox.insert(item, effects[i]!, at));
    const stored: InboxItem[] = [];
    c.inbox.forEach((event, i) => {
      const item = insertEvent(event, events[i]!, at);
      if (item) stored.push(item);
    });
    c.createOrders.forEach((order, i) => orders.create(order, data[i]!, at));
    for (const update of c.updateOrders) orders.update(update, at);
    for (const task of c.tasks) tasks.add(task.customer, task.command, task.dueAt, at);
    if (shared && c.tasks.length > 0) notices.send({ topic: 'tasks', at: Math.min(...c.tasks.map((task) => task.dueAt)) });
    if (c.completeTask !== undefined) tasks.complete(c.completeTask, at);
    for (const update of c.statuses ?? []) outbox.applyStatus(update);
    return { ok: true, rev, outbox: added, inbox: stored };
  }

  return {
    append: (events) =>
      guard(() => {
        const json = events.map((event) => JSON.stringify(event));
        const at = clock();
        return events.flatMap((event, i) => insertEvent(event, json[i]!, at) ?? []);
      }),
    pending: (afterSeq, limit, owner) =>
      guard(() => {
        const found: InboxItem[] = [];
        for (const seq of pendingSeqs) {
          if (found.length >= limit) break;
          const row = inbox.get(seq)!;
          if (seq > afterSeq && (owner === undefined || keyLeases.open(row.key, owner))) {
            found.push({ seq, event: JSON.parse(row.json) as InboundEvent });
          }
        }
        return found;
      }),
    fail: (seq, reason) => guard(() => settleEvent(seq, 2, clock(), reason)),

    load: (key) =>
      guard(() => {
        const actor = actors.get(key);
        if (!actor) return null;
        const { flowId, flowVersion, rev } = actor;
        return { flowId, flowVersion, rev, snapshot: JSON.parse(actor.snapshot) as unknown };
      }),
    commit: (commits, lease) =>
      guard(() => {
        const results = plan(commits, lease).map((p) => ('commit' in p ? apply(p) : p));
        if (lease) {
          const keep = commits.filter((c, i) => results[i]!.ok && !lease.release?.includes(c.key)).map((c) => c.key);
          keyLeases.renew({ ...lease, keep, release: lease.release ?? [] });
        }
        return results;
      }),

    pendingOutbox: (afterId, limit, owner) =>
      guard(() => outbox.pending(afterId, limit, owner === undefined ? undefined : (lane) => laneLeases.open(lane, owner))),
    markSent: (results, lease) =>
      guard(() => {
        const kept = lease ? laneLeases.renew(lease) : [];
        outbox.markSent(results);
        return kept;
      }),
    markRetry: (id, availableAt, error) => guard(() => outbox.markRetry(id, availableAt, error)),
    markFailed: (id, status, error, at) => guard(() => outbox.markFailed(id, status, error, at)),
    requeueFailed: (type, at, limit) => guard(() => outbox.requeueFailed(type, at, limit)),
    messageStatus: (update) => guard(() => outbox.applyStatus(update) > 0),
    getOutbox: (id) => guard(() => outbox.get(id)),
    messagesTo: (address, afterId, limit) => guard(() => outbox.messagesTo(address, afterId, limit)),

    allocateOrderIds: (count) => guard(() => orders.allocate(count)),
    getOrder: (id) => guard(() => orders.get(id)),
    listOrders: (query) => guard(() => orders.list(query)),

    findCustomer: (address) => guard(() => customers.find(address)),
    getCustomer: (id) => guard(() => customers.get(id)),

    addTask: ({ customer, command, dueAt }) =>
      guard(() => {
        const task = tasks.add(customer, command, dueAt, clock());
        if (shared) notices.send({ topic: 'tasks', at: dueAt });
        return task;
      }),
    removeTask: (id) => guard(() => tasks.remove(id)),
    getTask: (id) => guard(() => tasks.get(id)),
    fireDueTasks: (now, limit) =>
      guard(() =>
        tasks.fire(now, limit).flatMap((task) => {
          const event = taskDueEvent(task);
          return insertEvent(event, JSON.stringify(event), now) ?? [];
        }),
      ),
    nextTaskAt: () => guard(() => tasks.next()),

    claimKeys: (keys, lease) =>
      guard(() =>
        [...new Set(keys)].flatMap((key) => {
          if (!keyLeases.take(key, lease)) {
            if (shared) notices.send({ topic: 'inbox', from: lease.owner, key });
            return [];
          }
          const actor = actors.get(key);
          const envelope = actor
            ? { flowId: actor.flowId, flowVersion: actor.flowVersion, rev: actor.rev, snapshot: JSON.parse(actor.snapshot) as unknown }
            : null;
          const pending: InboxItem[] = [];
          for (const seq of pendingSeqs) {
            const row = inbox.get(seq)!;
            if (row.key === key) pending.push({ seq, event: JSON.parse(row.json) as InboundEvent });
          }
          return [{ key, envelope, pending }];
        }),
      ),
    claimLanes: (lanes, lease) =>
      guard(() =>
        [...new Set(lanes)].flatMap((lane) => {
          if (!laneLeases.take(lane, lease)) {
            if (shared) notices.send({ topic: 'outbox', from: lease.owner, lane });
            return [];
          }
          return [{ lane, pending: outbox.pendingIn(lane) }];
        }),
      ),
    renewLeases: (lease, names) => guard(() => leases.renew(lease, names)),
    releaseLeases: (owner, names) => guard(() => leases.release(owner, names)),
    pruneHistory: (before, from, limit) =>
      guard(() => {
        const span = (after: number) => ({ after, before, limit: Math.max(0, limit) });
        const pruned = {
          inbox: prunedFromMap(
            inbox,
            span(from.inbox),
            (row) => row.receivedAt,
            (row) => row.status !== 0 && row.doneAt! < before,
            (row) => eventSeqs.delete(row.eventId),
          ),
          outbox: outbox.prune(from.outbox, before, Math.max(0, limit)),
          tasks: tasks.prune(from.tasks, before, Math.max(0, limit)),
        };
        return {
          deleted: pruned.inbox.deleted + pruned.outbox.deleted + pruned.tasks.deleted,
          next: { inbox: pruned.inbox.upTo, outbox: pruned.outbox.upTo, tasks: pruned.tasks.upTo },
          done: pruned.inbox.done && pruned.outbox.done && pruned.tasks.done,
        };
      }),
    outcomes: (seqs) =>
      guard(() =>
        seqs.flatMap((seq): { seq: number; outcome: 'done' | 'failed' }[] => {
          const status = inbox.get(seq)?.status;
          return status === 1 ? [{ seq, outcome: 'done' }] : status === 2 ? [{ seq, outcome: 'failed' }] : [];
        }),
      ),
    ...(shared ? { shared, watch: (listener: Parameters<LocalNotices['watch']>[0]) => notices.watch(listener) } : {}),

    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}
