import type { ClientBase } from 'pg';
import { EngineError } from '../../core/errors.js';
import type { Migration } from '../migrations/sqlite.js';

/**
 * Brings a schema up to the newest of `migrations`, under a session advisory lock named after
 * the schema: instances that start together wait for the first one, then find its work done,
 * so each migration runs once. Each one runs in its own transaction and is recorded in
 * `schema_migrations`. Throws `EngineError('STORE')` when the schema was migrated by a newer orderly.
 * @example await migratePostgres(client, 'public', postgresMigrations, Date.now())
 */
export async function migratePostgres(client: ClientBase, schema: string, migrations: readonly Migration[], now: number): Promise<void> {
  const lock = `orderly:migrate:${schema}`;
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
  try {
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const found = Number((await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
    const ordered = [...migrations].sort((a, b) => a.version - b.version);
    const known = ordered.at(-1)?.version ?? 0;
    if (found > known) {
      throw new EngineError('STORE', `the database schema is at version ${found}, newer than this orderly knows (${known})`);
    }
    for (const migration of ordered) {
      if (migration.version <= found) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          now,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]);
  }
}

/** A schema name as an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
