import type Database from 'better-sqlite3';
import { EngineError } from '../../core/errors.js';
import type { Migration } from '../migrations/sqlite.js';

/**
 * Brings a database up to the newest of `migrations`: each one not yet recorded in
 * `schema_migrations` runs in its own IMMEDIATE transaction, in version order, and is
 * recorded there. Safe to run on every open, also by two processes at once.
 * Throws `EngineError('STORE')` when the database was migrated by a newer orderly.
 * @example migrate(db, sqliteMigrations, Date.now())
 */
export function migrate(db: Database.Database, migrations: readonly Migration[], now: number): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations' +
      ' (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const newest = db.prepare<[], number | null>('SELECT MAX(version) FROM schema_migrations').pluck();
  const isApplied = db.prepare<[number], number>('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const known = ordered.at(-1)?.version ?? 0;
  const found = newest.get() ?? 0;
  if (found > known) {
    const message = `the database schema is at version ${found}, newer than this orderly knows (${known})`;
    throw new EngineError('STORE', message);
  }
  const apply = db.transaction((migration: Migration) => {
    // Checked again under the write lock: another process may have applied it since.
    if (isApplied.get(migration.version) !== undefined) return;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, now);
  });
  for (const migration of ordered) {
    if (migration.version > found) apply.immediate(migration);
  }
}
