-- PL/pgSQL helpers for values that specs carry: places, time zones, currencies, codes.
-- Everything below pins search_path; womgr objects are schema-qualified.

CREATE FUNCTION @extschema@._point(p_lat float8, p_lon float8) RETURNS geography
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_point';
COMMENT ON FUNCTION @extschema@._point(float8, float8) IS
    'Internal: the WGS 84 geography point at a latitude and longitude; raises numeric_value_out_of_range off the Earth. Used instead of PostGIS calls so no search_path is involved.';

CREATE FUNCTION @extschema@._spec_location(p_spec jsonb, p_key text, p_what text)
    RETURNS geography
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_loc jsonb := p_spec -> p_key;
    v_lat numeric;
    v_lon numeric;
BEGIN
    IF v_loc IS NULL OR jsonb_typeof(v_loc) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v_loc) <> 'object' THEN
        RAISE EXCEPTION 'field "%" of the % spec must be a JSON object', p_key, p_what
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(v_loc)),
                  HINT = 'Send {"lat": -1.2921, "lon": 36.8219}.';
    END IF;
    PERFORM @extschema@._spec_keys(v_loc, ARRAY['lat', 'lon'], p_what || ' ' || p_key);
    v_lat := @extschema@._spec_numeric(v_loc, 'lat', true, p_what || ' ' || p_key);
    v_lon := @extschema@._spec_numeric(v_loc, 'lon', true, p_what || ' ' || p_key);
    IF v_lat NOT BETWEEN -90.0 AND 90.0 OR v_lon NOT BETWEEN -180.0 AND 180.0 THEN
        RAISE EXCEPTION 'field "%" of the % spec is not a place on Earth', p_key, p_what
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('Latitude %s must be within [-90, 90] and longitude %s within [-180, 180].', v_lat, v_lon),
                  HINT = 'Check that latitude and longitude are not swapped.';
    END IF;
    RETURN @extschema@._point(v_lat::float8, v_lon::float8);
END
$$;
COMMENT ON FUNCTION @extschema@._spec_location(jsonb, text, text) IS
    'Internal: a {"lat", "lon"} field of a spec as a WGS 84 geography point, or NULL when absent.';

CREATE FUNCTION @extschema@._check_timezone(p_timezone text, p_what text) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_timezone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = p_timezone) THEN
        RAISE EXCEPTION 'time zone "%" of the % is not known', p_timezone, p_what
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Time zones are IANA names such as Africa/Nairobi.',
                  HINT = 'See SELECT name FROM pg_timezone_names.';
    END IF;
    RETURN p_timezone;
END
$$;
COMMENT ON FUNCTION @extschema@._check_timezone(text, text) IS
    'Internal: raises unless p_timezone is an IANA time zone PostgreSQL knows.';

CREATE FUNCTION @extschema@._check_code(p_value text, p_pattern text, p_field text, p_what text, p_example text)
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_value IS NOT NULL AND p_value !~ p_pattern THEN
        RAISE EXCEPTION 'field "%" of the % spec has an invalid value "%"', p_field, p_what, p_value
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It must match %s.', p_pattern),
                  HINT = format('Use a value such as "%s".', p_example);
    END IF;
    RETURN p_value;
END
$$;
COMMENT ON FUNCTION @extschema@._check_code(text, text, text, text, text) IS
    'Internal: raises unless a code-like field matches its pattern.';

CREATE FUNCTION @extschema@._require_row(p_found boolean, p_what text, p_id bigint, p_tenant_id bigint)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_id IS NULL THEN
        RAISE EXCEPTION '% id must not be null', p_what
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('The update needs the id of the %s to change.', p_what),
                  HINT = format('Pass the %s id.', p_what);
    END IF;
    IF NOT coalesce(p_found, false) THEN
        RAISE EXCEPTION '% % does not exist', p_what, p_id
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('Tenant %s has no %s with id %s.', p_tenant_id, p_what, p_id),
                  HINT = format('Check the %s id and the tenant.', p_what);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_row(boolean, text, bigint, bigint) IS
    'Internal: raises no_data_found when an update names a row that does not exist.';

CREATE FUNCTION @extschema@._require_ref(p_found boolean, p_what text, p_ref text, p_hint text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF NOT coalesce(p_found, false) THEN
        RAISE EXCEPTION '% % does not exist', p_what, p_ref
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = CASE WHEN p_what = 'tenant' THEN format('No tenant has id %s, or row-level security hides it.', p_ref)
                                ELSE format('This tenant has no %s %s.', p_what, p_ref) END,
                  HINT = p_hint;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_ref(boolean, text, text, text) IS
    'Internal: raises foreign_key_violation when a spec names a row the tenant does not have.';

CREATE FUNCTION @extschema@._require_unique(p_taken boolean, p_what text, p_field text, p_value text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF coalesce(p_taken, false) THEN
        RAISE EXCEPTION '% % "%" is already used', p_what, p_field, p_value
            USING ERRCODE = 'unique_violation',
                  DETAIL = CASE WHEN p_what = 'tenant' THEN format('Another tenant has %s "%s".', p_field, p_value)
                                ELSE format('Another %s of this tenant has %s "%s".', p_what, p_field, p_value) END,
                  HINT = format('Choose another %s, or update the existing %s.', p_field, p_what);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_unique(boolean, text, text, text) IS
    'Internal: raises unique_violation with a readable message when a code is taken.';

CREATE FUNCTION @extschema@._require_tenant(p_tenant_id bigint) RETURNS void
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Every womgr function that works on tenant data takes the tenant first.',
                  HINT = 'Pass womgr.default_tenant_id() if you run a single company.';
    END IF;
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.tenant WHERE tenant_id = p_tenant_id),
        'tenant', p_tenant_id::text, 'Call womgr.set_context() for the tenant first, and check its id in womgr.tenant.');
END
$$;
COMMENT ON FUNCTION @extschema@._require_tenant(bigint) IS
    'Internal: raises unless the tenant is given and exists.';

CREATE FUNCTION @extschema@._require_active(p_active boolean, p_what text, p_ref text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF NOT coalesce(p_active, true) THEN
        RAISE EXCEPTION '% % is inactive', p_what, p_ref
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('New work cannot use an inactive %s.', p_what),
                  HINT = 'Reactivate it with its update function, or choose another.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_active(boolean, text, text) IS
    'Internal: raises object_not_in_prerequisite_state when new work would use an inactive row.';

CREATE FUNCTION @extschema@._require_reason(p_reason text, p_detail text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a rejection needs a reason'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = p_detail,
                  HINT = 'Pass the reason.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_reason(text, text) IS
    'Internal: raises null_value_not_allowed unless a rejection gives a reason.';

CREATE FUNCTION @extschema@._latlon(p_point geography, OUT lat float8, OUT lon float8)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT ST_Y(p_point::geometry), ST_X(p_point::geometry);
END;
COMMENT ON FUNCTION @extschema@._latlon(geography) IS
    'Internal: latitude and longitude of a WGS 84 point (bound to PostGIS at install, never through search_path).';

CREATE FUNCTION @extschema@._require_id(p_id bigint, p_what text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_id IS NULL THEN
        RAISE EXCEPTION '% id must not be null', p_what
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('The function works on one %s.', p_what),
                  HINT = format('Pass the %s id.', p_what);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_id(bigint, text) IS 'Internal: raises null_value_not_allowed for a NULL id of the named thing.';
