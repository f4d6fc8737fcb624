import Database from 'better-sqlite3';
import pg from 'pg';
import { shopFlow } from '../flows/shop.js';
import { openPostgresStore } from '../src/stores/postgres.js';
import { openSqliteStore } from '../src/stores/sqlite.js';
import { accountOf, customerId, customerIdSql, type BenchChannel } from './webhooks.js';

export interface SeedOptions {
  readonly channel: BenchChannel;
  /** How many customers to store: customer ids 0 … count-1 (`customerId`). */
  readonly count: number;
  /**
   * Also store each customer's history: the event that started its conversation (done) and
   * the reply to it (sent), as a shop that has served them holds. On by default.
   */
  readonly history?: boolean;
  /** Milliseconds since the epoch the rows are dated; now by default. */
  readonly now?: number;
}

/**
 * The text of one customer's rows, the same for both stores. `{user}`, `{at}` and `{event}`
 * stand for the customer's platform id, the rows' time and the seeded event's id.
 */
function templates(channel: BenchChannel) {
  const account = accountOf(channel);
  const address = `{"channel":"${channel}","account":"${account}","user":"{user}"}`;
  const key = `conv:${channel}:${account}:{user}`;
  const menu = '[{"title":"Browse","payload":"browse"},{"title":"Search","payload":"search"},{"title":"Cart","payload":"cart"},{"title":"My orders","payload":"orders"},{"title":"Help","payload":"help"}]';
  return {
    account,
    key,
    // Idle after a greeting, as a real run leaves a conversation.
    snapshot: `{"status":"active","value":"idle","historyValue":{},"context":{"customer":${address},"greeted":true,"cart":[],"checkout":{},"orders":[]},"children":{}}`,
    event: `{"id":"{event}","key":"${key}","at":{at},"address":${address},"type":"text","text":"hi"}`,
    reply: `{"type":"reply","to":${address},"message":{"kind":"text","text":"Hi! Welcome to our coffee & tea shop ☕\\nWhat would you like to do?","quickReplies":${menu}}}`,
    history: '[{"status":"sent","at":{at}}]',
  };
}

// An hour ago: inside the platforms' 24-hour window, as a customer in a conversation is.
const hourAgo = 3_600_000;

/**
 * Stores `count` customers of `channel` straight into the SQLite file at `path`, before the
 * server starts: the schema comes from the real store (opened once, so its migrations run),
 * then one transaction of prepared inserts in key order. Each customer gets its `customers`
 * row and its conversation's snapshot (an `actors` row with the shop flow's id and version,
 * idle after a greeting, as a real run leaves it), and by default one done inbox event and
 * one sent reply. About 10 s for a million on a 2-core machine.
 * @example await seedSqlite('/tmp/bench.db', { channel: 'messenger', count: 1_000_000 });
 */
export async function seedSqlite(path: string, options: SeedOptions): Promise<{ ms: number }> {
  const started = performance.now();
  await openSqliteStore(path).close();
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    insertAll(db, options);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { ms: performance.now() - started };
}

function insertAll(db: Database.Database, options: SeedOptions): void {
  const { channel, count } = options;
  const history = options.history ?? true;
  const t = templates(channel);
  const now = options.now ?? Date.now();
  const insertCustomer = db.prepare(
    'INSERT INTO customers (channel, account, external_id, created_at, last_inbound_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insertActor = db.prepare(
    'INSERT INTO actors (actor_key, flow_id, flow_version, rev, snapshot, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertEvent = db.prepare(
    'INSERT INTO inbox (event_id, actor_key, event, status, received_at, done_at) VALUES (?, ?, ?, 1, ?, ?)',
  );
  const insertReply = db.prepare(
    "INSERT INTO outbox (lane, recipient, effect, status, available_at, created_at, platform_id, history) VALUES (?, ?, ?, 'sent', ?, ?, ?, ?)",
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const user = customerId(channel, i);
      const at = now - hourAgo + (i % 1_000);
      const eventId = `seed_${String(i).padStart(10, '0')}`;
      const fill = (template: string) => template.replaceAll('{user}', user).replaceAll('{at}', String(at)).replaceAll('{event}', eventId);
      const key = fill(t.key);
      insertCustomer.run(channel, t.account, user, at, at);
      insertActor.run(key, shopFlow.id, shopFlow.version, 1, fill(t.snapshot), at);
      if (!history) continue;
      insertEvent.run(eventId, key, fill(t.event), at, at);
      insertReply.run(key, key, fill(t.reply), at, at, `m_seed_${String(i).padStart(10, '0')}`, fill(t.history));
    }
  })();
}

/**
 * The same customers, conversations and history as `seedSqlite`, stored in the PostgreSQL
 * `schema` of the database at `url` (created and migrated by the real store, opened once).
 * The rows are made by the database itself from `generate_series`, in one transaction
 * that does not wait for its sync, then analyzed: nothing crosses the connection per row.
 * @example await seedPostgres('postgres://postgres@127.0.0.1/test', 'bench_1', { channel: 'messenger', count: 1_000_000 });
 */
export async function seedPostgres(url: string, schema: string, options: SeedOptions): Promise<{ ms: number }> {
  const started = performance.now();
  await (await openPostgresStore(url, { schema, poolSize: 1 })).close();
  const { channel, count } = options;
  const history = options.history ?? true;
  const t = templates(channel);
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL synchronous_commit = off');
    // One row a customer, with the values its rows are made of; fill(x) fills a template.
    await client.query(
      `CREATE TEMP TABLE seed ON COMMIT DROP AS
       SELECT u AS user_id, at, 'seed_' || lpad(i::text, 10, '0') AS event_id, 'm_seed_' || lpad(i::text, 10, '0') AS platform_id
       FROM generate_series(0, $1::bigint - 1) AS i,
            LATERAL (SELECT ${customerIdSql(channel, 'i')} AS u, $2::bigint - ${hourAgo} + (i % 1000) AS at) AS v`,
      [count, options.now ?? Date.now()],
    );
    const fill = (param: string) => `replace(replace(replace(${param}::text, '{user}', user_id), '{at}', at::text), '{event}', event_id)`;
    await client.query(
      'INSERT INTO customers (channel, account, external_id, created_at, last_inbound_at) SELECT $1, $2, user_id, at, at FROM seed ORDER BY user_id',
      [channel, t.account],
    );
    await client.query(
      `INSERT INTO actors (actor_key, flow_id, flow_version, rev, snapshot, updated_at)
       SELECT ${fill('$1')}, $2, $3, 1, ${fill('$4')}, at FROM seed ORDER BY user_id`,
      [t.key, shopFlow.id, shopFlow.version, t.snapshot],
    );
    if (history) {
      await client.query(
        `INSERT INTO inbox (event_id, actor_key, event, status, received_at, done_at)
         SELECT event_id, ${fill('$1')}, ${fill('$2')}, 1, at, at FROM seed ORDER BY user_id`,
        [t.key, t.event],
      );
      await client.query(
        `INSERT INTO outbox (lane, recipient, effect_type, effect, status, available_at, created_at, platform_id, history)
         SELECT ${fill('$1')}, ${fill('$1')}, 'reply', ${fill('$2')}, 'sent', at, at, platform_id, ${fill('$3')}::jsonb FROM seed ORDER BY user_id`,
        [t.key, t.reply, t.history],
      );
    }
    await client.query('COMMIT');
    await client.query('ANALYZE customers, actors, inbox, outbox');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
  return { ms: performance.now() - started };
}

/**
 * Drops a schema the bench made, with everything in it.
 * @example await dropPostgresSchema(url, 'bench_1');
 */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
