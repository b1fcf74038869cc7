-- Row-level security: every tenant table is isolated by tenant.  A role that
-- is not the tables' owner sees and writes only the rows of the tenant set by
-- womgr.set_context() in its transaction.  Finer rules (branch scope,
-- assignment, customers) come with womgr.create_roles() in a later release.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS tab, c.relname
               FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
              WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
              ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.tab);
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_isolation ON %s USING (tenant_id = @extschema@.current_tenant_id())'
            ' WITH CHECK (tenant_id = @extschema@.current_tenant_id())', r.tab);
    END LOOP;
END
$$;
