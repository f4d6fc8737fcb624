import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { conversationKey, type Address, type OrderId } from '../../src/core/ids.js';
import { sqliteMigrations } from '../../src/stores/migrations/sqlite.js';
import { migrate } from '../../src/stores/sqlite/migrate.js';
import { loadConfig } from '../../src/server/config.js';
import { openStore } from '../../src/server/start-server.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { startCheckpointer } from '../../src/stores/sqlite/checkpointer.js';
import { storeConformance } from './conformance.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orderly-sqlite-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storeConformance('sqlite', () => openSqliteStore(join(freshDir(), 'orderly.db')));
storeConformance('sqlite in memory', () => openSqliteStore(':memory:'));

const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
const key = conversationKey(alice);

describe('sqlite store on disk', () => {
  it('keeps events, actors, outbox rows, orders and the order id counter across close and reopen', async () => {
    const path = join(freshDir(), 'nested', 'dir', 'orderly.db');
    const first = openSqliteStore(path);
    const [a, b] = await first.append([
      { type: 'text', id: 'a', key, at: 1, address: alice, text: 'hi' },
      { type: 'text', id: 'b', key, at: 2, address: alice, text: 'later' },
    ]);
    const [orderId] = await first.allocateOrderIds(1);
    await first.commit([
      {
        key,
        seq: a!.seq,
        expectedRev: 0,
        envelope: { flowId: 'shop', flowVersion: 2, snapshot: { value: 'browsing' } },
        outbox: [{ lane: key, effect: { type: 'reply', to: alice, message: { kind: 'text', text: 'hello' } } }],
        inbox: [],
        createOrders: [{ id: orderId!, customer: alice, total: 10, currency: 'EUR', data: { note: 'keep' } }],
        updateOrders: [],
        tasks: [],
        customer: alice,
        at: 3,
      },
    ]);
    await first.close();

    const second = openSqliteStore(path);
    expect(await second.pending(0, 10)).toEqual([b]);
    expect(await second.load(key)).toEqual({ flowId: 'shop', flowVersion: 2, rev: 1, snapshot: { value: 'browsing' } });
    expect(await second.messagesTo(alice, 0, 10)).toHaveLength(1);
    expect(await second.getOrder(orderId!)).toMatchObject({ data: { note: 'keep' }, customer: alice });
    const [next] = await second.allocateOrderIds(1);
    expect(next).toBeGreaterThan(orderId!);
    expect(await second.append([{ type: 'text', id: 'a', key, at: 1, text: 'again' }])).toEqual([]);
    await second.close();
  });

  it('applies each migration once, records its version, and is idempotent on reopen', async () => {
    const path = join(freshDir(), 'orderly.db');
    await openSqliteStore(path).close();
    await openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(sqliteMigrations.map(({ version, name }) => ({ version, name })));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('gives the orders of an older database an empty history, and records their changes from then on', async () => {
    const path = join(freshDir(), 'orderly.db');
    const old = new Database(path);
    migrate(old, sqliteMigrations.filter((migration) => migration.version <= 2), 1);
    old.prepare("INSERT INTO customers (id, channel, account, external_id, created_at) VALUES (1, 'test', 'shop', 'alice', 1)").run();
    old.prepare("INSERT INTO orders (id, customer_id, status, total, currency, data, created_at, updated_at) VALUES (7, 1, 20, 10, 'EUR', '{}', 1, 1)").run();
    old.close();

    const store = openSqliteStore(path);
    expect(await store.getOrder(7 as OrderId)).toMatchObject({ status: 20, history: [] });
    const [item] = await store.append([{ type: 'text', id: 'a', key, at: 1, address: alice, text: 'hi' }]);
    const envelope = { flowId: 'shop', flowVersion: 1, snapshot: {} };
    const commit = { key, seq: item!.seq, expectedRev: 0, envelope, outbox: [], inbox: [], createOrders: [], tasks: [], at: 5 };
    await store.commit([{ ...commit, updateOrders: [{ id: 7 as OrderId, status: 60 }] }]);
    expect(await store.getOrder(7 as OrderId)).toMatchObject({ status: 60, history: [{ status: 60, paid: false, at: 5 }] });
    await store.close();
  });

  it('refuses a database migrated by a newer version', async () => {
    const path = join(freshDir(), 'orderly.db');
    await openSqliteStore(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(9_999, 'future', 0);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/newer/);
  });
});

describe('sqlite store checkpoints on a thread of its own', () => {
  // About 300 pages of events: a log far below the 1,000 pages after which SQLite's own
  // checkpoint runs in the writer's commit.
  const events = Array.from({ length: 300 }, (_, i) => ({ type: 'text' as const, id: `e${i}`, key, at: i, address: alice, text: 'x'.repeat(3_000) }));

  it('copies what the writer committed into the database file, while the writer never checkpoints', async () => {
    const inlinePath = join(freshDir(), 'inline.db');
    const inline = openSqliteStore(inlinePath, { checkpoint: 'inline' });
    const inlineSize = statSync(inlinePath).size;
    await inline.append(events);
    expect(statSync(inlinePath).size).toBe(inlineSize);
    await inline.close();

    const path = join(freshDir(), 'background.db');
    const store = openSqliteStore(path);
    const size = statSync(path).size;
    await store.append(events);
    await expect.poll(() => statSync(path).size, { timeout: 10_000 }).toBeGreaterThan(size + 300 * 3_000);
    expect(await store.pending(0, 1_000)).toHaveLength(300);
    await store.close();
  });

  it('starts the log afresh under steady writes, so that it stays bounded without the writer checkpointing', async () => {
    const walFrames = async (restartPages: number): Promise<number> => {
      const path = join(freshDir(), 'steady.db');
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0'); // the writer never checkpoints: only the thread
      db.pragma('busy_timeout = 1000');
      db.exec('CREATE TABLE t (body TEXT)');
      const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
      const checkpointer = startCheckpointer(path, { busyMs: 5, idleMs: 5, restartPages });
      // The thread is at work once it has copied a first commit into the file.
      const size = statSync(path).size;
      insert.run('x'.repeat(3_000));
      await expect.poll(() => statSync(path).size, { timeout: 10_000 }).toBeGreaterThan(size);
      // Then 300 transactions of ten pages or more, a millisecond apart, as a busy server
      // commits: a PASSIVE round seldom finds the log copied whole before the next commit.
      const ten = db.transaction(() => {
        for (let row = 0; row < 10; row++) insert.run('x'.repeat(3_000));
      });
      for (let i = 0; i < 300; i++) {
        ten();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await checkpointer.close();
      const frames = (statSync(`${path}-wal`).size - 32) / (4_096 + 24);
      db.close();
      return frames;
    };
    // Without a restart every commit appends to the log; with one, the log is written over.
    const appended = await walFrames(1_000_000);
    expect(appended).toBeGreaterThan(600);
    expect(await walFrames(64)).toBeLessThan(appended / 3);
  });

  it('stops the thread on close, so the store is the last connection out and removes the log', async () => {
    const path = join(freshDir(), 'orderly.db');
    const store = openSqliteStore(path);
    const size = statSync(path).size;
    await store.append(events);
    // The thread has checkpointed: its connection is open on the log.
    await expect.poll(() => statSync(path).size, { timeout: 10_000 }).toBeGreaterThan(size);
    expect(existsSync(`${path}-wal`)).toBe(true);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = openSqliteStore(path);
    expect(await again.pending(0, 1_000)).toHaveLength(300);
    await again.close();
  });
});

describe('sqlite store durability setting', () => {
  it('syncs every commit to disk with synchronous: full; by default, only what a process crash needs', async () => {
    const pragma = vi.spyOn(Database.prototype, 'pragma');
    try {
      const settings = () => pragma.mock.calls.map(([source]) => String(source)).filter((source) => source.startsWith('synchronous'));
      await openSqliteStore(join(freshDir(), 'normal.db'), { checkpoint: 'inline' }).close();
      expect(settings()).toEqual(['synchronous = NORMAL']);
      pragma.mockClear();
      const full = openSqliteStore(join(freshDir(), 'full.db'), { checkpoint: 'inline', synchronous: 'full' });
      expect(settings()).toEqual(['synchronous = FULL']);
      expect(await full.append([{ type: 'text', id: 'f1', key, at: 1, address: alice, text: 'kept' }])).toHaveLength(1);
      await full.close();
      pragma.mockClear();
      // The server's way there: DATABASE_SYNCHRONOUS=full.
      await (await openStore(loadConfig({ DATABASE_URL: `sqlite:${join(freshDir(), 'server.db')}`, DATABASE_SYNCHRONOUS: 'full' }).database)).close();
      expect(settings()).toEqual(['synchronous = FULL']);
    } finally {
      pragma.mockRestore();
    }
  });
});
