-- audit: capture of every change, the append-only audit tables, sealing in
-- order without holes, signed checkpoints, and verification that finds each
-- attack (done here as a superuser who switches the guards off) at the right
-- sequence number.  Concurrency, crashes and the offline verifier have their
-- own scripts in test/scripts/.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

-- every tenant table is audited; the audit tables are append-only
SELECT is(array_agg(c.relname::text ORDER BY c.relname), NULL,
          'every tenant table has the audit_capture and audit_no_truncate triggers')
  FROM pg_class c
 WHERE c.relnamespace = 'womgr'::regnamespace AND c.relkind = 'r' AND c.relname NOT LIKE 'audit\_%'
   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
   AND (SELECT count(*) FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname IN ('audit_capture', 'audit_no_truncate')) <> 2;
SELECT is(array_agg(c.relname::text ORDER BY c.relname), '{audit_chain_head,audit_checkpoint,audit_entry,audit_pending}',
          'the audit tables are append-only')
  FROM pg_class c JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgname = 'audit_append_only'
 WHERE c.relnamespace = 'womgr'::regnamespace;
SELECT ok(NOT EXISTS (SELECT 1 FROM womgr.audit_trail WHERE tenant_id = womgr.default_tenant_id() AND table_name = 'tenant'),
          'rows made by CREATE EXTENSION itself are not recorded');

-- a tenant whose whole history this test writes
SELECT womgr.create_tenant('{"code": "audit-test", "name": "Ushahidi Installers"}') AS t \gset
-- creating the tenant seeded its workflow and types; what follows acts in a context
SELECT max(entry_id) AS e0 FROM womgr.audit_pending WHERE tenant_id = :t \gset
SELECT womgr.set_context(:t, 'jane.dispatch', '198.51.100.7', 'dispatcher') \gset
SELECT womgr.create_branch(:t, '{"code": "KSM", "name": "Kisumu"}') AS b \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Lakeview Hotel', 'branch_id', :b)) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Main block')) AS s \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair',
                                                       'description', 'Solar inverter fault')) AS w \gset
UPDATE womgr.work_order SET description = 'Solar inverter fault, roof 2' WHERE tenant_id = :t AND work_order_id = :w;
SELECT womgr.add_note(:t, :w, 'Customer asks for a morning visit') AS n \gset
DELETE FROM womgr.note WHERE tenant_id = :t AND note_id = :n;

-- capture: who, from where, in which transaction, what changed
SELECT is((SELECT array_agg(DISTINCT actor || ' ' || db_role || ' ' || app_role || ' ' || host(client_ip))
             FROM womgr.audit_pending WHERE tenant_id = :t AND entry_id > :e0),
          ARRAY['jane.dispatch ' || current_user || ' dispatcher 198.51.100.7'],
          'each entry records the actor, database role, womgr role and client address of womgr.set_context()');
SELECT is((SELECT array_agg(DISTINCT txid) FROM womgr.audit_pending WHERE tenant_id = :t),
          ARRAY[pg_current_xact_id()], 'each entry records its transaction');
SELECT is((SELECT primary_key::text || ' ' || operation FROM womgr.audit_pending
            WHERE tenant_id = :t AND table_name = 'branch'),
          format('{"tenant_id": %s, "branch_id": %s} I', :t, :b), 'an insert names the row by its primary key');
SELECT is((SELECT (new_values::jsonb ->> 'name') || ' ' || coalesce(old_values::text, 'no old values')
             FROM womgr.audit_pending WHERE tenant_id = :t AND table_name = 'branch'),
          'Kisumu no old values', 'an insert records every new value');
SELECT is((SELECT array_agg(k ORDER BY k) FROM womgr.audit_pending p, json_object_keys(p.new_values) k
            WHERE p.tenant_id = :t AND p.table_name = 'work_order' AND p.operation = 'U'
              AND p.new_values::jsonb ? 'description'),
          '{description,version}', 'an update records only the columns that changed (updated_at is unchanged within the transaction)');
SELECT is((SELECT old_values::jsonb ->> 'description' FROM womgr.audit_pending
            WHERE tenant_id = :t AND table_name = 'work_order' AND operation = 'U' AND new_values::jsonb ? 'description'),
          'Solar inverter fault', '... with their old values');
SELECT is((SELECT (old_values::jsonb ->> 'body') || ' ' || coalesce(new_values::text, 'no new values')
             FROM womgr.audit_pending WHERE tenant_id = :t AND table_name = 'note' AND operation = 'D'),
          'Customer asks for a morning visit no new values', 'a delete records every old value');
SELECT is((SELECT string_agg(table_name || ':' || operation, ' ' ORDER BY entry_id) FROM womgr.audit_pending
            WHERE tenant_id = :t AND work_order_id = :w),
          'work_order:I work_order_event:I outbox:I work_order:U work_order_event:I outbox:I note:I work_order_event:I outbox:I note:D',
          'every row change of a work order is recorded, in order, with its work order id');
SELECT ok((SELECT bool_and(length(leaf_hash) = 32) FROM womgr.audit_pending WHERE tenant_id = :t),
          'each entry has its 32-byte BLAKE2b leaf hash when written');

-- values are recorded the same whatever the session's DateStyle and TimeZone
SELECT womgr.create_skill(:t, '{"code": "solar", "name": "Solar PV"}') AS sk \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Otieno Achieng', 'home_branch_id', :b)) AS tech \gset
SELECT womgr.set_technician_skill(:t, :tech, 'solar', 3, '2027-03-01') \gset
SET LOCAL DateStyle = 'SQL, DMY';
SET LOCAL TimeZone = 'America/New_York';
UPDATE womgr.technician_skill SET certified_until = '01/04/2027' WHERE tenant_id = :t AND technician_id = :tech;
RESET DateStyle;
RESET TimeZone;
SELECT is((SELECT old_values::text || ' ' || new_values::text FROM womgr.audit_pending
            WHERE tenant_id = :t AND table_name = 'technician_skill' AND operation = 'U'),
          '{"certified_until": "2027-03-01"} {"certified_until": "2027-04-01"}',
          'dates are recorded in ISO 8601 whatever DateStyle says');
UPDATE womgr.technician_skill SET level = level WHERE tenant_id = :t AND technician_id = :tech;
SELECT is((SELECT old_values::text || ' ' || new_values::text FROM womgr.audit_pending
            WHERE tenant_id = :t AND table_name = 'technician_skill' AND operation = 'U' ORDER BY entry_id DESC LIMIT 1),
          '{} {}', 'an update that changes nothing is recorded with no columns');
SELECT is((SELECT actor || ' ' || db_role FROM womgr.audit_pending
            WHERE tenant_id = :t AND table_name = 'technician_skill' AND operation = 'U' ORDER BY entry_id DESC LIMIT 1),
          'jane.dispatch ' || session_user, 'actor and role as set');

-- the audit trail view: one work order's history
SELECT is((SELECT changes -> 'description' FROM womgr.audit_trail
            WHERE tenant_id = :t AND work_order_id = :w AND table_name = 'work_order' AND operation = 'update'
              AND changes ? 'description'),
          '{"new": "Solar inverter fault, roof 2", "old": "Solar inverter fault"}'::jsonb,
          'audit_trail shows what changed, old and new');
SELECT is((SELECT array_agg(DISTINCT table_name || ':' || operation ORDER BY table_name || ':' || operation)
             FROM womgr.audit_trail WHERE tenant_id = :t AND work_order_id = :w),
          '{note:delete,note:insert,outbox:insert,work_order:insert,work_order:update,work_order_event:insert}',
          'audit_trail for one work order lists the changes of its rows');

-- TRUNCATE of an audited table is refused; the audit tables are append-only
SELECT throws_ok('TRUNCATE womgr.technician_location', '55000',
                 'TRUNCATE of audited table "technician_location" is refused', 'TRUNCATE of an audited table');
SELECT throws_ok(format('UPDATE womgr.audit_pending SET actor = %L WHERE tenant_id = %s', 'someone', :t), '55000',
                 'audit_pending is append-only', 'no UPDATE of pending entries');
SELECT throws_ok(format('DELETE FROM womgr.audit_pending WHERE tenant_id = %s', :t), '55000',
                 'audit_pending is append-only', 'no DELETE of pending entries');
SELECT throws_ok('TRUNCATE womgr.audit_pending', '55000', 'audit_pending is append-only', 'no TRUNCATE of pending entries');

-- sealing: every entry of the tenant, in order, without gaps
SELECT count(*) AS pending FROM womgr.audit_pending WHERE tenant_id = :t \gset
SELECT is(womgr.audit_seal(:t), :pending::bigint, 'audit_seal seals every entry of the tenant');
SELECT is(womgr.audit_seal(:t), 0::bigint, 'sealing again finds nothing');
SELECT is((SELECT count(*)::int FROM womgr.audit_pending WHERE tenant_id = :t), 0, 'no entry is left pending');
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM womgr.audit_entry WHERE tenant_id = :t),
          (SELECT array_agg(g::bigint) FROM generate_series(1, :pending) g), 'sequence numbers are 1..N');
SELECT ok((SELECT bool_and(a.entry_id < b.entry_id) FROM womgr.audit_entry a
             JOIN womgr.audit_entry b ON b.tenant_id = a.tenant_id AND b.seq = a.seq + 1 WHERE a.tenant_id = :t),
          'entries of one transaction are sealed in the order they were written');
SELECT is((SELECT seq FROM womgr.audit_chain_head WHERE tenant_id = :t), :pending::bigint, 'the chain head is the last entry');
SELECT is((SELECT chain_hash FROM womgr.audit_chain_head WHERE tenant_id = :t),
          (SELECT chain_hash FROM womgr.audit_entry WHERE tenant_id = :t AND seq = :pending), '... with its chain hash');
SELECT throws_ok(format('UPDATE womgr.audit_entry SET actor = %L WHERE tenant_id = %s', 'someone', :t), '55000',
                 'audit_entry is append-only', 'no UPDATE of sealed entries');
SELECT throws_ok(format('DELETE FROM womgr.audit_entry WHERE tenant_id = %s', :t), '55000',
                 'audit_entry is append-only', 'no DELETE of sealed entries');
SELECT throws_ok('TRUNCATE womgr.audit_entry', '55000', 'audit_entry is append-only', 'no TRUNCATE of sealed entries');
SELECT throws_ok(format('UPDATE womgr.audit_chain_head SET seq = 1 WHERE tenant_id = %s', :t), '55000',
                 'audit_chain_head is append-only', 'no UPDATE of a chain head');

-- a rolled-back change leaves no entry and no hole
SAVEPOINT before_rollback;
UPDATE womgr.customer SET name = 'Never happened' WHERE tenant_id = :t AND customer_id = :c;
ROLLBACK TO SAVEPOINT before_rollback;
UPDATE womgr.customer SET name = 'Lakeview Hotel & Spa' WHERE tenant_id = :t AND customer_id = :c;
SELECT count(*) AS all_pending FROM womgr.audit_pending \gset
SELECT is(womgr.audit_seal(NULL), :all_pending::bigint, 'audit_seal(NULL) seals every tenant');
SELECT :pending + 1 AS n \gset
SELECT is((SELECT string_agg(new_values::jsonb ->> 'name', ', ') FROM womgr.audit_entry WHERE tenant_id = :t AND seq > :pending),
          'Lakeview Hotel & Spa', 'a rolled-back change leaves no entry: the kept one follows directly on the previous entry');
SELECT results_eq(format('SELECT * FROM womgr.audit_verify(%s)', :t),
                  format('VALUES (true, %s::bigint, NULL::bigint, NULL::text)', :n), 'the intact chain verifies');
SELECT results_eq(format('SELECT ok, entries_checked FROM womgr.audit_verify(%s, 3, 5)', :t),
                  'VALUES (true, 3::bigint)', 'a range verifies from the entry before it');

-- capture can be switched off by a superuser only (to restore a dump with its log)
SET LOCAL womgr.audit_capture = off;
UPDATE womgr.customer SET name = 'Lakeview' WHERE tenant_id = :t AND customer_id = :c;
SELECT is((SELECT count(*)::int FROM womgr.audit_pending WHERE tenant_id = :t), 0, 'womgr.audit_capture = off records nothing');
SET LOCAL womgr.audit_capture = on;
CREATE ROLE womgr_audit_test_user;
GRANT USAGE ON SCHEMA womgr TO womgr_audit_test_user;
SET LOCAL ROLE womgr_audit_test_user;
SELECT throws_ok('SET womgr.audit_capture = off', '42501', NULL, 'only a superuser may switch capture off');
SELECT throws_ok($$SET womgr.audit_key_file = 'k'$$, '42501', NULL, 'only a superuser may name the key file');
SELECT throws_ok('SELECT count(*) FROM womgr.audit_entry', '42501', NULL, 'users get nothing on the audit tables');
RESET ROLE;

-- signed checkpoints
DELETE FROM womgr.audit_signing_key;
SELECT throws_ok(format('SELECT womgr.audit_checkpoint(%s)', :t), '55000', 'there is no audit signing key',
                 'a checkpoint needs a key');
SELECT throws_ok('SELECT womgr.audit_public_key()', '55000', 'there is no audit signing key', 'so does the public key');
SELECT womgr.audit_generate_key() AS pk \gset
SELECT is(length(:'pk'::bytea), 32, 'audit_generate_key returns a 32-byte Ed25519 public key');
SELECT is(womgr.audit_public_key(), :'pk'::bytea, 'audit_public_key returns it');
SELECT womgr.audit_checkpoint(:t) AS cp \gset
SELECT matches(:'cp'::text, format(E'^womgr audit checkpoint v1\ntenant %s\nseq %s\nhead [0-9a-f]{64}\ntime \\d{4}-\\d\\d-\\d\\dT[0-9:.]+\\+00:00\nkey %s\nsignature [0-9a-f]{128}\n$',
                             :t, :n, encode(:'pk'::bytea, 'hex')), 'a checkpoint states tenant, seq, head, time and key, signed');
SELECT ok(position(encode(head_hash, 'hex') IN :'cp') > 0 AND head_hash = (SELECT chain_hash FROM womgr.audit_chain_head WHERE tenant_id = :t),
          'it states the chain head and is kept in audit_checkpoint')
  FROM womgr.audit_checkpoint WHERE tenant_id = :t;
SELECT ok(position(encode((SELECT secret_key FROM womgr.audit_signing_key WHERE retired_at IS NULL), 'hex') IN :'cp') = 0,
          'the secret key appears nowhere in it');
UPDATE womgr.site SET name = 'Main block, east wing' WHERE tenant_id = :t AND site_id = :s;
SELECT womgr.audit_checkpoint(:t) AS cp_now \gset
SELECT is(split_part(:'cp_now', E'\n', 3), 'seq ' || :n + 1, 'a checkpoint covers what its own call sealed');
SELECT :n + 1 AS n, :'cp_now' AS cp \gset
SELECT results_eq(format('SELECT * FROM womgr.audit_verify_checkpoint(%L, %L)', :'cp', :'pk'),
                  format('VALUES (true, %s::bigint, NULL::bigint, NULL::text)', :n), 'the checkpoint verifies against the chain');
SELECT womgr.audit_generate_key() AS pk2 \gset
SELECT is((SELECT count(*)::int FROM womgr.audit_signing_key WHERE retired_at IS NULL), 1, 'a new key retires the old one');
SELECT is((SELECT ok::text || ': ' || problem FROM womgr.audit_verify_checkpoint(:'cp', :'pk2')),
          'false: the checkpoint names another signing key (' || encode(:'pk'::bytea, 'hex') || ')',
          'a checkpoint is checked against the key the auditor trusts');
SELECT is((SELECT ok::text || ': ' || problem FROM womgr.audit_verify_checkpoint(replace(:'cp', E'seq ' || :n || E'\n', E'seq 1\n'), :'pk')),
          'false: the checkpoint''s signature does not verify: the statement was altered or not signed with this key',
          'an altered statement does not verify');
SELECT results_eq(format('SELECT ok FROM womgr.audit_verify(%s)', :t), 'VALUES (true)',
                  'old checkpoints still verify under their own key');

-- attacks, each made by a superuser who switches the guards off, each found at the right entry
ALTER TABLE womgr.audit_entry DISABLE TRIGGER audit_append_only;
ALTER TABLE womgr.audit_chain_head DISABLE TRIGGER audit_append_only;
ALTER TABLE womgr.audit_checkpoint DISABLE TRIGGER audit_append_only;
CREATE FUNCTION pg_temp.verdict(p_tenant bigint) RETURNS text LANGUAGE sql AS $$
    SELECT ok || ' ' || coalesce(first_bad_seq::text, '-') || ' ' || coalesce(problem, '') FROM womgr.audit_verify(p_tenant)
$$;

SAVEPOINT attack;
UPDATE womgr.audit_entry SET actor = 'nobody' WHERE tenant_id = :t AND seq = 5;
SELECT is(pg_temp.verdict(:t), 'false 5 entry 5: its content does not match its leaf hash', 'a changed payload');
ROLLBACK TO SAVEPOINT attack;

UPDATE womgr.audit_entry SET leaf_hash = sha256(leaf_hash) WHERE tenant_id = :t AND seq = 4;
SELECT is(pg_temp.verdict(:t), 'false 4 entry 4: its content does not match its leaf hash', 'a changed leaf hash');
ROLLBACK TO SAVEPOINT attack;

UPDATE womgr.audit_entry SET chain_hash = sha256(chain_hash) WHERE tenant_id = :t AND seq = 6;
SELECT is(pg_temp.verdict(:t), 'false 6 entry 6: its chain hash does not follow from entry 5', 'a changed chain hash');
ROLLBACK TO SAVEPOINT attack;

DELETE FROM womgr.audit_entry WHERE tenant_id = :t AND seq = 4;
SELECT is(pg_temp.verdict(:t), 'false 4 entry 4 is missing', 'a deleted entry in the middle');
ROLLBACK TO SAVEPOINT attack;

-- the tail removed and the head moved back: only the checkpoint knows
DELETE FROM womgr.audit_entry WHERE tenant_id = :t AND seq >= :n - 1;
UPDATE womgr.audit_chain_head h SET seq = e.seq, chain_hash = e.chain_hash
  FROM womgr.audit_entry e WHERE h.tenant_id = :t AND e.tenant_id = :t AND e.seq = :n - 2;
SELECT alike(pg_temp.verdict(:t), format('false %s entries %s to %s are missing: the checkpoint signed at %% covers them', :n - 1, :n - 1, :n),
            'deleted entries at the tail, against the stored checkpoint');
SELECT is((SELECT first_bad_seq FROM womgr.audit_verify_checkpoint(:'cp', :'pk')), :n - 1::bigint,
          '... and against the published one');
ROLLBACK TO SAVEPOINT attack;

DELETE FROM womgr.audit_entry WHERE tenant_id = :t AND seq = :n;
SELECT is(pg_temp.verdict(:t), format('false %s entries %s to %s are missing: the checkpoint signed at %s covers them',
                                      :n, :n, :n, (SELECT substr(split_part(:'cp', E'\n', 5), 6))),
          'a deleted last entry');
ROLLBACK TO SAVEPOINT attack;

UPDATE womgr.audit_entry SET seq = seq + 1000000 WHERE tenant_id = :t AND seq IN (2, 3);
UPDATE womgr.audit_entry SET seq = CASE seq WHEN 1000002 THEN 3 ELSE 2 END WHERE tenant_id = :t AND seq > 1000000;
SELECT is(pg_temp.verdict(:t), 'false 2 entry 2: its chain hash does not follow from entry 1', 'two entries swapped');
ROLLBACK TO SAVEPOINT attack;

-- a forged entry inserted in the middle, the rest renumbered
UPDATE womgr.audit_entry SET seq = seq + 1000000 WHERE tenant_id = :t AND seq >= 3;
UPDATE womgr.audit_entry SET seq = seq - 1000000 + 1 WHERE tenant_id = :t AND seq > 1000000;
INSERT INTO womgr.audit_entry SELECT tenant_id, 3, entry_id + 1000000, table_name, operation, work_order_id, primary_key,
       old_values, new_values, 'forger', db_role, app_role, client_ip, txid, captured_at, leaf_hash, chain_hash, sealed_at
  FROM womgr.audit_entry WHERE tenant_id = :t AND seq = 2;
SELECT is(pg_temp.verdict(:t), 'false 3 entry 3: its content does not match its leaf hash', 'a forged entry inserted');
ROLLBACK TO SAVEPOINT attack;

-- a forged entry appended after the head
INSERT INTO womgr.audit_entry SELECT tenant_id, seq + 1, entry_id + 1000000, table_name, operation, work_order_id, primary_key,
       old_values, new_values, actor, db_role, app_role, client_ip, txid, captured_at, leaf_hash, chain_hash, sealed_at
  FROM womgr.audit_entry WHERE tenant_id = :t AND seq = :n;
SELECT is(pg_temp.verdict(:t), format('false %s entry %s: its content does not match its leaf hash', :n + 1, :n + 1),
          'a forged entry appended');
ROLLBACK TO SAVEPOINT attack;

-- a forged stored checkpoint
INSERT INTO womgr.audit_checkpoint (tenant_id, seq, head_hash, signed_at, public_key, statement)
SELECT tenant_id, seq, head_hash, signed_at, public_key, replace(statement, 'seq ' || seq, 'seq ' || (seq - 2))
  FROM womgr.audit_checkpoint WHERE tenant_id = :t ORDER BY checkpoint_id DESC LIMIT 1;
SELECT is(pg_temp.verdict(:t), format('false %s the checkpoint stored for entry %s is not validly signed', :n - 2, :n - 2),
          'a forged stored checkpoint');
ROLLBACK TO SAVEPOINT attack;

-- truncate and reseal: the whole log deleted, a new one sealed from scratch
DELETE FROM womgr.audit_entry WHERE tenant_id = :t;
DELETE FROM womgr.audit_chain_head WHERE tenant_id = :t;
DO $$
DECLARE
    v_tenant bigint := (SELECT tenant_id FROM womgr.tenant WHERE code = 'audit-test');
BEGIN
    FOR i IN 1..(SELECT max(seq) + 5 FROM womgr.audit_checkpoint WHERE tenant_id = v_tenant) LOOP
        UPDATE womgr.customer SET name = 'Forged ' || i WHERE tenant_id = v_tenant;
    END LOOP;
END $$;
SELECT ok(womgr.audit_seal(:t) >= :n, 'a forger reseals a new chain at least as long');
SELECT alike(pg_temp.verdict(:t), 'false 1 entries 1 to % differ from the checkpoint signed at %: that part of the history was rewritten',
             'truncate and reseal, against the stored checkpoint');
DELETE FROM womgr.audit_checkpoint WHERE tenant_id = :t;
SELECT is(pg_temp.verdict(:t), 'true - ', 'with the stored checkpoints deleted too, the database alone cannot tell');
SELECT is((SELECT ok::text || ' ' || first_bad_seq FROM womgr.audit_verify_checkpoint(:'cp', :'pk')), 'false 1',
          'but the published checkpoint can');
ROLLBACK TO SAVEPOINT attack;
SELECT is(pg_temp.verdict(:t), 'true - ', 'the untouched chain still verifies');

-- bad input
SELECT throws_ok('SELECT * FROM womgr.audit_verify(NULL)', '22004', 'tenant must not be null', 'audit_verify: NULL tenant');
SELECT throws_ok('SELECT * FROM womgr.audit_verify(999999999)', '23503', 'tenant 999999999 does not exist', 'audit_verify: unknown tenant');
SELECT throws_ok(format('SELECT * FROM womgr.audit_verify(%s, 0)', :t), '22023', 'p_from_seq must be at least 1, not 0',
                 'audit_verify: seq 0');
SELECT throws_ok(format('SELECT * FROM womgr.audit_verify(%s, 5, 4)', :t), '22023', 'p_to_seq 4 is before p_from_seq 5',
                 'audit_verify: empty range');
SELECT throws_ok('SELECT womgr.audit_seal(999999999)', '23503', 'tenant 999999999 does not exist', 'audit_seal: unknown tenant');
SELECT throws_ok('SELECT womgr.audit_checkpoint(NULL)', '22004', 'tenant must not be null', 'audit_checkpoint: NULL tenant');
SELECT throws_ok('SELECT * FROM womgr.audit_export(NULL)', '22004', 'tenant must not be null', 'audit_export: NULL tenant');
SELECT throws_ok(format('SELECT * FROM womgr.audit_export(%s, -1)', :t), '22023', 'p_from_seq must be at least 1, not -1',
                 'audit_export: bad seq');
SELECT throws_ok(format('SELECT * FROM womgr.audit_verify_checkpoint(NULL, %L)', :'pk'), '22004',
                 'checkpoint and public key must not be null', 'audit_verify_checkpoint: NULL statement');
SELECT throws_ok(format('SELECT * FROM womgr.audit_verify_checkpoint(%L, %L)', :'cp', '\x0102'), '22023',
                 'public key must be 32 bytes, not 2', 'audit_verify_checkpoint: short key');
SELECT throws_ok(format('SELECT * FROM womgr.audit_verify_checkpoint(%L, %L)', 'hello', :'pk'), '22P02',
                 'not a womgr audit checkpoint', 'audit_verify_checkpoint: not a checkpoint');
SELECT throws_ok(format('SELECT * FROM womgr.audit_verify_checkpoint(%L, %L)', replace(:'cp', 'head ', 'head zz'), :'pk'), '22P02',
                 'not a womgr audit checkpoint', 'audit_verify_checkpoint: damaged head');

-- export: one row per entry, hashes as stored, the entry's canonical bytes
SELECT is((SELECT count(*)::int FROM womgr.audit_export(:t)), :n, 'audit_export has a row per sealed entry');
SELECT ok((SELECT bool_and(x.leaf_hash = encode(e.leaf_hash, 'hex') AND x.chain_hash = encode(e.chain_hash, 'hex')
                           AND sha256(decode(x.entry, 'hex')) IS NOT NULL AND left(x.entry, 8) = '574d4101')
             FROM womgr.audit_export(:t) x JOIN womgr.audit_entry e ON e.tenant_id = x.tenant_id AND e.seq = x.seq),
          'with the stored hashes and the entry encoded as "WMA" version 1');
SELECT is((SELECT string_agg(seq::text, ',') FROM womgr.audit_export(:t, 2, 3)), '2,3', 'a range of the chain');

-- the key in a file named by a superuser-only setting
SELECT set_config('womgr.audit_key_file', 'womgr_audit_test_' || txid_current() || '.key', true) IS NOT NULL AS set \gset
SELECT womgr.audit_generate_key() AS pk3 \gset
SELECT is((SELECT (secret_key IS NULL)::text || ' ' || key_file FROM womgr.audit_signing_key WHERE retired_at IS NULL),
          'true ' || current_setting('womgr.audit_key_file'), 'with womgr.audit_key_file the secret key is only in the file');
SELECT is((SELECT ok FROM womgr.audit_verify_checkpoint(womgr.audit_checkpoint(:t), :'pk3')), true,
          'checkpoints are signed with the key from the file');
SELECT throws_ok('SELECT womgr.audit_generate_key()', '42710', NULL, 'an existing key file is never overwritten');
SELECT set_config('womgr.audit_key_file', 'no/such/dir/k.key', true) IS NOT NULL AS set \gset
SELECT throws_ok('SELECT womgr.audit_generate_key()', '58P01', NULL, 'a key file that cannot be created');

-- one call seals batch after batch (5,000 entries each)
INSERT INTO womgr.skill (tenant_id, code, name) SELECT :t, 'bulk_' || g, 'Bulk ' || g FROM generate_series(1, 12000) g;
SELECT is(womgr.audit_seal(:t), 12000::bigint, 'one call seals 12,000 entries, batch after batch');
SELECT results_eq(format('SELECT ok, entries_checked, first_bad_seq FROM womgr.audit_verify(%s)', :t),
                  format('VALUES (true, %s::bigint, NULL::bigint)', :n + 12000), 'and the chain they extend verifies');

-- the background sealer: one per database, started and stopped on demand
SELECT womgr.audit_start_sealer() AS sealer \gset
SELECT pg_stat_clear_snapshot() IS NULL AS cleared \gset
SELECT is((SELECT backend_type FROM pg_stat_activity WHERE pid = :sealer), 'womgr audit sealer',
          'audit_start_sealer starts the background sealer and returns its pid');
SELECT is(womgr.audit_start_sealer(), :sealer, 'starting it again returns the running one');
SELECT is(womgr.audit_stop_sealer(), true, 'audit_stop_sealer stops it');
SELECT pg_stat_clear_snapshot() IS NULL AS cleared \gset
SELECT is((SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'womgr audit sealer' AND datname = current_database()),
          0, '... and waits until it has exited');
SELECT is(womgr.audit_stop_sealer(), false, 'stopping it again finds none');

SELECT * FROM finish();
ROLLBACK;
