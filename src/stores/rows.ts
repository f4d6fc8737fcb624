import type { DispatchedEffect } from '../core/effects.js';
import type { Address, OrderId } from '../core/ids.js';
import type { CustomerRecord, OrderHistoryEntry, OrderRecord, OutboxItem, OutboxStatus, TaskRecord, TaskStatus } from '../core/store.js';

/**
 * The rows the SQL stores read (snake_case columns, the same tables in SQLite and
 * PostgreSQL) and their mapping to the port's records. The two databases differ only in
 * how a history (`H`: JSON text or JSONB) and the paid flag (`P`: 0/1 or boolean) arrive; each store says how to read them.
 */

export interface AddressRow {
  readonly channel: string;
  readonly account: string;
  readonly external_id: string;
}

export interface OutboxRow<H> {
  readonly id: number;
  readonly lane: string;
  readonly effect: string;
  readonly status: string;
  readonly attempts: number;
  readonly available_at: number;
  readonly created_at: number;
  readonly platform_id: string | null;
  readonly error: string | null;
  readonly history: H;
}

export interface OrderRow<P, H> extends AddressRow {
  readonly id: number;
  readonly customer_id: number;
  readonly status: number;
  readonly paid: P;
  readonly total: number;
  readonly currency: string;
  readonly data: string;
  readonly created_at: number;
  readonly updated_at: number;
  /** `[{status, paid, at}]`: JSON text or JSONB. */
  readonly history: H;
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

/** @example toAddress({ channel: 'web', account: 'shop', external_id: 'u1' }) // { channel: 'web', account: 'shop', user: 'u1' } */
export function toAddress(row: AddressRow): Address {
  return { channel: row.channel, account: row.account, user: row.external_id };
}

/** @example toOutbox(row, (text: string) => JSON.parse(text)) */
export function toOutbox<H>(row: OutboxRow<H>, history: (stored: H) => OutboxItem['history']): OutboxItem {
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
    history: history(row.history),
  };
}

/** @example toOrder(row, (paid: number) => paid === 1, (text: string) => JSON.parse(text)) */
export function toOrder<P, H>(row: OrderRow<P, H>, paid: (stored: P) => boolean, history: (stored: H) => readonly OrderHistoryEntry[]): OrderRecord {
  return {
    id: row.id as OrderId,
    customer: toAddress(row),
    customerId: row.customer_id,
    status: row.status,
    paid: paid(row.paid),
    total: row.total,
    currency: row.currency,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    history: history(row.history),
  };
}

/** @example toCustomer(row).lastInboundAt */
export function toCustomer(row: CustomerRow): CustomerRecord {
  return {
    id: row.id,
    address: toAddress(row),
    createdAt: row.created_at,
    ...(row.last_inbound_at === null ? {} : { lastInboundAt: row.last_inbound_at }),
  };
}

/** @example toTask(row).status // 0 */
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
