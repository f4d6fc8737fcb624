import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src/core/errors.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { TickWriter } from '../../src/stores/sqlite/tick-writer.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A file with one table `t (n)`, the writer's connection and a second one that only reads. */
function open(busyTimeoutMs = 0): { db: Database.Database; reader: Database.Database; path: string; rollbacks: { count: number }; writer: TickWriter } {
  const dir = mkdtempSync(join(tmpdir(), 'orderly-tick-'));
  dirs.push(dir);
  const path = join(dir, 'tick.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER NOT NULL UNIQUE)');
  db.pragma('busy_timeout = 0'); // as the store leaves it: the writer waits for the lock itself
  const rollbacks = { count: 0 };
  const writer = new TickWriter(db, () => rollbacks.count++, busyTimeoutMs);
  return { db, reader: new Database(path, { readonly: true }), path, rollbacks, writer };
}

const count = (db: Database.Database) => db.prepare('SELECT count(*) FROM t').pluck().get() as number;
const insert = (db: Database.Database, n: number) => () => db.prepare('INSERT INTO t (n) VALUES (?)').run(n).changes;

describe('TickWriter', () => {
  it('runs the writes of one tick in one transaction, in the order asked, and answers each after the commit', async () => {
    const { db, reader, writer } = open();
    const seenByReader: number[] = [];
    const order: string[] = [];
    const first = writer.write(() => {
      order.push('first');
      return insert(db, 1)();
    });
    const second = writer.write(() => {
      order.push('second');
      insert(db, 2)();
      // The first write's row is not committed yet: both are in one open transaction.
      seenByReader.push(count(reader));
      return 'two';
    });
    expect(count(reader)).toBe(0);
    // Each promise settles once the rows can be read from another connection.
    const settled = await Promise.all([first.then(() => count(reader)), second.then(() => count(reader))]);
    expect(await first).toBe(1);
    expect(await second).toBe('two');
    expect(order).toEqual(['first', 'second']);
    expect(seenByReader).toEqual([0]);
    expect(settled).toEqual([2, 2]);
    expect(db.inTransaction).toBe(false);
  });

  it('undoes and rejects only the write that throws, with a STORE error, and tells of the rollback', async () => {
    const { db, reader, rollbacks, writer } = open();
    const results = await Promise.allSettled([
      writer.write(insert(db, 1)),
      writer.write(() => {
        insert(db, 2)();
        insert(db, 1)(); // UNIQUE: the whole write goes, its row 2 with it
      }),
      writer.write(insert(db, 3)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(EngineError);
    expect(reason.code).toBe('STORE');
    expect(reader.prepare('SELECT n FROM t ORDER BY n').pluck().all()).toEqual([1, 3]);
    expect(rollbacks.count).toBe(1);
  });

  it('rejects every write of the tick, having written nothing, when the lock stays taken past the timeout', async () => {
    const { db, path, rollbacks, writer } = open(30);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    const results = await Promise.allSettled([writer.write(insert(db, 1)), writer.write(insert(db, 2))]);
    other.exec('ROLLBACK');
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.code).toBe('STORE');
    expect(count(other)).toBe(0);
    expect(rollbacks.count).toBe(1);
    // The next tick's writes go through.
    await writer.write(insert(db, 4));
    expect(count(other)).toBe(1);
  });

  it('waits for a lock another connection holds without stopping the event loop, then commits what came meanwhile', async () => {
    const { db, path, reader, writer } = open(5_000);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE'); // a checkpoint finishing the log, or another process
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const first = writer.write(insert(db, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = writer.write(insert(db, 2)); // joins the waiting transaction
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(count(reader)).toBe(0);
    const ticksWhileLocked = ticks;
    other.exec('COMMIT');
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    clearInterval(ticker);
    expect(ticksWhileLocked).toBeGreaterThan(5);
    expect(count(reader)).toBe(2);
    other.close();
  });

  it('runs what is queued at once on flush', async () => {
    const { db, reader, writer } = open(1_000);
    const written = writer.write(insert(db, 7));
    expect(writer.pending).toBe(1);
    writer.flush({ wait: true });
    expect(writer.pending).toBe(0);
    expect(count(reader)).toBe(1);
    expect(await written).toBe(1);
    // Waiting in SQLite was for that flush only: the next tick's writer waits off the loop again.
    expect(db.pragma('busy_timeout', { simple: true })).toBe(0);
  });
});

describe('sqlite store writes', () => {
  const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
  const key = conversationKey(alice);

  it('keeps a write asked for just before close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orderly-tick-'));
    dirs.push(dir);
    const path = join(dir, 'orderly.db');
    const store = openSqliteStore(path);
    const appended = store.append([{ type: 'text', id: 'last', key, at: 1, address: alice, text: 'bye' }]);
    await store.close();
    expect(await appended).toHaveLength(1);
    const again = openSqliteStore(path);
    expect((await again.pending(0, 10)).map((item) => item.event.id)).toEqual(['last']);
    await again.close();
  });

  it('commits a batch whose commit fails without the customers it added, and the next one with them', async () => {
    const store = openSqliteStore(':memory:');
    const [first] = await store.append([{ type: 'text', id: 'a', key, at: 1, address: alice, text: 'hi' }]);
    const commit = {
      key,
      seq: first!.seq,
      expectedRev: 0,
      envelope: { flowId: 'shop', flowVersion: 1, snapshot: {} },
      outbox: [],
      inbox: [],
      updateOrders: [],
      tasks: [],
      customer: alice,
      customerSeenAt: 1,
      at: 1,
    };
    // The same order twice fails the commit (its id is the key), after the customer row was added.
    const order = { id: 1 as never, customer: alice, total: 1, currency: 'EUR', data: {} };
    const failing = store.commit([{ ...commit, createOrders: [order, order] }]);
    await expect(failing).rejects.toMatchObject({ code: 'STORE' });
    expect(await store.findCustomer(alice)).toBeNull();
    const [result] = await store.commit([{ ...commit, createOrders: [] }]);
    expect(result).toMatchObject({ ok: true, rev: 1 });
    expect(await store.findCustomer(alice)).toMatchObject({ lastInboundAt: 1 });
    await store.close();
  });
});
