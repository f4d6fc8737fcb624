/**
 * The PostgreSQL store's batch functions. Each store call that the engine makes per batch is
 * one of these, so it costs one round trip whatever the batch holds: `orderly_commit`
 * applies hundreds of commits, `orderly_claim_keys` leases keys and answers their actors and
 * pending events. Every function pins its `search_path` to the schema it was created in.
 *
 * Lease rows are always locked in name order (keys before lanes), so that two writers, of one
 * instance or of two, never wait on each other in a cycle.
 */
export const postgresFunctions = `
CREATE FUNCTION orderly_customer(p_channel text, p_account text, p_user text, p_at bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE v_id bigint;
BEGIN
  SELECT id INTO v_id FROM customers WHERE channel = p_channel AND external_id = p_user AND account = p_account;
  IF v_id IS NOT NULL THEN RETURN v_id; END IF;
  -- Looked up first: an insert that conflicts would still use up a sequence value.
  INSERT INTO customers (channel, account, external_id, created_at) VALUES (p_channel, p_account, p_user, p_at)
    ON CONFLICT DO NOTHING RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    SELECT id INTO v_id FROM customers WHERE channel = p_channel AND external_id = p_user AND account = p_account;
  END IF;
  RETURN v_id;
END $$;

-- A delivery status: {status, at, error?} with platformId, or with recipient and upTo.
CREATE FUNCTION orderly_status(p jsonb) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_entry jsonb := jsonb_build_object('status', p->>'status', 'at', (p->>'at')::bigint)
    || CASE WHEN p ? 'error' THEN jsonb_build_object('error', p->>'error') ELSE '{}'::jsonb END;
  v_count integer;
BEGIN
  IF p ? 'recipient' THEN
    UPDATE outbox SET history = history || jsonb_build_array(v_entry)
    WHERE recipient = p->>'recipient' AND status = 'sent' AND created_at <= (p->>'upTo')::bigint
      AND NOT history @> jsonb_build_array(jsonb_build_object('status', p->>'status'));
  ELSIF p->>'status' = 'failed' THEN
    UPDATE outbox SET status = 'failed', error = coalesce(p->>'error', error), history = history || jsonb_build_array(v_entry)
    WHERE platform_id = p->>'platformId';
  ELSE
    UPDATE outbox SET history = history || jsonb_build_array(v_entry) WHERE platform_id = p->>'platformId';
  END IF;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END $$;

-- Renews (keep) or gives up (release) an owner's leases, or all of them (p_all).
CREATE FUNCTION orderly_leases(p_owner text, p_ms bigint, p_keep_keys text[], p_drop_keys text[],
  p_keep_lanes text[], p_drop_lanes text[], p_all boolean) RETURNS SETOF text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM 1 FROM actor_leases WHERE owner = p_owner AND (p_all OR actor_key = ANY(p_keep_keys || p_drop_keys))
    ORDER BY actor_key FOR UPDATE;
  PERFORM 1 FROM lane_leases WHERE owner = p_owner AND (p_all OR lane = ANY(p_keep_lanes || p_drop_lanes))
    ORDER BY lane FOR UPDATE;
  DELETE FROM actor_leases WHERE owner = p_owner AND (p_all OR actor_key = ANY(p_drop_keys));
  DELETE FROM lane_leases WHERE owner = p_owner AND (p_all OR lane = ANY(p_drop_lanes));
  RETURN QUERY UPDATE actor_leases SET expires_at = orderly_now() + p_ms
    WHERE owner = p_owner AND actor_key = ANY(p_keep_keys) RETURNING actor_key;
  RETURN QUERY UPDATE lane_leases SET expires_at = orderly_now() + p_ms
    WHERE owner = p_owner AND lane = ANY(p_keep_lanes) RETURNING lane;
END $$;

-- Leases keys: the owner's own (waiting for its own writes in flight), others' expired ones
-- (without waiting: a locked one is being renewed or released), and free ones (only those no
-- row exists for: inserting over a row another claim is renewing would wait on it, and two
-- such waits can close a cycle). Answers one
-- row per key taken (its actor, seq NULL) followed by its pending events; a NOTIFY tells the
-- holders of the others that events wait for them.
CREATE FUNCTION orderly_claim_keys(p_keys text[], p_owner text, p_ms bigint, p_channel text)
RETURNS TABLE (actor_key text, seq bigint, body text, flow_id text, flow_version integer, rev integer)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := orderly_now();
  v_taken text[];
  v_more text[];
  v_key text;
BEGIN
  SELECT coalesce(array_agg(l.actor_key), '{}') INTO v_taken FROM (
    SELECT actor_key FROM actor_leases WHERE actor_key = ANY(p_keys) AND owner = p_owner
    ORDER BY actor_key FOR UPDATE) l;
  SELECT coalesce(array_agg(l.actor_key), '{}') INTO v_more FROM (
    SELECT actor_key FROM actor_leases WHERE actor_key = ANY(p_keys) AND owner <> p_owner AND expires_at < v_now
    ORDER BY actor_key FOR UPDATE SKIP LOCKED) l;
  v_taken := v_taken || v_more;
  UPDATE actor_leases SET owner = p_owner, expires_at = v_now + p_ms WHERE actor_key = ANY(v_taken);
  WITH fresh AS (
    INSERT INTO actor_leases (actor_key, owner, expires_at)
    SELECT k, p_owner, v_now + p_ms FROM (SELECT DISTINCT k FROM unnest(p_keys) AS u(k)) d
    WHERE NOT EXISTS (SELECT 1 FROM actor_leases l WHERE l.actor_key = d.k) ORDER BY k
    ON CONFLICT DO NOTHING RETURNING actor_key)
  SELECT v_taken || coalesce(array_agg(fresh.actor_key), '{}') INTO v_taken FROM fresh;
  FOR v_key IN SELECT DISTINCT k FROM unnest(p_keys) AS u(k) WHERE NOT (k = ANY(v_taken)) LOOP
    PERFORM pg_notify(p_channel, 'i|' || p_owner || '|' || v_key);
  END LOOP;
  RETURN QUERY
    SELECT t.k, NULL::bigint, a.snapshot, a.flow_id, a.flow_version, a.rev
    FROM unnest(v_taken) AS t(k) LEFT JOIN actors a ON a.actor_key = t.k
    UNION ALL
    SELECT i.actor_key, i.seq, i.event, NULL, NULL, NULL FROM inbox i WHERE i.status = 0 AND i.actor_key = ANY(v_taken)
    ORDER BY 1, 2 NULLS FIRST;
END $$;

-- Leases outbox lanes as orderly_claim_keys leases keys: one row per lane taken (id NULL),
-- then its pending rows in id order.
CREATE FUNCTION orderly_claim_lanes(p_lanes text[], p_owner text, p_ms bigint, p_channel text)
RETURNS TABLE (lane text, id bigint, effect text, status text, attempts integer, available_at bigint,
  created_at bigint, platform_id text, error text, history jsonb)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := orderly_now();
  v_taken text[];
  v_more text[];
  v_lane text;
BEGIN
  SELECT coalesce(array_agg(l.lane), '{}') INTO v_taken FROM (
    SELECT lane FROM lane_leases WHERE lane = ANY(p_lanes) AND owner = p_owner ORDER BY lane FOR UPDATE) l;
  SELECT coalesce(array_agg(l.lane), '{}') INTO v_more FROM (
    SELECT lane FROM lane_leases WHERE lane = ANY(p_lanes) AND owner <> p_owner AND expires_at < v_now
    ORDER BY lane FOR UPDATE SKIP LOCKED) l;
  v_taken := v_taken || v_more;
  UPDATE lane_leases SET owner = p_owner, expires_at = v_now + p_ms WHERE lane = ANY(v_taken);
  WITH fresh AS (
    INSERT INTO lane_leases (lane, owner, expires_at)
    SELECT k, p_owner, v_now + p_ms FROM (SELECT DISTINCT k FROM unnest(p_lanes) AS u(k)) d
    WHERE NOT EXISTS (SELECT 1 FROM lane_leases l WHERE l.lane = d.k) ORDER BY k
    ON CONFLICT DO NOTHING RETURNING lane)
  SELECT v_taken || coalesce(array_agg(fresh.lane), '{}') INTO v_taken FROM fresh;
  FOR v_lane IN SELECT DISTINCT k FROM unnest(p_lanes) AS u(k) WHERE NOT (k = ANY(v_taken)) LOOP
    PERFORM pg_notify(p_channel, 'o|' || p_owner || '|' || v_lane);
  END LOOP;
  RETURN QUERY
    SELECT t.k, NULL::bigint, NULL::text, NULL::text, NULL::integer, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::jsonb
    FROM unnest(v_taken) AS t(k)
    UNION ALL
    SELECT o.lane, o.id, o.effect, o.status, o.attempts, o.available_at, o.created_at, o.platform_id, o.error, o.history
    FROM outbox o WHERE o.status = 'pending' AND o.lane = ANY(v_taken)
    ORDER BY 1, 2 NULLS FIRST;
END $$;

CREATE FUNCTION orderly_mark_sent(p_ids bigint[], p_platform_ids text[], p_ats bigint[],
  p_owner text, p_ms bigint, p_keep text[], p_release text[]) RETURNS SETOF text
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE outbox o SET status = 'sent', platform_id = coalesce(r.pid, o.platform_id),
    history = o.history || jsonb_build_array(jsonb_build_object('status', 'sent', 'at', r.at))
  FROM unnest(p_ids, p_platform_ids, p_ats) AS r(id, pid, at) WHERE o.id = r.id;
  IF p_owner IS NOT NULL THEN
    RETURN QUERY SELECT orderly_leases(p_owner, p_ms, '{}', '{}', p_keep, p_release, false);
  END IF;
END $$;

-- Applies a batch of commits (see the store's commit encoding), each after its lease and
-- revision checks, in one transaction. Answers rows (commit number, kind, id, name):
-- 'lease' or 'conflict' for a refused commit, 'outbox' ids, 'inbox' seqs with event ids, 'rev'.
CREATE FUNCTION orderly_commit(p_batch jsonb, p_owner text, p_ms bigint, p_release text[], p_channel text)
RETURNS TABLE (r_commit integer, r_kind text, r_id bigint, r_name text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  c jsonb;
  u jsonb;
  n integer := 0;
  v_held text[];
  v_applied text[] := '{}';
  v_at bigint;
  v_rev integer;
  v_count integer;
  v_customer bigint;
  v_due bigint;
BEGIN
  IF p_owner IS NOT NULL THEN
    SELECT coalesce(array_agg(l.actor_key), '{}') INTO v_held FROM (
      SELECT actor_key FROM actor_leases
      WHERE owner = p_owner AND actor_key IN (SELECT b->>'key' FROM jsonb_array_elements(p_batch) AS e(b))
      ORDER BY actor_key FOR UPDATE) l;
  END IF;
  FOR c IN SELECT b FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS e(b, o) ORDER BY o LOOP
    n := n + 1;
    r_commit := n; r_id := NULL; r_name := NULL;
    IF p_owner IS NOT NULL AND NOT (c->>'key' = ANY(v_held)) THEN
      r_kind := 'lease'; RETURN NEXT; CONTINUE;
    END IF;
    v_at := (c->>'at')::bigint;
    v_rev := (c->>'rev')::integer;
    -- Under a lease, an event already settled (a stale read queued it again) is not run twice.
    IF p_owner IS NOT NULL THEN
      PERFORM 1 FROM inbox WHERE inbox.seq = (c->>'seq')::bigint AND inbox.status = 0 FOR UPDATE;
      IF NOT FOUND THEN
        r_kind := 'conflict'; RETURN NEXT; CONTINUE;
      END IF;
    END IF;
    -- The revision check is the commit's first write: when it changes no row, nothing of it is written.
    IF v_rev = 0 THEN
      INSERT INTO actors (actor_key, flow_id, flow_version, rev, snapshot, updated_at)
      VALUES (c->>'key', c->>'flow', (c->>'version')::integer, 1, c->>'snapshot', v_at)
      ON CONFLICT (actor_key) DO NOTHING;
    ELSE
      UPDATE actors SET flow_id = c->>'flow', flow_version = (c->>'version')::integer, rev = actors.rev + 1,
        snapshot = c->>'snapshot', updated_at = v_at
      WHERE actors.actor_key = c->>'key' AND actors.rev = v_rev;
    END IF;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count = 0 THEN
      r_kind := 'conflict'; RETURN NEXT; CONTINUE;
    END IF;
    v_applied := v_applied || (c->>'key');
    UPDATE inbox SET status = 1, done_at = v_at WHERE inbox.seq = (c->>'seq')::bigint AND inbox.status = 0;
    v_customer := NULL;
    IF c ? 'customer' THEN
      v_customer := orderly_customer(c->'customer'->>'channel', c->'customer'->>'account', c->'customer'->>'user', v_at);
      IF c ? 'seen' THEN
        UPDATE customers SET last_inbound_at = greatest(coalesce(last_inbound_at, 0), (c->>'seen')::bigint)
        WHERE customers.id = v_customer;
      END IF;
    END IF;
    RETURN QUERY
      WITH added AS (
        INSERT INTO outbox (lane, recipient, effect_type, effect, available_at, created_at)
        SELECT j->>'lane', j->>'to', j->>'type', j->>'effect', v_at, v_at
        FROM jsonb_array_elements(c->'outbox') WITH ORDINALITY AS t(j, o) ORDER BY o
        RETURNING outbox.id)
      SELECT n, 'outbox'::text, added.id, NULL::text FROM added;
    RETURN QUERY
      WITH told AS (
        INSERT INTO inbox (event_id, actor_key, event, received_at)
        SELECT j->>'id', j->>'key', j->>'event', v_at
        FROM jsonb_array_elements(c->'inbox') WITH ORDINALITY AS t(j, o) ORDER BY o
        ON CONFLICT (event_id) DO NOTHING
        RETURNING inbox.seq, inbox.event_id)
      SELECT n, 'inbox'::text, told.seq, told.event_id FROM told;
    FOR u IN SELECT j FROM jsonb_array_elements(c->'orders') AS t(j) LOOP
      INSERT INTO orders (id, customer_id, total, currency, data, created_at, updated_at)
      VALUES ((u->>'id')::bigint, orderly_customer(u->>'channel', u->>'account', u->>'user', v_at),
        (u->>'total')::bigint, u->>'currency', u->>'data', v_at, v_at);
    END LOOP;
    FOR u IN SELECT j FROM jsonb_array_elements(c->'updates') WITH ORDINALITY AS t(j, o) ORDER BY o LOOP
      UPDATE orders SET status = coalesce((u->>'status')::integer, orders.status),
        paid = coalesce((u->>'paid')::boolean, orders.paid), updated_at = v_at
      WHERE orders.id = (u->>'id')::bigint;
    END LOOP;
    INSERT INTO tasks (channel, account, external_id, command, due_at, created_at)
    SELECT j->>'channel', j->>'account', j->>'user', j->>'command', (j->>'due')::bigint, v_at
    FROM jsonb_array_elements(c->'tasks') WITH ORDINALITY AS t(j, o) ORDER BY o;
    SELECT least(v_due, min((j->>'due')::bigint)) INTO v_due FROM jsonb_array_elements(c->'tasks') AS t(j);
    IF c ? 'task' THEN
      UPDATE tasks SET status = 1, done_at = v_at WHERE tasks.id = (c->>'task')::bigint AND tasks.status = 0;
    END IF;
    FOR u IN SELECT j FROM jsonb_array_elements(c->'statuses') WITH ORDINALITY AS t(j, o) ORDER BY o LOOP
      PERFORM orderly_status(u);
    END LOOP;
    r_kind := 'rev'; r_id := v_rev + 1; r_name := NULL; RETURN NEXT;
  END LOOP;
  IF p_owner IS NOT NULL THEN
    DELETE FROM actor_leases WHERE owner = p_owner AND actor_leases.actor_key = ANY(p_release);
    UPDATE actor_leases SET expires_at = orderly_now() + p_ms
    WHERE owner = p_owner AND actor_leases.actor_key = ANY(v_applied) AND NOT (actor_leases.actor_key = ANY(p_release));
  END IF;
  IF v_due IS NOT NULL THEN
    PERFORM pg_notify(p_channel, 't||' || v_due);
  END IF;
END $$;
`;
