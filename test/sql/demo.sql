-- demo: womgr.demo_generate() builds a coherent Kenyan service company —
-- branches at the real coordinates, skills, technicians with shifts, ratings
-- and GPS pings, customers with preferred technicians, sites, assets, work
-- orders in every status of the standard workflow with lead technicians,
-- approvals, proof of completion and a history that only takes the
-- workflow's transitions, and a morning queue for the Nairobi branch's next
-- working day — the same one for the same seed, and refuses bad arguments.
-- Then the dispatch chapter of the demo, on that company: matching one
-- queued job, planning the morning (the solver next to greedy), committing
-- the plan, an emergency that bumps a booking, and two technicians' routes.
-- It prints only local times of day on the queue day, durations and names,
-- so the output is the same whatever day it runs.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT plan(102);

-- Content without ids: every row of the tenant as text, in text order.
CREATE FUNCTION pg_temp.demo_digest(p_tenant bigint) RETURNS text LANGUAGE sql AS $$
SELECT md5(string_agg(x.part, E'\n' ORDER BY x.part)) FROM (
    SELECT 'branch ' || concat_ws('|', b.code, b.name, p.code, b.timezone, b.currency,
                                  ST_AsText(b.location::geometry), b.address) AS part
      FROM womgr.branch b
      LEFT JOIN womgr.branch p ON p.tenant_id = b.tenant_id AND p.branch_id = b.parent_branch_id
     WHERE b.tenant_id = p_tenant
    UNION ALL
    SELECT 'skill ' || concat_ws('|', s.code, s.name) FROM womgr.skill s WHERE s.tenant_id = p_tenant
    UNION ALL
    SELECT 'type ' || concat_ws('|', t.code, t.name, p.code, t.estimated_duration,
                                (SELECT string_agg(s.code || '>=' || r.min_level, ',' ORDER BY s.code)
                                   FROM womgr.work_order_type_skill r JOIN womgr.skill s USING (tenant_id, skill_id)
                                  WHERE r.tenant_id = t.tenant_id AND r.work_order_type_id = t.work_order_type_id))
      FROM womgr.work_order_type t
      JOIN womgr.priority p ON p.tenant_id = t.tenant_id AND p.priority_id = t.default_priority_id
     WHERE t.tenant_id = p_tenant
    UNION ALL
    SELECT 'technician ' || concat_ws('|', t.employee_code, t.name, t.phone, t.email, b.code,
                                      ST_AsText(t.home_location::geometry), t.active, t.created_at,
                                      (SELECT string_agg(s.code || ':' || ts.level || ':' || coalesce(ts.certified_until::text, '-'),
                                                         ',' ORDER BY s.code)
                                         FROM womgr.technician_skill ts JOIN womgr.skill s USING (tenant_id, skill_id)
                                        WHERE ts.tenant_id = t.tenant_id AND ts.technician_id = t.technician_id),
                                      k.name, t.rating, ST_AsText(t.last_location::geometry), t.last_location_at,
                                      (SELECT string_agg(l.recorded_at || ':' || ST_AsText(l.location::geometry) || ':' || l.accuracy_m
                                                         || ':' || l.received_at, ',' ORDER BY l.recorded_at)
                                         FROM womgr.technician_location l
                                        WHERE l.tenant_id = t.tenant_id AND l.technician_id = t.technician_id))
      FROM womgr.technician t JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
      LEFT JOIN womgr.calendar k ON k.tenant_id = t.tenant_id AND k.calendar_id = t.calendar_id
     WHERE t.tenant_id = p_tenant
    UNION ALL
    SELECT 'calendar ' || concat_ws('|', k.name, v.version, v.timezone, v.hours, v.holidays)
      FROM womgr.calendar k JOIN womgr.calendar_version v USING (tenant_id, calendar_id)
     WHERE k.tenant_id = p_tenant
    UNION ALL
    SELECT 'preferred ' || concat_ws('|', c.account_code, t.employee_code, p.created_at)
      FROM womgr.preferred_technician p JOIN womgr.customer c USING (tenant_id, customer_id)
      JOIN womgr.technician t ON t.tenant_id = p.tenant_id AND t.technician_id = p.technician_id
     WHERE p.tenant_id = p_tenant
    UNION ALL
    SELECT 'customer ' || concat_ws('|', c.account_code, c.name, c.kind, c.tax_pin, c.phone, c.email, b.code, c.created_at)
      FROM womgr.customer c JOIN womgr.branch b ON b.tenant_id = c.tenant_id AND b.branch_id = c.branch_id
     WHERE c.tenant_id = p_tenant
    UNION ALL
    SELECT 'contact ' || concat_ws('|', c.account_code, k.name, k.role, k.phone, k.is_primary)
      FROM womgr.contact k JOIN womgr.customer c USING (tenant_id, customer_id)
     WHERE k.tenant_id = p_tenant
    UNION ALL
    SELECT 'site ' || concat_ws('|', c.account_code, s.name, s.address, s.city, s.county,
                                ST_AsText(s.location::geometry), b.code, s.access_notes)
      FROM womgr.site s JOIN womgr.customer c USING (tenant_id, customer_id)
      JOIN womgr.branch b ON b.tenant_id = s.tenant_id AND b.branch_id = s.branch_id
     WHERE s.tenant_id = p_tenant
    UNION ALL
    SELECT 'asset ' || concat_ws('|', c.account_code, s.name, a.name, a.category, a.make, a.model, a.serial_number,
                                 a.installed_on, a.warranty)
      FROM womgr.asset a JOIN womgr.site s USING (tenant_id, site_id) JOIN womgr.customer c USING (tenant_id, customer_id)
     WHERE a.tenant_id = p_tenant
    UNION ALL
    SELECT 'work order ' || concat_ws('|', w.number, b.code, c.account_code, s.name, a.serial_number, t.code, p.code,
                                      w.status, w.category, w.status_changed_at, w.requested_window, w.description,
                                      w.restricted, w.quoted_amount, w.resolution, w.version, w.source, w.external_ref,
                                      w.created_by, w.created_at, w.updated_at)
      FROM womgr.work_order w
      JOIN womgr.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id
      JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
      JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
      LEFT JOIN womgr.asset a ON a.tenant_id = w.tenant_id AND a.asset_id = w.asset_id
      JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
      JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
     WHERE w.tenant_id = p_tenant
    UNION ALL
    SELECT 'assignment ' || concat_ws('|', w.number, a.role, te.employee_code, a.booked, a.assigned_by, a.assigned_at, a.ended_at)
      FROM womgr.assignment a JOIN womgr.work_order w USING (tenant_id, work_order_id)
      JOIN womgr.technician te ON te.tenant_id = a.tenant_id AND te.technician_id = a.technician_id
     WHERE a.tenant_id = p_tenant
    UNION ALL
    SELECT 'approval ' || concat_ws('|', w.number, st.code, ap.status, ap.requested_by, ap.requested_at, ap.request_note,
                                    ap.decided_by, ap.decided_at, ap.decision_reason)
      FROM womgr.approval ap JOIN womgr.work_order w USING (tenant_id, work_order_id)
      JOIN womgr.approval_step st ON st.tenant_id = ap.tenant_id AND st.approval_step_id = ap.approval_step_id
     WHERE ap.tenant_id = p_tenant
    UNION ALL
    SELECT 'attachment ' || concat_ws('|', w.number, at.kind, encode(at.content_hash, 'hex'), at.size_bytes, at.mime_type,
                                      at.storage_uri, at.captured_at, ST_AsText(at.location::geometry), at.signed_by,
                                      at.caption, at.uploaded_by, at.created_at)
      FROM womgr.attachment at JOIN womgr.work_order w USING (tenant_id, work_order_id)
     WHERE at.tenant_id = p_tenant
    UNION ALL
    -- ids in the details differ from tenant to tenant
    SELECT 'event ' || concat_ws('|', w.number, e.event_type, e.from_status, e.to_status, e.actor, e.occurred_at,
                                 e.details - ARRAY['assignment_id', 'approval_id', 'attachment_id', 'technician_id'])
      FROM womgr.work_order_event e JOIN womgr.work_order w USING (tenant_id, work_order_id)
     WHERE e.tenant_id = p_tenant) x
$$;

-- Bad arguments: nothing is created.
SELECT count(*) AS tenants_before FROM womgr.tenant \gset
SELECT throws_ok('SELECT womgr.demo_generate(NULL)', '22004', 'number of work orders must not be null',
                 'a null number of work orders is refused');
SELECT throws_ok('SELECT womgr.demo_generate(300, NULL)', '22004', 'seed must not be null',
                 'a null seed is refused');
SELECT throws_ok('SELECT womgr.demo_generate(0)', '22023', 'number of work orders 0 is out of range',
                 'zero work orders are refused');
SELECT throws_ok('SELECT womgr.demo_generate(-5, 1)', '22023', 'number of work orders -5 is out of range',
                 'a negative number of work orders is refused');
SELECT throws_ok('SELECT womgr.demo_generate(10000001, 1)', '22023', 'number of work orders 10000001 is out of range',
                 'more than ten million work orders are refused');
SELECT is((SELECT count(*) FROM womgr.tenant), :tenants_before::bigint, 'refused calls create no tenant');
SELECT isnt(obj_description('womgr.demo_generate(integer, integer)'::regprocedure, 'pg_proc'), NULL,
            'demo_generate is documented');

-- A small company; the generator leaves the caller's random() sequence alone.
SELECT setseed(0.25) AS ignored \gset
SELECT random() AS expected_random \gset
SELECT setseed(0.25) AS ignored \gset
SELECT womgr.demo_generate(300, 42) AS t \gset
SELECT is(random(), :expected_random::float8, 'demo_generate does not touch the session''s random() sequence');

SELECT pg_temp.demo_digest(:t) AS digest_first \gset

-- The tenant and its branches.
SELECT matches((SELECT code FROM womgr.tenant WHERE tenant_id = :t), '^demo-42-\d+$', 'the tenant code is demo-<seed>-<n>');
SELECT results_eq(format('SELECT timezone, currency::text, work_order_prefix FROM womgr.tenant WHERE tenant_id = %s', :t),
                  $$VALUES ('Africa/Nairobi', 'KES', 'WO')$$, 'the tenant runs on Nairobi time in shillings');
SELECT set_eq(format('SELECT code FROM womgr.branch WHERE tenant_id = %s', :t),
              ARRAY['HQ', 'CENTRAL', 'COAST', 'NYANZA', 'NBO', 'MSA', 'KSM'], 'head office, three regions, three branches');
SELECT results_eq(format($$SELECT b.code, r.code, h.code FROM womgr.branch b
                             JOIN womgr.branch r ON r.tenant_id = b.tenant_id AND r.branch_id = b.parent_branch_id
                             JOIN womgr.branch h ON h.tenant_id = r.tenant_id AND h.branch_id = r.parent_branch_id
                            WHERE b.tenant_id = %s ORDER BY b.code$$, :t),
                  $$VALUES ('KSM', 'NYANZA', 'HQ'), ('MSA', 'COAST', 'HQ'), ('NBO', 'CENTRAL', 'HQ')$$,
                  'each city branch reports to its region, each region to head office');
SELECT is((SELECT count(*)::integer FROM womgr.branch b
             JOIN (VALUES ('NBO', -1.2921, 36.8219), ('MSA', -4.0435, 39.6682), ('KSM', -0.0917, 34.7680)) AS c(code, lat, lon)
               ON c.code = b.code
            WHERE b.tenant_id = :t
              AND ST_Distance(b.location, ST_SetSRID(ST_MakePoint(c.lon, c.lat), 4326)::geography) < 1000),
          3, 'Nairobi, Mombasa and Kisumu branches stand within 1 km of the real cities');

-- Skills, types and technicians.
SELECT set_eq(format('SELECT code FROM womgr.skill WHERE tenant_id = %s', :t),
              ARRAY['electrical', 'plumbing', 'hvac', 'solar', 'telecom', 'appliances', 'it'], 'the skill catalogue');
SELECT is((SELECT count(*)::integer FROM womgr.work_order_type WHERE tenant_id = :t), 16,
          'twelve demo work-order types besides the four seeded ones');
SELECT results_eq(format($$SELECT s.code, r.min_level::integer FROM womgr.work_order_type t
                             JOIN womgr.work_order_type_skill r USING (tenant_id, work_order_type_id)
                             JOIN womgr.skill s USING (tenant_id, skill_id)
                            WHERE t.tenant_id = %s AND t.code = 'solar_install' ORDER BY s.code$$, :t),
                  $$VALUES ('electrical', 2), ('solar', 3)$$, 'solar_install needs solar 3 and electrical 2');
SELECT is((SELECT count(*)::integer FROM womgr.technician WHERE tenant_id = :t), 60, 'sixty technicians');
SELECT set_eq(format($$SELECT DISTINCT b.code FROM womgr.technician t
                        JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
                       WHERE t.tenant_id = %s$$, :t),
              ARRAY['NBO', 'MSA', 'KSM'], 'technicians work from the three city branches');
SELECT is((SELECT count(*)::integer FROM womgr.technician t
            WHERE t.tenant_id = :t
              AND (SELECT count(*) FROM womgr.technician_skill ts
                    WHERE ts.tenant_id = t.tenant_id AND ts.technician_id = t.technician_id) NOT BETWEEN 1 AND 3),
          0, 'every technician has one to three skills');
SELECT is((SELECT count(*)::integer FROM womgr.skill s
            WHERE s.tenant_id = :t
              AND NOT EXISTS (SELECT 1 FROM womgr.technician_skill ts
                               JOIN womgr.technician te USING (tenant_id, technician_id)
                               JOIN womgr.branch b ON b.tenant_id = te.tenant_id AND b.branch_id = te.home_branch_id
                              WHERE ts.tenant_id = s.tenant_id AND ts.skill_id = s.skill_id AND b.code = 'KSM')),
          0, 'even the smallest branch has every skill');
SELECT ok((SELECT count(*) FILTER (WHERE certified_until < current_date) > 0
              AND count(*) FILTER (WHERE certified_until >= current_date) > 0
              AND count(*) FILTER (WHERE certified_until IS NULL) > 0
             FROM womgr.technician_skill WHERE tenant_id = :t),
          'some certifications have expired, some are valid, some skills need none');
SELECT is((SELECT count(*)::integer FROM womgr.technician t
             JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
            WHERE t.tenant_id = :t AND NOT ST_DWithin(t.home_location, b.location, 25000)),
          0, 'technicians live within 25 km of their branch');

-- Customers, sites, assets.
SELECT is((SELECT count(*)::integer FROM womgr.customer WHERE tenant_id = :t), 120, '300 work orders: 120 customers');
SELECT set_eq(format('SELECT DISTINCT kind FROM womgr.customer WHERE tenant_id = %s', :t),
              ARRAY['business', 'individual'], 'businesses and individuals');
SELECT is((SELECT count(*)::integer FROM womgr.customer
            WHERE tenant_id = :t AND (phone !~ '^\+2547\d{8}$' OR account_code !~ '^C\d{7}$')),
          0, 'customers have +2547 phone numbers and account codes');
SELECT is((SELECT count(*)::integer FROM womgr.technician WHERE tenant_id = :t AND phone !~ '^\+2547\d{8}$'),
          0, 'technicians have +2547 phone numbers');
SELECT is((SELECT count(*)::integer FROM womgr.customer c
            WHERE c.tenant_id = :t
              AND (SELECT count(*) FROM womgr.site s WHERE s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id)
                  NOT BETWEEN 1 AND 2),
          0, 'every customer has one or two sites');
SELECT is((SELECT count(*)::integer FROM womgr.contact k JOIN womgr.customer c USING (tenant_id, customer_id)
            WHERE k.tenant_id = :t AND k.is_primary AND c.kind = 'business'),
          (SELECT count(*)::integer FROM womgr.customer WHERE tenant_id = :t AND kind = 'business'),
          'every business has a primary contact');
SELECT is((SELECT count(*)::integer FROM womgr.site s
             JOIN womgr.customer c USING (tenant_id, customer_id)
             JOIN womgr.branch b ON b.tenant_id = s.tenant_id AND b.branch_id = s.branch_id
            WHERE s.tenant_id = :t
              AND (s.branch_id <> c.branch_id OR NOT ST_DWithin(s.location, b.location, 25000) OR s.city IS NULL)),
          0, 'sites lie in their customer''s city, within 25 km of its branch');
SELECT ok((SELECT count(DISTINCT site_id) > 20 FROM womgr.asset WHERE tenant_id = :t), 'many sites have assets');
SELECT set_eq(format('SELECT DISTINCT category FROM womgr.asset WHERE tenant_id = %s', :t),
              ARRAY['generator', 'ac_unit', 'inverter', 'water_pump', 'router', 'ups', 'appliance'],
              'generators, AC units, inverters, pumps, routers, UPS and appliances');
SELECT is((SELECT count(*)::integer FROM womgr.asset
            WHERE tenant_id = :t AND (serial_number IS NULL OR make IS NULL OR installed_on IS NULL
                                      OR lower(warranty) <> installed_on)),
          0, 'assets have a make, a serial number and an installation date where their warranty starts');
SELECT ok((SELECT count(*) FILTER (WHERE warranty @> current_date) > 0 AND count(*) FILTER (WHERE upper(warranty) <= current_date) > 0
             FROM womgr.asset WHERE tenant_id = :t),
          'some warranties still run, some have ended');

-- Work orders.
SELECT is((SELECT count(*)::integer FROM womgr.work_order WHERE tenant_id = :t), 300, '300 work orders');
SELECT set_eq(format('SELECT DISTINCT status FROM womgr.work_order WHERE tenant_id = %s', :t),
              ARRAY['new', 'scheduled', 'en_route', 'in_progress', 'waiting_parts', 'waiting_customer',
                    'completed', 'closed', 'cancelled'],
              'every status of the standard workflow is present');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
             JOIN womgr.workflow f ON f.tenant_id = w.tenant_id AND f.workflow_id = w.workflow_id
            WHERE w.tenant_id = :t AND f.code <> 'standard'),
          0, 'every work order follows the standard workflow');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
             LEFT JOIN womgr.workflow_status s
                    ON s.tenant_id = w.tenant_id AND s.workflow_id = w.workflow_id AND s.code = w.status
            WHERE w.tenant_id = :t AND s.category IS DISTINCT FROM w.category),
          0, 'the category is the category of the status in the workflow');
SELECT is((SELECT count(*)::integer FROM womgr.work_order WHERE tenant_id = :t AND number !~ '^WO-(NBO|MSA|KSM)-\d{4}-\d{6}$'),
          0, 'numbers look like WO-NBO-2026-000123');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
             JOIN womgr.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id
            WHERE w.tenant_id = :t AND split_part(w.number, '-', 2) <> b.code),
          0, 'the number carries the work order''s branch');
SELECT is((SELECT count(*)::integer
             FROM (SELECT number, row_number() OVER (PARTITION BY branch_id ORDER BY created_at, work_order_id) AS n
                     FROM womgr.work_order WHERE tenant_id = :t) x
            WHERE split_part(x.number, '-', 4)::integer <> x.n),
          0, 'each branch numbers its work orders 1, 2, 3, ... in creation order');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
             JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
            WHERE w.tenant_id = :t AND (s.customer_id <> w.customer_id OR s.branch_id <> w.branch_id)),
          0, 'every work order''s site belongs to its customer and its branch');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
             JOIN womgr.asset a ON a.tenant_id = w.tenant_id AND a.asset_id = w.asset_id
            WHERE w.tenant_id = :t AND a.site_id <> w.site_id),
          0, 'an asset on a work order stands at its site');
SELECT ok((SELECT count(*) FILTER (WHERE asset_id IS NOT NULL) > 0 AND count(*) FILTER (WHERE asset_id IS NULL) > 0
             FROM womgr.work_order WHERE tenant_id = :t),
          'some work orders are about an asset, others not');
SELECT is((SELECT count(*)::integer FROM womgr.work_order
            WHERE tenant_id = :t
              AND (created_at AT TIME ZONE 'Africa/Nairobi')::date
                  NOT BETWEEN (now() AT TIME ZONE 'Africa/Nairobi')::date - 120 AND (now() AT TIME ZONE 'Africa/Nairobi')::date - 1),
          0, 'work orders were created over the 120 days before today');
SELECT ok((SELECT count(DISTINCT source) >= 5 AND count(DISTINCT priority_id) = 4 AND count(DISTINCT work_order_type_id) >= 12
             FROM womgr.work_order WHERE tenant_id = :t),
          'a mix of channels, priorities and types');
SELECT is((SELECT count(*)::integer FROM womgr.work_order
            WHERE tenant_id = :t AND status <> 'new' AND status <> 'cancelled' AND requested_window IS NULL),
          0, 'scheduled and later work has a requested window');

-- History: every work order's events tell how it got where it is.
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
            WHERE w.tenant_id = :t
              AND NOT EXISTS (SELECT 1 FROM womgr.work_order_event e
                               WHERE e.tenant_id = w.tenant_id AND e.work_order_id = w.work_order_id
                                 AND e.event_type = 'created' AND e.to_status = 'new' AND e.occurred_at = w.created_at)),
          0, 'every work order has its created event at its creation time');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
             JOIN LATERAL (SELECT count(*) FILTER (WHERE e.event_type IN ('created', 'status_changed', 'updated')) AS n,
                                  max(e.occurred_at) FILTER (WHERE e.event_type IN ('created', 'status_changed', 'updated')) AS last,
                                  max(e.occurred_at) FILTER (WHERE e.event_type IN ('created', 'status_changed')) AS last_move,
                                  (array_agg(e.to_status ORDER BY e.occurred_at DESC)
                                     FILTER (WHERE e.event_type IN ('created', 'status_changed')))[1] AS last_status
                             FROM womgr.work_order_event e
                            WHERE e.tenant_id = w.tenant_id AND e.work_order_id = w.work_order_id) e ON true
            WHERE w.tenant_id = :t
              AND (e.n <> w.version OR e.last <> w.updated_at OR e.last_status <> w.status OR e.last_move <> w.status_changed_at)),
          0, 'the last move gives the status and status_changed_at; version counts the changes, updated_at is the last');
SELECT is((SELECT count(*)::integer
             FROM (SELECT e.from_status, e.occurred_at,
                          lag(e.to_status) OVER (PARTITION BY e.work_order_id ORDER BY e.occurred_at) AS prev_status,
                          lag(e.occurred_at) OVER (PARTITION BY e.work_order_id ORDER BY e.occurred_at) AS prev_at
                     FROM womgr.work_order_event e
                    WHERE e.tenant_id = :t AND e.event_type IN ('created', 'status_changed')) x
            WHERE x.prev_at IS NOT NULL
              AND (x.from_status IS DISTINCT FROM x.prev_status OR x.occurred_at <= x.prev_at OR x.occurred_at >= now())),
          0, 'each move starts where the one before ended, later, and before now');
SELECT is((SELECT count(*)::integer
             FROM womgr.work_order_event e
             JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
             LEFT JOIN womgr.workflow_transition tr
                    ON tr.tenant_id = w.tenant_id AND tr.workflow_id = w.workflow_id
                   AND tr.from_status = e.from_status AND tr.to_status = e.to_status
            WHERE e.tenant_id = :t AND e.event_type = 'status_changed' AND tr.workflow_transition_id IS NULL),
          0, 'every status change is a transition of the work order''s workflow');
SELECT set_eq(format($$SELECT DISTINCT e.from_status || '>' || e.to_status FROM womgr.work_order_event e
                        WHERE e.tenant_id = %s AND e.event_type = 'status_changed'$$, :t),
              ARRAY['new>scheduled', 'scheduled>en_route', 'scheduled>in_progress', 'en_route>in_progress',
                    'in_progress>waiting_parts', 'in_progress>waiting_customer', 'waiting_parts>in_progress',
                    'waiting_customer>in_progress', 'in_progress>completed', 'completed>closed',
                    'new>cancelled', 'scheduled>cancelled'],
              'histories travel, start directly, wait for parts or the customer, resume, complete, close and cancel');
SELECT is((SELECT count(*)::integer
             FROM womgr.work_order_event e
             JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
             JOIN womgr.workflow_transition tr
               ON tr.tenant_id = w.tenant_id AND tr.workflow_id = w.workflow_id
              AND tr.from_status = e.from_status AND tr.to_status = e.to_status
            WHERE e.tenant_id = :t AND e.event_type = 'status_changed'
              AND ((tr.requires_note AND coalesce(btrim(e.details ->> 'note'), '') = '')
                   OR (tr.requires_assignment
                       AND NOT EXISTS (SELECT 1 FROM womgr.assignment a
                                        WHERE a.tenant_id = e.tenant_id AND a.work_order_id = e.work_order_id
                                          AND a.role = 'lead' AND a.assigned_at < e.occurred_at
                                          AND (a.ended_at IS NULL OR a.ended_at > e.occurred_at)))
                   OR ('resolution' = ANY (tr.required_fields) AND w.resolution IS NULL)
                   OR EXISTS (SELECT 1 FROM unnest(tr.required_approvals) AS r(code)
                                JOIN womgr.approval_step st
                                  ON st.tenant_id = tr.tenant_id AND st.workflow_id = tr.workflow_id AND st.code = r.code
                               WHERE (st.min_quoted_amount IS NULL OR w.quoted_amount >= st.min_quoted_amount)
                                 AND NOT EXISTS (SELECT 1 FROM womgr.approval ap
                                                  WHERE ap.tenant_id = e.tenant_id AND ap.work_order_id = e.work_order_id
                                                    AND ap.approval_step_id = st.approval_step_id
                                                    AND ap.status = 'approved' AND ap.decided_at < e.occurred_at)))),
          0, 'every move met its guards: the note, the lead technician, the approvals, the resolution');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
            WHERE w.tenant_id = :t
              AND (SELECT count(*) FROM womgr.assignment a
                    WHERE a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                      AND a.role = 'lead' AND a.ended_at IS NULL)
                  <> CASE WHEN EXISTS (SELECT 1 FROM womgr.work_order_event e
                                        WHERE e.tenant_id = w.tenant_id AND e.work_order_id = w.work_order_id
                                          AND e.to_status = 'scheduled') THEN 1 ELSE 0 END),
          0, 'every work order that was scheduled has exactly one active lead, the others none');
SELECT is((SELECT count(*)::integer FROM womgr.work_order
            WHERE tenant_id = :t AND status NOT IN ('new', 'cancelled')
              AND NOT EXISTS (SELECT 1 FROM womgr.assignment a
                               WHERE a.tenant_id = work_order.tenant_id AND a.work_order_id = work_order.work_order_id
                                 AND a.role = 'lead' AND a.ended_at IS NULL)),
          0, 'every work order past new has a lead technician');
SELECT is((SELECT count(*)::integer FROM womgr.assignment a
             JOIN womgr.work_order w USING (tenant_id, work_order_id)
             JOIN womgr.technician te ON te.tenant_id = a.tenant_id AND te.technician_id = a.technician_id
            WHERE a.tenant_id = :t
              AND (te.home_branch_id <> w.branch_id OR a.assigned_at <= w.created_at OR a.assigned_at >= now()
                   OR a.assigned_by !~ '^[a-z]+\.[a-z]+$' OR upper(a.booked) <= lower(a.booked))),
          0, 'leads come from the work order''s branch, assigned by a dispatcher after the call came in');
SELECT ok((SELECT count(*) FILTER (WHERE booked IS NOT NULL) > 0 AND count(*) FILTER (WHERE booked IS NULL) > 0
             FROM womgr.assignment WHERE tenant_id = :t),
          'most leads are booked for a time, some not');
SELECT is((SELECT count(*)::integer FROM womgr.work_order_event e
             JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
             JOIN womgr.assignment a ON a.tenant_id = e.tenant_id AND a.work_order_id = e.work_order_id AND a.role = 'lead'
             JOIN womgr.technician te ON te.tenant_id = a.tenant_id AND te.technician_id = a.technician_id
            WHERE e.tenant_id = :t
              AND e.to_status IN ('en_route', 'in_progress', 'waiting_parts', 'waiting_customer', 'completed')
              AND e.event_type = 'status_changed' AND e.actor <> te.employee_code),
          0, 'the lead technician travels, starts, pauses and completes the work');
SELECT is((SELECT count(*)::integer FROM womgr.work_order_event e
             JOIN womgr.technician te ON te.tenant_id = e.tenant_id AND te.employee_code = e.actor
             JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
            WHERE e.tenant_id = :t AND te.home_branch_id <> w.branch_id),
          0, 'technicians work on their own branch''s jobs');
SELECT is((SELECT count(*)::integer FROM womgr.work_order
            WHERE tenant_id = :t AND (status IN ('completed', 'closed')) <> (resolution IS NOT NULL)),
          0, 'completed and closed work has a resolution, open work none yet');
SELECT is((SELECT count(*)::integer FROM womgr.work_order w
            WHERE w.tenant_id = :t AND w.quoted_amount >= 100000.0 AND w.category IN ('in_progress', 'on_hold', 'completed', 'closed')
              AND NOT EXISTS (SELECT 1 FROM womgr.approval ap
                               WHERE ap.tenant_id = w.tenant_id AND ap.work_order_id = w.work_order_id AND ap.status = 'approved')),
          0, 'work quoted at KES 100,000 or more was approved before it started');
SELECT ok((SELECT count(*) FILTER (WHERE status = 'approved') > 0 AND count(*) FILTER (WHERE decided_by IS NULL) = count(*) FILTER (WHERE status = 'pending')
             FROM womgr.approval WHERE tenant_id = :t),
          'approvals granted by a manager; the undecided ones pending');

-- Proof of completion: photos and signatures taken at the site before completion.
SELECT set_eq(format('SELECT DISTINCT kind FROM womgr.attachment WHERE tenant_id = %s', :t),
              ARRAY['photo_before', 'photo_after', 'signature'], 'before- and after-photos and signatures');
SELECT ok((SELECT count(DISTINCT a.work_order_id) FILTER (WHERE a.kind = 'photo_after')
                  > (SELECT count(*) FROM womgr.work_order WHERE tenant_id = :t AND status IN ('completed', 'closed')) / 2
             FROM womgr.attachment a WHERE a.tenant_id = :t),
          'most completed work has after-photos');
SELECT is((SELECT count(*)::integer FROM womgr.attachment a
             JOIN womgr.work_order w USING (tenant_id, work_order_id)
             JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
            WHERE a.tenant_id = :t
              AND (w.status NOT IN ('completed', 'closed') OR a.location IS NULL
                   OR NOT ST_DWithin(a.location, s.location, 100)
                   OR a.captured_at > a.created_at OR a.created_at >= w.status_changed_at
                   OR (a.kind = 'signature') <> (a.signed_by IS NOT NULL)
                   OR length(a.content_hash) <> 32 OR a.size_bytes <= 0
                   OR a.mime_type !~ '^image/' OR a.storage_uri !~ '^s3://'
                   OR NOT EXISTS (SELECT 1 FROM womgr.assignment l JOIN womgr.technician te USING (tenant_id, technician_id)
                                   WHERE l.tenant_id = a.tenant_id AND l.work_order_id = a.work_order_id
                                     AND l.role = 'lead' AND te.employee_code = a.uploaded_by))),
          0, 'attachments: taken within 100 m of the site by the lead, uploaded before completion, signatures signed');
SELECT is((SELECT count(*)::integer FROM womgr.attachment a
            WHERE a.tenant_id = :t
              AND NOT EXISTS (SELECT 1 FROM womgr.work_order_event e
                               WHERE e.tenant_id = a.tenant_id AND e.work_order_id = a.work_order_id
                                 AND e.event_type = 'attachment_added' AND e.occurred_at = a.created_at
                                 AND (e.details ->> 'attachment_id')::bigint = a.attachment_id
                                 AND e.details ->> 'sha256' = encode(a.content_hash, 'hex'))),
          0, 'every attachment has its attachment_added event');
SELECT is((SELECT count(*)::integer FROM womgr.outbox WHERE tenant_id = :t), 0,
          'the generated history is past: it writes no outbox rows');

-- What dispatch needs: shifts, ratings, preferred technicians, GPS pings,
-- the policy, and the Nairobi branch's morning queue on its next working day
-- (tomorrow in Nairobi, Monday when tomorrow is a Sunday).
SELECT (now() AT TIME ZONE 'Africa/Nairobi')::date AS today_nbo \gset
SELECT :'today_nbo'::date + CASE WHEN extract(isodow FROM :'today_nbo'::date + 1) = 7 THEN 2 ELSE 1 END AS qday \gset
SELECT branch_id AS nbo FROM womgr.branch WHERE tenant_id = :t AND code = 'NBO' \gset
SELECT set_eq(format('SELECT name FROM womgr.calendar WHERE tenant_id = %s', :t),
              ARRAY['Nairobi day shift', 'Nairobi late shift', 'Mombasa day shift', 'Mombasa late shift',
                    'Kisumu day shift', 'Kisumu late shift'], 'a day and a late shift calendar per branch');
SELECT results_eq(format($$SELECT v.timezone, v.hours -> 'mon', v.hours -> 'sat', v.hours ? 'sun'
                             FROM womgr.calendar k JOIN womgr.calendar_version v USING (tenant_id, calendar_id)
                            WHERE k.tenant_id = %s AND k.name LIKE 'Nairobi%%' ORDER BY k.name$$, :t),
                  $$VALUES ('Africa/Nairobi', '[["08:00", "17:00"]]'::jsonb, '[["08:00", "13:00"]]'::jsonb, false),
                           ('Africa/Nairobi', '[["11:00", "20:00"]]'::jsonb, '[["11:00", "20:00"]]'::jsonb, false)$$,
                  'day shift 08:00-17:00 and Saturday mornings, late shift 11:00-20:00, Sundays off, in Nairobi time');
SELECT is((SELECT count(*)::integer FROM womgr.technician t
             JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
             LEFT JOIN womgr.calendar k ON k.tenant_id = t.tenant_id AND k.calendar_id = t.calendar_id
            WHERE t.tenant_id = :t
              AND k.name IS DISTINCT FROM (CASE b.code WHEN 'NBO' THEN 'Nairobi' WHEN 'MSA' THEN 'Mombasa' ELSE 'Kisumu' END)
                                          || CASE WHEN k.name LIKE '%late%' THEN ' late shift' ELSE ' day shift' END),
          0, 'every technician works a shift of their own branch');
SELECT ok((SELECT count(*) FILTER (WHERE k.name LIKE '%late shift') BETWEEN 6 AND 20
             FROM womgr.technician t JOIN womgr.calendar k USING (tenant_id, calendar_id) WHERE t.tenant_id = :t),
          'some technicians work the late shift');
SELECT ok((SELECT count(rating) BETWEEN 42 AND 57 AND min(rating) >= 2.5 AND max(rating) <= 5.0
             FROM womgr.technician WHERE tenant_id = :t),
          'most technicians have a rating of 2.5 to 5 stars');
SELECT ok((SELECT count(DISTINCT p.customer_id) BETWEEN 12 AND 50
                  AND count(*) FILTER (WHERE NOT t.active OR t.home_branch_id <> c.branch_id OR p.created_at >= now()) = 0
             FROM womgr.preferred_technician p
             JOIN womgr.customer c ON c.tenant_id = p.tenant_id AND c.customer_id = p.customer_id
             JOIN womgr.technician t ON t.tenant_id = p.tenant_id AND t.technician_id = p.technician_id
            WHERE p.tenant_id = :t),
          'some customers prefer an active technician of their branch');
SELECT results_eq(format($$SELECT branch_id IS NULL, w_travel, w_skill_fit, w_workload, w_sla, w_preferred, w_rating
                             FROM womgr.dispatch_policy WHERE tenant_id = %s$$, :t),
                  $$VALUES (true, 0.40::float8, 0.10::float8, 0.20::float8, 0.15::float8, 0.10::float8, 0.05::float8)$$,
                  'the seeded dispatch policy, as it comes');
SELECT is((SELECT count(DISTINCT l.technician_id)::integer FROM womgr.technician_location l
             JOIN womgr.technician t ON t.tenant_id = l.tenant_id AND t.technician_id = l.technician_id
            WHERE l.tenant_id = :t AND t.active AND t.home_branch_id = :nbo), 6,
          'six Nairobi technicians sent GPS pings');
SELECT is((SELECT count(*)::integer FROM womgr.technician t
             JOIN LATERAL (SELECT l.location, l.recorded_at, l.received_at FROM womgr.technician_location l
                            WHERE l.tenant_id = t.tenant_id AND l.technician_id = t.technician_id
                            ORDER BY l.recorded_at DESC LIMIT 1) l ON true
             JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
            WHERE t.tenant_id = :t
              AND t.last_location::geometry = l.location::geometry AND t.last_location_at = l.recorded_at
              AND l.recorded_at BETWEEN now() - interval '6 minutes' AND now() - interval '2 minutes'
              AND l.received_at BETWEEN l.recorded_at AND now() AND ST_DWithin(l.location, b.location, 25000)
              AND (SELECT count(*) FROM womgr.technician_location x
                    WHERE x.tenant_id = t.tenant_id AND x.technician_id = t.technician_id
                      AND x.recorded_at >= now() - interval '16 minutes') = 3),
          6, 'their position is the last of three pings in the last quarter hour, in Nairobi, minutes old');
SELECT is((SELECT count(*)::integer FROM womgr.technician WHERE tenant_id = :t AND last_location IS NOT NULL), 6,
          'nobody else has a position besides home');
CREATE TEMP TABLE queue_check AS
SELECT w.*, ty.code AS type, ty.estimated_duration
  FROM womgr.work_order w
  JOIN womgr.work_order_type ty ON ty.tenant_id = w.tenant_id AND ty.work_order_type_id = w.work_order_type_id
 WHERE w.tenant_id = :t AND w.branch_id = :nbo AND w.status = 'new'
   AND w.requested_window && tstzrange(:'qday'::timestamp AT TIME ZONE 'Africa/Nairobi',
                                       (:'qday'::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi');
SELECT is((SELECT count(*)::integer FROM queue_check), 24, 'a queue of 24 new Nairobi work orders asks for the queue day');
SELECT is((SELECT count(*)::integer FROM queue_check q
            WHERE (lower(q.requested_window) AT TIME ZONE 'Africa/Nairobi')::time < '08:00'
               OR upper(q.requested_window) > (:'qday'::date + time '13:00') AT TIME ZONE 'Africa/Nairobi'
               OR upper(q.requested_window) - lower(q.requested_window) < q.estimated_duration + interval '1 hour'
               OR (q.created_at AT TIME ZONE 'Africa/Nairobi')::date <> :'today_nbo'::date - 1
               OR EXISTS (SELECT 1 FROM womgr.assignment a WHERE a.tenant_id = q.tenant_id AND a.work_order_id = q.work_order_id)
               OR EXISTS (SELECT 1 FROM womgr.work_order x WHERE x.tenant_id = q.tenant_id AND x.branch_id = q.branch_id
                                                              AND x.created_at > q.created_at
                                                              AND x.work_order_id NOT IN (SELECT work_order_id FROM queue_check))),
          0, 'each asks for a window of the morning (08:00-13:00) an hour longer than the job; they came in yesterday, last, and nobody is assigned');
SELECT is((SELECT count(*)::integer FROM queue_check q
            WHERE (SELECT count(*) FROM womgr.technician te
                    WHERE te.tenant_id = q.tenant_id AND te.active AND te.home_branch_id = q.branch_id
                      AND NOT EXISTS (SELECT 1 FROM womgr.work_order_type_skill r
                                       WHERE r.tenant_id = q.tenant_id AND r.work_order_type_id = q.work_order_type_id
                                         AND NOT EXISTS (SELECT 1 FROM womgr.technician_skill ts
                                                          WHERE ts.tenant_id = te.tenant_id AND ts.technician_id = te.technician_id
                                                            AND ts.skill_id = r.skill_id AND ts.level >= r.min_level
                                                            AND (ts.certified_until IS NULL OR ts.certified_until >= :'qday'::date)))) < 2),
          0, 'at least two active Nairobi technicians are certified for each queued job');
SELECT ok((SELECT count(DISTINCT type) >= 5 AND count(DISTINCT customer_id) >= 12 FROM queue_check),
          'the queue mixes types and customers');
SELECT is((SELECT count(*)::integer FROM womgr.assignment a
             JOIN womgr.technician te ON te.tenant_id = a.tenant_id AND te.technician_id = a.technician_id
            WHERE a.tenant_id = :t AND te.home_branch_id = :nbo AND a.ended_at IS NULL AND a.booked IS NOT NULL
              AND womgr._busy(a.booked, a.travel_s) && tstzrange(:'qday'::timestamp AT TIME ZONE 'Africa/Nairobi',
                                                                (:'qday'::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi')),
          0, 'no Nairobi technician is booked on the queue day yet: the plan starts from an empty day');
SELECT is((SELECT count(*)::integer FROM womgr.work_order
            WHERE tenant_id = :t AND status = 'new' AND requested_window IS NULL),
          0, 'work still new has a requested window (so nothing else is planned on the queue day)');
SELECT is((SELECT count(*)::integer FROM womgr.technician_skill ts
             JOIN womgr.technician te ON te.tenant_id = ts.tenant_id AND te.technician_id = ts.technician_id
            WHERE ts.tenant_id = :t AND te.home_branch_id = :nbo AND ts.certified_until = :'today_nbo'::date + 1),
          0, 'no Nairobi certification runs out tomorrow (so the queue day sees the same technicians on any weekday)');

-- The counters carry on where the generator stopped.
SELECT womgr.create_work_order(:t, jsonb_build_object(
           'customer_id', c.customer_id,
           'site_id', (SELECT min(s.site_id) FROM womgr.site s WHERE s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id),
           'type', 'repair', 'description', 'Gate motor jammed')) AS next_wo
  FROM womgr.customer c WHERE c.tenant_id = :t AND c.account_code = 'C0000001' \gset
SELECT is((SELECT split_part(w.number, '-', 4)::integer FROM womgr.work_order w WHERE w.tenant_id = :t AND w.work_order_id = :next_wo),
          (SELECT count(*)::integer FROM womgr.work_order w
            WHERE w.tenant_id = :t AND w.branch_id = (SELECT x.branch_id FROM womgr.work_order x
                                                       WHERE x.tenant_id = :t AND x.work_order_id = :next_wo)),
          'a work order created afterwards takes the next number of its branch');

-- Deterministic: the same seed gives the same company, another seed another.
SELECT womgr.demo_generate(300, 42) AS t2 \gset
SELECT womgr.demo_generate(300, 43) AS t3 \gset
SELECT isnt((SELECT code FROM womgr.tenant WHERE tenant_id = :t2), (SELECT code FROM womgr.tenant WHERE tenant_id = :t),
            'a second call with the same seed makes a second tenant');
SELECT is(pg_temp.demo_digest(:t2), :'digest_first', 'the same seed gives the same company');
SELECT isnt(pg_temp.demo_digest(:t3), :'digest_first', 'another seed gives another company');

-- ---------------------------------------------------------------------------
-- The dispatch chapter of the demo (test/demo.sql tells the same story on
-- the 5000-work-order company), on the second seed-42 company: Grace Wanjiku
-- (dispatcher) plans the Nairobi branch's morning queue.  Jobs are called Q01
-- to Q24 in the order they came in (work order numbers carry the year), and
-- every time is a local time of day on the queue day.
-- ---------------------------------------------------------------------------
SET LOCAL timezone = 'Africa/Nairobi';
SELECT branch_id AS nbo2 FROM womgr.branch WHERE tenant_id = :t2 AND code = 'NBO' \gset
SELECT womgr.set_context(:t2, 'grace.wanjiku', NULL, 'dispatcher') AS ignored \gset
CREATE TEMP TABLE job_label (work_order_id bigint PRIMARY KEY, job text NOT NULL);
INSERT INTO job_label
SELECT w.work_order_id, 'Q' || lpad((row_number() OVER (ORDER BY w.created_at, w.work_order_id))::text, 2, '0')
  FROM womgr.work_order w
 WHERE w.tenant_id = :t2 AND w.branch_id = :nbo2 AND w.status = 'new'
   AND w.requested_window && tstzrange(:'qday'::timestamp AT TIME ZONE 'Africa/Nairobi',
                                       (:'qday'::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi');
CREATE FUNCTION pg_temp.job(bigint) RETURNS text LANGUAGE sql STABLE
    RETURN (SELECT j.job FROM job_label j WHERE j.work_order_id = $1);
CREATE FUNCTION pg_temp.hm(timestamptz) RETURNS text LANGUAGE sql STABLE
    RETURN to_char($1 AT TIME ZONE 'Africa/Nairobi', 'HH24:MI');
CREATE FUNCTION pg_temp.tech(bigint) RETURNS text LANGUAGE sql STABLE
    RETURN (SELECT t.name FROM womgr.technician t WHERE t.technician_id = $1);
\pset format aligned
\pset tuples_only off

\echo
\echo == The morning queue of the Nairobi branch for its next working day (requests from yesterday evening)
SELECT j.job, t.code AS type, p.code AS priority,
       pg_temp.hm(lower(w.requested_window)) || '-' || pg_temp.hm(upper(w.requested_window)) AS window,
       c.name AS customer, s.name AS site
  FROM job_label j
  JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = j.work_order_id
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
  JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
 ORDER BY j.job;

-- The job to match: one a technician the customer knows (preferred, or who
-- worked for them before) can take, with the most candidates.
SELECT j.work_order_id AS mjob, j.job AS mjob_label, t.code AS mjob_type, s.name AS mjob_site,
       pg_temp.hm(lower(w.requested_window)) || '-' || pg_temp.hm(upper(w.requested_window)) AS mjob_window
  FROM job_label j
  JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = j.work_order_id
  JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
  JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
 ORDER BY EXISTS (SELECT 1 FROM womgr.match_technicians(:t2, j.work_order_id, 5) m WHERE m.reasons -> 'preferred' ? 'why') DESC,
          (SELECT count(*) FROM womgr.match_technicians(:t2, j.work_order_id, 50)) DESC, j.job
 LIMIT 1 \gset
\echo
\echo == :mjob_label, :mjob_type at :mjob_site (window :mjob_window): the five best technicians (womgr.match_technicians)
SELECT m.rank, te.name AS technician, round(m.score::numeric, 3) AS score,
       round(m.travel_minutes::numeric, 1) AS travel_min, m.reasons ->> 'position' AS travels_from,
       pg_temp.hm((m.reasons ->> 'start_at')::timestamptz) AS earliest,
       (SELECT string_agg(format('%s %s (min %s)', k ->> 'skill', k ->> 'level', k ->> 'min_level'), ', ')
          FROM jsonb_array_elements(m.reasons -> 'skill_fit' -> 'skills') k) AS skills,
       coalesce(m.reasons -> 'preferred' ->> 'why', '') AS preferred,
       coalesce(m.reasons -> 'rating' ->> 'rating', 'unrated') AS rating
  FROM womgr.match_technicians(:t2, :mjob, 5) m
  JOIN womgr.technician te ON te.tenant_id = :t2 AND te.technician_id = m.technician_id
 ORDER BY m.rank;
\pset format unaligned
\pset tuples_only true
SELECT ok((SELECT bool_and(m.score <= coalesce(m.prev, 1)) AND count(*) = 5
                  AND count(*) FILTER (WHERE m.reasons -> 'preferred' ? 'why') >= 1
                  AND bool_and((m.reasons ->> 'start_at')::timestamptz BETWEEN lower(w.requested_window) AND upper(w.requested_window))
             FROM (SELECT x.*, lag(x.score) OVER (ORDER BY x.rank) AS prev
                     FROM womgr.match_technicians(:t2, :mjob, 5) x) m
             JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = :mjob),
          'five matches, best score first, one the customer knows among them, each starting inside the window');
\pset format aligned
\pset tuples_only off

\echo == Planning the morning with womgr.plan_dispatch(p_commit => false): the plan of the solver next to
\echo == greedy (nearest qualified technician, most urgent job first); nothing is booked yet
CREATE TEMP TABLE plan_dry AS
SELECT row_number() OVER () AS i, p.* FROM womgr.plan_dispatch(:t2, :nbo2, :'qday', false) p;
SELECT pg_temp.job(p.work_order_id) AS job, pr.code AS priority,
       pg_temp.hm(lower(w.requested_window)) || '-' || pg_temp.hm(upper(w.requested_window)) AS window,
       coalesce(pg_temp.tech(p.technician_id), '-') AS solver,
       coalesce(pg_temp.hm(p.start_at) || '-' || pg_temp.hm(p.finish_at), '') AS booked,
       round(p.travel_minutes::numeric, 1) AS travel_min,
       coalesce(pg_temp.tech(p.greedy_technician_id), '-') AS greedy,
       coalesce(pg_temp.hm(p.greedy_start_at), '') AS greedy_start,
       round(p.greedy_travel_minutes::numeric, 1) AS greedy_travel_min
  FROM plan_dry p
  JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = p.work_order_id
  JOIN womgr.priority pr ON pr.tenant_id = w.tenant_id AND pr.priority_id = w.priority_id
 ORDER BY p.i;
\echo == The totals
SELECT max(jobs_total) AS jobs, max(jobs_placed) AS solver_placed, count(DISTINCT technician_id) AS solver_technicians,
       round(max(total_travel_minutes)::numeric, 1) AS solver_travel_min,
       round((max(total_travel_minutes) / nullif(max(jobs_placed), 0))::numeric, 1) AS solver_min_per_job,
       max(greedy_jobs_placed) AS greedy_placed, count(DISTINCT greedy_technician_id) AS greedy_technicians,
       round(max(greedy_total_travel_minutes)::numeric, 1) AS greedy_travel_min,
       round((max(greedy_total_travel_minutes) / nullif(max(greedy_jobs_placed), 0))::numeric, 1) AS greedy_min_per_job,
       round((100 * (max(greedy_total_travel_minutes) - max(total_travel_minutes)) / max(greedy_total_travel_minutes))::numeric, 1)
           AS travel_saving_pct
  FROM plan_dry;
\pset format unaligned
\pset tuples_only true
SELECT is((SELECT count(*)::integer FROM womgr.assignment a JOIN job_label j USING (work_order_id) WHERE a.tenant_id = :t2), 0,
          'the dry run books nothing');
SELECT ok((SELECT max(jobs_total) = 24 AND max(jobs_placed) >= 20 AND max(greedy_jobs_placed) >= 20 FROM plan_dry),
          'the plan takes the 24 queued jobs and places most of them');
SELECT is((SELECT count(*)::integer FROM plan_dry p
             JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = p.work_order_id
            WHERE p.start_at < lower(w.requested_window) OR p.finish_at > upper(w.requested_window)
               OR p.greedy_start_at < lower(w.requested_window) OR p.travel_minutes NOT BETWEEN 0 AND 120
               OR p.greedy_travel_minutes NOT BETWEEN 0 AND 120),
          0, 'both plans start every job inside its window after at most two hours on the road');
SELECT is((SELECT count(*)::integer FROM plan_dry a JOIN plan_dry b ON b.technician_id = a.technician_id AND b.i > a.i
            WHERE tstzrange(a.start_at - make_interval(secs => a.travel_minutes * 60), a.finish_at)
                  && tstzrange(b.start_at - make_interval(secs => b.travel_minutes * 60), b.finish_at)),
          0, 'the solver never gives a technician two jobs at once (travel included)');
\pset format aligned
\pset tuples_only off

\echo == Grace commits the plan: plan_dispatch(..., p_commit => true) books the jobs and schedules them
CREATE TEMP TABLE plan_done AS
SELECT row_number() OVER () AS i, p.* FROM womgr.plan_dispatch(:t2, :nbo2, :'qday', true) p;
SELECT w.status, count(*) AS jobs, count(a.assignment_id) AS booked_leads
  FROM job_label j
  JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = j.work_order_id
  LEFT JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                              AND a.role = 'lead' AND a.ended_at IS NULL AND a.booked IS NOT NULL
 GROUP BY w.status ORDER BY w.status;
\pset format unaligned
\pset tuples_only true
SELECT is((SELECT count(*)::integer FROM plan_done d JOIN plan_dry p USING (i)
            WHERE d.work_order_id <> p.work_order_id OR d.technician_id IS DISTINCT FROM p.technician_id
               OR d.start_at IS DISTINCT FROM p.start_at OR d.travel_minutes IS DISTINCT FROM p.travel_minutes),
          0, 'the committed plan is the plan of the dry run');
SELECT is((SELECT count(*)::integer FROM plan_done p
             JOIN womgr.work_order w ON w.tenant_id = :t2 AND w.work_order_id = p.work_order_id
             LEFT JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                                         AND a.role = 'lead' AND a.ended_at IS NULL
            WHERE (p.technician_id IS NULL) <> (w.status = 'new')
               OR (p.technician_id IS NOT NULL
                   AND (a.technician_id IS DISTINCT FROM p.technician_id
                        OR a.booked IS DISTINCT FROM tstzrange(p.start_at, p.finish_at)
                        OR a.travel_s <> round(p.travel_minutes * 60) OR a.assigned_by <> 'grace.wanjiku'))),
          0, 'each placed job is scheduled with its lead booked as planned, the others stay new');
SELECT is((SELECT count(*)::integer FROM womgr.assignment a
             JOIN womgr.assignment b ON b.tenant_id = a.tenant_id AND b.technician_id = a.technician_id
                                    AND b.assignment_id > a.assignment_id
            WHERE a.tenant_id = :t2 AND a.ended_at IS NULL AND b.ended_at IS NULL
              AND a.booked IS NOT NULL AND b.booked IS NOT NULL
              AND womgr._busy(a.booked, a.travel_s) && womgr._busy(b.booked, b.travel_s)),
          0, 'no technician of the company is booked twice at once');
SELECT is((SELECT count(*)::integer FROM womgr.assignment a
             JOIN job_label j USING (work_order_id)
             JOIN womgr.technician te ON te.tenant_id = a.tenant_id AND te.technician_id = a.technician_id
            WHERE a.tenant_id = :t2 AND a.ended_at IS NULL
              AND womgr.business_time_between(:t2, te.calendar_id, lower(womgr._busy(a.booked, a.travel_s)), upper(a.booked))
                  <> upper(a.booked) - lower(womgr._busy(a.booked, a.travel_s))),
          0, 'every booking, the drive to it included, lies inside the technician''s shift');
\pset format aligned
\pset tuples_only off

-- The emergency.  womgr.dispatch_emergency() dispatches as of now; the demo
-- replays a call that comes in at 10:00 on the queue day with p_at.
SELECT s.site_id AS esite, s.customer_id AS ecust, c.name AS ecust_name, s.name AS esite_name
  FROM womgr.site s JOIN womgr.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
 WHERE s.tenant_id = :t2 AND s.branch_id = :nbo2 AND c.kind = 'business' AND s.name LIKE '%, Kilimani'
   AND s.site_id NOT IN (SELECT w.site_id FROM womgr.work_order w JOIN job_label j USING (work_order_id) WHERE w.tenant_id = :t2)
 ORDER BY c.account_code, s.site_id
 LIMIT 1 \gset
\echo == 10:00 :ecust_name (:esite_name) calls: burning smell from the distribution board.
\echo == Grace creates an emergency work order and calls womgr.dispatch_emergency()
SELECT womgr.create_work_order(:t2, jsonb_build_object(
           'customer_id', :ecust, 'site_id', :esite, 'type', 'electrical_fault', 'priority', 'emergency',
           'description', 'Burning smell from the distribution board; the cold room is off')) AS ejob \gset
INSERT INTO job_label VALUES (:ejob, 'EMERGENCY');
CREATE TEMP TABLE em AS SELECT * FROM womgr.dispatch_emergency(:t2, :ejob, p_at => (:'qday'::date + time '10:00') AT TIME ZONE 'Africa/Nairobi');
SELECT pg_temp.tech(em.technician_id) AS booked_technician, pg_temp.hm(em.start_at) AS start,
       round(em.travel_minutes::numeric, 1) AS travel_min,
       coalesce((SELECT string_agg(pg_temp.job(b), ', ') FROM unnest(em.bumped_work_order_ids) b), '-') AS bumped
  FROM em;
SELECT technician_id AS etech, pg_temp.tech(technician_id) AS etech_name,
       (SELECT b FROM unnest(bumped_work_order_ids) b LIMIT 1) AS bjob
  FROM em \gset
\echo == The bumped job is back in the queue: its booking ended, it has a bumped event and is new again
SELECT pg_temp.job(e.work_order_id) AS job, e.event_type AS event, pg_temp.tech((e.details ->> 'technician_id')::bigint) AS technician,
       pg_temp.hm(lower((e.details ->> 'booked')::tstzrange)) || '-' || pg_temp.hm(upper((e.details ->> 'booked')::tstzrange)) AS was_booked,
       pg_temp.job((e.details ->> 'by_work_order_id')::bigint) AS bumped_by, w.status AS status_now,
       (SELECT count(*) FROM womgr.assignment a WHERE a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                                                  AND a.ended_at IS NULL) AS active_assignments
  FROM womgr.work_order_event e
  JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
 WHERE e.tenant_id = :t2 AND e.event_type = 'bumped'
 ORDER BY e.work_order_event_id;
\echo == Grace plans what is left of the morning again (womgr.plan_dispatch, committed)
SELECT pg_temp.job(p.work_order_id) AS job,
       coalesce(pg_temp.tech(p.technician_id), '-') AS technician,
       coalesce(pg_temp.hm(p.start_at) || '-' || pg_temp.hm(p.finish_at), '') AS booked,
       round(p.travel_minutes::numeric, 1) AS travel_min
  FROM womgr.plan_dispatch(:t2, :nbo2, :'qday', true, p_at => (:'qday'::date + time '10:00') AT TIME ZONE 'Africa/Nairobi') p
 ORDER BY pg_temp.job(p.work_order_id);
SELECT coalesce((SELECT a.technician_id FROM womgr.assignment a
                  WHERE a.tenant_id = :t2 AND a.work_order_id = :bjob AND a.ended_at IS NULL AND a.technician_id <> :etech),
                (SELECT a.technician_id FROM womgr.assignment a JOIN job_label j USING (work_order_id)
                  WHERE a.tenant_id = :t2 AND a.ended_at IS NULL AND a.technician_id <> :etech
                  GROUP BY a.technician_id ORDER BY count(*) DESC, a.technician_id LIMIT 1)) AS rtech \gset
SELECT pg_temp.tech(:rtech) AS rtech_name \gset
\pset format unaligned
\pset tuples_only true
SELECT is((SELECT w.status || ' ' || pg_temp.hm(lower(a.booked)) FROM womgr.work_order w
             JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id
                                    AND a.role = 'lead' AND a.ended_at IS NULL
            WHERE w.tenant_id = :t2 AND w.work_order_id = :ejob),
          (SELECT 'scheduled ' || pg_temp.hm(start_at) FROM em), 'the emergency is booked and scheduled');
SELECT ok((SELECT start_at >= (:'qday'::date + time '10:00') AT TIME ZONE 'Africa/Nairobi'
                  AND start_at < (:'qday'::date + time '11:00') AT TIME ZONE 'Africa/Nairobi' FROM em),
          'the technician arrives soon after the call');
SELECT ok((SELECT cardinality(bumped_work_order_ids) = 1 FROM em)
          AND EXISTS (SELECT 1 FROM womgr.work_order_event e
                       WHERE e.tenant_id = :t2 AND e.work_order_id = :bjob AND e.event_type = 'bumped'
                         AND (e.details ->> 'by_work_order_id')::bigint = :ejob)
          AND EXISTS (SELECT 1 FROM womgr.work_order_event e
                       WHERE e.tenant_id = :t2 AND e.work_order_id = :ejob AND e.event_type = 'emergency_dispatched'
                         AND e.details -> 'bumped_work_order_ids' = to_jsonb(ARRAY[:bjob]::bigint[])),
          'one booking was bumped, and both work orders tell it');
SELECT ok(EXISTS (SELECT 1 FROM womgr.assignment a
                   WHERE a.tenant_id = :t2 AND a.work_order_id = :bjob AND a.ended_at IS NULL AND a.technician_id <> :etech),
          'the bumped job is booked again, with someone else');
\pset format aligned
\pset tuples_only off

\echo == The day of :etech_name (womgr.day_route): the stops in order, with ETAs, and the way home
SELECT r.stop_no AS stop, coalesce(pg_temp.job(r.work_order_id), '') AS job, coalesce(r.site, '') AS site,
       coalesce(pg_temp.hm(lower(r.booked)) || '-' || pg_temp.hm(upper(r.booked)), '') AS booked,
       pg_temp.hm(r.arrive_at) AS arrive, coalesce(pg_temp.hm(r.start_at), '') AS start, coalesce(pg_temp.hm(r.finish_at), '') AS finish,
       round(r.travel_minutes::numeric, 1) AS travel_min, round(r.distance_km::numeric, 1) AS km,
       round(r.wait_minutes::numeric) AS wait_min, round(r.late_minutes::numeric) AS late_min,
       round(r.total_travel_minutes::numeric, 1) AS total_travel_min, round(r.total_distance_km::numeric, 1) AS total_km
  FROM womgr.day_route(:t2, :etech, :'qday') r ORDER BY r.stop_no;
\echo == The day of :rtech_name
SELECT r.stop_no AS stop, coalesce(pg_temp.job(r.work_order_id), '') AS job, coalesce(r.site, '') AS site,
       coalesce(pg_temp.hm(lower(r.booked)) || '-' || pg_temp.hm(upper(r.booked)), '') AS booked,
       pg_temp.hm(r.arrive_at) AS arrive, coalesce(pg_temp.hm(r.start_at), '') AS start, coalesce(pg_temp.hm(r.finish_at), '') AS finish,
       round(r.travel_minutes::numeric, 1) AS travel_min, round(r.distance_km::numeric, 1) AS km,
       round(r.wait_minutes::numeric) AS wait_min, round(r.late_minutes::numeric) AS late_min,
       round(r.total_travel_minutes::numeric, 1) AS total_travel_min, round(r.total_distance_km::numeric, 1) AS total_km
  FROM womgr.day_route(:t2, :rtech, :'qday') r ORDER BY r.stop_no;
\pset format unaligned
\pset tuples_only true
SELECT is((SELECT count(*)::integer FROM unnest(ARRAY[:etech, :rtech]::bigint[]) AS x(tech)
            WHERE (SELECT array_agg(r.work_order_id ORDER BY r.work_order_id) FILTER (WHERE r.work_order_id IS NOT NULL)
                     FROM womgr.day_route(:t2, x.tech, :'qday') r)
                  IS DISTINCT FROM
                  (SELECT array_agg(a.work_order_id ORDER BY a.work_order_id) FROM womgr.assignment a
                    WHERE a.tenant_id = :t2 AND a.technician_id = x.tech AND a.ended_at IS NULL AND a.booked IS NOT NULL
                      AND lower(a.booked) >= :'qday'::timestamp AT TIME ZONE 'Africa/Nairobi'
                      AND lower(a.booked) < (:'qday'::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi')),
          0, 'each route visits every booking of the technician that day once');
SELECT is((SELECT count(*)::integer FROM unnest(ARRAY[:etech, :rtech]::bigint[]) AS x(tech)
            CROSS JOIN LATERAL (SELECT r.*, count(*) OVER () AS n, sum(r.travel_minutes) OVER () AS legs
                                  FROM womgr.day_route(:t2, x.tech, :'qday') r) r
            WHERE r.late_minutes <> 0 OR r.arrive_at > r.start_at OR r.finish_at < r.start_at
               OR (r.stop_no = r.n AND (r.work_order_id IS NOT NULL OR abs(r.total_travel_minutes - r.legs) > 1e-6))),
          0, 'nobody arrives late, each stop starts on arrival or later, the day ends at home with the travel added up');

SELECT * FROM finish();
ROLLBACK;
