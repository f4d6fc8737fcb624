import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { EngineError, toEngineError } from '../core/errors.js';
import type { InboundEvent } from '../core/events.js';
import { conversationKey, type Address, type OrderId } from '../core/ids.js';
import {
  taskDueEvent,
  type Commit,
  type CommitResult,
  type InboxItem,
  type LeaseRenewal,
  type MessageStatusUpdate,
  type NewOutboxItem,
  type OrderRecord,
  type OutboxItem,
  type Store,
} from '../core/store.js';
import { leasePair, LocalLeases } from './local-leases.js';
import { sqliteMigrations } from './migrations/sqlite.js';
import { toCustomer, toOrder as toOrderRecord, toOutbox as toOutboxRecord, toTask } from './rows.js';
import { startCheckpointer, type Checkpointer } from './sqlite/checkpointer.js';
import { TickWriter } from './sqlite/tick-writer.js';
import { migrate } from './sqlite/migrate.js';
import { historyPruning } from './sqlite/prune-history.js';
import {
  prepareStatements,
  type OrderRow,
  type OutboxRow,
  type Statements,
} from './sqlite/statements.js';

export interface SqliteStoreOptions {
  /** Milliseconds since the epoch, for arrival and failure times; tests drive it. */
  readonly clock?: () => number;
  /**
   * How long a write waits for the write lock (another process's, or the checkpointer's
   * for a few milliseconds) before failing; waited for off the event loop.
   */
  readonly busyTimeoutMs?: number;
  /**
   * Who copies the write-ahead log back into the database file: a thread of the store's own
   * (`background`, the default for a file: the event loop never waits for it), or the
   * commit that fills the log past 1,000 pages, as SQLite does by default (`inline`; always
   * for `:memory:`).
   */
  readonly checkpoint?: 'background' | 'inline';
  /**
   * `normal` (the default): a commit is safe from a crash of the process, and the last ones
   * may be lost to a crash of the machine or a power cut (SQLite's WAL with
   * `synchronous = NORMAL`). `full`: every commit is synced to disk before it answers, so an
   * acknowledged event survives those too, for about a sixth fewer events a second.
   */
  readonly synchronous?: 'normal' | 'full';
}

// With a background checkpointer, the log pages after which a commit checkpoints anyway: a
// backstop that bounds the log (about 40 MB) should the thread fall behind or fail.
const backstopPages = 10_000;

const conflict: CommitResult = Object.freeze({ ok: false, reason: 'conflict' });
const leaseLost: CommitResult = Object.freeze({ ok: false, reason: 'lease' });
// How far the stored last inbound time may trail the newest (Commit.customerSeenAt), ms.
const seenStep = 60_000;
// How many customers the store remembers (about 100 bytes each).
const customerCacheSize = 20_000;
// A page of rows read while filtering by lease (the leases live in memory, not in SQL).
const leasePage = 500;

/**
 * The embedded store: one SQLite file in WAL mode, migrated on open. Every write asked for
 * in one turn of the event loop (`append`, `commit`, `markSent`, …) runs in one IMMEDIATE
 * transaction at the next `setImmediate`, each in a savepoint of its own (see TickWriter),
 * so the engine's appends, commits and sends of a tick cost one WAL write together; reads
 * answer at once. A thread of the store's own copies the WAL back into the file (see
 * `checkpoint`). Failures reject with `EngineError('STORE')`; a rejected write has written
 * nothing.
 * @example
 * const store = openSqliteStore('./data/orderly.db');
 * const [item] = await store.append([event]);
 * await store.close();
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const clock = options.clock ?? Date.now;
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000));
  let s: Statements;
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    migrate(db, sqliteMigrations, clock());
    // From here the tick writer waits for the lock, off the event loop (see TickWriter).
    db.pragma('busy_timeout = 0');
    s = prepareStatements(db);
  } catch (error) {
    db.close();
    throw toEngineError(error, 'STORE');
  }
  let checkpointer: Checkpointer | undefined;
  if (!inMemory && (options.checkpoint ?? 'background') === 'background') {
    db.pragma(`wal_autocheckpoint = ${backstopPages}`);
    checkpointer = startCheckpointer(path);
  }

  function insertEvent(event: InboundEvent, at: number): InboxItem | null {
    const info = s.insertEvent.run(event.id, event.key, JSON.stringify(event), at);
    return info.changes === 0 ? null : { seq: Number(info.lastInsertRowid), event };
  }

  function appendAll(events: readonly InboundEvent[], at: number): InboxItem[] {
    const stored: InboxItem[] = [];
    for (const event of events) {
      const item = insertEvent(event, at);
      if (item) stored.push(item);
    }
    return stored;
  }

  /**
   * Customers by address, each with a floor of its stored last inbound time, so that most
   * events read no page of the customers table. The cache is right because one process owns
   * the file, nothing deletes a customer, and a commit that throws clears it (its rows rolled
   * back). Entries leave oldest first.
   */
  const customers = new Map<string, KnownCustomer>();

  function customer(address: Address, at: number): KnownCustomer {
    const key = conversationKey(address);
    let known = customers.get(key);
    if (known) return known;
    const row = s.findCustomer.get(address.channel, address.user, address.account);
    known = row
      ? { id: row.id, seen: row.last_inbound_at ?? -Infinity }
      : { id: Number(s.insertCustomer.run(address.channel, address.account, address.user, at).lastInsertRowid), seen: -Infinity };
    customers.set(key, known);
    if (customers.size > customerCacheSize) customers.delete(customers.keys().next().value!);
    return known;
  }

  /** Moves the customer's last inbound time on, when it trails `seenAt` by the step or more. */
  function customerSeen(known: KnownCustomer, seenAt: number): void {
    // Stored ≥ known.seen > seenAt - step: the update would change nothing.
    if (known.seen > seenAt - seenStep) return;
    const changed = s.customerSeen.run(seenAt, known.id, seenAt, seenStep).changes > 0;
    known.seen = changed ? seenAt : Math.max(known.seen, seenAt - seenStep + 1);
  }

  function insertOutbox(item: NewOutboxItem, at: number): OutboxItem {
    const { effect } = item;
    const recipient = effect.type === 'reply' ? conversationKey(effect.to) : null;
    const info = s.insertOutbox.run(item.lane, recipient, JSON.stringify(effect), at, at);
    return {
      id: Number(info.lastInsertRowid),
      lane: item.lane,
      effect,
      status: 'pending',
      attempts: 0,
      availableAt: at,
      createdAt: at,
      history: [],
    };
  }

  /** Records a delivery status; answers how many messages it touched. */
  function applyStatus(update: MessageStatusUpdate): number {
    const { status, at, error } = update;
    const entry = JSON.stringify(error === undefined ? { status, at } : { status, at, error });
    if (!('platformId' in update)) {
      return s.statusUpTo.run(entry, conversationKey(update.recipient), update.upTo, status).changes;
    }
    const to = conversationKey(update.recipient);
    const info =
      status === 'failed'
        ? s.statusFailed.run(error ?? null, entry, to, update.platformId)
        : s.statusNoted.run(entry, to, update.platformId);
    return info.changes;
  }

  function applyCommit(c: Commit): CommitResult {
    const { envelope, at } = c;
    const snapshot = JSON.stringify(envelope.snapshot ?? null);
    // The revision check is this commit's first write: when it changes no row, nothing of
    // the commit has been written, so a conflict needs no savepoint to undo.
    const saved =
      c.expectedRev === 0
        ? s.insertActor.run(c.key, envelope.flowId, envelope.flowVersion, snapshot, at)
        : s.updateActor.run(envelope.flowId, envelope.flowVersion, snapshot, at, c.key, c.expectedRev);
    if (saved.changes === 0) return conflict;
    s.markDone.run(at, c.seq);
    const commitCustomer = c.customer ? customer(c.customer, at) : undefined;
    if (commitCustomer && c.customerSeenAt !== undefined) customerSeen(commitCustomer, c.customerSeenAt);
    const outbox = c.outbox.map((item) => insertOutbox(item, at));
    const inbox = appendAll(c.inbox, at);
    for (const order of c.createOrders) {
      const owner = c.customer && commitCustomer && sameAddress(order.customer, c.customer) ? commitCustomer : customer(order.customer, at);
      s.insertOrder.run(order.id, owner.id, order.total, order.currency, JSON.stringify(order.data), at, at);
    }
    for (const update of c.updateOrders) {
      const paid = update.paid === undefined ? null : update.paid ? 1 : 0;
      s.updateOrder.run(update.status ?? null, paid, at, update.id);
    }
    for (const task of c.tasks) {
      const { channel, account, user } = task.customer;
      s.insertTask.run(channel, account, user, task.command, task.dueAt, at);
    }
    if (c.completeTask !== undefined) s.completeTask.run(at, c.completeTask);
    for (const update of c.statuses ?? []) applyStatus(update);
    return { ok: true, rev: c.expectedRev + 1, outbox, inbox };
  }

  // Every write of a tick in one transaction (see TickWriter); a write undone forgets the
  // customers it may have added.
  const writer = new TickWriter(db, () => customers.clear(), busyTimeoutMs);
  // One process owns a SQLite file: leases live in its memory (see `shared` on the port).
  const keyLeases = new LocalLeases(clock);
  const laneLeases = new LocalLeases(clock);
  const leases = leasePair(keyLeases, laneLeases);

  function commitAll(commits: readonly Commit[], lease?: LeaseRenewal): CommitResult[] {
    if (!lease) return commits.map(applyCommit);
    const results = commits.map((c) =>
      !keyLeases.holds(c.key, lease.owner) ? leaseLost : s.inboxStatus.get(c.seq) !== 0 ? conflict : applyCommit(c),
    );
    const keep = commits.filter((c, i) => results[i]!.ok && !lease.release?.includes(c.key)).map((c) => c.key);
    keyLeases.renew({ ...lease, keep, release: lease.release ?? [] });
    return results;
  }
  /** Rows of a query that pages by id, filtered by `open`, up to `limit`. */
  function filtered<R>(read: (after: number) => R[], id: (row: R) => number, open: (row: R) => boolean, after: number, limit: number): R[] {
    const found: R[] = [];
    for (let page = read(after); found.length < limit && page.length > 0; page = read(id(page[page.length - 1]!))) {
      for (const row of page) if (found.length < limit && open(row)) found.push(row);
      if (page.length < leasePage) break;
    }
    return found;
  }

  function markSentAll(results: readonly { id: number; platformId?: string; at: number }[]): void {
    for (const r of results) {
      s.markSent.run(r.platformId ?? null, JSON.stringify({ status: 'sent', at: r.at }), r.id);
    }
  }
  const pruneHistory = historyPruning(s);
  function fireDue(now: number, limit: number): InboxItem[] {
    const fired: InboxItem[] = [];
    for (const row of s.dueTasks.all(now, rows(limit))) {
      s.fireTask.run(now, row.id);
      const item = insertEvent(taskDueEvent(toTask(row)), now);
      if (item) fired.push(item);
    }
    return fired;
  }

  return {
    append: (events) => writer.write(() => appendAll(events, clock())),
    pending: (afterSeq, limit, owner) =>
      guard(() => {
        const toItem = (row: { seq: number; event: string }): InboxItem => ({ seq: row.seq, event: JSON.parse(row.event) as InboundEvent });
        if (owner === undefined) return s.pending.all(afterSeq, rows(limit)).map(toItem);
        const items = filtered(
          (after) => s.pending.all(after, leasePage).map(toItem),
          (item) => item.seq,
          (item) => keyLeases.open(item.event.key, owner),
          afterSeq,
          limit,
        );
        return items;
      }),
    fail: (seq, reason) => writer.write(() => void s.markFailedEvent.run(reason, clock(), seq)),

    load: (key) =>
      guard(() => {
        const row = s.loadActor.get(key);
        if (!row) return null;
        return { flowId: row.flow_id, flowVersion: row.flow_version, rev: row.rev, snapshot: JSON.parse(row.snapshot) };
      }),
    commit: (commits, lease) => writer.write(() => commitAll(commits, lease)),

    pendingOutbox: (afterId, limit, owner) =>
      guard(() => {
        if (owner === undefined) return s.pendingOutbox.all(afterId, rows(limit)).map(toOutbox);
        const open = (row: OutboxRow) => laneLeases.open(row.lane, owner);
        return filtered((after) => s.pendingOutbox.all(after, leasePage), (row) => row.id, open, afterId, limit).map(toOutbox);
      }),
    markSent: (results, lease) =>
      writer.write(() => {
        markSentAll(results);
        return lease ? laneLeases.renew(lease) : [];
      }),
    markRetry: (id, availableAt, error) => writer.write(() => void s.markRetry.run(availableAt, error, id)),
    markFailed: (id, status, error, at) =>
      writer.write(() => void s.markFailed.run(status, error, JSON.stringify({ status, at, error }), id)),
    requeueFailed: (type, at, limit) =>
      writer.write(() => s.requeueFailed.all(at, type, rows(limit)).map(toOutbox).sort((a, b) => a.id - b.id)),
    messageStatus: (update) => writer.write(() => applyStatus(update) > 0),
    getOutbox: (id) => guard(() => nullable(s.getOutbox.get(id), toOutbox)),
    messagesTo: (address, afterId, limit) =>
      guard(() => s.messagesTo.all(conversationKey(address), afterId, rows(limit)).map(toOutbox)),

    allocateOrderIds: (count) =>
      writer.write(() => {
        if (count <= 0) return [];
        const last = s.allocateOrderIds.get(count);
        if (last === undefined) throw new EngineError('STORE', 'the order id counter is missing');
        return Array.from({ length: count }, (_, i) => (last - count + 1 + i) as OrderId);
      }),
    getOrder: (id) => guard(() => nullable(s.getOrder.get(id), toOrder)),
    listOrders: ({ status, limit, after = 0 }) =>
      guard(() => {
        const found =
          status === undefined ? s.listOrders.all(after, rows(limit)) : s.listOrdersByStatus.all(status, after, rows(limit));
        return found.map(toOrder);
      }),

    findCustomer: ({ channel, account, user }) =>
      guard(() => {
        const row =
          account === undefined ? s.findCustomerAnyAccount.get(channel, user) : s.findCustomer.get(channel, user, account);
        return nullable(row, toCustomer);
      }),
    getCustomer: (id) => guard(() => nullable(s.getCustomer.get(id), toCustomer)),

    addTask: ({ customer, command, dueAt }) =>
      writer.write(() => {
        const info = s.insertTask.run(customer.channel, customer.account, customer.user, command, dueAt, clock());
        return { id: Number(info.lastInsertRowid), customer, command, dueAt, status: 0 };
      }),
    removeTask: (id) => writer.write(() => s.removeTask.run(id).changes > 0),
    getTask: (id) => guard(() => nullable(s.getTask.get(id), toTask)),
    fireDueTasks: (now, limit) => writer.write(() => fireDue(now, limit)),
    nextTaskAt: () => guard(() => s.nextTaskAt.get() ?? null),

    claimKeys: (keys, lease) =>
      guard(() =>
        [...new Set(keys)].flatMap((key) => {
          if (!keyLeases.take(key, lease)) return [];
          const row = s.loadActor.get(key);
          const envelope = row ? { flowId: row.flow_id, flowVersion: row.flow_version, rev: row.rev, snapshot: JSON.parse(row.snapshot) as unknown } : null;
          const pending = s.pendingOfKey.all(key).map((r) => ({ seq: r.seq, event: JSON.parse(r.event) as InboundEvent }));
          return [{ key, envelope, pending }];
        }),
      ),
    claimLanes: (lanes, lease) =>
      guard(() => [...new Set(lanes)].flatMap((lane) => (laneLeases.take(lane, lease) ? [{ lane, pending: s.pendingOfLane.all(lane).map(toOutbox) }] : []))),
    renewLeases: (lease, names) => guard(() => leases.renew(lease, names)),
    releaseLeases: (owner, names) => guard(() => leases.release(owner, names)),
    pruneHistory: (before, from, limit) => writer.write(() => pruneHistory(before, from, rows(limit))),
    outcomes: (seqs) =>
      guard(() =>
        seqs.flatMap((seq): { seq: number; outcome: 'done' | 'failed' }[] => {
          const status = s.inboxStatus.get(seq);
          return status === 1 ? [{ seq, outcome: 'done' }] : status === 2 ? [{ seq, outcome: 'failed' }] : [];
        }),
      ),

    close: async () => {
      // The checkpointer first: the last connection to close checkpoints and removes the log.
      await checkpointer?.close();
      return guard(() => {
        if (!db.open) return;
        writer.flush({ wait: true });
        db.close();
      });
    },
  };
}

interface KnownCustomer {
  readonly id: number;
  /** The stored last inbound time is at least this. */
  seen: number;
}

/** Runs a synchronous store call, answering a promise; whatever it throws becomes a STORE error. */
function guard<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(toEngineError(error, 'STORE'));
  }
}

/** A LIMIT value: SQLite reads a negative one as "no limit", the port as "none". */
function rows(limit: number): number {
  return Math.max(0, limit);
}

function nullable<R, T>(row: R | undefined, map: (row: R) => T): T | null {
  return row === undefined ? null : map(row);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.channel === b.channel && a.account === b.account && a.user === b.user;
}

/** SQLite keeps a history as JSON text and the paid flag as 0/1. */
const toOutbox = (row: OutboxRow) => toOutboxRecord(row, (history) => JSON.parse(history) as OutboxItem['history']);
const toOrder = (row: OrderRow) => toOrderRecord(row, (paid) => paid === 1, (history) => JSON.parse(history) as OrderRecord['history']);
