-- search_path_attack: hostile objects planted in public before CREATE
-- EXTENSION and a caller whose search_path puts public before pg_catalog.
-- None of them may ever be called: every hostile object records its call.
\set ECHO none
\i test/pgtap_setup.psql
DROP EXTENSION IF EXISTS womgr CASCADE;
DROP SCHEMA IF EXISTS womgr;
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE public.pwned (what text);
-- Same names as what womgr calls, with exact-match signatures that beat
-- pg_catalog's (format is variadic "any"; these take plain types) or with
-- pg_catalog's own signatures for callers that put pg_catalog last.
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('format(text,text)'); RETURN pg_catalog.format($1, $2); END$$;
CREATE FUNCTION public.format(text, text, text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('format(text,text,text)'); RETURN pg_catalog.format($1, $2, $3); END$$;
CREATE FUNCTION public.format(text, regprocedure) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('format(text,regprocedure)'); RETURN pg_catalog.format($1, $2); END$$;
CREATE FUNCTION public.format(text, regclass) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('format(text,regclass)'); RETURN pg_catalog.format($1, $2); END$$;
CREATE FUNCTION public.format(text, regprocedure, text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('format(text,regprocedure,text)'); RETURN pg_catalog.format($1, $2, $3); END$$;
CREATE FUNCTION public.lpad(text, integer, text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('lpad'); RETURN pg_catalog.lpad($1, $2, $3); END$$;
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('length'); RETURN pg_catalog.length($1); END$$;
CREATE FUNCTION public.to_char(timestamp, text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('to_char'); RETURN pg_catalog.to_char($1, $2); END$$;
CREATE FUNCTION public.btrim(text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('btrim'); RETURN pg_catalog.btrim($1); END$$;
CREATE FUNCTION public.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('jsonb_typeof'); RETURN pg_catalog.jsonb_typeof($1); END$$;
CREATE FUNCTION public.hostile_int8eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('='); RETURN $1 OPERATOR(pg_catalog.=) $2; END$$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.hostile_int8eq);
CREATE FUNCTION public.hostile_numge(numeric, integer) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('>='); RETURN $1 OPERATOR(pg_catalog.>=) $2::numeric; END$$;
CREATE OPERATOR public.>= (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = public.hostile_numge);
CREATE FUNCTION public.st_makepoint(numeric, numeric) RETURNS geometry LANGUAGE plpgsql AS
$$BEGIN INSERT INTO public.pwned VALUES ('st_makepoint'); RETURN public.st_makepoint($1::float8, $2::float8); END$$;
-- decoy tables with the names of womgr's
CREATE TABLE public.tenant (tenant_id bigint, code text);
CREATE TABLE public.work_order (tenant_id bigint, work_order_id bigint);
CREATE TABLE public.customer (tenant_id bigint, customer_id bigint, active boolean);

CREATE EXTENSION womgr CASCADE;

BEGIN;
SELECT no_plan();
SELECT is((SELECT array_agg(DISTINCT what) FROM public.pwned), NULL, 'CREATE EXTENSION called no hostile object');

-- a caller that puts public before pg_catalog
SET LOCAL search_path = public, pg_catalog;
SELECT womgr.create_tenant('{"code": "spa", "name": "Search Path Attack Ltd", "timezone": "Africa/Nairobi"}') AS t \gset
SELECT womgr.set_context(:t, 'attacker.victim', '192.0.2.7') \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi", "location": {"lat": -1.29, "lon": 36.82}}') AS b \gset
SELECT womgr.update_branch(:t, :b, '{"address": "Moi Avenue"}') \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Acme', 'branch_id', :b, 'phone', '+254700000000')) AS c \gset
SELECT womgr.update_customer(:t, :c, '{"email": "ops@acme.co.ke"}') \gset
SELECT womgr.create_contact(:t, jsonb_build_object('customer_id', :c, 'name', 'Otieno', 'is_primary', true)) AS ct \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'HQ', 'location', jsonb_build_object('lat', -1.3, 'lon', 36.8))) AS s \gset
SELECT womgr.update_site(:t, :s, '{"city": "Nairobi"}') \gset
SELECT womgr.create_asset(:t, jsonb_build_object('site_id', :s, 'name', 'Genset', 'warranty_from', '2026-01-01', 'warranty_until', '2027-12-31')) AS a \gset
SELECT womgr.create_skill(:t, '{"code": "solar", "name": "Solar"}') AS sk \gset
SELECT womgr.update_skill(:t, :sk, '{"name": "Solar PV"}') \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Achieng', 'home_branch_id', :b,
                               'home_location', jsonb_build_object('lat', -1.28, 'lon', 36.81),
                               'skills', '[{"skill": "solar", "level": 4, "certified_until": "2027-06-30"}]'::jsonb)) AS tech \gset
SELECT womgr.update_technician(:t, :tech, '{"phone": "+254711111111"}') \gset
SELECT womgr.set_technician_skill(:t, :tech, 'solar', 5) \gset
SELECT womgr.create_work_order_type(:t, '{"code": "solar_install", "name": "Solar installation", "required_skills": {"solar": 3}}') AS ty \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'solar_install',
                               'description', 'Install 5 kW', 'asset_id', :a, 'source', 'api', 'external_ref', 'R-1',
                               'requested_window', jsonb_build_array('2026-12-01 08:00+03', '2026-12-01 17:00+03'))) AS wo \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'solar_install',
                               'description', 'Install 5 kW', 'source', 'api', 'external_ref', 'R-1')) AS wo_again \gset
-- the workflow, under the same hostile search_path
SELECT womgr.assign(:t, :wo, :tech, 'lead', '2026-12-01 08:00+03', '2026-12-01 12:00+03') \gset
SELECT womgr.create_department(:t, jsonb_build_object('code', 'solar', 'name', 'Solar crew', 'members', jsonb_build_array(:tech))) \gset
SELECT womgr.assign_department(:t, :wo, 'solar') \gset
SELECT womgr.transition(:t, :wo, 'scheduled', 'booked for 1 December') \gset
SELECT womgr.add_note(:t, :wo, 'Bring the long ladder @achieng', 'internal') \gset
SELECT womgr.update_work_order(:t, :wo, '{"quoted_amount": 150000.50, "resolution": "Installed", "fields": {"panels": 12}}') \gset
SELECT womgr.approve(:t, womgr.request_approval(:t, :wo, 'large_quote', 'quote Q-9')) \gset
SELECT womgr.transition(:t, :wo, 'in_progress') \gset
SELECT womgr.add_attachment(:t, :wo, jsonb_build_object('kind', 'photo_after', 'sha256', repeat('ab', 32), 'size_bytes', 10,
                            'mime_type', 'image/jpeg', 'storage_uri', 's3://x/1.jpg', 'captured_at', '2026-12-01T10:00:00+03:00',
                            'location', jsonb_build_object('lat', -1.3001, 'lon', 36.8))) \gset
SELECT womgr.update_work_order_type(:t, 'solar_install', '{"completion_requirements": {"min_after_photos": 1, "max_distance_m": 100}}') \gset
SELECT womgr.reclassify(:t, :wo, 'installation', 'wrong type') AS v1 \gset
SELECT womgr.reclassify(:t, :wo, 'solar_install', 'right type after all') AS v2 \gset
SELECT womgr.completion_status(:t, :wo) AS proof \gset
SELECT count(*) AS moves FROM womgr.available_transitions(:t, :wo) \gset
SELECT womgr.transition(:t, :wo, 'completed', NULL, :v2) \gset
SELECT womgr.create_workflow(:t, '{"code": "mini", "name": "Mini", "statuses": [{"code": "open", "label": "Open", "category": "new", "initial": true},
    {"code": "done", "label": "Done", "category": "completed"}], "transitions": [{"from": "open", "to": "done", "roles": ["technician"]}]}') \gset
SELECT womgr.create_work_order_template(:t, '{"code": "tpl", "name": "Tpl", "type": "solar_install", "description": "From template",
    "completion_requirements": {"signature": true}}') \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'template', 'tpl')) AS wo_tpl \gset
SELECT womgr.create_service_request(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'solar_install',
                                    'description', 'Panels dirty', 'channel', 'whatsapp')) AS sr \gset
SELECT womgr.approve_service_request(:t, :sr) \gset
SELECT womgr.convert_service_request(:t, :sr) AS wo_sr \gset
SELECT count(*) AS claimed FROM womgr.outbox_claim(:t, 5) \gset
SELECT womgr.current_actor() AS actor, womgr.current_client_ip() AS ip, womgr.current_tenant_id() AS tid \gset
SELECT womgr.demo_generate(30, 7) AS demo \gset
RESET search_path;

SELECT is(:wo_again::bigint, :wo::bigint, 'the calls worked under the hostile search_path');
SELECT is((SELECT concat_ws('|', status, completion_requirements ->> 'max_distance_m', :'proof'::jsonb ->> 'complete', :moves, :claimed)
             FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo),
          'completed|100|true|3|5', 'the workflow calls worked under it too');
SELECT is((SELECT count(*)::int FROM womgr.work_order WHERE tenant_id = :t AND work_order_id IN (:wo_tpl, :wo_sr)), 2,
          'templates and converted requests too');
SELECT ok((SELECT number ~ '^WO-NBO-\d{4}-000001$' FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :wo),
          'the work order got its number');
SELECT ok((SELECT count(*) FROM womgr.work_order WHERE tenant_id = :demo) = 30, 'the demo was generated');
SELECT is((SELECT array_agg(DISTINCT what) FROM public.pwned), NULL, 'no womgr function called a hostile object');
SELECT is((SELECT count(*)::int FROM public.tenant) + (SELECT count(*)::int FROM public.work_order)
          + (SELECT count(*)::int FROM public.customer), 0, 'the decoy tables were never written');
SELECT * FROM finish();
ROLLBACK;

-- leave a clean database for the tests that follow
DROP TABLE public.pwned, public.tenant, public.work_order, public.customer;
DROP OPERATOR public.= (bigint, bigint);
DROP OPERATOR public.>= (numeric, integer);
DROP FUNCTION public.format(text, text), public.format(text, text, text), public.format(text, regprocedure),
              public.format(text, regclass), public.format(text, regprocedure, text), public.lpad(text, integer, text),
              public.length(text), public.to_char(timestamp, text), public.btrim(text), public.jsonb_typeof(jsonb),
              public.hostile_int8eq(bigint, bigint), public.hostile_numge(numeric, integer),
              public.st_makepoint(numeric, numeric);
