import pg from 'pg';
import type { ClientConfig, PoolClient, QueryResultRow } from 'pg';
import { EngineError, toEngineError } from '../core/errors.js';
import type { InboundEvent } from '../core/events.js';
import { conversationKey, type ActorKey, type OrderId } from '../core/ids.js';
import { taskDueEvent, type ClaimedKey, type ClaimedLane, type HistoryCursor, type InboxItem, type OutboxItem, type Store } from '../core/store.js';
import { postgresMigrations } from './migrations/postgres.js';
import { clean, decodeResults, encodeCommits, encodeStatus, type CommitRow } from './postgres/commit-batch.js';
import { migratePostgres } from './postgres/migrate.js';
import { NotifyListener } from './postgres/notify.js';
import { historyTables, reach, type HeadRow } from './prune.js';
import {
  sql,
  toCustomer,
  toOrder,
  toOutbox,
  toTask,
  type CustomerRow,
  type OrderRow,
  type OutboxRow,
  type StatementName,
  type TaskRow,
} from './postgres/statements.js';

/** The statements `pruneHistory` runs on each table. */
const history: Record<keyof HistoryCursor, { readonly head: StatementName; readonly prune: StatementName }> = {
  inbox: { head: 'inboxHead', prune: 'pruneInbox' },
  outbox: { head: 'outboxHead', prune: 'pruneOutbox' },
  tasks: { head: 'tasksHead', prune: 'pruneTasks' },
};

export interface PostgresStoreOptions {
  /** Connections in the pool (the LISTEN connection comes on top). 10 by default. */
  readonly poolSize?: number;
  /** How long one statement may run before PostgreSQL cancels it; the client gives up a second later. 5000 by default. */
  readonly statementTimeoutMs?: number;
  /**
   * The schema to live in (created when missing): letters, digits and `_`. By default the
   * first schema of the connection's `search_path` (which the URL may set with
   * `?options=-c%20search_path%3D<schema>`).
   */
  readonly schema?: string;
  /** Milliseconds since the epoch, for arrival and failure times; tests drive it. Leases use the database's clock. */
  readonly clock?: () => number;
}

const schemaPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const int8 = 20;
const noStrings: string[] = [];

/**
 * The PostgreSQL store, for several engine instances on one database (`shared`). Migrated on
 * open under an advisory lock; every batch the engine writes (`append`, `commit`,
 * `markSent`, a lease claim) is one statement, so one round trip, whatever its size.
 * Leases and the work queues are coordinated in the database; a dedicated connection
 * LISTENs for the work other instances leave (see `watch`). Failures reject with `EngineError('STORE')`.
 * @example
 * const store = await openPostgresStore('postgres://orderly@db/orderly', { poolSize: 10 });
 * const engine = createEngine({ store, flows, services });
 * await store.close();
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const clock = options.clock ?? Date.now;
  const timeout = Math.max(100, Math.trunc(options.statementTimeoutMs ?? 5_000));
  if (options.schema !== undefined && !schemaPattern.test(options.schema)) {
    throw new EngineError('CONFIG', 'a PostgreSQL schema name is letters, digits and _ (at most 63)');
  }
  const config: ClientConfig = {
    connectionString: url,
    application_name: 'orderly',
    statement_timeout: timeout,
    query_timeout: timeout + 1_000,
    connectionTimeoutMillis: Math.min(timeout, 5_000),
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === int8 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
  const pool = new pg.Pool({ ...config, max: Math.max(1, options.poolSize ?? 10) });
  // An idle connection that breaks is dropped by the pool; the next query opens another.
  pool.on('error', () => undefined);
  let schema: string;
  try {
    schema = await checkedOut(pool, async (client) => {
      const name = options.schema ?? (await currentSchema(client));
      await migratePostgres(client, name, postgresMigrations, clock());
      return name;
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw toEngineError(error, 'STORE');
  }
  const channel = `orderly:${schema}`;
  const listener = new NotifyListener(config, channel);
  let closed = false;

  async function query<R extends QueryResultRow>(name: StatementName, values: unknown[], client?: PoolClient): Promise<R[]> {
    if (closed) throw new EngineError('STORE', 'the store is closed');
    return (await (client ?? pool).query<R>({ name, text: sql[name], values })).rows;
  }

  async function appendWith(events: readonly InboundEvent[], at: number, client?: PoolClient): Promise<InboxItem[]> {
    if (events.length === 0) return [];
    const rows = await query<{ seq: number; event_id: string }>(
      'append',
      [events.map((e) => e.id), events.map((e) => e.key), events.map((e) => JSON.stringify(e)), at],
      client,
    );
    const seqs = new Map(rows.map((row) => [row.event_id, row.seq]));
    const items: InboxItem[] = [];
    for (const event of events) {
      const seq = seqs.get(event.id);
      if (seq === undefined) continue;
      seqs.delete(event.id);
      items.push({ seq, event });
    }
    return items.sort((a, b) => a.seq - b.seq);
  }

  async function transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    if (closed) throw new EngineError('STORE', 'the store is closed');
    return checkedOut(pool, async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  const toItem = (row: { seq: number; event: string }): InboxItem => ({ seq: row.seq, event: JSON.parse(row.event) as InboundEvent });
  const leases = (owner: string, ms: number, names: { keepKeys?: readonly string[]; dropKeys?: readonly string[]; keepLanes?: readonly string[]; dropLanes?: readonly string[] }, all = false) =>
    query<{ name: string }>('leases', [
      owner,
      ms,
      names.keepKeys ?? noStrings,
      names.dropKeys ?? noStrings,
      names.keepLanes ?? noStrings,
      names.dropLanes ?? noStrings,
      all,
    ]);

  return {
    shared: true,
    append: (events) => guard(() => appendWith(events, clock())),
    pending: (afterSeq, limit, owner) =>
      guard(async () => {
        const rows =
          owner === undefined
            ? await query<{ seq: number; event: string }>('pending', [afterSeq, rows0(limit)])
            : await query<{ seq: number; event: string }>('pendingOpen', [afterSeq, rows0(limit), owner]);
        return rows.map(toItem);
      }),
    fail: (seq, reason) => guard(async () => void (await query('fail', [clean(reason), clock(), seq]))),
    pruneHistory: (before, from, limit) =>
      guard(async () => {
        const next = { ...from };
        let deleted = 0;
        let done = true;
        for (const table of historyTables) {
          const { head, prune } = history[table];
          const reached = reach(await query<HeadRow>(head, [from[table], rows0(limit)]), before, from[table], limit);
          if (reached.upTo > from[table]) deleted += (await pool.query({ name: prune, text: sql[prune], values: [from[table], reached.upTo, before] })).rowCount ?? 0;
          next[table] = reached.upTo;
          done &&= reached.done;
        }
        return { deleted, next, done };
      }),
    outcomes: (seqs) =>
      guard(async () => {
        if (seqs.length === 0) return [];
        const rows = await query<{ seq: number; status: number }>('outcomes', [seqs]);
        return rows.map((row) => ({ seq: row.seq, outcome: row.status === 1 ? ('done' as const) : ('failed' as const) }));
      }),

    load: (key) =>
      guard(async () => {
        const [row] = await query<{ flow_id: string; flow_version: number; rev: number; snapshot: string }>('load', [key]);
        return row ? { flowId: row.flow_id, flowVersion: row.flow_version, rev: row.rev, snapshot: JSON.parse(row.snapshot) as unknown } : null;
      }),
    commit: (commits, lease) =>
      guard(async () => {
        if (commits.length === 0 && !lease) return [];
        const rows = await query<CommitRow>('commit', [
          encodeCommits(commits),
          lease?.owner ?? null,
          lease?.ms ?? null,
          lease ? (lease.release ?? noStrings) : null,
          channel,
        ]);
        return decodeResults(commits, rows);
      }),

    pendingOutbox: (afterId, limit, owner) =>
      guard(async () => {
        const rows =
          owner === undefined
            ? await query<OutboxRow>('pendingOutbox', [afterId, rows0(limit)])
            : await query<OutboxRow>('pendingOutboxOpen', [afterId, rows0(limit), owner]);
        return rows.map(toOutbox);
      }),
    markSent: (results, lease) =>
      guard(async () => {
        if (results.length === 0 && !lease) return [];
        const rows = await query<{ name: string }>('markSent', [
          results.map((r) => r.id),
          results.map((r) => r.platformId ?? null),
          results.map((r) => r.at),
          lease?.owner ?? null,
          lease?.ms ?? null,
          lease?.keep ?? noStrings,
          lease?.release ?? noStrings,
        ]);
        return rows.map((row) => row.name);
      }),
    markRetry: (id, availableAt, error) => guard(async () => void (await query('markRetry', [availableAt, clean(error), id]))),
    markFailed: (id, status, error, at) => guard(async () => void (await query('markFailed', [status, clean(error), id, at]))),
    requeueFailed: (type, at, limit) =>
      guard(async () => (await query<OutboxRow>('requeueFailed', [at, type, rows0(limit)])).map(toOutbox).sort((a, b) => a.id - b.id)),
    messageStatus: (update) =>
      guard(async () => {
        const [row] = await query<{ touched: number }>('messageStatus', [JSON.stringify(encodeStatus(update))]);
        return (row?.touched ?? 0) > 0;
      }),
    getOutbox: (id) => guard(async () => first(await query<OutboxRow>('getOutbox', [id]), toOutbox)),
    messagesTo: (address, afterId, limit) =>
      guard(async () => (await query<OutboxRow>('messagesTo', [conversationKey(address), afterId, rows0(limit)])).map(toOutbox)),

    allocateOrderIds: (count) =>
      guard(async () => {
        if (count <= 0) return [];
        const [row] = await query<{ value: number }>('allocateOrderIds', [count]);
        if (!row) throw new EngineError('STORE', 'the order id counter is missing');
        return Array.from({ length: count }, (_, i) => (row.value - count + 1 + i) as OrderId);
      }),
    getOrder: (id) => guard(async () => first(await query<OrderRow>('getOrder', [id]), toOrder)),
    listOrders: ({ status, limit, after = 0 }) =>
      guard(async () => {
        const rows =
          status === undefined
            ? await query<OrderRow>('listOrders', [after, rows0(limit)])
            : await query<OrderRow>('listOrdersByStatus', [status, after, rows0(limit)]);
        return rows.map(toOrder);
      }),

    findCustomer: ({ channel: name, account, user }) =>
      guard(async () => {
        const rows =
          account === undefined
            ? await query<CustomerRow>('findCustomerAnyAccount', [name, user])
            : await query<CustomerRow>('findCustomer', [name, user, account]);
        return first(rows, toCustomer);
      }),
    getCustomer: (id) => guard(async () => first(await query<CustomerRow>('getCustomer', [id]), toCustomer)),

    addTask: ({ customer, command, dueAt }) =>
      guard(async () => {
        const values = [customer.channel, customer.account, customer.user, command, dueAt, clock(), channel, `t||${dueAt}`];
        const [row] = await query<{ id: number }>('addTask', values);
        return { id: row!.id, customer, command, dueAt, status: 0 };
      }),
    removeTask: (id) => guard(async () => (await pool.query({ name: 'removeTask', text: sql.removeTask, values: [id] })).rowCount! > 0),
    getTask: (id) => guard(async () => first(await query<TaskRow>('getTask', [id]), toTask)),
    fireDueTasks: (now, limit) =>
      guard(() =>
        transaction(async (client) => {
          const fired = await query<TaskRow>('fireTasks', [now, rows0(limit)], client);
          fired.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
          return appendWith(fired.map((row) => taskDueEvent(toTask(row))), now, client);
        }),
      ),
    nextTaskAt: () => guard(async () => (await query<{ at: number | null }>('nextTaskAt', []))[0]?.at ?? null),

    claimKeys: (keys, lease) =>
      guard(async () => {
        if (keys.length === 0) return [];
        const rows = await query<{ actor_key: string; seq: number | null; body: string | null; flow_id: string | null; flow_version: number | null; rev: number | null }>(
          'claimKeys',
          [keys, lease.owner, lease.ms, channel],
        );
        const claimed: ClaimedKey[] = [];
        let current: { key: ActorKey; envelope: ClaimedKey['envelope']; pending: InboxItem[] } | undefined;
        for (const row of rows) {
          if (row.seq === null) {
            const envelope =
              row.flow_id === null ? null : { flowId: row.flow_id, flowVersion: row.flow_version!, rev: row.rev!, snapshot: JSON.parse(row.body!) as unknown };
            current = { key: row.actor_key as ActorKey, envelope, pending: [] };
            claimed.push(current);
          } else {
            current?.pending.push({ seq: row.seq, event: JSON.parse(row.body!) as InboundEvent });
          }
        }
        return claimed;
      }),
    claimLanes: (lanes, lease) =>
      guard(async () => {
        if (lanes.length === 0) return [];
        const rows = await query<Omit<OutboxRow, 'id'> & { id: number | null }>('claimLanes', [lanes, lease.owner, lease.ms, channel]);
        const claimed: ClaimedLane[] = [];
        let current: OutboxItem[] = [];
        for (const row of rows) {
          if (row.id === null) claimed.push({ lane: row.lane, pending: (current = []) });
          else current.push(toOutbox(row as OutboxRow));
        }
        return claimed;
      }),
    renewLeases: (lease, { keys, lanes }) =>
      guard(async () => (await leases(lease.owner, lease.ms, { keepKeys: keys ?? [], keepLanes: lanes ?? [] })).map((row) => row.name)),
    releaseLeases: (owner, names) =>
      guard(async () => void (await leases(owner, 0, { dropKeys: names?.keys ?? [], dropLanes: names?.lanes ?? [] }, !names))),
    watch: (watcher) => listener.watch(watcher),

    close: async () => {
      if (closed) return;
      closed = true;
      await listener.close();
      await pool.end();
    },
  };
}

/**
 * Runs `work` on a connection of its own. A checked-out connection has no error listener of
 * the pool's: one that breaks meanwhile would crash the process without this one. A
 * connection that failed is closed rather than given back.
 */
async function checkedOut<T>(pool: pg.Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const ignore = () => undefined;
  client.on('error', ignore);
  let failure: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(failure);
  }
}

/** Runs a store call; whatever it throws becomes a STORE error. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toEngineError(error, 'STORE');
  }
}

/** A LIMIT value: the port reads a negative one as "none". */
function rows0(limit: number): number {
  return Math.max(0, limit);
}

function first<R, T>(rows: readonly R[], map: (row: R) => T): T | null {
  return rows.length === 0 ? null : map(rows[0]!);
}

/** The schema the connection's search_path names first (it may not exist yet: the migration creates it). */
async function currentSchema(client: PoolClient): Promise<string> {
  const { rows } = await client.query<{ schema: string | null; path: string }>(
    "SELECT current_schema() AS schema, current_setting('search_path') AS path",
  );
  const found = rows[0]?.schema;
  if (found) return found;
  const named = (rows[0]?.path ?? '')
    .split(',')
    .map((part) => part.trim().replace(/^"(.*)"$/, '$1'))
    .find((part) => part !== '' && part !== '$user');
  if (!named || !schemaPattern.test(named)) throw new EngineError('CONFIG', 'the PostgreSQL search_path names no usable schema');
  return named;
}
