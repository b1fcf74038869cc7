-- The demo company.  "test/run.sh demo" loads this file into a fresh database
-- of a throwaway cluster: it installs womgr, generates a Kenyan service
-- company with womgr.demo_generate(), prints a short tour of it, plays a day
-- of operations at the Nairobi branch, and dispatches the branch's morning
-- queue for its next working day (matching, planning, an emergency, routes).
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

\echo == Work orders per branch and status (the statuses of the standard workflow)
SELECT coalesce(b.code, 'all') AS branch,
       count(*) FILTER (WHERE w.status = 'new') AS new,
       count(*) FILTER (WHERE w.status = 'scheduled') AS scheduled,
       count(*) FILTER (WHERE w.status = 'en_route') AS en_route,
       count(*) FILTER (WHERE w.status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE w.status = 'waiting_parts') AS waiting_parts,
       count(*) FILTER (WHERE w.status = 'waiting_customer') AS waiting_customer,
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

\echo == The moves histories take (transitions of the standard workflow)
SELECT e.from_status || ' -> ' || e.to_status AS move, t.label, count(*) AS times,
       coalesce(array_to_string(t.roles::text[], ', '), '') AS roles,
       concat_ws(', ', CASE WHEN t.requires_assignment THEN 'lead technician' END,
                 nullif(array_to_string(t.required_approvals, ', '), ''),
                 nullif(array_to_string(t.required_fields, ', '), ''),
                 CASE WHEN t.requires_proof THEN 'proof' END,
                 CASE WHEN t.requires_note THEN 'note' END) AS guards
  FROM womgr.work_order_event e
  JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
  JOIN womgr.workflow_transition t ON t.tenant_id = w.tenant_id AND t.workflow_id = w.workflow_id
                                  AND t.from_status = e.from_status AND t.to_status = e.to_status
 WHERE e.tenant_id = :tenant_id AND e.event_type = 'status_changed'
 GROUP BY e.from_status, e.to_status, t.label, t.roles, t.requires_assignment, t.required_approvals,
          t.required_fields, t.requires_proof, t.requires_note
 ORDER BY times DESC;

\echo == The history of one closed work order (quoted, approved, held for parts, photographed, signed)
SELECT e.event_type,
       CASE WHEN e.event_type IN ('created', 'status_changed') THEN coalesce(e.from_status || ' -> ', '') || e.to_status
            ELSE '' END AS move,
       coalesce(te.name, e.actor) AS actor,
       to_char(e.occurred_at, 'YYYY-MM-DD HH24:MI') AS occurred,
       left(coalesce(CASE e.event_type
                         WHEN 'status_changed' THEN e.details ->> 'note'
                         WHEN 'updated' THEN 'changed ' || (e.details ->> 'changed')
                         WHEN 'assigned' THEN 'lead, booked ' || coalesce(to_char(lower((e.details ->> 'booked')::tstzrange), 'Dy DD Mon HH24:MI'), '-')
                         WHEN 'approval_requested' THEN e.details ->> 'note'
                         WHEN 'approval_granted' THEN e.details ->> 'reason'
                         WHEN 'attachment_added' THEN e.details ->> 'kind'
                     END, ''), 60) AS detail
  FROM womgr.work_order_event e
  LEFT JOIN womgr.technician te ON te.tenant_id = e.tenant_id AND te.employee_code = e.actor
 WHERE e.tenant_id = :tenant_id
   AND e.work_order_id = (SELECT min(w.work_order_id) FROM womgr.work_order w
                           WHERE w.tenant_id = :tenant_id AND w.status = 'closed' AND w.quoted_amount >= 100000.0
                             AND EXISTS (SELECT 1 FROM womgr.work_order_event h
                                          WHERE h.tenant_id = w.tenant_id AND h.work_order_id = w.work_order_id
                                            AND h.to_status = 'waiting_parts')
                             AND EXISTS (SELECT 1 FROM womgr.attachment a
                                          WHERE a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id))
 ORDER BY e.occurred_at, e.work_order_event_id;

-- ---------------------------------------------------------------------------
-- A day of operations at the Nairobi branch, through the public API only.
-- Each transaction says who is acting (womgr.set_context) and in which womgr
-- role; the workflow checks every move, and the timeline at the end is what
-- womgr recorded.
-- ---------------------------------------------------------------------------
\echo
\echo ==========================================================================
\echo == A day of operations at the Nairobi branch (through the public API)
\echo ==========================================================================
SELECT now() AS day_start, to_char(current_date, 'FMDay FMDD FMMonth YYYY') AS today \gset
SELECT set_config('demo.tenant', :'tenant_id', false) AS ignored \gset
\echo Today is :today. Cast: Grace Wanjiku (dispatcher, acts as grace.wanjiku), Peter Mwangi
\echo (operations manager, peter.mwangi) and technicians of the branch, who act under
\echo their employee codes. The clock times in the headings are the story; womgr records
\echo the real time of each transaction, so the whole day happens within a second.

-- An active Nairobi technician with every skill a type needs, not yet picked today.
CREATE FUNCTION pg_temp.pick_technician(p_tenant bigint, p_type text, p_not bigint[])
    RETURNS TABLE (technician_id bigint, code text, name text) LANGUAGE sql AS $$
    SELECT te.technician_id, te.employee_code, te.name
      FROM womgr.technician te
      JOIN womgr.branch b ON b.tenant_id = te.tenant_id AND b.branch_id = te.home_branch_id
      JOIN womgr.work_order_type t ON t.tenant_id = te.tenant_id AND t.code = p_type
     WHERE te.tenant_id = p_tenant AND b.code = 'NBO' AND te.active AND te.technician_id <> ALL (p_not)
       AND NOT EXISTS (SELECT 1 FROM womgr.work_order_type_skill r
                         LEFT JOIN womgr.technician_skill ts
                                ON ts.tenant_id = r.tenant_id AND ts.skill_id = r.skill_id
                               AND ts.technician_id = te.technician_id
                        WHERE r.tenant_id = t.tenant_id AND r.work_order_type_id = t.work_order_type_id
                          AND coalesce(ts.level, 0) < r.min_level)
     ORDER BY te.employee_code
     LIMIT 1
$$;
-- The Nairobi branch's next working day (tomorrow, Monday when tomorrow is
-- a Sunday): its morning queue is left for the dispatch chapter at the end.
CREATE FUNCTION pg_temp.queue_day() RETURNS date LANGUAGE sql STABLE
    RETURN current_date + CASE WHEN extract(isodow FROM current_date + 1) = 7 THEN 2 ELSE 1 END;
-- The newest new Nairobi job of a type (not one of the queue).
CREATE FUNCTION pg_temp.newest_new_job(p_tenant bigint, p_type text)
    RETURNS TABLE (work_order_id bigint, number text) LANGUAGE sql AS $$
    SELECT w.work_order_id, w.number
      FROM womgr.work_order w
      JOIN womgr.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id
      JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
     WHERE w.tenant_id = p_tenant AND b.code = 'NBO' AND w.status = 'new' AND t.code = p_type
       AND NOT w.requested_window && tstzrange(pg_temp.queue_day(), pg_temp.queue_day() + 1)
     ORDER BY w.created_at DESC
     LIMIT 1
$$;
-- What the day's jobs look like now.
CREATE FUNCTION pg_temp.jobs(p_tenant bigint, p_jobs bigint[])
    RETURNS TABLE (work_order text, type text, status text, lead text, booked text, quoted_kes text, customer text)
    LANGUAGE sql AS $$
    SELECT w.number, t.code, w.status, coalesce(te.name || ' (' || te.employee_code || ')', '-'),
           coalesce(to_char(lower(a.booked), 'HH24:MI') || '-' || to_char(upper(a.booked), 'HH24:MI'), ''),
           coalesce(to_char(w.quoted_amount, 'FM999,999,990'), ''), c.name
      FROM unnest(p_jobs) WITH ORDINALITY AS j(id, ord)
      JOIN womgr.work_order w ON w.tenant_id = p_tenant AND w.work_order_id = j.id
      JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
      JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
      LEFT JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                                  AND a.role = 'lead' AND a.ended_at IS NULL
      LEFT JOIN womgr.technician te ON te.tenant_id = a.tenant_id AND te.technician_id = a.technician_id
     ORDER BY j.ord
$$;

SELECT work_order_id AS job_a, number AS job_a_no FROM pg_temp.newest_new_job(:tenant_id, 'electrical_fault') \gset
SELECT work_order_id AS job_b, number AS job_b_no FROM pg_temp.newest_new_job(:tenant_id, 'plumbing_repair') \gset
SELECT work_order_id AS job_c, number AS job_c_no FROM pg_temp.newest_new_job(:tenant_id, 'solar_install') \gset
SELECT technician_id AS tech_a, code AS tech_a_code, name AS tech_a_name
  FROM pg_temp.pick_technician(:tenant_id, 'electrical_fault', '{}') \gset
SELECT technician_id AS tech_b, code AS tech_b_code, name AS tech_b_name
  FROM pg_temp.pick_technician(:tenant_id, 'plumbing_repair', ARRAY[:tech_a]::bigint[]) \gset
SELECT technician_id AS tech_c, code AS tech_c_code, name AS tech_c_name
  FROM pg_temp.pick_technician(:tenant_id, 'solar_install', ARRAY[:tech_a, :tech_b]::bigint[]) \gset
SELECT technician_id AS tech_d, code AS tech_d_code, name AS tech_d_name
  FROM pg_temp.pick_technician(:tenant_id, 'solar_service', ARRAY[:tech_a, :tech_b, :tech_c]::bigint[]) \gset

\echo
\echo == 07:45  Grace opens the board: three new Nairobi jobs to dispatch first
SELECT w.number AS work_order, t.code AS type, p.code AS priority, c.name AS customer, s.name AS site,
       left(w.description, 55) AS description
  FROM womgr.work_order w
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
  JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
 WHERE w.tenant_id = :tenant_id AND w.work_order_id IN (:job_a, :job_b, :job_c)
 ORDER BY w.work_order_id;

\echo == 08:00  Grace books a lead technician for each job today and schedules them;
\echo ==        the solar installation was surveyed yesterday: she records the new quote
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT womgr.assign(:tenant_id, :job_a, :tech_a, 'lead', current_date + time '09:00', current_date + time '11:00') AS asg_a,
       womgr.assign(:tenant_id, :job_b, :tech_b, 'lead', current_date + time '11:30', current_date + time '13:30') AS asg_b,
       womgr.assign(:tenant_id, :job_c, :tech_c, 'lead', current_date + time '08:30', current_date + time '16:30') AS asg_c \gset
SELECT womgr.update_work_order(:tenant_id, :job_c, '{"quoted_amount": 865000}') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_a, 'scheduled') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_b, 'scheduled') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_c, 'scheduled') AS ignored \gset
SELECT womgr.add_note(:tenant_id, :job_b, format('@%s the customer asks you to call 30 minutes before you arrive', :'tech_b_code')) AS ignored \gset
COMMIT;
SELECT * FROM pg_temp.jobs(:tenant_id, ARRAY[:job_a, :job_b, :job_c]);

\echo == 08:35  :tech_c_name reaches the solar site and tries to start: the workflow refuses,
\echo ==        work quoted at KES 100,000 or more needs the approval of a manager
BEGIN;
SET LOCAL client_min_messages = notice;
SELECT womgr.set_context(:tenant_id, :'tech_c_code', NULL, 'technician') AS ignored \gset
SELECT set_config('demo.job', :'job_c', true) AS ignored \gset
DO $$
DECLARE
    v_detail text;
BEGIN
    PERFORM womgr.transition(current_setting('demo.tenant')::bigint, current_setting('demo.job')::bigint, 'in_progress');
    RAISE NOTICE 'started (unexpected)';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'refused: %', SQLERRM;
    RAISE NOTICE 'detail:  %', v_detail;
END
$$;
COMMIT;

\echo == 08:40  Grace asks for the approval, Peter Mwangi grants it from his phone, work starts
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT womgr.request_approval(:tenant_id, :job_c, 'large_quote',
                              'Site survey done: 24 panels, 10 kW hybrid inverter, 20 kWh battery. Quote KES 865,000 accepted by the customer') AS approval \gset
COMMIT;
BEGIN;
SELECT womgr.set_context(:tenant_id, 'peter.mwangi', NULL, 'manager') AS ignored \gset
SELECT womgr.approve(:tenant_id, :approval, 'Deposit of 50% received') AS ignored \gset
SELECT womgr.add_note(:tenant_id, :job_c, '@grace.wanjiku approved. Please send the crane truck by 10:00 for the panels') AS ignored \gset
COMMIT;
BEGIN;
SELECT womgr.set_context(:tenant_id, :'tech_c_code', NULL, 'technician') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_c, 'in_progress') AS ignored \gset
COMMIT;
SELECT st.code AS step, a.status, a.requested_by, a.decided_by, a.decision_reason
  FROM womgr.approval a JOIN womgr.approval_step st ON st.tenant_id = a.tenant_id AND st.approval_step_id = a.approval_step_id
 WHERE a.tenant_id = :tenant_id AND a.approval_id = :approval;

\echo == 09:00  :tech_a_name drives to the electrical fault, starts, finds a burnt contactor
\echo ==        and puts the job on hold waiting for parts
BEGIN;
SELECT womgr.set_context(:tenant_id, :'tech_a_code', NULL, 'technician') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_a, 'en_route') AS ignored \gset
COMMIT;
BEGIN;
SELECT womgr.set_context(:tenant_id, :'tech_a_code', NULL, 'technician') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_a, 'in_progress') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_a, 'waiting_parts',
                        'Main contactor of the distribution board is burnt; a 63 A replacement is on order') AS ignored \gset
SELECT womgr.add_note(:tenant_id, :job_a,
                      '@grace.wanjiku the contactor comes from the Industrial Area store tomorrow; please book me a return visit') AS ignored \gset
SELECT womgr.add_note(:tenant_id, :job_a, 'We are waiting for a spare part and will be back tomorrow morning.', 'customer') AS ignored \gset
COMMIT;

\echo == 09:10  Peter Mwangi decides: from today every solar service needs proof of completion
BEGIN;
SELECT womgr.set_context(:tenant_id, 'peter.mwangi', NULL, 'manager') AS ignored \gset
SELECT womgr.update_work_order_type(:tenant_id, 'solar_service',
           '{"completion_requirements": {"signature": true, "min_after_photos": 1, "max_distance_m": 200}}') AS ignored \gset
COMMIT;
SELECT code, name, completion_requirements FROM womgr.work_order_type WHERE tenant_id = :tenant_id AND code = 'solar_service';

\echo == 09:30  A customer with a solar inverter calls: output has halved since last week
SELECT s.customer_id AS cust_d, c.name AS cust_d_name, s.site_id AS site_d, a.asset_id AS asset_d,
       ST_Y(s.location::geometry) AS site_lat, ST_X(s.location::geometry) AS site_lon
  FROM womgr.asset a
  JOIN womgr.site s ON s.tenant_id = a.tenant_id AND s.site_id = a.site_id
  JOIN womgr.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
  JOIN womgr.branch b ON b.tenant_id = s.tenant_id AND b.branch_id = s.branch_id
 WHERE a.tenant_id = :tenant_id AND a.category = 'inverter' AND b.code = 'NBO'
 ORDER BY a.asset_id
 LIMIT 1 \gset
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT womgr.create_work_order(:tenant_id, jsonb_build_object(
           'customer_id', :cust_d, 'site_id', :site_d, 'asset_id', :asset_d, 'type', 'solar_service', 'priority', 'high',
           'description', 'Solar output has halved since last week; inverter shows a grid fault')) AS job_d \gset
SELECT womgr.assign(:tenant_id, :job_d, :tech_d, 'lead', current_date + time '14:00', current_date + time '16:00') AS asg_d \gset
SELECT womgr.transition(:tenant_id, :job_d, 'scheduled') AS ignored \gset
COMMIT;
SELECT number AS job_d_no FROM womgr.work_order WHERE tenant_id = :tenant_id AND work_order_id = :job_d \gset
SELECT * FROM pg_temp.jobs(:tenant_id, ARRAY[:job_a, :job_b, :job_c, :job_d]);

\echo == 11:30  :tech_b_name fixes the plumbing (no travel logged), reports and completes
BEGIN;
SELECT womgr.set_context(:tenant_id, :'tech_b_code', NULL, 'technician') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_b, 'in_progress') AS ignored \gset
SELECT womgr.update_work_order(:tenant_id, :job_b, '{"resolution": "Replaced 2 m of corroded galvanised pipe with PPR; pressure tested, no leaks"}') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_b, 'completed') AS ignored \gset
SELECT womgr.add_note(:tenant_id, :job_b, 'Pipe replaced and tested. Please avoid hanging anything on the new pipe for 24 hours.', 'customer') AS ignored \gset
COMMIT;

\echo == 14:00  :tech_d_name goes to the solar service, finds a tripped DC isolator, reports the fix
\echo ==        and tries to complete: refused, the proof is missing
BEGIN;
SELECT womgr.set_context(:tenant_id, :'tech_d_code', NULL, 'technician') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_d, 'en_route') AS ignored \gset
COMMIT;
BEGIN;
SET LOCAL client_min_messages = notice;
SELECT womgr.set_context(:tenant_id, :'tech_d_code', NULL, 'technician') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_d, 'in_progress') AS ignored \gset
SELECT womgr.update_work_order(:tenant_id, :job_d, '{"resolution": "DC isolator had tripped after a surge; reset it, re-torqued the string connections, output back to 4.8 kW"}') AS ignored \gset
SELECT set_config('demo.job', :'job_d', true) AS ignored \gset
DO $$
DECLARE
    v_detail text;
BEGIN
    PERFORM womgr.transition(current_setting('demo.tenant')::bigint, current_setting('demo.job')::bigint, 'completed');
    RAISE NOTICE 'completed (unexpected)';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'refused: %', SQLERRM;
    RAISE NOTICE 'detail:  %', v_detail;
END
$$;
COMMIT;
SELECT jsonb_pretty(womgr.completion_status(:tenant_id, :job_d)) AS completion_status;

\echo == 15:20  The field app uploads an after-photo and the signature of the customer, both
\echo ==        with a GPS point a few metres from the site: now the job completes
BEGIN;
SELECT womgr.set_context(:tenant_id, :'tech_d_code', NULL, 'technician') AS ignored \gset
SELECT womgr.add_attachment(:tenant_id, :job_d, jsonb_build_object(
           'kind', 'photo_after', 'sha256', encode(sha256(convert_to('after photo of ' || :'job_d_no', 'UTF8')), 'hex'),
           'size_bytes', 2481337, 'mime_type', 'image/jpeg',
           'storage_uri', 's3://savanna-fs-media/' || :'job_d_no' || '/after-1.jpg',
           'location', jsonb_build_object('lat', :site_lat + 0.00021, 'lon', :site_lon - 0.00015),
           'caption', 'Inverter display after the fix: 4.8 kW')) AS ignored \gset
SELECT womgr.add_attachment(:tenant_id, :job_d, jsonb_build_object(
           'kind', 'signature', 'sha256', encode(sha256(convert_to('signature on ' || :'job_d_no', 'UTF8')), 'hex'),
           'size_bytes', 18204, 'mime_type', 'image/png',
           'storage_uri', 's3://savanna-fs-media/' || :'job_d_no' || '/signature.png',
           'location', jsonb_build_object('lat', :site_lat + 0.00018, 'lon', :site_lon - 0.00011),
           'signed_by', :'cust_d_name')) AS ignored \gset
SELECT womgr.completion_status(:tenant_id, :job_d) ->> 'complete' AS proof_complete,
       womgr.completion_status(:tenant_id, :job_d) -> 'missing' AS missing;
SELECT womgr.transition(:tenant_id, :job_d, 'completed') AS ignored \gset
COMMIT;
SELECT a.kind, a.signed_by, round(ST_Distance(a.location, s.location)::numeric, 1) AS metres_from_site, a.uploaded_by
  FROM womgr.attachment a
  JOIN womgr.work_order w ON w.tenant_id = a.tenant_id AND w.work_order_id = a.work_order_id
  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
 WHERE a.tenant_id = :tenant_id AND a.work_order_id = :job_d
 ORDER BY a.attachment_id;

\echo == 16:45  Grace checks the completed jobs and closes them
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_b, 'closed') AS ignored \gset
SELECT womgr.transition(:tenant_id, :job_d, 'closed') AS ignored \gset
COMMIT;
SELECT * FROM pg_temp.jobs(:tenant_id, ARRAY[:job_a, :job_b, :job_c, :job_d]);

\echo == The timeline of the day, as womgr recorded it (work_order_event)
SELECT to_char(e.occurred_at, 'HH24:MI:SS.MS') AS recorded_at, w.number AS work_order, e.event_type AS event,
       CASE WHEN e.event_type IN ('created', 'status_changed') THEN coalesce(e.from_status || ' -> ', '') || e.to_status
            ELSE '' END AS move,
       coalesce(te.name || ' (' || te.employee_code || ')', e.actor) AS actor,
       left(coalesce(CASE e.event_type
                         WHEN 'status_changed' THEN e.details ->> 'note'
                         WHEN 'updated' THEN 'changed ' || (e.details ->> 'changed')
                         WHEN 'assigned' THEN 'lead, booked ' || coalesce(to_char(lower((e.details ->> 'booked')::tstzrange), 'HH24:MI')
                                                                          || '-' || to_char(upper((e.details ->> 'booked')::tstzrange), 'HH24:MI'), '-')
                         WHEN 'note_added' THEN (e.details ->> 'visibility') || ' note'
                                                || CASE WHEN jsonb_array_length(e.details -> 'mentions') > 0
                                                        THEN ', mentions ' || (e.details ->> 'mentions') ELSE '' END
                         WHEN 'approval_requested' THEN e.details ->> 'step' || ' requested'
                         WHEN 'approval_granted' THEN e.details ->> 'step' || ': ' || coalesce(e.details ->> 'reason', '')
                         WHEN 'attachment_added' THEN e.details ->> 'kind'
                     END, ''), 70) AS detail
  FROM womgr.work_order_event e
  JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
  LEFT JOIN womgr.technician te ON te.tenant_id = e.tenant_id AND te.employee_code = e.actor
 WHERE e.tenant_id = :tenant_id AND e.occurred_at >= :'day_start'
 ORDER BY e.work_order_event_id;

\echo == Events waiting in the outbox for apps and integrations
SELECT topic, count(*) AS events FROM womgr.outbox WHERE tenant_id = :tenant_id AND claimed_at IS NULL
 GROUP BY topic ORDER BY events DESC, topic;

\echo == Work orders by status at the end of the day
SELECT s.code AS status, s.label, s.category, count(w.work_order_id) AS work_orders
  FROM womgr.workflow_status s
  JOIN womgr.workflow f ON f.tenant_id = s.tenant_id AND f.workflow_id = s.workflow_id AND f.code = 'standard'
  LEFT JOIN womgr.work_order w ON w.tenant_id = s.tenant_id AND w.workflow_id = s.workflow_id AND w.status = s.code
 WHERE s.tenant_id = :tenant_id
 GROUP BY s.code, s.label, s.category, s.position
 ORDER BY s.position;

-- ---------------------------------------------------------------------------
-- Dispatch: the Nairobi branch's morning queue for its next working day.
-- The generator left 24 new requests from yesterday evening for that day,
-- each with a requested window in the morning; Grace matches, plans, commits,
-- handles an emergency and looks at two technicians' routes.  (The regression
-- test test/sql/demo.sql tells the same story on a smaller company and checks
-- it.)  Jobs are called Q01.. in the order they came in.
-- ---------------------------------------------------------------------------
\echo
\echo ==========================================================================
\echo == Dispatch: the morning queue of the Nairobi branch for its next working day
\echo ==========================================================================
SELECT pg_temp.queue_day() AS qday, to_char(pg_temp.queue_day(), 'FMDay FMDD FMMonth') AS qday_text,
       b.branch_id AS nbo
  FROM womgr.branch b WHERE b.tenant_id = :tenant_id AND b.code = 'NBO' \gset
CREATE TEMP TABLE job_label (work_order_id bigint PRIMARY KEY, job text NOT NULL);
INSERT INTO job_label
SELECT w.work_order_id, 'Q' || lpad((row_number() OVER (ORDER BY w.created_at, w.work_order_id))::text, 2, '0')
  FROM womgr.work_order w
 WHERE w.tenant_id = :tenant_id AND w.branch_id = :nbo AND w.status = 'new'
   AND w.requested_window && tstzrange(:'qday'::date, :'qday'::date + 1);
CREATE FUNCTION pg_temp.job(bigint) RETURNS text LANGUAGE sql STABLE
    RETURN (SELECT j.job FROM job_label j WHERE j.work_order_id = $1);
CREATE FUNCTION pg_temp.hm(timestamptz) RETURNS text LANGUAGE sql STABLE RETURN to_char($1, 'HH24:MI');
CREATE FUNCTION pg_temp.tech(bigint) RETURNS text LANGUAGE sql STABLE
    RETURN (SELECT t.name FROM womgr.technician t WHERE t.technician_id = $1);
\echo The day is :qday_text. Technicians work a day shift (08:00-17:00, Saturdays to 13:00)
\echo or a late shift (11:00-20:00); six of them sent GPS pings in the last quarter hour.
\echo
\echo == The queue: new requests from yesterday evening, each with a requested window
SELECT j.job, t.code AS type, p.code AS priority,
       pg_temp.hm(lower(w.requested_window)) || '-' || pg_temp.hm(upper(w.requested_window)) AS window,
       c.name AS customer, s.name AS site
  FROM job_label j
  JOIN womgr.work_order w ON w.tenant_id = :tenant_id AND w.work_order_id = j.work_order_id
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
  JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
 ORDER BY j.job;

-- One job to match: one a technician the customer knows (preferred, or who
-- worked for them before) can take, with the most candidates.
SELECT j.work_order_id AS mjob, j.job AS mjob_label, t.code AS mjob_type, s.name AS mjob_site,
       pg_temp.hm(lower(w.requested_window)) || '-' || pg_temp.hm(upper(w.requested_window)) AS mjob_window
  FROM job_label j
  JOIN womgr.work_order w ON w.tenant_id = :tenant_id AND w.work_order_id = j.work_order_id
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
 ORDER BY EXISTS (SELECT 1 FROM womgr.match_technicians(:tenant_id, j.work_order_id, 5) m WHERE m.reasons -> 'preferred' ? 'why') DESC,
          (SELECT count(*) FROM womgr.match_technicians(:tenant_id, j.work_order_id, 50)) DESC, j.job
 LIMIT 1 \gset
\echo == :mjob_label, :mjob_type at :mjob_site (window :mjob_window): the five best technicians
\echo == (womgr.match_technicians: qualified, certified, on shift and free; scored on travel,
\echo == skill fit, workload, SLA, preferred technician and rating)
SELECT m.rank, te.name AS technician, round(m.score::numeric, 3) AS score,
       round(m.travel_minutes::numeric, 1) AS travel_min, m.reasons ->> 'position' AS travels_from,
       pg_temp.hm((m.reasons ->> 'start_at')::timestamptz) AS earliest,
       (SELECT string_agg(format('%s %s (min %s)', k ->> 'skill', k ->> 'level', k ->> 'min_level'), ', ')
          FROM jsonb_array_elements(m.reasons -> 'skill_fit' -> 'skills') k) AS skills,
       coalesce(m.reasons -> 'preferred' ->> 'why', '') AS preferred,
       coalesce(m.reasons -> 'rating' ->> 'rating', 'unrated') AS rating
  FROM womgr.match_technicians(:tenant_id, :mjob, 5) m
  JOIN womgr.technician te ON te.tenant_id = :tenant_id AND te.technician_id = m.technician_id
 ORDER BY m.rank;

\echo == Planning the morning with womgr.plan_dispatch(p_commit => false): the plan of the solver
\echo == next to greedy (nearest qualified technician, most urgent job first); nothing is booked yet
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
CREATE TEMP TABLE plan_dry AS
SELECT row_number() OVER () AS i, p.* FROM womgr.plan_dispatch(:tenant_id, :nbo, :'qday', false) p;
COMMIT;
SELECT pg_temp.job(p.work_order_id) AS job, pr.code AS priority,
       pg_temp.hm(lower(w.requested_window)) || '-' || pg_temp.hm(upper(w.requested_window)) AS window,
       coalesce(pg_temp.tech(p.technician_id), '-') AS solver,
       coalesce(pg_temp.hm(p.start_at) || '-' || pg_temp.hm(p.finish_at), '') AS booked,
       round(p.travel_minutes::numeric, 1) AS travel_min,
       coalesce(pg_temp.tech(p.greedy_technician_id), '-') AS greedy,
       coalesce(pg_temp.hm(p.greedy_start_at), '') AS greedy_start,
       round(p.greedy_travel_minutes::numeric, 1) AS greedy_travel_min
  FROM plan_dry p
  JOIN womgr.work_order w ON w.tenant_id = :tenant_id AND w.work_order_id = p.work_order_id
  JOIN womgr.priority pr ON pr.tenant_id = w.tenant_id AND pr.priority_id = w.priority_id
 ORDER BY p.i;
\echo == The totals (travel_saving_pct: how much less the solver drives than greedy)
SELECT max(jobs_total) AS jobs, max(jobs_placed) AS solver_placed, count(DISTINCT technician_id) AS solver_technicians,
       round(max(total_travel_minutes)::numeric, 1) AS solver_travel_min,
       round((max(total_travel_minutes) / nullif(max(jobs_placed), 0))::numeric, 1) AS solver_min_per_job,
       max(greedy_jobs_placed) AS greedy_placed, count(DISTINCT greedy_technician_id) AS greedy_technicians,
       round(max(greedy_total_travel_minutes)::numeric, 1) AS greedy_travel_min,
       round((max(greedy_total_travel_minutes) / nullif(max(greedy_jobs_placed), 0))::numeric, 1) AS greedy_min_per_job,
       round((100 * (max(greedy_total_travel_minutes) - max(total_travel_minutes)) / max(greedy_total_travel_minutes))::numeric, 1)
           AS travel_saving_pct
  FROM plan_dry;

\echo == Grace commits the plan: womgr.plan_dispatch(p_commit => true) books the jobs and schedules them
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT count(*) AS ignored FROM womgr.plan_dispatch(:tenant_id, :nbo, :'qday', true) \gset
COMMIT;
SELECT w.status, count(*) AS jobs, count(a.assignment_id) AS booked_leads
  FROM job_label j
  JOIN womgr.work_order w ON w.tenant_id = :tenant_id AND w.work_order_id = j.work_order_id
  LEFT JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                              AND a.role = 'lead' AND a.ended_at IS NULL AND a.booked IS NOT NULL
 GROUP BY w.status ORDER BY w.status;

-- The emergency.  womgr.dispatch_emergency() dispatches as of now; the demo
-- replays a call that comes in at 10:00 on the queue day with p_at.
SELECT s.site_id AS esite, s.customer_id AS ecust, c.name AS ecust_name, s.name AS esite_name
  FROM womgr.site s JOIN womgr.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
 WHERE s.tenant_id = :tenant_id AND s.branch_id = :nbo AND c.kind = 'business' AND s.name LIKE '%, Embakasi'
   AND s.site_id NOT IN (SELECT w.site_id FROM womgr.work_order w JOIN job_label j USING (work_order_id)
                          WHERE w.tenant_id = :tenant_id)
 ORDER BY c.account_code, s.site_id
 LIMIT 1 \gset
\echo
\echo == 10:00 :ecust_name (:esite_name) calls: burning smell from the distribution board.
\echo == Grace creates an emergency work order; womgr.dispatch_emergency() books whoever can be
\echo == there first, bumping a lower-priority booking if that is sooner
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT womgr.create_work_order(:tenant_id, jsonb_build_object(
           'customer_id', :ecust, 'site_id', :esite, 'type', 'electrical_fault', 'priority', 'emergency',
           'description', 'Burning smell from the distribution board; the cold room is off')) AS ejob \gset
CREATE TEMP TABLE em AS SELECT * FROM womgr.dispatch_emergency(:tenant_id, :ejob, p_at => :'qday'::date + time '10:00');
COMMIT;
INSERT INTO job_label VALUES (:ejob, 'EMERGENCY');
SELECT pg_temp.tech(em.technician_id) AS booked_technician, pg_temp.hm(em.start_at) AS start,
       round(em.travel_minutes::numeric, 1) AS travel_min,
       coalesce((SELECT string_agg(pg_temp.job(b), ', ') FROM unnest(em.bumped_work_order_ids) b), '-') AS bumped
  FROM em;
SELECT technician_id AS etech, pg_temp.tech(technician_id) AS etech_name,
       coalesce((SELECT b FROM unnest(bumped_work_order_ids) b LIMIT 1), 0) AS bjob
  FROM em \gset
\echo == A bumped job goes back to the queue: its booking ends, it gets a bumped event
\echo == (and an outbox notification) and is new again
SELECT pg_temp.job(e.work_order_id) AS job, e.event_type AS event, pg_temp.tech((e.details ->> 'technician_id')::bigint) AS technician,
       pg_temp.hm(lower((e.details ->> 'booked')::tstzrange)) || '-' || pg_temp.hm(upper((e.details ->> 'booked')::tstzrange)) AS was_booked,
       pg_temp.job((e.details ->> 'by_work_order_id')::bigint) AS bumped_by, w.status AS status_now,
       (SELECT count(*) FROM womgr.assignment a WHERE a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                                                  AND a.ended_at IS NULL) AS active_assignments
  FROM womgr.work_order_event e
  JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
 WHERE e.tenant_id = :tenant_id AND e.event_type = 'bumped'
 ORDER BY e.work_order_event_id;
\echo == Grace plans what is left of the morning again (womgr.plan_dispatch, committed)
BEGIN;
SELECT womgr.set_context(:tenant_id, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
SELECT pg_temp.job(p.work_order_id) AS job,
       coalesce(pg_temp.tech(p.technician_id), '-') AS technician,
       coalesce(pg_temp.hm(p.start_at) || '-' || pg_temp.hm(p.finish_at), '') AS booked,
       round(p.travel_minutes::numeric, 1) AS travel_min
  FROM womgr.plan_dispatch(:tenant_id, :nbo, :'qday', true, p_at => :'qday'::date + time '10:00') p
 ORDER BY pg_temp.job(p.work_order_id);
COMMIT;

-- The routes: the emergency technician's, and that of whoever took the
-- bumped job (else the busiest other technician of the morning).
SELECT coalesce((SELECT a.technician_id FROM womgr.assignment a
                  WHERE a.tenant_id = :tenant_id AND a.work_order_id = :bjob AND a.ended_at IS NULL
                    AND a.technician_id <> :etech),
                (SELECT a.technician_id FROM womgr.assignment a JOIN job_label j USING (work_order_id)
                  WHERE a.tenant_id = :tenant_id AND a.ended_at IS NULL AND a.technician_id <> :etech
                  GROUP BY a.technician_id ORDER BY count(*) DESC, a.technician_id LIMIT 1)) AS rtech \gset
SELECT pg_temp.tech(:rtech) AS rtech_name \gset
CREATE FUNCTION pg_temp.route(p_tenant bigint, p_tech bigint, p_day date)
    RETURNS TABLE (stop integer, job text, site text, booked text, arrive text, start text, finish text,
                   travel_min numeric, km numeric, wait_min numeric, late_min numeric, total_travel_min numeric,
                   total_km numeric)
    LANGUAGE sql AS $$
    SELECT r.stop_no, coalesce(pg_temp.job(r.work_order_id), ''), coalesce(r.site, ''),
           coalesce(pg_temp.hm(lower(r.booked)) || '-' || pg_temp.hm(upper(r.booked)), ''),
           pg_temp.hm(r.arrive_at), coalesce(pg_temp.hm(r.start_at), ''), coalesce(pg_temp.hm(r.finish_at), ''),
           round(r.travel_minutes::numeric, 1), round(r.distance_km::numeric, 1),
           round(r.wait_minutes::numeric), round(r.late_minutes::numeric),
           round(r.total_travel_minutes::numeric, 1), round(r.total_distance_km::numeric, 1)
      FROM womgr.day_route(p_tenant, p_tech, p_day) r ORDER BY r.stop_no
$$;
\echo == The day of :etech_name (womgr.day_route): the stops in the best order, with ETAs,
\echo == and the way home; the last row carries the totals
SELECT * FROM pg_temp.route(:tenant_id, :etech, :'qday');
\echo == The day of :rtech_name
SELECT * FROM pg_temp.route(:tenant_id, :rtech, :'qday');

-- ---------------------------------------------------------------------------
-- Billing: the day's money closes.  The jobs completed today were not
-- invoiced by themselves (the company had no rate card yet; womgr left an
-- invoice.not_generated notice for each), so Wanjiru in accounts sets up the
-- rates, invoices the recent completed jobs of the branch, customers pay by
-- M-Pesa (one cancels the prompt), and the solar installation's deposit
-- milestone is paid out of escrow.
-- ---------------------------------------------------------------------------
\echo
\echo ==========================================================================
\echo == Billing: invoices, M-Pesa payments, an escrow milestone, receivables
\echo ==========================================================================
\echo == Why the jobs completed today have no invoice yet (outbox invoice.not_generated)
SELECT w.number AS work_order, o.payload ->> 'message' AS reason
  FROM womgr.outbox o JOIN womgr.work_order w ON w.tenant_id = o.tenant_id AND w.work_order_id = o.work_order_id
 WHERE o.tenant_id = :tenant_id AND o.topic = 'invoice.not_generated'
 ORDER BY o.outbox_id;

\echo == Wanjiru sets up billing: seller details, the paybill, and the Nairobi rate card
BEGIN;
SELECT womgr.set_context(:tenant_id, 'wanjiru.accounts', NULL, 'accountant') AS ignored \gset
SELECT womgr.set_billing_settings(:tenant_id, '{"seller_tax_pin": "P051234567Z", "mpesa_paybill": "522533",
        "seller_address": "Mombasa Road, Nairobi", "bank_details": "KCB Moi Avenue, account 1234567890"}') AS ignored \gset
SELECT womgr.create_rate_card(:tenant_id, jsonb_build_object('code', 'nbo_standard', 'name', 'Nairobi standard rates',
        'branch_id', :nbo, 'default_hourly_rate', 1500, 'call_out_fee', 1000, 'after_hours_multiplier', 1.5,
        'after_hours_calendar_id', (SELECT calendar_id FROM womgr.branch WHERE tenant_id = :tenant_id AND branch_id = :nbo),
        'billing_increment', '15 minutes', 'minimum_labour', '1 hour', 'travel_mode', 'per_km', 'travel_per_km', 40)) AS rate_card \gset
COMMIT;

\echo == The technicians log their hours for the day, and the ten most recently completed
\echo == Nairobi jobs are invoiced (womgr.generate_invoice; VAT 16 %)
BEGIN;
SELECT womgr.set_context(:tenant_id, 'wanjiru.accounts', NULL, 'accountant') AS ignored \gset
SELECT womgr.add_time_entry(:tenant_id, :job_b, jsonb_build_object('technician_id', :tech_b,
        'started_at', (current_date + time '10:15') AT TIME ZONE 'Africa/Nairobi', 'ended_at', (current_date + time '11:30') AT TIME ZONE 'Africa/Nairobi')) AS ignored \gset
SELECT womgr.add_time_entry(:tenant_id, :job_d, jsonb_build_object('technician_id', :tech_d,
        'started_at', (current_date + time '13:40') AT TIME ZONE 'Africa/Nairobi', 'ended_at', (current_date + time '15:20') AT TIME ZONE 'Africa/Nairobi')) AS ignored \gset
SELECT womgr.add_time_entry(:tenant_id, :job_d, jsonb_build_object('technician_id', :tech_d, 'kind', 'travel', 'distance_km', 18.5,
        'started_at', (current_date + time '13:00') AT TIME ZONE 'Africa/Nairobi', 'ended_at', (current_date + time '13:40') AT TIME ZONE 'Africa/Nairobi')) AS ignored \gset
CREATE TEMP TABLE demo_invoice AS
SELECT w.work_order_id, womgr.generate_invoice(:tenant_id, w.work_order_id) AS invoice_id
  FROM (SELECT w.work_order_id FROM womgr.work_order w
         WHERE w.tenant_id = :tenant_id AND w.branch_id = :nbo AND w.category IN ('completed', 'closed')
           AND EXISTS (SELECT 1 FROM womgr.work_order_event e JOIN womgr.workflow_status s
                         ON s.tenant_id = e.tenant_id AND s.workflow_id = w.workflow_id AND s.code = e.to_status
                        WHERE e.tenant_id = w.tenant_id AND e.work_order_id = w.work_order_id AND s.category = 'in_progress')
         ORDER BY w.status_changed_at DESC, w.work_order_id LIMIT 10) w;
COMMIT;
SELECT i.number AS invoice, w.number AS work_order, c.name AS customer,
       (SELECT count(*) FROM womgr.invoice_line l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.invoice_id) AS lines,
       i.subtotal, i.tax_total AS vat, i.total, i.due_date
  FROM demo_invoice d
  JOIN womgr.invoice i ON i.tenant_id = :tenant_id AND i.invoice_id = d.invoice_id
  JOIN womgr.work_order w ON w.tenant_id = i.tenant_id AND w.work_order_id = i.work_order_id
  JOIN womgr.customer c ON c.tenant_id = i.tenant_id AND c.customer_id = i.customer_id
 ORDER BY i.number;
SELECT invoice_id AS first_invoice FROM demo_invoice WHERE work_order_id = :job_d \gset
\echo == The lines of two of them (labour from time entries or the job history, travel at 40 per km, call-out)
SELECT l.line_no AS no, l.description, l.quantity, l.unit, l.unit_price, l.net_amount AS net, l.tax_amount AS vat
  FROM womgr.invoice_line l
 WHERE l.tenant_id = :tenant_id AND l.invoice_id IN (:first_invoice, (SELECT max(invoice_id) FROM demo_invoice))
 ORDER BY l.invoice_id, l.line_no;
\echo == ... and how the customer is told to pay (womgr.invoice_document)
SELECT jsonb_pretty(womgr.invoice_document(:tenant_id, :first_invoice) -> 'payment_instructions') AS payment_instructions;

\echo == Four customers get an M-Pesa prompt; three pay, one cancels it on the phone
BEGIN;
SELECT womgr.set_context(:tenant_id, 'mpesa.gateway', NULL, 'accountant') AS ignored \gset
CREATE TEMP TABLE demo_stk AS
SELECT i.invoice_id, i.number,
       womgr.request_payment(:tenant_id, i.invoice_id, 'stk_push', '0712' || lpad((i.invoice_id % 1000000)::text, 6, '0')) AS request_id,
       row_number() OVER (ORDER BY i.number) AS n
  FROM (SELECT i.* FROM demo_invoice d JOIN womgr.invoice i ON i.tenant_id = :tenant_id AND i.invoice_id = d.invoice_id
         ORDER BY i.number LIMIT 4) i;
SELECT count(womgr.payment_request_sent(:tenant_id, request_id, 'demo-merchant-' || n, 'ws_CO_DEMO_' || n)) AS ignored
  FROM demo_stk \gset
-- the callbacks as Safaricom posts them
SELECT s.number, r.amount,
       womgr.record_mpesa_callback(:tenant_id, CASE WHEN s.n = 4 THEN
           jsonb_build_object('Body', jsonb_build_object('stkCallback', jsonb_build_object(
               'MerchantRequestID', 'demo-merchant-' || s.n, 'CheckoutRequestID', 'ws_CO_DEMO_' || s.n,
               'ResultCode', 1032, 'ResultDesc', 'Request cancelled by user'))) ELSE
           jsonb_build_object('Body', jsonb_build_object('stkCallback', jsonb_build_object(
               'MerchantRequestID', 'demo-merchant-' || s.n, 'CheckoutRequestID', 'ws_CO_DEMO_' || s.n,
               'ResultCode', 0, 'ResultDesc', 'The service request is processed successfully.',
               'CallbackMetadata', jsonb_build_object('Item', jsonb_build_array(
                   jsonb_build_object('Name', 'Amount', 'Value', r.amount),
                   jsonb_build_object('Name', 'MpesaReceiptNumber', 'Value', 'SKD' || lpad(s.request_id::text, 7, '0')),
                   jsonb_build_object('Name', 'TransactionDate', 'Value', to_char(now() AT TIME ZONE 'Africa/Nairobi', 'YYYYMMDDHH24MISS')::bigint),
                   jsonb_build_object('Name', 'PhoneNumber', 'Value', ('254' || substr(r.phone, 4))::bigint)))))) END) AS payment_id
  FROM demo_stk s JOIN womgr.payment_request r ON r.tenant_id = :tenant_id AND r.payment_request_id = s.request_id
 ORDER BY s.n;
COMMIT;
SELECT s.number AS invoice, r.status AS request, r.result_code, r.result_desc, p.reference AS mpesa_receipt, p.amount
  FROM demo_stk s
  JOIN womgr.payment_request r ON r.tenant_id = :tenant_id AND r.payment_request_id = s.request_id
  LEFT JOIN womgr.payment p ON p.tenant_id = r.tenant_id AND p.payment_id = r.payment_id
 ORDER BY s.n;

\echo == The solar installation (quoted KES 865,000) is paid through escrow in two milestones;
\echo == the deposit is paid in, held, approved by the owner and released
BEGIN;
SELECT womgr.set_context(:tenant_id, 'wanjiru.accounts', NULL, 'accountant') AS ignored \gset
SELECT womgr.create_milestones(:tenant_id, :job_c, '[{"name": "Deposit and design", "amount": 259500},
                                                     {"name": "Installation and handover", "amount": 605500}]') AS ignored \gset
SELECT milestone_id AS m1 FROM womgr.milestone WHERE tenant_id = :tenant_id AND work_order_id = :job_c AND seq = 1 \gset
SELECT womgr.escrow_deposit(:tenant_id, :m1, 259500, 'ESC-DEMO-0001') AS ignored \gset
SELECT womgr.escrow_hold(:tenant_id, :m1) AS ignored \gset
SELECT womgr.invoice_milestone(:tenant_id, :m1) AS ignored \gset
SELECT womgr.approve_milestone(:tenant_id, :m1, 'Design accepted by the owner') AS ignored \gset
SELECT womgr.escrow_release(:tenant_id, :m1) AS ignored \gset
COMMIT;
SELECT seq, name, amount, status, deposited, held, released, invoice_number, invoice_balance
  FROM womgr.milestone_status WHERE tenant_id = :tenant_id AND work_order_id = :job_c ORDER BY seq;

\echo == Receivables: what the customers of the branch owe now (womgr.receivables_aging)
SELECT a.number AS invoice, a.customer_name AS customer, a.total, a.balance, a.due_date, a.bucket
  FROM womgr.receivables_aging(:tenant_id) a
 WHERE a.invoice_id IN (SELECT invoice_id FROM demo_invoice) OR a.invoice_id IN
       (SELECT invoice_id FROM womgr.invoice WHERE tenant_id = :tenant_id AND work_order_id = :job_c)
 ORDER BY a.number;
SELECT count(*) AS open_invoices, sum(balance) AS outstanding_kes FROM womgr.receivables_aging(:tenant_id);
