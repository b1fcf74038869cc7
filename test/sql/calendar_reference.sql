-- calendar_reference: womgr.add_business_time and womgr.business_time_between
-- against an independent brute-force reference written here in PL/pgSQL.
-- The reference turns each local day's working hours into instants with
-- PostgreSQL's own "local timestamp AT TIME ZONE zone" (no womgr code), then
-- walks the time line one minute at a time: a minute [m, m + 1 min) works iff
-- m lies inside one of those intervals (all zones here have whole-minute
-- offsets and transitions, and all boundaries, starts and durations are whole
-- minutes, so a minute never straddles a boundary).
-- Randomized but deterministic (setseed; nothing depends on the clock), in 15
-- zones (with DST: New York, Los Angeles, London, Berlin, Sydney, Auckland,
-- Santiago (midnight transitions), Lord Howe (half-hour DST), Chatham (+12:45),
-- Havana; without: UTC, Nairobi, Kolkata (+05:30), Kathmandu (+05:45),
-- Sao Paulo).  Per zone 7 calendars: two random weekly calendars (1-3
-- intervals on ~3 days in 4, sometimes touching) with holidays, an overnight
-- shift with holidays, 24/7, every day 01:00-03:30 + 22:00-24:00, every day
-- 00:00-03:00 + 23:30-24:00 with holidays, and a random calendar with
-- boundaries only in 00:00-04:00 and 22:00-24:00 with holidays; holidays are
-- drawn from the local dates of the starts.  Per zone 112 add_business_time
-- cases (zero, minutes, hours, up to ~3 working days; starts at random minutes
-- of 2026-2027, half of them near DST transitions, on interval boundaries with
-- durations that end exactly at an interval's end, before each transition,
-- and around the local new year of random years 1971-2059) and 65
-- business_time_between cases (forwards, reversed, empty, boundary to
-- boundary, across each transition, across a new year, over 20-60 days).
-- Expected: the planned number of cases and zero mismatches in every zone.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();
SET LOCAL TimeZone = 'UTC';
SET LOCAL IntervalStyle = 'postgres';
SET LOCAL max_parallel_workers_per_gather = 0;  -- random() must run in this backend only

CREATE TABLE pg_temp.zone (ord int PRIMARY KEY, tz text NOT NULL);
INSERT INTO pg_temp.zone VALUES
    (1, 'UTC'), (2, 'Africa/Nairobi'), (3, 'Asia/Kolkata'), (4, 'Asia/Kathmandu'), (5, 'America/Sao_Paulo'),
    (6, 'America/New_York'), (7, 'America/Los_Angeles'), (8, 'Europe/London'), (9, 'Europe/Berlin'),
    (10, 'Australia/Sydney'), (11, 'Pacific/Auckland'), (12, 'America/Santiago'), (13, 'Australia/Lord_Howe'),
    (14, 'Pacific/Chatham'), (15, 'America/Havana');

-- the first instant of each new UTC offset in 2026-2027 (DST transitions), found minute by minute within the hour
CREATE TABLE pg_temp.transition (tz text NOT NULL, at timestamptz NOT NULL);
INSERT INTO pg_temp.transition
SELECT z.tz, (SELECT min(m) FROM generate_series(h, h + interval '1 hour', interval '1 minute') m
               WHERE (m AT TIME ZONE z.tz) - (m AT TIME ZONE 'UTC') <> (h AT TIME ZONE z.tz) - (h AT TIME ZONE 'UTC'))
  FROM pg_temp.zone z, generate_series(timestamptz '2026-01-01 00:00+00', timestamptz '2027-12-31 23:00+00', interval '1 hour') h
 WHERE (h AT TIME ZONE z.tz) - (h AT TIME ZONE 'UTC')
       <> ((h + interval '1 hour') AT TIME ZONE z.tz) - ((h + interval '1 hour') AT TIME ZONE 'UTC');

CREATE TABLE pg_temp.cases (
    tz text NOT NULL, grp text NOT NULL, fn text NOT NULL, calendar text NOT NULL, hours jsonb NOT NULL, holidays date[] NOT NULL,
    a timestamptz NOT NULL, arg text NOT NULL, lo timestamptz, hi timestamptz, want text, have text);

-------------------------------------------------------------------------------
-- the reference (no womgr code)
-------------------------------------------------------------------------------

-- "HH:MM" -> minutes after local midnight ("24:00" = 1440)
CREATE FUNCTION pg_temp.ref_minutes(p text) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT split_part(p, ':', 1)::int * 60 + split_part(p, ':', 2)::int $$;

-- the working instants of the local days p_d0 .. p_d1: each [s, e) of local day D is
-- [(D + s) AT TIME ZONE tz, (D + e) AT TIME ZONE tz), dropped when empty or reversed; holidays skipped
CREATE FUNCTION pg_temp.ref_work(p_tz text, p_hours jsonb, p_holidays date[], p_d0 date, p_d1 date)
    RETURNS tstzmultirange LANGUAGE plpgsql AS $$
DECLARE
    v_keys text[] := ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_ranges tstzrange[] := '{}';
    v_d date := p_d0;
    v_pair jsonb;
    v_s timestamptz;
    v_e timestamptz;
BEGIN
    WHILE v_d <= p_d1 LOOP
        IF NOT v_d = ANY (p_holidays) THEN
            FOR v_pair IN SELECT x FROM jsonb_array_elements(coalesce(p_hours -> v_keys[extract(isodow FROM v_d)::int], '[]')) x LOOP
                v_s := (v_d::timestamp + make_interval(mins => pg_temp.ref_minutes(v_pair ->> 0))) AT TIME ZONE p_tz;
                v_e := (v_d::timestamp + make_interval(mins => pg_temp.ref_minutes(v_pair ->> 1))) AT TIME ZONE p_tz;
                IF extract(second FROM v_s) <> 0 OR extract(second FROM v_e) <> 0 THEN
                    RAISE EXCEPTION 'the reference walks whole minutes only, but % % is not on one', v_d, v_pair;
                END IF;
                IF v_e > v_s THEN
                    v_ranges := v_ranges || tstzrange(v_s, v_e, '[)');
                END IF;
            END LOOP;
        END IF;
        v_d := v_d + 1;
    END LOOP;
    RETURN tstzmultirange(VARIADIC v_ranges);
END
$$;

-- add: walk minute by minute from the start; the answer is the end of the working minute that uses the duration up
CREATE FUNCTION pg_temp.ref_add(p_tz text, p_hours jsonb, p_holidays date[], p_start timestamptz, p_duration interval)
    RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    v_need numeric := extract(epoch FROM p_duration) / 60;
    v_d0 date := (p_start AT TIME ZONE p_tz)::date - 2;
    v_work tstzmultirange;
    v_m timestamptz := p_start;
BEGIN
    IF v_need <> trunc(v_need) OR extract(second FROM p_start) <> 0 THEN
        RAISE EXCEPTION 'the reference walks whole minutes only';
    END IF;
    IF v_need = 0 THEN
        RETURN p_start;
    END IF;
    v_work := pg_temp.ref_work(p_tz, p_hours, p_holidays, v_d0, v_d0 + 50);
    WHILE v_m < p_start + interval '45 days' LOOP
        IF v_work @> v_m THEN
            v_need := v_need - 1;
            IF v_need = 0 THEN
                RETURN v_m + interval '1 minute';
            END IF;
        END IF;
        v_m := v_m + interval '1 minute';
    END LOOP;
    RETURN NULL;  -- not found within 45 days: shows as a mismatch
END
$$;

-- between: count the working minutes in [lo, hi); negative when p_to < p_from
CREATE FUNCTION pg_temp.ref_between(p_tz text, p_hours jsonb, p_holidays date[], p_from timestamptz, p_to timestamptz)
    RETURNS interval LANGUAGE plpgsql AS $$
DECLARE
    v_lo timestamptz := least(p_from, p_to);
    v_hi timestamptz := greatest(p_from, p_to);
    v_work tstzmultirange;
    v_m timestamptz := v_lo;
    v_n int := 0;
BEGIN
    v_work := pg_temp.ref_work(p_tz, p_hours, p_holidays, (v_lo AT TIME ZONE p_tz)::date - 2, (v_hi AT TIME ZONE p_tz)::date + 2);
    WHILE v_m < v_hi LOOP
        IF v_work @> v_m THEN
            v_n := v_n + 1;
        END IF;
        v_m := v_m + interval '1 minute';
    END LOOP;
    RETURN CASE WHEN p_to < p_from THEN -1 ELSE 1 END * make_interval(mins => v_n);
END
$$;

-------------------------------------------------------------------------------
-- the random cases
-------------------------------------------------------------------------------

CREATE FUNCTION pg_temp.rint(p_lo int, p_hi int) RETURNS int LANGUAGE sql AS
$$ SELECT p_lo + floor(random() * (p_hi - p_lo + 1))::int $$;

CREATE FUNCTION pg_temp.clock(p int) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT lpad((p / 60)::text, 2, '0') || ':' || lpad((p % 60)::text, 2, '0') $$;

-- random weekly hours: on ~3 days in 4, 1-3 non-overlapping intervals (sometimes touching) with
-- boundaries anywhere in the day ('day') or only in 00:00-04:00 and 22:00-24:00 ('dst')
CREATE FUNCTION pg_temp.random_hours(p_kind text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_keys text[] := ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_hours jsonb := '{}';
    v_day jsonb;
    v_b int[];
    v_x int;
    v_k int;
BEGIN
    FOR i IN 1..7 LOOP
        CONTINUE WHEN random() >= 0.75;
        v_k := pg_temp.rint(1, 3);
        v_b := '{}';
        WHILE cardinality(v_b) < 2 * v_k LOOP
            IF p_kind = 'dst' THEN
                v_x := pg_temp.rint(0, 360);
                v_x := CASE WHEN v_x <= 240 THEN v_x ELSE v_x + 1080 END;  -- 00:00-04:00 or 22:00-24:00
                v_x := v_x - v_x % (CASE WHEN random() < 0.5 THEN 15 ELSE 1 END);
            ELSE
                v_x := pg_temp.rint(0, 1440);
                v_x := v_x - v_x % (CASE WHEN random() < 0.5 THEN 30 ELSE 1 END);
            END IF;
            IF NOT v_x = ANY (v_b) THEN
                v_b := v_b || v_x;
            END IF;
        END LOOP;
        v_b := ARRAY(SELECT unnest(v_b) ORDER BY 1);
        FOR j IN 1..v_k - 1 LOOP
            IF random() < 0.25 THEN
                v_b[2 * j] := v_b[2 * j + 1];  -- this interval ends where the next starts
            END IF;
        END LOOP;
        v_day := '[]';
        FOR j IN 1..v_k LOOP
            v_day := v_day || jsonb_build_array(jsonb_build_array(pg_temp.clock(v_b[2 * j - 1]), pg_temp.clock(v_b[2 * j])));
        END LOOP;
        v_hours := v_hours || jsonb_build_object(v_keys[i], v_day);
    END LOOP;
    IF v_hours = '{}' THEN
        v_hours := '{"wed": [["09:00", "17:00"]]}';
    END IF;
    RETURN v_hours;
END
$$;

-- an overnight shift (night start 19:00-23:30 to "24:00" on mon-fri, "00:00" to 03:00-08:00 on tue-sat),
-- sometimes with a day interval as well
CREATE FUNCTION pg_temp.night_hours() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_keys text[] := ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_night int := pg_temp.rint(38, 47) * 30;
    v_morning int := pg_temp.rint(6, 16) * 30;
    v_hours jsonb := '{}';
    v_day jsonb;
    v_s int;
BEGIN
    FOR i IN 1..6 LOOP
        v_day := '[]';
        IF i >= 2 THEN
            v_day := v_day || jsonb_build_array(jsonb_build_array('00:00', pg_temp.clock(v_morning)));
        END IF;
        IF random() < 0.3 THEN
            v_s := pg_temp.rint(v_morning, v_night - 60);
            v_day := v_day || jsonb_build_array(jsonb_build_array(pg_temp.clock(v_s), pg_temp.clock(pg_temp.rint(v_s + 1, v_night))));
        END IF;
        IF i <= 5 THEN
            v_day := v_day || jsonb_build_array(jsonb_build_array(pg_temp.clock(v_night), '24:00'));
        END IF;
        v_hours := v_hours || jsonb_build_object(v_keys[i], v_day);
    END LOOP;
    RETURN v_hours;
END
$$;

CREATE FUNCTION pg_temp.every_day(p_day jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_object_agg(k, p_day) FROM unnest(ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) k
$$;

-- nominal working minutes per working weekday (for durations of "up to 3 working days")
CREATE FUNCTION pg_temp.day_minutes(p_hours jsonb) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT (sum(pg_temp.ref_minutes(p ->> 1) - pg_temp.ref_minutes(p ->> 0)) / count(DISTINCT d))::int
      FROM jsonb_each(p_hours) AS e(d, v), jsonb_array_elements(v) p
$$;

-- a random instant near a DST transition of the zone (from 36 hours before to 6 hours after),
-- else a random minute of 2026-2027
CREATE FUNCTION pg_temp.random_instant(p_tz text) RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    v_t timestamptz[] := ARRAY(SELECT at FROM pg_temp.transition WHERE tz = p_tz ORDER BY at);
BEGIN
    IF cardinality(v_t) > 0 AND random() < 0.5 THEN
        RETURN v_t[pg_temp.rint(1, cardinality(v_t))] + make_interval(mins => pg_temp.rint(-36 * 60, 6 * 60));
    END IF;
    RETURN timestamptz '2026-01-01 00:00+00' + make_interval(mins => pg_temp.rint(0, 2 * 365 * 1440 - 1));
END
$$;

-- a random working interval [s, e) (nominal local minutes) on the first working day from p_t's local date on
CREATE FUNCTION pg_temp.some_interval(p_tz text, p_hours jsonb, p_holidays date[], p_t timestamptz,
                                      OUT d date, OUT s int, OUT e int) LANGUAGE plpgsql AS $$
DECLARE
    v_keys text[] := ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_day jsonb;
    v_pair jsonb;
BEGIN
    d := (p_t AT TIME ZONE p_tz)::date;
    LOOP
        v_day := p_hours -> v_keys[extract(isodow FROM d)::int];
        EXIT WHEN v_day IS NOT NULL AND jsonb_array_length(v_day) > 0 AND NOT d = ANY (p_holidays);
        d := d + 1;
    END LOOP;
    v_pair := v_day -> pg_temp.rint(0, jsonb_array_length(v_day) - 1);
    s := pg_temp.ref_minutes(v_pair ->> 0);
    e := pg_temp.ref_minutes(v_pair ->> 1);
END
$$;

CREATE FUNCTION pg_temp.local(p_tz text, p_d date, p_min int) RETURNS timestamptz LANGUAGE sql STABLE AS
$$ SELECT (p_d::timestamp + make_interval(mins => p_min)) AT TIME ZONE p_tz $$;

-- a duration of p minutes, written in one of the ways an interval can be
CREATE FUNCTION pg_temp.duration(p int) RETURNS interval LANGUAGE plpgsql AS $$
DECLARE
    v_r float8 := random();
BEGIN
    RETURN CASE WHEN p >= 1440 AND v_r < 0.4 THEN make_interval(days => p / 1440, mins => p % 1440)  -- a day counts 24 hours
                WHEN v_r < 0.7 THEN make_interval(hours => p / 60, mins => p % 60)
                ELSE make_interval(mins => p) END;
END
$$;

CREATE TABLE pg_temp.calendars (tz text, c int, id bigint NOT NULL, name text NOT NULL, hours jsonb NOT NULL,
                                 holidays date[] NOT NULL, PRIMARY KEY (tz, c));

-- one add_business_time case on calendar c of the zone, starting at p_anchor or, by kind, near it:
-- kind 0 zero, 1 minutes, 2 hours, 3 one to three working days, 4 on an interval boundary, 5 up to three working days
CREATE FUNCTION pg_temp.add_case(p_tz text, p_c int, p_group text, p_anchor timestamptz, p_kind int)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cal record;
    v_a timestamptz := p_anchor;
    v_dur interval;
    v_day int;
    v_min int;
    v_iv record;
    v_want text;
    v_have text;
BEGIN
    SELECT * INTO STRICT v_cal FROM pg_temp.calendars WHERE tz = p_tz AND c = p_c;
    v_day := pg_temp.day_minutes(v_cal.hours);
    CASE p_kind
        WHEN 0 THEN v_dur := CASE WHEN random() < 0.5 THEN interval '0' ELSE interval '0 days 0 minutes' END;
        WHEN 1 THEN v_dur := pg_temp.duration(pg_temp.rint(1, 90));
        WHEN 2 THEN v_dur := pg_temp.duration(pg_temp.rint(60, 6 * 60));
        WHEN 3 THEN v_dur := pg_temp.duration(pg_temp.rint(v_day, 3 * v_day));
        WHEN 4 THEN
            -- start at an interval's start, or inside it, and use it up exactly; or start at its end
            v_iv := pg_temp.some_interval(p_tz, v_cal.hours, v_cal.holidays, p_anchor);
            v_min := pg_temp.rint(0, 2);
            IF v_min = 0 THEN
                v_a := pg_temp.local(p_tz, v_iv.d, v_iv.s);
                v_dur := pg_temp.duration(v_iv.e - v_iv.s);
            ELSIF v_min = 1 THEN
                v_min := pg_temp.rint(v_iv.s, v_iv.e - 1);
                v_a := pg_temp.local(p_tz, v_iv.d, v_min);
                v_dur := pg_temp.duration(v_iv.e - v_min);
            ELSE
                v_a := pg_temp.local(p_tz, v_iv.d, v_iv.e);
                v_dur := pg_temp.duration(pg_temp.rint(1, 120));
            END IF;
        ELSE v_dur := pg_temp.duration(pg_temp.rint(1, 3 * v_day));
    END CASE;
    v_want := pg_temp.ref_add(p_tz, v_cal.hours, v_cal.holidays, v_a, v_dur)::text;
    BEGIN
        v_have := womgr.add_business_time(womgr.default_tenant_id(), v_cal.id, v_a, v_dur)::text;
    EXCEPTION WHEN OTHERS THEN
        v_have := 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
    END;
    INSERT INTO pg_temp.cases VALUES (p_tz, p_group, 'add_business_time', v_cal.name, v_cal.hours, v_cal.holidays, v_a,
                                      v_dur::text, v_a, CASE WHEN v_want IS NOT NULL THEN v_want::timestamptz END, v_want, v_have);
END
$$;

-- one business_time_between case on calendar c of the zone, from p_anchor or near it:
-- kind 0 forwards up to 4 days, 1 backwards up to 4 days, 2 from an interval's start to a later interval's end
-- (either way round), 3 up to 2 days either way, 4 the empty range, 5 across p_anchor (up to 30 hours each side, either way
-- round), 6 from 20 to 60 days either way
CREATE FUNCTION pg_temp.between_case(p_tz text, p_c int, p_group text, p_anchor timestamptz, p_kind int)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cal record;
    v_a timestamptz := p_anchor;
    v_b timestamptz;
    v_iv record;
    v_want text;
    v_have text;
BEGIN
    SELECT * INTO STRICT v_cal FROM pg_temp.calendars WHERE tz = p_tz AND c = p_c;
    CASE p_kind
        WHEN 0 THEN v_b := v_a + make_interval(mins => pg_temp.rint(1, 4 * 1440));
        WHEN 1 THEN v_b := v_a - make_interval(mins => pg_temp.rint(1, 4 * 1440));
        WHEN 2 THEN
            v_iv := pg_temp.some_interval(p_tz, v_cal.hours, v_cal.holidays, v_a);
            v_a := pg_temp.local(p_tz, v_iv.d, v_iv.s);
            v_iv := pg_temp.some_interval(p_tz, v_cal.hours, v_cal.holidays, v_a + make_interval(mins => pg_temp.rint(0, 3 * 1440)));
            v_b := pg_temp.local(p_tz, v_iv.d, v_iv.e);
        WHEN 3 THEN v_b := v_a + make_interval(mins => pg_temp.rint(-2 * 1440, 2 * 1440));
        WHEN 4 THEN v_b := v_a;
        WHEN 6 THEN v_b := v_a + make_interval(mins => pg_temp.rint(20 * 1440, 60 * 1440) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END));
        ELSE
            v_a := p_anchor - make_interval(mins => pg_temp.rint(1, 30 * 60));
            v_b := p_anchor + make_interval(mins => pg_temp.rint(1, 30 * 60));
    END CASE;
    IF p_kind IN (2, 5) AND random() < 0.5 THEN
        SELECT v_b, v_a INTO v_a, v_b;
    END IF;
    v_want := pg_temp.ref_between(p_tz, v_cal.hours, v_cal.holidays, v_a, v_b)::text;
    BEGIN
        v_have := womgr.business_time_between(womgr.default_tenant_id(), v_cal.id, v_a, v_b)::text;
    EXCEPTION WHEN OTHERS THEN
        v_have := 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
    END;
    INSERT INTO pg_temp.cases VALUES (p_tz, p_group, 'business_time_between', v_cal.name, v_cal.hours, v_cal.holidays, v_a,
                                      v_b::text, least(v_a, v_b), greatest(v_a, v_b), v_want, v_have);
END
$$;

-- a zone's 7 calendars and its 112 add_business_time and 65 business_time_between cases
CREATE FUNCTION pg_temp.run_zone(p_tz text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_names text[] := ARRAY['random A', 'random B', 'overnight', '24/7', 'DST 01:00-03:30', 'DST 00:00-03:00', 'DST random'];
    v_random timestamptz[] := '{}';
    v_years timestamptz[] := '{}';
    v_transitions timestamptz[] := ARRAY(SELECT at FROM pg_temp.transition WHERE tz = p_tz ORDER BY at);
    v_days date[];
    v_h jsonb;
    v_t timestamptz;
BEGIN
    -- starts first, so that holidays can fall near them: random minutes of 2026-2027 (half of them near a DST
    -- transition), and around the local new year of random years from 1971 to 2059
    FOR i IN 1..98 LOOP
        v_random := v_random || pg_temp.random_instant(p_tz);
    END LOOP;
    FOR i IN 1..21 LOOP
        v_years := v_years || pg_temp.local(p_tz, make_date(pg_temp.rint(1971, 2059), 1, 1), 0);
    END LOOP;
    v_days := ARRAY(SELECT (t AT TIME ZONE p_tz)::date + pg_temp.rint(-1, 1) FROM unnest(v_random || v_years) t);
    FOR c IN 1..7 LOOP
        v_h := CASE c WHEN 1 THEN pg_temp.random_hours('day')
                      WHEN 2 THEN pg_temp.random_hours('day')
                      WHEN 3 THEN pg_temp.night_hours()
                      WHEN 4 THEN pg_temp.every_day('[["00:00", "24:00"]]')
                      WHEN 5 THEN pg_temp.every_day('[["01:00", "03:30"], ["22:00", "24:00"]]')
                      WHEN 6 THEN pg_temp.every_day('[["00:00", "03:00"], ["23:30", "24:00"]]')
                      ELSE pg_temp.random_hours('dst') END;
        INSERT INTO pg_temp.calendars
        SELECT p_tz, c, womgr.create_calendar(womgr.default_tenant_id(), p_tz || ' ' || v_names[c], p_tz, v_h, hol), v_names[c], v_h, hol
          FROM (SELECT ARRAY(SELECT DISTINCT v_days[pg_temp.rint(1, cardinality(v_days))]
                               FROM generate_series(1, (ARRAY[10, 5, 8, 0, 0, 3, 5])[c]) ORDER BY 1) AS hol) x;
    END LOOP;

    -- random: 70 add cases (calendar i % 7, kind i % 6: every pair) and 28 between cases (calendar j % 7, kind j % 4; one empty)
    FOR i IN 0..69 LOOP
        PERFORM pg_temp.add_case(p_tz, i % 7 + 1, 'random', v_random[i + 1], i % 6);
    END LOOP;
    FOR j IN 0..27 LOOP
        PERFORM pg_temp.between_case(p_tz, j % 7 + 1, 'random', v_random[71 + j], CASE WHEN j = 3 THEN 4 ELSE j % 4 END);
    END LOOP;

    -- DST: from up to 12 hours before each transition (28 add cases), and across it (28 between cases);
    -- random starts in a zone without DST
    FOR k IN 0..27 LOOP
        v_t := CASE WHEN cardinality(v_transitions) > 0 THEN v_transitions[k % cardinality(v_transitions) + 1]
                    ELSE pg_temp.random_instant(p_tz) END;
        PERFORM pg_temp.add_case(p_tz, k % 7 + 1, 'DST', v_t - make_interval(mins => pg_temp.rint(0, 12 * 60)), k % 5 + 1);
        PERFORM pg_temp.between_case(p_tz, k % 7 + 1, 'DST', v_t, 5);
    END LOOP;

    -- years: from up to 3 days before a local new year (14 add cases) and across one (7 between cases),
    -- far from the years compiled so far
    FOR k IN 0..13 LOOP
        PERFORM pg_temp.add_case(p_tz, k % 7 + 1, 'years', v_years[k + 1] - make_interval(mins => pg_temp.rint(0, 3 * 1440)), k % 5 + 1);
    END LOOP;
    FOR k IN 0..6 LOOP
        PERFORM pg_temp.between_case(p_tz, k + 1, 'years', v_years[15 + k], 5);
    END LOOP;

    -- long: two between cases over 20 to 60 days
    FOR k IN 0..1 LOOP
        PERFORM pg_temp.between_case(p_tz, pg_temp.rint(1, 7), 'long', v_random[pg_temp.rint(1, 98)], 6);
    END LOOP;
END
$$;

DO $$
DECLARE
    z record;
BEGIN
    PERFORM setseed(0.2026);
    FOR z IN SELECT tz FROM pg_temp.zone ORDER BY ord LOOP
        PERFORM pg_temp.run_zone(z.tz);
    END LOOP;
END
$$;

SELECT is((SELECT count(DISTINCT tz)::int FROM pg_temp.cases), 15, 'the reference ran in 15 time zones');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_temp.zone z, generate_series(timestamptz '2025-12-01 00:00+00', timestamptz '2028-02-01', interval '1 hour') h
                       WHERE extract(second FROM (h AT TIME ZONE z.tz) - (h AT TIME ZONE 'UTC')) <> 0),
          'every zone has whole-minute UTC offsets, so the minute walk is exact');
SELECT ok((SELECT count(DISTINCT tz) FROM pg_temp.transition) >= 10, 'most zones have DST transitions in 2026-2027');

-- per zone: the number of cases, the cases across a DST transition, and zero mismatches (listed in full if any)
CREATE FUNCTION pg_temp.report() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    z record;
BEGIN
    FOR z IN SELECT tz FROM pg_temp.zone ORDER BY ord LOOP
        RETURN NEXT is((SELECT count(*)::int FROM pg_temp.cases WHERE tz = z.tz AND fn = 'add_business_time'), 112,
                       z.tz || ': 112 add_business_time cases checked');
        RETURN NEXT is((SELECT count(*)::int FROM pg_temp.cases WHERE tz = z.tz AND fn = 'business_time_between'), 65,
                       z.tz || ': 65 business_time_between cases checked');
        RETURN NEXT ok(NOT EXISTS (SELECT 1 FROM pg_temp.transition t WHERE t.tz = z.tz)
                       OR (SELECT count(*) FROM pg_temp.cases c
                            WHERE c.tz = z.tz AND EXISTS (SELECT 1 FROM pg_temp.transition t
                                                           WHERE t.tz = z.tz AND t.at > c.lo AND t.at < c.hi)) >= 10,
                       z.tz || ': at least 10 cases run across a DST transition (in zones that have one)');
        RETURN NEXT is((SELECT coalesce(string_agg(format('%s case on %L %s holidays %s: %s(%s, %s) = %s, the reference says %s',
                                                          grp, calendar, hours, holidays, fn, a, arg, coalesce(have, 'NULL'),
                                                          coalesce(want, 'NULL')), E'\n' ORDER BY fn, a), '')
                          FROM pg_temp.cases WHERE tz = z.tz AND want IS DISTINCT FROM have), '',
                       z.tz || ': zero mismatches with the minute-walk reference');
    END LOOP;
END
$$;
SELECT * FROM pg_temp.report();

SELECT * FROM finish();
ROLLBACK;
