-- bad_input: every public function rejects bad input with a specific
-- SQLSTATE and a clear message, and writes nothing.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

-- A small company to point at.
SELECT womgr.create_tenant('{"code": "bad-input", "name": "Bad Input Ltd"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS nbo \gset
SELECT womgr.create_branch(:t, jsonb_build_object('code', 'MSA', 'name', 'Mombasa', 'parent_branch_id', :nbo)) AS msa \gset
SELECT womgr.create_customer(:t, '{"name": "Acme Ltd"}') AS c1 \gset
SELECT womgr.create_customer(:t, '{"name": "Other Ltd"}') AS c2 \gset
SELECT womgr.create_customer(:t, '{"name": "Closed Ltd", "active": false}') AS c_inactive \gset
SELECT womgr.create_site(:t, format('{"customer_id": %s, "name": "HQ"}', :c1)::jsonb) AS s1 \gset
SELECT womgr.create_site(:t, format('{"customer_id": %s, "name": "Depot"}', :c2)::jsonb) AS s2 \gset
SELECT womgr.create_site(:t, format('{"customer_id": %s, "name": "Old"}', :c_inactive)::jsonb) AS s_inactive \gset
SELECT womgr.create_asset(:t, format('{"site_id": %s, "name": "Generator"}', :s2)::jsonb) AS a2 \gset
SELECT womgr.create_skill(:t, '{"code": "solar", "name": "Solar"}') AS sk \gset
SELECT womgr.create_technician(:t, format('{"name": "Wanjiku", "home_branch_id": %s}', :nbo)::jsonb) AS tech \gset
CREATE TEMP TABLE ok_spec AS
SELECT format('{"customer_id": %s, "site_id": %s, "type": "repair", "description": "Pump leaks"}', :c1, :s1)::jsonb AS spec;
SELECT count(*) AS wo_before FROM womgr.work_order WHERE tenant_id = :t \gset
SELECT count(*) AS counter_before FROM womgr.tenant_counter WHERE tenant_id = :t \gset

-- set_context
SELECT throws_ok('SELECT womgr.set_context(NULL, ''amina'')', '22004', 'tenant must not be null', 'set_context: null tenant');
SELECT throws_ok('SELECT womgr.set_context(0, ''amina'')', '22023', NULL, 'set_context: tenant id 0');
SELECT throws_ok('SELECT womgr.set_context(999999, ''amina'')', '23503', 'tenant 999999 does not exist', 'set_context: unknown tenant');
SELECT throws_ok(format('SELECT womgr.set_context(%s, ''  '')', :t), '22023', 'actor must not be empty', 'set_context: blank actor');
SELECT throws_ok(format('SELECT womgr.set_context(%s, repeat(''x'', 201))', :t), '22001', 'actor is too long', 'set_context: actor too long');

-- create_work_order: the spec as a whole
SELECT throws_ok('SELECT womgr.create_work_order(NULL, (SELECT spec FROM ok_spec))', '22004', 'tenant must not be null', 'wo: null tenant');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, NULL)', :t), '22004', 'the work order spec must not be null', 'wo: null spec');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, ''[1, 2]'')', :t), '42804', 'the work order spec must be a JSON object', 'wo: array spec');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, ''"text"'')', :t), '42804', 'the work order spec must be a JSON object', 'wo: scalar spec');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"desciption": "typo"}'' FROM ok_spec))', :t),
                 '22023', 'unknown field "desciption" in the work order spec', 'wo: unknown field');
SELECT throws_ok('SELECT womgr.create_work_order(999999, (SELECT spec FROM ok_spec))', '23503', 'tenant 999999 does not exist', 'wo: unknown tenant');
-- missing required fields
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec - ''customer_id'' FROM ok_spec))', :t),
                 '22004', 'the work order spec needs field "customer_id"', 'wo: missing customer_id');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec - ''site_id'' FROM ok_spec))', :t),
                 '22004', 'the work order spec needs field "site_id"', 'wo: missing site_id');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec - ''type'' FROM ok_spec))', :t),
                 '22004', 'the work order spec needs field "type"', 'wo: missing type');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec - ''description'' FROM ok_spec))', :t),
                 '22004', 'the work order spec needs field "description"', 'wo: missing description');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{description}'', ''null'') FROM ok_spec))', :t),
                 '22004', 'the work order spec needs field "description"', 'wo: null description');
-- wrong JSON types
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{customer_id}'', ''true'') FROM ok_spec))', :t),
                 '42804', 'field "customer_id" of the work order spec must be a JSON number', 'wo: boolean customer_id');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{site_id}'', ''"abc"'') FROM ok_spec))', :t),
                 '42804', 'field "site_id" of the work order spec must be a JSON number', 'wo: non-numeric string site_id');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{type}'', ''7'') FROM ok_spec))', :t),
                 '42804', 'field "type" of the work order spec must be a JSON string', 'wo: numeric type');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{description}'', ''["a"]'') FROM ok_spec))', :t),
                 '42804', 'field "description" of the work order spec must be a JSON string', 'wo: array description');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"restricted": "yes"}'' FROM ok_spec))', :t),
                 '42804', 'field "restricted" of the work order spec must be a JSON boolean', 'wo: string restricted');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": "tomorrow"}'' FROM ok_spec))', :t),
                 '42804', 'field "requested_window" of the work order spec must be a JSON array of two timestamps', 'wo: string window');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": ["2026-11-24 08:00+03"]}'' FROM ok_spec))', :t),
                 '42804', 'field "requested_window" of the work order spec must be a JSON array of two timestamps', 'wo: one-element window');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": [1, 2]}'' FROM ok_spec))', :t),
                 '42804', 'field "requested_window" of the work order spec must hold two timestamp strings', 'wo: numeric window bounds');
-- bad values
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{description}'', ''"   "'') FROM ok_spec))', :t),
                 '22023', 'field "description" of the work order spec must not be empty', 'wo: blank description');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{customer_id}'', ''1.5'') FROM ok_spec))', :t),
                 '22023', 'field "customer_id" of the work order spec must be a whole number', 'wo: fractional id');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{customer_id}'', ''1e30'') FROM ok_spec))', :t),
                 '22003', 'field "customer_id" of the work order spec is out of range for bigint', 'wo: huge id');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": ["2026-11-24 12:00+03", "2026-11-24 08:00+03"]}'' FROM ok_spec))', :t),
                 '22023', 'field "requested_window" of the work order spec ends before it starts', 'wo: window ends before it starts');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": ["2026-11-24 08:00+03", "2026-11-24 08:00+03"]}'' FROM ok_spec))', :t),
                 '22023', 'field "requested_window" of the work order spec ends before it starts', 'wo: empty window');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": ["soon", "2026-11-24 08:00+03"]}'' FROM ok_spec))', :t),
                 '22007', 'field "requested_window" of the work order spec holds an invalid timestamp "soon"', 'wo: unreadable timestamp');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"requested_window": ["-infinity", "2026-11-24 08:00+03"]}'' FROM ok_spec))', :t),
                 '22007', NULL, 'wo: infinite window bound');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"source": "Web Portal"}'' FROM ok_spec))', :t),
                 '22023', 'field "source" of the work order spec must be a lower-case channel code', 'wo: bad source');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || jsonb_build_object(''external_ref'', repeat(''x'', 201)) FROM ok_spec))', :t),
                 '22001', 'field "external_ref" of the work order spec is too long', 'wo: external_ref too long');
-- unknown references
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{customer_id}'', ''999999'') FROM ok_spec))', :t),
                 '23503', 'customer 999999 does not exist', 'wo: unknown customer');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{site_id}'', ''999999'') FROM ok_spec))', :t),
                 '23503', 'site 999999 does not exist', 'wo: unknown site');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{site_id}'', to_jsonb(%s)) FROM ok_spec))', :t, :s2),
                 '23503', format('site %s does not belong to customer %s', :s2, :c1), 'wo: site of another customer');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{type}'', ''"teleport"'') FROM ok_spec))', :t),
                 '23503', 'work order type "teleport" does not exist', 'wo: unknown type');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"priority": "whenever"}'' FROM ok_spec))', :t),
                 '23503', 'priority "whenever" does not exist', 'wo: unknown priority');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"asset_id": 999999}'' FROM ok_spec))', :t),
                 '23503', 'asset 999999 does not exist', 'wo: unknown asset');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || jsonb_build_object(''asset_id'', %s) FROM ok_spec))', :t, :a2),
                 '23503', format('asset %s is not at site %s', :a2, :s1), 'wo: asset at another site');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || ''{"branch_id": 999999}'' FROM ok_spec))', :t),
                 '23503', 'branch 999999 does not exist', 'wo: unknown branch');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec FROM ok_spec))', womgr.default_tenant_id()),
                 '23503', format('customer %s does not exist', :c1), 'wo: customer of another tenant');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, jsonb_build_object(''customer_id'', %s, ''site_id'', %s, ''type'', ''repair'', ''description'', ''x''))',
                        :t, :c_inactive, :s_inactive),
                 '55000', format('customer %s is inactive', :c_inactive), 'wo: inactive customer');
SELECT womgr.create_branch(:t, '{"code": "OLD", "name": "Closed branch", "active": false}') AS b_inactive \gset
SELECT womgr.create_asset(:t, jsonb_build_object('site_id', :s1, 'name', 'Scrapped pump', 'active', false)) AS a_inactive \gset
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || jsonb_build_object(''branch_id'', %s) FROM ok_spec))', :t, :b_inactive),
                 '55000', format('branch %s is inactive', :b_inactive), 'wo: inactive branch');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT spec || jsonb_build_object(''asset_id'', %s) FROM ok_spec))', :t, :a_inactive),
                 '55000', format('asset %s is inactive', :a_inactive), 'wo: inactive asset');
SELECT throws_ok(format('SELECT womgr.create_work_order(%s, (SELECT jsonb_set(spec, ''{customer_id}'', ''"12a"'') FROM ok_spec))', :t),
                 '42804', 'field "customer_id" of the work order spec must be a JSON number', 'wo: id string that is not a number');
-- nothing was written by any of the failures
SELECT is((SELECT count(*) FROM womgr.work_order WHERE tenant_id = :t), :wo_before::bigint, 'wo: failures created no work order');
SELECT is((SELECT count(*) FROM womgr.tenant_counter WHERE tenant_id = :t), :counter_before::bigint, 'wo: failures used no number');

-- tenants
SELECT throws_ok('SELECT womgr.create_tenant(NULL)', '22004', 'the tenant spec must not be null', 'tenant: null spec');
SELECT throws_ok('SELECT womgr.create_tenant(''{"name": "No Code"}'')', '22004', 'the tenant spec needs field "code"', 'tenant: missing code');
SELECT throws_ok('SELECT womgr.create_tenant(''{"code": "has space", "name": "X"}'')', '22023', 'field "code" of the tenant spec has an invalid value "has space"', 'tenant: bad code');
SELECT throws_ok('SELECT womgr.create_tenant(''{"code": "BAD-INPUT", "name": "X"}'')', '23505', 'tenant code "BAD-INPUT" is already used', 'tenant: duplicate code (any case)');
SELECT throws_ok('SELECT womgr.create_tenant(''{"code": "tz", "name": "X", "timezone": "Africa/Atlantis"}'')', '22023', 'time zone "Africa/Atlantis" of the tenant is not known', 'tenant: bad time zone');
SELECT throws_ok('SELECT womgr.create_tenant(''{"code": "cur", "name": "X", "currency": "shillings"}'')', '22023', NULL, 'tenant: bad currency');

-- branches
SELECT throws_ok('SELECT womgr.create_branch(NULL, ''{"code": "X", "name": "X"}'')', '22004', 'tenant must not be null', 'branch: null tenant');
SELECT throws_ok('SELECT womgr.create_branch(999999, ''{"code": "X", "name": "X"}'')', '23503', 'tenant 999999 does not exist', 'branch: unknown tenant');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "nbo2", "name": "X"}'')', :t), '22023', NULL, 'branch: lower-case code');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "NBO", "name": "Again"}'')', :t), '23505', 'branch code "NBO" is already used', 'branch: duplicate code');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "KSM"}'')', :t), '22004', 'the branch spec needs field "name"', 'branch: missing name');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "KSM", "name": "Kisumu", "parent_branch_id": 999999}'')', :t), '23503', 'branch 999999 does not exist', 'branch: unknown parent');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "KSM", "name": "Kisumu", "location": {"lat": 95, "lon": 34}}'')', :t), '22003', 'field "location" of the branch spec is not a place on Earth', 'branch: latitude out of range');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "KSM", "name": "Kisumu", "location": [34.7, -0.09]}'')', :t), '42804', 'field "location" of the branch spec must be a JSON object', 'branch: location as array');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "KSM", "name": "Kisumu", "location": {"lat": -0.09}}'')', :t), '22004', NULL, 'branch: location without lon');
SELECT throws_ok(format('SELECT womgr.create_branch(%s, ''{"code": "KSM", "name": "Kisumu", "location": {"lat": -0.09, "lon": 34.7, "alt": 1}}'')', :t), '22023', NULL, 'branch: location with unknown key');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, 999999, ''{"name": "X"}'')', :t), 'P0002', 'branch 999999 does not exist', 'branch: update unknown');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, NULL, ''{"name": "X"}'')', :t), '22004', 'branch id must not be null', 'branch: update without an id');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, %s, jsonb_build_object(''parent_branch_id'', %s))', :t, :nbo, :msa), '22023',
                 format('branch %s cannot report to branch %s', :nbo, :msa), 'branch: cycle in the hierarchy');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, %s, jsonb_build_object(''parent_branch_id'', %s))', :t, :nbo, :nbo), '22023',
                 NULL, 'branch: its own parent');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, %s, ''{"name": null}'')', :t, :nbo), '22004', NULL, 'branch: clear a required field');
SELECT throws_ok(format('SELECT womgr.update_branch(%s, %s, ''{"code": "MSA"}'')', :t, :nbo), '23505', NULL, 'branch: rename to a taken code');

-- customers and contacts
SELECT throws_ok(format('SELECT womgr.create_customer(%s, ''{}'')', :t), '22004', 'the customer spec needs field "name"', 'customer: missing name');
SELECT throws_ok(format('SELECT womgr.create_customer(%s, ''{"name": "X", "kind": "robot"}'')', :t), '22023', NULL, 'customer: bad kind');
SELECT throws_ok(format('SELECT womgr.create_customer(%s, ''{"name": "X", "phone": "call me"}'')', :t), '22023', 'field "phone" of the customer spec has an invalid value "call me"', 'customer: bad phone');
SELECT throws_ok(format('SELECT womgr.create_customer(%s, ''{"name": "X", "email": "nobody"}'')', :t), '22023', NULL, 'customer: bad email');
SELECT throws_ok(format('SELECT womgr.create_customer(%s, ''{"name": "X", "branch_id": 999999}'')', :t), '23503', 'branch 999999 does not exist', 'customer: unknown branch');
SELECT womgr.create_customer(:t, '{"name": "Numbered", "account_code": "ACC-1"}') AS c3 \gset
SELECT throws_ok(format('SELECT womgr.create_customer(%s, ''{"name": "Y", "account_code": "ACC-1"}'')', :t), '23505', 'customer account_code "ACC-1" is already used', 'customer: duplicate account code');
SELECT throws_ok(format('SELECT womgr.update_customer(%s, 999999, ''{"name": "X"}'')', :t), 'P0002', 'customer 999999 does not exist', 'customer: update unknown');
SELECT throws_ok(format('SELECT womgr.update_customer(%s, %s, ''{"active": "no"}'')', :t, :c1), '42804', NULL, 'customer: string active');
SELECT throws_ok(format('SELECT womgr.update_customer(%s, %s, ''{"account_code": "ACC-1"}'')', :t, :c1), '23505', NULL, 'customer: take another account code');
SELECT throws_ok(format('SELECT womgr.create_contact(%s, ''{"customer_id": 999999, "name": "X"}'')', :t), '23503', 'customer 999999 does not exist', 'contact: unknown customer');
SELECT throws_ok(format('SELECT womgr.create_contact(%s, jsonb_build_object(''customer_id'', %s))', :t, :c1), '22004', NULL, 'contact: missing name');

-- sites and assets
SELECT throws_ok(format('SELECT womgr.create_site(%s, ''{"name": "X"}'')', :t), '22004', 'the site spec needs field "customer_id"', 'site: missing customer');
SELECT throws_ok(format('SELECT womgr.create_site(%s, ''{"customer_id": 999999, "name": "X"}'')', :t), '23503', 'customer 999999 does not exist', 'site: unknown customer');
SELECT throws_ok(format('SELECT womgr.update_site(%s, %s, jsonb_build_object(''customer_id'', %s))', :t, :s1, :c2), '22023',
                 'unknown field "customer_id" in the site spec', 'site: cannot move to another customer');
SELECT throws_ok(format('SELECT womgr.update_site(%s, 999999, ''{"name": "X"}'')', :t), 'P0002', 'site 999999 does not exist', 'site: update unknown');
SELECT throws_ok(format('SELECT womgr.create_asset(%s, ''{"site_id": 999999, "name": "X"}'')', :t), '23503', 'site 999999 does not exist', 'asset: unknown site');
SELECT womgr.create_asset(:t, jsonb_build_object('site_id', :s1, 'name', 'Inverter', 'make', 'Victron', 'serial_number', 'HQ2231')) AS a_serial \gset
SELECT throws_ok(format('SELECT womgr.create_asset(%s, jsonb_build_object(''site_id'', %s, ''name'', ''Y'', ''make'', ''Victron'', ''serial_number'', ''HQ2231''))', :t, :s2),
                 '23505', 'asset serial_number "HQ2231" is already used', 'asset: duplicate serial of the same make');
SELECT lives_ok(format('SELECT womgr.create_asset(%s, jsonb_build_object(''site_id'', %s, ''name'', ''Y'', ''make'', ''Growatt'', ''serial_number'', ''HQ2231''))', :t, :s2),
                'asset: the same serial of another make is fine');
SELECT throws_ok(format('SELECT womgr.create_asset(%s, jsonb_build_object(''site_id'', %s, ''name'', ''X'', ''installed_on'', ''2026-02-30''))', :t, :s1),
                 '22007', 'field "installed_on" of the asset spec holds an invalid date "2026-02-30"', 'asset: impossible date');
SELECT throws_ok(format('SELECT womgr.create_asset(%s, jsonb_build_object(''site_id'', %s, ''name'', ''X'', ''warranty_from'', ''2026-01-01''))', :t, :s1),
                 '22023', NULL, 'asset: warranty without an end');
SELECT throws_ok(format('SELECT womgr.create_asset(%s, jsonb_build_object(''site_id'', %s, ''name'', ''X'', ''warranty_from'', ''2027-01-01'', ''warranty_until'', ''2026-01-01''))', :t, :s1),
                 '22023', NULL, 'asset: warranty ends before it starts');

-- skills, technicians, work-order types
SELECT throws_ok(format('SELECT womgr.create_skill(%s, ''{"code": "Solar PV", "name": "X"}'')', :t), '22023', NULL, 'skill: bad code');
SELECT throws_ok(format('SELECT womgr.create_skill(%s, ''{"code": "solar", "name": "Again"}'')', :t), '23505', 'skill code "solar" is already used', 'skill: duplicate');
SELECT throws_ok(format('SELECT womgr.update_skill(%s, 999999, ''{"name": "X"}'')', :t), 'P0002', NULL, 'skill: update unknown');
SELECT throws_ok(format('SELECT womgr.update_skill(%s, %s, ''{"code": "pv"}'')', :t, :sk), '22023', NULL, 'skill: code cannot change');
SELECT throws_ok(format('SELECT womgr.create_technician(%s, ''{"name": "X"}'')', :t), '22004', 'the technician spec needs field "home_branch_id"', 'technician: missing branch');
SELECT throws_ok(format('SELECT womgr.create_technician(%s, ''{"name": "X", "home_branch_id": 999999}'')', :t), '23503', NULL, 'technician: unknown branch');
SELECT throws_ok(format('SELECT womgr.create_technician(%s, jsonb_build_object(''name'', ''X'', ''home_branch_id'', %s, ''skills'', ''solar''))', :t, :nbo),
                 '42804', 'field "skills" of the technician spec must be a JSON array', 'technician: skills not an array');
SELECT throws_ok(format('SELECT womgr.create_technician(%s, jsonb_build_object(''name'', ''X'', ''home_branch_id'', %s, ''skills'', ''[{"skill": "solar", "level": 9}]''::jsonb))', :t, :nbo),
                 '22003', 'skill level 9 is out of range', 'technician: level out of range');
SELECT throws_ok(format('SELECT womgr.create_technician(%s, jsonb_build_object(''name'', ''X'', ''home_branch_id'', %s, ''skills'', ''[{"skill": "welding", "level": 2}]''::jsonb))', :t, :nbo),
                 '23503', 'skill "welding" does not exist', 'technician: unknown skill');
SELECT is((SELECT count(*)::int FROM womgr.technician WHERE tenant_id = :t), 1, 'technician: failed creations left no technician behind');
SELECT throws_ok(format('SELECT womgr.update_technician(%s, 999999, ''{"name": "X"}'')', :t), 'P0002', NULL, 'technician: update unknown');
SELECT throws_ok(format('SELECT womgr.set_technician_skill(%s, %s, ''solar'', 0)', :t, :tech), '22003', 'skill level 0 is out of range', 'skill level: zero');
SELECT throws_ok(format('SELECT womgr.set_technician_skill(%s, %s, ''solar'', NULL)', :t, :tech), '22004', NULL, 'skill level: null');
SELECT throws_ok(format('SELECT womgr.set_technician_skill(%s, 999999, ''solar'', 3)', :t), '23503', 'technician 999999 does not exist', 'skill level: unknown technician');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "x", "name": "X", "default_priority": "asap"}'')', :t), '23503', 'priority "asap" does not exist', 'type: unknown priority');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "x", "name": "X", "estimated_duration": "a while"}'')', :t), '22023', NULL, 'type: unreadable duration');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "x", "name": "X", "estimated_duration": "-1 hour"}'')', :t), '22023', NULL, 'type: negative duration');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "x", "name": "X", "required_skills": ["solar"]}'')', :t), '42804', NULL, 'type: skills as array');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "x", "name": "X", "required_skills": {"solar": 6}}'')', :t), '22003', NULL, 'type: level out of range');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "x", "name": "X", "required_skills": {"welding": 2}}'')', :t), '23503', 'skill "welding" does not exist', 'type: unknown skill');
SELECT throws_ok(format('SELECT womgr.create_work_order_type(%s, ''{"code": "repair", "name": "X"}'')', :t), '23505', NULL, 'type: duplicate code');
SELECT is((SELECT count(*)::int FROM womgr.work_order_type WHERE tenant_id = :t AND code = 'x'), 0, 'type: failed creations left no type behind');

-- direct writes are guarded too
SELECT womgr.create_work_order(:t, (SELECT spec FROM ok_spec)) AS wo \gset
SELECT throws_ok(format('UPDATE womgr.work_order SET number = ''WO-FAKE'' WHERE tenant_id = %s AND work_order_id = %s', :t, :wo),
                 '55000', 'column "number" of a work order cannot change', 'work order: number is fixed');
SELECT throws_ok(format('UPDATE womgr.work_order SET external_ref = ''other'' WHERE tenant_id = %s AND work_order_id = %s', :t, :wo),
                 '55000', 'column "external_ref" of a work order cannot change', 'work order: external_ref is fixed');
SELECT throws_ok(format('UPDATE womgr.work_order_event SET actor = ''me'' WHERE tenant_id = %s', :t),
                 '55000', 'work_order_event is append-only', 'events: no UPDATE');
SELECT throws_ok(format('DELETE FROM womgr.work_order_event WHERE tenant_id = %s', :t),
                 '55000', 'work_order_event is append-only', 'events: no DELETE');
SELECT throws_ok('TRUNCATE womgr.work_order_event', '55000', 'TRUNCATE of audited table "work_order_event" is refused', 'events: no TRUNCATE');
SELECT throws_ok(format('UPDATE womgr.work_order SET status = NULL WHERE tenant_id = %s AND work_order_id = %s', :t, :wo),
                 '23502', NULL, 'work order: a NULL status is a not-null violation, not a crash');
SELECT throws_ok(format('INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description) SELECT NULL, %s, %s, work_order_type_id, default_priority_id, ''x'' FROM womgr.work_order_type WHERE tenant_id = %s AND code = ''repair''', :c1, :s1, :t),
                 '23502', NULL, 'work order: a NULL tenant is a not-null violation');
SELECT lives_ok(format('INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description, created_by) SELECT %s, %s, %s, work_order_type_id, default_priority_id, ''x'', NULL FROM womgr.work_order_type WHERE tenant_id = %s AND code = ''repair''', :t, :c1, :s1, :t),
                'work order: a NULL created_by is filled with the actor');
SELECT throws_ok('SET LOCAL womgr.client_ip = ''junk''', '22023', NULL, 'settings: womgr.client_ip must be an address');
SELECT throws_ok('SET LOCAL womgr.actor = ''   ''', '22023', NULL, 'settings: womgr.actor must not be blank');
SELECT throws_ok('SET LOCAL womgr.tenant_id = ''abc''', '22023', NULL, 'settings: womgr.tenant_id must be a bigint');
SELECT throws_ok('SELECT womgr._work_order_before()', '39P01', 'womgr_work_order_before() was not called as a trigger', 'trigger functions cannot be called directly');

SELECT * FROM finish();
ROLLBACK;
