-- route: the day-route engine womgr._route_order (src/route.c) on days built
-- by hand around Nairobi (stops on a line, a tour that must not cross itself,
-- a tight window, waiting, unavoidable lateness, exact ETAs against PostGIS,
-- the way home, ties), against an exhaustive search over every order written
-- here in PL/pgSQL on seeded random days of up to 7 stops, against an
-- independent 2-opt / or-opt check on random days of 10 to 16 stops (the
-- heuristic's own range), and every bad input.
-- Distances in the checks are PostGIS's ST_Distance(geography, geography,
-- false), on the sphere: nothing here calls womgr's own distance code.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;  -- random() must run in this backend only

-- ---------- reference helpers (no womgr code) ----------

CREATE FUNCTION pg_temp.dist(p_lat1 float8, p_lon1 float8, p_lat2 float8, p_lon2 float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    SELECT ST_Distance(ST_SetSRID(ST_MakePoint(p_lon1, p_lat1), 4326)::geography,
                       ST_SetSRID(ST_MakePoint(p_lon2, p_lat2), 4326)::geography, false)
$$;

-- A day: the start point first in lat/lon, then the stops; windows NULL = none.
CREATE TABLE pg_temp.day (
    id int PRIMARY KEY, depart timestamptz NOT NULL, lat float8[] NOT NULL, lon float8[] NOT NULL,
    svc float8[] NOT NULL, ew timestamptz[] NOT NULL, lw timestamptz[] NOT NULL,
    detour float8 NOT NULL DEFAULT 1.3, speed float8 NOT NULL DEFAULT 25, end_lat float8, end_lon float8);

CREATE FUNCTION pg_temp.route(p_id int)
RETURNS TABLE (seq int, stop int, arrive_at timestamptz, start_at timestamptz, finish_at timestamptz,
               travel_s float8, distance_m float8, wait_s float8, late_s float8)
LANGUAGE sql AS $$
    SELECT r.* FROM pg_temp.day d,
           womgr._route_order(d.depart, d.lat, d.lon, d.svc, d.ew, d.lw, d.detour, d.speed, d.end_lat, d.end_lon) r
     WHERE d.id = p_id
$$;

CREATE FUNCTION pg_temp.stops(p_id int) RETURNS int[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(stop ORDER BY seq) FILTER (WHERE stop IS NOT NULL), '{}') FROM pg_temp.route(p_id)
$$;

-- The reference objective of an order: (lateness, travel) in seconds.
CREATE FUNCTION pg_temp.cost(p_id int, p_order int[], OUT late float8, OUT travel float8)
LANGUAGE plpgsql AS $$
DECLARE
    d pg_temp.day;
    v_t float8 := 0;
    v_prev int := 1;
    v_leg float8;
    v_st float8;
BEGIN
    SELECT * INTO d FROM pg_temp.day WHERE id = p_id;
    late := 0;
    travel := 0;
    FOR i IN 1 .. coalesce(array_length(p_order, 1), 0) LOOP
        v_leg := pg_temp.dist(d.lat[v_prev], d.lon[v_prev], d.lat[p_order[i] + 1], d.lon[p_order[i] + 1])
                 * d.detour / (d.speed / 3.6);
        travel := travel + v_leg;
        v_st := greatest(v_t + v_leg, coalesce(extract(epoch FROM d.ew[p_order[i]] - d.depart)::float8, '-infinity'));
        late := late + greatest(0, v_st - coalesce(extract(epoch FROM d.lw[p_order[i]] - d.depart)::float8, 'infinity'));
        v_t := v_st + d.svc[p_order[i]];
        v_prev := p_order[i] + 1;
    END LOOP;
    IF d.end_lat IS NOT NULL THEN
        travel := travel + pg_temp.dist(d.lat[v_prev], d.lon[v_prev], d.end_lat, d.end_lon) * d.detour / (d.speed / 3.6);
    END IF;
END $$;

-- Exhaustive search: the best (lateness, then travel) over all n! orders
-- (Heap's algorithm), on a matrix of PostGIS distances.
CREATE FUNCTION pg_temp.brute(p_id int, OUT late float8, OUT travel float8)
LANGUAGE plpgsql AS $$
DECLARE
    d pg_temp.day;
    n int;
    v_tt float8[];
    v_home float8[];
    v_ew float8[];
    v_lw float8[];
    a int[];
    c int[];
    i int;
    v_x int;
    v_t float8;
    v_l float8;
    v_tr float8;
    v_st float8;
    v_prev int;
BEGIN
    SELECT * INTO d FROM pg_temp.day WHERE id = p_id;
    n := array_length(d.svc, 1);
    v_tt := array_fill(0::float8, ARRAY[n + 1, n + 1]);
    v_home := array_fill(0::float8, ARRAY[n + 1]);
    FOR p IN 1 .. n + 1 LOOP
        FOR q IN 1 .. n + 1 LOOP
            v_tt[p][q] := pg_temp.dist(d.lat[p], d.lon[p], d.lat[q], d.lon[q]) * d.detour / (d.speed / 3.6);
        END LOOP;
        IF d.end_lat IS NOT NULL THEN
            v_home[p] := pg_temp.dist(d.lat[p], d.lon[p], d.end_lat, d.end_lon) * d.detour / (d.speed / 3.6);
        END IF;
    END LOOP;
    v_ew := array_fill('-infinity'::float8, ARRAY[n]);
    v_lw := array_fill('infinity'::float8, ARRAY[n]);
    FOR p IN 1 .. n LOOP
        IF d.ew[p] IS NOT NULL THEN v_ew[p] := extract(epoch FROM d.ew[p] - d.depart); END IF;
        IF d.lw[p] IS NOT NULL THEN v_lw[p] := extract(epoch FROM d.lw[p] - d.depart); END IF;
    END LOOP;
    a := ARRAY(SELECT generate_series(1, n));
    c := array_fill(0, ARRAY[n]);
    late := 'infinity';
    travel := 'infinity';
    i := 1;
    LOOP
        -- evaluate a
        v_t := 0; v_l := 0; v_tr := 0; v_prev := 1;
        FOR k IN 1 .. n LOOP
            v_tr := v_tr + v_tt[v_prev][a[k] + 1];
            v_st := greatest(v_t + v_tt[v_prev][a[k] + 1], v_ew[a[k]]);
            v_l := v_l + greatest(0, v_st - v_lw[a[k]]);
            v_t := v_st + d.svc[a[k]];
            v_prev := a[k] + 1;
        END LOOP;
        v_tr := v_tr + v_home[v_prev];
        IF v_l < late OR (v_l = late AND v_tr < travel) THEN
            late := v_l;
            travel := v_tr;
        END IF;
        -- next permutation (Heap, iterative; c and i 0-based as in the textbook, arrays 1-based)
        LOOP
            EXIT WHEN i >= n OR c[i + 1] < i;
            c[i + 1] := 0;
            i := i + 1;
        END LOOP;
        EXIT WHEN i >= n;
        IF i % 2 = 0 THEN
            v_x := a[1]; a[1] := a[i + 1]; a[i + 1] := v_x;
        ELSE
            v_x := a[c[i + 1] + 1]; a[c[i + 1] + 1] := a[i + 1]; a[i + 1] := v_x;
        END IF;
        c[i + 1] := c[i + 1] + 1;
        i := 1;
    END LOOP;
END $$;

-- Improving 2-opt (reverse positions i..j) and or-opt (move 1-3 consecutive
-- stops, either way round, anywhere) moves on an order: by more than 1 ms.
CREATE FUNCTION pg_temp.improving_moves(p_id int, p_order int[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int := array_length(p_order, 1);
    v_base record;
    v_c record;
    v_try int[];
    v_seg int[];
    v_rest int[];
    v_found int := 0;
BEGIN
    v_base := pg_temp.cost(p_id, p_order);
    FOR i IN 1 .. n - 1 LOOP
        FOR j IN i + 1 .. n LOOP
            v_try := p_order[1:i - 1] || ARRAY(SELECT p_order[k] FROM generate_series(j, i, -1) k) || p_order[j + 1:n];
            v_c := pg_temp.cost(p_id, v_try);
            IF v_c.late < v_base.late - 1e-3 OR (abs(v_c.late - v_base.late) <= 1e-3 AND v_c.travel < v_base.travel - 1e-3) THEN
                v_found := v_found + 1;
            END IF;
        END LOOP;
    END LOOP;
    FOR len IN 1 .. 3 LOOP
        FOR a IN 1 .. n - len + 1 LOOP
            FOR rev IN 0 .. CASE WHEN len > 1 THEN 1 ELSE 0 END LOOP
                v_seg := CASE WHEN rev = 0 THEN p_order[a:a + len - 1]
                              ELSE ARRAY(SELECT p_order[k] FROM generate_series(a + len - 1, a, -1) k) END;
                v_rest := p_order[1:a - 1] || p_order[a + len:n];
                FOR g IN 0 .. n - len LOOP
                    v_try := v_rest[1:g] || v_seg || v_rest[g + 1:n];
                    CONTINUE WHEN v_try = p_order;
                    v_c := pg_temp.cost(p_id, v_try);
                    IF v_c.late < v_base.late - 1e-3 OR (abs(v_c.late - v_base.late) <= 1e-3 AND v_c.travel < v_base.travel - 1e-3) THEN
                        v_found := v_found + 1;
                    END IF;
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN v_found;
END $$;

-- Rows that break the schedule rules, checked against PostGIS distances:
-- seq 1.., every stop once, arrive = previous finish (or departure) + travel,
-- travel = distance x detour / speed (1 s), distance (1 m), start =
-- max(arrive, earliest), finish = start + service, wait, lateness, and the
-- way-home row.
CREATE FUNCTION pg_temp.schedule_errors(p_id int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    d pg_temp.day;
    r record;
    n int;
    v_bad int := 0;
    v_prev int := 1;
    v_prev_finish timestamptz;
    v_seq int := 0;
    v_seen int[] := '{}';
    v_dist float8;
    v_home boolean := false;
BEGIN
    SELECT * INTO d FROM pg_temp.day WHERE id = p_id;
    n := coalesce(array_length(d.svc, 1), 0);
    v_prev_finish := d.depart;
    FOR r IN SELECT * FROM pg_temp.route(p_id) ORDER BY seq LOOP
        v_seq := v_seq + 1;
        IF r.seq <> v_seq OR v_home THEN v_bad := v_bad + 1; END IF;
        IF r.stop IS NULL THEN
            v_home := true;
            v_dist := pg_temp.dist(d.lat[v_prev], d.lon[v_prev], d.end_lat, d.end_lon);
            IF d.end_lat IS NULL OR r.seq <> n + 1 OR r.start_at IS NOT NULL OR r.finish_at IS NOT NULL
               OR r.wait_s <> 0 OR r.late_s <> 0 THEN
                v_bad := v_bad + 1;
            END IF;
        ELSE
            v_dist := pg_temp.dist(d.lat[v_prev], d.lon[v_prev], d.lat[r.stop + 1], d.lon[r.stop + 1]);
            IF r.stop = ANY (v_seen) OR r.stop NOT BETWEEN 1 AND n
               OR r.start_at <> greatest(r.arrive_at, coalesce(d.ew[r.stop], '-infinity'))
               OR abs(extract(epoch FROM r.finish_at - r.start_at) - d.svc[r.stop]) > 1e-5
               OR abs(extract(epoch FROM r.start_at - r.arrive_at) - r.wait_s) > 1e-5
               OR abs(greatest(0, coalesce(extract(epoch FROM r.start_at - d.lw[r.stop]), 0)) - r.late_s) > 1e-5 THEN
                v_bad := v_bad + 1;
            END IF;
            v_seen := v_seen || r.stop;
        END IF;
        IF abs(r.distance_m - v_dist) > 1
           OR abs(r.travel_s - v_dist * d.detour / (d.speed / 3.6)) > 1
           OR abs(extract(epoch FROM r.arrive_at - v_prev_finish) - v_dist * d.detour / (d.speed / 3.6)) > 1
           OR abs(extract(epoch FROM r.arrive_at - v_prev_finish) - r.travel_s) > 1e-5 THEN
            v_bad := v_bad + 1;
        END IF;
        v_prev_finish := r.finish_at;
        v_prev := r.stop + 1;
    END LOOP;
    IF v_seq <> n + (CASE WHEN d.end_lat IS NOT NULL AND n > 0 THEN 1 ELSE 0 END) THEN
        v_bad := v_bad + 1;
    END IF;
    RETURN v_bad;
END $$;

-- ---------- days built by hand ----------
-- Westlands -1.2676,36.8108; CBD -1.2864,36.8172; Karen -1.3197,36.7073;
-- Embakasi -1.3167,36.8944; Kasarani -1.2219,36.8967.  Departure 08:00 EAT.

-- 1: five stops on the straight line CBD -> Embakasi (at 60, 20, 100, 40 and 80 %), from CBD
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw)
SELECT 1, '2026-11-24 08:00+03',
       ARRAY[-1.2864] || array_agg(-1.2864 + f * (-1.3167 + 1.2864) ORDER BY k),
       ARRAY[36.8172] || array_agg(36.8172 + f * (36.8944 - 36.8172) ORDER BY k),
       array_fill(1200::float8, ARRAY[5]), array_fill(NULL::timestamptz, ARRAY[5]), array_fill(NULL::timestamptz, ARRAY[5])
  FROM unnest(ARRAY[0.6, 0.2, 1.0, 0.4, 0.8]) WITH ORDINALITY AS u(f, k);
SELECT is(pg_temp.stops(1), ARRAY[2, 4, 1, 5, 3], 'stops on a line are visited in line order');
SELECT is(pg_temp.schedule_errors(1), 0, 'and their times follow travel and service exactly');

-- 2: twelve stops on a 5 km circle around the CBD, given in scrambled order,
-- starting and ending on the circle: any crossing would be shortened by
-- 2-opt, and the uncrossed tour goes round the circle (heuristic: > 9 stops)
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw, end_lat, end_lon)
SELECT 2, '2026-11-24 08:00+03',
       ARRAY[-1.2864 + 0.045] || array_agg(-1.2864 + 0.045 * cos(radians(360.0 / 13 * ((k * 5) % 13))) ORDER BY k),
       ARRAY[36.8172] || array_agg(36.8172 + 0.045 * sin(radians(360.0 / 13 * ((k * 5) % 13))) ORDER BY k),
       array_fill(900::float8, ARRAY[12]), array_fill(NULL::timestamptz, ARRAY[12]), array_fill(NULL::timestamptz, ARRAY[12]),
       -1.2864 + 0.045, 36.8172
  FROM generate_series(1, 12) k;
SELECT ok((SELECT bool_and(step = 1) OR bool_and(step = 12)
             FROM (SELECT ((stop * 5) % 13 - lag((stop * 5) % 13, 1, 0) OVER (ORDER BY seq) + 13) % 13 AS step
                     FROM pg_temp.route(2) WHERE stop IS NOT NULL) steps),
          'a tour of stops in convex position goes round the circle: every crossing is undone');
SELECT is((SELECT count(*) FROM pg_temp.route(2)), 13::bigint, 'twelve stops and the way home');
SELECT is(pg_temp.schedule_errors(2), 0, 'the tour''s times and the way home are exact');

-- 3: a tight window makes the far stop (Karen, latest start 08:45) come first
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw) VALUES
    (3, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.2864, -1.2219, -1.3197], ARRAY[36.8108, 36.8172, 36.8967, 36.7073],
     ARRAY[1800, 1800, 1800], ARRAY[NULL, NULL, NULL]::timestamptz[], ARRAY[NULL, NULL, '2026-11-24 08:45+03']::timestamptz[]),
    (4, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.2864, -1.2219, -1.3197], ARRAY[36.8108, 36.8172, 36.8967, 36.7073],
     ARRAY[1800, 1800, 1800], ARRAY[NULL, NULL, NULL]::timestamptz[], ARRAY[NULL, NULL, NULL]::timestamptz[]);
SELECT isnt((pg_temp.stops(4))[1], 3, 'without a window Karen is not the first stop');
SELECT is((pg_temp.stops(3))[1], 3, 'with a latest start of 08:45 Karen comes first, though it is the farthest');
SELECT is((SELECT sum(late_s) FROM pg_temp.route(3)), 0::float8, 'and nothing is late');
SELECT ok((SELECT start_at <= '2026-11-24 08:45+03' FROM pg_temp.route(3) WHERE seq = 1), 'Karen starts before 08:45');
SELECT is(pg_temp.schedule_errors(3), 0, 'the windowed day''s times are exact');

-- 4: waiting until a window opens is counted
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw) VALUES
    (5, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.2864], ARRAY[36.8108, 36.8172],
     ARRAY[2700], ARRAY['2026-11-24 10:00+03']::timestamptz[], ARRAY['2026-11-24 11:00+03']::timestamptz[]);
SELECT is((SELECT start_at FROM pg_temp.route(5)), '2026-11-24 10:00+03'::timestamptz,
          'a stop reached before its window opens starts when it opens');
SELECT ok((SELECT abs(wait_s - (7200 - pg_temp.dist(-1.2676, 36.8108, -1.2864, 36.8172) * 1.3 / (25 / 3.6))) < 1e-3
             FROM pg_temp.route(5)), 'the wait is two hours less the travel time');
SELECT is((SELECT finish_at FROM pg_temp.route(5)), '2026-11-24 10:45+03'::timestamptz, 'and the service follows it');

-- a window that opens late makes the near stop wait for the far one: the wait is spent elsewhere
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw) VALUES
    (6, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.2864, -1.2219], ARRAY[36.8108, 36.8172, 36.8967],
     ARRAY[1800, 1800], ARRAY['2026-11-24 11:00+03', NULL]::timestamptz[], ARRAY[NULL, '2026-11-24 10:00+03']::timestamptz[]);
SELECT is(pg_temp.stops(6), ARRAY[2, 1], 'the stop whose window opens at 11:00 is served after the one due by 10:00');
SELECT ok((SELECT abs(wait_s - extract(epoch FROM '2026-11-24 11:00+03' - arrive_at)) < 1e-5 AND wait_s > 0
             FROM pg_temp.route(6) WHERE stop = 1), 'the wait before it runs from the arrival to 11:00');
SELECT is(pg_temp.schedule_errors(6), 0, 'and the day''s times are exact');

-- 5: windows that cannot both be met: the least total lateness
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw) VALUES
    (7, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.2219, -1.2864], ARRAY[36.8108, 36.8967, 36.8172],
     ARRAY[1800, 1800], ARRAY[NULL, NULL]::timestamptz[], ARRAY['2026-11-24 08:00+03', '2026-11-24 08:00+03']::timestamptz[]);
SELECT is(pg_temp.stops(7), ARRAY[2, 1], 'two stops due at the departure: the nearer (the CBD) first');
SELECT ok((SELECT abs(sum(late_s) - least(
                 (2 * pg_temp.dist(-1.2676, 36.8108, -1.2864, 36.8172) + pg_temp.dist(-1.2864, 36.8172, -1.2219, 36.8967)) * 1.3 / (25 / 3.6) + 1800,
                 (2 * pg_temp.dist(-1.2676, 36.8108, -1.2219, 36.8967) + pg_temp.dist(-1.2219, 36.8967, -1.2864, 36.8172)) * 1.3 / (25 / 3.6) + 1800)) < 1
             FROM pg_temp.route(7)), 'the total lateness is that of the better of the two orders');
SELECT is(pg_temp.schedule_errors(7), 0, 'and each stop''s lateness is its start less its latest start');

-- 6: the way home, and a round trip through all five places
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw, detour, speed, end_lat, end_lon) VALUES
    (8, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.2864, -1.3197, -1.3167, -1.2219], ARRAY[36.8108, 36.8172, 36.7073, 36.8944, 36.8967],
     ARRAY[1800, 2700, 900, 3600], ARRAY[NULL, '2026-11-24 09:00+03', NULL, NULL]::timestamptz[],
     ARRAY[NULL, NULL, '2026-11-24 14:00+03', NULL]::timestamptz[], 1.4, 30, -1.2676, 36.8108);
SELECT is((SELECT count(*) FROM pg_temp.route(8) WHERE stop IS NULL AND seq = 5), 1::bigint, 'a last row, stop NULL, for the way home');
SELECT ok((SELECT abs(h.distance_m - pg_temp.dist(d.lat[l.stop + 1], d.lon[l.stop + 1], -1.2676, 36.8108)) < 1
                  AND abs(extract(epoch FROM h.arrive_at - l.finish_at) - h.distance_m * 1.4 / (30 / 3.6)) < 1
             FROM pg_temp.route(8) h, pg_temp.route(8) l, pg_temp.day d
            WHERE h.seq = 5 AND l.seq = 4 AND d.id = 8), 'it arrives home after the last stop''s finish plus the drive back');
SELECT is(pg_temp.schedule_errors(8), 0, 'every time on the round trip is exact');
SELECT ok((SELECT abs(sum(r.travel_s) - (pg_temp.brute(8)).travel) < 1e-3 FROM pg_temp.route(8) r),
          'its travel, the way home included, is the least possible');

-- 0 stops: no rows, with or without an end point
SELECT is((SELECT count(*) FROM womgr._route_order('2026-11-24 08:00+03', ARRAY[-1.2676], ARRAY[36.8108], '{}', '{}', '{}', 1.3, 25)),
          0::bigint, 'no stops: no rows');
SELECT is((SELECT count(*) FROM womgr._route_order('2026-11-24 08:00+03', ARRAY[-1.2676], ARRAY[36.8108], '{}', '{}', '{}', 1.3, 25,
                                                  -1.2864, 36.8172)), 0::bigint, 'no stops and an end point: no rows either');

-- ties: two stops at the same place with the same window go in stop-number order
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw) VALUES
    (9, '2026-11-24 08:00+03', ARRAY[-1.2676, -1.3167, -1.2864, -1.3167], ARRAY[36.8108, 36.8944, 36.8172, 36.8944],
     ARRAY[600, 600, 600], ARRAY[NULL, NULL, NULL]::timestamptz[], ARRAY[NULL, NULL, NULL]::timestamptz[]);
SELECT is(pg_temp.stops(9), ARRAY[2, 1, 3], 'equal stops (1 and 3 at Embakasi) keep their stop-number order');
SELECT is((SELECT array_agg(DISTINCT pg_temp.stops(9)::text) FROM generate_series(1, 5)), ARRAY['{2,1,3}'],
          'the same input gives the same order every time');

-- ---------- seeded random days against the exhaustive search ----------
-- 42 days of 1 to 7 stops in a 17 x 28 km box over Nairobi; services of 5 to
-- 60 minutes; each stop has no window, an earliest start, a latest start or
-- both, on whole minutes of a day whose tightness varies; every other day
-- returns to an end point.
DO $$
DECLARE
    n int;
    v_lat float8[];
    v_lon float8[];
    v_svc float8[];
    v_ew timestamptz[];
    v_lw timestamptz[];
    v_w int;
    v_e float8;
    v_tight float8;
    v_dep timestamptz := '2026-11-24 08:00+03';
BEGIN
    PERFORM setseed(0.42);
    FOR id IN 101 .. 142 LOOP
        n := 1 + (id - 101) % 7;
        v_tight := random();
        v_lat := ARRAY[-1.35 + 0.15 * random()];
        v_lon := ARRAY[36.70 + 0.25 * random()];
        v_svc := '{}'; v_ew := '{}'; v_lw := '{}';
        FOR k IN 1 .. n LOOP
            v_lat := v_lat || (-1.35 + 0.15 * random());
            v_lon := v_lon || (36.70 + 0.25 * random());
            v_svc := v_svc || (300 * (1 + floor(random() * 12)));
            v_w := floor(random() * 4);
            v_e := 60 * floor(random() * 360 * v_tight);
            v_ew := v_ew || CASE WHEN v_w IN (1, 3) THEN v_dep + make_interval(secs => v_e) END;
            v_lw := v_lw || CASE WHEN v_w IN (2, 3) THEN v_dep + make_interval(secs => v_e + 60 * (10 + floor(random() * 90))) END;
        END LOOP;
        INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw, end_lat, end_lon)
        VALUES (id, v_dep, v_lat, v_lon, v_svc, v_ew, v_lw,
                CASE WHEN id % 2 = 0 THEN -1.35 + 0.15 * random() END, CASE WHEN id % 2 = 0 THEN 36.70 + 0.25 * random() END);
    END LOOP;
END $$;

CREATE TABLE pg_temp.small_result AS
SELECT d.id, array_length(d.svc, 1) AS n, r.late, r.travel, b.late AS bf_late, b.travel AS bf_travel, pg_temp.schedule_errors(d.id) AS errors
  FROM pg_temp.day d
 CROSS JOIN LATERAL (SELECT sum(late_s) AS late, sum(travel_s) AS travel FROM pg_temp.route(d.id)) r
 CROSS JOIN LATERAL pg_temp.brute(d.id) b
 WHERE d.id BETWEEN 101 AND 142;
SELECT ok((SELECT count(*) FROM pg_temp.small_result WHERE bf_late > 0) >= 10,
          'at least 10 of the random days have lateness that no order avoids');
SELECT ok((SELECT count(*) FROM pg_temp.day WHERE id BETWEEN 101 AND 142
             AND EXISTS (SELECT 1 FROM pg_temp.route(id) WHERE wait_s > 0)) >= 10, 'and at least 10 have waiting');
SELECT is((SELECT array_agg(id ORDER BY id) FROM pg_temp.small_result
            WHERE abs(late - bf_late) > 1e-3 OR abs(travel - bf_travel) > 1e-3), NULL,
          'on 42 random days of 1 to 7 stops the lateness and travel equal the best of all orders');
SELECT is((SELECT sum(errors) FROM pg_temp.small_result), 0::bigint, 'and every time on them is exact');

-- ---------- the heuristic's range: more than 9 stops ----------
-- No 2-opt or or-opt move improves the result (checked move by move here).
DO $$
DECLARE
    n int;
    v_lat float8[];
    v_lon float8[];
    v_svc float8[];
    v_ew timestamptz[];
    v_lw timestamptz[];
    v_w int;
    v_e float8;
    v_dep timestamptz := '2026-11-24 08:00+03';
BEGIN
    PERFORM setseed(0.17);
    FOR id IN 201 .. 210 LOOP
        n := 10 + (id - 201) % 7;
        v_lat := ARRAY[-1.35 + 0.15 * random()];
        v_lon := ARRAY[36.70 + 0.25 * random()];
        v_svc := '{}'; v_ew := '{}'; v_lw := '{}';
        FOR k IN 1 .. n LOOP
            v_lat := v_lat || (-1.35 + 0.15 * random());
            v_lon := v_lon || (36.70 + 0.25 * random());
            v_svc := v_svc || (300 * (1 + floor(random() * 6)));
            v_w := CASE WHEN id <= 203 THEN 0 ELSE floor(random() * 4) END;
            v_e := 60 * floor(random() * 360);
            v_ew := v_ew || CASE WHEN v_w IN (1, 3) THEN v_dep + make_interval(secs => v_e) END;
            v_lw := v_lw || CASE WHEN v_w IN (2, 3) THEN v_dep + make_interval(secs => v_e + 60 * (30 + floor(random() * 180))) END;
        END LOOP;
        INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw, end_lat, end_lon)
        VALUES (id, v_dep, v_lat, v_lon, v_svc, v_ew, v_lw,
                CASE WHEN id % 2 = 0 THEN v_lat[1] END, CASE WHEN id % 2 = 0 THEN v_lon[1] END);
    END LOOP;
END $$;
SELECT is((SELECT array_agg(id ORDER BY id) FROM pg_temp.day
            WHERE id BETWEEN 201 AND 210 AND pg_temp.improving_moves(id, pg_temp.stops(id)) > 0), NULL,
          'on 10 random days of 10 to 16 stops no 2-opt or or-opt move improves the route');
SELECT is((SELECT sum(pg_temp.schedule_errors(id)) FROM pg_temp.day WHERE id BETWEEN 201 AND 210), 0::bigint,
          'and every time on them is exact');
SELECT is((SELECT array_agg(id ORDER BY id) FROM pg_temp.day d
            WHERE id BETWEEN 201 AND 210
              AND (SELECT array_agg(x ORDER BY x) FROM unnest(pg_temp.stops(id)) x)
                  IS DISTINCT FROM ARRAY(SELECT generate_series(1, array_length(d.svc, 1)))), NULL,
          'each visits every stop exactly once');

-- the references can fail: they find better orders than poor ones
SELECT ok((SELECT bool_and(pg_temp.improving_moves(id, ARRAY(SELECT generate_series(1, array_length(svc, 1)))) > 0)
             FROM pg_temp.day WHERE id BETWEEN 201 AND 210), 'the move check does find improving moves on the stops in number order');
SELECT ok((SELECT bool_and((pg_temp.brute(id)).travel < (pg_temp.cost(id, ARRAY(SELECT generate_series(array_length(svc, 1), 1, -1)))).travel
                           OR (pg_temp.brute(id)).late < (pg_temp.cost(id, ARRAY(SELECT generate_series(array_length(svc, 1), 1, -1)))).late)
             FROM pg_temp.day WHERE id IN (105, 106, 107, 113, 114)),
          'the exhaustive search beats the stops in reverse number order on days of 5 to 7 stops');

-- a bigger day without windows: no two legs cross (2-opt)
INSERT INTO pg_temp.day (id, depart, lat, lon, svc, ew, lw, end_lat, end_lon)
SELECT 300, '2026-11-24 08:00+03', ARRAY[-1.2864] || array_agg(-1.35 + 0.15 * (0.5 + 0.5 * sin(k * 12.9898)) ORDER BY k),
       ARRAY[36.8172] || array_agg(36.70 + 0.25 * (0.5 + 0.5 * sin(k * 78.233)) ORDER BY k),
       array_fill(600::float8, ARRAY[40]), array_fill(NULL::timestamptz, ARRAY[40]), array_fill(NULL::timestamptz, ARRAY[40]),
       -1.2864, 36.8172
  FROM generate_series(1, 40) k;
SELECT is((WITH p AS (SELECT 0 AS seq, -1.2864::float8 AS lat, 36.8172::float8 AS lon
                       UNION ALL
                       SELECT r.seq, coalesce(d.lat[r.stop + 1], d.end_lat), coalesce(d.lon[r.stop + 1], d.end_lon)
                         FROM pg_temp.route(300) r, pg_temp.day d WHERE d.id = 300),
                legs AS (SELECT seq, ST_MakeLine(ST_MakePoint(lag(lon) OVER (ORDER BY seq), lag(lat) OVER (ORDER BY seq)),
                                                 ST_MakePoint(lon, lat)) AS leg FROM p)
           SELECT count(*) FROM legs a JOIN legs b ON a.seq > 0 AND b.seq > a.seq + 1 AND NOT (a.seq = 1 AND b.seq = 41)
            WHERE ST_Intersects(a.leg, b.leg)), 0::bigint, 'a 40-stop round trip has no crossing legs');

-- ---------- bad input ----------
CREATE FUNCTION pg_temp.call(p_args text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT * FROM womgr._route_order(%s)', p_args)
$$;
\set ok_tail '''{1800}'', ''{NULL}'', ''{NULL}'', 1.3, 25'
SELECT throws_ok(pg_temp.call('NULL, ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ' || :'ok_tail'), '22004',
                 'the departure time must not be null', 'null departure');
SELECT throws_ok(pg_temp.call('now(), NULL, ''{36.8108,36.8172}'', ' || :'ok_tail'), '22004',
                 'the latitudes must not be null', 'null latitudes');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', NULL, ' || :'ok_tail'), '22004',
                 'the longitudes must not be null', 'null longitudes');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', NULL, ''{NULL}'', ''{NULL}'', 1.3, 25'), '22004',
                 'the service times must not be null', 'null service times');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', NULL, ''{NULL}'', 1.3, 25'), '22004',
                 'the earliest starts must not be null', 'null earliest starts');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', NULL, 1.3, 25'), '22004',
                 'the latest starts must not be null', 'null latest starts');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', NULL, 25'), '22004',
                 'the detour factor must not be null', 'null detour');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', 1.3, NULL'), '22004',
                 'the travel speed must not be null', 'null speed');
SELECT throws_ok(pg_temp.call('now(), ''{{-1.2676,-1.2864}}'', ''{36.8108,36.8172}'', ' || :'ok_tail'), '2202E',
                 'p_lat must be a one-dimensional array starting at index 1', 'a two-dimensional array');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''[0:1]={36.8108,36.8172}'', ' || :'ok_tail'), '2202E',
                 'p_lon must be a one-dimensional array starting at index 1', 'an array starting at 0');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108}'', ' || :'ok_tail'), '2202E',
                 'p_lon has 1 elements, not 2', 'fewer longitudes than latitudes');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800,600}'', ''{NULL}'', ''{NULL}'', 1.3, 25'), '2202E',
                 'p_service_s has 2 elements, not 1', 'a service time too many');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{}'', ''{NULL}'', 1.3, 25'), '2202E',
                 'p_earliest has 0 elements, not 1', 'earliest starts missing');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL,NULL}'', 1.3, 25'), '2202E',
                 'p_latest has 2 elements, not 1', 'a latest start too many');
SELECT throws_ok(pg_temp.call('now(), ''{}'', ''{}'', ''{}'', ''{}'', ''{}'', 1.3, 25'), '2202E',
                 'p_lat has 0 elements, not 1', 'no start point');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,91}'', ''{36.8108,36.8172}'', ' || :'ok_tail'), '22003',
                 'latitude 91, longitude 36.8172 of stop 1 is not a place on Earth', 'latitude out of range');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{-181,36.8172}'', ' || :'ok_tail'), '22003',
                 'latitude -1.2676, longitude -181 of the start point is not a place on Earth', 'longitude of the start out of range');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,NaN}'', ''{36.8108,36.8172}'', ' || :'ok_tail'), '22003', NULL, 'NaN latitude');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ' || :'ok_tail' || ', 95, 36.8'), '22003',
                 'latitude 95, longitude 36.8 of the end point is not a place on Earth', 'end point out of range');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,NULL}'', ''{36.8108,36.8172}'', ' || :'ok_tail'), '22004',
                 'p_lat must not contain NULL', 'a NULL latitude');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{NULL,36.8172}'', ' || :'ok_tail'), '22004',
                 'p_lon must not contain NULL', 'a NULL longitude of the start point');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{NULL}'', ''{NULL}'', ''{NULL}'', 1.3, 25'), '22004',
                 'p_service_s must not contain NULL', 'a NULL service time');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{-1}'', ''{NULL}'', ''{NULL}'', 1.3, 25'), '22023',
                 'the service time of stop 1 must be a finite number of seconds, at least 0, not -1', 'a negative service time');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{NaN}'', ''{NULL}'', ''{NULL}'', 1.3, 25'), '22023',
                 NULL, 'a NaN service time');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{Infinity}'', ''{NULL}'', ''{NULL}'', 1.3, 25'), '22023',
                 NULL, 'an infinite service time');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864,-1.3197}'', ''{36.8108,36.8172,36.7073}'', ''{600,600}'','
                              ' ''{NULL,"2026-11-24 12:00+03"}'', ''{NULL,"2026-11-24 11:00+03"}'', 1.3, 25'), '22023',
                 'the time window of stop 2 ends before it begins', 'earliest after latest, naming the stop');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', 0.9, 25'), '22023',
                 'the detour factor must be a finite number of at least 1, not 0.9', 'a detour below 1');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', ''NaN'', 25'), '22023',
                 NULL, 'a NaN detour');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', 1.3, 0'), '22023',
                 'the travel speed must be a positive finite number of km/h, not 0', 'a zero speed');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', 1.3, -5'), '22023',
                 NULL, 'a negative speed');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{NULL}'', 1.3, ''Infinity'''), '22023',
                 NULL, 'an infinite speed');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ' || :'ok_tail' || ', -1.2676, NULL'), '22004',
                 'the end point needs both a latitude and a longitude', 'an end latitude without a longitude');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ' || :'ok_tail' || ', p_end_lon => 36.8108'), '22004',
                 'the end point needs both a latitude and a longitude', 'an end longitude without a latitude');
SELECT throws_ok(pg_temp.call('''infinity'', ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ' || :'ok_tail'), '22008',
                 'the departure time must be finite', 'an infinite departure');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{-infinity}'', ''{NULL}'', 1.3, 25'), '22008',
                 'the earliest start of stop 1 must be finite', 'an infinite earliest start');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1800}'', ''{NULL}'', ''{infinity}'', 1.3, 25'), '22008',
                 'the latest start of stop 1 must be finite', 'an infinite latest start');
SELECT throws_ok(pg_temp.call('now(), ''{-1.2676,-1.2864}'', ''{36.8108,36.8172}'', ''{1e15}'', ''{NULL}'', ''{NULL}'', 1.3, 25, -1.2676, 36.8108'),
                 '22008', 'the route runs beyond the range of timestamps', 'a service time that ends after the year 294276');
SELECT throws_ok(format('SELECT * FROM womgr._route_order(now(), %L, %L, %L, %L, %L, 1.3, 25)',
                        array_fill(-1.28::float8, ARRAY[1002]), array_fill(36.8::float8, ARRAY[1002]), array_fill(60::float8, ARRAY[1001]),
                        array_fill(NULL::timestamptz, ARRAY[1001]), array_fill(NULL::timestamptz, ARRAY[1001])),
                 '54000', 'a route can have at most 1000 stops, not 1001', 'more than 1000 stops');
SELECT lives_ok(format('SELECT * FROM womgr._route_order(now(), %L, %L, %L, %L, %L, 1.3, 25)',
                       array_fill(-1.28::float8, ARRAY[1001]), array_fill(36.8::float8, ARRAY[1001]), array_fill(60::float8, ARRAY[1000]),
                       array_fill(NULL::timestamptz, ARRAY[1000]), array_fill(NULL::timestamptz, ARRAY[1000])),
                'exactly 1000 stops are accepted');
SELECT is((SELECT obj_description('womgr._route_order(timestamptz, float8[], float8[], float8[], timestamptz[], timestamptz[], float8, float8, float8, float8)'::regprocedure)
                  LIKE 'Internal: %'), true, 'the function is documented as internal');

SELECT * FROM finish();
ROLLBACK;
