-- Defining workflows, proof-of-completion requirements and the default
-- workflow every tenant starts with.

CREATE FUNCTION @extschema@._distance_m(p_a geography, p_b geography) RETURNS float8
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_distance_m';
COMMENT ON FUNCTION @extschema@._distance_m(geography, geography) IS
    'Internal: metres between two points on the WGS 84 spheroid (PostGIS ST_Distance, found without search_path).';

CREATE FUNCTION @extschema@._check_requirements(p_req jsonb, p_what text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_what text := p_what || ' completion requirements';
    v_out jsonb := '{}';
    v_n bigint;
    v_d numeric;
BEGIN
    IF p_req IS NULL OR jsonb_typeof(p_req) = 'null' THEN
        RETURN '{}';
    END IF;
    PERFORM @extschema@._spec_keys(p_req,
        ARRAY['signature', 'customer_confirmation', 'min_before_photos', 'min_after_photos', 'max_distance_m'], v_what);
    IF coalesce(@extschema@._spec_bool(p_req, 'signature', false, v_what), false) THEN
        v_out := v_out || '{"signature": true}';
    END IF;
    IF coalesce(@extschema@._spec_bool(p_req, 'customer_confirmation', false, v_what), false) THEN
        v_out := v_out || '{"customer_confirmation": true}';
    END IF;
    FOREACH p_what IN ARRAY ARRAY['min_before_photos', 'min_after_photos'] LOOP
        v_n := @extschema@._spec_bigint(p_req, p_what, false, v_what);
        IF v_n NOT BETWEEN 0 AND 50 THEN
            RAISE EXCEPTION 'field "%" of the % is out of range', p_what, v_what
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = format('It is %s; it must be from 0 to 50.', v_n),
                      HINT = 'Ask for the number of photos a technician can reasonably take.';
        END IF;
        IF v_n > 0 THEN
            v_out := v_out || jsonb_build_object(p_what, v_n);
        END IF;
    END LOOP;
    v_d := @extschema@._spec_numeric(p_req, 'max_distance_m', false, v_what);
    IF v_d IS NOT NULL AND (v_d <= 0 OR v_d > 100000) THEN
        RAISE EXCEPTION 'field "max_distance_m" of the % is out of range', v_what
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('It is %s; it must be more than 0 and at most 100000 metres.', v_d),
                  HINT = 'Typical values are 100 to 500 metres.';
    END IF;
    IF v_d IS NOT NULL THEN
        v_out := v_out || jsonb_build_object('max_distance_m', v_d);
    END IF;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION @extschema@._check_requirements(jsonb, text) IS
    'Internal: validates proof-of-completion requirements and returns them normalised (false and zero entries dropped).';

CREATE FUNCTION @extschema@._merge_requirements(p_a jsonb, p_b jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_a jsonb := @extschema@._check_requirements(p_a, 'work order');
    v_b jsonb := @extschema@._check_requirements(p_b, 'work order');
    v_out jsonb := v_a || v_b;
BEGIN
    -- the stricter of each: more photos, a smaller radius
    IF v_a ? 'min_before_photos' AND v_b ? 'min_before_photos' THEN
        v_out := v_out || jsonb_build_object('min_before_photos',
            greatest((v_a ->> 'min_before_photos')::int, (v_b ->> 'min_before_photos')::int));
    END IF;
    IF v_a ? 'min_after_photos' AND v_b ? 'min_after_photos' THEN
        v_out := v_out || jsonb_build_object('min_after_photos',
            greatest((v_a ->> 'min_after_photos')::int, (v_b ->> 'min_after_photos')::int));
    END IF;
    IF v_a ? 'max_distance_m' AND v_b ? 'max_distance_m' THEN
        v_out := v_out || jsonb_build_object('max_distance_m',
            least((v_a ->> 'max_distance_m')::numeric, (v_b ->> 'max_distance_m')::numeric));
    END IF;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION @extschema@._merge_requirements(jsonb, jsonb) IS
    'Internal: two sets of completion requirements merged, the stricter of each; so a template or plan can add requirements but never weaken the type''s.';

CREATE FUNCTION @extschema@._completion_missing(p_tenant_id bigint, p_work_order_id bigint, p_site_id bigint,
                                                p_req jsonb, p_confirmed boolean)
    RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_missing text[] := '{}';
    v_sig bigint;
    v_before bigint;
    v_after bigint;
    v_gps bigint;
    v_nearest float8;
    v_site @extschema@.site.location%TYPE;
    v_max numeric := (p_req ->> 'max_distance_m')::numeric;
BEGIN
    IF p_req IS NULL OR p_req = '{}' THEN
        RETURN v_missing;
    END IF;
    SELECT location INTO v_site FROM @extschema@.site WHERE tenant_id = p_tenant_id AND site_id = p_site_id;
    SELECT count(*) FILTER (WHERE a.kind = 'signature'),
           count(*) FILTER (WHERE a.kind = 'photo_before'),
           count(*) FILTER (WHERE a.kind = 'photo_after'),
           count(*) FILTER (WHERE a.kind IN ('photo_after', 'signature') AND a.location IS NOT NULL),
           min(@extschema@._distance_m(a.location, v_site)) FILTER (WHERE a.kind IN ('photo_after', 'signature'))
      INTO v_sig, v_before, v_after, v_gps, v_nearest
      FROM @extschema@.attachment a
     WHERE a.tenant_id = p_tenant_id AND a.work_order_id = p_work_order_id;
    IF (p_req ->> 'signature')::boolean AND v_sig = 0 THEN
        v_missing := v_missing || 'the customer''s signature (attachment kind signature)'::text;
    END IF;
    IF v_before < coalesce((p_req ->> 'min_before_photos')::int, 0) THEN
        v_missing := v_missing || format('%s before-photo(s), %s so far', p_req ->> 'min_before_photos', v_before);
    END IF;
    IF v_after < coalesce((p_req ->> 'min_after_photos')::int, 0) THEN
        v_missing := v_missing || format('%s after-photo(s), %s so far', p_req ->> 'min_after_photos', v_after);
    END IF;
    IF v_max IS NOT NULL THEN
        IF v_site IS NULL THEN
            v_missing := v_missing || format('the site''s location, to check the completion GPS point is within %s m', v_max);
        ELSIF v_gps = 0 THEN
            v_missing := v_missing || format('an after-photo or signature with a GPS point within %s m of the site (none has a GPS point)', v_max);
        ELSIF v_nearest > v_max THEN
            v_missing := v_missing || format('an after-photo or signature with a GPS point within %s m of the site (the nearest is %s m away)',
                                             v_max, round(v_nearest::numeric));
        END IF;
    END IF;
    IF (p_req ->> 'customer_confirmation')::boolean AND NOT coalesce(p_confirmed, false) THEN
        v_missing := v_missing || 'the customer''s confirmation (womgr.confirm_completion)'::text;
    END IF;
    RETURN v_missing;
END
$$;
COMMENT ON FUNCTION @extschema@._completion_missing(bigint, bigint, bigint, jsonb, boolean) IS
    'Internal: what a work order still lacks to meet its proof-of-completion requirements, one phrase per item.';

CREATE FUNCTION @extschema@._workflow_id(p_tenant_id bigint, p_workflow text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_workflow IS NULL THEN
        RAISE EXCEPTION 'workflow must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Name the workflow by its code.',
                  HINT = 'The default workflow every tenant starts with is "standard".';
    END IF;
    SELECT workflow_id INTO v_id FROM @extschema@.workflow WHERE tenant_id = p_tenant_id AND code = p_workflow;
    PERFORM @extschema@._require_ref(v_id IS NOT NULL, 'workflow', format('"%s"', p_workflow),
        'List workflows with SELECT code, name FROM womgr.workflow.');
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._workflow_id(bigint, text) IS 'Internal: the id of a workflow by code; raises foreign_key_violation when the tenant has none.';

CREATE FUNCTION @extschema@._spec_roles(p_spec jsonb, p_key text, p_what text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_arr jsonb := p_spec -> p_key;
    v_out text[] := '{}';
    v_elem jsonb;
BEGIN
    IF v_arr IS NULL OR jsonb_typeof(v_arr) = 'null' THEN
        RETURN v_out;
    END IF;
    IF jsonb_typeof(v_arr) <> 'array' THEN
        RAISE EXCEPTION 'field "%" of the % spec must be a JSON array of strings', p_key, p_what
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(v_arr)),
                  HINT = 'Send e.g. ["dispatcher", "technician"].';
    END IF;
    FOR v_elem IN SELECT value FROM jsonb_array_elements(v_arr) LOOP
        IF jsonb_typeof(v_elem) <> 'string' OR btrim(v_elem #>> '{}') = '' THEN
            RAISE EXCEPTION 'field "%" of the % spec must be a JSON array of strings', p_key, p_what
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = format('It holds %s.', v_elem),
                      HINT = 'Send e.g. ["dispatcher", "technician"].';
        END IF;
        v_out := v_out || (v_elem #>> '{}');
    END LOOP;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION @extschema@._spec_roles(jsonb, text, text) IS 'Internal: a JSON array of non-empty strings in a spec, as text[] (empty when absent).';

CREATE FUNCTION @extschema@._check_roles(p_roles text[], p_field text, p_what text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_bad text;
BEGIN
    SELECT r INTO v_bad FROM unnest(p_roles) r
     WHERE r NOT IN ('admin', 'manager', 'dispatcher', 'technician', 'accountant', 'auditor', 'customer', 'bi') LIMIT 1;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'field "%" of the % spec names an unknown role "%"', p_field, p_what, v_bad
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'womgr''s roles are admin, manager, dispatcher, technician, accountant, auditor, customer and bi.',
                  HINT = 'Use the short names; the database roles are womgr_<name>.';
    END IF;
    RETURN p_roles;
END
$$;
COMMENT ON FUNCTION @extschema@._check_roles(text[], text, text) IS 'Internal: raises unless every element is a womgr role name.';

CREATE FUNCTION @extschema@._add_workflow_status(p_tenant_id bigint, p_workflow_id bigint, p_spec jsonb,
                                                 p_position integer, p_seeded boolean)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'workflow status';
    v_code text;
    v_category text;
    v_clock text;
    v_initial boolean;
    v_id bigint;
BEGIN
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'label', 'category', 'sla_clock', 'initial'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'waiting_parts');
    PERFORM @extschema@._require_unique(EXISTS (
        SELECT 1 FROM @extschema@.workflow_status
         WHERE tenant_id = p_tenant_id AND workflow_id = p_workflow_id AND code = v_code), c_what, 'code', v_code);
    v_category := @extschema@._spec_text(p_spec, 'category', true, c_what);
    IF v_category NOT IN ('new', 'scheduled', 'in_progress', 'on_hold', 'completed', 'closed', 'cancelled') THEN
        RAISE EXCEPTION 'field "category" of the workflow status spec has an invalid value "%"', v_category
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Categories are new, scheduled, in_progress, on_hold, completed, closed and cancelled.',
                  HINT = 'Map each of your statuses to the system category it belongs to.';
    END IF;
    v_clock := coalesce(@extschema@._spec_text(p_spec, 'sla_clock', false, c_what),
                        CASE WHEN v_category = 'on_hold' THEN 'pause'
                             WHEN v_category IN ('completed', 'closed', 'cancelled') THEN 'stop'
                             ELSE 'run' END);
    IF v_clock NOT IN ('run', 'pause', 'stop') THEN
        RAISE EXCEPTION 'field "sla_clock" of the workflow status spec has an invalid value "%"', v_clock
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The SLA clock can run, pause or stop in a status.',
                  HINT = 'Leave it out for the category''s usual behaviour.';
    END IF;
    v_initial := coalesce(@extschema@._spec_bool(p_spec, 'initial', false, c_what), false);
    IF v_initial AND v_category <> 'new' THEN
        RAISE EXCEPTION 'the initial status "%" must have category new', v_code
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It has category %s.', v_category),
                  HINT = 'Work orders start in a status of category new.';
    END IF;
    IF v_initial AND EXISTS (SELECT 1 FROM @extschema@.workflow_status
                              WHERE tenant_id = p_tenant_id AND workflow_id = p_workflow_id AND is_initial) THEN
        RAISE EXCEPTION 'the workflow already has an initial status'
            USING ERRCODE = 'unique_violation',
                  DETAIL = 'Every work order starts in the one initial status of its workflow.',
                  HINT = 'Mark only one status as initial.';
    END IF;
    INSERT INTO @extschema@.workflow_status (tenant_id, workflow_id, code, label, category, sla_clock, is_initial, position, seeded)
    VALUES (p_tenant_id, p_workflow_id, v_code, @extschema@._spec_text(p_spec, 'label', true, c_what),
            v_category::@extschema@.status_category, v_clock, v_initial, p_position, p_seeded)
    RETURNING workflow_status_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._add_workflow_status(bigint, bigint, jsonb, integer, boolean) IS 'Internal: validates and adds one status to a workflow.';

CREATE FUNCTION @extschema@._add_approval_step(p_tenant_id bigint, p_workflow_id bigint, p_spec jsonb, p_seeded boolean)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'approval step';
    v_code text;
    v_roles text[];
    v_min numeric;
    v_id bigint;
BEGIN
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'approver_roles', 'min_quoted_amount'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'ops_manager');
    PERFORM @extschema@._require_unique(EXISTS (
        SELECT 1 FROM @extschema@.approval_step
         WHERE tenant_id = p_tenant_id AND workflow_id = p_workflow_id AND code = v_code), c_what, 'code', v_code);
    v_roles := @extschema@._check_roles(@extschema@._spec_roles(p_spec, 'approver_roles', c_what), 'approver_roles', c_what);
    IF cardinality(v_roles) = 0 THEN
        RAISE EXCEPTION 'field "approver_roles" of the approval step spec is required'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'An approval step needs at least one role that may approve it.',
                  HINT = 'Send e.g. ["manager"].';
    END IF;
    v_min := @extschema@._spec_numeric(p_spec, 'min_quoted_amount', false, c_what);
    IF v_min < 0 THEN
        RAISE EXCEPTION 'field "min_quoted_amount" of the approval step spec must not be negative'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('It is %s.', v_min),
                  HINT = 'Leave it out to require the approval on every work order.';
    END IF;
    INSERT INTO @extschema@.approval_step (tenant_id, workflow_id, code, name, approver_roles, min_quoted_amount, seeded)
    VALUES (p_tenant_id, p_workflow_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what),
            v_roles::@extschema@.workflow_role[], v_min, p_seeded)
    RETURNING approval_step_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._add_approval_step(bigint, bigint, jsonb, boolean) IS 'Internal: validates and adds one approval step to a workflow.';

CREATE FUNCTION @extschema@._add_workflow_transition(p_tenant_id bigint, p_workflow_id bigint, p_spec jsonb, p_seeded boolean)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'workflow transition';
    v_from text;
    v_to text;
    v_approvals text[];
    v_fields text[];
    v_bad text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['from', 'to', 'label', 'roles', 'requires_assignment',
        'required_approvals', 'requires_proof', 'required_fields', 'requires_note'], c_what);
    v_from := @extschema@._spec_text(p_spec, 'from', true, c_what);
    v_to := @extschema@._spec_text(p_spec, 'to', true, c_what);
    FOREACH v_bad IN ARRAY ARRAY[v_from, v_to] LOOP
        PERFORM @extschema@._require_ref(EXISTS (
            SELECT 1 FROM @extschema@.workflow_status
             WHERE tenant_id = p_tenant_id AND workflow_id = p_workflow_id AND code = v_bad),
            'workflow status', format('"%s"', v_bad), 'Add the status to the workflow first.');
    END LOOP;
    IF v_from = v_to THEN
        RAISE EXCEPTION 'a transition must lead to another status'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('"from" and "to" are both "%s".', v_from),
                  HINT = 'Changes that keep the status need no transition.';
    END IF;
    PERFORM @extschema@._require_unique(EXISTS (
        SELECT 1 FROM @extschema@.workflow_transition
         WHERE tenant_id = p_tenant_id AND workflow_id = p_workflow_id AND from_status = v_from AND to_status = v_to AND enabled),
        c_what, 'from/to', v_from || ' -> ' || v_to);
    v_approvals := @extschema@._spec_roles(p_spec, 'required_approvals', c_what);
    SELECT r INTO v_bad FROM unnest(v_approvals) r
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.approval_step s
                        WHERE s.tenant_id = p_tenant_id AND s.workflow_id = p_workflow_id AND s.code = r) LIMIT 1;
    PERFORM @extschema@._require_ref(v_bad IS NULL, 'approval step', format('"%s"', v_bad),
        'Add the approval step to the workflow first.');
    v_fields := @extschema@._spec_roles(p_spec, 'required_fields', c_what);
    SELECT f INTO v_bad FROM unnest(v_fields) f
     WHERE NOT (f ~ '^fields\.[A-Za-z0-9_]{1,60}$'
                OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = '@extschema@.work_order'::regclass AND a.attname = f
                              AND a.attnum > 0 AND NOT a.attisdropped)) LIMIT 1;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'field "required_fields" of the workflow transition spec names an unknown field "%"', v_bad
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Required fields are columns of womgr.work_order or custom fields written fields.<key>.',
                  HINT = 'Send e.g. ["resolution", "fields.meter_reading"].';
    END IF;
    -- a removed (disabled) transition between the same statuses is brought back with the new rules
    INSERT INTO @extschema@.workflow_transition AS tr (tenant_id, workflow_id, from_status, to_status, label, roles,
        requires_assignment, required_approvals, requires_proof, required_fields, requires_note, seeded)
    VALUES (p_tenant_id, p_workflow_id, v_from, v_to, @extschema@._spec_text(p_spec, 'label', false, c_what),
            @extschema@._check_roles(@extschema@._spec_roles(p_spec, 'roles', c_what), 'roles', c_what)::@extschema@.workflow_role[],
            coalesce(@extschema@._spec_bool(p_spec, 'requires_assignment', false, c_what), false),
            v_approvals,
            coalesce(@extschema@._spec_bool(p_spec, 'requires_proof', false, c_what), false),
            v_fields,
            coalesce(@extschema@._spec_bool(p_spec, 'requires_note', false, c_what), false),
            p_seeded)
    ON CONFLICT (tenant_id, workflow_id, from_status, to_status) DO UPDATE
       SET label = EXCLUDED.label, roles = EXCLUDED.roles, requires_assignment = EXCLUDED.requires_assignment,
           required_approvals = EXCLUDED.required_approvals, requires_proof = EXCLUDED.requires_proof,
           required_fields = EXCLUDED.required_fields, requires_note = EXCLUDED.requires_note, enabled = true
     WHERE NOT tr.enabled
    RETURNING workflow_transition_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._add_workflow_transition(bigint, bigint, jsonb, boolean) IS 'Internal: validates and adds one transition to a workflow.';

CREATE FUNCTION @extschema@._spec_array(p_spec jsonb, p_key text, p_what text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_spec -> p_key IS NULL OR jsonb_typeof(p_spec -> p_key) = 'null' THEN
        RETURN '[]';
    END IF;
    IF jsonb_typeof(p_spec -> p_key) <> 'array' THEN
        RAISE EXCEPTION 'field "%" of the % spec must be a JSON array', p_key, p_what
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(p_spec -> p_key)),
                  HINT = 'See the workflow reference in docs/workflow.md.';
    END IF;
    RETURN p_spec -> p_key;
END
$$;
COMMENT ON FUNCTION @extschema@._spec_array(jsonb, text, text) IS 'Internal: a JSON array field of a spec ([] when absent).';

CREATE FUNCTION @extschema@._create_workflow(p_tenant_id bigint, p_spec jsonb, p_seeded boolean) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'workflow';
    v_code text;
    v_default boolean;
    v_id bigint;
    v_elem jsonb;
    v_pos integer := 0;
BEGIN
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'default', 'statuses', 'approval_steps', 'transitions'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'solar_install');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.workflow WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    v_default := coalesce(@extschema@._spec_bool(p_spec, 'default', false, c_what), false);
    IF v_default THEN
        UPDATE @extschema@.workflow SET is_default = false WHERE tenant_id = p_tenant_id AND is_default;
    END IF;
    INSERT INTO @extschema@.workflow (tenant_id, code, name, is_default, seeded)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what), v_default, p_seeded)
    RETURNING workflow_id INTO v_id;
    FOR v_elem IN SELECT value FROM jsonb_array_elements(@extschema@._spec_array(p_spec, 'statuses', c_what)) LOOP
        v_pos := v_pos + 1;
        PERFORM @extschema@._add_workflow_status(p_tenant_id, v_id, v_elem, v_pos, p_seeded);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.workflow_status WHERE tenant_id = p_tenant_id AND workflow_id = v_id AND is_initial) THEN
        RAISE EXCEPTION 'workflow "%" has no initial status', v_code
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'New work orders start in the status marked "initial": true.',
                  HINT = 'Mark one status of category new as initial.';
    END IF;
    FOR v_elem IN SELECT value FROM jsonb_array_elements(@extschema@._spec_array(p_spec, 'approval_steps', c_what)) LOOP
        PERFORM @extschema@._add_approval_step(p_tenant_id, v_id, v_elem, p_seeded);
    END LOOP;
    FOR v_elem IN SELECT value FROM jsonb_array_elements(@extschema@._spec_array(p_spec, 'transitions', c_what)) LOOP
        PERFORM @extschema@._add_workflow_transition(p_tenant_id, v_id, v_elem, p_seeded);
    END LOOP;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._create_workflow(bigint, jsonb, boolean) IS 'Internal: creates a whole workflow from its spec.';

CREATE FUNCTION @extschema@.create_workflow(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    RETURN @extschema@._create_workflow(p_tenant_id, p_spec, false);
END
$$;
COMMENT ON FUNCTION @extschema@.create_workflow(bigint, jsonb) IS
    'Creates a workflow from {"code", "name", "default", "statuses": [{"code", "label", "category", "sla_clock", "initial"}], "approval_steps": [{"code", "name", "approver_roles", "min_quoted_amount"}], "transitions": [{"from", "to", "label", "roles", "requires_assignment", "required_approvals", "requires_proof", "required_fields", "requires_note"}]}; returns its id. "default": true makes it the tenant''s default.';

CREATE FUNCTION @extschema@.add_workflow_status(p_tenant_id bigint, p_workflow text, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wf bigint := @extschema@._workflow_id(p_tenant_id, p_workflow);
BEGIN
    RETURN @extschema@._add_workflow_status(p_tenant_id, v_wf, p_spec,
        (SELECT coalesce(max(position), 0) + 1 FROM @extschema@.workflow_status WHERE tenant_id = p_tenant_id AND workflow_id = v_wf),
        false);
END
$$;
COMMENT ON FUNCTION @extschema@.add_workflow_status(bigint, text, jsonb) IS
    'Adds a status {"code", "label", "category", optional "sla_clock", "initial"} to a workflow; returns its id.';

CREATE FUNCTION @extschema@.add_approval_step(p_tenant_id bigint, p_workflow text, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    RETURN @extschema@._add_approval_step(p_tenant_id, @extschema@._workflow_id(p_tenant_id, p_workflow), p_spec, false);
END
$$;
COMMENT ON FUNCTION @extschema@.add_approval_step(bigint, text, jsonb) IS
    'Adds an approval step {"code", "name", "approver_roles", optional "min_quoted_amount"} to a workflow; returns its id.';

CREATE FUNCTION @extschema@.add_workflow_transition(p_tenant_id bigint, p_workflow text, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    RETURN @extschema@._add_workflow_transition(p_tenant_id, @extschema@._workflow_id(p_tenant_id, p_workflow), p_spec, false);
END
$$;
COMMENT ON FUNCTION @extschema@.add_workflow_transition(bigint, text, jsonb) IS
    'Adds a transition {"from", "to", optional "label", "roles", "requires_assignment", "required_approvals", "requires_proof", "required_fields", "requires_note"} to a workflow; returns its id.';

CREATE FUNCTION @extschema@.remove_workflow_transition(p_tenant_id bigint, p_workflow text, p_from text, p_to text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wf bigint := @extschema@._workflow_id(p_tenant_id, p_workflow);
BEGIN
    -- seeded moves are disabled, not deleted, so a dump carries their removal
    UPDATE @extschema@.workflow_transition SET enabled = false
     WHERE tenant_id = p_tenant_id AND workflow_id = v_wf AND from_status = p_from AND to_status = p_to AND enabled AND seeded;
    IF NOT FOUND THEN
        DELETE FROM @extschema@.workflow_transition
         WHERE tenant_id = p_tenant_id AND workflow_id = v_wf AND from_status = p_from AND to_status = p_to AND enabled;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow "%" has no transition from "%" to "%"', p_workflow, p_from, p_to
            USING ERRCODE = 'no_data_found',
                  DETAIL = 'Nothing was removed.',
                  HINT = 'List transitions with SELECT from_status, to_status FROM womgr.workflow_transition.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.remove_workflow_transition(bigint, text, text, text) IS
    'Removes the transition between two statuses of a workflow; work orders can no longer make that move.';

CREATE FUNCTION @extschema@.set_default_workflow(p_tenant_id bigint, p_workflow text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wf bigint := @extschema@._workflow_id(p_tenant_id, p_workflow);
BEGIN
    UPDATE @extschema@.workflow SET is_default = false
     WHERE tenant_id = p_tenant_id AND is_default AND workflow_id <> v_wf;
    UPDATE @extschema@.workflow SET is_default = true WHERE tenant_id = p_tenant_id AND workflow_id = v_wf;
END
$$;
COMMENT ON FUNCTION @extschema@.set_default_workflow(bigint, text) IS
    'Makes a workflow the tenant''s default: new work orders of types that name no workflow follow it; existing work orders keep theirs.';

-- The workflow every tenant starts with.
CREATE FUNCTION @extschema@._seed_workflow(p_tenant_id bigint, p_seeded boolean) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    RETURN @extschema@._create_workflow(p_tenant_id, $spec$
{"code": "standard", "name": "Standard field service", "default": true,
 "statuses": [
   {"code": "new",              "label": "New",                 "category": "new", "initial": true},
   {"code": "scheduled",        "label": "Scheduled",           "category": "scheduled"},
   {"code": "en_route",         "label": "En route",            "category": "scheduled"},
   {"code": "in_progress",      "label": "In progress",         "category": "in_progress"},
   {"code": "waiting_parts",    "label": "Waiting for parts",   "category": "on_hold"},
   {"code": "waiting_customer", "label": "Waiting for customer", "category": "on_hold"},
   {"code": "completed",        "label": "Completed",           "category": "completed"},
   {"code": "closed",           "label": "Closed",              "category": "closed"},
   {"code": "cancelled",        "label": "Cancelled",           "category": "cancelled"}],
 "approval_steps": [
   {"code": "large_quote", "name": "Operations manager approves work quoted at 100,000 or more (branch currency)",
    "approver_roles": ["manager"], "min_quoted_amount": 100000}],
 "transitions": [
   {"from": "new", "to": "scheduled", "label": "Schedule", "roles": ["dispatcher", "manager"], "requires_assignment": true},
   {"from": "scheduled", "to": "new", "label": "Unschedule", "roles": ["dispatcher", "manager"]},
   {"from": "scheduled", "to": "en_route", "label": "Start travel", "roles": ["technician", "dispatcher"], "requires_assignment": true},
   {"from": "scheduled", "to": "in_progress", "label": "Start work", "roles": ["technician", "dispatcher"],
    "requires_assignment": true, "required_approvals": ["large_quote"]},
   {"from": "en_route", "to": "in_progress", "label": "Arrive and start", "roles": ["technician", "dispatcher"],
    "requires_assignment": true, "required_approvals": ["large_quote"]},
   {"from": "en_route", "to": "scheduled", "label": "Turn back", "roles": ["technician", "dispatcher"], "requires_note": true},
   {"from": "in_progress", "to": "waiting_parts", "label": "Wait for parts", "roles": ["technician", "dispatcher"], "requires_note": true},
   {"from": "in_progress", "to": "waiting_customer", "label": "Wait for customer", "roles": ["technician", "dispatcher"], "requires_note": true},
   {"from": "waiting_parts", "to": "in_progress", "label": "Resume", "roles": ["technician", "dispatcher"]},
   {"from": "waiting_customer", "to": "in_progress", "label": "Resume", "roles": ["technician", "dispatcher"]},
   {"from": "waiting_parts", "to": "scheduled", "label": "Book a return visit", "roles": ["dispatcher", "manager"]},
   {"from": "waiting_customer", "to": "scheduled", "label": "Book a return visit", "roles": ["dispatcher", "manager"]},
   {"from": "in_progress", "to": "completed", "label": "Complete", "roles": ["technician", "dispatcher"],
    "requires_proof": true, "required_fields": ["resolution"]},
   {"from": "completed", "to": "closed", "label": "Close", "roles": ["dispatcher", "manager"]},
   {"from": "completed", "to": "in_progress", "label": "Reopen for rework", "roles": ["dispatcher", "manager"], "requires_note": true},
   {"from": "closed", "to": "scheduled", "label": "Reopen", "roles": ["manager"], "requires_note": true},
   {"from": "new", "to": "cancelled", "label": "Cancel", "roles": ["dispatcher", "manager"], "requires_note": true},
   {"from": "scheduled", "to": "cancelled", "label": "Cancel", "roles": ["dispatcher", "manager"], "requires_note": true},
   {"from": "en_route", "to": "cancelled", "label": "Cancel", "roles": ["dispatcher", "manager"], "requires_note": true},
   {"from": "waiting_parts", "to": "cancelled", "label": "Cancel", "roles": ["dispatcher", "manager"], "requires_note": true},
   {"from": "waiting_customer", "to": "cancelled", "label": "Cancel", "roles": ["dispatcher", "manager"], "requires_note": true},
   {"from": "cancelled", "to": "new", "label": "Reopen", "roles": ["manager"], "requires_note": true}]}
$spec$::jsonb, p_seeded);
END
$$;
COMMENT ON FUNCTION @extschema@._seed_workflow(bigint, boolean) IS
    'Internal: gives a tenant the default "standard" workflow (new, scheduled, en_route, in_progress, waiting_parts, waiting_customer, completed, closed, cancelled).';
