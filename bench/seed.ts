import Database from 'better-sqlite3';
import { shopFlow } from '../flows/shop.js';
import { openSqliteStore } from '../src/stores/sqlite.js';
import { accountOf, customerId, type BenchChannel } from './webhooks.js';

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
  const account = accountOf(channel);
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
  const menu = '[{"title":"Browse","payload":"browse"},{"title":"Search","payload":"search"},{"title":"Cart","payload":"cart"},{"title":"My orders","payload":"orders"},{"title":"Help","payload":"help"}]';
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const user = customerId(channel, i);
      const key = `conv:${channel}:${account}:${user}`;
      const address = `{"channel":"${channel}","account":"${account}","user":"${user}"}`;
      // An hour ago: inside the platforms' 24-hour window, as a customer in a conversation is.
      const at = now - 3_600_000 + (i % 1_000);
      insertCustomer.run(channel, account, user, at, at);
      const snapshot = `{"status":"active","value":"idle","historyValue":{},"context":{"customer":${address},"greeted":true,"cart":[],"checkout":{},"orders":[]},"children":{}}`;
      insertActor.run(key, shopFlow.id, shopFlow.version, 1, snapshot, at);
      if (!history) continue;
      const eventId = `seed_${String(i).padStart(10, '0')}`;
      insertEvent.run(eventId, key, `{"id":"${eventId}","key":"${key}","at":${at},"address":${address},"type":"text","text":"hi"}`, at, at);
      const reply = `{"type":"reply","to":${address},"message":{"kind":"text","text":"Hi! Welcome to our coffee & tea shop ☕\\nWhat would you like to do?","quickReplies":${menu}}}`;
      insertReply.run(key, key, reply, at, at, `m_seed_${String(i).padStart(10, '0')}`, `[{"status":"sent","at":${at}}]`);
    }
  })();
}
