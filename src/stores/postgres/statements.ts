import type { DispatchedEffect } from '../../core/effects.js';
import type { Address, OrderId } from '../../core/ids.js';
import type { CustomerRecord, OrderRecord, OutboxItem, OutboxStatus, TaskRecord, TaskStatus } from '../../core/store.js';

/**
 * The PostgreSQL store's SQL, each statement named so that pg prepares it once per
 * connection, with the row shapes it answers and their mapping to the port's records.
 * BIGINT columns arrive as numbers (the store's type parser); the history is JSONB.
 */

export interface OutboxRow {
  readonly id: number;
  readonly lane: string;
  readonly effect: string;
  readonly status: string;
  readonly attempts: number;
  readonly available_at: number;
  readonly created_at: number;
  readonly platform_id: string | null;
  readonly error: string | null;
  readonly history: OutboxItem['history'];
}

interface AddressRow {
  readonly channel: string;
  readonly account: string;
  readonly external_id: string;
}

export interface OrderRow extends AddressRow {
  readonly id: number;
  readonly customer_id: number;
  readonly status: number;
  readonly paid: boolean;
  readonly total: number;
  readonly currency: string;
  readonly data: string;
  readonly created_at: number;
  readonly updated_at: number;
}

export interface CustomerRow extends AddressRow {
  readonly id: number;
  readonly created_at: number;
  readonly last_inbound_at: number | null;
}

export interface TaskRow extends AddressRow {
  readonly id: number;
  readonly command: string;
  readonly due_at: number;
  readonly status: number;
  readonly fired_at: number | null;
  readonly done_at: number | null;
}

const outboxColumns = 'id, lane, effect, status, attempts, available_at, created_at, platform_id, error, history';
const orderSelect =
  'SELECT o.id, o.customer_id, o.status, o.paid, o.total, o.currency, o.data, o.created_at, o.updated_at,' +
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

export function toAddress(row: AddressRow): Address {
  return { channel: row.channel, account: row.account, user: row.external_id };
}

export function toOutbox(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    lane: row.lane,
    effect: JSON.parse(row.effect) as DispatchedEffect,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    availableAt: row.available_at,
    createdAt: row.created_at,
    ...(row.platform_id === null ? {} : { platformId: row.platform_id }),
    ...(row.error === null ? {} : { error: row.error }),
    history: row.history,
  };
}

export function toOrder(row: OrderRow): OrderRecord {
  return {
    id: row.id as OrderId,
    customer: toAddress(row),
    customerId: row.customer_id,
    status: row.status,
    paid: row.paid,
    total: row.total,
    currency: row.currency,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toCustomer(row: CustomerRow): CustomerRecord {
  return {
    id: row.id,
    address: toAddress(row),
    createdAt: row.created_at,
    ...(row.last_inbound_at === null ? {} : { lastInboundAt: row.last_inbound_at }),
  };
}

export function toTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    customer: toAddress(row),
    command: row.command,
    dueAt: row.due_at,
    status: row.status as TaskStatus,
    ...(row.fired_at === null ? {} : { firedAt: row.fired_at }),
    ...(row.done_at === null ? {} : { doneAt: row.done_at }),
  };
}
