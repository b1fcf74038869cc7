-- stock: the parts catalogue, stock locations, receipts at moving average
-- cost, transfers, adjustments, reservations when a job is scheduled (from
-- the lead technician's van, else the branch warehouse), shortfall notices,
-- release on cancel, issues and returns, low-stock alerts once per
-- crossing, the append-only ledger and what invoicing reads
-- (work_order_material).  Amounts are hand-computed in the comments.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "st-test", "name": "Maji Plumbing Ltd", "work_order_prefix": "MP"}') AS t \gset
SELECT womgr.set_context(:t, 'salma.dispatch', NULL, 'dispatcher') \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS nbo \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Nyali Apartments', 'branch_id', :nbo)) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Block A')) AS s \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Otieno', 'home_branch_id', :nbo)) AS o \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Wanjiku', 'home_branch_id', :nbo)) AS k \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair',
                                                       'description', 'Burst pipe')) AS w1 \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair',
                                                       'description', 'Leaking valve')) AS w2 \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair',
                                                       'description', 'Dripping tap')) AS w3 \gset

-- the parts catalogue
SELECT womgr.create_part(:t, '{"sku": "PVC-20", "name": "PVC pipe 20 mm", "unit": "m", "price": 250}') AS pipe \gset
SELECT womgr.create_part(:t, '{"sku": "VALVE-15", "name": "Gate valve 15 mm", "price": 1200, "cost": 800}') AS valve \gset
SELECT womgr.create_part(:t, '{"sku": "TAPE", "name": "PTFE tape", "price": 50}') AS tape \gset
SELECT is((SELECT concat_ws('|', p.unit, p.price, c.code, p.average_cost, p.active) FROM womgr.part p
             JOIN womgr.tax_class c ON c.tenant_id = p.tenant_id AND c.tax_class_id = p.tax_class_id
            WHERE p.tenant_id = :t AND p.part_id = :pipe),
          'm|250.00|vat_standard|0.0000|t', 'a part is taxed at the tenant''s vat_standard unless told, and has no cost yet');
SELECT is((SELECT concat_ws('|', unit, cost, average_cost) FROM womgr.part WHERE tenant_id = :t AND part_id = :valve),
          'each|800.0000|800.0000', 'a starting cost is the average cost too; the unit defaults to each');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "pvc-20", "name": "Again"}'),
                 '23505', 'part sku "pvc-20" is already used', 'create_part: the sku is unique ignoring case');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "X-1", "name": "X", "price": 10.555}'),
                 '22023', 'price of the part must be an amount from 0 with at most 2 decimals', 'create_part: price with 3 decimals');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "X-1", "name": "X", "cost": -1}'),
                 '22023', 'cost of the part must be an amount from 0 with at most 4 decimals', 'create_part: negative cost');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "X-1", "name": "X", "tax_class_id": 999999}'),
                 '23503', 'tax class 999999 does not exist', 'create_part: unknown tax class');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "bad sku!", "name": "X"}'),
                 '22023', 'field "sku" of the part spec has an invalid value "bad sku!"', 'create_part: malformed sku');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "X-1", "name": "X", "unit": "Metres"}'),
                 '22023', 'field "unit" of the part spec has an invalid value "Metres"', 'create_part: malformed unit');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "X-1"}'),
                 '22004', 'the part spec needs field "name"', 'create_part: no name');
SELECT throws_ok(format('SELECT womgr.create_part(%s, %L)', :t, '{"sku": "X-1", "name": "X", "colour": "red"}'),
                 '22023', 'unknown field "colour" in the part spec', 'create_part: unknown field');
SELECT throws_ok('SELECT womgr.create_part(NULL, ''{"sku": "X-1", "name": "X"}'')',
                 '22004', 'tenant must not be null', 'create_part: null tenant');
SELECT womgr.update_part(:t, :tape, jsonb_build_object('name', 'PTFE tape 12 mm', 'price', 60,
    'tax_class_id', (SELECT tax_class_id FROM womgr.tax_class WHERE tenant_id = :t AND code = 'vat_zero'))) \gset
SELECT is((SELECT concat_ws('|', p.name, p.price, c.code) FROM womgr.part p
             JOIN womgr.tax_class c ON c.tenant_id = p.tenant_id AND c.tax_class_id = p.tax_class_id
            WHERE p.tenant_id = :t AND p.part_id = :tape),
          'PTFE tape 12 mm|60.00|vat_zero', 'update_part changes name, price and tax class');
SELECT throws_ok(format('SELECT womgr.update_part(%s, 999999, %L)', :t, '{"price": 1}'),
                 'P0002', 'part 999999 does not exist', 'update_part: unknown part');
SELECT throws_ok(format('SELECT womgr.update_part(%s, %s, %L)', :t, :tape, '{"price": -1}'),
                 '22023', NULL, 'update_part: negative price');
SELECT throws_ok(format('SELECT womgr.update_part(%s, %s, %L)', :t, :tape, '{"sku": "T2"}'),
                 '22023', 'unknown field "sku" in the part spec', 'update_part: the sku does not change');

-- stock locations: a branch warehouse and Otieno's van
SELECT womgr.create_stock_location(:t, jsonb_build_object('code', 'nbo_main', 'name', 'Nairobi store', 'kind', 'warehouse',
                                                           'branch_id', :nbo)) AS wh \gset
SELECT womgr.create_stock_location(:t, jsonb_build_object('code', 'van_otieno', 'name', 'Otieno''s van', 'kind', 'van',
                                                           'technician_id', :o)) AS van \gset
SELECT womgr.create_stock_location(:t, jsonb_build_object('code', 'old_store', 'name', 'Closed store', 'kind', 'warehouse',
                                                           'branch_id', :nbo, 'active', false)) AS closed \gset
SELECT is((SELECT concat_ws('|', kind, branch_id, technician_id) FROM womgr.stock_location WHERE tenant_id = :t AND location_id = :van),
          concat_ws('|', 'van', :nbo, :o), 'a van is in its technician''s home branch');
SELECT throws_ok(format('SELECT womgr.create_stock_location(%s, %L)', :t, jsonb_build_object('code', 'van_2', 'name', 'Second', 'kind', 'van', 'technician_id', :o)),
                 '23505', format('van of the technician technician_id "%s" is already used', :o), 'create_stock_location: one active van per technician');
SELECT throws_ok(format('SELECT womgr.create_stock_location(%s, %L)', :t, jsonb_build_object('code', 'wh_2', 'name', 'W', 'kind', 'warehouse', 'branch_id', :nbo, 'technician_id', :k)),
                 '22023', 'only a van has a technician', 'create_stock_location: a warehouse with a technician');
SELECT throws_ok(format('SELECT womgr.create_stock_location(%s, %L)', :t, jsonb_build_object('code', 'shop', 'name', 'Shop', 'kind', 'shop', 'branch_id', :nbo)),
                 '22023', 'field "kind" of the stock location spec has an invalid value "shop"', 'create_stock_location: unknown kind');
SELECT throws_ok(format('SELECT womgr.create_stock_location(%s, %L)', :t, '{"code": "wh_3", "name": "W", "kind": "warehouse"}'),
                 '22004', 'the stock location spec needs field "branch_id"', 'create_stock_location: a warehouse needs a branch');
SELECT throws_ok(format('SELECT womgr.create_stock_location(%s, %L)', :t, '{"code": "van_x", "name": "V", "kind": "van", "technician_id": 999999}'),
                 '23503', 'technician 999999 does not exist', 'create_stock_location: unknown technician');
SELECT throws_ok(format('SELECT womgr.create_stock_location(%s, %L)', :t, jsonb_build_object('code', 'nbo_main', 'name', 'W', 'kind', 'warehouse', 'branch_id', :nbo)),
                 '23505', 'stock location code "nbo_main" is already used', 'create_stock_location: duplicate code');

-- receipts: moving average cost over every location's stock on hand
SELECT womgr.receive_stock(:t, :wh, :pipe, 10, 100, 'DN-001') AS r1 \gset
SELECT is((SELECT concat_ws('|', cost, average_cost) FROM womgr.part WHERE tenant_id = :t AND part_id = :pipe),
          '100.0000|100.0000', 'the first receipt: 10 @ 100, average 100');
SELECT womgr.receive_stock(:t, :van, :pipe, 10, 130) AS r2 \gset
-- (10 * 100 + 10 * 130) / 20 = 115
SELECT is((SELECT concat_ws('|', cost, average_cost) FROM womgr.part WHERE tenant_id = :t AND part_id = :pipe),
          '130.0000|115.0000', '10 @ 130 more (into the van): average (10*100 + 10*130) / 20 = 115, the last cost 130');
SELECT is((SELECT array_agg(on_hand ORDER BY location_id) FROM womgr.stock_level WHERE tenant_id = :t AND part_id = :pipe),
          ARRAY[10, 10]::numeric[], 'ten in the warehouse, ten in the van');
SELECT is((SELECT concat_ws('|', kind, quantity, unit_cost, reference, actor) FROM womgr.stock_movement WHERE tenant_id = :t AND movement_id = :r1),
          'receipt|10.000|100.0000|DN-001|salma.dispatch', 'a receipt is a movement with its cost, reference and actor');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, 0, 100)', :t, :wh, :pipe), '22023', 'quantity 0 is not a valid quantity',
                 'receive_stock: zero quantity');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, -1, 100)', :t, :wh, :pipe), '22023', 'quantity -1 is not a valid quantity',
                 'receive_stock: negative quantity');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, 1.2345, 100)', :t, :wh, :pipe), '22023', NULL,
                 'receive_stock: more than 3 decimals');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, NULL, 100)', :t, :wh, :pipe), '22004', 'quantity must not be null',
                 'receive_stock: null quantity');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, 1, NULL)', :t, :wh, :pipe), '22004', 'unit cost must not be null',
                 'receive_stock: null cost');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, 1, -5)', :t, :wh, :pipe), '22023', NULL, 'receive_stock: negative cost');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, 999999, %s, 1, 5)', :t, :pipe), '23503', 'stock location 999999 does not exist',
                 'receive_stock: unknown location');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, NULL, %s, 1, 5)', :t, :pipe), '22004', 'stock location id must not be null',
                 'receive_stock: null location');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, %s, 1, 5)', :t, :closed, :pipe), '55000', 'stock location "old_store" is inactive',
                 'receive_stock: inactive location');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, 999999, 1, 5)', :t, :wh), '23503', 'part 999999 does not exist',
                 'receive_stock: unknown part');
SELECT throws_ok(format('SELECT womgr.receive_stock(%s, %s, NULL, 1, 5)', :t, :wh), '22004', 'part id must not be null',
                 'receive_stock: null part');
SELECT throws_ok(format('SELECT womgr.receive_stock(NULL, %s, %s, 1, 5)', :wh, :pipe), '22004', 'tenant must not be null',
                 'receive_stock: null tenant');
SELECT throws_ok(format('SELECT womgr.receive_stock(999999, %s, %s, 1, 5)', :wh, :pipe), '23503', 'tenant 999999 does not exist',
                 'receive_stock: unknown tenant');

-- transfers: two movements, only available stock leaves
SELECT womgr.transfer_stock(:t, :wh, :van, :pipe, 4, 'SLIP-7') AS tr \gset
SELECT is((SELECT array_agg(on_hand ORDER BY location_id) FROM womgr.stock_level WHERE tenant_id = :t AND part_id = :pipe),
          ARRAY[6, 14]::numeric[], 'a transfer of 4: 6 left in the warehouse, 14 in the van');
SELECT is((SELECT array_agg(concat_ws('|', kind, location_id, quantity, unit_cost) ORDER BY movement_id) FROM womgr.stock_movement
            WHERE tenant_id = :t AND transfer_id = :tr),
          ARRAY[concat_ws('|', 'transfer_out', :wh, '-4.000', '115.0000'), concat_ws('|', 'transfer_in', :van, '4.000', '115.0000')],
          'a transfer is a transfer_out and a transfer_in at the average cost');
SELECT is((SELECT average_cost FROM womgr.part WHERE tenant_id = :t AND part_id = :pipe), 115.0000, 'a transfer does not change the average cost');
SELECT throws_ok(format('SELECT womgr.transfer_stock(%s, %s, %s, %s, 7)', :t, :wh, :van, :pipe),
                 'WM010', 'not enough stock of part "PVC-20" at "nbo_main"', 'transfer_stock: more than on hand (negative stock refused)');
SELECT throws_ok(format('SELECT womgr.transfer_stock(%s, %s, %s, %s, 1)', :t, :wh, :wh, :pipe),
                 '22023', 'a transfer needs two different locations', 'transfer_stock: to the same location');
SELECT throws_ok(format('SELECT womgr.transfer_stock(%s, %s, 999999, %s, 1)', :t, :wh, :pipe),
                 '23503', 'stock location 999999 does not exist', 'transfer_stock: unknown location');
SELECT throws_ok(format('SELECT womgr.transfer_stock(%s, %s, %s, %s, 0)', :t, :wh, :van, :pipe),
                 '22023', 'quantity 0 is not a valid quantity', 'transfer_stock: zero quantity');

-- adjustments need a reason and cannot make stock negative
SELECT throws_ok(format('SELECT womgr.adjust_stock(%s, %s, %s, -1, NULL)', :t, :wh, :pipe),
                 '22004', 'a stock adjustment needs a reason', 'adjust_stock: no reason');
SELECT throws_ok(format('SELECT womgr.adjust_stock(%s, %s, %s, -1, %L)', :t, :wh, :pipe, '  '),
                 '22004', 'a stock adjustment needs a reason', 'adjust_stock: a blank reason');
SELECT womgr.adjust_stock(:t, :wh, :pipe, -2, 'damaged in the store') AS adj \gset
SELECT is((SELECT concat_ws('|', l.on_hand, m.quantity, m.unit_cost, m.reason) FROM womgr.stock_level l
             JOIN womgr.stock_movement m ON m.tenant_id = l.tenant_id AND m.movement_id = :adj
            WHERE l.tenant_id = :t AND l.location_id = :wh AND l.part_id = :pipe),
          '4.000|-2.000|115.0000|damaged in the store', 'an adjustment of -2 with its reason, valued at the average cost');
SELECT throws_ok(format('SELECT womgr.adjust_stock(%s, %s, %s, -5, %L)', :t, :wh, :pipe, 'count'),
                 'WM010', 'not enough stock of part "PVC-20" at "nbo_main"', 'adjust_stock: below zero (negative stock refused)');
SELECT throws_ok(format('SELECT womgr.adjust_stock(%s, %s, %s, 0, %L)', :t, :wh, :pipe, 'count'),
                 '22023', 'delta 0 is not a valid quantity', 'adjust_stock: zero delta');
SELECT throws_ok(format('SELECT womgr.adjust_stock(%s, %s, %s, NULL, %L)', :t, :wh, :pipe, 'count'),
                 '22004', 'delta must not be null', 'adjust_stock: null delta');
SELECT throws_ok(format('UPDATE womgr.stock_level SET on_hand = -1 WHERE tenant_id = %s AND location_id = %s AND part_id = %s', :t, :wh, :pipe),
                 '23514', NULL, 'the level''s CHECK refuses negative stock whoever writes it');

-- reservations when a job is scheduled: from the lead technician's van when it has enough, else the branch warehouse
SELECT womgr.receive_stock(:t, :van, :valve, 1, 800) \gset
SELECT womgr.receive_stock(:t, :wh, :valve, 3, 800) \gset
SELECT womgr.assign(:t, :w1, :o, 'lead') \gset
SELECT womgr.plan_parts(:t, :w1, :pipe, 5) \gset
SELECT womgr.plan_parts(:t, :w1, :valve, 2) \gset
SELECT womgr.plan_parts(:t, :w1, :tape, 1) \gset
SELECT womgr.plan_parts(:t, :w1, :tape, 0) \gset
SELECT is((SELECT array_agg(part_id ORDER BY part_id) FROM womgr.work_order_part WHERE tenant_id = :t AND work_order_id = :w1),
          ARRAY[:pipe, :valve]::bigint[], 'plan_parts sets what a job needs; 0 takes a part off the plan');
SELECT womgr.transition(:t, :w1, 'scheduled') \gset
SELECT is((SELECT array_agg(concat_ws('|', part_id, location_id, quantity, status) ORDER BY part_id) FROM womgr.stock_reservation
            WHERE tenant_id = :t AND work_order_id = :w1),
          ARRAY[concat_ws('|', :pipe, :van, '5.000', 'held'), concat_ws('|', :valve, :wh, '2.000', 'held')],
          'scheduling reserves 5 m of pipe from the lead''s van (14 there) and the valves from the warehouse (the van has 1)');
SELECT is((SELECT array_agg(concat_ws('|', location_id, part_id, on_hand, reserved) ORDER BY location_id, part_id) FROM womgr.stock_level
            WHERE tenant_id = :t AND reserved > 0),
          ARRAY[concat_ws('|', :wh, :valve, '3.000', '2.000'), concat_ws('|', :van, :pipe, '14.000', '5.000')],
          'the levels count what is reserved');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND topic = 'stock.shortage'), 0, 'no shortage, no notice');
SELECT womgr.transition(:t, :w1, 'new') \gset
SELECT womgr.transition(:t, :w1, 'scheduled') \gset
SELECT is((SELECT sum(quantity) FROM womgr.stock_reservation WHERE tenant_id = :t AND work_order_id = :w1), 7.000,
          'scheduling again reserves nothing more: the plan is already held');

-- a shortfall does not block scheduling: what there is gets reserved, and a notice goes out
SELECT womgr.assign(:t, :w2, :k, 'lead') \gset
SELECT womgr.plan_parts(:t, :w2, :valve, 3) \gset
SELECT womgr.transition(:t, :w2, 'scheduled') \gset
SELECT is((SELECT status FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w2), 'scheduled', 'the job is scheduled despite the shortfall');
SELECT is((SELECT concat_ws('|', location_id, quantity) FROM womgr.stock_reservation WHERE tenant_id = :t AND work_order_id = :w2),
          concat_ws('|', :wh, '1.000'), 'Wanjiku has no van: the one valve left available in the warehouse is reserved');
SELECT is((SELECT concat_ws('|', work_order_id, payload -> 'parts' -> 0 ->> 'sku', (payload -> 'parts' -> 0 ->> 'needed')::numeric,
                            (payload -> 'parts' -> 0 ->> 'reserved')::numeric, (payload -> 'parts' -> 0 ->> 'short')::numeric)
             FROM womgr.outbox WHERE tenant_id = :t AND topic = 'stock.shortage'),
          concat_ws('|', :w2, 'VALVE-15', '3.000', '1.000', '2.000'), 'a stock.shortage notice: 3 needed, 1 reserved, 2 short');
SELECT is((SELECT reserved FROM womgr.stock_level WHERE tenant_id = :t AND location_id = :wh AND part_id = :valve), 3.000,
          'all 3 valves in the warehouse are reserved now');
SELECT throws_ok(format('SELECT womgr.reserve_parts(%s, %s, %s, 1, %s)', :t, :w2, :valve, :wh),
                 'WM010', 'not enough stock of part "VALVE-15" at "nbo_main"', 'reserve_parts: nothing available');
-- cancelling releases what the job holds
SELECT womgr.transition(:t, :w2, 'cancelled', 'customer fixed it') \gset
SELECT is((SELECT status FROM womgr.stock_reservation WHERE tenant_id = :t AND work_order_id = :w2), 'released', 'a cancelled job''s reservation is released');
SELECT is((SELECT reserved FROM womgr.stock_level WHERE tenant_id = :t AND location_id = :wh AND part_id = :valve), 2.000,
          'the released valve is available again');
SELECT throws_ok(format('SELECT womgr.reserve_parts(%s, %s, %s, 1, %s)', :t, :w2, :valve, :wh), '55000', NULL, 'reserve_parts: cancelled job');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, %s, 1, %s)', :t, :w2, :valve, :wh), '55000', NULL, 'issue_parts: cancelled job');
SELECT throws_ok(format('SELECT womgr.plan_parts(%s, %s, %s, 1)', :t, :w2, :valve), '55000', NULL, 'plan_parts: cancelled job');

-- reserve_parts and release_reservation by hand
SELECT womgr.receive_stock(:t, :van, :tape, 10, 20) \gset
SELECT womgr.reserve_parts(:t, :w3, :tape, 2, :van) AS res \gset
SELECT is((SELECT reserved FROM womgr.stock_level WHERE tenant_id = :t AND location_id = :van AND part_id = :tape), 2.000, 'reserve_parts holds 2');
SELECT is(womgr.reserve_parts(:t, :w3, :tape, 1, :van), :res::bigint, 'reserving more adds to the held reservation');
SELECT womgr.release_reservation(:t, :res) \gset
SELECT is((SELECT concat_ws('|', r.status, l.reserved) FROM womgr.stock_reservation r
             JOIN womgr.stock_level l ON l.tenant_id = r.tenant_id AND l.location_id = r.location_id AND l.part_id = r.part_id
            WHERE r.tenant_id = :t AND r.reservation_id = :res),
          'released|0.000', 'release_reservation gives the 3 back');
SELECT throws_ok(format('SELECT womgr.release_reservation(%s, %s)', :t, :res), '55000', format('reservation %s is already released', :res),
                 'release_reservation: twice');
SELECT throws_ok(format('SELECT womgr.release_reservation(%s, 999999)', :t), 'P0002', 'reservation 999999 does not exist',
                 'release_reservation: unknown');
SELECT throws_ok(format('SELECT womgr.reserve_parts(%s, %s, %s, 11, %s)', :t, :w3, :tape, :van),
                 'WM010', 'not enough stock of part "TAPE" at "van_otieno"', 'reserve_parts: more than available');
SELECT throws_ok(format('SELECT womgr.reserve_parts(%s, %s, %s, 1)', :t, :w3, :tape),
                 'WM010', 'not enough stock of part "TAPE" at "nbo_main"', 'reserve_parts: without a lead''s van it takes from the branch warehouse (no tape there)');
SELECT throws_ok(format('SELECT womgr.plan_parts(%s, %s, %s, -1)', :t, :w3, :tape), '22023', 'quantity -1 is not a valid quantity',
                 'plan_parts: negative quantity');
SELECT throws_ok(format('SELECT womgr.plan_parts(%s, %s, %s, NULL)', :t, :w3, :tape), '22004', 'quantity must not be null',
                 'plan_parts: null quantity');
SELECT throws_ok(format('SELECT womgr.plan_parts(%s, 999999, %s, 1)', :t, :tape), 'P0002', 'work order 999999 does not exist',
                 'plan_parts: unknown work order');
SELECT throws_ok(format('SELECT womgr.plan_parts(%s, %s, 999999, 1)', :t, :w3), '23503', 'part 999999 does not exist',
                 'plan_parts: unknown part');
SELECT womgr.create_part(:t, '{"sku": "OLD-1", "name": "Discontinued", "active": false}') AS old_part \gset
SELECT throws_ok(format('SELECT womgr.plan_parts(%s, %s, %s, 1)', :t, :w3, :old_part), '55000', 'part "OLD-1" is inactive',
                 'plan_parts: an inactive part');
SELECT throws_ok(format('SELECT womgr.reserve_parts(%s, %s, %s, 1, %s)', :t, :w3, :old_part, :wh), '55000', 'part "OLD-1" is inactive',
                 'reserve_parts: an inactive part');

-- issues: from the lead's van by default, consuming the job's reservation first, at the price and average cost of the moment
SELECT womgr.issue_parts(:t, :w1, :pipe, 3) AS i1 \gset
SELECT is((SELECT concat_ws('|', kind, location_id, quantity, unit_cost, unit_price) FROM womgr.stock_movement WHERE tenant_id = :t AND movement_id = :i1),
          concat_ws('|', 'issue', :van, '-3.000', '115.0000', '250.00'), 'an issue from the lead''s van records cost 115 and price 250');
SELECT is((SELECT concat_ws('|', l.on_hand, l.reserved, r.consumed, r.status) FROM womgr.stock_level l
             JOIN womgr.stock_reservation r ON r.tenant_id = l.tenant_id AND r.location_id = l.location_id AND r.part_id = l.part_id
            WHERE l.tenant_id = :t AND l.location_id = :van AND l.part_id = :pipe AND r.work_order_id = :w1),
          '11.000|2.000|3.000|held', 'the issue consumed 3 of the 5 reserved: 11 on hand, 2 still reserved');
SELECT womgr.update_part(:t, :pipe, '{"price": 300}') \gset
SELECT womgr.issue_parts(:t, :w1, :pipe, 2) AS i2 \gset
SELECT is((SELECT concat_ws('|', l.on_hand, l.reserved, r.consumed, r.status, m.unit_price) FROM womgr.stock_level l
             JOIN womgr.stock_reservation r ON r.tenant_id = l.tenant_id AND r.location_id = l.location_id AND r.part_id = l.part_id
             JOIN womgr.stock_movement m ON m.tenant_id = l.tenant_id AND m.movement_id = :i2
            WHERE l.tenant_id = :t AND l.location_id = :van AND l.part_id = :pipe AND r.work_order_id = :w1),
          '9.000|0.000|5.000|consumed|300.00', 'the next 2 use up the reservation, at the new price 300');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, %s, 2)', :t, :w1, :valve),
                 'WM010', 'not enough stock of part "VALVE-15" at "van_otieno"', 'issue_parts: more than the van has (negative stock refused)');
SELECT womgr.issue_parts(:t, :w1, :valve, 2, :wh) AS i3 \gset
SELECT is((SELECT concat_ws('|', l.on_hand, l.reserved, r.status) FROM womgr.stock_level l
             JOIN womgr.stock_reservation r ON r.tenant_id = l.tenant_id AND r.location_id = l.location_id AND r.part_id = l.part_id
            WHERE l.tenant_id = :t AND l.location_id = :wh AND l.part_id = :valve AND r.work_order_id = :w1),
          '1.000|0.000|consumed', 'two valves issued from the warehouse consume the job''s reservation there');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, %s, 0)', :t, :w1, :pipe), '22023', 'quantity 0 is not a valid quantity',
                 'issue_parts: zero quantity');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, 999999, %s, 1)', :t, :pipe), 'P0002', 'work order 999999 does not exist',
                 'issue_parts: unknown work order');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, NULL, 1)', :t, :w1), '22004', 'part id must not be null', 'issue_parts: null part');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, 999999, 1)', :t, :w1), '23503', 'part 999999 does not exist', 'issue_parts: unknown part');
SELECT throws_ok(format('SELECT womgr.issue_parts(NULL, %s, %s, 1)', :w1, :pipe), '22004', 'tenant must not be null', 'issue_parts: null tenant');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, %s, 1)', :t, :w3, :pipe), '22023', NULL,
                 'issue_parts: no lead with a van and no reservation: a location is needed');
SELECT throws_ok(format('SELECT womgr.issue_parts(%s, %s, %s, 1, 999999)', :t, :w1, :pipe), '23503', 'stock location 999999 does not exist',
                 'issue_parts: unknown location');

-- a receipt after issues: 13 on hand @ 115, 7 more @ 135 -> (13*115 + 7*135) / 20 = 2440 / 20 = 122
SELECT womgr.receive_stock(:t, :wh, :pipe, 7, 135) \gset
SELECT is((SELECT average_cost FROM womgr.part WHERE tenant_id = :t AND part_id = :pipe), 122.0000,
          'issue then receipt: the average is taken over what is left (13 @ 115) and 7 @ 135 = 122');

-- returns: at most the net issued, at the average cost of the job's issues, split over the prices issued at
SELECT throws_ok(format('SELECT womgr.return_parts(%s, %s, %s, 6, %s)', :t, :w1, :pipe, :van),
                 '22023', 'cannot return more of part "PVC-20" than work order ' ||
                          (SELECT number FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w1) || ' was issued',
                 'return_parts: more than the 5 issued');
SELECT throws_ok(format('SELECT womgr.return_parts(%s, %s, %s, 1, %s)', :t, :w3, :pipe, :van), '22023', NULL,
                 'return_parts: nothing was issued to the job');
SELECT throws_ok(format('SELECT womgr.return_parts(%s, %s, %s, 1, NULL)', :t, :w1, :pipe), '22004', 'stock location id must not be null',
                 'return_parts: a location is needed');
SELECT womgr.return_parts(:t, :w1, :pipe, 3, :van) AS ret \gset
SELECT is((SELECT array_agg(concat_ws('|', kind, quantity, unit_cost, unit_price) ORDER BY movement_id) FROM womgr.stock_movement
            WHERE tenant_id = :t AND work_order_id = :w1 AND kind = 'return'),
          ARRAY['return|2.000|115.0000|300.00', 'return|1.000|115.0000|250.00'],
          'returning 3: 2 of the newest issue (price 300) and 1 of the first (250), at the issues'' cost 115');
SELECT is(:ret::bigint, (SELECT min(movement_id) FROM womgr.stock_movement WHERE tenant_id = :t AND work_order_id = :w1 AND kind = 'return'),
          'return_parts returns the first movement');
-- 20 on hand @ 122, 3 back @ 115 -> (20*122 + 3*115) / 23 = 2785 / 23 = 121.08695... -> 121.0870
SELECT is((SELECT average_cost FROM womgr.part WHERE tenant_id = :t AND part_id = :pipe), 121.0870,
          'returned stock blends into the average: (20*122 + 3*115) / 23 = 121.0870');
SELECT throws_ok(format('SELECT womgr.return_parts(%s, %s, %s, 3, %s)', :t, :w1, :pipe, :van), '22023', NULL,
                 'return_parts: only 2 are left issued to the job');

-- what invoicing reads: net quantity per part and price, with its cost
SELECT is((SELECT array_agg(concat_ws('|', sku, name, unit, quantity, unit_price, cost_amount) ORDER BY sku, unit_price)
             FROM womgr.work_order_material WHERE tenant_id = :t AND work_order_id = :w1),
          ARRAY['PVC-20|PVC pipe 20 mm|m|2.000|250.00|230.00', 'VALVE-15|Gate valve 15 mm|each|2.000|1200.00|1600.00'],
          'work_order_material: 2 m of pipe at 250 (3 issued, 1 returned; the 300 issue fully returned), 2 valves at 1200; cost 2*115 and 2*800');
SELECT is((SELECT tax_class_id FROM womgr.work_order_material WHERE tenant_id = :t AND work_order_id = :w1 AND part_id = :pipe),
          (SELECT tax_class_id FROM womgr.tax_class WHERE tenant_id = :t AND code = 'vat_standard'), 'with the part''s tax class');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'womgr.work_order_material'::regclass AND attnum > 0),
          ARRAY['tenant_id', 'work_order_id', 'part_id', 'sku', 'name', 'unit', 'tax_class_id', 'quantity', 'unit_price', 'cost_amount'],
          'work_order_material has exactly the columns invoicing reads');

-- low-stock alerts, exactly once per crossing
SELECT womgr.set_reorder_point(:t, :van, :tape, 5, 20) \gset
SELECT is((SELECT count(*)::int FROM womgr.stock_alert WHERE tenant_id = :t), 0, '10 tape on hand, reorder point 5: no alert');
SELECT womgr.issue_parts(:t, :w1, :tape, 5) \gset
SELECT is((SELECT concat_ws('|', location_id, part_id, available, reorder_point, reorder_qty, cleared_at IS NULL) FROM womgr.stock_alert WHERE tenant_id = :t),
          concat_ws('|', :van, :tape, '5.000', '5.000', '20.000', 't'), 'available falls to the reorder point (5): an alert');
SELECT is((SELECT concat_ws('|', payload ->> 'sku', payload ->> 'location', (payload ->> 'available')::numeric) FROM womgr.outbox
            WHERE tenant_id = :t AND topic = 'stock.low'),
          'TAPE|van_otieno|5.000', 'and one stock.low notice');
SELECT womgr.issue_parts(:t, :w1, :tape, 1) \gset
SELECT womgr.issue_parts(:t, :w1, :tape, 1) \gset
SELECT is((SELECT count(*)::int FROM womgr.stock_alert WHERE tenant_id = :t), 1, 'two more issues below the point raise nothing more');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND topic = 'stock.low'), 1, 'nor notices');
SELECT is((SELECT below_reorder FROM womgr.stock_levels WHERE tenant_id = :t AND location_id = :van AND part_id = :tape), true,
          'stock_levels shows it below the reorder point');
SELECT womgr.receive_stock(:t, :van, :tape, 10, 20) \gset
SELECT is((SELECT concat_ws('|', count(*), count(cleared_at)) FROM womgr.stock_alert WHERE tenant_id = :t), '1|1',
          'a refill above the point (13) clears the alert');
SELECT is((SELECT low FROM womgr.stock_level WHERE tenant_id = :t AND location_id = :van AND part_id = :tape), false, 'the level is no longer low');
SELECT womgr.issue_parts(:t, :w1, :tape, 9) \gset
SELECT is((SELECT concat_ws('|', count(*), count(cleared_at), count(*) FILTER (WHERE available = 4)) FROM womgr.stock_alert WHERE tenant_id = :t),
          '2|1|1', 'a new drop (to 4) raises a second alert');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND topic = 'stock.low'), 2, 'and a second notice');
SELECT throws_ok(format('SELECT womgr.set_reorder_point(%s, %s, %s, -1)', :t, :van, :tape), '22023', 'reorder point -1 is not valid',
                 'set_reorder_point: negative');
SELECT throws_ok(format('SELECT womgr.set_reorder_point(%s, %s, %s, 1, 0)', :t, :van, :tape), '22023', 'reorder quantity 0 is not a valid quantity',
                 'set_reorder_point: zero reorder quantity');
SELECT womgr.set_reorder_point(:t, :van, :tape, NULL) \gset
SELECT is((SELECT concat_ws('|', l.low, (SELECT count(*) FROM womgr.stock_alert a WHERE a.tenant_id = :t AND a.cleared_at IS NULL))
             FROM womgr.stock_level l WHERE l.tenant_id = :t AND l.location_id = :van AND l.part_id = :tape),
          'f|0', 'removing the reorder point clears the open alert');

-- the stock report
-- warehouse pipe: 4 + 7 = 11 on hand @ 121.0870 = 1331.957 -> 1331.96
SELECT is((SELECT concat_ws('|', location_code, sku, on_hand, reserved, available, average_cost, stock_value, below_reorder)
             FROM womgr.stock_levels WHERE tenant_id = :t AND location_id = :wh AND part_id = :pipe),
          'nbo_main|PVC-20|11.000|0.000|11.000|121.0870|1331.96|f', 'stock_levels values stock at the average cost');

-- the ledger: append-only, and it adds up to every level; reserved adds up to the held reservations
SELECT throws_ok(format('UPDATE womgr.stock_movement SET quantity = 100 WHERE tenant_id = %s AND movement_id = %s', :t, :r1),
                 '55000', 'stock_movement is append-only', 'the ledger cannot be edited');
SELECT throws_ok(format('DELETE FROM womgr.stock_movement WHERE tenant_id = %s', :t), '55000', 'stock_movement is append-only',
                 'nor deleted from');
SELECT throws_ok('TRUNCATE womgr.stock_movement', '55000', NULL, 'nor truncated');
SELECT is((SELECT count(*)::int FROM womgr.stock_level l
            WHERE l.tenant_id = :t
              AND l.on_hand <> (SELECT coalesce(sum(m.quantity), 0) FROM womgr.stock_movement m
                                 WHERE m.tenant_id = l.tenant_id AND m.location_id = l.location_id AND m.part_id = l.part_id)),
          0, 'every level''s on_hand is the sum of its movements');
SELECT is((SELECT count(*)::int FROM womgr.stock_level l
            WHERE l.tenant_id = :t
              AND l.reserved <> (SELECT coalesce(sum(r.quantity - r.consumed), 0) FROM womgr.stock_reservation r
                                  WHERE r.tenant_id = l.tenant_id AND r.location_id = l.location_id AND r.part_id = l.part_id
                                    AND r.status = 'held')),
          0, 'every level''s reserved is what its held reservations still hold');

SELECT * FROM finish();
ROLLBACK;
