-- dispatch: the hard filters of womgr.match_technicians (skills and levels,
-- certifications, branch and territories, shifts, time off, bookings with
-- travel), its ranking and reasons on a hand-built Nairobi scenario, GPS
-- pings, the dispatch policy, no double booking, emergency dispatch with
-- bumping, batch planning against greedy, day routes, and every bad input.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();
SET LOCAL TimeZone = 'UTC';

SELECT womgr.create_tenant('{"code": "dispatch-test", "name": "Jua Kali Solar Ltd", "timezone": "Africa/Nairobi"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi", "location": {"lat": -1.2864, "lon": 36.8172}}') AS nbo \gset
SELECT womgr.create_branch(:t, '{"code": "MSA", "name": "Mombasa", "location": {"lat": -4.0435, "lon": 39.6682}}') AS msa \gset
SELECT womgr.create_skill(:t, '{"code": "solar", "name": "Solar PV"}') \gset
SELECT womgr.create_skill(:t, '{"code": "electrical", "name": "Electrical"}') \gset
SELECT womgr.create_work_order_type(:t, '{"code": "solar_install", "name": "Solar installation", "estimated_duration": "2 hours",
                                          "required_skills": {"solar": 3, "electrical": 2}}') \gset
-- weekday day shift and a night shift, Nairobi time
SELECT womgr.create_calendar(:t, 'Day shift', 'Africa/Nairobi',
    '{"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]], "wed": [["08:00", "17:00"]], "thu": [["08:00", "17:00"]],
      "fri": [["08:00", "17:00"]]}', '{}') AS day_shift \gset
SELECT womgr.create_calendar(:t, 'Night shift', 'Africa/Nairobi',
    '{"mon": [["20:00", "24:00"]], "tue": [["20:00", "24:00"]], "wed": [["20:00", "24:00"]], "thu": [["20:00", "24:00"]],
      "fri": [["20:00", "24:00"]]}', '{}') AS night_shift \gset

CREATE FUNCTION pg_temp.tech(p_name text, p_lat float8, p_lon float8, p_skills jsonb, p_extra jsonb DEFAULT '{}')
    RETURNS bigint LANGUAGE sql AS $$
    SELECT womgr.create_technician((SELECT tenant_id FROM womgr.tenant WHERE code = 'dispatch-test'),
        jsonb_build_object('name', p_name, 'home_branch_id', (SELECT branch_id FROM womgr.branch WHERE code = 'NBO'
                                                                 AND tenant_id = (SELECT tenant_id FROM womgr.tenant WHERE code = 'dispatch-test')),
                           'home_location', jsonb_build_object('lat', p_lat, 'lon', p_lon), 'skills', p_skills,
                           'calendar_id', (SELECT calendar_id FROM womgr.calendar WHERE name = 'Day shift'
                                             AND tenant_id = (SELECT tenant_id FROM womgr.tenant WHERE code = 'dispatch-test')))
        || p_extra)
$$;
-- ids of the technicians a match returns, in rank order
CREATE FUNCTION pg_temp.matched(p_wo bigint, p_window tstzrange DEFAULT NULL) RETURNS bigint[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(m.technician_id ORDER BY m.rank), '{}')
      FROM womgr.match_technicians((SELECT tenant_id FROM womgr.tenant WHERE code = 'dispatch-test'), p_wo, 100, p_window) m
$$;
-- travel minutes by the default model: great circle (PostGIS, sphere) x 1.35 at 30 km/h, whole seconds
CREATE FUNCTION pg_temp.model_minutes(p_lat1 float8, p_lon1 float8, p_lat2 float8, p_lon2 float8) RETURNS float8 LANGUAGE sql AS $$
    SELECT ceil(ST_Distance(ST_MakePoint(p_lon1, p_lat1)::geography, ST_MakePoint(p_lon2, p_lat2)::geography, false)
                * 1.35 / (30 / 3.6)) / 60.0
$$;

-- the site: Kilimani, Nairobi
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Kilimani Heights', 'branch_id', :nbo)) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Block C roof', 'branch_id', :nbo,
                                                  'location', jsonb_build_object('lat', -1.2921, 'lon', 36.7830))) AS s \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'solar_install', 'branch_id', :nbo,
                                                       'description', 'Install 5 kW array',
                                                       'requested_window', jsonb_build_array('2026-12-01 08:00+03', '2026-12-01 12:00+03'))) AS wo \gset

-- Westlands: exactly the levels needed
SELECT pg_temp.tech('Amina Westlands', -1.2676, 36.8108, '[{"skill": "solar", "level": 3}, {"skill": "electrical", "level": 2}]',
                    '{"rating": 4.0}') AS amina \gset
-- Karen: further, an expert in both
SELECT pg_temp.tech('Brian Karen', -1.3197, 36.7073, '[{"skill": "solar", "level": 5}, {"skill": "electrical", "level": 5}]') AS brian \gset
-- CBD: one level short in solar
SELECT pg_temp.tech('Chege Junior', -1.2864, 36.8172, '[{"skill": "solar", "level": 2}, {"skill": "electrical", "level": 4}]') AS chege \gset
-- CBD: certification ran out
SELECT pg_temp.tech('Dorcas Lapsed', -1.2864, 36.8172,
                    '[{"skill": "solar", "level": 4, "certified_until": "2026-06-30"}, {"skill": "electrical", "level": 3}]') AS dorcas \gset
-- CBD: works nights
SELECT pg_temp.tech('Evans Nights', -1.2864, 36.8172, '[{"skill": "solar", "level": 4}, {"skill": "electrical", "level": 3}]',
                    jsonb_build_object('calendar_id', :night_shift)) AS evans \gset
-- CBD: booked all morning elsewhere
SELECT pg_temp.tech('Faith Busy', -1.2864, 36.8172, '[{"skill": "solar", "level": 4}, {"skill": "electrical", "level": 3}]') AS faith \gset
-- CBD: on leave that day
SELECT pg_temp.tech('George Leave', -1.2864, 36.8172, '[{"skill": "solar", "level": 4}, {"skill": "electrical", "level": 3}]') AS george \gset
-- CBD: left the company
SELECT pg_temp.tech('Halima Gone', -1.2864, 36.8172, '[{"skill": "solar", "level": 4}, {"skill": "electrical", "level": 3}]',
                    '{"active": false}') AS halima \gset
-- Mombasa branch, but living in Nairobi (Kileleshwa)
SELECT pg_temp.tech('Idris Coast', -1.2800, 36.7800, '[{"skill": "solar", "level": 3}, {"skill": "electrical", "level": 2}]',
                    jsonb_build_object('home_branch_id', :msa)) AS idris \gset

SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair', 'branch_id', :nbo,
                                                       'description', 'Other job')) AS other \gset
SELECT womgr.assign(:t, :other, :faith, 'lead', '2026-12-01 07:30+03', '2026-12-01 12:30+03') \gset
SELECT womgr.add_time_off(:t, :george, '2026-12-01 00:00+03', '2026-12-02 00:00+03', 'annual leave') \gset

-- ---------- hard filters ----------
SELECT is(pg_temp.matched(:wo), ARRAY[:amina, :brian]::bigint[],
          'only the qualified, certified, on-shift, free, active technicians of the branch are returned, best first');
SELECT ok(NOT (pg_temp.matched(:wo) && ARRAY[:chege, :dorcas, :evans, :faith, :george, :halima, :idris]::bigint[]),
          'never: a level too low, a lapsed certificate, off shift, booked, on leave, inactive, another branch');
SELECT ok(:faith = ANY (pg_temp.matched(:wo, tstzrange('2026-12-01 08:00+03', '2026-12-01 17:00+03'))),
          'the busy technician is a candidate once the window reaches past her booking');
SELECT is((SELECT reasons ->> 'travel_from' FROM womgr.match_technicians(:t, :wo, 100, tstzrange('2026-12-01 08:00+03', '2026-12-01 17:00+03'))
            WHERE technician_id = :faith), 'previous job', 'after a booking, travel starts at that job''s site');
SELECT is((SELECT (reasons ->> 'start_at')::timestamptz FROM womgr.match_technicians(:t, :wo, 100, tstzrange('2026-12-01 08:00+03', '2026-12-01 17:00+03'))
            WHERE technician_id = :faith), '2026-12-01 12:30+03'::timestamptz,
          'she starts when the booking ends (the other job is at the same site: no travel)');
SELECT ok(:evans = ANY (pg_temp.matched(:wo, tstzrange('2026-12-01 20:00+03', '2026-12-01 23:30+03'))),
          'the night-shift technician is a candidate at night');
SELECT is(pg_temp.matched(:wo, tstzrange('2026-12-01 20:00+03', '2026-12-01 23:30+03')), ARRAY[:evans]::bigint[],
          '... and the day-shift technicians are not');
SELECT is(pg_temp.matched(:wo, tstzrange('2026-12-01 08:00+03', '2026-12-01 09:30+03')), '{}'::bigint[],
          'a window shorter than the job plus travel has no candidates');
SELECT is(pg_temp.matched(:wo, tstzrange('2026-12-05 08:00+03', '2026-12-05 17:00+03')), '{}'::bigint[],
          'nobody works on Saturday in this company');

-- a technician who reaches the level becomes a candidate at once (matching
-- keeps lists of qualified technicians; changing skills drops them)
SELECT womgr.set_technician_skill(:t, :chege, 'solar', 3) \gset
SELECT ok(:chege = ANY (pg_temp.matched(:wo)), 'after training to solar level 3 the technician is a candidate');
SELECT womgr.set_technician_skill(:t, :chege, 'solar', 2) \gset
SELECT ok(NOT :chege = ANY (pg_temp.matched(:wo)), '... and not once the level is back to 2');

-- certificates run to the end of their last day in the branch's time zone,
-- whatever the session's (this test runs in UTC)
SELECT pg_temp.tech('Jabari Midnight', -1.2864, 36.8172,
                    '[{"skill": "solar", "level": 3, "certified_until": "2026-12-01"}, {"skill": "electrical", "level": 2}]',
                    '{"calendar_id": null}') AS jabari \gset
SELECT ok(:jabari = ANY (pg_temp.matched(:wo, tstzrange('2026-12-01 21:00+03', '2026-12-01 23:59+03'))),
          'a certificate valid until 1 December counts on the evening of 1 December, Nairobi time');
SELECT ok(NOT :jabari = ANY (pg_temp.matched(:wo, tstzrange('2026-12-02 00:30+03', '2026-12-02 06:00+03'))),
          '... and not after midnight in Nairobi, though it is still 1 December in UTC');
SELECT womgr.update_technician(:t, :jabari, '{"active": false}') \gset

-- ---------- ranking and reasons ----------
SELECT is((SELECT array_agg(rank ORDER BY technician_id) FROM womgr.match_technicians(:t, :wo)), ARRAY[1, 2],
          'ranks 1 and 2');
SELECT ok((SELECT abs(travel_minutes - pg_temp.model_minutes(-1.2676, 36.8108, -1.2921, 36.7830)) < 0.02
             FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina),
          'travel: great-circle distance x 1.35 at 30 km/h (checked against PostGIS on the sphere)');
SELECT is((SELECT (reasons ->> 'start_at')::timestamptz FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina),
          '2026-12-01 08:00+03'::timestamptz + make_interval(secs => pg_temp.model_minutes(-1.2676, 36.8108, -1.2921, 36.7830) * 60),
          'she leaves when her shift starts and is on site after the travel');
SELECT is((SELECT skill_fit FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina), 1.0::float8,
          'skill fit 1: exactly the levels needed');
SELECT is((SELECT skill_fit FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :brian), 0.375::float8,
          'skill fit of the expert: 1 - mean((5-3)/4, (5-2)/4) = 0.375');
SELECT is((SELECT workload FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina), 0.0::float8, 'nothing booked: workload 0');
-- score = sum(weight x value) / sum(weights), by hand for Amina:
--   travel 0.40 x (1 - t/120), skill 0.10 x 1, workload 0.20 x 1, sla 0.15 x 1 (no SLA), preferred 0.10 x 0, rating 0.05 x (4-1)/4
SELECT ok((SELECT abs(score - (0.40 * (1 - pg_temp.model_minutes(-1.2676, 36.8108, -1.2921, 36.7830) / 120)
                               + 0.10 + 0.20 + 0.15 + 0 + 0.05 * 0.75) / 1.0) < 1e-9
             FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina),
          'the score is the weighted sum of the documented parts');
SELECT is((SELECT jsonb_build_object('keys', (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(reasons) k),
                                     'skills', reasons -> 'skill_fit' -> 'skills', 'position', reasons -> 'position')
             FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina),
          '{"keys": ["position", "preferred", "rating", "skill_fit", "sla", "start_at", "travel", "travel_from", "workload"],
            "skills": [{"skill": "solar", "level": 3, "min_level": 3}, {"skill": "electrical", "level": 2, "min_level": 2}],
            "position": "home"}'::jsonb,
          'reasons explain every part of the score');

-- a booking later in the window counts as workload
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair', 'branch_id', :nbo,
                                                       'description', 'Afternoon job')) AS later \gset
SELECT womgr.assign(:t, :later, :amina, 'lead', '2026-12-01 11:00+03', '2026-12-01 12:00+03') \gset
SELECT is((SELECT workload FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina), 0.25::float8,
          'one hour booked out of four hours of shift in the window: workload 0.25');

-- preferred technician
SELECT womgr.set_preferred_technician(:t, :c, :brian) \gset
SELECT is((SELECT reasons -> 'preferred' ->> 'why' FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :brian), 'preferred',
          'the customer''s preferred technician gets the preferred points');
-- weights: travel only
SELECT womgr.set_dispatch_policy(:t, NULL, '{"w_travel": 1, "w_skill_fit": 0, "w_workload": 0, "w_sla": 0, "w_preferred": 0, "w_rating": 0}') \gset
SELECT is(pg_temp.matched(:wo), ARRAY[:amina, :brian]::bigint[], 'travel only: the nearest first');
SELECT womgr.set_dispatch_policy(:t, NULL, '{"w_travel": 0, "w_preferred": 1}') \gset
SELECT is(pg_temp.matched(:wo), ARRAY[:brian, :amina]::bigint[], 'preferred only: the preferred technician first');
-- a branch policy overrides the tenant's
SELECT womgr.set_dispatch_policy(:t, :nbo, '{"w_travel": 1, "w_preferred": 0}') \gset
SELECT is(pg_temp.matched(:wo), ARRAY[:amina, :brian]::bigint[], 'the branch''s own policy wins over the tenant''s');
SELECT womgr.set_dispatch_policy(:t, :nbo, '{"max_travel_minutes": 12}') \gset
SELECT is(pg_temp.matched(:wo), ARRAY[:amina]::bigint[], 'technicians beyond max_travel_minutes are not candidates');
SELECT womgr.set_dispatch_policy(:t, :nbo, '{"max_travel_minutes": 120, "cross_branch": true}') \gset
SELECT ok(:idris = ANY (pg_temp.matched(:wo)), 'cross_branch: technicians of other branches are candidates');
SELECT womgr.set_dispatch_policy(:t, :nbo, '{"cross_branch": false}') \gset

-- territories: the Mombasa technician also covers Kilimani
SELECT womgr.create_territory(:t, jsonb_build_object('code', 'kilimani', 'name', 'Kilimani and Kileleshwa',
    'area', 'POLYGON((36.76 -1.31, 36.80 -1.31, 36.80 -1.27, 36.76 -1.27, 36.76 -1.31))', 'technicians', jsonb_build_array(:idris))) \gset
SELECT is((pg_temp.matched(:wo))[1], :idris::bigint, 'a territory around the site makes a technician of another branch a candidate (and he is nearest)');

-- GPS pings: a fresh one wins over home, a stale one does not.  Fresh means
-- recent when the window starts: the job is on 1 December, so for this part
-- a ping stays fresh for 30 days.
SELECT womgr.set_dispatch_policy(:t, :nbo, '{"ping_fresh": "30 days"}') \gset
SELECT womgr.record_location(:t, :brian, -1.2930, 36.7840, now() - interval '5 minutes', 12) \gset
SELECT is((SELECT reasons ->> 'position' FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :brian), 'ping',
          'a fresh ping is the position');
SELECT ok((SELECT distance_m < 200 FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :brian),
          'travel is measured from the ping (next door), not from Karen');
SELECT womgr.record_location(:t, :brian, -1.2930, 36.7840, now() - interval '5 minutes', 12) \gset
SELECT is((SELECT count(*)::int FROM womgr.technician_location WHERE tenant_id = :t AND technician_id = :brian), 1,
          'the same ping twice is kept once');
SELECT womgr.set_dispatch_policy(:t, :nbo, '{"ping_fresh": "30 minutes"}') \gset
SELECT womgr.record_location(:t, :amina, -1.2930, 36.7840, now() - interval '2 hours') \gset
SELECT is((SELECT reasons ->> 'position' FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :amina), 'home',
          'a ping that is not recent when the window starts (ping_fresh 30 minutes) gives way to the home base');
SELECT is((SELECT reasons ->> 'position' FROM womgr.match_technicians(:t, :wo) WHERE technician_id = :brian), 'home',
          '... so a plan for another day starts from home');
SELECT womgr.record_location(:t, :brian, -1.3000, 36.7000, now() - interval '1 hour') \gset
SELECT is((SELECT concat_ws(',', ST_Y(last_location::geometry), ST_X(last_location::geometry)) FROM womgr.technician
            WHERE tenant_id = :t AND technician_id = :brian), '-1.293,36.784', 'an older ping arriving late does not move the technician back');
SELECT is(womgr.purge_technician_locations(:t), 0::bigint, 'nothing is older than the retention');
SELECT is((SELECT last_location_at IS NULL FROM womgr.technician WHERE tenant_id = :t AND technician_id = :amina), true,
          'purging clears a stale position, so the search index finds the technician at home');

-- ---------- no double booking ----------
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s, ''lead'', ''2026-12-01 11:30+03'', ''2026-12-01 13:00+03'')', :t, :wo, :amina),
                 '23P01', format('technician %s is already booked then', :amina), 'an overlapping booking is refused');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s, ''lead'', ''2026-12-01 12:30+03'', ''2026-12-01 14:00+03'', ''45 minutes'')', :t, :wo, :amina),
                 '23P01', NULL, 'travel before a booking is busy time too: 45 minutes back from 12:30 reaches into the 11:00-12:00 job');
SELECT lives_ok(format('SELECT womgr.assign(%s, %s, %s, ''lead'', ''2026-12-01 12:30+03'', ''2026-12-01 14:00+03'', ''20 minutes'')', :t, :wo, :amina),
                'travel that fits between the jobs is fine');
SELECT throws_ok(format('INSERT INTO womgr.assignment (tenant_id, work_order_id, role, technician_id, booked, assigned_by)
                         VALUES (%s, %s, ''crew'', %s, tstzrange(''2026-12-01 11:59+03'', ''2026-12-01 12:10+03''), ''dba'')', :t, :other, :amina),
                 '23P01', NULL, 'the exclusion constraint refuses overlaps even past the functions');
SELECT womgr.transition(:t, :later, 'cancelled', 'customer called off') \gset
SELECT is((SELECT end_reason FROM womgr.assignment WHERE tenant_id = :t AND work_order_id = :later), 'work order cancelled',
          'cancelling a work order frees its future bookings');

-- ---------- bad input ----------
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(NULL, %s)', :wo), '22004', NULL, 'match: null tenant');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, NULL)', :t), '22004', NULL, 'match: null work order');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, 999999999)', :t), 'P0002', NULL, 'match: unknown work order');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s, 0)', :t, :wo), '22023', 'limit must be between 1 and 1000', 'match: limit 0');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s, 1001)', :t, :wo), '22023', NULL, 'match: limit too big');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s, NULL)', :t, :wo), '22023', NULL, 'match: null limit');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s, 10, ''empty'')', :t, :wo), '22023', 'the dispatch window is empty', 'match: empty window');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s, 10, tstzrange(now(), now() + interval ''40 days''))', :t, :wo),
                 '54000', 'the dispatch window is longer than 31 days', 'match: window too long');
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Somewhere')) AS s_nowhere \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s_nowhere, 'type', 'solar_install',
                                                       'description', 'Where?')) AS wo_nowhere \gset
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s)', :t, :wo_nowhere), '55000', NULL, 'match: the site has no location');
SELECT throws_ok(format('SELECT * FROM womgr.match_technicians(%s, %s)', :t, :later), '55000', NULL, 'match: a cancelled work order');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"w_travel": "high"}'')', :t), '22023', NULL, 'policy: a weight that is not a number');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"w_travel": -1}'')', :t), '22023', NULL, 'policy: a negative weight');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"w_travel": 0, "w_skill_fit": 0, "w_workload": 0, "w_sla": 0, "w_preferred": 0, "w_rating": 0}'')', :t),
                 '22023', NULL, 'policy: all weights zero');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"speed": 40}'')', :t), '22023', NULL, 'policy: an unknown field');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"horizon": "soon"}'')', :t), '22023', NULL, 'policy: an unreadable interval');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"travel_function": "no_such_fn(geography, geography)"}'')', :t),
                 '42883', NULL, 'policy: a travel function that does not exist');
CREATE FUNCTION pg_temp.road_text(p_from geography, p_to geography) RETURNS text LANGUAGE sql AS $$ SELECT 'far' $$;
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"travel_function": "pg_temp.road_text"}'')', :t),
                 '22023', NULL, 'policy: a travel function that does not return minutes');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, 999999, ''{}'')', :t), '23503', NULL, 'policy: unknown branch');
SELECT throws_ok(format('SELECT womgr.add_time_off(%s, %s, ''2026-12-02'', ''2026-12-01'', ''leave'')', :t, :amina), '22023', NULL, 'time off: ends before it starts');
SELECT throws_ok(format('SELECT womgr.add_time_off(%s, %s, ''2026-12-01'', ''2026-12-02'', '' '')', :t, :amina), '22004', NULL, 'time off: no reason');
SELECT throws_ok(format('SELECT womgr.add_time_off(%s, 999999, ''2026-12-01'', ''2026-12-02'', ''x'')', :t), '23503', NULL, 'time off: unknown technician');
SELECT throws_ok(format('SELECT womgr.add_time_off(%s, NULL, ''2026-12-01'', ''2026-12-02'', ''x'')', :t), '22004', 'technician id must not be null', 'time off: no technician');
SELECT throws_ok(format('SELECT womgr.set_preferred_technician(%s, NULL, %s)', :t, :amina), '22004', 'customer id must not be null', 'preferred: no customer');
SELECT throws_ok(format('SELECT womgr.set_dispatch_policy(%s, NULL, ''{"horizon": 5}'')', :t), '22023', NULL, 'policy: an interval given as a bare number');
SELECT throws_ok(format('SELECT womgr.record_location(%s, %s, 95, 36.8)', :t, :amina), '22003', NULL, 'ping: latitude out of range');
SELECT throws_ok(format('SELECT womgr.record_location(%s, %s, NULL, 36.8)', :t, :amina), '22004', NULL, 'ping: no latitude');
SELECT throws_ok(format('SELECT womgr.record_location(%s, %s, -1.2, 36.8, now() + interval ''1 hour'')', :t, :amina), '22023', NULL, 'ping: in the future');
SELECT throws_ok(format('SELECT womgr.record_location(%s, %s, -1.2, 36.8, now(), -3)', :t, :amina), '22023', NULL, 'ping: negative accuracy');
SELECT throws_ok(format('SELECT womgr.create_territory(%s, ''{"code": "x", "name": "X", "area": "a circle"}'')', :t), '22023', NULL, 'territory: not WKT');
SELECT throws_ok(format('SELECT womgr.create_territory(%s, ''{"code": "kilimani", "name": "X", "area": "POLYGON((0 0, 1 0, 1 1, 0 0))"}'')', :t),
                 '23505', NULL, 'territory: duplicate code');
SELECT throws_ok(format('SELECT womgr.set_preferred_technician(%s, %s, 999999)', :t, :c), '23503', NULL, 'preferred: unknown technician');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s, ''lead'', NULL, NULL, ''10 minutes'')', :t, :wo, :brian), '22023', NULL,
                 'assign: travel without a booking');
SELECT throws_ok(format('SELECT * FROM womgr.plan_dispatch(%s, NULL, ''2026-12-01'')', :t), '22004', NULL, 'plan: no branch');
SELECT throws_ok(format('SELECT * FROM womgr.plan_dispatch(%s, 999999, ''2026-12-01'')', :t), '23503', NULL, 'plan: unknown branch');
SELECT throws_ok(format('SELECT * FROM womgr.plan_dispatch(%s, %s, ''infinity'')', :t, :nbo), '22023', NULL, 'plan: infinite day');
SELECT throws_ok(format('SELECT * FROM womgr.plan_dispatch(%s, %s, ''2026-12-01'', false, ''infinity'')', :t, :nbo), '22023',
                 'dispatch as of infinity is not possible', 'plan: as of infinity');
SELECT throws_ok(format('SELECT * FROM womgr.dispatch_emergency(%s, %s, ''-infinity'')', :t, :wo), '22023', NULL, 'emergency: as of -infinity');
SELECT throws_ok(format('SELECT * FROM womgr.day_route(%s, NULL, ''2026-12-01'')', :t), '22004', NULL, 'route: no technician');
SELECT throws_ok(format('SELECT * FROM womgr.day_route(%s, 999999, ''2026-12-01'')', :t), '23503', NULL, 'route: unknown technician');
SELECT throws_ok(format('SELECT * FROM womgr.dispatch_emergency(%s, %s)', :t, :wo_nowhere), '55000', NULL, 'emergency: the site has no location');

SELECT * FROM finish();
ROLLBACK;
