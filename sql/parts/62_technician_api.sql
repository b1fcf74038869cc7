-- Skills, technicians and their skill levels, work-order types: create and update.

CREATE FUNCTION @extschema@.create_skill(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'skill';
    v_code text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'solar');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.skill WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    INSERT INTO @extschema@.skill (tenant_id, code, name)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what))
    RETURNING skill_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_skill(bigint, jsonb) IS
    'Adds a skill to the tenant''s catalogue from {"code", "name"} (code: lower case, e.g. solar); returns its id.';

CREATE FUNCTION @extschema@.update_skill(p_tenant_id bigint, p_skill_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'skill';
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes, ARRAY['name'], c_what);
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.skill WHERE tenant_id = p_tenant_id AND skill_id = p_skill_id),
        c_what, p_skill_id, p_tenant_id);
    UPDATE @extschema@.skill s SET
        name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE s.name END
    WHERE s.tenant_id = p_tenant_id AND s.skill_id = p_skill_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_skill(bigint, bigint, jsonb) IS
    'Renames a skill ({"name"}); its code stays, because specs and rules refer to it.';

CREATE FUNCTION @extschema@.set_technician_skill(p_tenant_id bigint, p_technician_id bigint, p_skill text,
                                                 p_level integer, p_certified_until date DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_skill bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_technician_id IS NULL OR p_skill IS NULL OR p_level IS NULL THEN
        RAISE EXCEPTION 'technician, skill and level must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'womgr.set_technician_skill() records one skill level of one technician.',
                  HINT = 'Pass the technician id, the skill code and a level from 1 to 5.';
    END IF;
    IF p_level NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'skill level % is out of range', p_level
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'Levels run from 1 (trainee) to 5 (expert).',
                  HINT = 'Pass a level from 1 to 5.';
    END IF;
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id),
        'technician', p_technician_id::text, 'Create the technician with womgr.create_technician() first.');
    SELECT skill_id INTO v_skill FROM @extschema@.skill WHERE tenant_id = p_tenant_id AND code = p_skill;
    PERFORM @extschema@._require_ref(v_skill IS NOT NULL, 'skill', format('"%s"', p_skill),
        'Add it with womgr.create_skill() first, or list codes with SELECT code FROM womgr.skill.');
    INSERT INTO @extschema@.technician_skill (tenant_id, technician_id, skill_id, level, certified_until)
    VALUES (p_tenant_id, p_technician_id, v_skill, p_level, p_certified_until)
    ON CONFLICT (tenant_id, technician_id, skill_id)
    DO UPDATE SET level = excluded.level, certified_until = excluded.certified_until;
END
$$;
COMMENT ON FUNCTION @extschema@.set_technician_skill(bigint, bigint, text, integer, date) IS
    'Records (or changes) a technician''s level 1-5 in a skill, with the last day a certification is valid.';

CREATE FUNCTION @extschema@._set_technician_skills(p_tenant_id bigint, p_technician_id bigint, p_skills jsonb)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'technician skill';
    v_elem jsonb;
    v_level bigint;
BEGIN
    IF p_skills IS NULL OR jsonb_typeof(p_skills) = 'null' THEN
        RETURN;
    END IF;
    IF jsonb_typeof(p_skills) <> 'array' THEN
        RAISE EXCEPTION 'field "skills" of the technician spec must be a JSON array'
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(p_skills)),
                  HINT = 'Send [{"skill": "solar", "level": 3, "certified_until": "2027-06-30"}].';
    END IF;
    DELETE FROM @extschema@.technician_skill WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id;
    FOR v_elem IN SELECT e FROM jsonb_array_elements(p_skills) AS e LOOP
        PERFORM @extschema@._spec_keys(v_elem, ARRAY['skill', 'level', 'certified_until'], c_what);
        v_level := @extschema@._spec_bigint(v_elem, 'level', true, c_what);
        IF v_level NOT BETWEEN 1 AND 5 THEN
            RAISE EXCEPTION 'skill level % is out of range', v_level
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = 'Levels run from 1 (trainee) to 5 (expert).',
                      HINT = 'Send a level from 1 to 5.';
        END IF;
        PERFORM @extschema@.set_technician_skill(p_tenant_id, p_technician_id,
            @extschema@._spec_text(v_elem, 'skill', true, c_what),
            v_level::integer,
            @extschema@._spec_date(v_elem, 'certified_until', false, c_what));
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@._set_technician_skills(bigint, bigint, jsonb) IS
    'Internal: replaces a technician''s skills with the "skills" array of a spec.';

CREATE FUNCTION @extschema@._spec_rating(p_spec jsonb, p_what text) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v jsonb := p_spec -> 'rating';
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) <> 'number' OR (v::text)::numeric NOT BETWEEN 1.0 AND 5.0 THEN
        RAISE EXCEPTION 'field "rating" of the % spec must be a number from 1 to 5', p_what
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', v),
                  HINT = 'Send the average customer rating, e.g. 4.6.';
    END IF;
    RETURN round((v::text)::numeric, 2);
END
$$;
COMMENT ON FUNCTION @extschema@._spec_rating(jsonb, text) IS 'Internal: the "rating" field of a technician spec (1 to 5), or NULL.';

CREATE FUNCTION @extschema@.create_technician(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'technician';
    v_code text;
    v_branch bigint;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec,
        ARRAY['name', 'employee_code', 'phone', 'email', 'home_branch_id', 'home_location', 'active', 'skills', 'login',
              'calendar_id', 'rating'], c_what);
    PERFORM @extschema@._check_contact_fields(p_spec, c_what);
    v_code := @extschema@._spec_text(p_spec, 'employee_code', false, c_what);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND employee_code = v_code),
        c_what, 'employee_code', v_code);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND login = p_spec ->> 'login'),
        c_what, 'login', p_spec ->> 'login');
    v_branch := @extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'home_branch_id', true, c_what));
    INSERT INTO @extschema@.technician (tenant_id, name, employee_code, phone, email, home_branch_id, home_location, active, login,
                                        calendar_id, rating)
    VALUES (p_tenant_id,
            @extschema@._spec_text(p_spec, 'name', true, c_what),
            v_code,
            @extschema@._spec_text(p_spec, 'phone', false, c_what),
            @extschema@._spec_text(p_spec, 'email', false, c_what),
            v_branch,
            @extschema@._spec_location(p_spec, 'home_location', c_what),
            coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true),
            @extschema@._spec_text(p_spec, 'login', false, c_what),
            @extschema@._check_calendar_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'calendar_id', false, c_what)),
            @extschema@._spec_rating(p_spec, c_what))
    RETURNING technician_id INTO v_id;
    PERFORM @extschema@._set_technician_skills(p_tenant_id, v_id, p_spec -> 'skills');
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_technician(bigint, jsonb) IS
    'Creates a technician from {"name", "home_branch_id", optional "employee_code", "phone", "email", "home_location": {"lat", "lon"}, "active", "login" (the actor name the technician works under), "skills": [{"skill", "level", "certified_until"}], "calendar_id" (shift calendar), "rating" (1 to 5)}; returns its id.';

CREATE FUNCTION @extschema@.update_technician(p_tenant_id bigint, p_technician_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'technician';
    v_code text;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes,
        ARRAY['name', 'employee_code', 'phone', 'email', 'home_branch_id', 'home_location', 'active', 'skills', 'login',
              'calendar_id', 'rating'], c_what);
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id),
        c_what, p_technician_id, p_tenant_id);
    PERFORM @extschema@._check_contact_fields(p_changes, c_what);
    v_code := @extschema@._spec_text(p_changes, 'employee_code', false, c_what);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.technician
                 WHERE tenant_id = p_tenant_id AND employee_code = v_code AND technician_id <> p_technician_id),
        c_what, 'employee_code', v_code);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.technician
                 WHERE tenant_id = p_tenant_id AND login = p_changes ->> 'login' AND technician_id <> p_technician_id),
        c_what, 'login', p_changes ->> 'login');
    UPDATE @extschema@.technician t SET
        login = CASE WHEN p_changes ? 'login' THEN @extschema@._spec_text(p_changes, 'login', false, c_what) ELSE t.login END,
        name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE t.name END,
        employee_code = CASE WHEN p_changes ? 'employee_code' THEN v_code ELSE t.employee_code END,
        phone = CASE WHEN p_changes ? 'phone' THEN @extschema@._spec_text(p_changes, 'phone', false, c_what) ELSE t.phone END,
        email = CASE WHEN p_changes ? 'email' THEN @extschema@._spec_text(p_changes, 'email', false, c_what) ELSE t.email END,
        home_branch_id = CASE WHEN p_changes ? 'home_branch_id'
                              THEN @extschema@._check_branch_ref(p_tenant_id,
                                       @extschema@._spec_bigint(p_changes, 'home_branch_id', true, c_what))
                              ELSE t.home_branch_id END,
        home_location = CASE WHEN p_changes ? 'home_location'
                             THEN @extschema@._spec_location(p_changes, 'home_location', c_what) ELSE t.home_location END,
        active = CASE WHEN p_changes ? 'active' THEN @extschema@._spec_bool(p_changes, 'active', true, c_what) ELSE t.active END,
        calendar_id = CASE WHEN p_changes ? 'calendar_id'
                           THEN @extschema@._check_calendar_ref(p_tenant_id,
                                    @extschema@._spec_bigint(p_changes, 'calendar_id', false, c_what))
                           ELSE t.calendar_id END,
        rating = CASE WHEN p_changes ? 'rating' THEN @extschema@._spec_rating(p_changes, c_what) ELSE t.rating END,
        updated_at = now()
    WHERE t.tenant_id = p_tenant_id AND t.technician_id = p_technician_id;
    IF p_changes ? 'skills' THEN
        PERFORM @extschema@._set_technician_skills(p_tenant_id, p_technician_id, p_changes -> 'skills');
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.update_technician(bigint, bigint, jsonb) IS
    'Changes the fields of a technician named in p_changes (as create_technician); "skills" replaces the whole skill list.';

CREATE FUNCTION @extschema@.create_work_order_type(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'work order type';
    v_code text;
    v_priority text;
    v_priority_id bigint;
    v_duration interval;
    v_skills jsonb;
    v_skill record;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec,
        ARRAY['code', 'name', 'default_priority', 'estimated_duration', 'required_skills', 'workflow',
              'completion_requirements'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'solar_install');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.work_order_type WHERE tenant_id = p_tenant_id AND code = v_code),
        c_what, 'code', v_code);
    v_priority := coalesce(@extschema@._spec_text(p_spec, 'default_priority', false, c_what), 'normal');
    SELECT priority_id INTO v_priority_id FROM @extschema@.priority WHERE tenant_id = p_tenant_id AND code = v_priority;
    PERFORM @extschema@._require_ref(v_priority_id IS NOT NULL, 'priority', format('"%s"', v_priority),
        'List priorities with SELECT code, rank FROM womgr.priority.');
    BEGIN
        v_duration := coalesce(@extschema@._spec_text(p_spec, 'estimated_duration', false, c_what), '2 hours')::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
        v_duration := NULL;
    END;
    IF v_duration IS NULL OR v_duration <= interval '0' THEN
        RAISE EXCEPTION 'field "estimated_duration" of the work order type spec must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is "%s".', p_spec ->> 'estimated_duration'),
                  HINT = 'Send a duration such as "90 minutes" or "3 hours".';
    END IF;
    v_skills := p_spec -> 'required_skills';
    IF v_skills IS NOT NULL AND jsonb_typeof(v_skills) NOT IN ('object', 'null') THEN
        RAISE EXCEPTION 'field "required_skills" of the work order type spec must be a JSON object'
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(v_skills)),
                  HINT = 'Send {"<skill code>": <minimum level>}, e.g. {"solar": 3, "electrical": 2}.';
    END IF;
    INSERT INTO @extschema@.work_order_type (tenant_id, code, name, default_priority_id, estimated_duration,
                                             workflow_id, completion_requirements)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what), v_priority_id, v_duration,
            CASE WHEN @extschema@._spec_text(p_spec, 'workflow', false, c_what) IS NOT NULL
                 THEN @extschema@._workflow_id(p_tenant_id, p_spec ->> 'workflow') END,
            @extschema@._check_requirements(p_spec -> 'completion_requirements', c_what))
    RETURNING work_order_type_id INTO v_id;
    FOR v_skill IN SELECT key, @extschema@._spec_bigint(v_skills, key, true, c_what || ' required skill') AS level
                     FROM jsonb_object_keys(coalesce(v_skills, '{}')) AS key LOOP
        IF v_skill.level NOT BETWEEN 1 AND 5 THEN
            RAISE EXCEPTION 'required level % for skill "%" is out of range', v_skill.level, v_skill.key
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = 'Levels run from 1 (trainee) to 5 (expert).',
                      HINT = 'Send a minimum level from 1 to 5.';
        END IF;
        INSERT INTO @extschema@.work_order_type_skill (tenant_id, work_order_type_id, skill_id, min_level)
        SELECT p_tenant_id, v_id, s.skill_id, v_skill.level
          FROM @extschema@.skill s WHERE s.tenant_id = p_tenant_id AND s.code = v_skill.key;
        PERFORM @extschema@._require_ref(FOUND, 'skill', format('"%s"', v_skill.key),
            'Add it with womgr.create_skill() first.');
    END LOOP;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_work_order_type(bigint, jsonb) IS
    'Creates a work-order type from {"code", "name", optional "default_priority" (code, default normal), "estimated_duration" (e.g. "3 hours"), "required_skills": {"<skill>": <min level>}, "workflow" (code; default: the tenant''s default), "completion_requirements"}; returns its id.';

CREATE FUNCTION @extschema@.update_work_order_type(p_tenant_id bigint, p_type text, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'work order type';
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes, ARRAY['name', 'workflow', 'completion_requirements', 'active'], c_what);
    SELECT work_order_type_id INTO v_id FROM @extschema@.work_order_type WHERE tenant_id = p_tenant_id AND code = p_type;
    PERFORM @extschema@._require_ref(v_id IS NOT NULL, c_what, format('"%s"', p_type),
        'List types with SELECT code, name FROM womgr.work_order_type.');
    UPDATE @extschema@.work_order_type
       SET name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE name END,
           workflow_id = CASE WHEN p_changes ? 'workflow' THEN
                             CASE WHEN jsonb_typeof(p_changes -> 'workflow') = 'null' THEN NULL
                                  ELSE @extschema@._workflow_id(p_tenant_id, @extschema@._spec_text(p_changes, 'workflow', true, c_what)) END
                         ELSE workflow_id END,
           completion_requirements = CASE WHEN p_changes ? 'completion_requirements'
                                          THEN @extschema@._check_requirements(p_changes -> 'completion_requirements', c_what)
                                          ELSE completion_requirements END,
           active = CASE WHEN p_changes ? 'active' THEN @extschema@._spec_bool(p_changes, 'active', true, c_what) ELSE active END
     WHERE tenant_id = p_tenant_id AND work_order_type_id = v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_work_order_type(bigint, text, jsonb) IS
    'Changes a work-order type: {"name", "workflow" (code, or null for the tenant''s default), "completion_requirements", "active"}. New work orders follow the change; existing ones keep their workflow and requirements until reclassified.';
