-- demo: womgr.demo_generate() builds a coherent Kenyan service company —
-- branches at the real coordinates, skills, technicians, customers, sites,
-- assets, work orders in every status of the standard workflow with lead
-- technicians, approvals, proof of completion and a history that only takes
-- the workflow's transitions — the same one for the same seed, and refuses
-- bad arguments.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT plan(70);

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
                                        WHERE ts.tenant_id = t.tenant_id AND ts.technician_id = t.technician_id))
      FROM womgr.technician t JOIN womgr.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
     WHERE t.tenant_id = p_tenant
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

SELECT * FROM finish();
ROLLBACK;
