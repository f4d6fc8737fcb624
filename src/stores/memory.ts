import type { DispatchedEffect } from '../core/effects.js';
import { EngineError, toEngineError } from '../core/errors.js';
import type { InboundEvent } from '../core/events.js';
import { conversationKey, type ActorKey, type Address, type OrderId } from '../core/ids.js';
import { leasePair, LocalLeases, LocalNotices } from './local-leases.js';
import {
  taskDueEvent,
  taskStatus,
  type Commit,
  type CommitResult,
  type CustomerRecord,
  type InboxItem,
  type LeaseRenewal,
  type MessageStatusUpdate,
  type NewOutboxItem,
  type OrderRecord,
  type OutboxItem,
  type Store,
  type TaskRecord,
} from '../core/store.js';

export interface MemoryStoreOptions {
  /** Milliseconds since the epoch, for arrival and failure times; tests drive it. */
  readonly clock?: () => number;
  /**
   * Lets several engines in this process share the store, coordinating through its leases
   * and notices as instances do on PostgreSQL (tests of the multi-instance mode).
   */
  readonly shared?: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface InboxRow {
  readonly seq: number;
  readonly key: ActorKey;
  readonly json: string;
  readonly receivedAt: number;
  status: 0 | 1 | 2;
  error?: string;
  doneAt?: number;
}

// Rows keep JSON as text, like SQLite, so that what a caller gets back is always a fresh copy.
type OutboxRow = Omit<Mutable<OutboxItem>, 'effect' | 'history'> & {
  readonly effect: string;
  readonly history: { status: string; at: number; error?: string }[];
};
type OrderRow = Omit<Mutable<OrderRecord>, 'customer' | 'data'> & { readonly data: string };
type TaskRow = Mutable<TaskRecord> & { readonly createdAt: number };

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
 * @example
 * const store = createMemoryStore({ clock: () => 0 });
 * const [item] = await store.append([event]);
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? Date.now;
  let closed = false;
  const last = { seq: 0, outbox: 0, customer: 0, task: 0, order: 0 };

  const inbox = new Map<number, InboxRow>();
  const eventSeqs = new Map<string, number>();
  // Maps keep insertion order, and ids only grow: these iterate in id order.
  const pendingSeqs = new Set<number>();
  const actors = new Map<string, { flowId: string; flowVersion: number; rev: number; snapshot: string }>();
  const outbox = new Map<number, OutboxRow>();
  const pendingOutbox = new Set<number>();
  const byRecipient = new Map<string, number[]>();
  const byPlatformId = new Map<string, number[]>();
  const orders = new Map<number, OrderRow>();
  const orderIds: number[] = [];
  const customers = new Map<number, CustomerRecord>();
  const customerByAddress = new Map<string, number>();
  const firstCustomerByUser = new Map<string, number>();
  const tasks = new Map<number, TaskRow>();
  const armedTasks = new Set<number>();
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
    const seq = ++last.seq;
    eventSeqs.set(event.id, seq);
    inbox.set(seq, { seq, key: event.key, json, receivedAt: at, status: 0 });
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

  function customerId(address: Address, at: number): number {
    const key = `${address.channel}\u0000${address.user}\u0000${address.account}`;
    const found = customerByAddress.get(key);
    if (found !== undefined) return found;
    const id = ++last.customer;
    customers.set(id, { id, address: { ...address }, createdAt: at });
    customerByAddress.set(key, id);
    const userKey = `${address.channel}\u0000${address.user}`;
    if (!firstCustomerByUser.has(userKey)) firstCustomerByUser.set(userKey, id);
    return id;
  }

  function insertOutbox(item: NewOutboxItem, json: string, at: number): OutboxItem {
    const id = ++last.outbox;
    const fresh = { id, lane: item.lane, status: 'pending', attempts: 0, availableAt: at, createdAt: at } as const;
    outbox.set(id, { ...fresh, effect: json, history: [] });
    pendingOutbox.add(id);
    if (item.effect.type === 'reply') push(byRecipient, conversationKey(item.effect.to), id);
    return { ...fresh, effect: item.effect, history: [] };
  }

  function insertTask(customer: Address, command: string, dueAt: number, at: number): TaskRow {
    const id = ++last.task;
    const row: TaskRow = { id, customer: { ...customer }, command, dueAt, createdAt: at, status: taskStatus.waiting };
    tasks.set(id, row);
    armedTasks.add(row.id);
    return row;
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
      const id = customerId(c.customer, at);
      const seen = c.customerSeenAt;
      const customer = customers.get(id)!;
      if (seen !== undefined && seen > (customer.lastInboundAt ?? 0)) customers.set(id, { ...customer, lastInboundAt: seen });
    }
    const added = c.outbox.map((item, i) => insertOutbox(item, effects[i]!, at));
    const stored: InboxItem[] = [];
    c.inbox.forEach((event, i) => {
      const item = insertEvent(event, events[i]!, at);
      if (item) stored.push(item);
    });
    c.createOrders.forEach((order, i) => {
      const { id, total, currency } = order;
      const owner = customerId(order.customer, at);
      const created = { status: 0, paid: false, createdAt: at, updatedAt: at };
      orders.set(id, { id, customerId: owner, total, currency, data: data[i]!, ...created });
      orderIds.splice(firstAbove(orderIds, id), 0, id);
    });
    for (const update of c.updateOrders) {
      const row = orders.get(update.id);
      if (!row) continue;
      if (update.status !== undefined) row.status = update.status;
      if (update.paid !== undefined) row.paid = update.paid;
      row.updatedAt = at;
    }
    for (const task of c.tasks) insertTask(task.customer, task.command, task.dueAt, at);
    if (shared && c.tasks.length > 0) notices.send({ topic: 'tasks', at: Math.min(...c.tasks.map((task) => task.dueAt)) });
    const done = c.completeTask === undefined ? undefined : tasks.get(c.completeTask);
    if (done && done.status === taskStatus.waiting) {
      done.status = taskStatus.done;
      done.doneAt = at;
      armedTasks.delete(done.id);
    }
    for (const update of c.statuses ?? []) applyStatus(update);
    return { ok: true, rev, outbox: added, inbox: stored };
  }

  /** Records a delivery status; answers how many messages it touched. */
  function applyStatus(update: MessageStatusUpdate): number {
    const { status, at, error } = update;
    if (!('platformId' in update)) {
      const rows = (byRecipient.get(conversationKey(update.recipient)) ?? [])
        .map((id) => outbox.get(id)!)
        .filter((row) => row.status === 'sent' && row.createdAt <= update.upTo && !row.history.some((h) => h.status === status));
      for (const row of rows) appendHistory(row, status, at, error);
      return rows.length;
    }
    const { platformId } = update;
    // The recipient's newest message with that platform id, as the SQL stores look it up.
    const theirs = new Set(byRecipient.get(conversationKey(update.recipient)));
    const newest = (byPlatformId.get(platformId) ?? []).filter((id) => theirs.has(id) && outbox.get(id)!.platformId === platformId).at(-1);
    const ids = newest === undefined ? [] : [newest];
    for (const id of ids) {
      const row = outbox.get(id)!;
      if (status === 'failed') {
        row.status = 'failed';
        if (error !== undefined) row.error = error;
        pendingOutbox.delete(id);
      }
      appendHistory(row, status, at, error);
    }
    return ids.length;
  }

  function appendHistory(row: OutboxRow, status: string, at: number, error?: string): void {
    row.history.push(error === undefined ? { status, at } : { status, at, error });
  }

  function toOutbox(row: OutboxRow): OutboxItem {
    return {
      id: row.id,
      lane: row.lane,
      effect: JSON.parse(row.effect) as DispatchedEffect,
      status: row.status,
      attempts: row.attempts,
      availableAt: row.availableAt,
      createdAt: row.createdAt,
      ...(row.platformId === undefined ? {} : { platformId: row.platformId }),
      ...(row.error === undefined ? {} : { error: row.error }),
      history: row.history.map((entry) => ({ ...entry })),
    };
  }

  function toOrder(row: OrderRow): OrderRecord {
    const { address } = customers.get(row.customerId)!;
    return {
      id: row.id,
      customer: { ...address },
      customerId: row.customerId,
      status: row.status,
      paid: row.paid,
      total: row.total,
      currency: row.currency,
      data: JSON.parse(row.data) as Record<string, unknown>,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  function outboxRows(ids: Iterable<number>, afterId: number, limit: number): OutboxItem[] {
    const found: OutboxItem[] = [];
    for (const id of ids) {
      if (found.length >= limit) break;
      if (id > afterId) found.push(toOutbox(outbox.get(id)!));
    }
    return found;
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
      guard(() => {
        if (owner === undefined) return outboxRows(pendingOutbox, afterId, limit);
        const open = [...pendingOutbox].filter((id) => laneLeases.open(outbox.get(id)!.lane, owner));
        return outboxRows(open, afterId, limit);
      }),
    markSent: (results, lease) =>
      guard(() => {
        const kept = lease ? laneLeases.renew(lease) : [];
        for (const { id, platformId, at } of results) {
          const row = outbox.get(id);
          if (!row) continue;
          row.status = 'sent';
          pendingOutbox.delete(id);
          if (platformId !== undefined && platformId !== row.platformId) {
            row.platformId = platformId;
            push(byPlatformId, platformId, id);
          }
          appendHistory(row, 'sent', at);
        }
        return kept;
      }),
    markRetry: (id, availableAt, error) =>
      guard(() => {
        const row = outbox.get(id);
        if (!row) return;
        row.attempts += 1;
        row.availableAt = availableAt;
        row.error = error;
      }),
    markFailed: (id, status, error, at) =>
      guard(() => {
        const row = outbox.get(id);
        if (!row) return;
        row.status = status;
        row.error = error;
        pendingOutbox.delete(id);
        appendHistory(row, status, at, error);
      }),
    requeueFailed: (type, at, limit) =>
      guard(() => {
        const again: OutboxItem[] = [];
        for (const row of outbox.values()) {
          if (again.length >= limit) break;
          if (row.status !== 'failed' || (JSON.parse(row.effect) as DispatchedEffect).type !== type) continue;
          row.status = 'pending';
          row.attempts = 0;
          row.availableAt = at;
          pendingOutbox.add(row.id);
          again.push(toOutbox(row));
        }
        return again;
      }),
    messageStatus: (update) => guard(() => applyStatus(update) > 0),
    getOutbox: (id) => guard(() => nullable(outbox.get(id), toOutbox)),
    messagesTo: (address, afterId, limit) =>
      guard(() => {
        const ids = byRecipient.get(conversationKey(address)) ?? [];
        const from = firstAbove(ids, afterId);
        return ids.slice(from, from + Math.max(0, limit)).map((id) => toOutbox(outbox.get(id)!));
      }),

    allocateOrderIds: (count) =>
      guard(() => {
        if (count <= 0) return [];
        const start = Math.max(last.order, orderIds.at(-1) ?? 0) + 1;
        last.order = start + count - 1;
        return Array.from({ length: count }, (_, i) => (start + i) as OrderId);
      }),
    getOrder: (id) => guard(() => nullable(orders.get(id), toOrder)),
    listOrders: ({ status, limit, after = 0 }) =>
      guard(() => {
        const found: OrderRecord[] = [];
        for (let i = firstAbove(orderIds, after); i < orderIds.length && found.length < limit; i++) {
          const row = orders.get(orderIds[i]!)!;
          if (status === undefined || row.status === status) found.push(toOrder(row));
        }
        return found;
      }),

    findCustomer: ({ channel, account, user }) =>
      guard(() => {
        const id =
          account === undefined
            ? firstCustomerByUser.get(`${channel}\u0000${user}`)
            : customerByAddress.get(`${channel}\u0000${user}\u0000${account}`);
        return nullable(id === undefined ? undefined : customers.get(id), copyCustomer);
      }),
    getCustomer: (id) => guard(() => nullable(customers.get(id), copyCustomer)),

    addTask: ({ customer, command, dueAt }) =>
      guard(() => {
        const task = toTask(insertTask(customer, command, dueAt, clock()));
        if (shared) notices.send({ topic: 'tasks', at: dueAt });
        return task;
      }),
    removeTask: (id) =>
      guard(() => {
        const row = tasks.get(id);
        if (!row || !armedTasks.has(id)) return false;
        row.status = taskStatus.removed;
        armedTasks.delete(id);
        return true;
      }),
    getTask: (id) => guard(() => nullable(tasks.get(id), toTask)),
    fireDueTasks: (now, limit) =>
      guard(() => {
        const due = [...armedTasks]
          .map((id) => tasks.get(id)!)
          .filter((task) => task.dueAt <= now)
          .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
          .slice(0, Math.max(0, limit));
        return due.flatMap((task) => {
          const event = taskDueEvent(toTask(task));
          task.firedAt = now;
          armedTasks.delete(task.id);
          return insertEvent(event, JSON.stringify(event), now) ?? [];
        });
      }),
    nextTaskAt: () =>
      guard(() => {
        let next: number | null = null;
        for (const id of armedTasks) {
          const { dueAt } = tasks.get(id)!;
          if (next === null || dueAt < next) next = dueAt;
        }
        return next;
      }),

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
          const ids = [...pendingOutbox].filter((id) => outbox.get(id)!.lane === lane);
          return [{ lane, pending: outboxRows(ids, 0, ids.length) }];
        }),
      ),
    renewLeases: (lease, names) => guard(() => leases.renew(lease, names)),
    releaseLeases: (owner, names) => guard(() => leases.release(owner, names)),
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

function toTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    customer: { ...row.customer },
    command: row.command,
    dueAt: row.dueAt,
    status: row.status,
    ...(row.firedAt === undefined ? {} : { firedAt: row.firedAt }),
    ...(row.doneAt === undefined ? {} : { doneAt: row.doneAt }),
  };
}

function nullable<R, T>(row: R | undefined, map: (row: R) => T): T | null {
  return row === undefined ? null : map(row);
}

function copyCustomer(customer: CustomerRecord): CustomerRecord {
  return {
    id: customer.id,
    address: { ...customer.address },
    createdAt: customer.createdAt,
    ...(customer.lastInboundAt === undefined ? {} : { lastInboundAt: customer.lastInboundAt }),
  };
}

/** The index of the first element greater than `value` in an ascending array. */
function firstAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
