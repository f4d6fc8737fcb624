import type Database from 'better-sqlite3';
import type * as Rows from '../rows.js';
import type { CustomerRow, TaskRow } from '../rows.js';
import type { HeadRow } from '../prune.js';

/** Row shapes as SQLite answers them: JSON as text, booleans as 0/1 (see ../rows.ts). */
export type OutboxRow = Rows.OutboxRow<string>;
export type OrderRow = Rows.OrderRow<number, string>;
export type { AddressRow, CustomerRow, TaskRow } from '../rows.js';

export interface InboxRow {
  readonly seq: number;
  readonly event: string;
}

export interface ActorRow {
  readonly flow_id: string;
  readonly flow_version: number;
  readonly rev: number;
  readonly snapshot: string;
}

type Null<T> = T | null;
const outboxColumns = 'id, lane, effect, status, attempts, available_at, created_at, platform_id, error, history';
const orderSelect =
  'SELECT o.id, o.customer_id, o.status, o.paid, o.total, o.currency, o.data, o.created_at, o.updated_at, o.history,' +
  ' c.channel, c.account, c.external_id FROM orders o JOIN customers c ON c.id = o.customer_id';
const taskColumns = 'id, channel, account, external_id, command, due_at, status, fired_at, done_at';
const customerColumns = 'id, channel, account, external_id, created_at, last_inbound_at';
const appendHistory = "history = json_insert(history, '$[#]', json(?))";
// A message by its platform id: the recipient's newest with it, through outbox_recipient
// (there is no index of platform ids: they are random, each one a random index write).
const byPlatformId = 'id = (SELECT id FROM outbox WHERE recipient = ? AND platform_id = ? ORDER BY id DESC LIMIT 1)';

/**
 * Every statement the SQLite store runs, prepared once when it opens. A query meant for a
 * partial index repeats the index's condition as a literal (`status = 'pending'`, not a
 * bound parameter): SQLite uses the index only then.
 * @example const s = prepareStatements(db); s.pending.all(0, 100)
 */
export function prepareStatements(db: Database.Database) {
  const prepare = <P extends unknown[], R = unknown>(sql: string, pluck = false): Prepared<P, R> => {
    const statement = db.prepare<P, R>(sql);
    return pluck ? statement.pluck() : statement;
  };
  return {
    insertEvent: prepare<[string, string, string, number]>(
      'INSERT INTO inbox (event_id, actor_key, event, received_at) VALUES (?, ?, ?, ?)' +
        ' ON CONFLICT (event_id) DO NOTHING',
    ),
    pending: prepare<[number, number], InboxRow>(
      'SELECT seq, event FROM inbox WHERE status = 0 AND seq > ? ORDER BY seq LIMIT ?',
    ),
    pendingOfKey: prepare<[string], InboxRow>('SELECT seq, event FROM inbox WHERE status = 0 AND actor_key = ? ORDER BY seq'),
    inboxStatus: prepare<[number], number>('SELECT status FROM inbox WHERE seq = ?', true),
    markDone: prepare<[number, number]>('UPDATE inbox SET status = 1, done_at = ? WHERE seq = ? AND status = 0'),
    markFailedEvent: prepare<[string, number, number]>(
      'UPDATE inbox SET status = 2, error = ?, done_at = ? WHERE seq = ? AND status = 0',
    ),

    loadActor: prepare<[string], ActorRow>(
      'SELECT flow_id, flow_version, rev, snapshot FROM actors WHERE actor_key = ?',
    ),
    insertActor: prepare<[string, string, number, string, number]>(
      'INSERT INTO actors (actor_key, flow_id, flow_version, rev, snapshot, updated_at) VALUES (?, ?, ?, 1, ?, ?)' +
        ' ON CONFLICT (actor_key) DO NOTHING',
    ),
    updateActor: prepare<[string, number, string, number, string, number]>(
      'UPDATE actors SET flow_id = ?, flow_version = ?, rev = rev + 1, snapshot = ?, updated_at = ?' +
        ' WHERE actor_key = ? AND rev = ?',
    ),

    insertOutbox: prepare<[string, Null<string>, string, number, number]>(
      'INSERT INTO outbox (lane, recipient, effect, available_at, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    pendingOutbox: prepare<[number, number], OutboxRow>(
      `SELECT ${outboxColumns} FROM outbox WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?`,
    ),
    pendingOfLane: prepare<[string], OutboxRow>(
      `SELECT ${outboxColumns} FROM outbox WHERE status = 'pending' AND lane = ? ORDER BY id`,
    ),
    getOutbox: prepare<[number], OutboxRow>(`SELECT ${outboxColumns} FROM outbox WHERE id = ?`),
    messagesTo: prepare<[string, number, number], OutboxRow>(
      `SELECT ${outboxColumns} FROM outbox WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?`,
    ),
    markSent: prepare<[Null<string>, string, number]>(
      `UPDATE outbox SET status = 'sent', platform_id = COALESCE(?, platform_id), ${appendHistory} WHERE id = ?`,
    ),
    markRetry: prepare<[number, string, number]>(
      'UPDATE outbox SET attempts = attempts + 1, available_at = ?, error = ? WHERE id = ?',
    ),
    markFailed: prepare<[string, string, string, number]>(
      `UPDATE outbox SET status = ?, error = ?, ${appendHistory} WHERE id = ?`,
    ),
    requeueFailed: prepare<[number, string, number], OutboxRow>(
      "UPDATE outbox SET status = 'pending', attempts = 0, available_at = ? WHERE id IN" +
        " (SELECT id FROM outbox WHERE status = 'failed' AND json_extract(effect, '$.type') = ? ORDER BY id LIMIT ?)" +
        ` RETURNING ${outboxColumns}`,
    ),
    statusNoted: prepare<[string, string, string]>(`UPDATE outbox SET ${appendHistory} WHERE ${byPlatformId}`),
    statusUpTo: prepare<[string, string, number, string]>(
      `UPDATE outbox SET ${appendHistory} WHERE recipient = ? AND status = 'sent' AND created_at <= ?` +
        " AND NOT EXISTS (SELECT 1 FROM json_each(outbox.history) WHERE json_extract(value, '$.status') = ?)",
    ),
    statusFailed: prepare<[Null<string>, string, string, string]>(
      `UPDATE outbox SET status = 'failed', error = COALESCE(?, error), ${appendHistory} WHERE ${byPlatformId}`,
    ),

    allocateOrderIds: prepare<[number], number>(
        // Also past any order written with an id this counter did not hand out: never reuse one.
        'UPDATE counters SET value = MAX(value, (SELECT COALESCE(MAX(id), 0) FROM orders)) + ?' +
          " WHERE name = 'order_id' RETURNING value",
        true,
      ),
    insertOrder: prepare<[number, number, number, string, string, number, number]>(
      'INSERT INTO orders (id, customer_id, total, currency, data, created_at, updated_at)' +
        ' VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    updateOrder: prepare<[Null<number>, Null<number>, number, number]>(
      'UPDATE orders SET status = COALESCE(?, status), paid = COALESCE(?, paid), updated_at = ? WHERE id = ?',
    ),
    getOrder: prepare<[number], OrderRow>(`${orderSelect} WHERE o.id = ?`),
    listOrders: prepare<[number, number], OrderRow>(`${orderSelect} WHERE o.id > ? ORDER BY o.id LIMIT ?`),
    listOrdersByStatus: prepare<[number, number, number], OrderRow>(
      `${orderSelect} WHERE o.status = ? AND o.id > ? ORDER BY o.id LIMIT ?`,
    ),

    // History, oldest first (see Store.pruneHistory): a batch's head rows, then a range of ids.
    inboxHead: prepare<[number, number], HeadRow>('SELECT seq AS id, received_at AS at FROM inbox WHERE seq > ? ORDER BY seq LIMIT ?'),
    pruneInbox: prepare<[number, number, number]>('DELETE FROM inbox WHERE seq > ? AND seq <= ? AND status <> 0 AND done_at < ?'),
    outboxHead: prepare<[number, number], HeadRow>('SELECT id, created_at AS at FROM outbox WHERE id > ? ORDER BY id LIMIT ?'),
    pruneOutbox: prepare<[number, number, number]>("DELETE FROM outbox WHERE id > ? AND id <= ? AND status <> 'pending' AND created_at < ?"),
    tasksHead: prepare<[number, number], HeadRow>('SELECT id, created_at AS at FROM tasks WHERE id > ? ORDER BY id LIMIT ?'),
    pruneTasks: prepare<[number, number, number]>(
      'DELETE FROM tasks WHERE id > ? AND id <= ? AND status <> 0 AND COALESCE(done_at, created_at) < ?',
    ),

    insertCustomer: prepare<[string, string, string, number]>(
      'INSERT INTO customers (channel, account, external_id, created_at) VALUES (?, ?, ?, ?)',
    ),
    // Moved on only by a minute or more (see Commit.customerSeenAt): a customer's every message
    // would otherwise write a page of customers, at random, for a 24-hour window.
    customerSeen: prepare<[number, number, number, number]>(
      'UPDATE customers SET last_inbound_at = ? WHERE id = ? AND (last_inbound_at IS NULL OR last_inbound_at <= ? - ?)',
    ),
    findCustomer: prepare<[string, string, string], CustomerRow>(
      `SELECT ${customerColumns} FROM customers WHERE channel = ? AND external_id = ? AND account = ?`,
    ),
    findCustomerAnyAccount: prepare<[string, string], CustomerRow>(
      `SELECT ${customerColumns} FROM customers WHERE channel = ? AND external_id = ? ORDER BY id LIMIT 1`,
    ),
    getCustomer: prepare<[number], CustomerRow>(`SELECT ${customerColumns} FROM customers WHERE id = ?`),

    insertTask: prepare<[string, string, string, string, number, number]>(
      'INSERT INTO tasks (channel, account, external_id, command, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    getTask: prepare<[number], TaskRow>(`SELECT ${taskColumns} FROM tasks WHERE id = ?`),
    removeTask: prepare<[number]>('UPDATE tasks SET status = 2 WHERE id = ? AND status = 0 AND fired_at IS NULL'),
    completeTask: prepare<[number, number]>('UPDATE tasks SET status = 1, done_at = ? WHERE id = ? AND status = 0'),
    dueTasks: prepare<[number, number], TaskRow>(
      `SELECT ${taskColumns} FROM tasks WHERE status = 0 AND fired_at IS NULL AND due_at <= ?` +
        ' ORDER BY due_at, id LIMIT ?',
    ),
    fireTask: prepare<[number, number]>('UPDATE tasks SET fired_at = ? WHERE id = ?'),
    nextTaskAt: prepare<[], number | null>('SELECT MIN(due_at) FROM tasks WHERE status = 0 AND fired_at IS NULL', true),
  };
}

/**
 * The part of a better-sqlite3 statement the store uses, as a type of its own: the
 * driver's own statement type cannot be named in emitted declarations.
 */
export interface Prepared<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** The prepared statements of one open SQLite store. */
export type Statements = ReturnType<typeof prepareStatements>;
