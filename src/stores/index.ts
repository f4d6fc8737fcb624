/**
 * The stores: the memory store and the embedded SQLite store, with the port they implement.
 * (The SQLite store is also its own subpath, `orderly/sqlite`, so that the root entry does
 * not load the native driver.)
 */
export { createMemoryStore, type MemoryStoreOptions } from './memory.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { sqliteMigrations, type Migration } from './migrations/sqlite.js';
// The PostgreSQL store itself is `orderly/postgres` (it loads pg); its schema is plain data.
export { postgresMigrations } from './migrations/postgres.js';
export {
  taskDueEvent,
  taskStatus,
  type ClaimedKey,
  type ClaimedLane,
  type Commit,
  type CommitResult,
  type CustomerRecord,
  type InboxItem,
  type Lease,
  type LeaseRenewal,
  type ListOrdersQuery,
  type NewOrder,
  type NewOutboxItem,
  type OrderRecord,
  type OutboxItem,
  type OutboxStatus,
  type SnapshotEnvelope,
  type Store,
  type StoreNotice,
  type TaskRecord,
  type TaskStatus,
} from '../core/store.js';
