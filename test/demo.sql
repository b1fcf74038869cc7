-- The demo company.  "test/run.sh demo" loads this file into a fresh database
-- of a throwaway cluster: it installs womgr, generates a Kenyan service
-- company with womgr.demo_generate() and prints a short tour of it.
-- Run it yourself with:  psql -X -v ON_ERROR_STOP=1 -d <empty db> -f test/demo.sql
\set ON_ERROR_STOP on
\pset pager off
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION womgr CASCADE;
SET timezone = 'Africa/Nairobi';

\echo
\echo == Generating the demo company: 5000 work orders, seed 1
\timing on
SELECT womgr.demo_generate(5000, 1) AS tenant_id \gset
\timing off
\echo
\echo == The company and its branches (head office > regions > branches)
SELECT t.code, t.name, t.timezone, t.currency FROM womgr.tenant t WHERE t.tenant_id = :tenant_id;
WITH RECURSIVE tree AS (
    SELECT b.branch_id, b.code, b.name, b.location, 0 AS depth, b.code::text AS path
      FROM womgr.branch b WHERE b.tenant_id = :tenant_id AND b.parent_branch_id IS NULL
    UNION ALL
    SELECT b.branch_id, b.code, b.name, b.location, tree.depth + 1, tree.path || '/' || b.code
      FROM womgr.branch b JOIN tree ON b.parent_branch_id = tree.branch_id
     WHERE b.tenant_id = :tenant_id)
SELECT repeat('    ', depth) || code AS branch, name,
       round(ST_Y(location::geometry)::numeric, 4) AS lat, round(ST_X(location::geometry)::numeric, 4) AS lon
  FROM tree ORDER BY path;

\echo == Size
SELECT (SELECT count(*) FROM womgr.technician WHERE tenant_id = :tenant_id) AS technicians,
       (SELECT count(*) FROM womgr.customer WHERE tenant_id = :tenant_id) AS customers,
       (SELECT count(*) FROM womgr.site WHERE tenant_id = :tenant_id) AS sites,
       (SELECT count(*) FROM womgr.asset WHERE tenant_id = :tenant_id) AS assets,
       (SELECT count(*) FROM womgr.work_order WHERE tenant_id = :tenant_id) AS work_orders,
       (SELECT count(*) FROM womgr.work_order_event WHERE tenant_id = :tenant_id) AS events;

\echo == Work orders per branch and status
SELECT coalesce(b.code, 'all') AS branch,
       count(*) FILTER (WHERE w.status = 'new') AS new,
       count(*) FILTER (WHERE w.status = 'scheduled') AS scheduled,
       count(*) FILTER (WHERE w.status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE w.status = 'on_hold') AS on_hold,
       count(*) FILTER (WHERE w.status = 'completed') AS completed,
       count(*) FILTER (WHERE w.status = 'closed') AS closed,
       count(*) FILTER (WHERE w.status = 'cancelled') AS cancelled,
       count(*) AS total
  FROM womgr.work_order w
  JOIN womgr.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id
 WHERE w.tenant_id = :tenant_id
 GROUP BY ROLLUP (b.code)
 ORDER BY b.code IS NULL, total DESC;

\echo == Work orders per type and priority
SELECT t.code AS type,
       count(*) FILTER (WHERE p.code = 'emergency') AS emergency,
       count(*) FILTER (WHERE p.code = 'high') AS high,
       count(*) FILTER (WHERE p.code = 'normal') AS normal,
       count(*) FILTER (WHERE p.code = 'low') AS low,
       count(*) AS total,
       coalesce((SELECT string_agg(s.code || ' ' || r.min_level, ', ' ORDER BY s.code)
                   FROM womgr.work_order_type_skill r JOIN womgr.skill s USING (tenant_id, skill_id)
                  WHERE r.tenant_id = t.tenant_id AND r.work_order_type_id = t.work_order_type_id), '') AS requires
  FROM womgr.work_order w
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
 WHERE w.tenant_id = :tenant_id
 GROUP BY t.tenant_id, t.work_order_type_id, t.code
 ORDER BY total DESC, t.code;

\echo == Technicians per skill (level 1 trainee .. 5 expert)
SELECT s.code AS skill,
       count(*) FILTER (WHERE b.code = 'NBO') AS nbo,
       count(*) FILTER (WHERE b.code = 'MSA') AS msa,
       count(*) FILTER (WHERE b.code = 'KSM') AS ksm,
       count(*) AS technicians,
       count(*) FILTER (WHERE ts.level >= 4) AS level_4_5,
       count(*) FILTER (WHERE ts.certified_until < current_date) AS cert_expired,
       count(*) FILTER (WHERE ts.certified_until BETWEEN current_date AND current_date + 60) AS cert_expiring_60_days
  FROM womgr.technician_skill ts
  JOIN womgr.skill s ON s.tenant_id = ts.tenant_id AND s.skill_id = ts.skill_id
  JOIN womgr.technician te ON te.tenant_id = ts.tenant_id AND te.technician_id = ts.technician_id
  JOIN womgr.branch b ON b.tenant_id = te.tenant_id AND b.branch_id = te.home_branch_id
 WHERE ts.tenant_id = :tenant_id
 GROUP BY s.code
 ORDER BY technicians DESC, s.code;

\echo == Some technicians
SELECT te.employee_code, te.name, b.code AS branch, te.phone,
       string_agg(s.code || ' ' || ts.level, ', ' ORDER BY ts.level DESC, s.code) AS skills
  FROM womgr.technician te
  JOIN womgr.branch b ON b.tenant_id = te.tenant_id AND b.branch_id = te.home_branch_id
  JOIN womgr.technician_skill ts ON ts.tenant_id = te.tenant_id AND ts.technician_id = te.technician_id
  JOIN womgr.skill s ON s.tenant_id = ts.tenant_id AND s.skill_id = ts.skill_id
 WHERE te.tenant_id = :tenant_id
 GROUP BY te.tenant_id, te.technician_id, b.code
 ORDER BY te.employee_code
 LIMIT 6;

\echo == Some customers and their sites
SELECT c.account_code, c.name, c.kind, c.phone, s.name AS site, s.address,
       round(ST_Y(s.location::geometry)::numeric, 4) AS lat, round(ST_X(s.location::geometry)::numeric, 4) AS lon
  FROM womgr.customer c
  JOIN womgr.site s ON s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id
 WHERE c.tenant_id = :tenant_id
 ORDER BY c.account_code, s.site_id
 LIMIT 8;

\echo == The latest work order of each status
SELECT DISTINCT ON (w.status) w.number, w.status, t.code AS type, p.code AS priority, c.name AS customer,
       left(w.description, 60) AS description, to_char(w.created_at, 'YYYY-MM-DD HH24:MI') AS created
  FROM womgr.work_order w
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
  JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
 WHERE w.tenant_id = :tenant_id
 ORDER BY w.status, w.created_at DESC;

\echo == The history of one closed work order
SELECT w.number AS work_order, e.event_type, coalesce(e.from_status, '') AS from_status, e.to_status, e.actor,
       to_char(e.occurred_at, 'YYYY-MM-DD HH24:MI') AS occurred, e.details
  FROM womgr.work_order w
  JOIN womgr.work_order_event e ON e.tenant_id = w.tenant_id AND e.work_order_id = w.work_order_id
 WHERE w.tenant_id = :tenant_id
   AND w.work_order_id = (SELECT min(x.work_order_id) FROM womgr.work_order x
                           WHERE x.tenant_id = :tenant_id AND x.status = 'closed' AND x.asset_id IS NOT NULL)
 ORDER BY e.occurred_at;
