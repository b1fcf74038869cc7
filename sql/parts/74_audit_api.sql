-- The audit log's functions (src/audit.c, seal.c, checkpoint.c, verify.c)
-- and the audit trail view.  docs/audit.md explains the design and threat
-- model; docs/audit-format.md the bytes that are hashed.

CREATE FUNCTION @extschema@._audit_capture() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_audit_capture';
COMMENT ON FUNCTION @extschema@._audit_capture() IS
    'Internal trigger (AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW on every tenant table): records the change in womgr.audit_pending with actor, roles, client address, transaction and its BLAKE2b leaf hash.';
CREATE FUNCTION @extschema@._audit_refuse_truncate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_audit_refuse_truncate';
COMMENT ON FUNCTION @extschema@._audit_refuse_truncate() IS
    'Internal trigger (BEFORE TRUNCATE on every audited table): refuses TRUNCATE, which would remove rows without an audit entry each.';
CREATE FUNCTION @extschema@._audit_append_only() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_audit_append_only';
COMMENT ON FUNCTION @extschema@._audit_append_only() IS
    'Internal trigger (BEFORE UPDATE OR DELETE OR TRUNCATE on the audit tables): refuses every change; only the sealer moves pending entries and advances a chain head.';

CREATE FUNCTION @extschema@.audit_seal(p_tenant_id bigint DEFAULT NULL) RETURNS bigint
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'womgr_audit_seal';
COMMENT ON FUNCTION @extschema@.audit_seal(bigint) IS
    'Seals the audit entries of finished transactions of one tenant (or of every tenant when NULL): each gets the next gapless sequence number and its chain hash, after every entry sealed before (so in commit order by sealing pass) and in the order the changes were made. Returns how many were sealed. Safe to run in several sessions at once; the background sealer does this continuously.';

CREATE FUNCTION @extschema@.audit_start_sealer() RETURNS integer
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'womgr_audit_start_sealer';
COMMENT ON FUNCTION @extschema@.audit_start_sealer() IS
    'Starts this database''s background audit sealer unless it is running, and returns its process id. Idempotent: schedule it every minute with pg_cron as a watchdog.';

CREATE FUNCTION @extschema@.audit_stop_sealer() RETURNS boolean
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'womgr_audit_stop_sealer';
COMMENT ON FUNCTION @extschema@.audit_stop_sealer() IS
    'Stops this database''s background audit sealer and waits until it has exited; returns false when none was running. Entries keep being captured and are sealed when a sealer runs again.';

CREATE FUNCTION @extschema@.audit_generate_key() RETURNS bytea
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'womgr_audit_generate_key';
COMMENT ON FUNCTION @extschema@.audit_generate_key() IS
    'Generates a new Ed25519 key for signing audit checkpoints, retires the previous one, and returns the new public key. The secret key is kept where only the extension''s owner can read it (or written to the file womgr.audit_key_file names) and is never returned.';

CREATE FUNCTION @extschema@.audit_public_key() RETURNS bytea
    LANGUAGE c STABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'womgr_audit_public_key';
COMMENT ON FUNCTION @extschema@.audit_public_key() IS
    'The public key of the current audit signing key (32 bytes), to give to auditors for checking checkpoints.';

CREATE FUNCTION @extschema@.audit_checkpoint(p_tenant_id bigint) RETURNS text
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'womgr_audit_checkpoint';
COMMENT ON FUNCTION @extschema@.audit_checkpoint(bigint) IS
    'Seals the tenant''s finished entries, then returns a statement of (tenant, last sequence number, head hash, time) signed with the current Ed25519 key, and keeps a copy in womgr.audit_checkpoint. Publish it outside the database.';

CREATE FUNCTION @extschema@.audit_verify(p_tenant_id bigint, p_from_seq bigint DEFAULT 1, p_to_seq bigint DEFAULT NULL)
    RETURNS TABLE (ok boolean, entries_checked bigint, first_bad_seq bigint, problem text)
    LANGUAGE c STABLE PARALLEL SAFE ROWS 1
    AS 'MODULE_PATHNAME', 'womgr_audit_verify';
COMMENT ON FUNCTION @extschema@.audit_verify(bigint, bigint, bigint) IS
    'Checks a tenant''s sealed chain (or a range of it): every entry''s content against its leaf hash, every chain hash against the previous one, no gaps, the end against the chain head, and the chain against every stored signed checkpoint. Returns one row; when not ok, first_bad_seq is the first entry found wrong and problem says what. Reports progress as NOTICEs on long runs.';

CREATE FUNCTION @extschema@.audit_verify_checkpoint(p_checkpoint text, p_public_key bytea)
    RETURNS TABLE (ok boolean, entries_checked bigint, first_bad_seq bigint, problem text)
    LANGUAGE c STABLE PARALLEL SAFE ROWS 1
    AS 'MODULE_PATHNAME', 'womgr_audit_verify_checkpoint';
COMMENT ON FUNCTION @extschema@.audit_verify_checkpoint(text, bytea) IS
    'Checks a published checkpoint: its Ed25519 signature under the public key you trust, then the tenant''s chain from entry 1 to the checkpoint''s sequence number, which must end at the checkpoint''s head hash. Detects a history that was shortened, or rewritten and resealed, after the checkpoint.';

CREATE FUNCTION @extschema@.audit_export(p_tenant_id bigint, p_from_seq bigint DEFAULT 1, p_to_seq bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, seq bigint, leaf_hash text, chain_hash text, entry text)
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_audit_export';
COMMENT ON FUNCTION @extschema@.audit_export(bigint, bigint, bigint) IS
    'The tenant''s sealed chain for the offline verifier (womgr_audit_verify): one row per entry with its sequence number, stored leaf and chain hashes and its canonical encoding, all in hex. COPY it out tab-separated (docs/audit-format.md).';

CREATE FUNCTION @extschema@._audit_changes(p_old json, p_new json) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
SELECT coalesce(pg_catalog.jsonb_object_agg(k.key, pg_catalog.jsonb_build_object(
           'old', p_old::jsonb -> k.key, 'new', p_new::jsonb -> k.key)), '{}'::jsonb)
  FROM pg_catalog.jsonb_object_keys(coalesce(p_old::jsonb, '{}'::jsonb) || coalesce(p_new::jsonb, '{}'::jsonb)) AS k(key)
$$;
COMMENT ON FUNCTION @extschema@._audit_changes(json, json) IS
    'Internal: the old and new values of an audit entry as {"column": {"old": ..., "new": ...}}.';

-- Who changed what, when and from where: the audit trail for managers and
-- auditors.  Sealed entries and those waiting for the sealer; each change as
-- {"column": {"old": ..., "new": ...}}.
CREATE VIEW @extschema@.audit_trail WITH (security_invoker = true, security_barrier = true) AS
SELECT e.tenant_id, e.work_order_id, e.seq, true AS sealed, e.captured_at AS changed_at,
       e.actor, e.db_role, e.app_role, e.client_ip, e.table_name,
       CASE e.operation WHEN 'I' THEN 'insert' WHEN 'U' THEN 'update' ELSE 'delete' END AS operation,
       e.primary_key::jsonb AS row_key, @extschema@._audit_changes(e.old_values, e.new_values) AS changes,
       e.txid, e.entry_id
  FROM @extschema@.audit_entry e
UNION ALL
SELECT p.tenant_id, p.work_order_id, NULL, false, p.captured_at,
       p.actor, p.db_role, p.app_role, p.client_ip, p.table_name,
       CASE p.operation WHEN 'I' THEN 'insert' WHEN 'U' THEN 'update' ELSE 'delete' END,
       p.primary_key::jsonb, @extschema@._audit_changes(p.old_values, p.new_values),
       p.txid, p.entry_id
  FROM @extschema@.audit_pending p;
COMMENT ON VIEW @extschema@.audit_trail IS
    'Every recorded change, sealed or waiting for the sealer: who (actor, database role, womgr role), when, from which address, which row of which table, and what changed. Filter by work_order_id for one job''s history (indexed).';
COMMENT ON COLUMN @extschema@.audit_trail.work_order_id IS 'The work order the changed row belongs to, if any.';
COMMENT ON COLUMN @extschema@.audit_trail.seq IS 'Position in the tenant''s chain; NULL until sealed.';
COMMENT ON COLUMN @extschema@.audit_trail.sealed IS 'Whether the entry has been sealed into the chain.';
COMMENT ON COLUMN @extschema@.audit_trail.changed_at IS 'When the change was made.';
COMMENT ON COLUMN @extschema@.audit_trail.actor IS 'The application user from womgr.set_context(), else the database role.';
COMMENT ON COLUMN @extschema@.audit_trail.db_role IS 'The database role that made the change.';
COMMENT ON COLUMN @extschema@.audit_trail.app_role IS 'The womgr role chosen with womgr.set_context(), if any.';
COMMENT ON COLUMN @extschema@.audit_trail.client_ip IS 'The client address.';
COMMENT ON COLUMN @extschema@.audit_trail.table_name IS 'The womgr table that changed.';
COMMENT ON COLUMN @extschema@.audit_trail.operation IS 'insert, update or delete.';
COMMENT ON COLUMN @extschema@.audit_trail.row_key IS 'The changed row''s primary key.';
COMMENT ON COLUMN @extschema@.audit_trail.changes IS 'What changed: {"column": {"old": ..., "new": ...}}; every column for inserts and deletes.';
COMMENT ON COLUMN @extschema@.audit_trail.txid IS 'The transaction that made the change; changes of one transaction share it.';
COMMENT ON COLUMN @extschema@.audit_trail.entry_id IS 'The entry''s capture id.';
