-- Benchmark: business time.  womgr.add_business_time against
--   1. the built-in start + duration over the same :rows rows (the same
--      count(*) ... WHERE f(start, duration) > x query on both sides, so only
--      the function differs), target at most 3x;
--   2. the two functions users write by hand today, on samples of those rows
--      (they are too slow for all of them), womgr timed on exactly the same
--      sample rows:
--      a. a generate_series minute walk, target womgr at least 10,000x faster;
--      b. a day-by-day PL/pgSQL walk over the day's working intervals
--         (AT TIME ZONE), target womgr at least 20x faster.
--      Both must give womgr's answers on their sample: disagreements are
--      counted and listed, and any makes the result INVALID.
-- The calendar: Africa/Nairobi, Mon-Fri 08:00-12:00 and 13:00-17:00, Sat
-- 09:00-13:00, Kenyan public holidays 2026-2028.  Starts are whole minutes
-- spread over 2026-2027 (the minute walk only handles whole minutes),
-- durations 30 minutes to 5 working days (40 hours) in whole minutes.
-- Each round times every side once, alternating; ratios are medians over
-- rounds.  Parallel query and JIT are off so both sides run the same
-- single-process plan (the per-row cost is what is measured).
-- Variables: :tenant :rounds, optional :rows (1000000), :minute_rows (200),
-- :day_rows (5000), :sample_calls (womgr calls per timing on a sample, 200000)
\set ON_ERROR_STOP 1
\pset pager off
\if :{?rows}
\else
\set rows 1000000
\endif
\if :{?minute_rows}
\else
\set minute_rows 200
\endif
\if :{?day_rows}
\else
\set day_rows 5000
\endif
\if :{?sample_calls}
\else
\set sample_calls 200000
\endif
SET temp_buffers = '256MB';		-- before the first temp table: the rows stay in memory
SET max_parallel_workers_per_gather = 0;
SET jit = off;

SELECT coalesce((SELECT calendar_id FROM womgr.calendar WHERE tenant_id = :tenant AND name = 'Benchmark: Nairobi office hours'),
                womgr.create_calendar(:tenant, 'Benchmark: Nairobi office hours', 'Africa/Nairobi',
    '{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "tue": [["08:00", "12:00"], ["13:00", "17:00"]],
      "wed": [["08:00", "12:00"], ["13:00", "17:00"]], "thu": [["08:00", "12:00"], ["13:00", "17:00"]],
      "fri": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": [["09:00", "13:00"]]}',
    '{2026-01-01, 2026-03-20, 2026-04-03, 2026-04-06, 2026-05-01, 2026-06-01, 2026-10-10, 2026-10-20,
      2026-12-12, 2026-12-25, 2026-12-26,
      2027-01-01, 2027-03-10, 2027-03-26, 2027-03-29, 2027-05-01, 2027-06-01, 2027-10-11, 2027-10-20,
      2027-12-13, 2027-12-25, 2027-12-27, 2028-01-01}')) AS cal \gset

SELECT setseed(0.2026) IS NULL AS seeded \gset
CREATE TEMP TABLE bench_cal AS
SELECT i AS id,
       timestamptz '2026-01-01 00:00 Africa/Nairobi' + floor(random() * 730 * 1440) * interval '1 minute' AS start_at,
       make_interval(mins => 30 + floor(random() * (2400 - 30 + 1))::int) AS duration
  FROM generate_series(1, :rows) i;
CREATE TEMP TABLE bench_cal_minute AS SELECT * FROM bench_cal WHERE id <= :minute_rows;
CREATE TEMP TABLE bench_cal_day AS SELECT * FROM bench_cal WHERE id <= :day_rows;
VACUUM ANALYZE bench_cal;
VACUUM ANALYZE bench_cal_minute;
VACUUM ANALYZE bench_cal_day;
CREATE TEMP TABLE bench_round (round int, side text, ms float8);

-- (a) What users write first: walk the minutes from the start, count the
-- working ones until the duration is used.  Whole minutes only.
CREATE FUNCTION pg_temp.minute_walk(p_tz text, p_hours jsonb, p_holidays date[], p_start timestamptz, p_duration interval)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_days constant text[] := '{mon,tue,wed,thu,fri,sat,sun}';
    v_need int := ceil(extract(epoch FROM p_duration) / 60);
    v_used int := 0;
    v_minute timestamptz;
    v_local timestamp;
    v_day jsonb;
BEGIN
    IF v_need <= 0 THEN
        RETURN p_start;
    END IF;
    FOR v_minute IN SELECT generate_series(p_start, p_start + interval '1 year', interval '1 minute') LOOP
        v_local := v_minute AT TIME ZONE p_tz;
        CONTINUE WHEN v_local::date = ANY (p_holidays);
        v_day := p_hours -> v_days[extract(isodow FROM v_local)::int];
        CONTINUE WHEN v_day IS NULL;
        FOR i IN 0 .. jsonb_array_length(v_day) - 1 LOOP
            IF v_local::time >= (v_day -> i ->> 0)::time AND v_local::time < (v_day -> i ->> 1)::time THEN
                v_used := v_used + 1;
                IF v_used = v_need THEN
                    RETURN v_minute + interval '1 minute';
                END IF;
                EXIT;
            END IF;
        END LOOP;
    END LOOP;
    RAISE EXCEPTION 'minute_walk: no % of working time within a year of %', p_duration, p_start;
END $$;

-- (b) The well-written version: walk day by day, turn each working interval
-- of the local day into instants with AT TIME ZONE and take it whole, until
-- the rest of the duration fits in one.
CREATE FUNCTION pg_temp.day_walk(p_tz text, p_hours jsonb, p_holidays date[], p_start timestamptz, p_duration interval)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_days constant text[] := '{mon,tue,wed,thu,fri,sat,sun}';
    v_left interval := p_duration;
    v_date date := (p_start AT TIME ZONE p_tz)::date;
    v_dow int := extract(isodow FROM v_date)::int;
    v_day jsonb;
    v_from timestamptz;
    v_to timestamptz;
BEGIN
    IF v_left <= interval '0' THEN
        RETURN p_start;
    END IF;
    FOR n IN 1 .. 3660 LOOP
        IF NOT v_date = ANY (p_holidays) THEN
            v_day := p_hours -> v_days[v_dow];
            IF v_day IS NOT NULL THEN
                FOR i IN 0 .. jsonb_array_length(v_day) - 1 LOOP
                    v_to := (v_date + (v_day -> i ->> 1)::time) AT TIME ZONE p_tz;
                    CONTINUE WHEN v_to <= p_start;
                    v_from := greatest((v_date + (v_day -> i ->> 0)::time) AT TIME ZONE p_tz, p_start);
                    IF v_to - v_from >= v_left THEN
                        RETURN v_from + v_left;
                    END IF;
                    v_left := v_left - (v_to - v_from);
                END LOOP;
            END IF;
        END IF;
        v_date := v_date + 1;
        v_dow := v_dow % 7 + 1;
    END LOOP;
    RAISE EXCEPTION 'day_walk: no % of working time within ten years of %', p_duration, p_start;
END $$;

-- One timing: p_reps runs of one side's query, in ms per run.  The
-- hand-written functions get the calendar as arguments (read once here,
-- outside the timing); womgr looks it up by id.
CREATE FUNCTION pg_temp.bench_time(p_side text, p_tenant bigint, p_cal bigint, p_x timestamptz, p_reps int DEFAULT 1)
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    v_tz text;
    v_hours jsonb;
    v_holidays date[];
    v_start timestamptz;
BEGIN
    SELECT v.timezone, v.hours, v.holidays INTO STRICT v_tz, v_hours, v_holidays
      FROM womgr.calendar c JOIN womgr.calendar_version v
        ON v.tenant_id = c.tenant_id AND v.calendar_id = c.calendar_id AND v.version = c.current_version
     WHERE c.tenant_id = p_tenant AND c.calendar_id = p_cal;
    v_start := clock_timestamp();
    FOR r IN 1 .. p_reps LOOP
        CASE p_side
        WHEN 'plain' THEN
            PERFORM count(*) FROM bench_cal WHERE start_at + duration > p_x;
        WHEN 'womgr' THEN
            PERFORM count(*) FROM bench_cal WHERE womgr.add_business_time(p_tenant, p_cal, start_at, duration) > p_x;
        WHEN 'minute_walk' THEN
            PERFORM count(*) FROM bench_cal_minute WHERE pg_temp.minute_walk(v_tz, v_hours, v_holidays, start_at, duration) > p_x;
        WHEN 'minute_womgr' THEN
            PERFORM count(*) FROM bench_cal_minute WHERE womgr.add_business_time(p_tenant, p_cal, start_at, duration) > p_x;
        WHEN 'day_walk' THEN
            PERFORM count(*) FROM bench_cal_day WHERE pg_temp.day_walk(v_tz, v_hours, v_holidays, start_at, duration) > p_x;
        WHEN 'day_womgr' THEN
            PERFORM count(*) FROM bench_cal_day WHERE womgr.add_business_time(p_tenant, p_cal, start_at, duration) > p_x;
        END CASE;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000 / p_reps;
END $$;

CREATE FUNCTION pg_temp.bench_rounds(p_rounds int, p_tenant bigint, p_cal bigint, p_x timestamptz, p_minute_reps int, p_day_reps int)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR r IN 1 .. p_rounds LOOP
        INSERT INTO bench_round VALUES (r, 'plain', pg_temp.bench_time('plain', p_tenant, p_cal, p_x));
        INSERT INTO bench_round VALUES (r, 'womgr', pg_temp.bench_time('womgr', p_tenant, p_cal, p_x));
        INSERT INTO bench_round VALUES (r, 'minute_walk', pg_temp.bench_time('minute_walk', p_tenant, p_cal, p_x));
        INSERT INTO bench_round VALUES (r, 'minute_womgr', pg_temp.bench_time('minute_womgr', p_tenant, p_cal, p_x, p_minute_reps));
        INSERT INTO bench_round VALUES (r, 'day_walk', pg_temp.bench_time('day_walk', p_tenant, p_cal, p_x));
        INSERT INTO bench_round VALUES (r, 'day_womgr', pg_temp.bench_time('day_womgr', p_tenant, p_cal, p_x, p_day_reps));
    END LOOP;
END $$;

-- The hand-written functions must agree with womgr on their samples (this
-- is also their warm-up).
CREATE TEMP TABLE bench_check AS
SELECT 'minute_walk' AS side, s.id, s.start_at, s.duration,
       womgr.add_business_time(:tenant, :cal, s.start_at, s.duration) AS womgr,
       pg_temp.minute_walk(v.timezone, v.hours, v.holidays, s.start_at, s.duration) AS hand
  FROM bench_cal_minute s, womgr.calendar_version v
 WHERE v.tenant_id = :tenant AND v.calendar_id = :cal AND v.version = (SELECT current_version FROM womgr.calendar
                                                                        WHERE tenant_id = :tenant AND calendar_id = :cal)
UNION ALL
SELECT 'day_walk', s.id, s.start_at, s.duration,
       womgr.add_business_time(:tenant, :cal, s.start_at, s.duration),
       pg_temp.day_walk(v.timezone, v.hours, v.holidays, s.start_at, s.duration)
  FROM bench_cal_day s, womgr.calendar_version v
 WHERE v.tenant_id = :tenant AND v.calendar_id = :cal AND v.version = (SELECT current_version FROM womgr.calendar
                                                                        WHERE tenant_id = :tenant AND calendar_id = :cal);
SELECT count(*) FILTER (WHERE side = 'minute_walk' AND womgr IS DISTINCT FROM hand) AS minute_bad,
       count(*) FILTER (WHERE side = 'day_walk' AND womgr IS DISTINCT FROM hand) AS day_bad
  FROM bench_check \gset
SELECT format('  %s disagrees with womgr on %s of %s sample rows', side, count(*) FILTER (WHERE womgr IS DISTINCT FROM hand), count(*))
  FROM bench_check GROUP BY side ORDER BY side DESC;
SELECT format('    row %s: start %s + %s: womgr %s, %s %s', id, start_at, duration, womgr, side, hand)
  FROM (SELECT *, row_number() OVER (PARTITION BY side ORDER BY id) AS k
          FROM bench_check WHERE womgr IS DISTINCT FROM hand) x
 WHERE k <= 5 ORDER BY side DESC, id;

-- Threshold: about half the deadlines fall after it.
SELECT timestamptz '2027-01-01 00:00 Africa/Nairobi' AS x \gset
SELECT ceil(:sample_calls::numeric / :minute_rows)::int AS minute_reps, ceil(:sample_calls::numeric / :day_rows)::int AS day_reps \gset
-- warm-up of the big queries: plans, caches, the compiled calendar
SELECT pg_temp.bench_time('plain', :tenant, :cal, :'x') IS NOT NULL AS warm,
       pg_temp.bench_time('womgr', :tenant, :cal, :'x') IS NOT NULL AS warm2 \gset

SELECT pg_temp.bench_rounds(:rounds, :tenant, :cal, :'x', :minute_reps, :day_reps) IS NULL AS done \gset

SELECT format('%-58s %10s %10s %7s', 'add_business_time vs start + duration, ' || :rows || ' rows', 'plain ms', 'womgr ms', 'ratio');
SELECT format('  round %-50s %10s %10s %7s', round, round(p.ms::numeric, 1), round(a.ms::numeric, 1), round((a.ms / p.ms)::numeric, 2))
  FROM bench_round p JOIN bench_round a USING (round)
 WHERE p.side = 'plain' AND a.side = 'womgr' ORDER BY round;
SELECT format('  per row (median) %39s %10s %10s', '', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY p.ms) * 1000 / :rows)::numeric, 3) || ' us',
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY a.ms) * 1000 / :rows)::numeric, 3) || ' us')
  FROM bench_round p JOIN bench_round a USING (round)
 WHERE p.side = 'plain' AND a.side = 'womgr';
SELECT format('RESULT calendar_add_business_time ratio=%s target<=3.00 %s', round(m::numeric, 2), CASE WHEN m <= 3 THEN 'MET' ELSE 'MISSED' END)
  FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.ms / p.ms) AS m
          FROM bench_round p JOIN bench_round a USING (round)
         WHERE p.side = 'plain' AND a.side = 'womgr') x;

-- The hand-written functions, per row against womgr on the same sample rows
-- (womgr's time is per run of its query, repeated :sample_calls calls' worth).
WITH w(side, womgr_side, label, n, target, bad, ord) AS (
    VALUES ('minute_walk', 'minute_womgr', 'generate_series minute walk', :minute_rows, 10000, :minute_bad, 1),
           ('day_walk', 'day_womgr', 'PL/pgSQL day-by-day walk', :day_rows, 20, :day_bad, 2)),
r AS (
    SELECT w.*, h.round, h.ms AS hand_ms, a.ms AS womgr_ms
      FROM w JOIN bench_round h ON h.side = w.side
             JOIN bench_round a ON a.side = w.womgr_side AND a.round = h.round)
SELECT line FROM (
    SELECT ord, 0 AS k, format('%-58s %12s %12s %10s', label || ' vs womgr, ' || n || ' sample rows', 'hand us/row', 'womgr us/row', 'speedup') AS line
      FROM w
    UNION ALL
    SELECT ord, round, format('  round %-50s %12s %12s %10s', round, round((hand_ms * 1000 / n)::numeric, 1),
                              round((womgr_ms * 1000 / n)::numeric, 3), round((hand_ms / womgr_ms)::numeric, 0))
      FROM r
    UNION ALL
    SELECT ord, 1000000, format('RESULT calendar_vs_%s speedup=%s target>=%s %s', side, round(m::numeric, 0), target,
                                CASE WHEN bad > 0 THEN 'INVALID (' || bad || ' wrong answers)'
                                     WHEN m >= target THEN 'MET' ELSE 'MISSED' END)
      FROM (SELECT side, ord, target, bad, percentile_cont(0.5) WITHIN GROUP (ORDER BY hand_ms / womgr_ms) AS m
              FROM r GROUP BY side, ord, target, bad) x) lines
 ORDER BY ord, k;
