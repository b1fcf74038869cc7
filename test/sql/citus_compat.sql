-- citus_compat: every table in schema womgr follows DESIGN.md's Citus rules
-- 1-4, checked in the catalog so a later change that breaks one fails here.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

-- One row per violation: (rule, object, what is wrong).  tenant is the
-- reference table (replicated under Citus), so its unique code is allowed;
-- audit_signing_key is the installation's checkpoint key, a reference table
-- too (every node signs its tenants' checkpoints), with no tenant_id.
CREATE TEMP VIEW citus_violations AS
WITH tabs AS (
    SELECT c.oid, c.relname FROM pg_class c
     WHERE c.relnamespace = 'womgr'::regnamespace AND c.relkind IN ('r', 'p')
), reference_tables AS (
    SELECT 'womgr.tenant'::regclass::oid AS oid
    UNION ALL SELECT 'womgr.audit_signing_key'::regclass::oid
)
-- rule 1: tenant_id bigint NOT NULL
SELECT 'rule 1' AS rule, t.relname::text AS object, 'has no tenant_id bigint NOT NULL' AS problem
  FROM tabs t
 WHERE t.oid <> 'womgr.audit_signing_key'::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = t.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                      AND a.atttypid = 'bigint'::regtype AND a.attnotnull)
UNION ALL
-- rule 1: every primary key, unique and exclusion index contains tenant_id
SELECT 'rule 1', i.indexrelid::regclass::text, 'unique or exclusion index without tenant_id'
  FROM tabs t JOIN pg_index i ON i.indrelid = t.oid
 WHERE (i.indisunique OR i.indisexclusion OR i.indisprimary)
   AND t.oid NOT IN (SELECT oid FROM reference_tables)
   AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = t.oid AND a.attname = 'tenant_id'
                      AND a.attnum = ANY (i.indkey::int2[]))
UNION ALL
-- rule 2: foreign keys between tenant tables are composite with tenant_id in the same position
SELECT 'rule 2', con.conname::text, 'foreign key that is not composite with tenant_id in the same position on both sides'
  FROM tabs t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
 WHERE con.confrelid NOT IN (SELECT oid FROM reference_tables)
   AND (cardinality(con.conkey) < 2 OR NOT EXISTS (
        SELECT 1 FROM generate_subscripts(con.conkey, 1) k
         WHERE (SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = con.conkey[k]) = 'tenant_id'
           AND (SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid AND attnum = con.confkey[k]) = 'tenant_id'))
UNION ALL
-- rule 2: no ON DELETE SET NULL / SET DEFAULT and no ON UPDATE CASCADE on keys holding tenant_id
SELECT 'rule 2', con.conname::text, 'foreign key with ON DELETE SET NULL/SET DEFAULT or ON UPDATE CASCADE'
  FROM tabs t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
 WHERE con.confdeltype IN ('n', 'd') OR con.confupdtype IN ('c', 'n', 'd')
UNION ALL
-- rule 2: nothing references a tenant table from outside the womgr tenant tables
SELECT 'rule 2', con.conname::text, 'a table outside womgr references a tenant table'
  FROM pg_constraint con JOIN tabs t ON con.confrelid = t.oid
 WHERE con.contype = 'f' AND con.conrelid NOT IN (SELECT oid FROM tabs)
UNION ALL
-- rule 3: identities and sequences are bigint; id columns are bigint
SELECT 'rule 3', s.seqrelid::regclass::text, 'sequence narrower than bigint'
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
 WHERE c.relnamespace = 'womgr'::regnamespace AND s.seqtypid <> 'bigint'::regtype
UNION ALL
SELECT 'rule 3', t.relname || '.' || a.attname, 'id column that is not bigint'
  FROM tabs t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE (a.attname = 'id' OR a.attname LIKE '%\_id' OR a.attidentity <> '') AND a.atttypid <> 'bigint'::regtype
UNION ALL
-- rule 4: no rules on womgr tables
SELECT 'rule 4', r.rulename::text, 'rule on a womgr table'
  FROM pg_rewrite r JOIN tabs t ON t.oid = r.ev_class
 WHERE r.rulename <> '_RETURN';

BEGIN;
SELECT plan(10);

SELECT ok((SELECT count(*) FROM pg_class WHERE relnamespace = 'womgr'::regnamespace AND relkind = 'r') >= 15,
          'the check sees the womgr tables');
SELECT is((SELECT array_agg(rule || ': ' || object || ': ' || problem ORDER BY 1) FROM citus_violations),
          NULL, 'every womgr table follows the Citus rules');

-- The check fails when a change breaks a rule: apply a bad change, look for
-- the violation, and roll the change back (pgTAP's own records survive).
CREATE FUNCTION pg_temp.caught(p_ddl text, p_object text, p_rule text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    v_caught boolean;
BEGIN
    BEGIN
        EXECUTE p_ddl;
        SELECT EXISTS (SELECT 1 FROM citus_violations
                        WHERE object = p_object AND (p_rule IS NULL OR rule = p_rule)) INTO v_caught;
        RAISE EXCEPTION 'undo the bad change';
    EXCEPTION WHEN raise_exception THEN
        RETURN v_caught;
    END;
END
$$;

SELECT ok(pg_temp.caught('CREATE TABLE womgr.bad_no_tenant (id integer PRIMARY KEY)', 'bad_no_tenant', 'rule 1'),
          'a table without tenant_id is caught');
SELECT ok(pg_temp.caught('CREATE TABLE womgr.bad_no_tenant (id integer PRIMARY KEY)', 'bad_no_tenant.id', 'rule 3'),
          'an integer id is caught');
SELECT ok(pg_temp.caught($$CREATE TABLE womgr.bad_unique (tenant_id bigint NOT NULL,
                               bad_unique_id bigint GENERATED ALWAYS AS IDENTITY, code text,
                               PRIMARY KEY (tenant_id, bad_unique_id), UNIQUE (code))$$,
                         'womgr.bad_unique_code_key', 'rule 1'),
          'a unique index without tenant_id is caught');
SELECT ok(pg_temp.caught($$CREATE TABLE womgr.bad_fk (tenant_id bigint NOT NULL,
                               bad_fk_id bigint GENERATED ALWAYS AS IDENTITY, customer_id bigint,
                               PRIMARY KEY (tenant_id, bad_fk_id));
                           CREATE UNIQUE INDEX bad_customer_key ON womgr.customer (customer_id, tenant_id);
                           ALTER TABLE womgr.bad_fk ADD CONSTRAINT bad_fk_customer FOREIGN KEY (tenant_id, customer_id)
                               REFERENCES womgr.customer (customer_id, tenant_id)$$,
                         'bad_fk_customer', 'rule 2'),
          'a foreign key with tenant_id in another position is caught');
SELECT ok(pg_temp.caught($$CREATE TABLE womgr.bad_setnull (tenant_id bigint NOT NULL,
                               bad_setnull_id bigint GENERATED ALWAYS AS IDENTITY, customer_id bigint,
                               PRIMARY KEY (tenant_id, bad_setnull_id),
                               CONSTRAINT bad_setnull_customer FOREIGN KEY (tenant_id, customer_id)
                                   REFERENCES womgr.customer (tenant_id, customer_id) ON DELETE SET NULL)$$,
                         'bad_setnull_customer', 'rule 2'),
          'ON DELETE SET NULL is caught');
SELECT ok(pg_temp.caught('CREATE SEQUENCE womgr.bad_seq AS integer', 'womgr.bad_seq', 'rule 3'),
          'an integer sequence is caught');
SELECT ok(pg_temp.caught('CREATE RULE bad_rule AS ON DELETE TO womgr.skill DO INSTEAD NOTHING', 'bad_rule', 'rule 4'),
          'a rule is caught');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relname LIKE 'bad\_%'), 0, 'the bad changes were rolled back');

SELECT * FROM finish();
ROLLBACK;
