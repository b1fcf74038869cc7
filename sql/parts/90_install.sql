-- Install-time wiring: pg_dump registration, search_path pinning, the
-- default tenant and privileges.  Runs last; functions are pinned before
-- anything calls them, so objects planted elsewhere are never picked up.

-- Rows the install script creates are marked seeded.  pg_dump dumps them like
-- any row; on restore, CREATE EXTENSION has already made them again, so the
-- dumped version is merged into the existing row instead of colliding with it.
CREATE FUNCTION @extschema@._restore_seeded_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_key text := TG_ARGV[0];
    v_set text;
    v_updated bigint;
BEGIN
    SELECT string_agg(format('%I = ($1).%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
      INTO v_set
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '';
    EXECUTE pg_catalog.format('UPDATE %I.%I SET %s WHERE tenant_id = ($1).tenant_id AND %I = ($1).%I AND seeded',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME, v_set, v_key, v_key)
      USING NEW;
    GET DIAGNOSTICS v_updated = ROW_COUNT;
    IF v_updated > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@._restore_seeded_row() IS
    'Internal trigger: when a restore inserts a seeded row that CREATE EXTENSION already made, updates that row instead.';

CREATE TRIGGER tenant_restore_seeded BEFORE INSERT ON @extschema@.tenant
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('tenant_id');
CREATE TRIGGER priority_restore_seeded BEFORE INSERT ON @extschema@.priority
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('priority_id');
CREATE TRIGGER workflow_restore_seeded BEFORE INSERT ON @extschema@.workflow
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('workflow_id');
CREATE TRIGGER workflow_status_restore_seeded BEFORE INSERT ON @extschema@.workflow_status
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('workflow_status_id');
CREATE TRIGGER approval_step_restore_seeded BEFORE INSERT ON @extschema@.approval_step
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('approval_step_id');
CREATE TRIGGER workflow_transition_restore_seeded BEFORE INSERT ON @extschema@.workflow_transition
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('workflow_transition_id');
CREATE TRIGGER work_order_type_restore_seeded BEFORE INSERT ON @extschema@.work_order_type
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('work_order_type_id');
CREATE TRIGGER billing_settings_restore_seeded BEFORE INSERT ON @extschema@.billing_settings
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('tenant_id');
CREATE TRIGGER tax_class_restore_seeded BEFORE INSERT ON @extschema@.tax_class
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('tax_class_id');
CREATE TRIGGER tax_rate_restore_seeded BEFORE INSERT ON @extschema@.tax_rate
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('tax_rate_id');
CREATE TRIGGER dispatch_policy_restore_seeded BEFORE INSERT ON @extschema@.dispatch_policy
    FOR EACH ROW WHEN (NEW.seeded) EXECUTE FUNCTION @extschema@._restore_seeded_row('dispatch_policy_id');

-- Every table and identity sequence keeps its rows through pg_dump.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS tab, c.relname
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
              ORDER BY c.relname LOOP
        PERFORM pg_catalog.pg_extension_config_dump(r.tab, '');
    END LOOP;
    FOR r IN SELECT s.oid::regclass AS seq
               FROM pg_catalog.pg_class s
              WHERE s.relnamespace = '@extschema@'::regnamespace AND s.relkind = 'S' LOOP
        PERFORM pg_catalog.pg_extension_config_dump(r.seq, '');
    END LOOP;
END
$$;

-- PL/pgSQL and SQL functions run with search_path pinned to pg_catalog,
-- pg_temp.  SQL functions with a standard body (BEGIN ATOMIC or RETURN) are
-- left alone: their names were resolved when they were created, and without
-- a SET clause the planner can inline them (womgr._money on every invoice
-- line).  womgr objects are always schema-qualified and points are built by
-- _point() without PostGIS names, so objects planted in other schemas are
-- never picked up.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.oid::regprocedure AS fn
               FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
              WHERE p.pronamespace = '@extschema@'::regnamespace AND l.lanname IN ('plpgsql', 'sql')
                AND p.prosqlbody IS NULL LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', r.fn);
    END LOOP;
END
$$;

-- The default tenant: a single-company user never has to think about tenants.
INSERT INTO @extschema@.tenant (code, name, seeded) VALUES ('default', 'Default company', true);
SELECT @extschema@._seed_tenant(@extschema@.default_tenant_id(), true);

-- Nothing is granted to PUBLIC.  The extension's owner (usually a superuser)
-- grants womgr's roles what they need (womgr.create_roles(), a later release).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.oid::regprocedure AS fn
               FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = '@extschema@'::regnamespace LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', r.fn);
    END LOOP;
END
$$;
