-- work_order: intake through womgr.create_work_order and plain SQL: numbers,
-- idempotency, branch and priority resolution, events with who acted,
-- version bumps and imports.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "wo-test", "name": "Jua Solar Ltd", "work_order_prefix": "JS"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi", "location": {"lat": -1.2921, "lon": 36.8219}}') AS nbo \gset
SELECT womgr.create_branch(:t, '{"code": "MSA", "name": "Mombasa"}') AS msa \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Acme Ltd', 'branch_id', :nbo)) AS c1 \gset
SELECT womgr.create_customer(:t, '{"name": "No Branch Ltd"}') AS c2 \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c1, 'name', 'Acme HQ')) AS s_hq \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c1, 'name', 'Acme Nyali', 'branch_id', :msa)) AS s_nyali \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c2, 'name', 'Plot 7')) AS s_plot \gset
SELECT womgr.create_asset(:t, jsonb_build_object('site_id', :s_hq, 'name', 'Inverter', 'serial_number', 'INV-1')) AS a1 \gset

-- numbers: prefix, branch code, year in the branch's time zone, counter per branch and year
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'repair',
                                                       'description', 'Inverter beeps')) AS wo1 \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'inspection',
                                                       'description', 'Yearly check', 'asset_id', :a1)) AS wo2 \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_nyali, 'type', 'repair',
                                                       'description', 'Pump')) AS wo3 \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c2, 'site_id', :s_plot, 'type', 'repair',
                                                       'description', 'No branch anywhere')) AS wo4 \gset
SELECT to_char(now() AT TIME ZONE 'Africa/Nairobi', 'YYYY') AS yr \gset
SELECT is((SELECT number FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo1), 'JS-NBO-' || :'yr' || '-000001',
          'the first work order of a branch and year is number 1');
SELECT is((SELECT number FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo2), 'JS-NBO-' || :'yr' || '-000002',
          'the next one counts on');
SELECT is((SELECT number FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo3), 'JS-MSA-' || :'yr' || '-000001',
          'each branch counts on its own');
SELECT is((SELECT number FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo4), 'JS-' || :'yr' || '-000001',
          'without a branch the number has no branch code');
-- within a transaction the counter row is written back at commit (a deferred
-- trigger); SET CONSTRAINTS ... IMMEDIATE writes it back now
SELECT is((SELECT last_value FROM womgr.tenant_counter WHERE tenant_id = :t AND counter_name = 'JS-NBO-' || :'yr'), 1::bigint,
          'before commit the counter row holds the first number this transaction took');
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT is((SELECT last_value FROM womgr.tenant_counter WHERE tenant_id = :t AND counter_name = 'JS-NBO-' || :'yr'), 2::bigint,
          'written back, the counter row holds the last number given');

-- branch resolution: the site's branch, else the customer's
SELECT is((SELECT branch_id FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo1), :nbo::bigint,
          'a site without a branch uses the customer''s branch');
SELECT is((SELECT branch_id FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo3), :msa::bigint,
          'a site''s own branch wins');
SELECT is((SELECT branch_id FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo4), NULL,
          'no branch when neither has one');
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'repair',
                                                       'description', 'Routed to the coast', 'branch_id', :msa)) AS wo5 \gset
SELECT is((SELECT branch_id FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo5), :msa::bigint,
          'the spec''s branch wins over both');

-- priority: the type's default, or the one named
SELECT is((SELECT p.code FROM womgr.work_order w JOIN womgr.priority p USING (tenant_id, priority_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :wo1), 'high', 'repair defaults to high priority');
SELECT is((SELECT p.code FROM womgr.work_order w JOIN womgr.priority p USING (tenant_id, priority_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :wo2), 'low', 'inspection defaults to low priority');
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'inspection',
                                                       'priority', 'emergency', 'description', 'Smoke',
                                                       'requested_window', jsonb_build_array('2026-11-24 08:00+03', '2026-11-24 12:00+03'),
                                                       'restricted', true, 'source', 'portal')) AS wo6 \gset
SELECT is((SELECT p.code FROM womgr.work_order w JOIN womgr.priority p USING (tenant_id, priority_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :wo6), 'emergency', 'a named priority wins');
SELECT is((SELECT requested_window FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo6),
          tstzrange('2026-11-24 05:00+00', '2026-11-24 09:00+00', '[)'), 'the requested window is stored as [from, to)');
SELECT is((SELECT (restricted, source, status, category::text, version)
             FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo6),
          (true, 'portal'::text, 'new'::text, 'new'::text, 1), 'restricted, source, status, category and version');
SELECT is((SELECT asset_id FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo2), :a1::bigint, 'the asset is linked');
SELECT is((SELECT source FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo1), 'manual', 'source defaults to manual');
SELECT is(womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1::text, 'site_id', :s_hq::text, 'type', 'repair',
                                                         'description', 'ids as strings from JavaScript')) > 0, true,
          'ids may be sent as numeric strings');

-- idempotent intake
SELECT count(*) AS n_before FROM womgr.work_order WHERE tenant_id = :t \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'repair',
                                                       'description', 'From the CRM', 'source', 'crm', 'external_ref', 'CASE-42')) AS wo_crm \gset
SELECT is(womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'repair',
                                                         'description', 'From the CRM', 'source', 'crm', 'external_ref', 'CASE-42')),
          :wo_crm::bigint, 'the same (source, external_ref) returns the same work order');
SELECT is(womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'repair',
                                                         'description', 'Resent with other text', 'source', 'crm', 'external_ref', 'CASE-42')),
          :wo_crm::bigint, 'a resend with other text still returns it and changes nothing');
SELECT is((SELECT count(*) FROM womgr.work_order WHERE tenant_id = :t), :n_before + 1::bigint, 'only one work order was created');
SELECT is((SELECT description FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo_crm), 'From the CRM',
          'the first version is kept');
SELECT isnt(womgr.create_work_order(:t, jsonb_build_object('customer_id', :c1, 'site_id', :s_hq, 'type', 'repair',
                                                           'description', 'Same ref, other channel', 'source', 'email', 'external_ref', 'CASE-42')),
            :wo_crm::bigint, 'the same external_ref from another source is another work order');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :wo_crm), 1,
          'the resends wrote no events');

-- events: who acted, from set_context, else the database role
SELECT is((SELECT array_agg(concat_ws('|', event_type, coalesce(from_status, '-'), to_status, actor, db_role))
             FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :wo1),
          ARRAY['created|-|new|' || current_user || '|' || current_user],
          'creation writes a created event; without context the database role acts');
SELECT womgr.set_context(:t, 'amina.dispatcher', '10.1.2.3') \gset
SELECT is(womgr.current_actor(), 'amina.dispatcher', 'current_actor() returns the context''s actor');
SELECT is(womgr.current_tenant_id(), :t::bigint, 'current_tenant_id() returns the context''s tenant');
SELECT is(womgr.current_client_ip(), '10.1.2.3'::inet, 'current_client_ip() returns the context''s address');
-- the standard workflow schedules only work with a lead technician
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Otieno Ouma', 'home_branch_id', :nbo)) AS tech \gset
INSERT INTO womgr.assignment (tenant_id, work_order_id, role, technician_id, assigned_by) VALUES (:t, :wo1, 'lead', :tech, 'test');
UPDATE womgr.work_order SET status = 'scheduled' WHERE tenant_id = :t AND work_order_id = :wo1;
SELECT results_eq(
    format($$SELECT event_type, from_status, to_status, actor, client_ip, details FROM womgr.work_order_event
              WHERE tenant_id = %s AND work_order_id = %s AND event_type <> 'created'$$, :t, :wo1),
    $$VALUES ('status_changed'::text, 'new'::text, 'scheduled'::text, 'amina.dispatcher'::text, '10.1.2.3'::inet,
              '{"changed": ["status", "category"], "from_category": "new", "to_category": "scheduled"}'::jsonb)$$,
    'a status change writes an event with the context''s actor and address');
SELECT is((SELECT (category::text, version) FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo1),
          ('scheduled'::text, 2), 'the category follows the status and the version is bumped');
UPDATE womgr.work_order SET description = 'Inverter beeps twice' WHERE tenant_id = :t AND work_order_id = :wo1;
SELECT is((SELECT details FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :wo1 AND event_type = 'updated'),
          '{"changed": ["description"]}'::jsonb, 'other changes write an updated event naming the columns');
UPDATE womgr.work_order SET description = description WHERE tenant_id = :t AND work_order_id = :wo1;
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :wo1), 3,
          'an update that changes nothing writes no event');
SELECT is((SELECT version FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo1), 4,
          'but every update bumps the version');
SELECT ok((SELECT updated_at = now() FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo1),
          'updated_at is the time of the change');
SELECT is((SELECT created_by FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo6), current_user::text,
          'created_by records who created it');

-- plain SQL gets the same treatment
INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
SELECT :t, :c1, :s_nyali, ty.work_order_type_id, ty.default_priority_id, 'Typed in psql'
  FROM womgr.work_order_type ty WHERE ty.tenant_id = :t AND ty.code = 'repair'
RETURNING work_order_id AS wo_sql \gset
SELECT is((SELECT (number, branch_id, created_by) FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo_sql),
          ('JS-MSA-' || :'yr' || '-000003', :msa::bigint, 'amina.dispatcher'::text),
          'a plain INSERT is numbered after the two Mombasa ones, gets its branch and records the actor');
SELECT is((SELECT event_type FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :wo_sql), 'created',
          'and gets its created event');

-- imports: a row created in the past keeps the number and history it brings
INSERT INTO womgr.work_order (tenant_id, number, customer_id, site_id, work_order_type_id, priority_id, description,
                              status, created_at, created_by, version)
SELECT :t, 'OLD-0001', :c1, :s_hq, ty.work_order_type_id, ty.default_priority_id, 'From the old system',
       'closed', '2024-03-01 10:00+03', 'legacy', 7
  FROM womgr.work_order_type ty WHERE ty.tenant_id = :t AND ty.code = 'repair'
RETURNING work_order_id AS wo_old \gset
SELECT is((SELECT (number, created_by, version, category::text, branch_id) FROM womgr.work_order
            WHERE tenant_id = :t AND work_order_id = :wo_old),
          ('OLD-0001'::text, 'legacy'::text, 7, 'closed'::text, NULL::bigint), 'an import keeps its number, author and version');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :wo_old), 0,
          'and no created event is invented for it');

-- bulk intake: one statement numbers every row, contiguously, and the counter ends at the last
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT last_value AS nbo_before FROM womgr.tenant_counter WHERE tenant_id = :t AND counter_name = 'JS-NBO-' || :'yr' \gset
INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
SELECT :t, :c1, :s_hq, ty.work_order_type_id, ty.default_priority_id, 'Bulk job ' || i
  FROM womgr.work_order_type ty, generate_series(1, 500) i WHERE ty.tenant_id = :t AND ty.code = 'repair';
SELECT is((SELECT array_agg(number ORDER BY number) FROM womgr.work_order WHERE tenant_id = :t AND description LIKE 'Bulk job %'),
          (SELECT array_agg(format('JS-NBO-%s-%s', :'yr', lpad(n::text, 6, '0')) ORDER BY n)
             FROM generate_series(:nbo_before + 1, :nbo_before + 500) n),
          'a 500-row INSERT gets 500 contiguous numbers');
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT is((SELECT last_value FROM womgr.tenant_counter WHERE tenant_id = :t AND counter_name = 'JS-NBO-' || :'yr'),
          :nbo_before + 500::bigint, 'and the counter row ends at the last one');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND event_type = 'created'
             AND work_order_id IN (SELECT work_order_id FROM womgr.work_order WHERE tenant_id = :t AND description LIKE 'Bulk job %')),
          500, 'each bulk row has its created event');
-- a rolled-back savepoint gives its numbers up without breaking the next ones
SAVEPOINT before_rollback;
INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
SELECT :t, :c1, :s_hq, ty.work_order_type_id, ty.default_priority_id, 'Rolled back ' || i
  FROM womgr.work_order_type ty, generate_series(1, 3) i WHERE ty.tenant_id = :t AND ty.code = 'repair';
ROLLBACK TO SAVEPOINT before_rollback;
SELECT lives_ok(format($$INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
                          SELECT %s, %s, %s, ty.work_order_type_id, ty.default_priority_id, 'After rollback ' || i
                            FROM womgr.work_order_type ty, generate_series(1, 3) i WHERE ty.tenant_id = %s AND ty.code = 'repair'$$,
                       :t, :c1, :s_hq, :t),
                'inserting again after a rolled-back savepoint works');
SELECT is((SELECT count(DISTINCT number)::int FROM womgr.work_order WHERE tenant_id = :t),
          (SELECT count(*)::int FROM womgr.work_order WHERE tenant_id = :t), 'no number was given twice');
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT ok((SELECT last_value FROM womgr.tenant_counter WHERE tenant_id = :t AND counter_name = 'JS-NBO-' || :'yr')
          >= (SELECT max(substring(number FROM '\d+$')::bigint) FROM womgr.work_order
               WHERE tenant_id = :t AND number LIKE 'JS-NBO-%'),
          'the counter is never behind the numbers given');

-- a write-back undone with a savepoint is done again: numbers given before
-- the savepoint are never left above the counter
INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
SELECT :t, :c1, :s_hq, ty.work_order_type_id, ty.default_priority_id, 'Before savepoint ' || i
  FROM womgr.work_order_type ty, generate_series(1, 4) i WHERE ty.tenant_id = :t AND ty.code = 'repair';
SAVEPOINT undone_write_back;
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
ROLLBACK TO SAVEPOINT undone_write_back;
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT is((SELECT last_value FROM womgr.tenant_counter WHERE tenant_id = :t AND counter_name = 'JS-NBO-' || :'yr'),
          (SELECT max(substring(number FROM '\d+$')::bigint) FROM womgr.work_order
            WHERE tenant_id = :t AND number LIKE 'JS-NBO-%'),
          'after a write-back undone by ROLLBACK TO SAVEPOINT the counter is written back again');
INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
SELECT :t, :c1, :s_hq, ty.work_order_type_id, ty.default_priority_id, 'After undone write-back'
  FROM womgr.work_order_type ty WHERE ty.tenant_id = :t AND ty.code = 'repair';
SELECT is((SELECT count(DISTINCT number)::int FROM womgr.work_order WHERE tenant_id = :t),
          (SELECT count(*)::int FROM womgr.work_order WHERE tenant_id = :t), 'and the next number is new');

-- a work order can only reference rows of its own tenant (composite keys)
SELECT throws_ok(format($$INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
                           SELECT %s, %s, %s, work_order_type_id, default_priority_id, 'x'
                             FROM womgr.work_order_type WHERE tenant_id = %s AND code = 'repair'$$,
                        womgr.default_tenant_id(), :c1, :s_hq, womgr.default_tenant_id()),
                 '23503', NULL, 'a plain INSERT cannot borrow another tenant''s customer');
SELECT throws_ok(format($$INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
                           SELECT %s, %s, %s, work_order_type_id, default_priority_id, 'x'
                             FROM womgr.work_order_type WHERE tenant_id = %s AND code = 'repair'$$,
                        :t, :c2, :s_hq, :t),
                 '23503', NULL, 'nor a site of another customer');

SELECT * FROM finish();
ROLLBACK;
