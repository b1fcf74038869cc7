-- privileges: PUBLIC gets nothing, functions pin search_path, every tenant
-- table has row-level security, and each role is tried with SET ROLE.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

-- catalog checks
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p, aclexplode(p.proacl) a
            WHERE p.pronamespace = 'womgr'::regnamespace AND a.grantee = 0),
          NULL, 'PUBLIC may execute no womgr function');
SELECT is((SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.relnamespace = 'womgr'::regnamespace AND a.grantee = 0),
          NULL, 'PUBLIC has no privilege on any womgr table or sequence');
SELECT is(has_schema_privilege('public', 'womgr', 'USAGE'), false, 'PUBLIC cannot use the womgr schema');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'womgr'::regnamespace AND p.prosecdef
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')),
          NULL, 'every SECURITY DEFINER function pins search_path');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'womgr'::regnamespace AND l.lanname IN ('plpgsql', 'sql') AND p.prosqlbody IS NULL
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=pg_catalog,%')),
          NULL, 'every PL/pgSQL and SQL function whose body is parsed at run time runs with search_path starting at pg_catalog');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'womgr'::regnamespace AND p.prosqlbody IS NOT NULL AND p.prosecdef),
          NULL, 'no SQL-standard-body function (bound at creation, not pinned) is SECURITY DEFINER');
SELECT is((SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c
            WHERE c.relnamespace = 'womgr'::regnamespace AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
              AND NOT (c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'))),
          NULL, 'every tenant table has row-level security with a tenant_isolation policy');

-- data in two tenants
SELECT womgr.create_tenant('{"code": "priv-a", "name": "A Ltd"}') AS ta \gset
SELECT womgr.create_tenant('{"code": "priv-b", "name": "B Ltd"}') AS tb \gset
SELECT womgr.create_customer(:ta, '{"name": "A customer"}') AS ca \gset
SELECT womgr.create_site(:ta, jsonb_build_object('customer_id', :ca, 'name', 'A site')) AS sa \gset
SELECT womgr.create_customer(:tb, '{"name": "B customer"}') AS cb \gset
SELECT womgr.create_site(:tb, jsonb_build_object('customer_id', :cb, 'name', 'B site')) AS sb \gset
SELECT womgr.create_work_order(:ta, jsonb_build_object('customer_id', :ca, 'site_id', :sa, 'type', 'repair', 'description', 'A job')) AS wa \gset
SELECT womgr.create_work_order(:tb, jsonb_build_object('customer_id', :cb, 'site_id', :sb, 'type', 'repair', 'description', 'B job')) AS wb \gset

-- a role with no grants gets nothing
CREATE ROLE regress_womgr_nobody NOLOGIN;
SET LOCAL ROLE regress_womgr_nobody;
SELECT throws_ok('SELECT count(*) FROM womgr.work_order', '42501', NULL, 'a role without grants cannot read work orders');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, ''{}'')', :ta), '42501', NULL, 'nor call create_work_order');
SELECT throws_ok(format('SELECT womgr.set_context(%s, ''x'')', :ta), '42501', NULL, 'nor set_context');
RESET ROLE;

-- a role granted the tables and functions sees only the tenant of its context
CREATE ROLE regress_womgr_clerk NOLOGIN;
GRANT USAGE ON SCHEMA womgr TO regress_womgr_clerk;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA womgr TO regress_womgr_clerk;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA womgr TO regress_womgr_clerk;
SET LOCAL ROLE regress_womgr_clerk;
SELECT is((SELECT count(*)::int FROM womgr.work_order), 0, 'without a context the clerk sees no work order');
SELECT is((SELECT count(*)::int FROM womgr.tenant), 0, 'and no tenant');
SELECT womgr.set_context(:ta, 'clerk.a') \gset
SELECT is((SELECT array_agg(DISTINCT tenant_id) FROM womgr.work_order), ARRAY[:ta::bigint],
          'with tenant A set, only tenant A''s work orders are visible');
SELECT is((SELECT count(*)::int FROM womgr.customer WHERE tenant_id = :tb), 0, 'tenant B''s customers are invisible');
SELECT ok(womgr.create_work_order(:ta, jsonb_build_object('customer_id', :ca, 'site_id', :sa, 'type', 'repair',
                                                          'description', 'Clerk job')) > 0,
          'the clerk creates work orders for tenant A');
SELECT is((SELECT created_by FROM womgr.work_order WHERE description = 'Clerk job'), 'clerk.a', 'recorded as the context''s actor');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, jsonb_build_object(''customer_id'', %s, ''site_id'', %s, ''type'', ''repair'', ''description'', ''x''))',
                        :tb, :cb, :sb),
                 '23503', NULL, 'tenant B''s references do not exist for a clerk acting for tenant A');
SELECT throws_ok(format('INSERT INTO womgr.skill (tenant_id, code, name) VALUES (%s, ''x'', ''X'')', :tb),
                 '42501', NULL, 'writing a row of tenant B is refused by the policy');
SELECT is((SELECT count(*)::int FROM womgr.tenant_counter WHERE tenant_id = :tb), 0, 'tenant B''s counters are invisible too');
SELECT is((SELECT array_agg(tenant_id) FROM womgr.tenant), ARRAY[:ta::bigint], 'of the tenants, only A is visible');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
