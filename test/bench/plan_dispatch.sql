-- Benchmark: womgr.plan_dispatch (the exact assignment solver, in rounds)
-- against greedy "nearest qualified, most urgent first" on the demo
-- company's day: total travel time and jobs placed.  Target: at least 15 %
-- less travel than greedy.
--
-- The day and branch: the one with the most new, unassigned work orders
-- (womgr._plan_queue) from today to a week ahead, in the demo company (the
-- Nairobi morning queue demo_generate leaves for the next working day).
-- When that queue holds fewer than :min_queue jobs, new work orders are
-- added for the day with womgr.create_work_order (at the branch's customers'
-- sites, types chosen at random, requested mornings, afternoons or the whole
-- working day) until it does.  plan_dispatch(..., false) returns both plans
-- side by side (greedy is booked and rolled back, then the solver's plan is
-- booked and rolled back): nothing changes (but the work orders added stay).
-- The saving is 1 - solver travel / greedy travel; it counts as MET only when
-- the solver also places at least as many jobs as greedy (fewer jobs would
-- mean less travel for nothing).  JIT is off, as in the other benchmarks.
-- Variables: :tenant; optional :min_queue (20)
\set ON_ERROR_STOP 1
\pset pager off
\if :{?min_queue}
\else
\set min_queue 20
\endif
SET jit = off;

CREATE TEMP TABLE bench_queue AS
SELECT b.branch_id, b.code, b.timezone, d.day, q.n
  FROM womgr.branch b
 CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE b.timezone)::date + k AS day FROM generate_series(0, 7) k) d
 CROSS JOIN LATERAL (SELECT count(*) AS n FROM womgr._plan_queue(b.tenant_id, b.branch_id, d.day, now())) q
 WHERE b.tenant_id = :tenant AND b.active
   AND EXISTS (SELECT 1 FROM womgr.technician t WHERE t.tenant_id = b.tenant_id AND t.home_branch_id = b.branch_id AND t.active);
SELECT branch_id AS branch, code AS branch_code, timezone AS tz, day, n AS queued
  FROM bench_queue ORDER BY n DESC, day, code LIMIT 1 \gset

-- Too small a queue: more new requests for that day, at the branch's sites.
SELECT setseed(0.2028) IS NULL AS seeded \gset
CREATE TEMP TABLE bench_g AS
SELECT i, random() AS u, random() AS v, random() AS x FROM generate_series(1, greatest(0, :min_queue - :queued)) i;
CREATE TEMP TABLE bench_added AS
SELECT womgr.create_work_order(:tenant, jsonb_build_object(
           'customer_id', s.customer_id, 'site_id', s.site_id, 'type', ty.code,
           'description', 'Benchmark: request for ' || :'day',
           'requested_window', jsonb_build_array(
               ((:'day'::date + w.f) AT TIME ZONE :'tz')::text, ((:'day'::date + w.t) AT TIME ZONE :'tz')::text))) AS work_order_id
  FROM bench_g g
  JOIN (SELECT s.site_id, s.customer_id, row_number() OVER (ORDER BY s.site_id) AS k, count(*) OVER () AS n
          FROM womgr.site s JOIN womgr.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
         WHERE s.tenant_id = :tenant AND s.active AND s.location IS NOT NULL
           AND coalesce(s.branch_id, c.branch_id) = :branch) s ON s.k = 1 + floor(g.u * s.n)
  JOIN (SELECT t.code, row_number() OVER (ORDER BY t.code) AS k, count(*) OVER () AS n
          FROM womgr.work_order_type t WHERE t.tenant_id = :tenant AND t.active) ty ON ty.k = 1 + floor(g.v * ty.n)
 CROSS JOIN LATERAL (SELECT CASE WHEN g.x < 0.4 THEN time '08:00' WHEN g.x < 0.7 THEN time '13:00' ELSE time '08:00' END AS f,
                            CASE WHEN g.x < 0.4 THEN time '12:00' WHEN g.x < 0.7 THEN time '17:00' ELSE time '17:00' END AS t) w
 ORDER BY g.i;
SELECT count(*) AS added, (SELECT count(*) FROM womgr._plan_queue(:tenant, :branch, :'day', now())) AS queue
  FROM bench_added \gset

SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE bench_plan AS SELECT * FROM womgr.plan_dispatch(:tenant, :branch, :'day', false);
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2) AS plan_s \gset

SELECT format('  queue: branch %s, %s: %s new unassigned work orders (%s from the demo company, %s added), by priority rank %s',
              :'branch_code', :'day', :queue, :queue - :added, :added,
              (SELECT string_agg(format('%s: %s', r, n), ', ' ORDER BY r)
                 FROM (SELECT priority_rank AS r, count(*) AS n FROM bench_plan GROUP BY 1) x));
SELECT format('  %-8s %s of %s jobs placed, %s travel minutes (%s per job) on %s technicians (%s with more than one job)',
              side, placed, jobs, round(travel::numeric, 1), round((travel / nullif(placed, 0))::numeric, 1), techs, multi)
  FROM (SELECT 1 AS k, 'solver' AS side, max(jobs_placed) AS placed, max(jobs_total) AS jobs, max(total_travel_minutes) AS travel,
               count(DISTINCT technician_id) AS techs,
               (SELECT count(*) FROM (SELECT technician_id FROM bench_plan WHERE technician_id IS NOT NULL
                                       GROUP BY 1 HAVING count(*) > 1) m) AS multi
          FROM bench_plan
        UNION ALL
        SELECT 2, 'greedy', max(greedy_jobs_placed), max(jobs_total), max(greedy_total_travel_minutes),
               count(DISTINCT greedy_technician_id),
               (SELECT count(*) FROM (SELECT greedy_technician_id FROM bench_plan WHERE greedy_technician_id IS NOT NULL
                                       GROUP BY 1 HAVING count(*) > 1) m)
          FROM bench_plan) x
 ORDER BY k;
SELECT format('  jobs placed on another technician than greedy''s: %s; less travel than greedy''s: %s, more: %s; planned in %s s',
              count(*) FILTER (WHERE technician_id IS DISTINCT FROM greedy_technician_id),
              count(*) FILTER (WHERE travel_minutes < greedy_travel_minutes - 0.05),
              count(*) FILTER (WHERE travel_minutes > greedy_travel_minutes + 0.05), :plan_s)
  FROM bench_plan;
SELECT CASE WHEN max(jobs_placed) < max(greedy_jobs_placed)
            THEN format('  NOTE: the solver places fewer jobs than greedy (%s against %s): its travel total covers fewer jobs (per placed job it travels %s%% less); not MET whatever the saving',
                        max(jobs_placed), max(greedy_jobs_placed),
                        round((100 * (1 - (max(total_travel_minutes) / nullif(max(jobs_placed), 0))
                                          / nullif(max(greedy_total_travel_minutes) / nullif(max(greedy_jobs_placed), 0), 0)))::numeric, 1))
            WHEN max(jobs_placed) > max(greedy_jobs_placed)
            THEN format('  note: the solver places more jobs than greedy (%s against %s): its travel total covers more jobs',
                        max(jobs_placed), max(greedy_jobs_placed))
            ELSE format('  both place %s of %s jobs', max(jobs_placed), max(jobs_total)) END
  FROM bench_plan;
SELECT CASE WHEN g > 0
            THEN format('RESULT plan_dispatch travel_saving=%s%% target>=15%% %s', round((100 * (1 - s / g))::numeric, 1),
                        CASE WHEN 1 - s / g >= 0.15 AND p >= gp THEN 'MET' ELSE 'MISSED' END)
            ELSE 'RESULT plan_dispatch travel_saving=n/a target>=15% MISSED' END
  FROM (SELECT max(total_travel_minutes) AS s, max(greedy_total_travel_minutes) AS g,
               max(jobs_placed) AS p, max(greedy_jobs_placed) AS gp FROM bench_plan) x;
