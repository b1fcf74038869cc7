-- sla: policies and their precedence, clocks started with the work order,
-- paused and resumed by the workflow, stopped by the metric, re-resolved on
-- a priority change or reclassification, offline device times, sla_status,
-- sla_tick (each warning and breach once, escalation), recalculation after a
-- calendar edit, and every bad input.  Times are relative to the test's
-- transaction start (now()); work orders are created at now().
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "sla-test", "name": "Haraka Services"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS nbo \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Kilimani Mall', 'branch_id', :nbo)) AS c \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Gold Client Ltd', 'branch_id', :nbo)) AS gold \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Mall')) AS s \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :gold, 'name', 'Gold HQ')) AS s_gold \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Baraka', 'home_branch_id', :nbo)) AS tech \gset
CREATE FUNCTION pg_temp.wo(p_customer bigint, p_site bigint, p_type text, p_priority text DEFAULT NULL) RETURNS bigint LANGUAGE sql AS $$
    SELECT womgr.create_work_order((SELECT tenant_id FROM womgr.tenant WHERE code = 'sla-test'),
        jsonb_strip_nulls(jsonb_build_object('customer_id', p_customer, 'site_id', p_site, 'type', p_type,
                                             'description', 'SLA test', 'priority', p_priority)))
$$;
CREATE FUNCTION pg_temp.clock(p_wo bigint, p_metric text) RETURNS womgr.sla_clock LANGUAGE sql AS $$
    SELECT * FROM womgr.sla_clock WHERE work_order_id = p_wo AND metric = p_metric
$$;

-- a default policy around the clock: response 10 minutes, resolution 60 minutes (high: 30)
SELECT womgr.create_sla_policy(:t, '{"code": "standard", "name": "Standard", "warn_at": [50, 75, 90],
    "escalation": {"warning": {"notify": ["dispatcher"]}, "breach": {"notify": ["manager"], "raise_priority": true, "reassign": "dispatch_queue"}},
    "targets": [{"metric": "response", "target": "10 minutes"}, {"metric": "resolution", "target": "60 minutes"},
                {"metric": "resolution", "priority": "high", "target": "30 minutes"}]}') AS p_std \gset

SELECT pg_temp.wo(:c, :s, 'installation') AS w1 \gset
SELECT results_eq(
    format($$SELECT metric, state, target, started_at = now(), due_at - now(), consumed FROM womgr.sla_clock WHERE work_order_id = %s ORDER BY metric$$, :w1),
    $$VALUES ('resolution'::text, 'running'::text, interval '60 minutes', true, interval '60 minutes', interval '0'),
             ('response', 'running', interval '10 minutes', true, interval '10 minutes', interval '0')$$,
    'a new work order starts a clock for each target of its policy; no arrival target, no arrival clock');
SELECT is((pg_temp.clock(pg_temp.wo(:c, :s, 'repair'), 'resolution')).target, interval '30 minutes',
          'a high-priority job (repair) gets the high target');

-- through the workflow, at times an offline device reports
SELECT womgr.assign(:t, :w1, :tech) \gset
SELECT womgr.transition(:t, :w1, 'scheduled', NULL, NULL, now() + interval '1 minute') \gset
SELECT is((SELECT (state, consumed, stopped_at - now()) FROM womgr.sla_clock WHERE work_order_id = :w1 AND metric = 'response'),
          ('met'::text, interval '1 minute', interval '1 minute'), 'scheduling a minute later meets the response target');
SELECT is((SELECT status_changed_at - now() FROM womgr.work_order WHERE work_order_id = :w1), interval '1 minute',
          'the device''s time becomes status_changed_at');
SELECT is((SELECT details ->> 'client_time' IS NOT NULL FROM womgr.work_order_event WHERE work_order_id = :w1 AND to_status = 'scheduled'),
          true, 'and is kept in the event');
SELECT womgr.transition(:t, :w1, 'in_progress', NULL, NULL, now() + interval '2 minutes') \gset
SELECT womgr.transition(:t, :w1, 'waiting_parts', 'valve', NULL, now() + interval '3 minutes') \gset
SELECT is((SELECT (state, consumed, due_at IS NULL) FROM womgr.sla_clock WHERE work_order_id = :w1 AND metric = 'resolution'),
          ('paused'::text, interval '3 minutes', true), 'waiting for parts pauses the resolution clock after 3 minutes');
SELECT is((SELECT (paused_at - now(), resumed_at IS NULL, status) FROM womgr.sla_pause WHERE work_order_id = :w1),
          (interval '3 minutes', true, 'waiting_parts'::text), 'the pause is a row');
SELECT womgr.transition(:t, :w1, 'in_progress', NULL, NULL, now() + interval '4 minutes 30 seconds') \gset
SELECT is((SELECT (state, consumed, due_at - now()) FROM womgr.sla_clock WHERE work_order_id = :w1 AND metric = 'resolution'),
          ('running'::text, interval '3 minutes', interval '61 minutes 30 seconds'),
          'resumed: the paused minute and a half is not counted, the due time moves by it');
SELECT is((SELECT resumed_at - now() FROM womgr.sla_pause WHERE work_order_id = :w1), interval '4 minutes 30 seconds', 'the pause is closed');
SELECT womgr.update_work_order(:t, :w1, '{"resolution": "Valve replaced"}') \gset
SELECT womgr.transition(:t, :w1, 'completed', NULL, NULL, now() + interval '5 minutes') \gset
SELECT is((SELECT (state, consumed, stopped_at - now()) FROM womgr.sla_clock WHERE work_order_id = :w1 AND metric = 'resolution'),
          ('met'::text, interval '3 minutes 30 seconds', interval '5 minutes'), 'completion meets the resolution target');
SELECT is((SELECT array_agg(metric || ':' || state ORDER BY metric) FROM womgr.sla_status WHERE work_order_id = :w1),
          ARRAY['resolution:met', 'response:met'], 'sla_status reports both met');
SELECT womgr.transition(:t, :w1, 'in_progress', 'rework', NULL, now() + interval '5 minutes') \gset
SELECT is((SELECT (state, consumed, stopped_at IS NULL) FROM womgr.sla_clock WHERE work_order_id = :w1 AND metric = 'resolution'),
          ('running'::text, interval '3 minutes 30 seconds', true), 'reopened for rework, the resolution clock runs on from where it stopped');
SELECT is((SELECT state FROM womgr.sla_clock WHERE work_order_id = :w1 AND metric = 'response'), 'met', 'the response stays met');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, NULL, NULL, now() + interval %L)', :t, :w1, 'completed', '1 hour'),
                 '22023', 'the change cannot have happened in the future', 'transition: a device time in the future');
SELECT throws_ok(format('SELECT womgr.transition(%s, %s, %L, NULL, NULL, now())', :t, :w1, 'completed'),
                 '22023', NULL, 'transition: a device time before the last status change');

-- cancelled work cancels its clocks
SELECT pg_temp.wo(:c, :s, 'installation') AS w2 \gset
SELECT womgr.transition(:t, :w2, 'cancelled', 'duplicate') \gset
SELECT is((SELECT array_agg(state ORDER BY metric) FROM womgr.sla_clock WHERE work_order_id = :w2), ARRAY['cancelled', 'cancelled'],
          'cancelling a work order cancels its clocks');

-- a priority change re-resolves the target and keeps the time consumed
SELECT pg_temp.wo(:c, :s, 'installation') AS w3 \gset
SELECT womgr.update_work_order(:t, :w3, '{"priority": "high"}') \gset
SELECT is((SELECT (target, consumed < interval '1 minute', due_at - started_at) FROM womgr.sla_clock WHERE work_order_id = :w3 AND metric = 'resolution'),
          (interval '30 minutes', true, interval '30 minutes'), 'raised to high, the resolution target is 30 minutes from the same start');

-- precedence: contract > customer > type > default
SELECT womgr.create_sla_policy(:t, '{"code": "installs", "name": "Installations", "scope": "type", "type": "installation",
    "targets": [{"metric": "resolution", "target": "8 hours"}]}') \gset
SELECT womgr.create_sla_policy(:t, jsonb_build_object('code', 'gold_customer', 'name', 'Gold customer', 'scope', 'customer', 'customer_id', :gold,
    'targets', '[{"metric": "resolution", "target": "4 hours"}]'::jsonb)) \gset
SELECT womgr.create_contract(:t, jsonb_build_object('code', 'GOLD-2026', 'name', 'Gold 2026', 'customer_id', :gold,
    'valid_from', (now() AT TIME ZONE 'UTC')::date - 30, 'valid_until', (now() AT TIME ZONE 'UTC')::date + 300)) \gset
SELECT pg_temp.wo(:c, :s, 'installation') AS w_type \gset
SELECT is((SELECT p.code FROM womgr.sla_clock k JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id)
            WHERE k.work_order_id = :w_type AND k.metric = 'resolution'), 'installs',
          'a type policy wins over the default');
SELECT pg_temp.wo(:gold, :s_gold, 'installation') AS w_cust \gset
SELECT is((SELECT p.code FROM womgr.sla_clock k JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id)
            WHERE k.work_order_id = :w_cust AND k.metric = 'resolution'), 'gold_customer',
          'a customer policy wins over the type''s');
SELECT womgr.create_sla_policy(:t, '{"code": "gold_contract", "name": "Gold contract", "scope": "contract", "contract": "GOLD-2026",
    "targets": [{"metric": "resolution", "target": "2 hours"}, {"metric": "arrival", "target": "1 hour"}]}') \gset
SELECT pg_temp.wo(:gold, :s_gold, 'installation') AS w4 \gset
SELECT is((SELECT array_agg(k.metric || ':' || p.code || ':' || extract(epoch FROM k.target)::int ORDER BY k.metric) FROM womgr.sla_clock k
             JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id) WHERE k.work_order_id = :w4),
          ARRAY['arrival:gold_contract:3600', 'resolution:gold_contract:7200'], 'a valid contract''s policy wins over all');
-- reclassification re-resolves the policy
SELECT pg_temp.wo(:c, :s, 'inspection') AS w5 \gset
SELECT is((SELECT p.code FROM womgr.sla_clock k JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id)
            WHERE k.work_order_id = :w5 AND k.metric = 'resolution'), 'standard', 'an inspection follows the default');
SELECT womgr.reclassify(:t, :w5, 'installation', 'it is an install') \gset
SELECT is((SELECT (p.code, k.target) FROM womgr.sla_clock k JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id)
            WHERE k.work_order_id = :w5 AND k.metric = 'resolution'), ('installs'::text, interval '8 hours'),
          'reclassified as an installation, it takes the installation policy''s target');

-- sla_tick: each warning once, the breach once, then escalation
SELECT pg_temp.wo(:c, :s, 'maintenance') AS w6 \gset
SELECT womgr.assign(:t, :w6, :tech) \gset
SELECT is(womgr.sla_tick(:t, now() + interval '4 minutes'), 0, 'nothing to raise at 40 % of the response target');
SELECT is(womgr.sla_tick(:t, now() + interval '6 minutes') >= 1, true, 'at 60 % the 50 % warning is raised');
SELECT is((SELECT array_agg(details ->> 'metric' || ':' || (details ->> 'percent') ORDER BY work_order_event_id) FROM womgr.work_order_event
            WHERE work_order_id = :w6 AND event_type = 'sla_warning'), ARRAY['response:50'], 'one warning for the response, at 50 %');
SELECT is(womgr.sla_tick(:t, now() + interval '6 minutes'), 0, 'ticking again at the same time raises nothing');
SELECT womgr.sla_tick(:t, now() + interval '9 minutes 30 seconds') \gset
SELECT is((SELECT array_agg(details ->> 'percent' ORDER BY work_order_event_id) FROM womgr.work_order_event
            WHERE work_order_id = :w6 AND event_type = 'sla_warning' AND details ->> 'metric' = 'response'), ARRAY['50', '90'],
          'at 95 % only the highest threshold crossed since (90 %) is raised');
SELECT is((SELECT details -> 'notify' FROM womgr.work_order_event WHERE work_order_id = :w6 AND event_type = 'sla_warning' LIMIT 1),
          '["dispatcher"]'::jsonb, 'warnings name the roles to notify');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE work_order_id = :w6 AND topic = 'work_order.sla_warning'), 2,
          'each warning has its outbox notification');
SELECT womgr.sla_tick(:t, now() + interval '11 minutes') \gset
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE work_order_id = :w6 AND event_type = 'sla_breached'), 1,
          'past the target the breach is raised');
SELECT is((SELECT (p.code, w.priority_id <> (SELECT priority_id FROM womgr.priority WHERE tenant_id = :t AND code = 'normal'))
             FROM womgr.work_order w JOIN womgr.priority p USING (tenant_id, priority_id) WHERE w.work_order_id = :w6),
          ('high'::text, true), 'escalation raised the priority one rank (normal to high)');
SELECT is((SELECT count(*)::int FROM womgr.assignment WHERE work_order_id = :w6 AND role = 'lead' AND ended_at IS NULL), 0,
          'and sent the job back to the dispatch queue');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE work_order_id = :w6 AND event_type = 'sla_breached'
              AND details ->> 'metric' = 'response'), 1, 'the response breach is raised once');
SELECT womgr.sla_tick(:t, now() + interval '12 minutes') \gset
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE work_order_id = :w6 AND event_type = 'sla_breached'
              AND details ->> 'metric' = 'response'), 1, 'and never again');

-- business calendars and recalculation after an edit
SELECT womgr.create_calendar(:t, 'Office', 'Africa/Nairobi',
    '{"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]], "wed": [["08:00", "17:00"]], "thu": [["08:00", "17:00"]], "fri": [["08:00", "17:00"]]}') AS cal \gset
SELECT womgr.create_sla_policy(:t, jsonb_build_object('code', 'office', 'name', 'Office hours', 'scope', 'type', 'type', 'inspection',
    'calendar_id', :cal, 'targets', '[{"metric": "resolution", "target": "16 hours"}]'::jsonb)) \gset
SELECT pg_temp.wo(:c, :s, 'inspection') AS w7 \gset
SELECT is((SELECT (calendar_id, calendar_version, due_at) FROM womgr.sla_clock WHERE work_order_id = :w7 AND metric = 'resolution'),
          (:cal::bigint, 1, womgr.add_business_time(:t, :cal, now(), '16 hours')), 'on a calendar the due time is business time');
SELECT womgr.update_calendar(:t, :cal, p_hours => '{"mon": [["08:00", "12:00"]], "tue": [["08:00", "12:00"]], "wed": [["08:00", "12:00"]], "thu": [["08:00", "12:00"]], "fri": [["08:00", "12:00"]]}') \gset
SELECT is(womgr.sla_recalculate(:t, :cal, 'keep'), 0, 'keep: nothing moves');
SELECT is((SELECT calendar_version FROM womgr.sla_clock WHERE work_order_id = :w7 AND metric = 'resolution'), 1, 'the clock stays on version 1');
SELECT is(womgr.sla_recalculate(:t, :cal, 'remaining'), 1, 'remaining: the open clock moves');
SELECT is((SELECT (calendar_version, due_at = womgr.add_business_time(:t, :cal, counted_to, target - consumed))
             FROM womgr.sla_clock WHERE work_order_id = :w7 AND metric = 'resolution'), (2, true),
          'to version 2, its remaining time on the new hours');
SELECT is(womgr.sla_recalculate(:t, :cal, 'all'), 1, 'all: recomputed from the start');
SELECT is((SELECT (consumed = womgr.business_time_between(:t, :cal, started_at, counted_to),
                   due_at = womgr.add_business_time(:t, :cal, counted_to, target - consumed))
             FROM womgr.sla_clock WHERE work_order_id = :w7 AND metric = 'resolution'), (true, true),
          'its consumed time and due time are those of the new version');

-- cancelling keeps what was met; a status whose SLA clock is "stop" stops every clock
SELECT pg_temp.wo(:c, :s, 'repair') AS w10 \gset
SELECT womgr.assign(:t, :w10, :tech) \gset
SELECT womgr.transition(:t, :w10, 'scheduled', NULL, NULL, now() + interval '1 minute') \gset
SELECT womgr.transition(:t, :w10, 'cancelled', 'customer cancelled', NULL, now() + interval '2 minutes') \gset
SELECT is((SELECT array_agg(metric || ':' || state ORDER BY metric) FROM womgr.sla_clock WHERE work_order_id = :w10),
          ARRAY['resolution:cancelled', 'response:met'], 'cancelling keeps the met response and cancels the rest');
SELECT womgr.add_workflow_status(:t, 'standard', '{"code": "resolved_remote", "label": "Resolved remotely", "category": "in_progress", "sla_clock": "stop"}') \gset
SELECT womgr.add_workflow_transition(:t, 'standard', '{"from": "in_progress", "to": "resolved_remote"}') \gset
SELECT womgr.add_workflow_transition(:t, 'standard', '{"from": "resolved_remote", "to": "in_progress"}') \gset
SELECT pg_temp.wo(:c, :s, 'repair') AS w11 \gset
SELECT womgr.assign(:t, :w11, :tech) \gset
SELECT womgr.transition(:t, :w11, 'scheduled', NULL, NULL, now() + interval '1 minute') \gset
SELECT womgr.transition(:t, :w11, 'in_progress', NULL, NULL, now() + interval '2 minutes') \gset
SELECT womgr.transition(:t, :w11, 'resolved_remote', NULL, NULL, now() + interval '3 minutes') \gset
SELECT is((SELECT (state, consumed) FROM womgr.sla_clock WHERE work_order_id = :w11 AND metric = 'resolution'),
          ('met'::text, interval '3 minutes'), 'a stop status stops the resolution clock though its category is in_progress');
-- a reopen after completion records the stopped time as a pause
SELECT womgr.update_work_order(:t, :w11, '{"resolution": "done"}') \gset
SELECT womgr.transition(:t, :w11, 'in_progress', NULL, NULL, now() + interval '4 minutes') \gset
SELECT is((SELECT (paused_at - now(), resumed_at - now(), status) FROM womgr.sla_pause WHERE work_order_id = :w11),
          (interval '3 minutes', interval '4 minutes', 'resolved_remote'::text), 'reopened, the stopped minute is a pause');
SELECT is((SELECT (state, consumed, due_at - now()) FROM womgr.sla_clock WHERE work_order_id = :w11 AND metric = 'resolution'),
          ('running'::text, interval '3 minutes', interval '31 minutes'), 'and the clock runs on without it (high: 30 minutes)');
-- a policy without a calendar uses the branch's
SELECT womgr.update_branch(:t, :nbo, jsonb_build_object('calendar_id', :cal)) \gset
SELECT pg_temp.wo(:c, :s, 'repair') AS w8 \gset
SELECT is((SELECT (p.code, k.calendar_id, k.calendar_version) FROM womgr.sla_clock k JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id)
            WHERE k.work_order_id = :w8 AND k.metric = 'resolution'), ('standard'::text, :cal::bigint, 2),
          'the default policy has no calendar: the branch''s calendar (current version) is used');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, %s, %L)', :t, :nbo, '{"calendar_id": 999999}'), '23503',
                 'calendar 999999 does not exist', 'update_branch: unknown calendar');

-- a policy can start its clocks at a status instead of at creation
SELECT womgr.create_sla_policy(:t, '{"code": "from_booking", "name": "From booking", "scope": "type", "type": "maintenance",
    "start_status": "scheduled", "targets": [{"metric": "arrival", "target": "2 hours"}]}') \gset
SELECT pg_temp.wo(:c, :s, 'maintenance') AS w9 \gset
SELECT is((SELECT (state, started_at IS NULL, due_at IS NULL) FROM womgr.sla_clock WHERE work_order_id = :w9 AND metric = 'arrival'),
          ('pending'::text, true, true), 'the clock waits for its start status');
SELECT is((SELECT state FROM womgr.sla_status WHERE work_order_id = :w9 AND metric = 'arrival'), 'pending', 'sla_status shows it pending');
SELECT womgr.assign(:t, :w9, :tech) \gset
SELECT womgr.transition(:t, :w9, 'scheduled', NULL, NULL, now() + interval '1 minute') \gset
SELECT is((SELECT (state, started_at - now(), consumed) FROM womgr.sla_clock WHERE work_order_id = :w9 AND metric = 'arrival'),
          ('running'::text, interval '1 minute', interval '0'), 'and starts when the work order is scheduled');
SELECT is((SELECT due_at = womgr.add_business_time(:t, :cal, now() + interval '1 minute', '2 hours') FROM womgr.sla_clock
            WHERE work_order_id = :w9 AND metric = 'arrival'), true, 'due two business hours later (the branch calendar)');

-- a reclassification into a policy with other metrics: those it lacks stop, those it adds start now
SELECT pg_temp.wo(:c, :s, 'repair') AS w12 \gset
SELECT womgr.reclassify(:t, :w12, 'maintenance', 'planned work after all') \gset
SELECT is((SELECT array_agg(k.metric || ':' || k.state || ':' || p.code ORDER BY k.metric) FROM womgr.sla_clock k
             JOIN womgr.sla_policy p USING (tenant_id, sla_policy_id) WHERE k.work_order_id = :w12),
          ARRAY['arrival:running:from_booking', 'resolution:cancelled:standard', 'response:cancelled:standard'],
          'the new policy''s arrival clock starts, the old policy''s response and resolution are cancelled');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "start_status": "booked"}'),
                 '22023', 'start status "booked" is not a status of any workflow of the tenant', 'create_sla_policy: unknown start status');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "warn_at": [70000]}'),
                 '22003', NULL, 'create_sla_policy: a huge warning percentage');

-- bad input
SELECT throws_ok(format('SELECT womgr.sla_recalculate(%s, %s, %L)', :t, :cal, 'some'), '22023', 'recalculation mode "some" is not known',
                 'sla_recalculate: unknown mode');
SELECT throws_ok(format('SELECT womgr.sla_recalculate(%s, 999999, %L)', :t, 'all'), 'P0002', NULL, 'sla_recalculate: unknown calendar');
SELECT throws_ok(format('SELECT womgr.sla_tick(%s, NULL)', :t), '22004', NULL, 'sla_tick: no time');
SELECT throws_ok('SELECT womgr.sla_tick(999999)', '23503', NULL, 'sla_tick: unknown tenant');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "region"}'), '22023', NULL,
                 'create_sla_policy: unknown scope');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X"}'), '23505', NULL,
                 'create_sla_policy: a second default');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "customer_id": 1}'),
                 '22023', NULL, 'create_sla_policy: a field of another scope');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "nope"}'), '23503', NULL,
                 'create_sla_policy: unknown type');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "contract", "contract": "nope"}'), '23503', NULL,
                 'create_sla_policy: unknown contract');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "calendar_id": 999999}'),
                 '23503', NULL, 'create_sla_policy: unknown calendar');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "warn_at": [0]}'),
                 '22003', NULL, 'create_sla_policy: warning at 0 %');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "warn_at": 50}'),
                 '42804', NULL, 'create_sla_policy: warn_at not a list');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "escalation": {"breach": {"page": true}}}'),
                 '22023', NULL, 'create_sla_policy: unknown escalation');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "escalation": {"breach": {"notify": ["boss"]}}}'),
                 '22023', NULL, 'create_sla_policy: unknown role to notify');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "targets": [{"metric": "speed", "target": "1 hour"}]}'),
                 '22023', NULL, 'create_sla_policy: unknown metric');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "targets": [{"metric": "response", "target": "soon"}]}'),
                 '22023', NULL, 'create_sla_policy: a target that is not a duration');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "targets": [{"metric": "response", "target": "-1 hour"}]}'),
                 '22023', NULL, 'create_sla_policy: a negative target');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "targets": [{"metric": "response", "target": "1 month"}]}'),
                 '22023', NULL, 'create_sla_policy: a target in months');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "targets": [{"metric": "response", "target": "1 hour"}, {"metric": "response", "target": "2 hours"}]}'),
                 '23505', NULL, 'create_sla_policy: two targets for one metric and priority');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "x", "name": "X", "scope": "type", "type": "repair", "targets": [{"metric": "response", "priority": "nope", "target": "1 hour"}]}'),
                 '23503', NULL, 'create_sla_policy: unknown priority');
SELECT throws_ok(format('SELECT womgr.create_sla_policy(%s, %L)', :t, '{"code": "standard", "name": "X", "scope": "type", "type": "repair"}'), '23505', NULL,
                 'create_sla_policy: duplicate code');
SELECT throws_ok(format('SELECT womgr.create_contract(%s, %L)', :t, jsonb_build_object('code', 'X', 'name', 'X', 'customer_id', :c,
                        'valid_from', '2026-12-31', 'valid_until', '2026-01-01')), '22023', 'the contract ends before it starts',
                 'create_contract: ends before it starts');
SELECT throws_ok(format('SELECT womgr.create_contract(%s, %L)', :t, jsonb_build_object('code', 'X', 'name', 'X', 'customer_id', 999999,
                        'valid_from', '2026-01-01')), '23503', NULL, 'create_contract: unknown customer');
SELECT throws_ok(format('SELECT womgr.create_contract(%s, %L)', :t, jsonb_build_object('code', 'X', 'name', 'X', 'customer_id', :c,
                        'valid_from', '1 Jan 2026')), '22007', NULL, 'create_contract: a date that is not YYYY-MM-DD');
SELECT throws_ok(format('SELECT womgr.create_contract(%s, %L)', :t, jsonb_build_object('code', 'GOLD-2026', 'name', 'X', 'customer_id', :c,
                        'valid_from', '2026-01-01')), '23505', NULL, 'create_contract: duplicate code');

SELECT * FROM finish();
ROLLBACK;
