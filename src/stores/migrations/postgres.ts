import type { Migration } from './sqlite.js';
import { postgresFunctions } from './postgres-functions.js';

/**
 * The PostgreSQL schema, as ordered migrations: the SQLite store's tables in spirit (times
 * as epoch milliseconds in BIGINT, events, snapshots, effects and order data as the exact
 * JSON text the engine wrote), plus what several instances need: the lease tables, and
 * functions that apply a whole batch in one round trip.
 *
 * JSON payloads are TEXT rather than JSONB: JSONB reorders keys and refuses `\u0000`, and
 * the store must give back exactly what it was given. Only the delivery history, which the
 * store itself writes and queries, is JSONB.
 */

const tables = `
CREATE FUNCTION orderly_now() RETURNS bigint LANGUAGE sql VOLATILE
  AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

-- Every inbound event, deduplicated by its id. status: 0 pending, 1 done, 2 failed.
CREATE TABLE inbox (
  seq         BIGSERIAL PRIMARY KEY,
  event_id    TEXT     NOT NULL UNIQUE,
  actor_key   TEXT     NOT NULL,
  event       TEXT     NOT NULL,
  status      SMALLINT NOT NULL DEFAULT 0,
  error       TEXT,
  received_at BIGINT   NOT NULL,
  done_at     BIGINT
);
CREATE INDEX inbox_pending ON inbox (seq) WHERE status = 0;
CREATE INDEX inbox_pending_key ON inbox (actor_key, seq) WHERE status = 0;

CREATE TABLE actors (
  actor_key    TEXT    PRIMARY KEY,
  flow_id      TEXT    NOT NULL,
  flow_version INTEGER NOT NULL,
  rev          INTEGER NOT NULL,
  snapshot     TEXT    NOT NULL,
  updated_at   BIGINT  NOT NULL
);

-- Effects to dispatch; reply rows are also the message log.
CREATE TABLE outbox (
  id           BIGSERIAL PRIMARY KEY,
  lane         TEXT    NOT NULL,
  recipient    TEXT,
  effect_type  TEXT    NOT NULL,
  effect       TEXT    NOT NULL,
  status       TEXT    NOT NULL DEFAULT 'pending',
  attempts     INTEGER NOT NULL DEFAULT 0,
  available_at BIGINT  NOT NULL,
  created_at   BIGINT  NOT NULL,
  platform_id  TEXT,
  error        TEXT,
  history      JSONB   NOT NULL DEFAULT '[]'
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX outbox_pending_lane ON outbox (lane, id) WHERE status = 'pending';
CREATE INDEX outbox_failed ON outbox (effect_type, id) WHERE status = 'failed';
CREATE INDEX outbox_recipient ON outbox (recipient, id);
CREATE INDEX outbox_platform_id ON outbox (platform_id) WHERE platform_id IS NOT NULL;

CREATE TABLE customers (
  id              BIGSERIAL PRIMARY KEY,
  channel         TEXT   NOT NULL,
  account         TEXT   NOT NULL,
  external_id     TEXT   NOT NULL,
  created_at      BIGINT NOT NULL,
  last_inbound_at BIGINT,
  UNIQUE (channel, external_id, account)
);

CREATE TABLE orders (
  id          BIGINT  PRIMARY KEY,
  customer_id BIGINT  NOT NULL REFERENCES customers (id),
  status      INTEGER NOT NULL DEFAULT 0,
  paid        BOOLEAN NOT NULL DEFAULT false,
  total       BIGINT  NOT NULL,
  currency    TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL
);
CREATE INDEX orders_status ON orders (status, id);

-- status: 0 waiting, 1 done, 2 removed, 3 failed; fired_at is set when its event is queued.
CREATE TABLE tasks (
  id          BIGSERIAL PRIMARY KEY,
  channel     TEXT     NOT NULL,
  account     TEXT     NOT NULL,
  external_id TEXT     NOT NULL,
  command     TEXT     NOT NULL,
  due_at      BIGINT   NOT NULL,
  status      SMALLINT NOT NULL DEFAULT 0,
  created_at  BIGINT   NOT NULL,
  fired_at    BIGINT,
  done_at     BIGINT
);
CREATE INDEX tasks_due ON tasks (due_at, id) WHERE status = 0 AND fired_at IS NULL;

CREATE TABLE counters (
  name  TEXT   PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('order_id', 0);

-- Which instance works on an actor key or an outbox lane, until when (orderly_now() ms).
-- UNLOGGED: they are written on every batch, and losing them (a database crash, a failover)
-- is safe: a commit or send then finds no lease of its own and claims the key again.
CREATE UNLOGGED TABLE actor_leases (
  actor_key  TEXT   PRIMARY KEY,
  owner      TEXT   NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE UNLOGGED TABLE lane_leases (
  lane       TEXT   PRIMARY KEY,
  owner      TEXT   NOT NULL,
  expires_at BIGINT NOT NULL
);
`;

/**
 * A status finds its message among the recipient's messages (outbox_recipient), newest
 * first, and the index of platform ids goes: they are random, and indexing them cost a
 * random index write for every message sent. Every status now names its recipient, so
 * `upTo` tells the two kinds apart.
 */
const statusesByRecipient = `
DROP INDEX IF EXISTS outbox_platform_id;
CREATE OR REPLACE FUNCTION orderly_status(p jsonb) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_entry jsonb := jsonb_build_object('status', p->>'status', 'at', (p->>'at')::bigint)
    || CASE WHEN p ? 'error' THEN jsonb_build_object('error', p->>'error') ELSE '{}'::jsonb END;
  v_id bigint;
  v_count integer;
BEGIN
  IF p ? 'upTo' THEN
    UPDATE outbox SET history = history || jsonb_build_array(v_entry)
    WHERE recipient = p->>'recipient' AND status = 'sent' AND created_at <= (p->>'upTo')::bigint
      AND NOT history @> jsonb_build_array(jsonb_build_object('status', p->>'status'));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
  END IF;
  SELECT id INTO v_id FROM outbox WHERE recipient = p->>'recipient' AND platform_id = p->>'platformId'
    ORDER BY id DESC LIMIT 1;
  IF v_id IS NULL THEN RETURN 0; END IF;
  IF p->>'status' = 'failed' THEN
    UPDATE outbox SET status = 'failed', error = coalesce(p->>'error', error), history = history || jsonb_build_array(v_entry)
    WHERE id = v_id;
  ELSE
    UPDATE outbox SET history = history || jsonb_build_array(v_entry) WHERE id = v_id;
  END IF;
  RETURN 1;
END $$;
`;

/**
 * An order keeps each change of its status or paid flag, whatever statement made it: a
 * trigger appends `{status, paid, at}`. The same status written again adds nothing.
 */
const orderHistory = `
ALTER TABLE orders ADD COLUMN history jsonb NOT NULL DEFAULT '[]';
CREATE FUNCTION orderly_order_history() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status OR NEW.paid IS DISTINCT FROM OLD.paid THEN
    NEW.history := OLD.history || jsonb_build_array(jsonb_build_object('status', NEW.status, 'paid', NEW.paid, 'at', NEW.updated_at));
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_history BEFORE UPDATE OF status, paid ON orders
FOR EACH ROW EXECUTE FUNCTION orderly_order_history();
`;

/**
 * The PostgreSQL migrations, oldest first. Append new ones; never edit one that has shipped.
 * @example for (const m of postgresMigrations) console.log(m.version, m.name)
 */
export const postgresMigrations: readonly Migration[] = [
  { version: 1, name: 'initial', sql: tables },
  { version: 2, name: 'batch functions', sql: postgresFunctions },
  { version: 3, name: 'statuses by recipient', sql: statusesByRecipient },
  { version: 4, name: 'order history', sql: orderHistory },
];
