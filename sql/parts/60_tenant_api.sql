-- Tenants and branches: create and update.

CREATE FUNCTION @extschema@._spec_date(p_spec jsonb, p_key text, p_required boolean, p_what text)
    RETURNS date
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_text text := @extschema@._spec_text(p_spec, p_key, p_required, p_what);
BEGIN
    IF v_text IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_text ~ '^\d{4}-\d{2}-\d{2}$' THEN
        BEGIN
            RETURN v_text::date;
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            NULL;
        END;
    END IF;
    RAISE EXCEPTION 'field "%" of the % spec holds an invalid date "%"', p_key, p_what, v_text
        USING ERRCODE = 'invalid_datetime_format',
              DETAIL = 'Dates are written YYYY-MM-DD.',
              HINT = 'Send a date such as "2026-11-23".';
END
$$;
COMMENT ON FUNCTION @extschema@._spec_date(jsonb, text, boolean, text) IS
    'Internal: a YYYY-MM-DD field of a spec as a date, or NULL when absent and optional.';

CREATE FUNCTION @extschema@._seed_tenant(p_tenant_id bigint, p_seeded boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._seed_workflow(p_tenant_id, p_seeded);
    PERFORM @extschema@._seed_billing(p_tenant_id, p_seeded);
    INSERT INTO @extschema@.dispatch_policy (tenant_id, seeded) VALUES (p_tenant_id, p_seeded);
    INSERT INTO @extschema@.priority (tenant_id, code, name, rank, seeded) VALUES
        (p_tenant_id, 'emergency', 'Emergency', 1, p_seeded),
        (p_tenant_id, 'high', 'High', 2, p_seeded),
        (p_tenant_id, 'normal', 'Normal', 3, p_seeded),
        (p_tenant_id, 'low', 'Low', 4, p_seeded);
    INSERT INTO @extschema@.work_order_type (tenant_id, code, name, default_priority_id, estimated_duration, seeded)
    SELECT p_tenant_id, t.code, t.name, p.priority_id, t.duration, p_seeded
      FROM (VALUES ('installation', 'Installation', 'normal', interval '4 hours'),
                   ('repair', 'Repair', 'high', interval '2 hours'),
                   ('maintenance', 'Preventive maintenance', 'normal', interval '2 hours'),
                   ('inspection', 'Inspection', 'low', interval '1 hour')) AS t(code, name, priority, duration)
      JOIN @extschema@.priority p ON p.tenant_id = p_tenant_id AND p.code = t.priority;
END
$$;
COMMENT ON FUNCTION @extschema@._seed_tenant(bigint, boolean) IS
    'Internal: gives a new tenant the default workflow, billing settings and tax classes (womgr._seed_billing), the default dispatch policy, priorities (emergency, high, normal, low) and work-order types (installation, repair, maintenance, inspection).';

CREATE FUNCTION @extschema@.create_tenant(p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'tenant';
    v_code text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'timezone', 'currency', 'work_order_prefix'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[A-Za-z0-9_-]{1,32}$', 'code', c_what, 'acme-ke');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.tenant WHERE lower(code) = lower(v_code)), c_what, 'code', v_code);
    INSERT INTO @extschema@.tenant (code, name, timezone, currency, work_order_prefix)
    VALUES (v_code,
            @extschema@._spec_text(p_spec, 'name', true, c_what),
            coalesce(@extschema@._check_timezone(@extschema@._spec_text(p_spec, 'timezone', false, c_what), c_what),
                     'Africa/Nairobi'),
            coalesce(@extschema@._check_code(@extschema@._spec_text(p_spec, 'currency', false, c_what),
                                             '^[A-Z]{3}$', 'currency', c_what, 'KES'), 'KES'),
            coalesce(@extschema@._check_code(@extschema@._spec_text(p_spec, 'work_order_prefix', false, c_what),
                                             '^[A-Z0-9]{1,8}$', 'work_order_prefix', c_what, 'WO'), 'WO'))
    RETURNING tenant_id INTO v_id;
    PERFORM @extschema@._seed_tenant(v_id, false);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_tenant(jsonb) IS
    'Creates a tenant (a service company) from {"code", "name", optional "timezone", "currency", "work_order_prefix"} with default priorities and work-order types; returns its id.';

CREATE FUNCTION @extschema@.default_tenant_id() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
    AS $$ SELECT min(tenant_id) FROM @extschema@.tenant WHERE seeded $$;
COMMENT ON FUNCTION @extschema@.default_tenant_id() IS
    'The tenant that CREATE EXTENSION made, for single-company installations (SECURITY DEFINER, search_path pinned: it is known before any context is set).';

CREATE FUNCTION @extschema@._check_branch_parent(p_tenant_id bigint, p_branch_id bigint, p_parent_id bigint)
    RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_parent_id IS NULL THEN
        RETURN;
    END IF;
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.branch WHERE tenant_id = p_tenant_id AND branch_id = p_parent_id),
        'branch', p_parent_id::text, 'Create the parent branch first.');
    IF p_branch_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE up(branch_id) AS (
            SELECT p_parent_id
            UNION
            SELECT b.parent_branch_id FROM @extschema@.branch b JOIN up ON b.branch_id = up.branch_id
             WHERE b.tenant_id = p_tenant_id AND b.parent_branch_id IS NOT NULL)
        SELECT 1 FROM up WHERE branch_id = p_branch_id) THEN
        RAISE EXCEPTION 'branch % cannot report to branch %', p_branch_id, p_parent_id
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Branch %s is already above branch %s, so the hierarchy would form a cycle.', p_branch_id, p_parent_id),
                  HINT = 'Choose a parent outside the branch''s own subtree.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._check_branch_parent(bigint, bigint, bigint) IS
    'Internal: raises unless the parent branch exists and keeps the hierarchy free of cycles.';

CREATE FUNCTION @extschema@._check_calendar_ref(p_tenant_id bigint, p_calendar_id bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    PERFORM @extschema@._require_ref(p_calendar_id IS NULL OR EXISTS (
        SELECT 1 FROM @extschema@.calendar WHERE tenant_id = p_tenant_id AND calendar_id = p_calendar_id),
        'calendar', p_calendar_id::text, 'Create it with womgr.create_calendar() first.');
    RETURN p_calendar_id;
END
$$;
COMMENT ON FUNCTION @extschema@._check_calendar_ref(bigint, bigint) IS 'Internal: raises foreign_key_violation unless the calendar is NULL or the tenant''s.';

CREATE FUNCTION @extschema@.create_branch(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'branch';
    v_code text;
    v_parent bigint;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec,
        ARRAY['code', 'name', 'parent_branch_id', 'timezone', 'currency', 'location', 'address', 'active', 'calendar_id'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[A-Z0-9]{1,8}$', 'code', c_what, 'NBO');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.branch WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    v_parent := @extschema@._spec_bigint(p_spec, 'parent_branch_id', false, c_what);
    PERFORM @extschema@._check_branch_parent(p_tenant_id, NULL, v_parent);
    INSERT INTO @extschema@.branch (tenant_id, code, name, parent_branch_id, timezone, currency, location, address, active, calendar_id)
    SELECT p_tenant_id, v_code,
           @extschema@._spec_text(p_spec, 'name', true, c_what),
           v_parent,
           coalesce(@extschema@._check_timezone(@extschema@._spec_text(p_spec, 'timezone', false, c_what), c_what), t.timezone),
           coalesce(@extschema@._check_code(@extschema@._spec_text(p_spec, 'currency', false, c_what),
                                            '^[A-Z]{3}$', 'currency', c_what, 'KES'), t.currency),
           @extschema@._spec_location(p_spec, 'location', c_what),
           @extschema@._spec_text(p_spec, 'address', false, c_what),
           coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true),
           @extschema@._check_calendar_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'calendar_id', false, c_what))
      FROM @extschema@.tenant t WHERE t.tenant_id = p_tenant_id
    RETURNING branch_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_branch(bigint, jsonb) IS
    'Creates a branch from {"code", "name", optional "parent_branch_id", "timezone", "currency", "location": {"lat", "lon"}, "address", "active", "calendar_id" (the business calendar of its SLAs)}; time zone and currency default to the tenant''s. Returns its id.';

CREATE FUNCTION @extschema@.update_branch(p_tenant_id bigint, p_branch_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'branch';
    v_code text;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes,
        ARRAY['code', 'name', 'parent_branch_id', 'timezone', 'currency', 'location', 'address', 'active', 'calendar_id'], c_what);
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.branch WHERE tenant_id = p_tenant_id AND branch_id = p_branch_id),
        c_what, p_branch_id, p_tenant_id);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_changes, 'code', p_changes ? 'code', c_what),
                                      '^[A-Z0-9]{1,8}$', 'code', c_what, 'NBO');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.branch
                 WHERE tenant_id = p_tenant_id AND code = v_code AND branch_id <> p_branch_id), c_what, 'code', v_code);
    PERFORM @extschema@._check_branch_parent(p_tenant_id, p_branch_id,
        @extschema@._spec_bigint(p_changes, 'parent_branch_id', false, c_what));
    UPDATE @extschema@.branch b SET
        code = coalesce(v_code, b.code),
        name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE b.name END,
        parent_branch_id = CASE WHEN p_changes ? 'parent_branch_id'
                                THEN @extschema@._spec_bigint(p_changes, 'parent_branch_id', false, c_what)
                                ELSE b.parent_branch_id END,
        timezone = CASE WHEN p_changes ? 'timezone'
                        THEN @extschema@._check_timezone(@extschema@._spec_text(p_changes, 'timezone', true, c_what), c_what)
                        ELSE b.timezone END,
        currency = CASE WHEN p_changes ? 'currency'
                        THEN @extschema@._check_code(@extschema@._spec_text(p_changes, 'currency', true, c_what),
                                                     '^[A-Z]{3}$', 'currency', c_what, 'KES')
                        ELSE b.currency END,
        location = CASE WHEN p_changes ? 'location' THEN @extschema@._spec_location(p_changes, 'location', c_what) ELSE b.location END,
        address = CASE WHEN p_changes ? 'address' THEN @extschema@._spec_text(p_changes, 'address', false, c_what) ELSE b.address END,
        active = CASE WHEN p_changes ? 'active' THEN @extschema@._spec_bool(p_changes, 'active', true, c_what) ELSE b.active END,
        calendar_id = CASE WHEN p_changes ? 'calendar_id'
                           THEN @extschema@._check_calendar_ref(p_tenant_id, @extschema@._spec_bigint(p_changes, 'calendar_id', false, c_what))
                           ELSE b.calendar_id END,
        updated_at = now()
    WHERE b.tenant_id = p_tenant_id AND b.branch_id = p_branch_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_branch(bigint, bigint, jsonb) IS
    'Changes the fields of a branch named in p_changes (same fields as create_branch); a field set to null is cleared where it may be empty.';
