-- demo: womgr.demo_generate() builds a coherent Kenyan service company —
-- branches at the real coordinates, skills, technicians, customers, sites,
-- assets, work orders of every status with their history — the same one for
-- the same seed, and refuses bad arguments.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT plan(54);

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
                                      w.status, w.category, w.requested_window, w.description, w.restricted,
                                      w.version, w.source, w.external_ref, w.created_by, w.created_at, w.updated_at)
      FROM womgr.work_order w
      JOIN womgr.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id
      JOIN womgr.customer c ON c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id
      JOIN womgr.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
      LEFT JOIN womgr.asset a ON a.tenant_id = w.tenant_id AND a.asset_id = w.asset_id
      JOIN womgr.work_order_type t ON t.tenant_id = w.tenant_id AND t.work_order_type_id = w.work_order_type_id
      JOIN womgr.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
     WHERE w.tenant_id = p_tenant
    UNION ALL
    SELECT 'event ' || concat_ws('|', w.number, e.event_type, e.from_status, e.to_status, e.actor, e.occurred_at, e.details)
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
              ARRAY['new', 'scheduled', 'in_progress', 'on_hold', 'completed', 'closed', 'cancelled'],
              'every status is present');
SELECT is((SELECT count(*)::integer FROM womgr.work_order WHERE tenant_id = :t AND category::text <> status),
          0, 'the category is the status');
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
             JOIN LATERAL (SELECT count(*) AS n, max(e.occurred_at) AS last,
                                  (array_agg(e.to_status ORDER BY e.occurred_at DESC))[1] AS last_status
                             FROM womgr.work_order_event e
                            WHERE e.tenant_id = w.tenant_id AND e.work_order_id = w.work_order_id) e ON true
            WHERE w.tenant_id = :t AND (e.n <> w.version OR e.last <> w.updated_at OR e.last_status <> w.status)),
          0, 'the last event gives the status and updated_at; version counts the events');
SELECT is((SELECT count(*)::integer
             FROM (SELECT e.from_status, e.occurred_at,
                          lag(e.to_status) OVER (PARTITION BY e.work_order_id ORDER BY e.occurred_at) AS prev_status,
                          lag(e.occurred_at) OVER (PARTITION BY e.work_order_id ORDER BY e.occurred_at) AS prev_at
                     FROM womgr.work_order_event e WHERE e.tenant_id = :t) x
            WHERE x.prev_at IS NOT NULL
              AND (x.from_status IS DISTINCT FROM x.prev_status OR x.occurred_at <= x.prev_at OR x.occurred_at >= now())),
          0, 'each event starts where the one before ended, later, and before now');
SELECT is((SELECT count(*)::integer FROM womgr.work_order_event e
             JOIN womgr.technician te ON te.tenant_id = e.tenant_id AND te.employee_code = e.actor
             JOIN womgr.work_order w ON w.tenant_id = e.tenant_id AND w.work_order_id = e.work_order_id
            WHERE e.tenant_id = :t AND te.home_branch_id <> w.branch_id),
          0, 'technicians work on their own branch''s jobs');
SELECT is((SELECT count(*)::integer FROM womgr.work_order_event e
            WHERE e.tenant_id = :t AND e.to_status IN ('in_progress', 'on_hold', 'completed')
              AND NOT EXISTS (SELECT 1 FROM womgr.technician te
                               WHERE te.tenant_id = e.tenant_id AND te.employee_code = e.actor)),
          0, 'technicians start, pause and complete the work');

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
