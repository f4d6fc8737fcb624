import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { conversationKey, type Address, type OrderId } from '../../src/core/ids.js';
import type { Store } from '../../src/core/store.js';
import { postgresMigrations } from '../../src/stores/migrations/postgres.js';
import { openPostgresStore } from '../../src/stores/postgres.js';
import { migratePostgres } from '../../src/stores/postgres/migrate.js';
import { storeConformance } from './conformance.js';

/**
 * The PostgreSQL store against the database `TEST_DATABASE_URL` names (CI sets it). Every
 * store opens in a schema of its own, `orderly_test_<random>`, dropped after the file, so
 * parallel runs never meet. Without the variable the suite reports itself skipped.
 */
const url = process.env['TEST_DATABASE_URL'];
const schemas = new Set<string>();
const schemaOf = new WeakMap<Store, string>();

function freshSchema(): string {
  const schema = `orderly_test_${randomBytes(6).toString('hex')}`;
  schemas.add(schema);
  return schema;
}

async function openFresh(schema = freshSchema()): Promise<Store> {
  const store = await openPostgresStore(url!, { schema, poolSize: 4, statementTimeoutMs: 5_000 });
  schemaOf.set(store, schema);
  return store;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  if (!url || schemas.size === 0) return;
  await withClient(async (client) => {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
});

describe.skipIf(!url)('postgres store', () => {
  storeConformance('postgres', () => openFresh(), {
    another: (store) => openFresh(schemaOf.get(store)),
  });

  it('migrates once when two instances open one fresh schema at the same time', async () => {
    const schema = freshSchema();
    const stores = await Promise.all([openFresh(schema), openFresh(schema), openFresh(schema)]);
    await Promise.all(stores.map((store) => store.close()));
    const rows = await withClient(async (client) => (await client.query(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`)).rows);
    expect(rows).toEqual(postgresMigrations.map(({ version, name }) => ({ version, name })));
    const reopened = await openFresh(schema);
    await reopened.close();
  });

  it('lives in the schema the URL names with search_path, creating it', async () => {
    const schema = freshSchema();
    const store = await openPostgresStore(`${url}${url!.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`);
    try {
      await store.append([{ type: 'command', id: 'in-schema', key: conversationKey({ channel: 'test', account: 'shop', user: 'x' }), at: 1, command: 'menu' }]);
    } finally {
      await store.close();
    }
    const rows = await withClient(async (client) => (await client.query(`SELECT event_id FROM "${schema}".inbox`)).rows);
    expect(rows).toEqual([{ event_id: 'in-schema' }]);
  });

  it('gives the orders of an older schema an empty history, and records their changes from then on', async () => {
    const schema = freshSchema();
    await withClient(async (client) => {
      await client.query(`SET search_path TO "${schema}"`);
      await migratePostgres(client, schema, postgresMigrations.filter((migration) => migration.version <= 3), 1);
      await client.query("INSERT INTO customers (id, channel, account, external_id, created_at) VALUES (1, 'test', 'shop', 'alice', 1)");
      await client.query("INSERT INTO orders (id, customer_id, status, total, currency, data, created_at, updated_at) VALUES (7, 1, 20, 10, 'EUR', '{}', 1, 1)");
    });
    const store = await openFresh(schema);
    try {
      expect(await store.getOrder(7 as OrderId)).toMatchObject({ status: 20, history: [] });
      const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
      const key = conversationKey(alice);
      const [item] = await store.append([{ type: 'text', id: 'a', key, at: 1, address: alice, text: 'hi' }]);
      const envelope = { flowId: 'shop', flowVersion: 1, snapshot: {} };
      const commit = { key, seq: item!.seq, expectedRev: 0, envelope, outbox: [], inbox: [], createOrders: [], tasks: [], at: 5 };
      await store.commit([{ ...commit, updateOrders: [{ id: 7 as OrderId, status: 60 }] }]);
      expect(await store.getOrder(7 as OrderId)).toMatchObject({ status: 60, history: [{ status: 60, paid: false, at: 5 }] });
    } finally {
      await store.close();
    }
  });

  it('refuses a schema migrated by a newer version', async () => {
    const schema = freshSchema();
    await (await openFresh(schema)).close();
    await withClient((client) => client.query(`INSERT INTO "${schema}".schema_migrations VALUES (9999, 'future', 0)`));
    await expect(openFresh(schema)).rejects.toThrow(/newer/);
  });

  it('keeps times past 2^31 and JSON with NUL escapes and key order exactly', async () => {
    const store = await openFresh();
    try {
      const alice: Address = { channel: 'test', account: 'shop', user: 'alice' };
      const event = { type: 'text' as const, id: 'nul', key: conversationKey(alice), at: 1_700_000_000_123, address: alice, text: 'a\u0000b "q" \\' };
      const [item] = await store.append([event]);
      expect((await store.pending(0, 10))[0]).toEqual(item);
      expect(JSON.stringify((await store.pending(0, 10))[0]!.event)).toBe(JSON.stringify(event));
      await store.commit([
        {
          key: event.key,
          seq: item!.seq,
          expectedRev: 0,
          envelope: { flowId: 'shop', flowVersion: 1, snapshot: { z: 1, a: [2, { y: null, b: 'ü\u0000' }] } },
          outbox: [],
          inbox: [],
          createOrders: [],
          updateOrders: [],
          tasks: [{ customer: alice, command: 'later', dueAt: 4_102_444_800_000 }],
          at: 1_700_000_000_999,
        },
      ]);
      expect(JSON.stringify((await store.load(event.key))!.snapshot)).toBe('{"z":1,"a":[2,{"y":null,"b":"ü\\u0000"}]}');
      expect(await store.nextTaskAt()).toBe(4_102_444_800_000);
    } finally {
      await store.close();
    }
  });

  it('answers a STORE error within the statement timeout when the database stops answering', async () => {
    const schema = freshSchema();
    const store = await openPostgresStore(url!, { schema, poolSize: 2, statementTimeoutMs: 300 });
    try {
      const started = Date.now();
      const blocker = new pg.Client({ connectionString: url });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1');
      // A lock the store waits on stands in for a database that does not answer.
      await blocker.query(`LOCK TABLE "${schema}".outbox IN ACCESS EXCLUSIVE MODE`);
      await expect(store.getOutbox(0)).rejects.toMatchObject({ code: 'STORE' });
      expect(Date.now() - started).toBeLessThan(3_000);
      await blocker.query('ROLLBACK');
      await blocker.end();
    } finally {
      await store.close();
    }
  });
});
