-- Benchmark: womgr.match_technicians (top 10) against the SQL a user writes
-- by hand for the same hard filters, on generated data: a tenant of its own
-- with 10 branches in real Kenyan towns, :technicians technicians (default
-- 10,000) living around them, each of 8 skills with probability 0.27 at a
-- level 1-5 (about one certification in nine expired), :sites customer sites
-- (default 100,000), a few thousand bookings on the day, and :matches
-- (default 300) new work orders at random sites, of the 9 types that require
-- skills (one or two), each requested for 08:00-17:00 that day.
--
-- The hard filters on every side: active, home branch = the work order's
-- branch, every skill the type requires at its minimum level with the
-- certification valid on the day (certified_until NULL or on/after it), and
-- free.  By hand, skills are the usual relational division (NOT EXISTS a
-- required skill the technician lacks) and "free" is what a user checks: no
-- active booking overlapping one fixed slot, the window's start plus the
-- job's duration (NOT EXISTS with &&).  womgr finds each candidate's earliest
-- start in the whole window with the travel counted as busy time, then scores
-- and explains (candidate_pool 20, the default policy).
--   A. ordered by ST_Distance(home_location, site) LIMIT 10, the distance
--      returned: target womgr at least 3x faster at p95;
--   B. ordered by home_location <-> site LIMIT 10, ids only, walking the KNN
--      index technician_home_location_idx (checked: its scan count is
--      printed): target womgr's p95 at most 1.5x of it.
-- A and B look the work order up first (branch, type, site, slot), as womgr
-- does, inside their timing; their SQL is static in PL/pgSQL (cached plans,
-- as an application's prepared statements).  PostGIS is called unqualified
-- through the session's search_path, as users call it.  Positions are
-- home_location only (last_location NULL), so womgr's index on
-- coalesce(last_location, home_location) and the user's index on
-- home_location hold the same points.
--
-- Each call is timed server-side (clock_timestamp() around it); per work
-- order A, B, then womgr, over every work order, in :rounds passes after a
-- warm-up on :warmup other work orders; p50 and p95 are over all calls of a
-- side.  JIT and parallel query are off, as in the other benchmarks, so every
-- side runs a plain single-process plan; the same calls with the server's JIT
-- setting are then timed on 50 work orders and printed for information.
-- Sanity (outside the timing): every womgr candidate passes the hand-written
-- hard filters, and its booking (travel before the start, then the job's
-- duration) overlaps none of the technician's active bookings; how far
-- womgr's top 10 agrees with A's and B's is printed too.
-- The tenant (bench-dispatch-<day>) is generated once per day and reused.
-- Variables: :rounds; optional :technicians (10000), :sites (100000),
-- :matches (300), :warmup (30)
\set ON_ERROR_STOP 1
\pset pager off
\if :{?technicians}
\else
\set technicians 10000
\endif
\if :{?sites}
\else
\set sites 100000
\endif
\if :{?matches}
\else
\set matches 300
\endif
\if :{?warmup}
\else
\set warmup 30
\endif
\if :{?rounds}
\else
\set rounds 3
\endif
SET max_parallel_workers_per_gather = 0;
SET jit = off;
-- PostGIS on the path, wherever it is installed, as a user has it
SELECT (SELECT set_config('search_path', current_setting('search_path') || ', ' || quote_ident(n.nspname), false)
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'postgis' AND NOT n.nspname = ANY (current_schemas(false))) IS NULL AS pathed \gset

-- the day: tomorrow in Nairobi; the tenant is made once per day and reused
SELECT (now() AT TIME ZONE 'Africa/Nairobi')::date + 1 AS day \gset
SELECT 'bench-dispatch-' || to_char(:'day'::date, 'YYYYMMDD') AS code \gset
SELECT clock_timestamp() AS setup_start \gset
SELECT NOT EXISTS (SELECT 1 FROM womgr.tenant WHERE code = :'code') AS need_setup \gset

\if :need_setup
BEGIN;
SELECT setseed(0.2027) IS NULL AS seeded \gset
SELECT womgr.create_tenant(jsonb_build_object('code', :'code', 'name', 'Benchmark: dispatch at scale',
                                              'timezone', 'Africa/Nairobi')) AS tenant \gset

-- Ten branches in real towns; the share of technicians and sites each has,
-- and how far (degrees) they spread around it.
CREATE TEMP TABLE bench_branch (ord int, code text, name text, lat float8, lon float8, share float8, spread float8,
                                branch_id bigint, lo float8, hi float8);
INSERT INTO bench_branch (ord, code, name, lat, lon, share, spread) VALUES
    (1, 'NBO', 'Nairobi', -1.2921, 36.8219, 0.30, 0.15),
    (2, 'MSA', 'Mombasa', -4.0435, 39.6682, 0.14, 0.10),
    (3, 'KSM', 'Kisumu', -0.0917, 34.7680, 0.10, 0.08),
    (4, 'NKR', 'Nakuru', -0.3031, 36.0800, 0.09, 0.08),
    (5, 'ELD', 'Eldoret', 0.5143, 35.2698, 0.08, 0.08),
    (6, 'THK', 'Thika', -1.0333, 37.0693, 0.07, 0.06),
    (7, 'NYR', 'Nyeri', -0.4201, 36.9476, 0.06, 0.06),
    (8, 'MKS', 'Machakos', -1.5177, 37.2634, 0.06, 0.06),
    (9, 'KAK', 'Kakamega', 0.2827, 34.7519, 0.05, 0.06),
    (10, 'MLD', 'Malindi', -3.2192, 40.1169, 0.05, 0.06);
UPDATE bench_branch b SET lo = x.lo, hi = x.hi,
       branch_id = womgr.create_branch(:tenant, jsonb_build_object('code', b.code, 'name', b.name || ' branch',
                                                                   'location', jsonb_build_object('lat', b.lat, 'lon', b.lon)))
  FROM (SELECT ord, sum(share) OVER (ORDER BY ord) - share AS lo, sum(share) OVER (ORDER BY ord) AS hi FROM bench_branch) x
 WHERE x.ord = b.ord;
UPDATE bench_branch SET hi = 1.0 WHERE ord = 10;

-- Skills (the first five need a certification) and the types that require them.
INSERT INTO womgr.skill (tenant_id, code, name)
SELECT :tenant, code, name FROM (VALUES (1, 'electrical', 'Electrical'), (2, 'hvac', 'HVAC and refrigeration'),
                                        (3, 'solar', 'Solar PV'), (4, 'telecom', 'Telecom'), (5, 'gas', 'Gas fitting'),
                                        (6, 'plumbing', 'Plumbing'), (7, 'appliances', 'Appliances'), (8, 'it', 'IT support')) s(ord, code, name)
 ORDER BY ord;
SELECT count(womgr.create_work_order_type(:tenant, t)) AS types
  FROM jsonb_array_elements('[
    {"code": "electrical_fault", "name": "Electrical fault", "default_priority": "high", "estimated_duration": "2 hours", "required_skills": {"electrical": 2}},
    {"code": "ac_service", "name": "Air conditioner service", "estimated_duration": "90 minutes", "required_skills": {"hvac": 2}},
    {"code": "solar_install", "name": "Solar PV installation", "estimated_duration": "4 hours", "required_skills": {"solar": 3, "electrical": 2}},
    {"code": "water_pump_repair", "name": "Water pump repair", "default_priority": "high", "estimated_duration": "3 hours", "required_skills": {"plumbing": 2, "electrical": 2}},
    {"code": "network_install", "name": "Network installation", "estimated_duration": "4 hours", "required_skills": {"telecom": 3, "it": 2}},
    {"code": "generator_service", "name": "Generator service", "estimated_duration": "3 hours", "required_skills": {"electrical": 3}},
    {"code": "gas_leak", "name": "Gas leak", "default_priority": "emergency", "estimated_duration": "1 hour", "required_skills": {"gas": 3}},
    {"code": "appliance_repair", "name": "Appliance repair", "estimated_duration": "90 minutes", "required_skills": {"appliances": 2}},
    {"code": "cold_room_repair", "name": "Cold room repair", "default_priority": "high", "estimated_duration": "3 hours", "required_skills": {"hvac": 3, "electrical": 2}}
  ]'::jsonb) t \gset

-- Technicians: a branch by share, home in a disc around it (uniform by area),
-- 3% inactive, a rating, no GPS ping.
CREATE TEMP TABLE bench_g AS
SELECT i, random() AS u, sqrt(random()) AS r, 2 * pi() * random() AS th, random() AS a, random() AS q
  FROM generate_series(1, :technicians) i;
INSERT INTO womgr.technician (tenant_id, employee_code, name, home_branch_id, home_location, active, rating)
SELECT :tenant, 'D' || lpad(g.i::text, 5, '0'), 'Technician ' || g.i, b.branch_id,
       womgr._point(b.lat + b.spread * g.r * sin(g.th), b.lon + b.spread * g.r * cos(g.th)),
       g.a >= 0.03, round((1 + 4 * g.q)::numeric, 2)
  FROM bench_g g JOIN bench_branch b ON g.u >= b.lo AND g.u < b.hi
 ORDER BY g.i;
DROP TABLE bench_g;

-- Their skills: each skill with probability 0.27 (some have none, a few
-- four or more), level 1-5; certified skills run out between 400 days before
-- the day and 700 after (about one in nine has expired), some on the day.
INSERT INTO womgr.technician_skill (tenant_id, technician_id, skill_id, level, certified_until)
SELECT :tenant, x.technician_id, x.skill_id, 1 + floor(x.l * 5)::int,
       CASE WHEN x.certified THEN
           CASE WHEN x.c < 0.11 THEN :'day'::date - 1 - floor(x.c * 3600)::int
                WHEN x.c < 0.13 THEN :'day'::date
                ELSE :'day'::date + 1 + floor((x.c - 0.13) * 800)::int END END
  FROM (SELECT y.*, random() AS p, random() AS l, random() AS c
          FROM (SELECT t.technician_id, s.skill_id, s.skill_id - min(s.skill_id) OVER () < 5 AS certified
                  FROM womgr.technician t CROSS JOIN womgr.skill s
                 WHERE t.tenant_id = :tenant AND s.tenant_id = :tenant
                 ORDER BY t.technician_id, s.skill_id) y) x
 WHERE x.p < 0.27
 ORDER BY x.technician_id, x.skill_id;

-- Customers with two sites each, around their branch.
CREATE TEMP TABLE bench_g AS
SELECT i, random() AS u FROM generate_series(1, (:sites + 1) / 2) i;
INSERT INTO womgr.customer (tenant_id, account_code, name, kind, branch_id)
SELECT :tenant, 'B' || lpad(g.i::text, 7, '0'), 'Customer ' || g.i,
       CASE WHEN g.i % 5 < 2 THEN 'business' ELSE 'individual' END, b.branch_id
  FROM bench_g g JOIN bench_branch b ON g.u >= b.lo AND g.u < b.hi
 ORDER BY g.i;
DROP TABLE bench_g;
INSERT INTO womgr.site (tenant_id, customer_id, name, city, location, branch_id)
SELECT :tenant, x.customer_id, 'Site ' || x.k || ' of customer ' || x.customer_id, b.name,
       womgr._point(b.lat + b.spread * x.r * sin(x.th), b.lon + b.spread * x.r * cos(x.th)), b.branch_id
  FROM (SELECT y.*, sqrt(random()) AS r, 2 * pi() * random() AS th
          FROM (SELECT c.customer_id, c.branch_id, k
                  FROM womgr.customer c CROSS JOIN generate_series(1, 2) k
                 WHERE c.tenant_id = :tenant
                 ORDER BY c.customer_id, k) y) x
  JOIN bench_branch b ON b.branch_id = x.branch_id
 ORDER BY x.customer_id, x.k
 LIMIT :sites;
CREATE TEMP TABLE bench_branch_sites AS
SELECT s.branch_id, array_agg(s.site_id ORDER BY s.site_id) AS ids, array_agg(s.customer_id ORDER BY s.site_id) AS customers
  FROM womgr.site s WHERE s.tenant_id = :tenant GROUP BY s.branch_id;

-- Bookings on the day: about a third of the technicians have some of four
-- slots (08:00-10:00, 10:30-12:30, 13:00-15:00, 15:30-17:30 Nairobi time),
-- each at a site of their branch with 10 to 25 minutes of travel before it,
-- so one technician's bookings never overlap (assignment_no_double_booking).
CREATE TEMP TABLE bench_g AS
SELECT y.*, random() AS p, random() AS q, 600 + floor(random() * 900)::int AS travel_s, random() AS u, random() AS v
  FROM (SELECT t.technician_id, t.home_branch_id, s.k, s.start
          FROM womgr.technician t
         CROSS JOIN (VALUES (1, time '08:00'), (2, time '10:30'), (3, time '13:00'), (4, time '15:30')) s(k, start)
         WHERE t.tenant_id = :tenant AND t.active
         ORDER BY t.technician_id, s.k) y;
CREATE TEMP TABLE bench_booking AS
SELECT row_number() OVER (ORDER BY g.technician_id, g.k) AS ord, g.technician_id, g.home_branch_id AS branch_id,
       tstzrange((:'day'::date + g.start) AT TIME ZONE 'Africa/Nairobi',
                 (:'day'::date + g.start + interval '2 hours') AT TIME ZONE 'Africa/Nairobi') AS booked,
       g.travel_s, g.u, g.v
  FROM (SELECT g.*, first_value(g.p) OVER (PARTITION BY g.technician_id ORDER BY g.k) AS pick FROM bench_g g) g
 WHERE g.pick < 0.35 AND g.q < 0.45;
DROP TABLE bench_g;
INSERT INTO womgr.work_order (tenant_id, branch_id, customer_id, site_id, work_order_type_id, priority_id,
                              requested_window, description, source, external_ref)
SELECT :tenant, k.branch_id, bs.customers[x.n], bs.ids[x.n], ty.work_order_type_id, ty.default_priority_id,
       k.booked, 'Benchmark: booked job', 'bench', 'booking-' || k.ord
  FROM bench_booking k
  JOIN bench_branch_sites bs ON bs.branch_id = k.branch_id
 CROSS JOIN LATERAL (SELECT 1 + floor(k.u * cardinality(bs.ids))::int AS n) x
  JOIN womgr.work_order_type ty ON ty.tenant_id = :tenant
       AND ty.code = (ARRAY['electrical_fault', 'ac_service', 'appliance_repair', 'generator_service'])[1 + floor(k.v * 4)::int]
 ORDER BY k.ord;
INSERT INTO womgr.assignment (tenant_id, work_order_id, role, technician_id, booked, travel_s, assigned_by)
SELECT :tenant, w.work_order_id, 'lead', k.technician_id, k.booked, k.travel_s, 'bench'
  FROM bench_booking k
  JOIN womgr.work_order w ON w.tenant_id = :tenant AND w.source = 'bench' AND w.external_ref = 'booking-' || k.ord
 ORDER BY k.ord;

-- The work orders to match: new, at random sites, every type with skills,
-- requested for 08:00-17:00 on the day.
CREATE TEMP TABLE bench_g AS
SELECT i, 1 + floor(random() * (SELECT count(*) FROM womgr.site WHERE tenant_id = :tenant))::int AS n, random() AS v
  FROM generate_series(1, :matches + :warmup) i;
INSERT INTO womgr.work_order (tenant_id, branch_id, customer_id, site_id, work_order_type_id, priority_id,
                              requested_window, description, source, external_ref)
SELECT :tenant, s.branch_id, s.customer_id, s.site_id, ty.work_order_type_id, ty.default_priority_id,
       tstzrange((:'day'::date + time '08:00') AT TIME ZONE 'Africa/Nairobi',
                 (:'day'::date + time '17:00') AT TIME ZONE 'Africa/Nairobi'),
       'Benchmark: match ' || ty.name, 'bench', 'match-' || x.i
  FROM bench_g x
  JOIN (SELECT site_id, customer_id, branch_id, row_number() OVER (ORDER BY site_id) AS n
          FROM womgr.site WHERE tenant_id = :tenant) s ON s.n = x.n
  JOIN (SELECT t.*, row_number() OVER (ORDER BY t.code) AS n, count(*) OVER () AS types
          FROM womgr.work_order_type t
         WHERE t.tenant_id = :tenant AND EXISTS (SELECT 1 FROM womgr.work_order_type_skill r
                                                  WHERE r.tenant_id = t.tenant_id AND r.work_order_type_id = t.work_order_type_id)) ty
       ON ty.n = 1 + floor(x.v * ty.types)
 ORDER BY x.i;
DROP TABLE bench_g;
COMMIT;
VACUUM ANALYZE womgr.technician, womgr.technician_skill, womgr.customer, womgr.site, womgr.work_order,
               womgr.assignment, womgr.work_order_type_skill, womgr.skill, womgr.branch;
\else
SELECT tenant_id AS tenant FROM womgr.tenant WHERE code = :'code' \gset
\endif

SELECT format('  data: tenant %s, %s branches, %s technicians (%s active), %s technician skills (%s certifications expired by %s), %s sites, %s bookings on %s (%s technicians), %s work orders to match; set up in %s s%s',
              :tenant,
              (SELECT count(*) FROM womgr.branch WHERE tenant_id = :tenant),
              (SELECT count(*) FROM womgr.technician WHERE tenant_id = :tenant),
              (SELECT count(*) FROM womgr.technician WHERE tenant_id = :tenant AND active),
              (SELECT count(*) FROM womgr.technician_skill WHERE tenant_id = :tenant),
              (SELECT count(*) FROM womgr.technician_skill WHERE tenant_id = :tenant AND certified_until < :'day'::date),
              :'day',
              (SELECT count(*) FROM womgr.site WHERE tenant_id = :tenant),
              (SELECT count(*) FROM womgr.assignment WHERE tenant_id = :tenant AND booked IS NOT NULL AND ended_at IS NULL),
              :'day',
              (SELECT count(DISTINCT technician_id) FROM womgr.assignment WHERE tenant_id = :tenant AND booked IS NOT NULL AND ended_at IS NULL),
              (SELECT count(*) FROM womgr.work_order WHERE tenant_id = :tenant AND external_ref LIKE 'match-%'),
              round(extract(epoch FROM clock_timestamp() - :'setup_start'::timestamptz)::numeric, 1),
              CASE WHEN :'need_setup'::boolean THEN '' ELSE ' (reused)' END);

CREATE TEMP TABLE bench_wo AS
SELECT w.work_order_id, substring(w.external_ref FROM 7)::int AS i
  FROM womgr.work_order w
 WHERE w.tenant_id = :tenant AND w.source = 'bench' AND w.external_ref LIKE 'match-%';
CREATE TEMP TABLE bench_time (round int, i int, work_order_id bigint, side text, ms float8, n int, ids bigint[]);

-- One pass: for each work order A, B, then womgr, each timed alone.
CREATE FUNCTION pg_temp.bench_pass(p_tenant bigint, p_round int, p_from int, p_to int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_wo record;
    v_t0 timestamptz;
    v_t1 timestamptz;
    v_branch bigint;
    v_type bigint;
    v_loc geography;
    v_from timestamptz;
    v_to timestamptz;
    v_ids bigint[];
    v_dist float8[];
BEGIN
    FOR v_wo IN SELECT * FROM bench_wo WHERE i BETWEEN p_from AND p_to ORDER BY i LOOP
        -- A: by hand, ordered by ST_Distance, with the distance
        v_t0 := clock_timestamp();
        SELECT w.branch_id, w.work_order_type_id, s.location, lower(w.requested_window),
               lower(w.requested_window) + ty.estimated_duration
          INTO v_branch, v_type, v_loc, v_from, v_to
          FROM womgr.work_order w
          JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
          JOIN womgr.work_order_type ty ON ty.tenant_id = w.tenant_id AND ty.work_order_type_id = w.work_order_type_id
         WHERE w.tenant_id = p_tenant AND w.work_order_id = v_wo.work_order_id;
        SELECT array_agg(x.technician_id ORDER BY x.distance_m, x.technician_id), array_agg(x.distance_m ORDER BY x.distance_m, x.technician_id)
          INTO v_ids, v_dist
          FROM (SELECT t.technician_id, ST_Distance(t.home_location, v_loc) AS distance_m
                  FROM womgr.technician t
                 WHERE t.tenant_id = p_tenant AND t.active AND t.home_branch_id = v_branch
                   AND NOT EXISTS (SELECT 1 FROM womgr.work_order_type_skill r
                                    WHERE r.tenant_id = p_tenant AND r.work_order_type_id = v_type
                                      AND NOT EXISTS (SELECT 1 FROM womgr.technician_skill ts
                                                       WHERE ts.tenant_id = p_tenant AND ts.technician_id = t.technician_id
                                                         AND ts.skill_id = r.skill_id AND ts.level >= r.min_level
                                                         AND (ts.certified_until IS NULL OR ts.certified_until >= v_from::date)))
                   AND NOT EXISTS (SELECT 1 FROM womgr.assignment a
                                    WHERE a.tenant_id = p_tenant AND a.technician_id = t.technician_id
                                      AND a.ended_at IS NULL AND a.booked && tstzrange(v_from, v_to))
                 ORDER BY distance_m, t.technician_id
                 LIMIT 10) x;
        v_t1 := clock_timestamp();
        INSERT INTO bench_time VALUES (p_round, v_wo.i, v_wo.work_order_id, 'st_distance',
                                       extract(epoch FROM v_t1 - v_t0) * 1000, cardinality(v_ids), v_ids);

        -- B: by hand, ordered by the KNN operator (index on home_location), ids only
        v_t0 := clock_timestamp();
        SELECT w.branch_id, w.work_order_type_id, s.location, lower(w.requested_window),
               lower(w.requested_window) + ty.estimated_duration
          INTO v_branch, v_type, v_loc, v_from, v_to
          FROM womgr.work_order w
          JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
          JOIN womgr.work_order_type ty ON ty.tenant_id = w.tenant_id AND ty.work_order_type_id = w.work_order_type_id
         WHERE w.tenant_id = p_tenant AND w.work_order_id = v_wo.work_order_id;
        v_ids := ARRAY(
            SELECT t.technician_id
              FROM womgr.technician t
             WHERE t.tenant_id = p_tenant AND t.active AND t.home_branch_id = v_branch
               AND NOT EXISTS (SELECT 1 FROM womgr.work_order_type_skill r
                                WHERE r.tenant_id = p_tenant AND r.work_order_type_id = v_type
                                  AND NOT EXISTS (SELECT 1 FROM womgr.technician_skill ts
                                                   WHERE ts.tenant_id = p_tenant AND ts.technician_id = t.technician_id
                                                     AND ts.skill_id = r.skill_id AND ts.level >= r.min_level
                                                     AND (ts.certified_until IS NULL OR ts.certified_until >= v_from::date)))
               AND NOT EXISTS (SELECT 1 FROM womgr.assignment a
                                WHERE a.tenant_id = p_tenant AND a.technician_id = t.technician_id
                                  AND a.ended_at IS NULL AND a.booked && tstzrange(v_from, v_to))
             ORDER BY t.home_location <-> v_loc
             LIMIT 10);
        v_t1 := clock_timestamp();
        INSERT INTO bench_time VALUES (p_round, v_wo.i, v_wo.work_order_id, 'knn',
                                       extract(epoch FROM v_t1 - v_t0) * 1000, cardinality(v_ids), v_ids);

        -- womgr: ranked, scored and explained, each with its earliest start
        v_t0 := clock_timestamp();
        SELECT array_agg(m.technician_id ORDER BY m.rank) INTO v_ids
          FROM womgr.match_technicians(p_tenant, v_wo.work_order_id, 10) m;
        v_t1 := clock_timestamp();
        INSERT INTO bench_time VALUES (p_round, v_wo.i, v_wo.work_order_id, 'womgr',
                                       extract(epoch FROM v_t1 - v_t0) * 1000, cardinality(v_ids), v_ids);
    END LOOP;
END $$;

-- warm-up on other work orders: plans, caches
SELECT pg_temp.bench_pass(:tenant, 0, :matches + 1, :matches + :warmup) IS NULL AS warm \gset
DELETE FROM bench_time WHERE round = 0;
-- the index scans each side's plan makes (B must walk the KNN index)
SELECT pg_stat_force_next_flush() IS NULL AS flushed \gset
SELECT coalesce(sum(idx_scan) FILTER (WHERE indexrelname = 'technician_home_location_idx'), 0) AS home_scans,
       coalesce(sum(idx_scan) FILTER (WHERE indexrelname = 'technician_position_idx'), 0) AS position_scans
  FROM pg_stat_user_indexes WHERE schemaname = 'womgr' \gset
SELECT clock_timestamp() AS timed_start \gset
SELECT bool_and(pg_temp.bench_pass(:tenant, r, 1, :matches) IS NULL) AS done FROM generate_series(1, :rounds) r \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'timed_start'::timestamptz)::numeric, 1) AS timed_s \gset
SELECT pg_stat_force_next_flush() IS NULL AS flushed \gset

SELECT format('  %s work orders x %s rounds, timed in %s s; KNN index scans: technician_home_location_idx %s (B: %s calls), technician_position_idx %s (womgr: %s calls)',
              :matches, :rounds, :timed_s,
              coalesce(sum(idx_scan) FILTER (WHERE indexrelname = 'technician_home_location_idx'), 0) - :home_scans,
              :matches * :rounds,
              coalesce(sum(idx_scan) FILTER (WHERE indexrelname = 'technician_position_idx'), 0) - :position_scans,
              :matches * :rounds)
  FROM pg_stat_user_indexes WHERE schemaname = 'womgr';
SELECT format('  %-34s %9s %9s %9s %9s  %s', 'side', 'p50 ms', 'p95 ms', 'mean ms', 'max ms', 'calls with fewer than 10');
SELECT format('  %-34s %9s %9s %9s %9s  %s', CASE side WHEN 'st_distance' THEN 'A. by hand, ORDER BY ST_Distance'
                                                    WHEN 'knn' THEN 'B. by hand, ORDER BY <-> (ids)'
                                                    ELSE 'womgr.match_technicians' END,
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3),
              round(avg(ms)::numeric, 3), round(max(ms)::numeric, 3), count(*) FILTER (WHERE n IS NULL OR n < 10))
  FROM bench_time GROUP BY side ORDER BY CASE side WHEN 'st_distance' THEN 1 WHEN 'knn' THEN 2 ELSE 3 END;

-- The server's own JIT setting (informational, not a target): the same
-- calls on the first 50 work orders with JIT as the server has it (plans
-- are made again: whether to JIT is decided when a plan is made).
RESET jit;
SELECT pg_jit_available() AS jit_server \gset
SET jit = off;
\if :jit_server
RESET jit;
DISCARD PLANS;
SELECT pg_temp.bench_pass(:tenant, -1, 1, least(50, :matches)) IS NULL AS done \gset
SET jit = off;
DISCARD PLANS;
SELECT format('  with the server''s JIT (jit = on, jit_above_cost = %s), %s work orders: %s', current_setting('jit_above_cost'),
              least(50, :matches),
              string_agg(format('%s p50 %s ms p95 %s ms', side, round(p50::numeric, 3), round(p95::numeric, 3)), ', ' ORDER BY k))
  FROM (SELECT side, CASE side WHEN 'st_distance' THEN 1 WHEN 'knn' THEN 2 ELSE 3 END AS k,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95
          FROM bench_time WHERE round = -1 GROUP BY side) x;
DELETE FROM bench_time WHERE round = -1;
\endif

-- Sanity, on womgr's answers (outside the timing).
CREATE TEMP TABLE bench_womgr AS
SELECT b.work_order_id, m.rank, m.technician_id, (m.reasons ->> 'start_at')::timestamptz AS start_at,
       make_interval(secs => round(m.travel_minutes * 60)) AS travel, ty.estimated_duration AS duration,
       w.branch_id, w.work_order_type_id, lower(w.requested_window) AS w0
  FROM bench_wo b
  JOIN womgr.work_order w ON w.tenant_id = :tenant AND w.work_order_id = b.work_order_id
  JOIN womgr.work_order_type ty ON ty.tenant_id = w.tenant_id AND ty.work_order_type_id = w.work_order_type_id
 CROSS JOIN LATERAL womgr.match_technicians(:tenant, b.work_order_id, 10) m
 WHERE b.i <= :matches;
SELECT format('  sanity: %s womgr candidates for %s work orders; %s fail the hand-written hard filters (active, branch, skills, certification); %s have a booking overlapping their slot; %s start outside the window',
              count(*), count(DISTINCT c.work_order_id),
              count(*) FILTER (WHERE NOT (t.active AND t.home_branch_id = c.branch_id
                  AND (SELECT count(*) FROM womgr.work_order_type_skill r
                         JOIN womgr.technician_skill ts ON ts.tenant_id = r.tenant_id AND ts.skill_id = r.skill_id
                        WHERE r.tenant_id = :tenant AND r.work_order_type_id = c.work_order_type_id
                          AND ts.technician_id = t.technician_id AND ts.level >= r.min_level
                          AND (ts.certified_until IS NULL OR ts.certified_until >= c.w0::date))
                    = (SELECT count(*) FROM womgr.work_order_type_skill r
                        WHERE r.tenant_id = :tenant AND r.work_order_type_id = c.work_order_type_id))),
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM womgr.assignment a
                                              WHERE a.tenant_id = :tenant AND a.technician_id = c.technician_id AND a.ended_at IS NULL
                                                AND womgr._busy(a.booked, a.travel_s) && tstzrange(c.start_at - c.travel, c.start_at + c.duration))),
              count(*) FILTER (WHERE c.start_at < c.w0 OR c.start_at + c.duration > c.w0 + interval '9 hours'))
  FROM bench_womgr c
  JOIN womgr.technician t ON t.tenant_id = :tenant AND t.technician_id = c.technician_id;
SELECT format('  agreement: womgr''s top 10 shares %s%% of its technicians with A''s top 10 and %s%% with B''s (A and B check one fixed slot, womgr the whole window; womgr ranks by score, not distance); %s%% of womgr''s candidates are also free in that fixed slot',
              round(100.0 * sum(cardinality(ARRAY(SELECT unnest(w.ids) INTERSECT SELECT unnest(a.ids)))) / greatest(sum(cardinality(w.ids)), 1), 1),
              round(100.0 * sum(cardinality(ARRAY(SELECT unnest(w.ids) INTERSECT SELECT unnest(b.ids)))) / greatest(sum(cardinality(w.ids)), 1), 1),
              (SELECT round(100.0 * count(*) FILTER (WHERE NOT EXISTS (
                          SELECT 1 FROM womgr.assignment a
                           WHERE a.tenant_id = :tenant AND a.technician_id = c.technician_id AND a.ended_at IS NULL
                             AND a.booked && tstzrange(c.w0, c.w0 + c.duration)))
                      / greatest(count(*), 1), 1) FROM bench_womgr c))
  FROM bench_time w
  JOIN bench_time a ON a.round = w.round AND a.i = w.i AND a.side = 'st_distance'
  JOIN bench_time b ON b.round = w.round AND b.i = w.i AND b.side = 'knn'
 WHERE w.side = 'womgr' AND w.round = 1;

SELECT v.line
  FROM (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'st_distance') AS a,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'knn') AS b,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'womgr') AS w
          FROM bench_time) x
 CROSS JOIN LATERAL (VALUES
    (1, format('  p95: A %s ms, B %s ms, womgr %s ms', round(a::numeric, 3), round(b::numeric, 3), round(w::numeric, 3))),
    (2, format('RESULT match_vs_st_distance p95_ratio=%s target>=3.00 %s', round((a / w)::numeric, 2),
               CASE WHEN a / w >= 3 THEN 'MET' ELSE 'MISSED' END)),
    (3, format('RESULT match_vs_knn p95_ratio=%s target<=1.50 %s', round((w / b)::numeric, 2),
               CASE WHEN w / b <= 1.5 THEN 'MET' ELSE 'MISSED' END))) v(k, line)
 ORDER BY v.k;
