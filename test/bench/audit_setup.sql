-- Audit benchmark set-up (test/bench/audit.sh): the work orders the update
-- script picks from, the naive hash chain a user would write instead of
-- womgr's audit log, and bench_audit.set_mode() to switch between the three
-- variants on the same data.  Everything lives in the schema bench_audit;
-- audit_teardown.sql removes it and turns womgr's capture back on.
-- Variables: :tenant
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_audit CASCADE;
CREATE SCHEMA bench_audit;

-- n = 1..count -> one of the tenant's work orders, so the script can pick a
-- random existing one with a single indexed lookup
CREATE TABLE bench_audit.wo (n integer PRIMARY KEY, work_order_id bigint NOT NULL);
INSERT INTO bench_audit.wo
SELECT row_number() OVER (ORDER BY work_order_id), work_order_id
  FROM womgr.work_order WHERE tenant_id = :tenant;
ANALYZE bench_audit.wo;

-- The tables one run of audit_update.pgbench writes: the work order, its
-- "updated" event and the event's outbox row.  audit.sh checks that no audit
-- entry is captured while capture is off on these.
CREATE FUNCTION bench_audit.written_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['work_order', 'work_order_event', 'outbox'] $$;

-- The naive chain: at write time, lock the tenant's head row, hash the
-- previous hash with the row's JSON, append to the log with seq = prev + 1
-- and advance the head.  The lock is held until commit, so a tenant's
-- writers take turns.
CREATE TABLE bench_audit.naive_head (
    tenant_id  bigint PRIMARY KEY,
    seq        bigint NOT NULL,
    hash       bytea NOT NULL
);
CREATE TABLE bench_audit.naive_log (
    tenant_id  bigint NOT NULL,
    seq        bigint NOT NULL,
    table_name text NOT NULL,
    operation  text NOT NULL,
    row_data   json NOT NULL,
    actor      text NOT NULL,
    logged_at  timestamptz NOT NULL,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
INSERT INTO bench_audit.naive_head VALUES (:tenant, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION bench_audit.naive_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_row  json := row_to_json(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    v_tenant bigint := (v_row ->> 'tenant_id')::bigint;
    v_head record;
    v_hash bytea;
BEGIN
    SELECT seq, hash INTO v_head FROM bench_audit.naive_head WHERE tenant_id = v_tenant FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no naive chain head for tenant %', v_tenant;
    END IF;
    v_hash := sha256(v_head.hash || convert_to(TG_TABLE_NAME || ' ' || TG_OP || ' ' || v_row::text, 'UTF8'));
    INSERT INTO bench_audit.naive_log (tenant_id, seq, table_name, operation, row_data, actor, logged_at, prev_hash, hash)
    VALUES (v_tenant, v_head.seq + 1, TG_TABLE_NAME, TG_OP, v_row, current_user, clock_timestamp(), v_head.hash, v_hash);
    UPDATE bench_audit.naive_head SET seq = v_head.seq + 1, hash = v_hash WHERE tenant_id = v_tenant;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY bench_audit.written_tables() LOOP
        EXECUTE format('CREATE TRIGGER bench_naive_chain AFTER INSERT OR UPDATE OR DELETE ON womgr.%I'
                       ' FOR EACH ROW EXECUTE FUNCTION bench_audit.naive_chain()', t);
        EXECUTE format('ALTER TABLE womgr.%I DISABLE TRIGGER bench_naive_chain', t);
    END LOOP;
END $$;

-- audited: womgr's capture on (as installed), the naive chain off
-- unaudited: both off
-- naive: womgr's capture off, the naive chain on
CREATE FUNCTION bench_audit.set_mode(p_mode text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    IF p_mode NOT IN ('audited', 'unaudited', 'naive') THEN
        RAISE EXCEPTION 'unknown mode %', p_mode;
    END IF;
    FOREACH t IN ARRAY bench_audit.written_tables() LOOP
        EXECUTE format('ALTER TABLE womgr.%I %s TRIGGER audit_capture', t,
                       CASE WHEN p_mode = 'audited' THEN 'ENABLE' ELSE 'DISABLE' END);
        EXECUTE format('ALTER TABLE womgr.%I %s TRIGGER bench_naive_chain', t,
                       CASE WHEN p_mode = 'naive' THEN 'ENABLE' ELSE 'DISABLE' END);
    END LOOP;
END $$;

-- one row per measured pgbench run; entry_lo/entry_hi bound the audit entry
-- ids captured during an audited run
CREATE TABLE bench_audit.run (
    round     integer NOT NULL,
    mode      text NOT NULL,
    tps       float8 NOT NULL,
    entry_lo  bigint,
    entry_hi  bigint,
    PRIMARY KEY (round, mode)
);

-- start as installed (a failed earlier run may have left capture off)
DO $$ BEGIN PERFORM bench_audit.set_mode('audited'); END $$;
