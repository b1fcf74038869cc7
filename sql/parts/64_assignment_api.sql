-- Events written by the SQL functions, locking a work order for a change,
-- departments, and assigning people to work orders.

CREATE FUNCTION @extschema@._log_event(p_tenant_id bigint, p_work_order_id bigint, p_event_type text, p_details jsonb)
    RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$
    INSERT INTO @extschema@.work_order_event
        (tenant_id, work_order_id, event_type, actor, db_role, client_ip, details)
    VALUES (p_tenant_id, p_work_order_id, p_event_type, @extschema@.current_actor(), current_user::text,
            @extschema@.current_client_ip(), coalesce(p_details, '{}'))
    RETURNING work_order_event_id
$$;
COMMENT ON FUNCTION @extschema@._log_event(bigint, bigint, text, jsonb) IS
    'Internal: appends an event (assignment, note, approval, ...) to a work order''s history, with actor, role and client address.';

CREATE FUNCTION @extschema@._get_work_order(p_tenant_id bigint, p_work_order_id bigint)
    RETURNS @extschema@.work_order
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_work_order_id IS NULL THEN
        RAISE EXCEPTION 'work order id must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The function works on one work order.',
                  HINT = 'Pass the work order id.';
    END IF;
    SELECT * INTO v_wo FROM @extschema@.work_order WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'work order % does not exist', p_work_order_id
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('Tenant %s has no work order with id %s, or row-level security hides it.', p_tenant_id, p_work_order_id),
                  HINT = 'Check the work order id and the tenant.';
    END IF;
    RETURN v_wo;
END
$$;
COMMENT ON FUNCTION @extschema@._get_work_order(bigint, bigint) IS
    'Internal: a work order of the tenant; raises null_value_not_allowed for a NULL id and no_data_found when the tenant has none with that id.';

CREATE FUNCTION @extschema@._lock_work_order(p_tenant_id bigint, p_work_order_id bigint, p_expected_version integer)
    RETURNS @extschema@.work_order
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
BEGIN
    SELECT * INTO v_wo FROM @extschema@.work_order
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id FOR UPDATE;
    IF NOT FOUND THEN
        -- raises the specific error: NULL or unknown tenant, NULL id, no such work order
        v_wo := @extschema@._get_work_order(p_tenant_id, p_work_order_id);
        SELECT * INTO v_wo FROM @extschema@.work_order
         WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id FOR UPDATE;
    END IF;
    IF p_expected_version IS NOT NULL AND p_expected_version <> v_wo.version THEN
        RAISE EXCEPTION 'work order % was changed by someone else', v_wo.number
            USING ERRCODE = 'WM003',
                  DETAIL = format('You expected version %s; it is now at version %s, in status "%s".',
                                  p_expected_version, v_wo.version, v_wo.status),
                  HINT = 'Reload the work order and decide again.';
    END IF;
    RETURN v_wo;
END
$$;
COMMENT ON FUNCTION @extschema@._lock_work_order(bigint, bigint, integer) IS
    'Internal: locks a work order for a change and checks the version the caller expects (WM003 when stale).';

CREATE FUNCTION @extschema@._require_open(p_wo @extschema@.work_order, p_doing text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_wo.category IN ('closed', 'cancelled') THEN
        RAISE EXCEPTION 'work order % is %', p_wo.number, p_wo.category
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Cannot %s a work order in status "%s".', p_doing, p_wo.status),
                  HINT = 'Reopen it first with womgr.transition().';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_open(@extschema@.work_order, text) IS 'Internal: raises unless the work order is still open (not closed or cancelled).';

CREATE FUNCTION @extschema@._spec_technicians(p_tenant_id bigint, p_spec jsonb, p_key text, p_element text, p_what text)
    RETURNS bigint[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_elem jsonb;
    v_tech bigint;
    v_ids bigint[] := '{}';
BEGIN
    FOR v_elem IN SELECT value FROM jsonb_array_elements(@extschema@._spec_array(p_spec, p_key, p_what)) LOOP
        v_tech := @extschema@._spec_bigint(jsonb_build_object(p_element, v_elem), p_element, true, p_what || ' ' || p_element);
        PERFORM @extschema@._require_ref(
            EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = v_tech),
            'technician', v_tech::text, 'Create the technician first.');
        v_ids := v_ids || v_tech;
    END LOOP;
    RETURN v_ids;
END
$$;
COMMENT ON FUNCTION @extschema@._spec_technicians(bigint, jsonb, text, text, text) IS
    'Internal: the technician ids in the array field p_key of a spec (each named p_element in errors), every one checked to be the tenant''s.';

CREATE FUNCTION @extschema@.create_department(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'department';
    v_code text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'branch_id', 'members'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'hvac_crew');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.department WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    INSERT INTO @extschema@.department (tenant_id, code, name, branch_id)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what),
            @extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'branch_id', false, c_what)))
    RETURNING department_id INTO v_id;
    INSERT INTO @extschema@.department_member (tenant_id, department_id, technician_id)
    SELECT p_tenant_id, v_id, m FROM unnest(@extschema@._spec_technicians(p_tenant_id, p_spec, 'members', 'member', c_what)) m
    ON CONFLICT DO NOTHING;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_department(bigint, jsonb) IS
    'Creates a department or team from {"code", "name", optional "branch_id", "members": [technician ids]}; returns its id.';

CREATE FUNCTION @extschema@.assign(p_tenant_id bigint, p_work_order_id bigint, p_technician_id bigint,
                                  p_role text DEFAULT 'lead', p_start timestamptz DEFAULT NULL, p_end timestamptz DEFAULT NULL,
                                  p_travel interval DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_tech @extschema@.technician;
    v_booked tstzrange;
    v_current @extschema@.assignment;
    v_lead @extschema@.assignment;
    v_id bigint;
    v_actor text := @extschema@.current_actor();
    v_travel_s integer := 0;
    v_clash record;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    IF p_role IS NULL OR p_role NOT IN ('lead', 'backup', 'crew') THEN
        RAISE EXCEPTION 'assignment role "%" is not known', p_role
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A technician is assigned as lead, backup or crew.',
                  HINT = 'Use womgr.assign_department() for a whole department or team.';
    END IF;
    IF p_technician_id IS NULL THEN
        RAISE EXCEPTION 'technician id must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'womgr.assign() assigns one technician.',
                  HINT = 'Pass the technician id.';
    END IF;
    SELECT * INTO v_tech FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id;
    PERFORM @extschema@._require_ref(FOUND, 'technician', p_technician_id::text, 'Create the technician first.');
    PERFORM @extschema@._require_active(v_tech.active, 'technician', p_technician_id::text);
    IF (p_start IS NULL) <> (p_end IS NULL) THEN
        RAISE EXCEPTION 'a booking needs both a start and an end'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('Start is %s and end is %s.', coalesce(p_start::text, 'null'), coalesce(p_end::text, 'null')),
                  HINT = 'Pass both, or neither for an assignment without a booked time.';
    END IF;
    IF p_start IS NOT NULL THEN
        IF p_end <= p_start OR NOT isfinite(p_start) OR NOT isfinite(p_end) THEN
            RAISE EXCEPTION 'a booking must end after it starts'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It runs from %s to %s.', p_start, p_end),
                      HINT = 'Pass finite times with the end after the start.';
        END IF;
        v_booked := tstzrange(p_start, p_end);
    END IF;
    IF p_travel IS NOT NULL THEN
        IF p_start IS NULL OR p_travel < '0' OR p_travel > '1 day' THEN
            RAISE EXCEPTION 'travel time % is not valid here', p_travel
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Travel before a booking is between 0 and 1 day, and only a booking (a start and an end) has one.',
                      HINT = 'Pass the travel time to the site, e.g. interval ''25 minutes'', with p_start and p_end.';
        END IF;
        v_travel_s := round(extract(epoch FROM p_travel))::integer;
    END IF;
    PERFORM @extschema@._require_open(v_wo, 'assign people to');

    SELECT * INTO v_current FROM @extschema@.assignment
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id AND technician_id = p_technician_id AND ended_at IS NULL;
    IF FOUND AND v_current.role = p_role AND v_current.booked IS NOT DISTINCT FROM v_booked
       AND v_current.travel_s = v_travel_s THEN
        RETURN v_current.assignment_id;          -- already so: nothing to do
    END IF;
    IF FOUND THEN
        UPDATE @extschema@.assignment SET ended_at = now(), ended_by = v_actor, end_reason = 'role or booking changed'
         WHERE tenant_id = p_tenant_id AND assignment_id = v_current.assignment_id;
    END IF;
    IF p_role = 'lead' THEN
        SELECT * INTO v_lead FROM @extschema@.assignment
         WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id AND role = 'lead' AND ended_at IS NULL;
        IF FOUND THEN
            UPDATE @extschema@.assignment SET ended_at = now(), ended_by = v_actor, end_reason = 'reassigned'
             WHERE tenant_id = p_tenant_id AND assignment_id = v_lead.assignment_id;
        END IF;
    END IF;
    IF v_booked IS NOT NULL THEN
        -- a clear error for the usual case; the exclusion constraint decides races
        SELECT a.assignment_id, w.number, a.booked, a.travel_s INTO v_clash
          FROM @extschema@.assignment a
          JOIN @extschema@.work_order w ON w.tenant_id = a.tenant_id AND w.work_order_id = a.work_order_id
         WHERE a.tenant_id = p_tenant_id AND a.technician_id = p_technician_id AND a.ended_at IS NULL
           AND a.booked IS NOT NULL AND @extschema@._busy(a.booked, a.travel_s) && @extschema@._busy(v_booked, v_travel_s)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'technician % is already booked then', p_technician_id
                USING ERRCODE = 'exclusion_violation',
                      DETAIL = format('Work order %s holds %s (with %s s of travel before it); this booking needs %s with %s s of travel.',
                                      v_clash.number, v_clash.booked, v_clash.travel_s, v_booked, v_travel_s),
                      HINT = 'Pick a free time (womgr.match_technicians() finds one) or unassign the other job first.';
        END IF;
    END IF;
    INSERT INTO @extschema@.assignment (tenant_id, work_order_id, role, technician_id, booked, travel_s, assigned_by)
    VALUES (p_tenant_id, p_work_order_id, p_role, p_technician_id, v_booked, v_travel_s, v_actor)
    RETURNING assignment_id INTO v_id;
    IF v_lead.assignment_id IS NOT NULL THEN
        PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'reassigned',
            jsonb_build_object('assignment_id', v_id, 'role', 'lead', 'from_technician_id', v_lead.technician_id,
                               'to_technician_id', p_technician_id, 'booked', v_booked, 'travel_s', v_travel_s));
    ELSE
        PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'assigned',
            jsonb_build_object('assignment_id', v_id, 'role', p_role, 'technician_id', p_technician_id, 'booked', v_booked,
                               'travel_s', v_travel_s));
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.assign(bigint, bigint, bigint, text, timestamptz, timestamptz, interval) IS
    'Assigns a technician to a work order as lead (the default), backup or crew, optionally booked from p_start to p_end with p_travel of travel before it (busy time too); returns the assignment id. A booking that overlaps another active booking of the technician is refused (exclusion_violation). A new lead replaces the current one (recorded as "reassigned"); the same call twice changes nothing.';

CREATE FUNCTION @extschema@.assign_department(p_tenant_id bigint, p_work_order_id bigint, p_department text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_dept @extschema@.department;
    v_id bigint;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    SELECT * INTO v_dept FROM @extschema@.department WHERE tenant_id = p_tenant_id AND code = p_department;
    PERFORM @extschema@._require_ref(FOUND, 'department', format('"%s"', p_department),
        'Create it with womgr.create_department() first.');
    PERFORM @extschema@._require_active(v_dept.active, 'department', format('"%s"', p_department));
    PERFORM @extschema@._require_open(v_wo, 'assign people to');
    SELECT assignment_id INTO v_id FROM @extschema@.assignment
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id
       AND department_id = v_dept.department_id AND ended_at IS NULL;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO @extschema@.assignment (tenant_id, work_order_id, role, department_id, assigned_by)
    VALUES (p_tenant_id, p_work_order_id, 'department', v_dept.department_id, @extschema@.current_actor())
    RETURNING assignment_id INTO v_id;
    PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'assigned',
        jsonb_build_object('assignment_id', v_id, 'role', 'department', 'department', v_dept.code));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_department(bigint, bigint, text) IS
    'Assigns a whole department or team (by code) to a work order; returns the assignment id (the existing one if already assigned).';

CREATE FUNCTION @extschema@.unassign(p_tenant_id bigint, p_assignment_id bigint, p_reason text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_a @extschema@.assignment;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT * INTO v_a FROM @extschema@.assignment WHERE tenant_id = p_tenant_id AND assignment_id = p_assignment_id;
    PERFORM @extschema@._require_row(FOUND, 'assignment', p_assignment_id, p_tenant_id);
    PERFORM @extschema@._lock_work_order(p_tenant_id, v_a.work_order_id, NULL);
    IF v_a.ended_at IS NOT NULL THEN
        RAISE EXCEPTION 'assignment % has already ended', p_assignment_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It ended at %s (%s).', v_a.ended_at, v_a.ended_by),
                  HINT = 'Nothing to do.';
    END IF;
    UPDATE @extschema@.assignment SET ended_at = now(), ended_by = @extschema@.current_actor(), end_reason = p_reason
     WHERE tenant_id = p_tenant_id AND assignment_id = p_assignment_id;
    PERFORM @extschema@._log_event(p_tenant_id, v_a.work_order_id, 'unassigned',
        jsonb_build_object('assignment_id', p_assignment_id, 'role', v_a.role, 'technician_id', v_a.technician_id,
                           'department_id', v_a.department_id, 'reason', p_reason));
END
$$;
COMMENT ON FUNCTION @extschema@.unassign(bigint, bigint, text) IS
    'Ends an assignment (it stays in the history) and records the reason.';
