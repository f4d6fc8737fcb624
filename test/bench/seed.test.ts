import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPostgresSchema, seedPostgres, seedSqlite, type SeedOptions } from '../../bench/seed.js';
import { benchSecrets, customerId, type BenchChannel } from '../../bench/webhooks.js';
import { shopFlows } from '../../flows/index.js';
import { createShopServices } from '../../flows/services.js';
import { conversationKey, type Address } from '../../src/core/ids.js';
import type { Store } from '../../src/core/store.js';
import { openPostgresStore } from '../../src/stores/postgres.js';
import { openSqliteStore } from '../../src/stores/sqlite.js';
import { createTestChat } from '../../src/testing/index.js';
import { fixtureCatalog } from '../flows/drive.js';

const dir = mkdtempSync(join(tmpdir(), 'orderly-seed-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = 300;
const now = Date.now();

function customerAt(channel: BenchChannel, index: number): Address {
  return { channel, account: channel === 'messenger' ? benchSecrets.pageId : benchSecrets.botToken.split(':')[0]!, user: customerId(channel, index) };
}

/**
 * What the bench relies on in a seeded store: every customer and its history are there, and
 * its conversation goes on from the seeded snapshot (greeted, idle) rather than starting over.
 */
async function expectSeeded(store: Store, channel: BenchChannel): Promise<void> {
  const last = customerAt(channel, count - 1);
  expect(await store.findCustomer(last)).toMatchObject({ address: last, lastInboundAt: expect.any(Number) });
  expect(await store.findCustomer(customerAt(channel, count))).toBeNull();
  expect(await store.pending(0, 10)).toEqual([]);
  expect(await store.pendingOutbox(0, 10)).toEqual([]);
  const [greeting] = await store.messagesTo(last, 0, 10);
  expect(greeting).toMatchObject({ status: 'sent', effect: { type: 'reply', to: last, message: { kind: 'text' } } });

  const address = customerAt(channel, 7);
  const chat = await createTestChat({ flows: shopFlows, services: createShopServices(fixtureCatalog()), store, address });
  try {
    expect(await store.load(conversationKey(address))).toMatchObject({ flowId: 'shop', rev: 1 });
    const replies = await chat.tap('cart');
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies)).not.toMatch(/restart/i);
    expect(await chat.context()).toMatchObject({ greeted: true, customer: address });
    expect(await store.load(conversationKey(address))).toMatchObject({ rev: 2 });
  } finally {
    await chat.engine.stop({ timeoutMs: 1_000 });
  }
}

describe('the bench seeds a SQLite file', () => {
  for (const channel of ['messenger', 'telegram'] as const) {
    it(`with ${channel} customers whose conversations go on`, async () => {
      const path = join(dir, `${channel}.db`);
      await seedSqlite(path, { channel, count, now });
      const store = openSqliteStore(path);
      try {
        await expectSeeded(store, channel);
      } finally {
        await store.close();
      }
    });
  }
});

const url = process.env['TEST_DATABASE_URL'];

describe.skipIf(!url)('the bench seeds a PostgreSQL schema', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropPostgresSchema(url!, schema);
  });

  async function seeded(options: SeedOptions): Promise<Store> {
    const schema = `orderly_test_seed_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    await seedPostgres(url!, schema, options);
    return openPostgresStore(url!, { schema, poolSize: 2 });
  }

  for (const channel of ['messenger', 'telegram'] as const) {
    it(`with ${channel} customers whose conversations go on`, async () => {
      const store = await seeded({ channel, count, now });
      try {
        await expectSeeded(store, channel);
      } finally {
        await store.close();
      }
    });
  }

  it('with the rows the SQLite seeder writes', async () => {
    const options: SeedOptions = { channel: 'messenger', count: 40, now };
    const file = join(dir, 'rows.db');
    await seedSqlite(file, options);
    const schema = `orderly_test_seed_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    await seedPostgres(url!, schema, options);
    const queries = [
      'SELECT channel, account, external_id, created_at, last_inbound_at FROM customers ORDER BY external_id',
      'SELECT actor_key, flow_id, flow_version, rev, snapshot, updated_at FROM actors ORDER BY actor_key',
      'SELECT event_id, actor_key, event, status, received_at, done_at FROM inbox ORDER BY event_id',
      'SELECT lane, recipient, effect, status, available_at, created_at, platform_id, history FROM outbox ORDER BY platform_id',
    ];
    // BIGINT comes back from PostgreSQL as a string and JSONB as a value: compare values.
    const value = (cell: unknown) => (typeof cell === 'string' && /^[[{]/.test(cell) ? JSON.parse(cell) : typeof cell === 'object' ? cell : String(cell));
    const rows = (found: readonly object[]) => found.map((row) => Object.values(row).map(value));
    const sqlite = new Database(file, { readonly: true });
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      for (const sql of queries) {
        const expected = rows(sqlite.prepare(sql).all() as object[]);
        expect(expected).toHaveLength(40);
        expect(rows((await client.query(sql)).rows), sql).toEqual(expected);
      }
    } finally {
      sqlite.close();
      await client.end();
    }
  });

  it('and drops it with everything in it', async () => {
    const schema = `orderly_test_seed_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    await seedPostgres(url!, schema, { channel: 'messenger', count: 10, now });
    const named = 'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1';
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect((await client.query<{ n: number }>(named, [schema])).rows[0]!.n).toBe(1);
      await dropPostgresSchema(url!, schema);
      expect((await client.query<{ n: number }>(named, [schema])).rows[0]!.n).toBe(0);
    } finally {
      await client.end();
    }
  });
});
