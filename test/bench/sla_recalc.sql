-- Benchmark: SLA recalculation after a calendar edit.  womgr.sla_recalculate
-- ('remaining' and 'all') over the open clocks of :work_orders open work
-- orders against a plain UPDATE that rewrites the same due-time column on the
-- same rows (target: at most 3x each).
-- The set-up, once per database: a calendar (Africa/Nairobi, Mon-Fri
-- 08:00-12:00 and 13:00-17:00, Sat 09:00-13:00, Kenyan public holidays
-- 2026-2027), the tenant's default SLA policy on it (response 8 hours,
-- resolution 40 hours) and :work_orders work orders opened over the last four
-- days.  They are imported (a past created_at, as a migration brings them),
-- so their clocks are inserted here as the engine starts them: from the
-- creation, consumed nothing, due at the target.  Then :held of them are
-- assigned and moved, through womgr.transition with the times they happened,
-- to waiting_parts (their resolution clock paused), and :held more the same
-- way and back to in_progress (running again, after a closed pause).
-- Each round, each side in its own transaction and after a VACUUM of the
-- clocks: the plain UPDATE, then update_calendar (untimed; it alternates
-- between two sets of hours, so every edit changes the deadlines) and
-- sla_recalculate 'remaining'; the same again with 'all'.  The order of the
-- two sides alternates between rounds; ratios are medians over rounds.
-- Before the rounds, one recalculation in each mode is checked clock by clock
-- on a sample against deadlines worked out with the public calendar
-- functions (see "Checking" below).
-- Variables: :tenant :rounds, optional :work_orders (100000), :held (3000)
\set ON_ERROR_STOP 1
\pset pager off
\if :{?work_orders}
\else
\set work_orders 100000
\endif
\if :{?held}
\else
\set held 3000
\endif
SET max_parallel_workers_per_gather = 0;
SET jit = off;

SELECT clock_timestamp() AS setup_start \gset
SELECT '{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "tue": [["08:00", "12:00"], ["13:00", "17:00"]],
         "wed": [["08:00", "12:00"], ["13:00", "17:00"]], "thu": [["08:00", "12:00"], ["13:00", "17:00"]],
         "fri": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": [["09:00", "13:00"]]}' AS hours_a,
       '{"mon": [["07:30", "12:30"], ["13:30", "18:00"]], "tue": [["07:30", "12:30"], ["13:30", "18:00"]],
         "wed": [["07:30", "12:30"], ["13:30", "18:00"]], "thu": [["07:30", "12:30"], ["13:30", "18:00"]],
         "fri": [["07:30", "12:30"], ["13:30", "18:00"]], "sat": [["08:00", "12:00"]]}' AS hours_b \gset
SELECT coalesce((SELECT calendar_id FROM womgr.calendar WHERE tenant_id = :tenant AND name = 'Benchmark: SLA office hours'),
                womgr.create_calendar(:tenant, 'Benchmark: SLA office hours', 'Africa/Nairobi', :'hours_a',
    '{2026-01-01, 2026-03-20, 2026-04-03, 2026-04-06, 2026-05-01, 2026-06-01, 2026-10-10, 2026-10-20,
      2026-12-12, 2026-12-25, 2026-12-26,
      2027-01-01, 2027-03-10, 2027-03-26, 2027-03-29, 2027-05-01, 2027-06-01, 2027-10-11, 2027-10-20,
      2027-12-13, 2027-12-25, 2027-12-27, 2028-01-01}')) AS cal \gset
SELECT coalesce((SELECT sla_policy_id FROM womgr.sla_policy WHERE tenant_id = :tenant AND code = 'bench_sla_default'),
                womgr.create_sla_policy(:tenant, jsonb_build_object('code', 'bench_sla_default', 'name', 'Benchmark: default SLA',
                    'scope', 'default', 'calendar_id', :cal,
                    'targets', '[{"metric": "response", "target": "8 hours"}, {"metric": "resolution", "target": "40 hours"}]'::jsonb)))
       AS policy \gset
SELECT NOT EXISTS (SELECT 1 FROM womgr.sla_clock WHERE tenant_id = :tenant AND sla_policy_id = :policy) AS need_setup \gset

\if :need_setup
SELECT setseed(0.2026) IS NULL AS seeded \gset
SELECT work_order_type_id AS type_id, default_priority_id AS priority_id
  FROM womgr.work_order_type WHERE tenant_id = :tenant AND code = 'repair' \gset
CREATE TEMP TABLE bench_site AS
SELECT row_number() OVER (ORDER BY site_id) - 1 AS k, customer_id, site_id FROM womgr.site WHERE tenant_id = :tenant;
-- the work orders, imported: numbered by the triggers, no clocks yet
INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description, source,
                              created_at, status_changed_at)
SELECT :tenant, s.customer_id, s.site_id, :type_id, :priority_id, 'Benchmark: SLA ' || g.i, 'import', g.t, g.t
  FROM (SELECT i, date_trunc('second', now() - random() * interval '4 days') AS t FROM generate_series(1, :work_orders) i) g
  JOIN bench_site s ON s.k = g.i % (SELECT count(*) FROM bench_site);
SELECT clock_timestamp() AS t_imported \gset
-- their clocks, as the engine's insert trigger starts them (its policy, calendar, version and targets)
INSERT INTO womgr.sla_clock (tenant_id, work_order_id, metric, sla_policy_id, calendar_id, calendar_version,
                             target, started_at, counted_to, state, due_at)
SELECT w.tenant_id, w.work_order_id, t.metric, t.sla_policy_id, t.calendar_id, t.calendar_version,
       t.target, w.created_at, w.created_at, 'running',
       womgr._bt_add(w.tenant_id, t.calendar_id, t.calendar_version, w.created_at, t.target)
  FROM womgr.work_order w CROSS JOIN LATERAL womgr._sla_targets(w) t
 WHERE w.tenant_id = :tenant AND w.description LIKE 'Benchmark: SLA %';
ANALYZE womgr.work_order;
ANALYZE womgr.sla_clock;
SELECT clock_timestamp() AS t_clocks \gset
-- :held paused (waiting for parts) and :held resumed, through the engine
CREATE FUNCTION pg_temp.bench_hold(p_tenant bigint, p_held int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_tech bigint := (SELECT min(technician_id) FROM womgr.technician WHERE tenant_id = p_tenant AND active);
    v_w record;
BEGIN
    FOR v_w IN SELECT work_order_id, created_at, row_number() OVER (ORDER BY work_order_id) AS k
                 FROM womgr.work_order
                WHERE tenant_id = p_tenant AND description LIKE 'Benchmark: SLA %' AND created_at < now() - interval '2 days'
                ORDER BY work_order_id LIMIT 2 * p_held LOOP
        PERFORM womgr.assign(p_tenant, v_w.work_order_id, v_tech);
        PERFORM womgr.transition(p_tenant, v_w.work_order_id, 'scheduled', p_occurred_at => v_w.created_at + interval '40 minutes');
        PERFORM womgr.transition(p_tenant, v_w.work_order_id, 'in_progress', p_occurred_at => v_w.created_at + interval '3 hours');
        PERFORM womgr.transition(p_tenant, v_w.work_order_id, 'waiting_parts', 'Benchmark: compressor on order',
                                 p_occurred_at => v_w.created_at + interval '5 hours');
        IF v_w.k % 2 = 0 THEN
            PERFORM womgr.transition(p_tenant, v_w.work_order_id, 'in_progress', p_occurred_at => v_w.created_at + interval '30 hours');
        END IF;
    END LOOP;
END $$;
SELECT pg_temp.bench_hold(:tenant, :held) IS NULL AS held_done \gset
SELECT clock_timestamp() AS t_held \gset
VACUUM ANALYZE womgr.work_order;
VACUUM ANALYZE womgr.sla_clock;
VACUUM ANALYZE womgr.sla_pause;
SELECT format('  set up %s work orders (%s paused, %s resumed) in %s s: imported %s s, clocks %s s, holds %s s, vacuum %s s',
              :work_orders, :held, :held, round(extract(epoch FROM clock_timestamp() - :'setup_start'::timestamptz)::numeric, 1),
              round(extract(epoch FROM :'t_imported'::timestamptz - :'setup_start'::timestamptz)::numeric, 1),
              round(extract(epoch FROM :'t_clocks'::timestamptz - :'t_imported'::timestamptz)::numeric, 1),
              round(extract(epoch FROM :'t_held'::timestamptz - :'t_clocks'::timestamptz)::numeric, 1),
              round(extract(epoch FROM clock_timestamp() - :'t_held'::timestamptz)::numeric, 1));
\else
SELECT '  set-up found in place, reused';
\endif
SELECT count(*) AS open_clocks FROM womgr.sla_clock
 WHERE tenant_id = :tenant AND calendar_id = :cal AND state IN ('running', 'paused') \gset
SELECT format('  %s open clocks on the calendar: %s', :open_clocks,
              string_agg(format('%s %s %s', n, metric, state), ', ' ORDER BY metric, state))
  FROM (SELECT metric, state, count(*) AS n FROM womgr.sla_clock
         WHERE tenant_id = :tenant AND calendar_id = :cal AND state IN ('running', 'paused') GROUP BY 1, 2) x;

CREATE TEMP TABLE bench_round (round int, side text, ms float8, n int);

-- An edit of the calendar: the other set of hours than the current one.
CREATE FUNCTION pg_temp.bench_edit(p_tenant bigint, p_cal bigint, p_a jsonb, p_b jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN womgr.update_calendar(p_tenant, p_cal, p_hours =>
        CASE WHEN (SELECT v.hours FROM womgr.calendar c JOIN womgr.calendar_version v
                     ON v.tenant_id = c.tenant_id AND v.calendar_id = c.calendar_id AND v.version = c.current_version
                    WHERE c.tenant_id = p_tenant AND c.calendar_id = p_cal) = p_a THEN p_b ELSE p_a END);
END $$;

CREATE FUNCTION pg_temp.bench_recalc(p_round int, p_tenant bigint, p_cal bigint, p_mode text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_n int;
BEGIN
    v_n := womgr.sla_recalculate(p_tenant, p_cal, p_mode);
    INSERT INTO bench_round VALUES (p_round, p_mode, extract(epoch FROM clock_timestamp() - v_start) * 1000, v_n);
END $$;

CREATE FUNCTION pg_temp.bench_plain(p_round int, p_tenant bigint, p_cal bigint, p_side text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_n int;
BEGIN
    UPDATE womgr.sla_clock SET due_at = due_at + interval '1 minute'
     WHERE tenant_id = p_tenant AND calendar_id = p_cal AND state IN ('running', 'paused');
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO bench_round VALUES (p_round, p_side, extract(epoch FROM clock_timestamp() - v_start) * 1000, v_n);
END $$;

-- Checking (also the warm-up).  A sample of the open clocks is kept before
-- each recalculation and compared after it with what the recalculation
-- should have written, worked out with the public calendar functions on the
-- new version (and, for the time run before the edit in 'remaining', on the
-- version the clock was on):
--   remaining: a running clock counts the business time since counted_to on
--     its old version up to the recalculation (its new counted_to), then is
--     due at add_business_time(new counted_to, target - consumed) on the new
--     version; one already past its target keeps its due time.  A paused
--     clock keeps consumed and counted_to, and no due time.
--   all: a running clock is due when its target is reached on the new
--     version, counted from its start less its pause: add_business_time(start,
--     target) if it never paused, else, when the target was not reached
--     before the pause, add_business_time(resume, target - time before the
--     pause).  A paused clock has consumed the business time from its start
--     to its pause, and no due time.
-- Every clock: on the new version.
CREATE TEMP TABLE bench_sample AS
SELECT c.* FROM womgr.sla_clock c
 WHERE c.tenant_id = :tenant AND c.calendar_id = :cal AND c.state IN ('running', 'paused') AND c.work_order_id % 25 = 0;
ALTER TABLE bench_sample ADD PRIMARY KEY (tenant_id, work_order_id, metric);
CREATE TEMP TABLE bench_check (mode text, work_order_id bigint, metric text, state text, problem text,
                               expected_due timestamptz, due_at timestamptz, past_target boolean);

-- remaining
SELECT pg_temp.bench_edit(:tenant, :cal, :'hours_a', :'hours_b') AS version \gset
SELECT womgr.sla_recalculate(:tenant, :cal, 'remaining') AS n \gset
INSERT INTO bench_check
SELECT 'remaining', s.work_order_id, s.metric, s.state,
       concat_ws('; ', CASE WHEN n.calendar_version <> :version THEN 'version ' || n.calendar_version END,
                       CASE WHEN n.consumed <> e.consumed THEN format('consumed %s, expected %s', n.consumed, e.consumed) END,
                       CASE WHEN n.due_at IS DISTINCT FROM e.due_at THEN 'due time' END,
                       CASE WHEN s.state = 'paused' AND n.counted_to <> s.counted_to THEN 'counted_to moved' END,
                       CASE WHEN s.state = 'running' AND n.counted_to < s.counted_to THEN 'counted_to went back' END),
       e.due_at, n.due_at, e.consumed >= s.target
  FROM bench_sample s
  JOIN womgr.sla_clock n USING (tenant_id, work_order_id, metric)
  CROSS JOIN LATERAL (SELECT CASE WHEN s.state = 'running'
                                  THEN s.consumed + womgr._business_time_between_v(s.tenant_id, s.calendar_id, s.calendar_version,
                                                                                   s.counted_to, n.counted_to)
                                  ELSE s.consumed END AS consumed) c0
  CROSS JOIN LATERAL (SELECT c0.consumed,
                             CASE WHEN s.state = 'paused' THEN CASE WHEN s.consumed < s.target THEN NULL ELSE s.due_at END
                                  WHEN c0.consumed < s.target
                                  THEN womgr.add_business_time(s.tenant_id, s.calendar_id, n.counted_to, s.target - c0.consumed)
                                  ELSE s.due_at END AS due_at) e;

-- all
TRUNCATE bench_sample;
INSERT INTO bench_sample
SELECT c.* FROM womgr.sla_clock c
 WHERE c.tenant_id = :tenant AND c.calendar_id = :cal AND c.state IN ('running', 'paused') AND c.work_order_id % 25 = 0;
SELECT pg_temp.bench_edit(:tenant, :cal, :'hours_a', :'hours_b') AS version \gset
SELECT womgr.sla_recalculate(:tenant, :cal, 'all') AS n \gset
INSERT INTO bench_check
SELECT 'all', s.work_order_id, s.metric, s.state,
       concat_ws('; ', CASE WHEN n.calendar_version <> :version THEN 'version ' || n.calendar_version END,
                       CASE WHEN p.n > 1 THEN 'more than one pause (not checked)' END,
                       CASE WHEN s.state = 'paused' AND n.consumed <> e.before_pause THEN format('consumed %s, expected %s', n.consumed, e.before_pause) END,
                       CASE WHEN n.due_at IS DISTINCT FROM e.due_at THEN 'due time' END,
                       CASE WHEN s.state = 'paused' AND n.counted_to <> s.counted_to THEN 'counted_to moved' END),
       e.due_at, n.due_at, e.due_at <= n.counted_to
  FROM bench_sample s
  JOIN womgr.sla_clock n USING (tenant_id, work_order_id, metric)
  CROSS JOIN LATERAL (SELECT count(*) AS n, min(sp.paused_at) AS paused_at, min(sp.resumed_at) AS resumed_at
                        FROM womgr.sla_pause sp
                       WHERE sp.tenant_id = s.tenant_id AND sp.work_order_id = s.work_order_id
                         AND coalesce(sp.resumed_at, 'infinity') > s.started_at AND sp.paused_at < n.counted_to) p
  CROSS JOIN LATERAL (SELECT womgr.business_time_between(s.tenant_id, s.calendar_id, s.started_at,
                                                         CASE WHEN p.n = 0 THEN n.counted_to ELSE greatest(p.paused_at, s.started_at) END) AS before_pause) b
  CROSS JOIN LATERAL (SELECT b.before_pause,
                             CASE WHEN s.state = 'paused' THEN NULL
                                  WHEN p.n = 0 OR b.before_pause >= s.target
                                  THEN womgr.add_business_time(s.tenant_id, s.calendar_id, s.started_at, s.target)
                                  ELSE womgr.add_business_time(s.tenant_id, s.calendar_id, p.resumed_at, s.target - b.before_pause) END AS due_at) e;
DROP TABLE bench_sample;

SELECT format('  check %-9s checked %s clocks (%s running, %s paused), %s disagreements%s', mode, count(*),
              count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'paused'),
              count(*) FILTER (WHERE problem <> ''),
              CASE WHEN count(*) FILTER (WHERE problem <> '' AND past_target) > 0
                   THEN format(' (%s of them on clocks past their target)', count(*) FILTER (WHERE problem <> '' AND past_target)) ELSE '' END)
  FROM bench_check GROUP BY mode ORDER BY mode DESC;
SELECT format('    %s: work order %s %s (%s): %s; expected due %s, due_at %s', mode, work_order_id, metric, state, problem, expected_due, due_at)
  FROM (SELECT *, row_number() OVER (PARTITION BY mode, past_target ORDER BY work_order_id, metric) AS k
          FROM bench_check WHERE problem <> '') x
 WHERE k <= 3 ORDER BY mode DESC, past_target, work_order_id, metric;

-- the rounds: each statement its own transaction
VACUUM womgr.sla_clock;
\o /dev/null
SELECT s.sql
  FROM generate_series(1, :rounds) r,
       LATERAL (VALUES ('remaining', 1), ('all', 2)) m(mode, k),
       LATERAL (VALUES (1, format('SELECT pg_temp.bench_edit(%s, %s, %L, %L)', :tenant, :cal, :'hours_a', :'hours_b')),
                       (2, 'VACUUM womgr.sla_clock'),
                       (CASE WHEN r % 2 = 1 THEN 3 ELSE 5 END,
                        format('SELECT pg_temp.bench_plain(%s, %s, %s, %L)', r, :tenant, :cal, 'plain_' || m.mode)),
                       (4, 'VACUUM womgr.sla_clock'),
                       (CASE WHEN r % 2 = 1 THEN 5 ELSE 3 END,
                        format('SELECT pg_temp.bench_recalc(%s, %s, %s, %L)', r, :tenant, :cal, m.mode))) s(step, sql)
 ORDER BY r, m.k, s.step \gexec
\o

SELECT format('%-44s %10s %10s %7s %10s %10s %7s', 'sla_recalculate vs plain UPDATE, ' || :open_clocks || ' clocks',
              'UPDATE ms', 'remain ms', 'ratio', 'UPDATE ms', 'all ms', 'ratio');
SELECT format('  round %-36s %10s %10s %7s %10s %10s %7s', p1.round,
              round(p1.ms::numeric, 1), round(a1.ms::numeric, 1), round((a1.ms / p1.ms)::numeric, 2),
              round(p2.ms::numeric, 1), round(a2.ms::numeric, 1), round((a2.ms / p2.ms)::numeric, 2))
  FROM bench_round p1
  JOIN bench_round a1 ON a1.round = p1.round AND a1.side = 'remaining'
  JOIN bench_round p2 ON p2.round = p1.round AND p2.side = 'plain_all'
  JOIN bench_round a2 ON a2.round = p1.round AND a2.side = 'all'
 WHERE p1.side = 'plain_remaining' ORDER BY p1.round;
SELECT format('  rows written per statement: UPDATE %s, remaining %s, all %s',
              string_agg(DISTINCT n::text, '/') FILTER (WHERE side LIKE 'plain%'),
              string_agg(DISTINCT n::text, '/') FILTER (WHERE side = 'remaining'),
              string_agg(DISTINCT n::text, '/') FILTER (WHERE side = 'all'))
  FROM bench_round;
SELECT format('RESULT sla_recalculate_%s ratio=%s target<=3.00 %s', mode, round(m::numeric, 2), CASE WHEN m <= 3 THEN 'MET' ELSE 'MISSED' END)
  FROM (SELECT a.side AS mode, percentile_cont(0.5) WITHIN GROUP (ORDER BY a.ms / p.ms) AS m
          FROM bench_round p JOIN bench_round a ON a.round = p.round AND p.side = 'plain_' || a.side
         WHERE a.side IN ('remaining', 'all') GROUP BY a.side) x
 ORDER BY mode DESC;
