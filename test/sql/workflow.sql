-- workflow: the transition trigger and womgr.transition: allowed moves,
-- roles, every guard, versions, bulk updates and updates from other
-- triggers, custom workflows, reclassification and templates.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

-- SQLSTATE, message and detail of a statement's error, or 'no error' (the statement's effects are kept)
CREATE FUNCTION pg_temp.err(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_msg text;
    v_detail text;
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
    RETURN v_state || ': ' || v_msg || coalesce(' | ' || nullif(v_detail, ''), '');
END
$$;

-- whether a statement would succeed; its effects are always undone
CREATE FUNCTION pg_temp.would_work(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_msg text;
BEGIN
    EXECUTE p_sql;
    RAISE EXCEPTION USING ERRCODE = 'ZZ999', MESSAGE = 'undo';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT;
    RETURN CASE WHEN SQLSTATE = 'ZZ999' THEN 'works' ELSE SQLSTATE || ': ' || v_msg END;
END
$$;

SELECT womgr.create_tenant('{"code": "wf-test", "name": "Baridi Cooling Ltd", "work_order_prefix": "BC"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS nbo \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Sarit Centre', 'branch_id', :nbo)) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Sarit roof',
                                                'location', jsonb_build_object('lat', -1.2610, 'lon', 36.8025))) AS s \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Otieno Ouma', 'home_branch_id', :nbo, 'login', 'otieno')) AS tech1 \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Wanjiru Kamau', 'home_branch_id', :nbo, 'login', 'wanjiru')) AS tech2 \gset
CREATE FUNCTION pg_temp.wo(p_description text, p_type text DEFAULT 'repair') RETURNS bigint LANGUAGE sql AS $$
    SELECT womgr.create_work_order((SELECT tenant_id FROM womgr.tenant WHERE code = 'wf-test'),
        jsonb_build_object('customer_id', (SELECT customer_id FROM womgr.customer c JOIN womgr.tenant t USING (tenant_id) WHERE t.code = 'wf-test'),
                           'site_id', (SELECT site_id FROM womgr.site s JOIN womgr.tenant t USING (tenant_id) WHERE t.code = 'wf-test'),
                           'type', p_type, 'description', p_description))
$$;

-- a new work order starts in the initial status of its type's workflow
SELECT pg_temp.wo('AC unit 3 leaking') AS w1 \gset
SELECT is((SELECT (w.status, w.category::text, wf.code) FROM womgr.work_order w JOIN womgr.workflow wf USING (tenant_id, workflow_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :w1),
          ('new'::text, 'new'::text, 'standard'::text), 'a new work order starts in "new" of the standard workflow');
SELECT is(pg_temp.err(format($$INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description, status)
                                SELECT %s, %s, %s, work_order_type_id, default_priority_id, 'Skips intake', 'in_progress'
                                  FROM womgr.work_order_type WHERE tenant_id = %s AND code = 'repair'$$, :t, :c, :s, :t)),
          'WM001: a new work order cannot start in status "in_progress" | Work orders of type "repair" start in status "new" of workflow '
              || (SELECT workflow_id FROM womgr.workflow WHERE tenant_id = :t AND code = 'standard') || '.',
          'a plain INSERT cannot start a work order past the initial status');

-- the happy path, through womgr.transition
SELECT womgr.set_context(:t, 'amina.dispatcher', '10.0.0.7', 'dispatcher') \gset
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'scheduled')),
          'WM002: work order BC-NBO-' || to_char(now() AT TIME ZONE 'Africa/Nairobi', 'YYYY')
              || '-000001 cannot move from "new" to "scheduled" yet | Missing: a lead technician must be assigned (womgr.assign).',
          'scheduling needs a lead technician: WM002 names what is missing');
SELECT womgr.assign(:t, :w1, :tech1) AS a1 \gset
SELECT is(womgr.transition(:t, :w1, 'scheduled', 'booked for Monday'), 2,
          'with a lead it is scheduled; transition returns the new version');
SELECT is((SELECT (status, category::text, version, status_changed_at = now()) FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w1),
          ('scheduled'::text, 'scheduled'::text, 2, true), 'status, category, version and status_changed_at follow');
SELECT is((SELECT concat_ws('|', from_status, to_status, actor, db_role, client_ip, details ->> 'note', details ->> 'to_category')
             FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w1 AND event_type = 'status_changed'),
          concat_ws('|', 'new', 'scheduled', 'amina.dispatcher', current_user, '10.0.0.7', 'booked for Monday', 'scheduled'),
          'the event records both statuses, who, from where, the note and the category');
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L, NULL, 1)', :t, :w1, 'en_route')),
          'WM003: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)
              || ' was changed by someone else | You expected version 1; it is now at version 2, in status "scheduled".',
          'a stale expected version is a conflict (WM003) and changes nothing');
SELECT is(womgr.transition(:t, :w1, 'en_route', NULL, 2), 3, 'the current expected version passes');
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'en_route')),
          'WM001: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)
              || ' is already in status "en_route" | It is at version 3; no transition was made.',
          'moving to the status it is in is refused');

-- moves the workflow does not have
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'closed')),
          'WM001: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)
              || ' cannot move from "en_route" to "closed" | Its workflow has no transition from "en_route" to "closed"; from "en_route" it allows: "cancelled", "in_progress", "scheduled".',
          'a move the workflow lacks is WM001, listing the allowed next statuses');
SELECT throws_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND work_order_id = %s', 'closed', :t, :w1),
                 'WM001', NULL, 'a plain UPDATE is checked the same way');
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'done')),
          '22023: status "done" does not exist in the workflow of work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)
              || ' | Work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1) || ' follows workflow '
              || (SELECT workflow_id FROM womgr.workflow WHERE tenant_id = :t AND code = 'standard') || ', which has no status "done".',
          'an unknown status is 22023');
SELECT throws_ok(format('UPDATE womgr.work_order SET category = %L WHERE tenant_id = %s AND work_order_id = %s', 'completed', :t, :w1),
                 '55000', 'the category of a work order follows its status', 'the category cannot be set on its own');
SELECT throws_ok(format('UPDATE womgr.work_order SET workflow_id = workflow_id + 1 WHERE tenant_id = %s AND work_order_id = %s', :t, :w1),
                 '55000', 'the workflow of a work order follows its type', 'nor the workflow');

-- notes are required where the workflow says so
SELECT womgr.transition(:t, :w1, 'in_progress') \gset
SELECT is(pg_temp.err(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND work_order_id = %s', 'waiting_parts', :t, :w1)),
          'WM002: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)
              || ' cannot move from "in_progress" to "waiting_parts" yet | Missing: a note giving the reason is required (womgr.transition with p_note).',
          'putting work on hold needs a reason');
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w1, 'waiting_parts', 'compressor on order'),
                'with a note it goes on hold');
SELECT is((SELECT (category::text, details ->> 'note') FROM womgr.work_order w JOIN womgr.work_order_event e USING (tenant_id, work_order_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :w1 AND e.to_status = 'waiting_parts'),
          ('on_hold'::text, 'compressor on order'::text), 'waiting_parts is on hold and the event keeps the reason');
SELECT womgr.transition(:t, :w1, 'in_progress') \gset

-- required fields: the standard workflow completes only with a resolution
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'completed')),
          'WM002: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w1)
              || ' cannot move from "in_progress" to "completed" yet | Missing: field "resolution" must be filled.',
          'completion needs a resolution');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w1, '{"resolution": "   "}'), '22023', NULL,
                 'a blank resolution is refused');
SELECT womgr.update_work_order(:t, :w1, '{"resolution": "Replaced the drain pump"}') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'completed'), 'with a resolution it completes');
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w1, 'closed'), 'and is closed');
SELECT results_eq(
    format($$SELECT from_status || '>' || to_status FROM womgr.work_order_event
              WHERE tenant_id = %s AND work_order_id = %s AND event_type = 'status_changed' ORDER BY work_order_event_id$$, :t, :w1),
    $$VALUES ('new>scheduled'), ('scheduled>en_route'), ('en_route>in_progress'), ('in_progress>waiting_parts'),
             ('waiting_parts>in_progress'), ('in_progress>completed'), ('completed>closed')$$,
    'every move left one status_changed event, in order');

-- roles: the acting role must be one the transition allows (admin always may)
SELECT pg_temp.wo('Cold room alarm') AS w2 \gset
SELECT womgr.assign(:t, :w2, :tech2) \gset
SELECT womgr.set_context(:t, 'otieno', NULL, 'technician') \gset
SELECT is(womgr.current_roles(), ARRAY['technician'], 'set_context picks the role the transaction acts in');
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w2, 'scheduled')),
          '42501: acting role may not move work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w2)
              || ' from "new" to "scheduled" | The transition is open to: admin, manager, dispatcher. The transaction acts as: technician.',
          'a technician may not schedule work: 42501 names who may');
SELECT throws_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND work_order_id = %s', 'scheduled', :t, :w2),
                 '42501', NULL, 'nor by a plain UPDATE');
SELECT womgr.set_context(:t, 'root', NULL, 'admin') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w2, 'scheduled'), 'an admin may make any move');
SELECT womgr.set_context(:t, 'otieno', NULL, 'technician') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w2, 'en_route'), 'the technician starts travelling');
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w2, 'cancelled', 'customer fixed it'), 'a dispatcher cancels with a reason');
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w2, 'new', 'reopen'), '42501', NULL,
                 'only a manager reopens cancelled work');
SELECT womgr.set_context(:t, 'amina', NULL, NULL) \gset
SELECT is(womgr.current_roles(), ARRAY['admin', 'manager', 'dispatcher', 'technician', 'accountant', 'auditor', 'customer', 'bi'],
          'without a chosen role a superuser acts in every role');

-- roles of real database users
SELECT array_agg(r) AS created_roles FROM womgr.create_roles() r \gset
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname IN ('womgr_admin', 'womgr_manager', 'womgr_dispatcher', 'womgr_technician',
                                                                'womgr_accountant', 'womgr_auditor', 'womgr_customer', 'womgr_bi')
                                               AND NOT rolcanlogin),
          8, 'create_roles() makes the eight NOLOGIN group roles');
SELECT is((SELECT count(*)::int FROM womgr.create_roles()), 0, 'and a second call creates nothing');
CREATE ROLE wf_tech LOGIN;
CREATE ROLE wf_disp LOGIN;
GRANT womgr_technician TO wf_tech;
GRANT womgr_dispatcher TO wf_disp;
GRANT USAGE ON SCHEMA womgr TO wf_tech, wf_disp;
GRANT ALL ON ALL TABLES IN SCHEMA womgr TO wf_tech, wf_disp;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA womgr TO wf_tech, wf_disp;
SELECT pg_temp.wo('Chiller service') AS w3 \gset
SELECT womgr.assign(:t, :w3, :tech1) \gset
SET LOCAL ROLE wf_tech;
SELECT womgr.set_context(:t, 'otieno') \gset
SELECT is(womgr.current_roles(), ARRAY['technician'], 'a user acts in the womgr roles granted to it');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w3, 'scheduled'), '42501', NULL,
                 'a womgr_technician member may not schedule');
SELECT throws_ok(format('SELECT womgr.set_context(%s, %L, NULL, %L)', :t, 'otieno', 'manager'), '42501',
                 'role "wf_tech" may not act as womgr role "manager"', 'nor choose a role it was not granted');
SET LOCAL womgr.role = 'manager';
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w3, 'scheduled'), '42501',
                 'role "wf_tech" may not act as womgr role "manager"', 'setting womgr.role by hand does not help');
RESET womgr.role;
RESET ROLE;
SET LOCAL ROLE wf_disp;
SELECT womgr.set_context(:t, 'amina') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w3, 'scheduled'), 'a womgr_dispatcher member schedules');
RESET ROLE;
SELECT throws_ok(format('SELECT womgr.set_context(%s, %L, NULL, %L)', :t, 'x', 'boss'), '22023', '"boss" is not a womgr role',
                 'set_context: unknown role');

-- approvals: work quoted at KES 100,000 or more needs the operations manager before it starts
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT pg_temp.wo('Replace rooftop chiller', 'installation') AS w4 \gset
SELECT womgr.assign(:t, :w4, :tech2) \gset
SELECT womgr.update_work_order(:t, :w4, '{"quoted_amount": 99999.99}') \gset
SELECT womgr.transition(:t, :w4, 'scheduled') \gset
SELECT is(pg_temp.would_work(format('SELECT womgr.transition(%s, %s, %L)', :t, :w4, 'in_progress')), 'works',
          'below the threshold no approval is needed');
SELECT womgr.update_work_order(:t, :w4, '{"quoted_amount": 450000}') \gset
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w4, 'in_progress')),
          'WM002: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w4)
              || ' cannot move from "scheduled" to "in_progress" yet | Missing: approval "large_quote" must be granted (quoted amount 100000.00 or more).',
          'at KES 450,000 the large_quote approval is missing');
SELECT womgr.request_approval(:t, :w4, 'large_quote', 'Chiller replacement, quote Q-17') AS ap \gset
SELECT is(womgr.request_approval(:t, :w4, 'large_quote'), :ap::bigint, 'asking twice returns the open request');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w4, 'in_progress'), 'WM002', NULL, 'a pending request is not a grant');
SELECT is(pg_temp.err(format('SELECT womgr.approve(%s, %s)', :t, :ap)),
          '42501: acting role may not decide approval "large_quote" | It is decided by: manager. The transaction acts as: dispatcher.',
          'a dispatcher cannot approve');
SELECT womgr.set_context(:t, 'grace.ops', NULL, 'manager') \gset
SELECT throws_ok(format('SELECT womgr.reject(%s, %s, NULL)', :t, :ap), '22004', 'a rejection needs a reason', 'reject: reason required');
SELECT womgr.reject(:t, :ap, 'get a second quote') \gset
SELECT throws_ok(format('SELECT womgr.approve(%s, %s)', :t, :ap), '55000', NULL, 'a decided approval cannot be decided again');
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w4, 'in_progress'), 'WM002', NULL, 'a rejection is not a grant');
SELECT isnt(womgr.request_approval(:t, :w4, 'large_quote', 'second quote attached'), :ap::bigint, 'after a rejection a new request is made');
SELECT womgr.set_context(:t, 'grace.ops', NULL, 'manager') \gset
SELECT womgr.approve(:t, (SELECT max(approval_id) FROM womgr.approval WHERE tenant_id = :t AND work_order_id = :w4), 'within budget') \gset
SELECT is((SELECT (status, decided_by, decision_reason) FROM womgr.approval WHERE tenant_id = :t AND work_order_id = :w4 ORDER BY approval_id DESC LIMIT 1),
          ('approved'::text, 'grace.ops'::text, 'within budget'::text), 'the decision is recorded with actor and reason');
SELECT womgr.set_context(:t, 'wanjiru', NULL, 'technician') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w4, 'in_progress'), 'once granted the work starts');
SELECT results_eq(
    format($$SELECT event_type FROM womgr.work_order_event WHERE tenant_id = %s AND work_order_id = %s
              AND event_type LIKE 'approval%%' ORDER BY work_order_event_id$$, :t, :w4),
    $$VALUES ('approval_requested'), ('approval_rejected'), ('approval_requested'), ('approval_granted')$$,
    'requests and decisions are in the history');
SELECT throws_ok(format('SELECT womgr.request_approval(%s, %s, %L)', :t, :w4, 'nope'), '23503', 'approval step "nope" does not exist',
                 'request_approval: unknown step');
SELECT throws_ok(format('SELECT womgr.approve(%s, 999999)', :t), 'P0002', 'approval 999999 does not exist', 'approve: unknown approval');

-- proof of completion, per type
SELECT womgr.set_context(:t, 'amina', NULL, NULL) \gset
SELECT womgr.update_work_order_type(:t, 'inspection',
    '{"completion_requirements": {"signature": true, "min_before_photos": 1, "min_after_photos": 2, "max_distance_m": 150, "customer_confirmation": true}}') \gset
SELECT pg_temp.wo('Annual inspection', 'inspection') AS w5 \gset
SELECT is((SELECT completion_requirements FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w5),
          '{"signature": true, "max_distance_m": 150, "min_after_photos": 2, "min_before_photos": 1, "customer_confirmation": true}'::jsonb,
          'a new work order takes its type''s requirements');
SELECT womgr.assign(:t, :w5, :tech1) \gset
SELECT womgr.update_work_order(:t, :w5, '{"resolution": "All fine"}') \gset
SELECT womgr.transition(:t, :w5, 'scheduled') \gset
SELECT womgr.transition(:t, :w5, 'in_progress') \gset
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w5, 'completed')),
          'WM002: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w5)
              || ' cannot move from "in_progress" to "completed" yet | Missing: the customer''s signature (attachment kind signature); '
              || '1 before-photo(s), 0 so far; 2 after-photo(s), 0 so far; an after-photo or signature with a GPS point within 150 m of the site (none has a GPS point); '
              || 'the customer''s confirmation (womgr.confirm_completion).',
          'completion is refused listing every missing proof');
SELECT womgr.add_attachment(:t, :w5, jsonb_build_object('kind', 'photo_before', 'sha256', repeat('1', 64), 'size_bytes', 204800,
                                                         'mime_type', 'image/jpeg', 'storage_uri', 's3://baridi/w5/before.jpg')) \gset
SELECT womgr.add_attachment(:t, :w5, jsonb_build_object('kind', 'photo_after', 'sha256', repeat('2', 64), 'size_bytes', 204800,
                                                         'mime_type', 'image/jpeg', 'storage_uri', 's3://baridi/w5/after1.jpg',
                                                         'location', jsonb_build_object('lat', -1.2700, 'lon', 36.8025))) \gset
SELECT womgr.add_attachment(:t, :w5, jsonb_build_object('kind', 'photo_after', 'sha256', repeat('3', 64), 'size_bytes', 204800,
                                                         'mime_type', 'image/jpeg', 'storage_uri', 's3://baridi/w5/after2.jpg')) \gset
SELECT is(womgr.completion_status(:t, :w5) -> 'missing',
          '["the customer''s signature (attachment kind signature)", "an after-photo or signature with a GPS point within 150 m of the site (the nearest is 995 m away)", "the customer''s confirmation (womgr.confirm_completion)"]'::jsonb,
          'completion_status shows what is left, with the distance of the nearest GPS point');
SELECT womgr.add_attachment(:t, :w5, jsonb_build_object('kind', 'signature', 'signed_by', 'Mary Njeri, facilities', 'sha256', repeat('4', 64),
                                                         'size_bytes', 4096, 'mime_type', 'image/png', 'storage_uri', 's3://baridi/w5/sig.png',
                                                         'location', jsonb_build_object('lat', -1.2611, 'lon', 36.8026))) \gset
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w5, 'completed'), 'WM002', NULL, 'still no customer confirmation');
SELECT womgr.confirm_completion(:t, :w5, 'Mary Njeri') \gset
SELECT is(womgr.completion_status(:t, :w5) -> 'complete', 'true'::jsonb, 'now the proof is complete');
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w5, 'completed'), 'and the work order completes');

-- templates: the requirements are copied onto generated work orders, the stricter of type and template
SELECT womgr.create_work_order_template(:t, '{"code": "cold_room_pm", "name": "Cold room PM", "type": "inspection",
    "description": "Quarterly cold room inspection", "priority": "high",
    "completion_requirements": {"min_after_photos": 4, "max_distance_m": 300}}') AS tpl \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'template', 'cold_room_pm')) AS w6 \gset
SELECT is((SELECT (w.template_id, ty.code, p.code, w.description, w.completion_requirements)
             FROM womgr.work_order w JOIN womgr.work_order_type ty USING (tenant_id, work_order_type_id)
             JOIN womgr.priority p USING (tenant_id, priority_id) WHERE w.tenant_id = :t AND w.work_order_id = :w6),
          (:tpl::bigint, 'inspection'::text, 'high'::text, 'Quarterly cold room inspection'::text,
           '{"signature": true, "max_distance_m": 150, "min_after_photos": 4, "min_before_photos": 1, "customer_confirmation": true}'::jsonb),
          'a work order from a template has its type, priority, description and the stricter requirements');
SELECT womgr.assign(:t, :w6, :tech2) \gset
SELECT womgr.update_work_order(:t, :w6, '{"resolution": "Checked"}') \gset
SELECT womgr.transition(:t, :w6, 'scheduled') \gset
SELECT womgr.transition(:t, :w6, 'in_progress') \gset
SELECT throws_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND work_order_id = %s', 'completed', :t, :w6),
                 'WM002', NULL, 'a generated work order cannot skip its proof, not even by a plain UPDATE');
SELECT womgr.update_work_order(:t, :w6, '{"completion_requirements": {"min_after_photos": 1, "customer_confirmation": false}}') \gset
SELECT is((SELECT completion_requirements ->> 'min_after_photos' FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w6),
          '4', 'update_work_order cannot weaken the requirements a template set');
UPDATE womgr.work_order SET extra_requirements = '{}' WHERE tenant_id = :t AND work_order_id = :w6;
SELECT is((SELECT extra_requirements FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w6),
          '{"max_distance_m": 300, "min_after_photos": 4}'::jsonb, 'nor can a plain UPDATE drop the extra requirements');
SELECT womgr.update_work_order(:t, :w6, '{"completion_requirements": {"min_after_photos": 6}}') \gset
SELECT is((SELECT completion_requirements ->> 'min_after_photos' FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w6),
          '6', 'but they can be made stricter');
UPDATE womgr.work_order SET completion_requirements = '{}' WHERE tenant_id = :t AND work_order_id = :w6;
SELECT is((SELECT completion_requirements ->> 'min_after_photos' FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w6),
          '6', 'overwriting the requirements does not weaken them: they are recomputed');
SELECT throws_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND work_order_id = %s', 'completed', :t, :w6),
                 'WM002', NULL, 'so completion is still refused');

-- bulk UPDATEs are guarded row by row: one illegal move stops the statement
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT count(pg_temp.wo('Bulk ' || i)) AS n FROM generate_series(1, 5) i \gset
SELECT count(womgr.assign(:t, work_order_id, :tech1)) AS n FROM womgr.work_order WHERE tenant_id = :t AND description LIKE 'Bulk %' \gset
SELECT throws_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND category NOT IN (%L, %L)',
                        'scheduled', :t, 'closed', 'cancelled'),
                 NULL, NULL, 'a bulk UPDATE that would make an illegal move fails');
SELECT is((SELECT count(*)::int FROM womgr.work_order WHERE tenant_id = :t AND status = 'scheduled'), 1,
          'and changes no row (only the one scheduled before)');
SELECT lives_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND description LIKE %L', 'scheduled', :t, 'Bulk %'),
                'a bulk UPDATE of legal moves works');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND event_type = 'status_changed' AND to_status = 'scheduled'
             AND work_order_id IN (SELECT work_order_id FROM womgr.work_order WHERE tenant_id = :t AND description LIKE 'Bulk %')), 5,
          'with an event per row');
UPDATE womgr.assignment SET ended_at = now(), ended_by = 'test'
 WHERE tenant_id = :t AND work_order_id = (SELECT min(work_order_id) FROM womgr.work_order WHERE tenant_id = :t AND description LIKE 'Bulk %');
SELECT throws_ok(format('UPDATE womgr.work_order SET status = %L WHERE tenant_id = %s AND description LIKE %L', 'en_route', :t, 'Bulk %'),
                 'WM002', NULL, 'one row without a lead fails the whole bulk move');

-- updates made by other triggers are guarded the same way
CREATE TABLE pg_temp.job_sync (tenant_id bigint, work_order_id bigint, status text);
CREATE FUNCTION pg_temp.job_sync_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE womgr.work_order SET status = NEW.status WHERE tenant_id = NEW.tenant_id AND work_order_id = NEW.work_order_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER job_sync_apply AFTER INSERT ON pg_temp.job_sync FOR EACH ROW EXECUTE FUNCTION pg_temp.job_sync_apply();
SELECT throws_ok(format('INSERT INTO pg_temp.job_sync VALUES (%s, %s, %L)', :t, :w4, 'closed'), 'WM001', NULL,
                 'a move made by another trigger is refused like any other');

-- custom workflows, and reclassification during the job
SELECT womgr.create_workflow(:t, '{"code": "solar", "name": "Solar installation",
  "statuses": [{"code": "new", "label": "New", "category": "new", "initial": true},
               {"code": "survey", "label": "Site survey", "category": "scheduled"},
               {"code": "in_progress", "label": "Installing", "category": "in_progress"},
               {"code": "commissioned", "label": "Commissioned", "category": "completed"},
               {"code": "cancelled", "label": "Cancelled", "category": "cancelled"}],
  "approval_steps": [{"code": "customer_design", "name": "Customer signs off the design", "approver_roles": ["manager", "dispatcher"]}],
  "transitions": [{"from": "new", "to": "survey", "roles": ["dispatcher"]},
                  {"from": "survey", "to": "in_progress", "required_approvals": ["customer_design"], "required_fields": ["fields.panel_count"]},
                  {"from": "in_progress", "to": "commissioned", "required_fields": ["fields.kplc_meter"]},
                  {"from": "new", "to": "cancelled", "requires_note": true}]}') AS wf_solar \gset
SELECT womgr.create_work_order_type(:t, '{"code": "solar_install", "name": "Solar installation", "workflow": "solar",
                                          "completion_requirements": {"min_after_photos": 1}}') \gset
SELECT womgr.update_work_order_type(:t, 'installation', '{"workflow": "solar"}') \gset
SELECT womgr.update_work_order(:t, :w4, '{"completion_requirements": {"min_after_photos": 1}}') \gset
SELECT is((SELECT wf.code FROM womgr.work_order w JOIN womgr.workflow wf USING (tenant_id, workflow_id) WHERE w.tenant_id = :t AND w.work_order_id = :w4),
          'standard', 'a work order keeps its workflow when its type moves to another; changing its requirements does not move it');
SELECT womgr.update_work_order_type(:t, 'installation', '{"workflow": null}') \gset
SELECT pg_temp.wo('5 kW rooftop system', 'solar_install') AS w7 \gset
SELECT is((SELECT (workflow_id, status) FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w7),
          (:wf_solar::bigint, 'new'::text), 'a type can follow its own workflow');
SELECT womgr.transition(:t, :w7, 'survey') \gset
SELECT is(pg_temp.err(format('SELECT womgr.transition(%s, %s, %L)', :t, :w7, 'in_progress')),
          'WM002: work order ' || (SELECT number FROM womgr.work_order WHERE work_order_id = :w7)
              || ' cannot move from "survey" to "in_progress" yet | Missing: approval "customer_design" must be granted; field "fields.panel_count" must be filled.',
          'a custom workflow''s guards: approval and custom field, listed together');
SELECT womgr.update_work_order(:t, :w7, '{"fields": {"panel_count": 12}}') \gset
SELECT womgr.approve(:t, womgr.request_approval(:t, :w7, 'customer_design')) \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w7, 'in_progress'), 'met, the move is made');
SELECT is(pg_temp.err(format('SELECT womgr.reclassify(%s, %s, %L)', :t, :w7, 'installation')),
          'no error', 'reclassified to a type of the standard workflow, which also has in_progress');
SELECT is((SELECT (wf.code, w.category::text, w.completion_requirements) FROM womgr.work_order w JOIN womgr.workflow wf USING (tenant_id, workflow_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :w7),
          ('standard'::text, 'in_progress'::text, '{}'::jsonb), 'the workflow and requirements are re-resolved from the new type');
SELECT womgr.transition(:t, :w7, 'waiting_customer', 'waiting for KPLC') \gset
SELECT is(pg_temp.err(format('SELECT womgr.reclassify(%s, %s, %L, %L)', :t, :w7, 'solar_install', 'back to solar')),
          'WM001: work order cannot become type "solar_install" in status "waiting_customer" | The workflow of type "solar_install" ('
              || :wf_solar || ') has no status "waiting_customer".',
          'a type whose workflow lacks the current status is refused');
SELECT womgr.transition(:t, :w7, 'in_progress') \gset
SELECT womgr.set_context(:t, 'otieno', NULL, 'technician') \gset
SELECT is(womgr.reclassify(:t, :w7, 'solar_install', 'it is a solar job after all',
                           (SELECT version FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w7)),
          (SELECT version + 1 FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w7), 'reclassify returns the new version');
SELECT is((SELECT (actor, details ->> 'note', (details ->> 'from_type_id')::bigint, (details ->> 'to_type_id')::bigint)
             FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w7 AND event_type = 'reclassified'
            ORDER BY work_order_event_id DESC LIMIT 1),
          ('otieno'::text, 'it is a solar job after all'::text,
           (SELECT work_order_type_id FROM womgr.work_order_type WHERE tenant_id = :t AND code = 'installation'),
           (SELECT work_order_type_id FROM womgr.work_order_type WHERE tenant_id = :t AND code = 'solar_install')),
          'a reclassification is its own event, with who, why and both types');
SELECT is((SELECT completion_requirements FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w7),
          '{"min_after_photos": 1}'::jsonb, 'and the completion requirements follow the type');

-- the tenant's default workflow
SELECT womgr.set_default_workflow(:t, 'solar') \gset
SELECT pg_temp.wo('Default now solar', 'maintenance') AS w10 \gset
SELECT is((SELECT (wf.code, w.status) FROM womgr.work_order w JOIN womgr.workflow wf USING (tenant_id, workflow_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :w10),
          ('solar'::text, 'new'::text), 'types without a workflow follow the new default');
SELECT is((SELECT array_agg(code ORDER BY code) FROM womgr.workflow WHERE tenant_id = :t AND is_default), ARRAY['solar'],
          'there is one default');
SELECT womgr.set_default_workflow(:t, 'standard') \gset
SELECT throws_ok(format('SELECT womgr.set_default_workflow(%s, %L)', :t, 'nope'), '23503', NULL, 'set_default_workflow: unknown workflow');

-- available_transitions: the buttons an app shows, judged by the trigger's own checks, changing nothing
SELECT womgr.set_context(:t, 'otieno', NULL, 'technician') \gset
SELECT pg_temp.wo('Fridge not cooling', 'inspection') AS w9 \gset
SELECT results_eq(
    format($$SELECT to_status, label, category::text, allowed, array_to_string(missing, ' / '), requires_note
               FROM womgr.available_transitions(%s, %s)$$, :t, :w9),
    $$VALUES ('scheduled'::text, 'Schedule'::text, 'scheduled'::text, false,
              'one of the roles admin, manager, dispatcher (acting as technician) / a lead technician must be assigned (womgr.assign)'::text, false),
             ('cancelled', 'Cancel', 'cancelled', false, 'one of the roles admin, manager, dispatcher (acting as technician)', true)$$,
    'a technician sees that scheduling needs a dispatcher and a lead, and cancelling a dispatcher and a note');
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT womgr.assign(:t, :w9, :tech1) \gset
SELECT results_eq(
    format($$SELECT to_status, allowed, missing FROM womgr.available_transitions(%s, %s)$$, :t, :w9),
    $$VALUES ('scheduled'::text, true, '{}'::text[]), ('cancelled', true, '{}')$$,
    'a dispatcher may do both once a lead is assigned (the note is asked for with the move)');
SELECT womgr.transition(:t, :w9, 'scheduled') \gset
SELECT womgr.transition(:t, :w9, 'in_progress') \gset
SELECT is((SELECT missing FROM womgr.available_transitions(:t, :w9) WHERE to_status = 'completed'),
          ARRAY['the customer''s signature (attachment kind signature)', '1 before-photo(s), 0 so far', '2 after-photo(s), 0 so far',
                'an after-photo or signature with a GPS point within 150 m of the site (none has a GPS point)',
                'the customer''s confirmation (womgr.confirm_completion)', 'field "resolution" must be filled'],
          'completion lists the missing proof and fields');
SELECT is((SELECT (status, version) FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w9), ('in_progress'::text, 3),
          'and asking changed nothing');
SELECT throws_ok(format('SELECT * FROM womgr.available_transitions(%s, NULL)', :t), '22004', NULL, 'available_transitions: null work order');
SELECT throws_ok(format('SELECT * FROM womgr.available_transitions(%s, 999999)', :t), 'P0002', NULL, 'available_transitions: unknown work order');

-- bad input
SELECT throws_ok('SELECT womgr.transition(NULL, 1, ''x'')', '22004', 'tenant must not be null', 'transition: null tenant');
SELECT throws_ok(format('SELECT womgr.transition(%s, NULL, %L)', :t, 'x'), '22004', 'work order id must not be null', 'transition: null work order');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, NULL)', :t, :w7), '22004', 'status must not be null', 'transition: null status');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', :t, :w7, ' '), '22023', 'status must not be empty', 'transition: blank status');
SELECT throws_ok(format('SELECT womgr.transition(%s, 999999, %L)', :t, 'scheduled'), 'P0002', 'work order 999999 does not exist',
                 'transition: unknown work order');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w7, 'commissioned', ''), '22023', 'note must not be empty',
                 'transition: blank note');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, repeat(%L, 4001))', :t, :w7, 'commissioned', 'x'), '22001', 'note is too long',
                 'transition: note too long');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L)', womgr.default_tenant_id(), :w7, 'commissioned'), 'P0002', NULL,
                 'transition: another tenant''s work order is not found');
SELECT throws_ok(format('SELECT womgr.reclassify(%s, %s, %L)', :t, :w7, 'nope'), '23503', 'work order type "nope" does not exist',
                 'reclassify: unknown type');
SELECT throws_ok(format('SELECT womgr.reclassify(%s, %s, %L)', :t, :w7, 'solar_install'), '22023', NULL, 'reclassify: same type');
SELECT throws_ok(format('SELECT womgr.reclassify(%s, %s, %L, NULL, 1)', :t, :w7, 'repair'), 'WM003', NULL, 'reclassify: stale version');
SELECT throws_ok(format('SELECT womgr.reclassify(%s, %s, %L)', :t, :w2, 'inspection'), '55000', NULL, 'reclassify: cancelled work order');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L, 1)', :t, :w7, '{"description": "x"}'), 'WM003', NULL,
                 'update_work_order: stale version');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"quoted_amount": -1}'), '22003', NULL,
                 'update_work_order: negative quote');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"fields": [1]}'), '42804', NULL,
                 'update_work_order: fields not an object');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"status": "closed"}'), '22023', NULL,
                 'update_work_order: status is not a field to update');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"priority": "urgentest"}'), '23503', NULL,
                 'update_work_order: unknown priority');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w2, '{"description": "x"}'), '55000', NULL,
                 'update_work_order: cancelled work order');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"completion_requirements": {"min_after_photos": 99}}'),
                 '22003', NULL, 'update_work_order: too many photos asked');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"completion_requirements": {"selfie": true}}'),
                 '22023', NULL, 'update_work_order: unknown requirement');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"completion_requirements": {"max_distance_m": 0}}'),
                 '22003', NULL, 'update_work_order: zero radius');
SELECT throws_ok(format('SELECT womgr.update_work_order(%s, %s, %L)', :t, :w7, '{"completion_requirements": {"signature": "yes"}}'),
                 '42804', NULL, 'update_work_order: requirement of the wrong type');
SELECT throws_ok(format('SELECT womgr.completion_status(%s, 999999)', :t), 'P0002', NULL, 'completion_status: unknown work order');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, %L)', :t,
                        jsonb_build_object('customer_id', :c, 'site_id', :s, 'template', 'nope')), '23503',
                 'work order template "nope" does not exist', 'create_work_order: unknown template');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, %L)', :t,
                        jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair', 'description', 'x', 'completion_requirements', '[]'::jsonb)),
                 '42804', NULL, 'create_work_order: requirements not an object');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, %L)', :t,
                        jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair', 'description', 'x',
                                           'completion_requirements', '{"min_after_photos": -1}'::jsonb)),
                 '22003', NULL, 'create_work_order: negative photo count');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'description', 'x')),
                 '22004', NULL, 'create_work_order: neither type nor template');
SELECT throws_ok(format('SELECT womgr.create_work_order_template(%s, %L)', :t, '{"code": "cold_room_pm", "name": "x", "type": "repair", "description": "x"}'),
                 '23505', NULL, 'create_work_order_template: duplicate code');
SELECT throws_ok(format('SELECT womgr.create_work_order_template(%s, %L)', :t, '{"code": "t2", "name": "x", "type": "nope", "description": "x"}'),
                 '23503', NULL, 'create_work_order_template: unknown type');
SELECT throws_ok(format('SELECT womgr.update_work_order_type(%s, %L, %L)', :t, 'repair', '{"workflow": "nope"}'), '23503',
                 'workflow "nope" does not exist', 'update_work_order_type: unknown workflow');
SELECT throws_ok(format('SELECT womgr.update_work_order_type(%s, %L, %L)', :t, 'nope', '{}'), '23503', NULL,
                 'update_work_order_type: unknown type');

-- defining workflows: bad specs
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "statuses": [{"code": "a", "label": "A", "category": "new"}]}'),
                 '22023', 'workflow "x" has no initial status', 'create_workflow: no initial status');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "statuses": [{"code": "a", "label": "A", "category": "open", "initial": true}]}'),
                 '22023', NULL, 'create_workflow: unknown category');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "statuses": [{"code": "a", "label": "A", "category": "scheduled", "initial": true}]}'),
                 '22023', NULL, 'create_workflow: initial status not of category new');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "statuses": [{"code": "a", "label": "A", "category": "new", "initial": true}, {"code": "b", "label": "B", "category": "new", "initial": true}]}'),
                 '23505', NULL, 'create_workflow: two initial statuses');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "statuses": [{"code": "a", "label": "A", "category": "new", "initial": true, "sla_clock": "fast"}]}'),
                 '22023', NULL, 'create_workflow: unknown SLA clock');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "solar", "name": "X"}'), '23505', NULL, 'create_workflow: duplicate code');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "statuses": {}}'), '42804', NULL,
                 'create_workflow: statuses not an array');
SELECT throws_ok(format('SELECT womgr.create_workflow(%s, %L)', :t, '{"code": "x", "name": "X", "colour": "red"}'), '22023', NULL,
                 'create_workflow: unknown key');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "new", "to": "nowhere"}'), '23503',
                 'workflow status "nowhere" does not exist', 'add_workflow_transition: unknown status');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "new", "to": "new"}'), '22023', NULL,
                 'add_workflow_transition: to itself');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "new", "to": "survey"}'), '23505', NULL,
                 'add_workflow_transition: duplicate');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "survey", "to": "cancelled", "roles": ["boss"]}'),
                 '22023', NULL, 'add_workflow_transition: unknown role');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "survey", "to": "cancelled", "required_approvals": ["cfo"]}'),
                 '23503', NULL, 'add_workflow_transition: unknown approval step');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "survey", "to": "cancelled", "required_fields": ["colour"]}'),
                 '22023', NULL, 'add_workflow_transition: unknown field');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar', '{"from": "survey", "to": "cancelled", "roles": "manager"}'),
                 '42804', NULL, 'add_workflow_transition: roles not an array');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'nope', '{"from": "a", "to": "b"}'), '23503', NULL,
                 'add_workflow_transition: unknown workflow');
SELECT throws_ok(format('SELECT womgr.add_workflow_transition(%s, NULL, %L)', :t, '{"from": "a", "to": "b"}'), '22004', NULL,
                 'add_workflow_transition: null workflow');
SELECT throws_ok(format('SELECT womgr.add_approval_step(%s, %L, %L)', :t, 'solar', '{"code": "cfo", "name": "CFO"}'), '22004', NULL,
                 'add_approval_step: no approver roles');
SELECT throws_ok(format('SELECT womgr.add_approval_step(%s, %L, %L)', :t, 'solar', '{"code": "cfo", "name": "CFO", "approver_roles": ["manager"], "min_quoted_amount": -5}'),
                 '22003', NULL, 'add_approval_step: negative threshold');
SELECT throws_ok(format('SELECT womgr.add_workflow_status(%s, %L, %L)', :t, 'solar', '{"code": "survey", "label": "Again", "category": "scheduled"}'),
                 '23505', NULL, 'add_workflow_status: duplicate code');
SELECT throws_ok(format('SELECT womgr.remove_workflow_transition(%s, %L, %L, %L)', :t, 'solar', 'survey', 'new'), 'P0002', NULL,
                 'remove_workflow_transition: no such transition');
SELECT lives_ok(format('SELECT womgr.remove_workflow_transition(%s, %L, %L, %L)', :t, 'solar', 'new', 'cancelled'),
                'remove_workflow_transition removes a move');
SELECT pg_temp.wo('Another solar job', 'solar_install') AS w8 \gset
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w8, 'cancelled', 'no'), 'WM001', NULL,
                 'and the move is no longer allowed');
SELECT lives_ok(format('SELECT womgr.add_workflow_transition(%s, %L, %L)', :t, 'solar',
                       '{"from": "new", "to": "cancelled", "label": "Cancel", "roles": ["manager"], "requires_note": true}'),
                'add_workflow_transition adds it back');
SELECT womgr.set_context(:t, 'amina', NULL, 'manager') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w8, 'cancelled', 'customer chose a competitor'),
                'and it can be made again');
-- removing a move: a tenant's own row is deleted; a row the install script seeded (the default
-- tenant's) is kept disabled, so a dump carries the removal; added again, it comes back with the new rules
SELECT womgr.remove_workflow_transition(:t, 'standard', 'closed', 'scheduled') \gset
SELECT is((SELECT count(*)::int FROM womgr.workflow_transition tr JOIN womgr.workflow wf USING (tenant_id, workflow_id)
            WHERE tr.tenant_id = :t AND wf.code = 'standard' AND from_status = 'closed' AND to_status = 'scheduled'),
          0, 'removing a tenant''s move deletes it');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w1, 'scheduled', 'reopen'), 'WM001', NULL, 'and it can no longer be made');
SELECT womgr.add_workflow_transition(:t, 'standard', '{"from": "closed", "to": "scheduled", "roles": ["dispatcher"], "requires_note": true}') \gset
SELECT womgr.set_context(:t, 'amina', NULL, 'dispatcher') \gset
SELECT lives_ok(format('SELECT womgr.transition(%s, %s, %L, %L)', :t, :w1, 'scheduled', 'the leak is back'),
                'added again with new roles, a dispatcher may now reopen closed work');
SELECT womgr.remove_workflow_transition(womgr.default_tenant_id(), 'standard', 'closed', 'scheduled') \gset
SELECT is((SELECT concat_ws('|', tr.enabled, tr.seeded) FROM womgr.workflow_transition tr JOIN womgr.workflow wf USING (tenant_id, workflow_id)
            WHERE tr.tenant_id = womgr.default_tenant_id() AND wf.code = 'standard' AND from_status = 'closed' AND to_status = 'scheduled'),
          'f|t', 'removing a seeded move disables it');
SELECT throws_ok(format('SELECT womgr.remove_workflow_transition(%s, %L, %L, %L)', womgr.default_tenant_id(), 'standard', 'closed', 'scheduled'),
                 'P0002', NULL, 'removing it twice finds nothing');
SELECT womgr.add_workflow_transition(womgr.default_tenant_id(), 'standard',
                                     '{"from": "closed", "to": "scheduled", "roles": ["dispatcher"], "requires_note": true}') AS readded \gset
SELECT is((SELECT concat_ws('|', enabled, seeded, array_to_string(roles, ',')) FROM womgr.workflow_transition
            WHERE tenant_id = womgr.default_tenant_id() AND workflow_transition_id = :readded),
          't|t|dispatcher', 'adding it again brings the same seeded row back with the new roles');

SELECT * FROM finish();
ROLLBACK;
