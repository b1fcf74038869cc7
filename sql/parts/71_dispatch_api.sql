-- Dispatch: the policy, time off, GPS pings, territories, preferred
-- technicians, ranked matching (src/dispatch.c), batch planning with the
-- exact solver, emergency dispatch with bumping, and day routes.

CREATE FUNCTION @extschema@._dispatch_policy(p_tenant_id bigint, p_branch_id bigint)
    RETURNS @extschema@.dispatch_policy
    LANGUAGE sql STABLE
    AS $$
    SELECT d.* FROM @extschema@.dispatch_policy d
     WHERE d.tenant_id = p_tenant_id AND (d.branch_id = p_branch_id OR d.branch_id IS NULL)
     ORDER BY d.branch_id NULLS LAST LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@._dispatch_policy(bigint, bigint) IS
    'Internal: the dispatch policy in force for a branch (its own row, else the tenant''s).';

CREATE FUNCTION @extschema@.set_dispatch_policy(p_tenant_id bigint, p_branch_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'dispatch policy';
    c_numbers constant text[] := ARRAY['w_travel', 'w_skill_fit', 'w_workload', 'w_sla', 'w_preferred', 'w_rating',
                                       'detour_factor', 'speed_kmh', 'max_travel_minutes'];
    v_key text;
    v_row @extschema@.dispatch_policy;
    v_fn regprocedure;
    v_geog regtype;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._check_branch_ref(p_tenant_id, p_branch_id);
    PERFORM @extschema@._spec_keys(p_spec, c_numbers || ARRAY['candidate_pool', 'cross_branch', 'horizon', 'ping_fresh',
                                                             'ping_retention', 'travel_function'], c_what);
    FOREACH v_key IN ARRAY c_numbers LOOP
        IF p_spec ? v_key AND jsonb_typeof(p_spec -> v_key) <> 'number' THEN
            RAISE EXCEPTION 'field "%" of the dispatch policy must be a number', v_key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It is %s.', p_spec -> v_key),
                      HINT = 'Weights are numbers of 0 or more; detour_factor 1 to 5; speed_kmh above 0.';
        END IF;
    END LOOP;
    FOREACH v_key IN ARRAY ARRAY['horizon', 'ping_fresh', 'ping_retention'] LOOP
        IF p_spec ? v_key AND jsonb_typeof(p_spec -> v_key) <> 'string' THEN
            RAISE EXCEPTION 'field "%" of the dispatch policy must be an interval in a string', v_key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It is %s.', p_spec -> v_key),
                      HINT = 'Send a duration such as "30 minutes" or "1 day".';
        END IF;
    END LOOP;
    SELECT * INTO v_row FROM @extschema@.dispatch_policy
     WHERE tenant_id = p_tenant_id AND branch_id IS NOT DISTINCT FROM p_branch_id FOR UPDATE;
    IF NOT FOUND THEN
        -- a branch starts from the tenant's policy
        v_row := @extschema@._dispatch_policy(p_tenant_id, NULL);
        IF v_row.tenant_id IS NULL OR p_branch_id IS NULL THEN
            INSERT INTO @extschema@.dispatch_policy (tenant_id, branch_id) VALUES (p_tenant_id, p_branch_id)
            RETURNING * INTO v_row;
        ELSE
            INSERT INTO @extschema@.dispatch_policy (tenant_id, branch_id, w_travel, w_skill_fit, w_workload, w_sla,
                   w_preferred, w_rating, detour_factor, speed_kmh, max_travel_minutes, candidate_pool, cross_branch,
                   horizon, ping_fresh, ping_retention, travel_function)
            VALUES (p_tenant_id, p_branch_id, v_row.w_travel, v_row.w_skill_fit, v_row.w_workload, v_row.w_sla,
                   v_row.w_preferred, v_row.w_rating, v_row.detour_factor, v_row.speed_kmh, v_row.max_travel_minutes,
                   v_row.candidate_pool, v_row.cross_branch, v_row.horizon, v_row.ping_fresh, v_row.ping_retention,
                   v_row.travel_function)
            RETURNING * INTO v_row;
        END IF;
    END IF;
    IF p_spec ? 'travel_function' AND jsonb_typeof(p_spec -> 'travel_function') <> 'null' THEN
        SELECT a.atttypid::regtype INTO v_geog FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = '@extschema@.site'::regclass AND a.attname = 'location';
        BEGIN
            -- a schema-qualified name; the (geography, geography) signature is implied
            v_fn := pg_catalog.format('%s(%s, %s)',
                        pg_catalog.regexp_replace(p_spec ->> 'travel_function', '\s*\(.*$', ''), v_geog, v_geog)::regprocedure;
        EXCEPTION WHEN undefined_function OR invalid_text_representation OR syntax_error OR undefined_object
                    OR invalid_schema_name OR invalid_name THEN
            RAISE EXCEPTION 'travel function "%" does not exist', p_spec ->> 'travel_function'
                USING ERRCODE = 'undefined_function',
                      DETAIL = 'The travel function is named with its schema, e.g. "routing.road_minutes", and takes (from geography, to geography).',
                      HINT = 'Create it first; it returns float8 minutes, or NULL when the site cannot be reached.';
        END;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                        WHERE p.oid = v_fn AND p.prorettype = 'float8'::regtype AND NOT p.proretset) THEN
            RAISE EXCEPTION 'travel function % has the wrong signature', v_fn
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Dispatch calls it with (from geography, to geography) and expects float8 minutes back.',
                      HINT = 'Declare it as FUNCTION ...(p_from geography, p_to geography) RETURNS float8.';
        END IF;
    END IF;
    BEGIN
        UPDATE @extschema@.dispatch_policy d SET
            w_travel = coalesce((p_spec ->> 'w_travel')::float8, d.w_travel),
            w_skill_fit = coalesce((p_spec ->> 'w_skill_fit')::float8, d.w_skill_fit),
            w_workload = coalesce((p_spec ->> 'w_workload')::float8, d.w_workload),
            w_sla = coalesce((p_spec ->> 'w_sla')::float8, d.w_sla),
            w_preferred = coalesce((p_spec ->> 'w_preferred')::float8, d.w_preferred),
            w_rating = coalesce((p_spec ->> 'w_rating')::float8, d.w_rating),
            detour_factor = coalesce((p_spec ->> 'detour_factor')::float8, d.detour_factor),
            speed_kmh = coalesce((p_spec ->> 'speed_kmh')::float8, d.speed_kmh),
            max_travel_minutes = coalesce((p_spec ->> 'max_travel_minutes')::float8, d.max_travel_minutes),
            candidate_pool = coalesce(@extschema@._spec_bigint(p_spec, 'candidate_pool', false, c_what)::integer,
                                      d.candidate_pool),
            cross_branch = coalesce(@extschema@._spec_bool(p_spec, 'cross_branch', false, c_what), d.cross_branch),
            horizon = coalesce((p_spec ->> 'horizon')::interval, d.horizon),
            ping_fresh = coalesce((p_spec ->> 'ping_fresh')::interval, d.ping_fresh),
            ping_retention = coalesce((p_spec ->> 'ping_retention')::interval, d.ping_retention),
            travel_function = CASE WHEN p_spec ? 'travel_function' THEN v_fn ELSE d.travel_function END,
            updated_at = now()
        WHERE d.tenant_id = p_tenant_id AND d.dispatch_policy_id = v_row.dispatch_policy_id
        RETURNING d.dispatch_policy_id INTO v_id;
    EXCEPTION
        WHEN check_violation OR numeric_value_out_of_range OR invalid_text_representation
          OR invalid_datetime_format OR datetime_field_overflow THEN
            RAISE EXCEPTION 'the dispatch policy % is not valid', p_spec
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = SQLERRM,
                      HINT = 'Weights are 0 or more (not all 0); detour_factor 1 to 5; speed_kmh above 0 up to 200; '
                             'candidate_pool 1 to 1000; horizon up to 31 days; intervals such as "30 minutes".';
    END;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_dispatch_policy(bigint, bigint, jsonb) IS
    'Sets the dispatch policy of the tenant (p_branch_id NULL) or of one branch (starting from the tenant''s): weights w_travel, w_skill_fit, w_workload, w_sla, w_preferred, w_rating; detour_factor, speed_kmh, max_travel_minutes, candidate_pool, cross_branch, horizon, ping_fresh, ping_retention, and travel_function (a road-travel hook: the schema-qualified name of a function (geography, geography) RETURNS float8 minutes, or null). Returns the policy id.';

CREATE FUNCTION @extschema@.add_time_off(p_tenant_id bigint, p_technician_id bigint, p_from timestamptz,
                                        p_to timestamptz, p_reason text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_technician_id, 'technician');
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id),
        'technician', coalesce(p_technician_id::text, 'null'), 'Create the technician first.');
    IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from OR NOT isfinite(p_from) OR NOT isfinite(p_to) THEN
        RAISE EXCEPTION 'time off must end after it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It runs from %s to %s.', coalesce(p_from::text, 'null'), coalesce(p_to::text, 'null')),
                  HINT = 'Pass finite times with the end after the start.';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'time off needs a reason'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The reason (leave, sick, training, ...) is kept with it.',
                  HINT = 'Pass a short reason.';
    END IF;
    INSERT INTO @extschema@.technician_time_off (tenant_id, technician_id, period, reason, created_by)
    VALUES (p_tenant_id, p_technician_id, tstzrange(p_from, p_to), btrim(p_reason), @extschema@.current_actor())
    RETURNING time_off_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_time_off(bigint, bigint, timestamptz, timestamptz, text) IS
    'Records leave, sickness or training for a technician from p_from to p_to; dispatch never books them then (bookings already made stay; re-dispatch them). Returns its id.';

CREATE FUNCTION @extschema@.record_location(p_tenant_id bigint, p_technician_id bigint, p_lat float8, p_lon float8,
                                           p_recorded_at timestamptz DEFAULT now(), p_accuracy_m real DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_point @extschema@.technician.last_location%TYPE;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_technician_id, 'technician');
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id),
        'technician', coalesce(p_technician_id::text, 'null'), 'Create the technician first.');
    IF p_lat IS NULL OR p_lon IS NULL OR p_recorded_at IS NULL THEN
        RAISE EXCEPTION 'a location needs a latitude, a longitude and a time'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('Latitude %s, longitude %s, recorded at %s.', coalesce(p_lat::text, 'null'),
                                  coalesce(p_lon::text, 'null'), coalesce(p_recorded_at::text, 'null')),
                  HINT = 'Send the phone''s GPS fix and the time it was taken.';
    END IF;
    IF NOT isfinite(p_recorded_at) OR p_recorded_at > now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'a location recorded at % is in the future', p_recorded_at
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Pings are taken before they are sent; five minutes of clock skew are allowed.',
                  HINT = 'Check the phone''s clock.';
    END IF;
    IF p_accuracy_m < 0 OR p_accuracy_m = 'NaN' THEN
        RAISE EXCEPTION 'accuracy % m is not valid', p_accuracy_m
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Accuracy is the radius of the GPS fix in metres, zero or more.',
                  HINT = 'Send the accuracy the phone reports, or NULL.';
    END IF;
    v_point := @extschema@._point(p_lat, p_lon);
    INSERT INTO @extschema@.technician_location (tenant_id, technician_id, recorded_at, location, accuracy_m)
    VALUES (p_tenant_id, p_technician_id, p_recorded_at, v_point, p_accuracy_m)
    ON CONFLICT DO NOTHING;     -- the same ping sent twice (offline sync)
    UPDATE @extschema@.technician
       SET last_location = v_point, last_location_at = p_recorded_at
     WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id
       AND (last_location_at IS NULL OR last_location_at < p_recorded_at);
END
$$;
COMMENT ON FUNCTION @extschema@.record_location(bigint, bigint, float8, float8, timestamptz, real) IS
    'Records a GPS ping of a technician (idempotent for the same time); the latest ping is the technician''s position for dispatch while it is fresh (dispatch_policy.ping_fresh).';

CREATE FUNCTION @extschema@.purge_technician_locations(p_tenant_id bigint DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_deleted bigint;
BEGIN
    IF p_tenant_id IS NOT NULL THEN
        PERFORM @extschema@._require_tenant(p_tenant_id);
    END IF;
    WITH gone AS (
        DELETE FROM @extschema@.technician_location l
         USING @extschema@.technician t
         WHERE t.tenant_id = l.tenant_id AND t.technician_id = l.technician_id
           AND (p_tenant_id IS NULL OR l.tenant_id = p_tenant_id)
           AND l.recorded_at < now() - (@extschema@._dispatch_policy(t.tenant_id, t.home_branch_id)).ping_retention
        RETURNING 1)
    SELECT count(*) INTO v_deleted FROM gone;
    -- stale positions go back to the home base, so the search index finds them there
    UPDATE @extschema@.technician t SET last_location = NULL, last_location_at = NULL
     WHERE (p_tenant_id IS NULL OR t.tenant_id = p_tenant_id) AND t.last_location_at IS NOT NULL
       AND t.last_location_at < now() - (@extschema@._dispatch_policy(t.tenant_id, t.home_branch_id)).ping_fresh;
    RETURN v_deleted;
END
$$;
COMMENT ON FUNCTION @extschema@.purge_technician_locations(bigint) IS
    'Deletes GPS pings older than the policy''s ping_retention and clears positions older than ping_fresh (all tenants when p_tenant_id is NULL); returns the pings deleted. Schedule it daily.';

CREATE FUNCTION @extschema@.create_territory(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'territory';
    v_code text;
    v_wkt text;
    v_area @extschema@.territory.area%TYPE;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'area', 'technicians'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'westlands');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.territory WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    v_wkt := btrim(@extschema@._spec_text(p_spec, 'area', true, c_what));
    IF v_wkt ~* '^polygon\s*\(' THEN
        v_wkt := 'MULTIPOLYGON(' || substr(v_wkt, strpos(v_wkt, '(')) || ')';
    END IF;
    BEGIN
        v_area := 'SRID=4326;' || v_wkt;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'field "area" of the territory spec is not a polygon'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = SQLERRM,
                  HINT = 'Send WKT in longitude latitude order, e.g. "POLYGON((36.78 -1.28, 36.83 -1.28, 36.83 -1.24, 36.78 -1.24, 36.78 -1.28))".';
    END;
    INSERT INTO @extschema@.territory (tenant_id, code, name, area)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what), v_area)
    RETURNING territory_id INTO v_id;
    INSERT INTO @extschema@.technician_territory (tenant_id, technician_id, territory_id)
    SELECT p_tenant_id, m, v_id FROM unnest(@extschema@._spec_technicians(p_tenant_id, p_spec, 'technicians', 'technician', c_what)) m
    ON CONFLICT DO NOTHING;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_territory(bigint, jsonb) IS
    'Creates a territory from {"code", "name", "area": WKT POLYGON or MULTIPOLYGON (longitude latitude), "technicians": [ids]}: those technicians also serve sites inside it, whatever their home branch. Returns its id.';

CREATE FUNCTION @extschema@.set_preferred_technician(p_tenant_id bigint, p_customer_id bigint, p_technician_id bigint,
                                                    p_preferred boolean DEFAULT true) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_customer_id, 'customer');
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = p_customer_id),
        'customer', coalesce(p_customer_id::text, 'null'), 'Create the customer first.');
    PERFORM @extschema@._require_id(p_technician_id, 'technician');
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id),
        'technician', coalesce(p_technician_id::text, 'null'), 'Create the technician first.');
    IF coalesce(p_preferred, false) THEN
        INSERT INTO @extschema@.preferred_technician (tenant_id, customer_id, technician_id)
        VALUES (p_tenant_id, p_customer_id, p_technician_id) ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM @extschema@.preferred_technician
         WHERE tenant_id = p_tenant_id AND customer_id = p_customer_id AND technician_id = p_technician_id;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.set_preferred_technician(bigint, bigint, bigint, boolean) IS
    'Marks (or with p_preferred false, unmarks) a technician the customer prefers; dispatch scoring favours them.';

-- ---------- matching ----------

CREATE FUNCTION @extschema@._dispatch_candidates(p_tenant_id bigint, p_work_order_id bigint, p_limit integer,
                                                p_window tstzrange, p_bump_rank integer, p_as_of timestamptz DEFAULT NULL)
    RETURNS TABLE (technician_id bigint, rank integer, score float8, distance_m float8, travel_minutes float8,
                   skill_fit float8, workload float8, reasons jsonb, start_at timestamptz, travel_s integer,
                   bumps bigint[])
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'womgr_dispatch_candidates';
COMMENT ON FUNCTION @extschema@._dispatch_candidates(bigint, bigint, integer, tstzrange, integer, timestamptz) IS
    'Internal: the ranked candidates of womgr.match_technicians() with their earliest start, travel seconds and, when p_bump_rank is set, the bookings of lower-priority work orders (rank greater than p_bump_rank) not started by then that each would bump. With p_as_of the match is made as of that time (nobody leaves before it) instead of now.';

CREATE FUNCTION @extschema@.match_technicians(p_tenant_id bigint, p_work_order_id bigint, p_limit integer DEFAULT 10,
                                             p_window tstzrange DEFAULT NULL)
    RETURNS TABLE (technician_id bigint, rank integer, score float8, distance_m float8, travel_minutes float8,
                   skill_fit float8, workload float8, reasons jsonb)
    LANGUAGE sql VOLATILE
    AS $$
    SELECT c.technician_id, c.rank, c.score, c.distance_m, c.travel_minutes, c.skill_fit, c.workload, c.reasons
      FROM @extschema@._dispatch_candidates(p_tenant_id, p_work_order_id, p_limit, p_window, NULL) c
$$;
COMMENT ON FUNCTION @extschema@.match_technicians(bigint, bigint, integer, tstzrange) IS
    'The best technicians for a work order, ranked: only those with every required skill at its level and a valid certification, serving the site''s branch or a territory around it, and free for the job''s duration plus travel inside p_window (default: the requested window, else now plus the policy''s horizon) within a shift and not on leave. score (0..1, higher is better) weighs travel, skill fit, workload, SLA slack, preferred technician and rating (womgr.dispatch_policy); reasons explains every part and gives the earliest start.';

-- ---------- booking what dispatch decided ----------

CREATE FUNCTION @extschema@._schedule_if_allowed(p_tenant_id bigint, p_work_order_id bigint, p_note text)
    RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_to text;
BEGIN
    SELECT a.to_status INTO v_to FROM @extschema@.available_transitions(p_tenant_id, p_work_order_id) a
     WHERE a.category = 'scheduled' AND a.allowed AND NOT a.requires_note
     LIMIT 1;
    IF v_to IS NOT NULL THEN
        PERFORM @extschema@.transition(p_tenant_id, p_work_order_id, v_to, p_note);
    END IF;
    RETURN v_to;
END
$$;
COMMENT ON FUNCTION @extschema@._schedule_if_allowed(bigint, bigint, text) IS
    'Internal: moves a newly booked work order to its workflow''s scheduled status when the workflow offers that move to the acting role; returns the status or NULL.';

CREATE FUNCTION @extschema@._release_cancelled_bookings() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE @extschema@.assignment
       SET ended_at = now(), ended_by = @extschema@.current_actor(), end_reason = 'work order cancelled'
     WHERE tenant_id = NEW.tenant_id AND work_order_id = NEW.work_order_id AND ended_at IS NULL AND booked IS NOT NULL
       AND upper(booked) > now();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._release_cancelled_bookings() IS
    'Internal trigger: a cancelled work order frees its technicians'' future bookings.';
CREATE TRIGGER work_order_release_bookings
    AFTER UPDATE ON @extschema@.work_order
    FOR EACH ROW WHEN (NEW.category = 'cancelled' AND OLD.category IS DISTINCT FROM NEW.category)
    EXECUTE FUNCTION @extschema@._release_cancelled_bookings();

CREATE FUNCTION @extschema@._check_as_of(p_at timestamptz) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_at IS NOT NULL AND NOT isfinite(p_at) THEN
        RAISE EXCEPTION 'dispatch as of % is not possible', p_at
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'p_at is the time the dispatcher acts.',
                  HINT = 'Pass a finite time, or NULL for now.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._check_as_of(timestamptz) IS 'Internal: raises invalid_parameter_value for an infinite p_at.';

CREATE FUNCTION @extschema@.dispatch_emergency(p_tenant_id bigint, p_work_order_id bigint, p_at timestamptz DEFAULT NULL)
    RETURNS TABLE (assignment_id bigint, technician_id bigint, start_at timestamptz, travel_minutes float8,
                   bumped_work_order_ids bigint[])
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
DECLARE
    v_wo @extschema@.work_order := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    v_rank integer;
    v_pol @extschema@.dispatch_policy;
    v_dur interval;
    v_best record;
    v_bumped record;
    v_bumped_ids bigint[] := '{}';
    v_actor text := @extschema@.current_actor();
    v_to text;
    v_id bigint;
    v_at timestamptz := coalesce(p_at, now());
BEGIN
    PERFORM @extschema@._check_as_of(p_at);
    SELECT p.rank INTO v_rank FROM @extschema@.priority p WHERE p.tenant_id = p_tenant_id AND p.priority_id = v_wo.priority_id;
    SELECT ty.estimated_duration INTO v_dur FROM @extschema@.work_order_type ty
     WHERE ty.tenant_id = p_tenant_id AND ty.work_order_type_id = v_wo.work_order_type_id;
    v_pol := @extschema@._dispatch_policy(p_tenant_id, v_wo.branch_id);
    -- the earliest arrival wins; bumping fewer bookings breaks ties, then the score
    SELECT c.* INTO v_best
      FROM @extschema@._dispatch_candidates(p_tenant_id, p_work_order_id, 1000,
                                            tstzrange(NULL, v_at + v_pol.horizon), v_rank, v_at) c
     ORDER BY c.start_at, cardinality(c.bumps), c.rank
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no technician can take work order % now', v_wo.number
            USING ERRCODE = 'WM004',
                  DETAIL = format('Nobody qualified, in range and on shift is free (or bookable by bumping lower-priority work) between %s and %s.',
                                  v_at, v_at + v_pol.horizon),
                  HINT = 'Widen the policy (cross_branch, max_travel_minutes, horizon) or assign someone by hand with womgr.assign().';
    END IF;
    FOR v_bumped IN
        SELECT a.assignment_id, a.work_order_id, a.booked, w.number
          FROM @extschema@.assignment a
          JOIN @extschema@.work_order w ON w.tenant_id = a.tenant_id AND w.work_order_id = a.work_order_id
         WHERE a.tenant_id = p_tenant_id AND a.assignment_id = ANY (v_best.bumps)
         ORDER BY a.assignment_id
    LOOP
        PERFORM @extschema@._lock_work_order(p_tenant_id, v_bumped.work_order_id, NULL);
        UPDATE @extschema@.assignment a
           SET ended_at = now(), ended_by = v_actor, end_reason = 'bumped by emergency ' || v_wo.number
         WHERE a.tenant_id = p_tenant_id AND a.assignment_id = v_bumped.assignment_id;
        PERFORM @extschema@._log_event(p_tenant_id, v_bumped.work_order_id, 'bumped',
            jsonb_build_object('assignment_id', v_bumped.assignment_id, 'technician_id', v_best.technician_id,
                               'booked', v_bumped.booked, 'by_work_order_id', p_work_order_id,
                               'by_work_order', v_wo.number));
        -- back to the queue: unscheduled when the workflow offers it
        SELECT a.to_status INTO v_to FROM @extschema@.available_transitions(p_tenant_id, v_bumped.work_order_id) a
         WHERE a.category = 'new' AND a.allowed AND NOT a.requires_note LIMIT 1;
        IF v_to IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM @extschema@.assignment x
                WHERE x.tenant_id = p_tenant_id AND x.work_order_id = v_bumped.work_order_id AND x.ended_at IS NULL) THEN
            PERFORM @extschema@.transition(p_tenant_id, v_bumped.work_order_id, v_to,
                                           'Bumped by emergency ' || v_wo.number);
        END IF;
        v_bumped_ids := v_bumped_ids || v_bumped.work_order_id;
    END LOOP;
    v_id := @extschema@._book(p_tenant_id, p_work_order_id, v_best.technician_id, v_best.start_at, v_dur, v_best.travel_s);
    PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'emergency_dispatched',
        jsonb_build_object('assignment_id', v_id, 'technician_id', v_best.technician_id, 'start_at', v_best.start_at,
                           'travel_minutes', round(v_best.travel_minutes::numeric, 1), 'bumped_work_order_ids', v_bumped_ids,
                           'reasons', v_best.reasons));
    IF v_wo.category = 'new' THEN
        PERFORM @extschema@._schedule_if_allowed(p_tenant_id, p_work_order_id, 'Emergency dispatch');
    END IF;
    RETURN QUERY SELECT v_id, v_best.technician_id, v_best.start_at, v_best.travel_minutes, v_bumped_ids;
END
$$;
COMMENT ON FUNCTION @extschema@.dispatch_emergency(bigint, bigint, timestamptz) IS
    'Books the technician who can be at an urgent work order soonest (between now, or p_at when replaying a call, and the policy''s horizon), bumping bookings of lower-priority work orders when that is sooner: the bumped jobs lose the booking, get a "bumped" event (and outbox notification) and go back to the queue. All in one transaction; returns the booking, its start and travel, and the bumped work orders. WM004 when nobody can take it.';

-- ---------- booking ----------

CREATE FUNCTION @extschema@._book(p_tenant_id bigint, p_work_order_id bigint, p_technician_id bigint,
                                 p_start timestamptz, p_duration interval, p_travel_s integer) RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$
    SELECT @extschema@.assign(p_tenant_id, p_work_order_id, p_technician_id, 'lead', p_start, p_start + p_duration,
                              pg_catalog.make_interval(secs => p_travel_s))
$$;
COMMENT ON FUNCTION @extschema@._book(bigint, bigint, bigint, timestamptz, interval, integer) IS
    'Internal: books a technician as lead of a work order from p_start for p_duration, with p_travel_s seconds of travel before it; returns the assignment id.';

CREATE FUNCTION @extschema@._book_nearest(p_tenant_id bigint, p_work_order_id bigint, p_window tstzrange,
                                         p_duration interval, p_at timestamptz,
                                         OUT technician_id bigint, OUT start_at timestamptz, OUT travel_s integer)
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
BEGIN
    SELECT c.technician_id, c.start_at, c.travel_s INTO technician_id, start_at, travel_s
      FROM @extschema@._dispatch_candidates(p_tenant_id, p_work_order_id, 1000, p_window, NULL, p_at) c
     ORDER BY c.travel_s, c.start_at, c.technician_id LIMIT 1;
    IF technician_id IS NOT NULL THEN
        PERFORM @extschema@._book(p_tenant_id, p_work_order_id, technician_id, start_at, p_duration, travel_s);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._book_nearest(bigint, bigint, tstzrange, interval, timestamptz) IS
    'Internal: books the qualified, free technician with the least travel (then the earliest start) for a work order, as greedy "nearest qualified" does; returns who, when and the travel, or NULLs when nobody can.';

-- ---------- batch planning ----------

CREATE FUNCTION @extschema@._plan_queue(p_tenant_id bigint, p_branch_id bigint, p_day date, p_at timestamptz)
    RETURNS TABLE (work_order_id bigint, rank integer, duration interval, win tstzrange)
    LANGUAGE sql STABLE
    AS $$
    SELECT w.work_order_id, p.rank, ty.estimated_duration,
           CASE WHEN w.requested_window IS NULL THEN d.day ELSE w.requested_window * d.day END
      FROM @extschema@.branch b
     CROSS JOIN LATERAL (SELECT pg_catalog.tstzrange(p_day::timestamp AT TIME ZONE b.timezone,
                                                     (p_day + 1)::timestamp AT TIME ZONE b.timezone)
                                * pg_catalog.tstzrange(p_at, NULL) AS day) d
      JOIN @extschema@.work_order w ON w.tenant_id = b.tenant_id AND w.branch_id = b.branch_id
      JOIN @extschema@.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id AND s.location IS NOT NULL
      JOIN @extschema@.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
      JOIN @extschema@.work_order_type ty ON ty.tenant_id = w.tenant_id AND ty.work_order_type_id = w.work_order_type_id
     WHERE b.tenant_id = p_tenant_id AND b.branch_id = p_branch_id
       AND w.category = 'new'
       AND NOT isempty(d.day)
       AND (w.requested_window IS NULL OR w.requested_window && d.day)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.assignment a
                        WHERE a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id AND a.ended_at IS NULL)
     ORDER BY p.rank, w.created_at, w.work_order_id
$$;
COMMENT ON FUNCTION @extschema@._plan_queue(bigint, bigint, date, timestamptz) IS
    'Internal: the queue plan_dispatch() plans: the branch''s new work orders with nobody assigned, at sites with a location, whose requested window (if any) meets what is left of the day after p_at, most urgent first, each with the part of the day it may be done in.';

CREATE FUNCTION @extschema@._plan_solver(p_tenant_id bigint, p_jobs bigint[], p_win tstzrange[], p_dur interval[],
                                        p_first integer[], p_detour float8, p_speed_kmh float8, p_order integer,
                                        p_at timestamptz)
    RETURNS TABLE (job integer, technician_id bigint, start_at timestamptz, travel_s integer)
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
DECLARE
    v_n integer := coalesce(cardinality(p_jobs), 0);
    v_tech bigint[] := array_fill(NULL::bigint, ARRAY[greatest(v_n, 1)]);
    v_start timestamptz[] := array_fill(NULL::timestamptz, ARRAY[greatest(v_n, 1)]);
    v_travel integer[] := array_fill(NULL::integer, ARRAY[greatest(v_n, 1)]);
    v_lat float8[];
    v_lon float8[];
    v_key float8[];
    v_left integer[];
    v_techs bigint[];
    v_cost float8[];
    v_c_job integer[];
    v_c_tech bigint[];
    v_c_start timestamptz[];
    v_c_travel integer[];
    v_pred integer[];
    v_m integer;
    v_c integer;
    v_i integer;
    v_k integer;
    v_pair record;
    v_best record;
    v_other record;
    v_rank integer;
    v_moved integer[];
    v_new_tech bigint[];
    v_new_start timestamptz[];
    v_new_travel integer[];
    v_delta integer;
    v_best_delta integer;
    v_best_tech bigint;
    v_pass integer;
BEGIN
    -- 1. the jobs in p_first (in that order), each to its nearest candidate
    FOREACH v_i IN ARRAY coalesce(p_first, '{}') LOOP
        SELECT * INTO v_best FROM @extschema@._book_nearest(p_tenant_id, p_jobs[v_i], p_win[v_i], p_dur[v_i], p_at);
        v_tech[v_i] := v_best.technician_id; v_start[v_i] := v_best.start_at; v_travel[v_i] := v_best.travel_s;
    END LOOP;

    -- 2. chains: every job gets a predecessor, a technician (who drives from
    -- where they are) or an earlier job (the drive between the sites), so
    -- that the most jobs get one at the least total travel.  "Earlier"
    -- follows the order of the requested windows, so chains have no cycles;
    -- an edge needs someone qualified for both jobs and windows that allow
    -- both.  Each technician's chain is booked in order while the
    -- technician can take the next job.
    SELECT array_agg(ll.lat ORDER BY q.i), array_agg(ll.lon ORDER BY q.i) INTO v_lat, v_lon
      FROM unnest(p_jobs) WITH ORDINALITY q(wo, i)
      JOIN @extschema@.work_order w ON w.tenant_id = p_tenant_id AND w.work_order_id = q.wo
      JOIN @extschema@.site st ON st.tenant_id = w.tenant_id AND st.site_id = w.site_id
     CROSS JOIN LATERAL @extschema@._latlon(st.location) ll;
    -- among jobs with the same window, the order chains follow: urgency
    -- (p_order 0), or west to east, east to west, south to north, north to south
    v_key := ARRAY(SELECT CASE p_order WHEN 1 THEN v_lon[i] WHEN 2 THEN -v_lon[i] WHEN 3 THEN v_lat[i]
                                       WHEN 4 THEN -v_lat[i] ELSE 0 END
                     FROM generate_series(1, v_n) i ORDER BY i);
    SELECT array_agg(j ORDER BY j, c.technician_id), array_agg(c.technician_id ORDER BY j, c.technician_id),
           array_agg(c.start_at ORDER BY j, c.technician_id), array_agg(c.travel_s ORDER BY j, c.technician_id)
      INTO v_c_job, v_c_tech, v_c_start, v_c_travel
      FROM generate_series(1, v_n) AS j
     CROSS JOIN LATERAL @extschema@._dispatch_candidates(p_tenant_id, p_jobs[j], 1000, p_win[j], NULL, p_at) c
     WHERE v_tech[j] IS NULL;
    IF v_c_job IS NOT NULL THEN
        SELECT array_agg(DISTINCT x ORDER BY x) INTO v_techs FROM unnest(v_c_tech) x;
        v_m := cardinality(v_techs);
        v_cost := array_fill('Infinity'::float8, ARRAY[v_n, v_n + v_m]);
        FOR v_c IN 1 .. cardinality(v_c_job) LOOP
            v_cost[v_c_job[v_c]][v_n + array_position(v_techs, v_c_tech[v_c])] := v_c_travel[v_c] / 60.0;
        END LOOP;
        FOR v_pair IN
            SELECT e.i, e.j, e.minutes
              FROM (SELECT i, j,
                           2 * 6371008.8 * asin(least(1.0, sqrt(sin(radians(v_lat[i] - v_lat[j]) / 2) ^ 2
                               + cos(radians(v_lat[i])) * cos(radians(v_lat[j])) * sin(radians(v_lon[i] - v_lon[j]) / 2) ^ 2)))
                           * p_detour / (p_speed_kmh / 3.6) / 60.0 AS minutes
                      FROM generate_series(1, v_n) i, generate_series(1, v_n) j
                     WHERE v_tech[i] IS NULL AND v_tech[j] IS NULL
                       AND (lower(p_win[j]), upper(p_win[j]), v_key[j], j) < (lower(p_win[i]), upper(p_win[i]), v_key[i], i)) e
             WHERE lower(p_win[e.j]) + p_dur[e.j] + p_dur[e.i] <= upper(p_win[e.i])
               AND EXISTS (SELECT 1 FROM generate_series(1, cardinality(v_c_job)) a, generate_series(1, cardinality(v_c_job)) b
                            WHERE v_c_job[a] = e.i AND v_c_job[b] = e.j AND v_c_tech[a] = v_c_tech[b])
        LOOP
            v_cost[v_pair.i][v_pair.j] := v_pair.minutes;
        END LOOP;
        v_pred := array_fill(NULL::integer, ARRAY[v_n]);
        FOR v_pair IN SELECT s.row_no, s.col_no FROM @extschema@.solve_assignment(v_cost) s LOOP
            v_pred[v_pair.row_no] := v_pair.col_no;
        END LOOP;
        FOR v_k IN 1 .. v_m LOOP
            v_i := array_position(v_pred, v_n + v_k);
            WHILE v_i IS NOT NULL LOOP
                SELECT c.* INTO v_best
                  FROM @extschema@._dispatch_candidates(p_tenant_id, p_jobs[v_i], 1000, p_win[v_i], NULL, p_at) c
                 WHERE c.technician_id = v_techs[v_k];
                -- a job the technician cannot take is left for the rounds; the
                -- chain goes on after it
                IF FOUND THEN
                    PERFORM @extschema@._book(p_tenant_id, p_jobs[v_i], v_best.technician_id, v_best.start_at, p_dur[v_i],
                                              v_best.travel_s);
                    v_tech[v_i] := v_best.technician_id; v_start[v_i] := v_best.start_at; v_travel[v_i] := v_best.travel_s;
                END IF;
                v_i := array_position(v_pred, v_i);
            END LOOP;
        END LOOP;
    END IF;

    -- 3. rounds for what is left: each round gives each technician at most
    -- one more job, the assignment with the least total travel among those
    -- placing the most jobs (waiting costs a little, so rounds book early)
    LOOP
        SELECT array_agg(i ORDER BY i) INTO v_left FROM generate_series(1, v_n) i WHERE v_tech[i] IS NULL;
        EXIT WHEN v_left IS NULL;
        SELECT array_agg(j ORDER BY j, c.technician_id), array_agg(c.technician_id ORDER BY j, c.technician_id),
               array_agg(c.start_at ORDER BY j, c.technician_id), array_agg(c.travel_s ORDER BY j, c.technician_id)
          INTO v_c_job, v_c_tech, v_c_start, v_c_travel
          FROM unnest(v_left) AS j
         CROSS JOIN LATERAL @extschema@._dispatch_candidates(p_tenant_id, p_jobs[j], 1000, p_win[j], NULL, p_at) c;
        EXIT WHEN v_c_job IS NULL;
        SELECT array_agg(DISTINCT x ORDER BY x) INTO v_techs FROM unnest(v_c_tech) x;
        v_cost := array_fill('Infinity'::float8, ARRAY[cardinality(v_left), cardinality(v_techs)]);
        FOR v_c IN 1 .. cardinality(v_c_job) LOOP
            v_cost[array_position(v_left, v_c_job[v_c])][array_position(v_techs, v_c_tech[v_c])] :=
                v_c_travel[v_c] / 60.0 + 0.01 * extract(epoch FROM v_c_start[v_c] - lower(p_win[v_c_job[v_c]])) / 60.0;
        END LOOP;
        v_k := 0;
        FOR v_pair IN SELECT s.row_no, s.col_no FROM @extschema@.solve_assignment(v_cost) s LOOP
            v_i := v_left[v_pair.row_no];
            SELECT x.c INTO v_c FROM generate_series(1, cardinality(v_c_job)) x(c)
             WHERE v_c_job[x.c] = v_i AND v_c_tech[x.c] = v_techs[v_pair.col_no];
            PERFORM @extschema@._book(p_tenant_id, p_jobs[v_i], v_c_tech[v_c], v_c_start[v_c], p_dur[v_i], v_c_travel[v_c]);
            v_tech[v_i] := v_c_tech[v_c]; v_start[v_i] := v_c_start[v_c]; v_travel[v_i] := v_c_travel[v_c];
            v_k := v_k + 1;
        END LOOP;
        EXIT WHEN v_k = 0;
    END LOOP;

    -- 4. repair: a job still without a place takes one by moving jobs of this
    -- plan with the same or a lower priority to their nearest other place;
    -- of the ways that work, the one adding the least travel is kept
    FOR v_i IN SELECT i FROM generate_series(1, v_n) i WHERE v_tech[i] IS NULL ORDER BY i LOOP
        SELECT p.rank INTO v_rank FROM @extschema@.work_order w
          JOIN @extschema@.priority p ON p.tenant_id = w.tenant_id AND p.priority_id = w.priority_id
         WHERE w.tenant_id = p_tenant_id AND w.work_order_id = p_jobs[v_i];
        v_best_delta := NULL;
        v_pass := 0;
        WHILE v_pass < 2 LOOP      -- pass 1 tries every way (undone), pass 2 makes the best one
            v_pass := v_pass + 1;
            EXIT WHEN v_pass = 2 AND v_best_delta IS NULL;
            FOR v_best IN
                SELECT c.* FROM @extschema@._dispatch_candidates(p_tenant_id, p_jobs[v_i], 1000, p_win[v_i], v_rank - 1, p_at) c
                 WHERE cardinality(c.bumps) > 0
                   AND (v_pass = 1 OR c.technician_id = v_best_tech)
                   AND NOT EXISTS (SELECT 1 FROM @extschema@.assignment a
                                    WHERE a.tenant_id = p_tenant_id AND a.assignment_id = ANY (c.bumps)
                                      AND a.work_order_id <> ALL (p_jobs))
                 ORDER BY c.travel_s, c.technician_id
            LOOP
                BEGIN
                    v_moved := ARRAY(SELECT array_position(p_jobs, a.work_order_id) FROM @extschema@.assignment a
                                      WHERE a.tenant_id = p_tenant_id AND a.assignment_id = ANY (v_best.bumps));
                    UPDATE @extschema@.assignment a SET ended_at = now(), ended_by = 'plan_dispatch', end_reason = 'replanned'
                     WHERE a.tenant_id = p_tenant_id AND a.assignment_id = ANY (v_best.bumps);
                    PERFORM @extschema@._book(p_tenant_id, p_jobs[v_i], v_best.technician_id, v_best.start_at, p_dur[v_i],
                                              v_best.travel_s);
                    v_new_tech := v_tech; v_new_start := v_start; v_new_travel := v_travel;
                    v_new_tech[v_i] := v_best.technician_id; v_new_start[v_i] := v_best.start_at;
                    v_new_travel[v_i] := v_best.travel_s;
                    v_delta := v_best.travel_s;
                    FOREACH v_k IN ARRAY v_moved LOOP
                        SELECT * INTO v_other
                          FROM @extschema@._book_nearest(p_tenant_id, p_jobs[v_k], p_win[v_k], p_dur[v_k], p_at);
                        IF v_other.technician_id IS NULL THEN
                            RAISE EXCEPTION USING ERRCODE = 'WM9PR';
                        END IF;
                        v_delta := v_delta + v_other.travel_s - v_travel[v_k];
                        v_new_tech[v_k] := v_other.technician_id; v_new_start[v_k] := v_other.start_at;
                        v_new_travel[v_k] := v_other.travel_s;
                    END LOOP;
                    IF v_pass = 1 THEN
                        IF v_best_delta IS NULL OR v_delta < v_best_delta THEN
                            v_best_delta := v_delta;
                            v_best_tech := v_best.technician_id;
                        END IF;
                        RAISE EXCEPTION USING ERRCODE = 'WM9PR';
                    END IF;
                    v_tech := v_new_tech; v_start := v_new_start; v_travel := v_new_travel;
                    EXIT;
                EXCEPTION WHEN SQLSTATE 'WM9PR' THEN
                    NULL;       -- undone
                END;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN QUERY SELECT i, v_tech[i], v_start[i], v_travel[i] FROM generate_series(1, v_n) i;
END
$$;
COMMENT ON FUNCTION @extschema@._plan_solver(bigint, bigint[], tstzrange[], interval[], integer[], float8, float8, integer, timestamptz) IS
    'Internal: one attempt of plan_dispatch''s solver, booking as it goes (the caller rolls it back): the jobs in p_first to their nearest candidates, then chains found by the assignment solver over predecessors (p_order breaks ties among jobs with the same window: 0 urgency, 1 west to east, 2 east to west, 3 south to north, 4 north to south), then rounds of assignments for the rest, then a repair that gives a job still without a place the slot of jobs of the same or a lower priority that find another place; one row per job (technician NULL when it could not be placed).';

CREATE FUNCTION @extschema@.plan_dispatch(p_tenant_id bigint, p_branch_id bigint, p_day date, p_commit boolean DEFAULT false,
                                         p_at timestamptz DEFAULT NULL)
    RETURNS TABLE (work_order_id bigint, number text, priority_rank integer, technician_id bigint, start_at timestamptz,
                   finish_at timestamptz, travel_minutes float8, greedy_technician_id bigint, greedy_start_at timestamptz,
                   greedy_travel_minutes float8, jobs_total integer, jobs_placed integer, total_travel_minutes float8,
                   greedy_jobs_placed integer, greedy_total_travel_minutes float8)
    LANGUAGE plpgsql VOLATILE
    AS $$
#variable_conflict use_column
DECLARE
    v_jobs bigint[];
    v_win tstzrange[];
    v_dur interval[];
    v_n integer;
    v_pol @extschema@.dispatch_policy := @extschema@._dispatch_policy(p_tenant_id, p_branch_id);
    -- per job (same order as v_jobs): technician, start, travel seconds
    v_s_tech bigint[];
    v_s_start timestamptz[];
    v_s_travel integer[];
    v_g_tech bigint[];
    v_g_start timestamptz[];
    v_g_travel integer[];
    v_a_tech bigint[];
    v_a_start timestamptz[];
    v_a_travel integer[];
    v_first integer[] := '{}';
    v_best_minutes float8;
    v_placed integer := -1;
    v_minutes float8;
    v_i integer;
    v_best record;
    c_rollback constant text := 'WM9PD';
    v_at timestamptz := coalesce(p_at, now());
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_branch_id IS NULL OR p_day IS NULL THEN
        RAISE EXCEPTION 'plan_dispatch needs a branch and a day'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('Branch %s, day %s.', coalesce(p_branch_id::text, 'null'), coalesce(p_day::text, 'null')),
                  HINT = 'Pass the branch id and the day to plan, e.g. current_date + 1.';
    END IF;
    PERFORM @extschema@._check_branch_ref(p_tenant_id, p_branch_id);
    PERFORM @extschema@._check_as_of(p_at);
    IF NOT isfinite(p_day) THEN
        RAISE EXCEPTION 'day % is not a day to plan', p_day
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Plans are made for a calendar day.',
                  HINT = 'Pass a date such as current_date + 1.';
    END IF;
    SELECT array_agg(q.work_order_id ORDER BY q.ord), array_agg(q.win ORDER BY q.ord), array_agg(q.duration ORDER BY q.ord)
      INTO v_jobs, v_win, v_dur
      FROM (SELECT x.*, row_number() OVER () AS ord FROM @extschema@._plan_queue(p_tenant_id, p_branch_id, p_day, v_at) x) q;
    v_n := coalesce(cardinality(v_jobs), 0);
    v_g_tech := array_fill(NULL::bigint, ARRAY[greatest(v_n, 1)]);
    v_g_start := array_fill(NULL::timestamptz, ARRAY[greatest(v_n, 1)]);
    v_g_travel := array_fill(NULL::integer, ARRAY[greatest(v_n, 1)]);
    v_s_tech := v_g_tech; v_s_start := v_g_start; v_s_travel := v_g_travel;

    -- greedy "nearest qualified", most urgent job first; always rolled back
    BEGIN
        FOR v_i IN 1 .. v_n LOOP
            SELECT * INTO v_best FROM @extschema@._book_nearest(p_tenant_id, v_jobs[v_i], v_win[v_i], v_dur[v_i], v_at);
            v_g_tech[v_i] := v_best.technician_id;
            v_g_start[v_i] := v_best.start_at;
            v_g_travel[v_i] := v_best.travel_s;
        END LOOP;
        RAISE EXCEPTION USING ERRCODE = c_rollback;
    EXCEPTION WHEN SQLSTATE 'WM9PD' THEN
        NULL;
    END;

    -- the solver: attempts that differ in the order chains follow among jobs
    -- with the same window, and one that takes the jobs in urgency order as
    -- greedy does, each rolled back; the plan placing the most jobs, then
    -- with the least travel, wins
    FOR v_attempt IN 0 .. 5 LOOP
        EXIT WHEN v_n = 0;
        v_first := CASE WHEN v_attempt = 5 THEN ARRAY(SELECT generate_series(1, v_n)) ELSE '{}' END;
        BEGIN
            SELECT array_agg(x.technician_id ORDER BY x.job), array_agg(x.start_at ORDER BY x.job),
                   array_agg(x.travel_s ORDER BY x.job)
              INTO v_a_tech, v_a_start, v_a_travel
              FROM @extschema@._plan_solver(p_tenant_id, v_jobs, v_win, v_dur, v_first,
                                            v_pol.detour_factor, v_pol.speed_kmh, v_attempt, v_at) x;
            RAISE EXCEPTION USING ERRCODE = c_rollback;
        EXCEPTION WHEN SQLSTATE 'WM9PD' THEN
            NULL;
        END;
        SELECT count(x), coalesce(sum(y), 0) / 60.0 INTO v_i, v_minutes FROM unnest(v_a_tech, v_a_travel) u(x, y);
        IF v_i > v_placed OR (v_i = v_placed AND v_minutes < v_best_minutes) THEN
            v_placed := v_i;
            v_best_minutes := v_minutes;
            v_s_tech := v_a_tech; v_s_start := v_a_start; v_s_travel := v_a_travel;
        END IF;
    END LOOP;

    IF coalesce(p_commit, false) THEN
        FOR v_i IN SELECT i FROM generate_series(1, v_n) i WHERE v_s_tech[i] IS NOT NULL ORDER BY v_s_start[i], i LOOP
            PERFORM @extschema@._book(p_tenant_id, v_jobs[v_i], v_s_tech[v_i], v_s_start[v_i], v_dur[v_i], v_s_travel[v_i]);
            PERFORM @extschema@._schedule_if_allowed(p_tenant_id, v_jobs[v_i], 'Planned by plan_dispatch');
        END LOOP;
    END IF;

    RETURN QUERY
    WITH plan AS (
        SELECT i, v_jobs[i] AS wo, v_s_tech[i] AS st, v_s_start[i] AS ss, v_s_travel[i] AS sv,
               v_g_tech[i] AS gt, v_g_start[i] AS gs, v_g_travel[i] AS gv, v_dur[i] AS dur
          FROM generate_series(1, v_n) i)
    SELECT p.wo, w.number, pr.rank, p.st, p.ss, p.ss + p.dur, p.sv / 60.0::float8, p.gt, p.gs, p.gv / 60.0::float8,
           v_n, (count(p.st) OVER ())::integer, coalesce(sum(p.sv) OVER (), 0) / 60.0::float8,
           (count(p.gt) OVER ())::integer, coalesce(sum(p.gv) OVER (), 0) / 60.0::float8
      FROM plan p
      JOIN @extschema@.work_order w ON w.tenant_id = p_tenant_id AND w.work_order_id = p.wo
      JOIN @extschema@.priority pr ON pr.tenant_id = w.tenant_id AND pr.priority_id = w.priority_id
     ORDER BY p.i;
END
$$;
COMMENT ON FUNCTION @extschema@.plan_dispatch(bigint, bigint, date, boolean, timestamptz) IS
    'Plans a branch''s day: the new, unassigned work orders (at sites with a location) whose requested window meets what is left of the day after p_at (default now) are placed on technicians'' free time. Six attempts, each rolled back: five build chains of jobs per technician with one exact assignment over predecessors (a technician or an earlier job; ties among equal windows broken by urgency or by direction), then rounds of assignments for what is left, then a repair that moves jobs of the same or a lower priority to make room; the sixth takes the jobs in urgency order, each to its nearest candidate. The plan placing the most jobs, then with the least travel, is kept, so it never does worse than greedy. Returns one row per job with the plan (technician, start, finish, travel) next to greedy "nearest qualified, most urgent first", and the totals of both. With p_commit the plan is booked (and the jobs scheduled when the workflow allows) in the same transaction; without, nothing changes.';

-- ---------- day routes ----------

CREATE FUNCTION @extschema@.day_route(p_tenant_id bigint, p_technician_id bigint, p_day date)
    RETURNS TABLE (stop_no integer, work_order_id bigint, number text, site text, booked tstzrange,
                   arrive_at timestamptz, start_at timestamptz, finish_at timestamptz, travel_minutes float8,
                   distance_km float8, wait_minutes float8, late_minutes float8, total_travel_minutes float8,
                   total_distance_km float8)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    v_tech @extschema@.technician;
    v_tz text;
    v_day tstzrange;
    v_pol @extschema@.dispatch_policy;
    v_pos record;
    v_home record;
    v_depart timestamptz;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_technician_id IS NULL OR p_day IS NULL THEN
        RAISE EXCEPTION 'day_route needs a technician and a day'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('Technician %s, day %s.', coalesce(p_technician_id::text, 'null'), coalesce(p_day::text, 'null')),
                  HINT = 'Pass the technician id and the day, e.g. current_date.';
    END IF;
    IF NOT isfinite(p_day) THEN
        RAISE EXCEPTION 'day % is not a day to route', p_day
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Routes are made for a calendar day.',
                  HINT = 'Pass a date such as current_date.';
    END IF;
    SELECT * INTO v_tech FROM @extschema@.technician t WHERE t.tenant_id = p_tenant_id AND t.technician_id = p_technician_id;
    PERFORM @extschema@._require_ref(FOUND, 'technician', p_technician_id::text, 'Check the technician id.');
    SELECT b.timezone INTO v_tz FROM @extschema@.branch b WHERE b.tenant_id = p_tenant_id AND b.branch_id = v_tech.home_branch_id;
    v_day := tstzrange(p_day::timestamp AT TIME ZONE v_tz, (p_day + 1)::timestamp AT TIME ZONE v_tz);
    v_pol := @extschema@._dispatch_policy(p_tenant_id, v_tech.home_branch_id);
    -- where the day starts: a ping still fresh when the day starts, else home
    SELECT x.lat, x.lon INTO v_pos FROM @extschema@._latlon(
        CASE WHEN v_tech.last_location_at >= greatest(now(), lower(v_day)) - v_pol.ping_fresh OR v_tech.home_location IS NULL
             THEN v_tech.last_location ELSE v_tech.home_location END) x;
    SELECT x.lat, x.lon INTO v_home FROM @extschema@._latlon(v_tech.home_location) x;
    IF v_pos.lat IS NULL THEN
        RAISE EXCEPTION 'technician % has no location', v_tech.name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A route starts from the technician''s position or home base.',
                  HINT = 'Set home_location with womgr.update_technician() or record a ping with womgr.record_location().';
    END IF;
    RETURN QUERY
    WITH stops AS MATERIALIZED (
        SELECT row_number() OVER (ORDER BY lower(a.booked), a.assignment_id)::integer AS n,
               w.work_order_id, w.number, s.name AS site, a.booked, ll.lat, ll.lon,
               extract(epoch FROM upper(a.booked) - lower(a.booked))::float8 AS service_s,
               lower(w.requested_window) AS earliest,
               CASE WHEN upper(w.requested_window) IS NOT NULL
                    THEN greatest(upper(w.requested_window) - (upper(a.booked) - lower(a.booked)),
                                  coalesce(lower(w.requested_window), '-infinity')) END AS latest,
               lower(@extschema@._busy(a.booked, a.travel_s)) AS busy_from
          FROM @extschema@.assignment a
          JOIN @extschema@.work_order w ON w.tenant_id = a.tenant_id AND w.work_order_id = a.work_order_id
          JOIN @extschema@.site s ON s.tenant_id = w.tenant_id AND s.site_id = w.site_id
         CROSS JOIN LATERAL @extschema@._latlon(s.location) ll
         WHERE a.tenant_id = p_tenant_id AND a.technician_id = p_technician_id AND a.ended_at IS NULL
           AND a.booked IS NOT NULL AND lower(a.booked) <@ v_day
           AND w.category NOT IN ('completed', 'closed', 'cancelled') AND ll.lat IS NOT NULL),
    route AS (
        SELECT r.* FROM @extschema@._route_order(
            (SELECT min(busy_from) FROM stops),
            ARRAY[v_pos.lat] || (SELECT array_agg(lat ORDER BY n) FROM stops),
            ARRAY[v_pos.lon] || (SELECT array_agg(lon ORDER BY n) FROM stops),
            (SELECT array_agg(service_s ORDER BY n) FROM stops),
            (SELECT array_agg(earliest ORDER BY n) FROM stops),
            (SELECT array_agg(latest ORDER BY n) FROM stops),
            v_pol.detour_factor, v_pol.speed_kmh, v_home.lat, v_home.lon) r
         WHERE EXISTS (SELECT 1 FROM stops))
    SELECT r.seq, s.work_order_id, coalesce(s.number, 'home'), s.site, s.booked, r.arrive_at, r.start_at, r.finish_at,
           r.travel_s / 60.0, r.distance_m / 1000.0, r.wait_s / 60.0, r.late_s / 60.0,
           sum(r.travel_s) OVER (ORDER BY r.seq) / 60.0, sum(r.distance_m) OVER (ORDER BY r.seq) / 1000.0
      FROM route r LEFT JOIN stops s ON s.n = r.stop
     ORDER BY r.seq;
END
$$;
COMMENT ON FUNCTION @extschema@.day_route(bigint, bigint, date) IS
    'A technician''s stops of a day (active bookings of open work orders starting that day in the home branch''s time zone) in the best order: within each customer''s requested window where possible (least lateness first), then the least travel (insertion, 2-opt and or-opt in C). Starts when the first booking''s travel starts, from the technician''s ping when it is fresh at the day''s start, else from home; one row per stop with ETA (arrive_at), start, finish, leg travel, waiting and lateness, then a last row for the way home; the running totals make the last row the day''s totals. Nothing is rebooked.';
