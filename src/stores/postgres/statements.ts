import type { OrderRecord, OutboxItem } from '../../core/store.js';
import type * as Rows from '../rows.js';
import { toOrder as toOrderRecord, toOutbox as toOutboxRecord } from '../rows.js';

/**
 * The PostgreSQL store's SQL, each statement named so that pg prepares it once per
 * connection, with the row shapes it answers and their mapping to the port's records.
 * BIGINT columns arrive as numbers (the store's type parser); the history is JSONB.
 */

/** BIGINT columns arrive as numbers, the history as JSONB, the paid flag as a boolean (see ../rows.ts). */
export type OutboxRow = Rows.OutboxRow<OutboxItem['history']>;
export type OrderRow = Rows.OrderRow<boolean, OrderRecord['history']>;
export type { CustomerRow, TaskRow } from '../rows.js';

const outboxColumns = 'id, lane, effect, status, attempts, available_at, created_at, platform_id, error, history';
const orderSelect =
  'SELECT o.id, o.customer_id, o.status, o.paid, o.total, o.currency, o.data, o.created_at, o.updated_at, o.history,' +
  ' c.channel, c.account, c.external_id FROM orders o JOIN customers c ON c.id = o.customer_id';
const taskColumns = 'id, channel, account, external_id, command, due_at, status, fired_at, done_at';
const customerColumns = 'id, channel, account, external_id, created_at, last_inbound_at';
/** No other owner holds a live lease on the row's key (`$owner` is the parameter number). */
const keyOpen = (owner: string) =>
  `NOT EXISTS (SELECT 1 FROM actor_leases l WHERE l.actor_key = i.actor_key AND l.owner <> ${owner} AND l.expires_at >= orderly_now())`;
const laneOpen = (owner: string) =>
  `NOT EXISTS (SELECT 1 FROM lane_leases l WHERE l.lane = o.lane AND l.owner <> ${owner} AND l.expires_at >= orderly_now())`;

/** Every statement by name. */
export const sql = {
  append:
    'INSERT INTO inbox (event_id, actor_key, event, received_at)' +
    ' SELECT e.id, e.key, e.body, $4 FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(id, key, body, n)' +
    ' ORDER BY e.n ON CONFLICT (event_id) DO NOTHING RETURNING seq, event_id',
  pending: 'SELECT seq, event FROM inbox WHERE status = 0 AND seq > $1 ORDER BY seq LIMIT $2',
  pendingOpen: `SELECT i.seq, i.event FROM inbox i WHERE i.status = 0 AND i.seq > $1 AND ${keyOpen('$3')} ORDER BY i.seq LIMIT $2`,
  fail: 'UPDATE inbox SET status = 2, error = $1, done_at = $2 WHERE seq = $3 AND status = 0',
  outcomes: 'SELECT seq, status FROM inbox WHERE seq = ANY($1::bigint[]) AND status <> 0',
  load: 'SELECT flow_id, flow_version, rev, snapshot FROM actors WHERE actor_key = $1',
  commit: 'SELECT r_commit, r_kind, r_id, r_name FROM orderly_commit($1::jsonb, $2, $3, $4::text[], $5)',

  pendingOutbox: `SELECT ${outboxColumns} FROM outbox WHERE status = 'pending' AND id > $1 ORDER BY id LIMIT $2`,
  pendingOutboxOpen: `SELECT ${outboxColumns} FROM outbox o WHERE status = 'pending' AND id > $1 AND ${laneOpen('$3')} ORDER BY id LIMIT $2`,
  markSent: 'SELECT name FROM orderly_mark_sent($1::bigint[], $2::text[], $3::bigint[], $4, $5, $6::text[], $7::text[]) AS name',
  markRetry: 'UPDATE outbox SET attempts = attempts + 1, available_at = $1, error = $2 WHERE id = $3',
  markFailed:
    'UPDATE outbox SET status = $1, error = $2,' +
    " history = history || jsonb_build_array(jsonb_build_object('status', $1::text, 'at', $4::bigint, 'error', $2::text)) WHERE id = $3",
  requeueFailed:
    "UPDATE outbox SET status = 'pending', attempts = 0, available_at = $1 WHERE id IN" +
    " (SELECT id FROM outbox WHERE status = 'failed' AND effect_type = $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)" +
    ` RETURNING ${outboxColumns}`,
  messageStatus: 'SELECT orderly_status($1::jsonb) AS touched',
  getOutbox: `SELECT ${outboxColumns} FROM outbox WHERE id = $1`,
  messagesTo: `SELECT ${outboxColumns} FROM outbox WHERE recipient = $1 AND id > $2 ORDER BY id LIMIT $3`,

  allocateOrderIds:
    'UPDATE counters SET value = GREATEST(value, (SELECT COALESCE(MAX(id), 0) FROM orders)) + $1' +
    " WHERE name = 'order_id' RETURNING value",
  getOrder: `${orderSelect} WHERE o.id = $1`,
  listOrders: `${orderSelect} WHERE o.id > $1 ORDER BY o.id LIMIT $2`,
  listOrdersByStatus: `${orderSelect} WHERE o.status = $1 AND o.id > $2 ORDER BY o.id LIMIT $3`,

  findCustomer: `SELECT ${customerColumns} FROM customers WHERE channel = $1 AND external_id = $2 AND account = $3`,
  findCustomerAnyAccount: `SELECT ${customerColumns} FROM customers WHERE channel = $1 AND external_id = $2 ORDER BY id LIMIT 1`,
  getCustomer: `SELECT ${customerColumns} FROM customers WHERE id = $1`,

  addTask:
    'WITH t AS (INSERT INTO tasks (channel, account, external_id, command, due_at, created_at)' +
    ' VALUES ($1, $2, $3, $4, $5, $6) RETURNING id) SELECT t.id, pg_notify($7, $8) FROM t',
  // History, oldest first (see Store.pruneHistory): a batch's head rows, then a range of ids.
  inboxHead: 'SELECT seq AS id, received_at AS at FROM inbox WHERE seq > $1 ORDER BY seq LIMIT $2',
  pruneInbox: 'DELETE FROM inbox WHERE seq > $1 AND seq <= $2 AND status <> 0 AND done_at < $3',
  outboxHead: 'SELECT id, created_at AS at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2',
  pruneOutbox: "DELETE FROM outbox WHERE id > $1 AND id <= $2 AND status <> 'pending' AND created_at < $3",
  tasksHead: 'SELECT id, created_at AS at FROM tasks WHERE id > $1 ORDER BY id LIMIT $2',
  pruneTasks: 'DELETE FROM tasks WHERE id > $1 AND id <= $2 AND status <> 0 AND COALESCE(done_at, created_at) < $3',
  getTask: `SELECT ${taskColumns} FROM tasks WHERE id = $1`,
  removeTask: 'UPDATE tasks SET status = 2 WHERE id = $1 AND status = 0 AND fired_at IS NULL',
  fireTasks:
    'UPDATE tasks SET fired_at = $1 WHERE id IN (SELECT id FROM tasks WHERE status = 0 AND fired_at IS NULL AND due_at <= $1' +
    ` ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING ${taskColumns}`,
  nextTaskAt: 'SELECT MIN(due_at) AS at FROM tasks WHERE status = 0 AND fired_at IS NULL',

  claimKeys: 'SELECT actor_key, seq, body, flow_id, flow_version, rev FROM orderly_claim_keys($1::text[], $2, $3, $4)',
  claimLanes: `SELECT ${outboxColumns.replace('id, lane', 'lane, id')} FROM orderly_claim_lanes($1::text[], $2, $3, $4)`,
  leases: 'SELECT orderly_leases AS name FROM orderly_leases($1, $2, $3::text[], $4::text[], $5::text[], $6::text[], $7)',
} as const;

export type StatementName = keyof typeof sql;

export { toAddress, toCustomer, toTask } from '../rows.js';

export const toOutbox = (row: OutboxRow): OutboxItem => toOutboxRecord(row, (history) => history);
export const toOrder = (row: OrderRow): OrderRecord => toOrderRecord(row, (paid) => paid, (history) => history);
