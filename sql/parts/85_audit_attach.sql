-- Every tenant table is audited: a row trigger records each change and
-- TRUNCATE is refused.  The audit tables themselves are append-only.  This
-- runs after every table exists; test/sql/audit.sql checks that no tenant
-- table is left out.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS tab, c.relname
               FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
              WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
              ORDER BY c.relname LOOP
        IF r.relname LIKE 'audit\_%' THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %s'
                                      ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_append_only()', r.tab);
        ELSE
            EXECUTE pg_catalog.format('CREATE TRIGGER audit_capture AFTER INSERT OR UPDATE OR DELETE ON %s'
                                      ' FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_capture()', r.tab);
            EXECUTE pg_catalog.format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %s'
                                      ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_refuse_truncate()', r.tab);
        END IF;
    END LOOP;
END
$$;
