-- install: CREATE EXTENSION on a stock server, what a fresh install holds,
-- and DROP EXTENSION leaving nothing behind.
\set ECHO none
\i test/pgtap_setup.psql
DROP EXTENSION IF EXISTS womgr CASCADE;
DROP SCHEMA IF EXISTS womgr;
DROP EXTENSION IF EXISTS postgis;
DROP EXTENSION IF EXISTS btree_gist;

-- Everything that exists before the extension, to compare after DROP EXTENSION.
CREATE TEMP TABLE before_objects AS
SELECT 'class' AS kind, c.oid::regclass::text AS name FROM pg_class c WHERE c.relpersistence <> 't'
UNION ALL SELECT 'proc', p.oid::regprocedure::text FROM pg_proc p
UNION ALL SELECT 'type', t.oid::regtype::text FROM pg_type t
UNION ALL SELECT 'trigger', tg.tgname FROM pg_trigger tg
UNION ALL SELECT 'policy', pol.polname FROM pg_policy pol
UNION ALL SELECT 'operator', o.oid::regoperator::text FROM pg_operator o;

CREATE EXTENSION womgr CASCADE;

BEGIN;
SELECT plan(20);

SELECT has_extension('womgr', 'womgr is installed');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'womgr'), womgr.version(),
          'the C library and the SQL script have the same version');
SELECT is(womgr.version(), '0.1.0', 'version() reports 0.1.0');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'womgr'), false, 'not relocatable');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'womgr'), 'womgr',
          'installed in schema womgr');
SELECT ok(EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis'), 'postgis came with CASCADE');
SELECT ok(EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'), 'btree_gist came with CASCADE');

SELECT tables_are('womgr', ARRAY[
    'tenant', 'tenant_counter', 'branch', 'customer', 'contact', 'site', 'asset',
    'technician', 'skill', 'technician_skill', 'priority', 'work_order_type',
    'work_order_type_skill', 'work_order', 'work_order_event',
    'workflow', 'workflow_status', 'workflow_transition', 'approval_step', 'work_order_template',
    'department', 'department_member', 'assignment', 'approval', 'note', 'attachment', 'service_request',
    'outbox', 'calendar', 'calendar_version', 'contract', 'sla_policy', 'sla_target', 'sla_clock', 'sla_pause',
    'technician_time_off', 'technician_location', 'territory', 'technician_territory', 'preferred_technician',
    'dispatch_policy', 'audit_pending', 'audit_entry', 'audit_chain_head', 'audit_checkpoint', 'audit_signing_key',
    'billing_settings', 'tax_class', 'tax_rate', 'rate_card', 'rate_card_labour', 'rate_card_zone', 'time_entry',
    'work_order_charge', 'invoice', 'invoice_line', 'part', 'stock_location', 'stock_level', 'stock_transfer',
    'stock_movement', 'work_order_part', 'stock_reservation', 'stock_alert', 'payment', 'payment_allocation',
    'payment_request', 'mpesa_callback', 'milestone', 'escrow_movement', 'cash_reconciliation'],
    'the core data model and the tables of the workflow, calendars, SLAs, dispatch, the audit log and billing');

SELECT is((SELECT count(*)::int FROM womgr.tenant), 1, 'a fresh install has exactly one tenant');
SELECT is((SELECT code FROM womgr.tenant WHERE tenant_id = womgr.default_tenant_id()), 'default',
          'default_tenant_id() names it');
SELECT results_eq(
    $$SELECT code, rank FROM womgr.priority WHERE tenant_id = womgr.default_tenant_id() ORDER BY rank$$,
    $$VALUES ('emergency', 1), ('high', 2), ('normal', 3), ('low', 4)$$,
    'the default tenant has four priorities');
SELECT results_eq(
    $$SELECT code FROM womgr.work_order_type WHERE tenant_id = womgr.default_tenant_id() ORDER BY code$$,
    $$VALUES ('inspection'), ('installation'), ('maintenance'), ('repair')$$,
    'and four work-order types');
SELECT results_eq(
    $$SELECT w.code, s.code, s.category::text, s.sla_clock, s.is_initial
        FROM womgr.workflow w JOIN womgr.workflow_status s USING (tenant_id, workflow_id)
       WHERE w.tenant_id = womgr.default_tenant_id() AND w.is_default ORDER BY s.position$$,
    $$VALUES ('standard', 'new', 'new', 'run', true), ('standard', 'scheduled', 'scheduled', 'run', false),
             ('standard', 'en_route', 'scheduled', 'run', false), ('standard', 'in_progress', 'in_progress', 'run', false),
             ('standard', 'waiting_parts', 'on_hold', 'pause', false), ('standard', 'waiting_customer', 'on_hold', 'pause', false),
             ('standard', 'completed', 'completed', 'stop', false), ('standard', 'closed', 'closed', 'stop', false),
             ('standard', 'cancelled', 'cancelled', 'stop', false)$$,
    'and the standard workflow as its default, with the SLA clock paused on hold and stopped at the end');

-- every user-data table and its identity sequence is kept by pg_dump
SELECT is(
    (SELECT array_agg(c.relname ORDER BY c.relname) FROM pg_class c
      WHERE c.relnamespace = 'womgr'::regnamespace AND c.relkind IN ('r', 'S')
        AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'womgr')::oid[])),
    NULL, 'every table and sequence is registered with pg_extension_config_dump');

-- every function has a comment
SELECT is(
    (SELECT array_agg(p.proname ORDER BY p.proname) FROM pg_proc p
      WHERE p.pronamespace = 'womgr'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL),
    NULL, 'every function has COMMENT ON');
SELECT is(
    (SELECT array_agg(c.relname ORDER BY c.relname) FROM pg_class c
      WHERE c.relnamespace = 'womgr'::regnamespace AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL),
    NULL, 'every table has COMMENT ON');

-- DROP EXTENSION leaves nothing behind
SELECT lives_ok('DROP EXTENSION womgr CASCADE', 'DROP EXTENSION womgr CASCADE works');
DROP EXTENSION postgis;
DROP EXTENSION btree_gist;
SELECT is(
    (SELECT array_agg(kind || ' ' || name ORDER BY kind, name) FROM (
        SELECT 'class' AS kind, c.oid::regclass::text AS name FROM pg_class c WHERE c.relpersistence <> 't'
        UNION ALL SELECT 'proc', p.oid::regprocedure::text FROM pg_proc p
        UNION ALL SELECT 'type', t.oid::regtype::text FROM pg_type t
          WHERE t.typnamespace <> pg_my_temp_schema() AND NOT EXISTS
                (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relpersistence = 't')
        UNION ALL SELECT 'trigger', tg.tgname FROM pg_trigger tg
        UNION ALL SELECT 'policy', pol.polname FROM pg_policy pol
        UNION ALL SELECT 'operator', o.oid::regoperator::text FROM pg_operator o
        EXCEPT SELECT kind, name FROM before_objects) AS left_behind),
    NULL, 'no class, function, type, trigger, policy or operator is left behind');
SELECT lives_ok('DROP SCHEMA womgr', 'only the empty womgr schema remains, and it drops without CASCADE');
SELECT lives_ok('CREATE EXTENSION womgr CASCADE', 'the extension installs again');

SELECT * FROM finish();
COMMIT;
