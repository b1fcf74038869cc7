-- dispatch_plan: booking what dispatch decides.  Batch planning with the
-- exact solver against greedy "nearest qualified" on a case where greedy is
-- worse, committing a plan or not, emergency dispatch bumping a
-- lower-priority booking (never a higher one), day routes in the best order
-- and within the customers' windows, and the road-travel hook.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();
SET LOCAL TimeZone = 'UTC';

SELECT womgr.create_tenant('{"code": "plan-test", "name": "Baridi Cooling Ltd", "timezone": "Africa/Nairobi"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS nbo \gset
SELECT womgr.create_branch(:t, '{"code": "EMG", "name": "Emergency desk"}') AS emg \gset
SELECT womgr.create_skill(:t, '{"code": "hvac", "name": "Air conditioning"}') \gset
SELECT womgr.create_skill(:t, '{"code": "gas", "name": "Gas safe"}') \gset
SELECT womgr.create_work_order_type(:t, '{"code": "ac_repair", "name": "AC repair", "estimated_duration": "1 hour",
                                          "required_skills": {"hvac": 1}}') \gset
SELECT womgr.create_work_order_type(:t, '{"code": "gas_repair", "name": "Gas repair", "estimated_duration": "1 hour",
                                          "required_skills": {"gas": 1}}') \gset
SELECT womgr.create_customer(:t, '{"name": "Baridi customers"}') AS c \gset
SELECT womgr.set_context(:t, 'wanjiru.dispatch', NULL, 'dispatcher') \gset

-- everything lies on the parallel 1.3 degrees south, x km east of 36.80 E
CREATE FUNCTION pg_temp.lon(p_km float8) RETURNS float8 LANGUAGE sql AS $$ SELECT 36.80 + p_km * 0.009 $$;
CREATE FUNCTION pg_temp.site(p_km float8) RETURNS bigint LANGUAGE sql AS $$
    SELECT womgr.create_site((SELECT tenant_id FROM womgr.tenant WHERE code = 'plan-test'),
        jsonb_build_object('customer_id', (SELECT customer_id FROM womgr.customer WHERE name = 'Baridi customers'),
                           'name', 'Site at ' || p_km || ' km', 'location', jsonb_build_object('lat', -1.30, 'lon', pg_temp.lon(p_km))))
$$;
CREATE FUNCTION pg_temp.tech(p_name text, p_branch text, p_km float8, p_skills jsonb DEFAULT '[{"skill": "hvac", "level": 2}]')
    RETURNS bigint LANGUAGE sql AS $$
    SELECT womgr.create_technician((SELECT tenant_id FROM womgr.tenant WHERE code = 'plan-test'),
        jsonb_build_object('name', p_name, 'skills', p_skills,
                           'home_branch_id', (SELECT branch_id FROM womgr.branch WHERE code = p_branch
                                                AND tenant_id = (SELECT tenant_id FROM womgr.tenant WHERE code = 'plan-test')),
                           'home_location', jsonb_build_object('lat', -1.30, 'lon', pg_temp.lon(p_km))))
$$;
CREATE FUNCTION pg_temp.job(p_km float8, p_branch text, p_priority text, p_type text DEFAULT 'ac_repair', p_window jsonb DEFAULT NULL)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_site bigint := pg_temp.site(p_km);   -- its own statement, so the work order sees it
BEGIN
    RETURN womgr.create_work_order((SELECT tenant_id FROM womgr.tenant WHERE code = 'plan-test'),
        jsonb_strip_nulls(jsonb_build_object(
            'customer_id', (SELECT customer_id FROM womgr.customer WHERE name = 'Baridi customers'), 'site_id', v_site,
            'type', p_type, 'priority', p_priority, 'description', 'Job at ' || p_km || ' km',
            'branch_id', (SELECT branch_id FROM womgr.branch WHERE code = p_branch
                            AND tenant_id = (SELECT tenant_id FROM womgr.tenant WHERE code = 'plan-test')),
            'requested_window', p_window)));
END
$$;
-- travel minutes for d km by the default model (x 1.35 at 30 km/h)
CREATE FUNCTION pg_temp.minutes(p_km1 float8, p_km2 float8) RETURNS float8 LANGUAGE sql AS $$
    SELECT ceil(ST_Distance(ST_MakePoint(pg_temp.lon(p_km1), -1.30)::geography, ST_MakePoint(pg_temp.lon(p_km2), -1.30)::geography, false)
                * 1.35 / (30 / 3.6)) / 60.0
$$;

-- the same without rounding up to whole seconds (routes do not round)
CREATE FUNCTION pg_temp.exact(p_km1 float8, p_km2 float8) RETURNS float8 LANGUAGE sql AS $$
    SELECT ST_Distance(ST_MakePoint(pg_temp.lon(p_km1), -1.30)::geography, ST_MakePoint(pg_temp.lon(p_km2), -1.30)::geography, false)
           * 1.35 / (30 / 3.6) / 60.0
$$;

-- ---------- batch planning: greedy is worse here ----------
-- A lives at 0 km and B at 10 km.  The urgent job at 4.9 km is a little
-- nearer to A, so greedy sends A there first, and then back to the job at
-- 0 km: 4.9 + 4.9 km.  The solver's chains do the job next door first and
-- then the one at 4.9 km, both inside their windows: 0 + 4.9 km.
SELECT pg_temp.tech('Achieng A', 'NBO', 0) AS a \gset
SELECT pg_temp.tech('Baraka B', 'NBO', 10) AS b \gset
SELECT pg_temp.job(4.9, 'NBO', 'high', p_window => '["2026-12-01 08:00+03", "2026-12-01 17:00+03"]') AS j1 \gset
SELECT pg_temp.job(0, 'NBO', 'normal', p_window => '["2026-12-01 08:00+03", "2026-12-01 17:00+03"]') AS j2 \gset
SELECT pg_temp.job(3, 'NBO', 'normal', 'gas_repair', '["2026-12-01 08:00+03", "2026-12-01 17:00+03"]') AS j3 \gset

CREATE TEMP TABLE plan AS SELECT * FROM womgr.plan_dispatch(:t, :nbo, '2026-12-01');
SELECT is((SELECT array_agg(work_order_id ORDER BY work_order_id) FROM plan), ARRAY[:j1, :j2, :j3]::bigint[],
          'the plan covers the branch''s queue for the day');
SELECT is((SELECT array_agg(concat_ws(':', work_order_id, technician_id, greedy_technician_id) ORDER BY work_order_id) FROM plan),
          ARRAY[concat_ws(':', :j1, :a, :a), concat_ws(':', :j2, :a, :a), :j3::text],
          'both send A to both jobs (B lives farther from each); nobody can do the gas job');
SELECT is((SELECT DISTINCT concat_ws('|', jobs_total, jobs_placed, greedy_jobs_placed) FROM plan), '3|2|2',
          'both place the two jobs someone is qualified for');
SELECT ok((SELECT DISTINCT abs(total_travel_minutes - pg_temp.minutes(0, 4.9)) < 0.001
                       AND abs(greedy_total_travel_minutes - (pg_temp.minutes(0, 4.9) + pg_temp.minutes(4.9, 0))) < 0.001 FROM plan),
          'totals: 4.9 km of travel for the solver (next door first), 9.8 km for greedy (the urgent job first, then back)');
SELECT is((SELECT start_at FROM plan WHERE work_order_id = :j1),
          '2026-12-01 09:00+03'::timestamptz + make_interval(secs => pg_temp.minutes(0, 4.9) * 60),
          'the solver''s A is at the urgent job after the hour next door and the drive, inside its window');
SELECT is((SELECT start_at FROM plan WHERE work_order_id = :j2), '2026-12-01 08:00+03'::timestamptz,
          'A starts next door at 08:00: no travel');
SELECT is((SELECT greedy_start_at FROM plan WHERE work_order_id = :j2),
          '2026-12-01 09:00+03'::timestamptz + make_interval(secs => pg_temp.minutes(4.9, 0) * 60),
          'greedy: A (no shift limits) drives before the window opens, is at the first job at 08:00, and back home after the drive');
SELECT is((SELECT count(*)::int FROM womgr.assignment WHERE tenant_id = :t), 0, 'without p_commit nothing is booked');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND event_type = 'assigned'), 0,
          '... and no event is left behind');

SELECT is((SELECT count(*)::int FROM womgr.plan_dispatch(:t, :nbo, '2026-12-01', true) WHERE technician_id IS NOT NULL), 2,
          'with p_commit the plan is booked');
SELECT is((SELECT array_agg(concat_ws(':', a.work_order_id, a.technician_id, a.booked) ORDER BY a.work_order_id)
             FROM womgr.assignment a WHERE a.tenant_id = :t AND a.ended_at IS NULL),
          ARRAY[concat_ws(':', :j1, :a, tstzrange('2026-12-01 09:00+03'::timestamptz + make_interval(secs => pg_temp.minutes(0, 4.9) * 60),
                                                   '2026-12-01 10:00+03'::timestamptz + make_interval(secs => pg_temp.minutes(0, 4.9) * 60))),
                concat_ws(':', :j2, :a, tstzrange('2026-12-01 08:00+03', '2026-12-01 09:00+03'))],
          'the bookings are the plan');
SELECT is((SELECT array_agg(status ORDER BY work_order_id) FROM womgr.work_order WHERE tenant_id = :t AND work_order_id IN (:j1, :j2, :j3)),
          ARRAY['scheduled', 'scheduled', 'new'], 'booked jobs are scheduled; the gas job stays in the queue');
SELECT is((SELECT travel_s FROM womgr.assignment WHERE tenant_id = :t AND work_order_id = :j1), (pg_temp.minutes(0, 4.9) * 60)::int,
          'the travel is kept with the booking, as busy time');
SELECT is((SELECT count(*)::int FROM womgr.plan_dispatch(:t, :nbo, '2026-12-01')), 1, 'planned jobs leave the queue');

-- ---------- day routes ----------
-- C lives at 20 km and is booked at 23, then 21, then 22 km (8 km with the
-- way home); the route goes out along the road and back: 6 km.
SELECT pg_temp.tech('Chebet C', 'NBO', 20) AS c_tech \gset
SELECT pg_temp.job(23, 'NBO', 'normal') AS r1 \gset
SELECT pg_temp.job(21, 'NBO', 'normal') AS r2 \gset
SELECT pg_temp.job(22, 'NBO', 'normal') AS r3 \gset
SELECT womgr.assign(:t, :r1, :c_tech, 'lead', '2026-12-01 09:00+03', '2026-12-01 10:00+03') \gset
SELECT womgr.assign(:t, :r2, :c_tech, 'lead', '2026-12-01 10:30+03', '2026-12-01 11:30+03') \gset
SELECT womgr.assign(:t, :r3, :c_tech, 'lead', '2026-12-01 12:00+03', '2026-12-01 13:00+03') \gset
CREATE TEMP TABLE route_c AS
SELECT r.*, substring(w.description FROM 'Job at ([0-9.]+) km')::float8 AS km
  FROM womgr.day_route(:t, :c_tech, '2026-12-01') r
  LEFT JOIN womgr.work_order w ON w.tenant_id = :t AND w.work_order_id = r.work_order_id;
SELECT isnt((SELECT array_agg(coalesce(work_order_id, 0) ORDER BY stop_no) FROM route_c), ARRAY[:r1, :r2, :r3, 0]::bigint[],
          'the stops are reordered');
SELECT ok((SELECT abs(total_distance_km - 6.0) < 0.05 FROM route_c WHERE work_order_id IS NULL),
          'the day''s total on the last row: 6 km out and back, not the 8 km of the booked order');
SELECT is((SELECT count(*)::int FROM route_c), 4, 'three stops and the way home');
SELECT ok((SELECT bool_and(abs(extract(epoch FROM r.arrive_at - (coalesce(p.finish_at, '2026-12-01 09:00+03')
                                                               + make_interval(secs => pg_temp.exact(coalesce(p.km, 20), coalesce(r.km, 20)) * 60)))) < 0.01)
             FROM route_c r LEFT JOIN route_c p ON p.stop_no = r.stop_no - 1),
          'ETAs: leaving home at 09:00 (the first booking''s start), each stop after the last one''s hour and the drive');
-- D has the same stops, but the customer at 23 km must be started by 09:30
SELECT pg_temp.tech('Daudi D', 'NBO', 20) AS d_tech \gset
SELECT pg_temp.job(21, 'NBO', 'normal') AS q1 \gset
SELECT pg_temp.job(23, 'NBO', 'normal', p_window => '["2026-12-01 09:00+03", "2026-12-01 10:30+03"]') AS q2 \gset
SELECT pg_temp.job(22, 'NBO', 'normal') AS q3 \gset
SELECT womgr.assign(:t, :q1, :d_tech, 'lead', '2026-12-01 09:00+03', '2026-12-01 10:00+03') \gset
SELECT womgr.assign(:t, :q2, :d_tech, 'lead', '2026-12-01 10:30+03', '2026-12-01 11:30+03') \gset
SELECT womgr.assign(:t, :q3, :d_tech, 'lead', '2026-12-01 12:00+03', '2026-12-01 13:00+03') \gset
SELECT is((SELECT array_agg(coalesce(work_order_id, 0) ORDER BY stop_no) FROM womgr.day_route(:t, :d_tech, '2026-12-01')),
          ARRAY[:q2, :q3, :q1, 0]::bigint[], 'a window makes the far stop first, then the rest on the way back');
SELECT is((SELECT sum(late_minutes) FROM womgr.day_route(:t, :d_tech, '2026-12-01')), 0::float8, 'nobody is late');
SELECT is((SELECT count(*)::int FROM womgr.day_route(:t, :d_tech, '2026-12-02')), 0, 'a day without bookings has no route');

-- ---------- emergency dispatch ----------
-- E1 lives next to the emergency and has a low-priority job starting in 5
-- minutes; E2 is free but 15 km away.  The emergency bumps E1's job.
SELECT pg_temp.tech('Esther E1', 'EMG', 100) AS e1 \gset
SELECT pg_temp.tech('Felix E2', 'EMG', 115) AS e2 \gset
SELECT pg_temp.job(100, 'EMG', 'low') AS low \gset
SELECT womgr.assign(:t, :low, :e1, 'lead', now() + interval '5 minutes', now() + interval '3 hours') \gset
SELECT womgr.transition(:t, :low, 'scheduled') \gset
SELECT pg_temp.job(101, 'EMG', 'emergency') AS em \gset
SELECT * FROM womgr.dispatch_emergency(:t, :em) \gset em_
SELECT is(:em_technician_id::bigint, :e1::bigint, 'the nearest technician is booked, bumping a low-priority job');
SELECT is(:'em_bumped_work_order_ids'::bigint[], ARRAY[:low]::bigint[], 'the bumped job is reported');
SELECT is(:'em_start_at'::timestamptz, now() + make_interval(secs => pg_temp.minutes(100, 101) * 60), 'she starts now, after the drive');
SELECT is((SELECT concat_ws('|', ended_by, end_reason) FROM womgr.assignment WHERE tenant_id = :t AND work_order_id = :low),
          'wanjiru.dispatch|bumped by emergency ' || (SELECT number FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :em),
          'the bumped booking ended, with the reason');
SELECT is((SELECT status FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :low), 'new', 'the bumped job is back in the queue');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :low AND event_type = 'bumped'), 1,
          'a "bumped" event on the bumped job');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND work_order_id = :low AND topic = 'work_order.bumped'), 1,
          '... and an outbox notification');
SELECT is((SELECT concat_ws('|', w.status, a.technician_id) FROM womgr.work_order w
             JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id AND a.ended_at IS NULL
            WHERE w.tenant_id = :t AND w.work_order_id = :em), 'scheduled|' || :e1, 'the emergency is scheduled with E1 as lead');
-- a second emergency never bumps the first: E2 comes from afar
SELECT pg_temp.job(101, 'EMG', 'emergency') AS em2 \gset
SELECT * FROM womgr.dispatch_emergency(:t, :em2) \gset em2_
SELECT is(concat_ws('|', :em2_technician_id, :'em2_bumped_work_order_ids'), concat_ws('|', :e2, '{}'),
          'an emergency booking is never bumped by another emergency');
SELECT pg_temp.job(101, 'EMG', 'emergency', 'gas_repair') AS em3 \gset
SELECT throws_ok(format('SELECT * FROM womgr.dispatch_emergency(%s, %s)', :t, :em3), 'WM004', NULL,
                 'nobody qualified: WM004, and nothing changes');
SELECT throws_ok(format('SELECT * FROM womgr.dispatch_emergency(%s, NULL)', :t), '22004', NULL, 'emergency: no work order');

-- ---------- SLA slack ----------
-- a 2-hour resolution target around the clock: S1 next door finishes in 1
-- hour (half the time left is slack), S2 30 km away would finish late
SELECT womgr.create_branch(:t, '{"code": "SLA", "name": "SLA desk"}') \gset
SELECT womgr.create_sla_policy(:t, '{"code": "ac_2h", "name": "AC in 2 hours", "scope": "type", "type": "ac_repair",
                                     "targets": [{"metric": "resolution", "target": "2 hours"}]}') \gset
SELECT pg_temp.tech('Sifa S1', 'SLA', 200) AS s1 \gset
SELECT pg_temp.tech('Tumaini S2', 'SLA', 230) AS s2 \gset
SELECT pg_temp.job(200, 'SLA', 'normal') AS sla_job \gset
SELECT is((SELECT array_agg((reasons -> 'sla' ->> 'value')::float8 ORDER BY rank) FROM womgr.match_technicians(:t, :sla_job)),
          ARRAY[0.5, 0]::float8[], 'SLA slack: half of the time left for the one next door, none for the one who would finish late');
SELECT is((SELECT DISTINCT (reasons -> 'sla' ->> 'resolution_due_at')::timestamptz FROM womgr.match_technicians(:t, :sla_job)),
          now() + interval '2 hours', 'the reasons name the due time');

-- ---------- the road-travel hook ----------
CREATE FUNCTION pg_temp.road_minutes(p_from geography, p_to geography) RETURNS float8 LANGUAGE sql AS $$ SELECT 42.0::float8 $$;
SELECT womgr.set_dispatch_policy(:t, NULL, jsonb_build_object('travel_function', 'pg_temp.road_minutes')) \gset
SELECT pg_temp.job(116, 'EMG', 'normal') AS hooked \gset
SELECT is((SELECT array_agg(DISTINCT travel_minutes) FROM womgr.match_technicians(:t, :hooked)), ARRAY[42.0]::float8[],
          'a travel function replaces the straight-line model');
SELECT womgr.set_dispatch_policy(:t, NULL, '{"travel_function": null}') \gset
SELECT ok((SELECT min(travel_minutes) < 42 FROM womgr.match_technicians(:t, :hooked)), '... until it is cleared');

SELECT * FROM finish();
ROLLBACK;
