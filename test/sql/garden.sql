-- garden: every public womgr function called with NULLs, first for the
-- tenant and then with a real tenant and NULL for the rest.  Any clean error
-- is fine; an internal error (class XX) or a crash is not.  Left out:
-- demo_generate and create_roles (tested elsewhere) and audit_start_sealer,
-- whose background worker would outlive the test (audit.sql tests it).
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

CREATE FUNCTION pg_temp.call(p_fn regprocedure, p_tenant boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_sql text;
BEGIN
    SELECT format('SELECT %s(%s)', p_fn::oid::regproc,
                  string_agg(CASE WHEN p_tenant AND o = 1 AND t = 'bigint'::regtype THEN 'womgr.default_tenant_id()'
                                  ELSE format('NULL::%s', format_type(t, NULL)) END, ', ' ORDER BY o))
      INTO v_sql
      FROM pg_proc p LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o) ON true
     WHERE p.oid = p_fn;
    EXECUTE v_sql;
    RETURN 'returned';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

SELECT ok(pg_temp.call(p.oid::regprocedure, false) NOT LIKE 'XX%', p.oid::regprocedure || ' with NULLs')
  FROM pg_proc p
 WHERE p.pronamespace = 'womgr'::regnamespace AND p.prokind = 'f' AND p.proname !~ '^_'
   AND p.proname NOT IN ('demo_generate', 'create_roles', 'audit_start_sealer')
 ORDER BY p.oid::regprocedure::text;
SELECT ok(pg_temp.call(p.oid::regprocedure, true) NOT LIKE 'XX%', p.oid::regprocedure || ' with a tenant and NULLs')
  FROM pg_proc p
 WHERE p.pronamespace = 'womgr'::regnamespace AND p.prokind = 'f' AND p.proname !~ '^_'
   AND p.proname NOT IN ('demo_generate', 'create_roles') AND p.pronargs > 1
 ORDER BY p.oid::regprocedure::text;
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'womgr'::regnamespace AND p.prokind = 'f' AND p.proname !~ '^_'
              AND p.proname NOT IN ('demo_generate', 'create_roles', 'version', 'current_actor', 'current_client_ip',
                                    'current_roles', 'current_tenant_id', 'default_tenant_id', 'set_context',
                                    -- installation-wide, no tenant
                                    'audit_generate_key', 'audit_public_key', 'audit_start_sealer', 'audit_stop_sealer',
                                    -- NULL means every tenant
                                    'purge_technician_locations', 'audit_seal')
              AND pg_temp.call(p.oid::regprocedure, false) NOT IN ('22004', '23503')),
          0, 'every tenant function refuses a NULL tenant with 22004 (or an unknown one with 23503)');

SELECT * FROM finish();
ROLLBACK;
