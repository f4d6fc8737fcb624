/**
 * The SQLite schema, as ordered migrations. Plain SQL kept close to what PostgreSQL takes
 * (the PostgreSQL store's migrations follow the same tables): INTEGER ids, JSON in TEXT
 * columns, times as epoch milliseconds in INTEGER columns, no driver import here.
 *
 * The work queues (pending inbox events, pending outbox rows, tasks not yet fired) are
 * partial indexes: they hold only the rows still to do, so they stay small as the history
 * grows, and a row that is done leaves its index instead of moving inside it.
 */

/** One schema step: applied once, in `version` order, in its own transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const initial = `
-- Every inbound event, deduplicated by its id. status: 0 pending, 1 done, 2 failed.
CREATE TABLE inbox (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id    TEXT    NOT NULL UNIQUE,
  actor_key   TEXT    NOT NULL,
  event       TEXT    NOT NULL,
  status      INTEGER NOT NULL DEFAULT 0,
  error       TEXT,
  received_at INTEGER NOT NULL,
  done_at     INTEGER
);
CREATE INDEX inbox_pending ON inbox (seq) WHERE status = 0;

-- One row per actor: the snapshot envelope; rev is checked by every save.
CREATE TABLE actors (
  actor_key    TEXT    PRIMARY KEY,
  flow_id      TEXT    NOT NULL,
  flow_version INTEGER NOT NULL,
  rev          INTEGER NOT NULL,
  snapshot     TEXT    NOT NULL,
  updated_at   INTEGER NOT NULL
);

-- Effects to dispatch; reply rows are also the message log.
-- recipient: the conversation key a reply goes to (NULL for other effects).
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  lane         TEXT    NOT NULL,
  recipient    TEXT,
  effect       TEXT    NOT NULL,
  status       TEXT    NOT NULL DEFAULT 'pending',
  attempts     INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  platform_id  TEXT,
  error        TEXT,
  history      TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX outbox_recipient ON outbox (recipient, id);
CREATE INDEX outbox_platform_id ON outbox (platform_id) WHERE platform_id IS NOT NULL;

-- id is the merchant API's user_id.
CREATE TABLE customers (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  channel     TEXT    NOT NULL,
  account     TEXT    NOT NULL,
  external_id TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  last_inbound_at INTEGER,
  UNIQUE (channel, external_id, account)
);

-- ids come from counters.order_id (allocated before the order is written). paid: 0 or 1.
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  status      INTEGER NOT NULL DEFAULT 0,
  paid        INTEGER NOT NULL DEFAULT 0,
  total       INTEGER NOT NULL,
  currency    TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX orders_status ON orders (status, id);

-- status: 0 waiting, 1 done, 2 removed, 3 failed; fired_at is set when its event is queued.
CREATE TABLE tasks (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  channel     TEXT    NOT NULL,
  account     TEXT    NOT NULL,
  external_id TEXT    NOT NULL,
  command     TEXT    NOT NULL,
  due_at      INTEGER NOT NULL,
  status      INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  fired_at    INTEGER,
  done_at     INTEGER
);
CREATE INDEX tasks_due ON tasks (due_at, id) WHERE status = 0 AND fired_at IS NULL;

-- Named counters that must never hand out a value twice (PostgreSQL: a sequence).
CREATE TABLE counters (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('order_id', 0);
`;

/**
 * An order keeps each change of its status or paid flag, whatever statement made it: a
 * trigger appends `{status, paid, at}`. The same status written again adds nothing.
 */
const orderHistory = `
ALTER TABLE orders ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
CREATE TRIGGER orders_history AFTER UPDATE OF status, paid ON orders
WHEN NEW.status IS NOT OLD.status OR NEW.paid IS NOT OLD.paid
BEGIN
  UPDATE orders SET history = json_insert(history, '$[#]',
    json_object('status', NEW.status, 'paid', json(CASE WHEN NEW.paid THEN 'true' ELSE 'false' END), 'at', NEW.updated_at))
  WHERE id = NEW.id;
END;
`;

/**
 * The SQLite migrations, oldest first. Append new ones; never edit one that has shipped.
 * @example for (const m of sqliteMigrations) console.log(m.version, m.name)
 */
export const sqliteMigrations: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  // Statuses find a message among its recipient's (outbox_recipient): platform ids are
  // random, and indexing them cost a random page write for every message sent.
  { version: 2, name: 'no platform id index', sql: 'DROP INDEX IF EXISTS outbox_platform_id;' },
  { version: 3, name: 'order history', sql: orderHistory },
];
