-- SLA: policies, the clocks kept in step with every change of a work order,
-- their status, ticking (warnings, breaches, escalation) and recalculation
-- after a calendar edit.  All time arithmetic is the C code of calendar.c.

CREATE FUNCTION @extschema@._add_business_time_v(p_tenant_id bigint, p_calendar_id bigint, p_version integer,
                                                 p_start timestamptz, p_duration interval)
    RETURNS timestamptz
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_add_business_time_v';
COMMENT ON FUNCTION @extschema@._add_business_time_v(bigint, bigint, integer, timestamptz, interval) IS
    'Internal: add_business_time on one version of the calendar (the one an SLA clock started with).';
CREATE FUNCTION @extschema@._business_time_between_v(p_tenant_id bigint, p_calendar_id bigint, p_version integer,
                                                     p_from timestamptz, p_to timestamptz)
    RETURNS interval
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_business_time_between_v';
COMMENT ON FUNCTION @extschema@._business_time_between_v(bigint, bigint, integer, timestamptz, timestamptz) IS
    'Internal: business_time_between on one version of the calendar.';

-- around the clock when there is no calendar: a day is 24 hours, as on a calendar
CREATE FUNCTION @extschema@._bt_add(p_tenant_id bigint, p_calendar_id bigint, p_version integer,
                                    p_start timestamptz, p_duration interval)
    RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_calendar_id IS NULL
                THEN p_start + pg_catalog.make_interval(secs => pg_catalog.date_part('epoch', p_duration))
                ELSE @extschema@._add_business_time_v(p_tenant_id, p_calendar_id, p_version, p_start, p_duration) END
$$;
COMMENT ON FUNCTION @extschema@._bt_add(bigint, bigint, integer, timestamptz, interval) IS
    'Internal: business time added on a calendar version, or clock time when the clock has no calendar.';
CREATE FUNCTION @extschema@._bt_between(p_tenant_id bigint, p_calendar_id bigint, p_version integer,
                                        p_from timestamptz, p_to timestamptz)
    RETURNS interval
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_calendar_id IS NULL
                THEN pg_catalog.make_interval(secs => pg_catalog.date_part('epoch', p_to) - pg_catalog.date_part('epoch', p_from))
                ELSE @extschema@._business_time_between_v(p_tenant_id, p_calendar_id, p_version, p_from, p_to) END
$$;
COMMENT ON FUNCTION @extschema@._bt_between(bigint, bigint, integer, timestamptz, timestamptz) IS
    'Internal: business time between two instants on a calendar version, or clock time without a calendar.';

CREATE FUNCTION @extschema@.create_contract(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'contract';
    v_customer bigint;
    v_from date;
    v_to date;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'customer_id', 'valid_from', 'valid_until'], c_what);
    v_customer := @extschema@._spec_bigint(p_spec, 'customer_id', true, c_what);
    PERFORM @extschema@._require_ref(EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = v_customer),
        'customer', v_customer::text, 'Create the customer with womgr.create_customer() first.');
    PERFORM @extschema@._require_unique(EXISTS (SELECT 1 FROM @extschema@.contract WHERE tenant_id = p_tenant_id AND code = p_spec ->> 'code'),
        c_what, 'code', p_spec ->> 'code');
    v_from := @extschema@._spec_date(p_spec, 'valid_from', true, c_what);
    v_to := @extschema@._spec_date(p_spec, 'valid_until', false, c_what);
    IF v_to < v_from THEN
        RAISE EXCEPTION 'the contract ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('valid_from is %s and valid_until is %s.', v_from, v_to),
                  HINT = 'valid_until is the last day the contract covers.';
    END IF;
    INSERT INTO @extschema@.contract (tenant_id, customer_id, code, name, valid)
    VALUES (p_tenant_id, v_customer, @extschema@._spec_text(p_spec, 'code', true, c_what), @extschema@._spec_text(p_spec, 'name', true, c_what),
            daterange(v_from, v_to, '[]'))
    RETURNING contract_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_contract(bigint, jsonb) IS
    'Creates a service contract {"code", "name", "customer_id", "valid_from", optional "valid_until" (last day covered)}; its SLA policy wins over all others for the customer''s work orders created while it is valid.';

CREATE FUNCTION @extschema@.create_sla_policy(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'SLA policy';
    v_scope text;
    v_contract bigint;
    v_customer bigint;
    v_type bigint;
    v_calendar bigint;
    v_warn smallint[];
    v_esc jsonb;
    v_id bigint;
    v_t record;
    v_priority bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'scope', 'contract', 'customer_id', 'type', 'calendar_id',
        'start_status', 'warn_at', 'escalation', 'targets'], c_what);
    PERFORM @extschema@._check_code(@extschema@._spec_text(p_spec, 'start_status', false, c_what), '^[a-z0-9_]{1,40}$',
                                    'start_status', c_what, 'scheduled');
    IF p_spec ? 'start_status' AND NOT EXISTS (SELECT 1 FROM @extschema@.workflow_status
                                                WHERE tenant_id = p_tenant_id AND code = p_spec ->> 'start_status') THEN
        RAISE EXCEPTION 'start status "%" is not a status of any workflow of the tenant', p_spec ->> 'start_status'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The clocks would wait for it forever.',
                  HINT = 'List statuses with SELECT DISTINCT code FROM womgr.workflow_status.';
    END IF;
    v_scope := coalesce(@extschema@._spec_text(p_spec, 'scope', false, c_what), 'default');
    IF v_scope NOT IN ('contract', 'customer', 'type', 'default') THEN
        RAISE EXCEPTION 'field "scope" of the SLA policy spec has an invalid value "%"', v_scope
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A policy applies to a contract, a customer, a work-order type or is the default.',
                  HINT = 'Send "contract" with "contract", "customer" with "customer_id", "type" with "type", or "default".';
    END IF;
    IF v_scope = 'contract' THEN
        SELECT contract_id INTO v_contract FROM @extschema@.contract
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_spec, 'contract', true, c_what);
        PERFORM @extschema@._require_ref(FOUND, 'contract', format('"%s"', p_spec ->> 'contract'), 'Create it with womgr.create_contract() first.');
    ELSIF v_scope = 'customer' THEN
        v_customer := @extschema@._spec_bigint(p_spec, 'customer_id', true, c_what);
        PERFORM @extschema@._require_ref(EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = v_customer),
            'customer', v_customer::text, 'Create the customer first.');
    ELSIF v_scope = 'type' THEN
        SELECT work_order_type_id INTO v_type FROM @extschema@.work_order_type
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_spec, 'type', true, c_what);
        PERFORM @extschema@._require_ref(FOUND, 'work order type', format('"%s"', p_spec ->> 'type'),
            'List types with SELECT code, name FROM womgr.work_order_type.');
    END IF;
    IF (v_scope <> 'contract' AND p_spec ? 'contract') OR (v_scope <> 'customer' AND p_spec ? 'customer_id')
       OR (v_scope <> 'type' AND p_spec ? 'type') THEN
        RAISE EXCEPTION 'the SLA policy spec names a %', CASE WHEN p_spec ? 'contract' THEN 'contract' WHEN p_spec ? 'customer_id' THEN 'customer' ELSE 'type' END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A policy of scope %s applies to no single contract, customer or type beyond its scope.', v_scope),
                  HINT = 'Set "scope" to what the policy applies to.';
    END IF;
    v_calendar := @extschema@._spec_bigint(p_spec, 'calendar_id', false, c_what);
    PERFORM @extschema@._require_ref(v_calendar IS NULL OR EXISTS (
        SELECT 1 FROM @extschema@.calendar WHERE tenant_id = p_tenant_id AND calendar_id = v_calendar),
        'calendar', v_calendar::text, 'Create it with womgr.create_calendar() first.');
    IF p_spec ? 'warn_at' THEN
        IF jsonb_typeof(p_spec -> 'warn_at') <> 'array' THEN
            RAISE EXCEPTION 'field "warn_at" of the SLA policy spec must be a JSON array of percentages'
                USING ERRCODE = 'datatype_mismatch', DETAIL = format('It is a JSON %s.', jsonb_typeof(p_spec -> 'warn_at')),
                      HINT = 'Send e.g. [50, 75, 90].';
        END IF;
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_spec -> 'warn_at') e
                    WHERE @extschema@._spec_bigint(jsonb_build_object('p', e), 'p', true, c_what || ' warn_at') NOT BETWEEN 1 AND 99) THEN
            RAISE EXCEPTION 'field "warn_at" of the SLA policy spec holds a percentage out of range'
                USING ERRCODE = 'numeric_value_out_of_range', DETAIL = format('It is %s; each must be from 1 to 99.', p_spec -> 'warn_at'),
                      HINT = 'A breach at 100 % is always raised; warnings come before it.';
        END IF;
        SELECT coalesce(array_agg(DISTINCT (e #>> '{}')::smallint ORDER BY (e #>> '{}')::smallint), '{}')
          INTO v_warn FROM jsonb_array_elements(p_spec -> 'warn_at') e;
    ELSE
        v_warn := '{50,75,90}';
    END IF;
    v_esc := coalesce(p_spec -> 'escalation', '{}');
    IF jsonb_typeof(v_esc) <> 'object' OR EXISTS (SELECT 1 FROM jsonb_object_keys(v_esc) k WHERE k NOT IN ('warning', 'breach')) THEN
        RAISE EXCEPTION 'field "escalation" of the SLA policy spec is malformed'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is an object with the keys "warning" and "breach".',
                  HINT = 'Send e.g. {"breach": {"notify": ["manager"], "raise_priority": true, "reassign": "dispatch_queue"}}.';
    END IF;
    PERFORM @extschema@._spec_keys(coalesce(v_esc -> 'warning', '{}'), ARRAY['notify'], 'escalation warning');
    PERFORM @extschema@._spec_keys(coalesce(v_esc -> 'breach', '{}'), ARRAY['notify', 'raise_priority', 'reassign'], 'escalation breach');
    PERFORM @extschema@._check_roles(@extschema@._spec_roles(coalesce(v_esc -> 'warning', '{}'), 'notify', 'escalation warning'), 'notify', 'escalation warning');
    PERFORM @extschema@._check_roles(@extschema@._spec_roles(coalesce(v_esc -> 'breach', '{}'), 'notify', 'escalation breach'), 'notify', 'escalation breach');
    PERFORM @extschema@._spec_bool(coalesce(v_esc -> 'breach', '{}'), 'raise_priority', false, 'escalation breach');
    IF coalesce(v_esc -> 'breach' ->> 'reassign', 'dispatch_queue') <> 'dispatch_queue' THEN
        RAISE EXCEPTION 'escalation "reassign" has an invalid value "%"', v_esc -> 'breach' ->> 'reassign'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The only reassignment is "dispatch_queue": the lead is unassigned for dispatch.',
                  HINT = 'Send "reassign": "dispatch_queue" or leave it out.';
    END IF;
    PERFORM @extschema@._require_unique(EXISTS (SELECT 1 FROM @extschema@.sla_policy WHERE tenant_id = p_tenant_id AND code = p_spec ->> 'code'),
        c_what, 'code', p_spec ->> 'code');
    PERFORM @extschema@._require_unique(EXISTS (SELECT 1 FROM @extschema@.sla_policy WHERE tenant_id = p_tenant_id AND active AND scope = v_scope
        AND contract_id IS NOT DISTINCT FROM v_contract AND customer_id IS NOT DISTINCT FROM v_customer
        AND work_order_type_id IS NOT DISTINCT FROM v_type), c_what, 'scope', v_scope);
    INSERT INTO @extschema@.sla_policy (tenant_id, code, name, scope, contract_id, customer_id, work_order_type_id, calendar_id,
                                        start_status, warn_at, escalation)
    VALUES (p_tenant_id, @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what), '^[a-z0-9_]{1,40}$', 'code', c_what, 'gold_contract'),
            @extschema@._spec_text(p_spec, 'name', true, c_what), v_scope, v_contract, v_customer, v_type, v_calendar,
            @extschema@._spec_text(p_spec, 'start_status', false, c_what), v_warn, v_esc)
    RETURNING sla_policy_id INTO v_id;
    FOR v_t IN SELECT value FROM jsonb_array_elements(@extschema@._spec_array(p_spec, 'targets', c_what)) LOOP
        PERFORM @extschema@._spec_keys(v_t.value, ARRAY['metric', 'priority', 'target'], 'SLA target');
        v_priority := NULL;
        IF v_t.value ? 'priority' THEN
            SELECT priority_id INTO v_priority FROM @extschema@.priority
             WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(v_t.value, 'priority', true, 'SLA target');
            PERFORM @extschema@._require_ref(FOUND, 'priority', format('"%s"', v_t.value ->> 'priority'), 'List priorities with SELECT code FROM womgr.priority.');
        END IF;
        IF (v_t.value ->> 'metric') IS NULL OR (v_t.value ->> 'metric') NOT IN ('response', 'arrival', 'resolution') THEN
            RAISE EXCEPTION 'SLA target metric "%" is not known', v_t.value ->> 'metric'
                USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Metrics are response, arrival and resolution.',
                      HINT = 'Send e.g. {"metric": "resolution", "priority": "high", "target": "8 hours"}.';
        END IF;
        BEGIN
            INSERT INTO @extschema@.sla_target (tenant_id, sla_policy_id, metric, priority_id, target)
            VALUES (p_tenant_id, v_id, v_t.value ->> 'metric', v_priority, @extschema@._spec_text(v_t.value, 'target', true, 'SLA target')::interval);
        EXCEPTION
            WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow OR check_violation THEN
                RAISE EXCEPTION 'SLA target "%" is not a positive duration', v_t.value ->> 'target'
                    USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Targets are intervals such as "4 hours" or "2 days" (a day is 24 working hours).',
                          HINT = 'Send a positive duration without months.';
            WHEN unique_violation THEN
                RAISE EXCEPTION 'the SLA policy has two % targets for the same priority', v_t.value ->> 'metric'
                    USING ERRCODE = 'unique_violation', DETAIL = 'Each metric has one target per priority (and one for all priorities).',
                          HINT = 'Remove the duplicate target.';
        END;
        IF (SELECT extract(month FROM target) <> 0 OR extract(year FROM target) <> 0 FROM @extschema@.sla_target
             WHERE tenant_id = p_tenant_id AND sla_policy_id = v_id ORDER BY sla_target_id DESC LIMIT 1) THEN
            RAISE EXCEPTION 'SLA target "%" has months', v_t.value ->> 'target'
                USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Months have no fixed length in working time.',
                      HINT = 'Give targets in hours, minutes or days.';
        END IF;
    END LOOP;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_sla_policy(bigint, jsonb) IS
    'Creates an SLA policy {"code", "name", "scope" (contract, customer, type or default), "contract" | "customer_id" | "type" for the scope, optional "calendar_id" (else the branch''s calendar, else around the clock), "start_status" (the clocks start on entering it; default: at creation), "warn_at" (default [50, 75, 90]), "escalation", "targets": [{"metric": response | arrival | resolution, "priority" (optional), "target": "4 hours"}]}; returns its id.';

CREATE FUNCTION @extschema@._sla_policy_for(p_tenant_id bigint, p_customer_id bigint, p_type_id bigint, p_on date)
    RETURNS bigint
    LANGUAGE sql STABLE
    AS $$
    SELECT p.sla_policy_id
      FROM @extschema@.sla_policy p
     WHERE p.tenant_id = p_tenant_id AND p.active
       AND ((p.scope = 'contract' AND EXISTS (SELECT 1 FROM @extschema@.contract k
                                               WHERE k.tenant_id = p.tenant_id AND k.contract_id = p.contract_id
                                                 AND k.customer_id = p_customer_id AND k.active AND k.valid @> p_on))
            OR (p.scope = 'customer' AND p.customer_id = p_customer_id)
            OR (p.scope = 'type' AND p.work_order_type_id = p_type_id)
            OR p.scope = 'default')
     ORDER BY CASE p.scope WHEN 'contract' THEN 1 WHEN 'customer' THEN 2 WHEN 'type' THEN 3 ELSE 4 END
     LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@._sla_policy_for(bigint, bigint, bigint, date) IS
    'Internal: the SLA policy that applies: the customer''s valid contract''s, else the customer''s, else the type''s, else the default.';

-- The clocks a work order should have now: policy, calendar (and its current version) and target per metric.
CREATE FUNCTION @extschema@._sla_targets(p_wo @extschema@.work_order)
    RETURNS TABLE (metric text, sla_policy_id bigint, calendar_id bigint, calendar_version integer, target interval,
                   start_status text)
    LANGUAGE sql STABLE
    AS $$
    SELECT m.metric, p.sla_policy_id, cal.calendar_id, cal.current_version, t.target, p.start_status
      FROM (SELECT @extschema@._sla_policy_for(p_wo.tenant_id, p_wo.customer_id, p_wo.work_order_type_id,
                                               (p_wo.created_at AT TIME ZONE (SELECT tn.timezone FROM @extschema@.tenant tn
                                                                               WHERE tn.tenant_id = p_wo.tenant_id))::date) AS id) x
      JOIN @extschema@.sla_policy p ON p.tenant_id = p_wo.tenant_id AND p.sla_policy_id = x.id
      CROSS JOIN (VALUES ('response'), ('arrival'), ('resolution')) m(metric)
      CROSS JOIN LATERAL (SELECT st.target FROM @extschema@.sla_target st
                           WHERE st.tenant_id = p.tenant_id AND st.sla_policy_id = p.sla_policy_id AND st.metric = m.metric
                             AND (st.priority_id = p_wo.priority_id OR st.priority_id IS NULL)
                           ORDER BY st.priority_id NULLS LAST LIMIT 1) t
      LEFT JOIN @extschema@.branch b ON b.tenant_id = p_wo.tenant_id AND b.branch_id = p_wo.branch_id
      LEFT JOIN @extschema@.calendar cal ON cal.tenant_id = p_wo.tenant_id AND cal.calendar_id = coalesce(p.calendar_id, b.calendar_id)
$$;
COMMENT ON FUNCTION @extschema@._sla_targets(@extschema@.work_order) IS
    'Internal: for each metric the applicable policy has a target for (the work order''s priority, else all priorities), the policy, calendar, its current version and the target.';

-- Which metrics a status category has reached: response leaves new, arrival reaches in_progress, resolution completed.
CREATE FUNCTION @extschema@._sla_reached(p_metric text, p_category @extschema@.status_category) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE p_metric
        WHEN 'response' THEN p_category NOT IN ('new')
        WHEN 'arrival' THEN p_category IN ('in_progress', 'completed', 'closed')
        ELSE p_category IN ('completed', 'closed') END
$$;
COMMENT ON FUNCTION @extschema@._sla_reached(text, @extschema@.status_category) IS
    'Internal: whether a status category stops a metric''s clock (response: out of new; arrival: in progress; resolution: completed).';

CREATE FUNCTION @extschema@._sla_consumed_at(p_c @extschema@.sla_clock, p_at timestamptz) RETURNS interval
    LANGUAGE sql STABLE
    AS $$
    SELECT p_c.consumed + CASE WHEN p_c.state = 'running' AND p_at > p_c.counted_to
                               THEN @extschema@._bt_between(p_c.tenant_id, p_c.calendar_id, p_c.calendar_version, p_c.counted_to, p_at)
                               ELSE interval '0' END
$$;
COMMENT ON FUNCTION @extschema@._sla_consumed_at(@extschema@.sla_clock, timestamptz) IS
    'Internal: the business time a clock has consumed by p_at (a running clock counts on from counted_to; never backwards).';

CREATE FUNCTION @extschema@._sla_due(p_c @extschema@.sla_clock) RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN p_c.consumed < p_c.target
                THEN @extschema@._bt_add(p_c.tenant_id, p_c.calendar_id, p_c.calendar_version, p_c.counted_to, p_c.target - p_c.consumed)
                ELSE coalesce(p_c.due_at, p_c.counted_to) END
$$;
COMMENT ON FUNCTION @extschema@._sla_due(@extschema@.sla_clock) IS
    'Internal: when a running clock reaches its target: the remaining business time added to where it was counted to (a clock already past its target keeps its due time).';

-- Keeps the clocks of one work order in step with a change (AFTER trigger on work_order).
CREATE FUNCTION @extschema@._sla_on_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_at timestamptz;
    v_old_clock text;
    v_new_clock text;
    v_t record;
    v_c @extschema@.sla_clock;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.created_at < transaction_timestamp() THEN
            RETURN NULL;                          -- an import brings its clocks with it
        END IF;
        IF NOT EXISTS (SELECT 1 FROM @extschema@.sla_policy WHERE tenant_id = NEW.tenant_id AND active) THEN
            RETURN NULL;                          -- a tenant without SLA policies pays nothing more
        END IF;
        INSERT INTO @extschema@.sla_clock (tenant_id, work_order_id, metric, sla_policy_id, calendar_id, calendar_version,
                                           target, started_at, counted_to, state)
        SELECT NEW.tenant_id, NEW.work_order_id, t.metric, t.sla_policy_id, t.calendar_id, t.calendar_version, t.target,
               CASE WHEN t.start_status IS NULL OR t.start_status = NEW.status THEN NEW.created_at END,
               CASE WHEN t.start_status IS NULL OR t.start_status = NEW.status THEN NEW.created_at END,
               CASE WHEN t.start_status IS NULL OR t.start_status = NEW.status THEN 'running' ELSE 'pending' END
          FROM @extschema@._sla_targets(NEW) t;
        UPDATE @extschema@.sla_clock c SET due_at = @extschema@._sla_due(c)
         WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state = 'running';
        RETURN NULL;
    END IF;

    -- a new priority or type: the policy is resolved again, the business time consumed is kept
    IF NEW.priority_id IS DISTINCT FROM OLD.priority_id OR NEW.work_order_type_id IS DISTINCT FROM OLD.work_order_type_id THEN
        v_at := clock_timestamp();
        UPDATE @extschema@.sla_clock c
           SET consumed = @extschema@._sla_consumed_at(c, v_at),
               counted_to = CASE WHEN c.state = 'running' THEN greatest(v_at, c.counted_to) ELSE c.counted_to END,
               sla_policy_id = t.sla_policy_id, calendar_id = t.calendar_id, calendar_version = t.calendar_version,
               target = t.target
          FROM @extschema@._sla_targets(NEW) t
         WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.metric = t.metric
           AND c.state IN ('pending', 'running', 'paused')
           AND c.breach_raised_at IS NULL;          -- an escalation never loosens a breached target
        -- metrics the new policy does not measure stop being measured; those it adds start now
        UPDATE @extschema@.sla_clock c SET state = 'cancelled', stopped_at = v_at
         WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state IN ('pending', 'running', 'paused')
           AND c.breach_raised_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM @extschema@._sla_targets(NEW) t WHERE t.metric = c.metric);
        INSERT INTO @extschema@.sla_clock (tenant_id, work_order_id, metric, sla_policy_id, calendar_id, calendar_version,
                                           target, started_at, counted_to, state, stopped_at)
        SELECT NEW.tenant_id, NEW.work_order_id, t.metric, t.sla_policy_id, t.calendar_id, t.calendar_version, t.target, v_at, v_at,
               CASE WHEN @extschema@._sla_reached(t.metric, NEW.category) THEN 'met' ELSE 'running' END,
               CASE WHEN @extschema@._sla_reached(t.metric, NEW.category) THEN v_at END
          FROM @extschema@._sla_targets(NEW) t
        ON CONFLICT (tenant_id, work_order_id, metric) DO NOTHING;
        UPDATE @extschema@.sla_clock c SET due_at = CASE WHEN c.state = 'running' THEN @extschema@._sla_due(c) ELSE c.due_at END
         WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state IN ('running', 'paused');
    END IF;

    IF NEW.status IS NOT DISTINCT FROM OLD.status
       OR NOT EXISTS (SELECT 1 FROM @extschema@.sla_clock WHERE tenant_id = NEW.tenant_id AND work_order_id = NEW.work_order_id) THEN
        RETURN NULL;                              -- no clocks: nothing to keep in step
    END IF;
    v_at := NEW.status_changed_at;
    SELECT s.sla_clock INTO v_old_clock FROM @extschema@.workflow_status s
     WHERE s.tenant_id = OLD.tenant_id AND s.workflow_id = OLD.workflow_id AND s.code = OLD.status;
    SELECT s.sla_clock INTO v_new_clock FROM @extschema@.workflow_status s
     WHERE s.tenant_id = NEW.tenant_id AND s.workflow_id = NEW.workflow_id AND s.code = NEW.status;

    -- 0. clocks waiting for their policy's start status start now
    UPDATE @extschema@.sla_clock c SET state = 'running', started_at = v_at, counted_to = v_at
      FROM @extschema@.sla_policy p
     WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state = 'pending'
       AND p.tenant_id = c.tenant_id AND p.sla_policy_id = c.sla_policy_id AND p.start_status = NEW.status;

    -- 1. count what ran until now
    UPDATE @extschema@.sla_clock c
       SET consumed = c.consumed + @extschema@._bt_between(c.tenant_id, c.calendar_id, c.calendar_version, c.counted_to, v_at),
           counted_to = v_at
     WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state = 'running' AND v_at > c.counted_to;

    -- 2. pauses are rows
    IF v_new_clock = 'pause' AND coalesce(v_old_clock, 'run') <> 'pause' THEN
        INSERT INTO @extschema@.sla_pause (tenant_id, work_order_id, paused_at, status)
        VALUES (NEW.tenant_id, NEW.work_order_id, v_at, NEW.status);
    ELSIF v_old_clock = 'pause' AND v_new_clock <> 'pause' THEN
        UPDATE @extschema@.sla_pause SET resumed_at = greatest(v_at, paused_at)
         WHERE tenant_id = NEW.tenant_id AND work_order_id = NEW.work_order_id AND resumed_at IS NULL;
    END IF;

    -- 2b. reopened after the clocks stopped: the stopped time is a pause, so recomputing never counts it
    IF NEW.category <> 'cancelled' AND coalesce(v_new_clock, 'run') <> 'stop' THEN
        INSERT INTO @extschema@.sla_pause (tenant_id, work_order_id, paused_at, resumed_at, status)
        SELECT NEW.tenant_id, NEW.work_order_id, min(c.stopped_at), greatest(v_at, min(c.stopped_at)), OLD.status
          FROM @extschema@.sla_clock c
         WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state IN ('met', 'missed')
           AND NOT @extschema@._sla_reached(c.metric, NEW.category)
           AND NOT EXISTS (SELECT 1 FROM @extschema@.sla_pause p
                            WHERE p.tenant_id = NEW.tenant_id AND p.work_order_id = NEW.work_order_id AND p.resumed_at IS NULL)
        HAVING min(c.stopped_at) IS NOT NULL;
    END IF;

    -- 3. each clock: stopped when its metric is reached, cancelled with the work order, paused or running
    UPDATE @extschema@.sla_clock c
       SET state = x.state,
           stopped_at = CASE WHEN x.state IN ('met', 'missed', 'cancelled') THEN coalesce(c.stopped_at, v_at) ELSE NULL END,
           counted_to = CASE WHEN x.state = 'running' AND c.state <> 'running' THEN greatest(v_at, c.counted_to) ELSE c.counted_to END
      FROM (SELECT c2.metric,
                   CASE WHEN c2.state IN ('met', 'missed') AND (NEW.category = 'cancelled' OR v_new_clock = 'stop'
                                                                  OR @extschema@._sla_reached(c2.metric, NEW.category))
                             THEN c2.state
                        WHEN NEW.category = 'cancelled' THEN 'cancelled'
                        WHEN @extschema@._sla_reached(c2.metric, NEW.category) OR v_new_clock = 'stop'
                             THEN CASE WHEN c2.state IN ('met', 'missed') THEN c2.state
                                       WHEN c2.consumed <= c2.target THEN 'met' ELSE 'missed' END
                        WHEN v_new_clock = 'pause' THEN 'paused'
                        ELSE 'running' END AS state
              FROM @extschema@.sla_clock c2
             WHERE c2.tenant_id = NEW.tenant_id AND c2.work_order_id = NEW.work_order_id
               AND (c2.state <> 'pending' OR NEW.category = 'cancelled')) x
     WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.metric = x.metric
       AND c.state <> x.state;
    UPDATE @extschema@.sla_clock c
       SET due_at = CASE WHEN c.state = 'running' THEN @extschema@._sla_due(c)
                         WHEN c.state = 'paused' AND c.consumed < c.target THEN NULL
                         ELSE c.due_at END
     WHERE c.tenant_id = NEW.tenant_id AND c.work_order_id = NEW.work_order_id AND c.state <> 'pending';
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._sla_on_change() IS
    'Internal trigger: starts the SLA clocks of a new work order and keeps them in step with its status (run, pause, stop), priority and type.';
CREATE TRIGGER work_order_sla AFTER INSERT OR UPDATE OF status, priority_id, work_order_type_id ON @extschema@.work_order
    FOR EACH ROW EXECUTE FUNCTION @extschema@._sla_on_change();

-- SLA status, live: what each clock has consumed by now
CREATE VIEW @extschema@.sla_status WITH (security_invoker = true, security_barrier = true) AS
SELECT c.tenant_id, c.work_order_id, w.number, c.metric, p.code AS policy, c.calendar_id, c.calendar_version,
       c.target, c.started_at, c.due_at, live.consumed,
       CASE WHEN c.state IN ('pending', 'running', 'paused') THEN greatest(c.target - live.consumed, interval '0') ELSE NULL END AS remaining,
       round(100 * extract(epoch FROM live.consumed) / extract(epoch FROM c.target), 1) AS percent_used,
       CASE WHEN c.state = 'met' THEN 'met'
            WHEN c.state = 'cancelled' THEN 'cancelled'
            WHEN c.state = 'pending' THEN 'pending'
            WHEN c.state = 'missed' OR live.consumed >= c.target THEN 'breached'
            WHEN 100 * extract(epoch FROM live.consumed) / extract(epoch FROM c.target) >= coalesce(p.warn_at[1], 101)::numeric THEN 'warning'
            ELSE 'ok' END AS state,
       c.state AS clock,
       CASE WHEN c.state = 'missed' OR live.consumed >= c.target THEN c.due_at END AS breached_at,
       c.stopped_at
  FROM @extschema@.sla_clock c
  JOIN @extschema@.work_order w ON w.tenant_id = c.tenant_id AND w.work_order_id = c.work_order_id
  JOIN @extschema@.sla_policy p ON p.tenant_id = c.tenant_id AND p.sla_policy_id = c.sla_policy_id
  CROSS JOIN LATERAL (SELECT @extschema@._sla_consumed_at(c, now()) AS consumed) live;
COMMENT ON VIEW @extschema@.sla_status IS
    'Per work order and SLA target: policy, due time, business time consumed and remaining, percent used, state (pending, ok, warning, breached, met, cancelled), breach time. Live: running clocks are counted up to now().';

CREATE FUNCTION @extschema@.sla_tick(p_tenant_id bigint DEFAULT NULL, p_now timestamptz DEFAULT now())
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r record;
    v_raised integer := 0;
    v_pct numeric;
    v_level smallint;
    v_esc jsonb;
    v_higher bigint;
    v_lead bigint;
BEGIN
    IF p_now IS NULL OR NOT isfinite(p_now) THEN
        RAISE EXCEPTION 'the time of the tick must be a finite timestamp'
            USING ERRCODE = 'null_value_not_allowed', DETAIL = 'sla_tick() judges the clocks as of p_now.', HINT = 'Leave p_now out for now().';
    END IF;
    IF p_tenant_id IS NOT NULL THEN
        PERFORM @extschema@._require_tenant(p_tenant_id);
    END IF;
    FOR v_r IN
        SELECT c.*, p.warn_at, p.escalation, w.number,
               @extschema@._sla_consumed_at(c, p_now) AS live
          FROM @extschema@.sla_clock c
          JOIN @extschema@.sla_policy p ON p.tenant_id = c.tenant_id AND p.sla_policy_id = c.sla_policy_id
          JOIN @extschema@.work_order w ON w.tenant_id = c.tenant_id AND w.work_order_id = c.work_order_id
         WHERE (p_tenant_id IS NULL OR c.tenant_id = p_tenant_id)
           AND c.state IN ('running', 'paused') AND c.breach_raised_at IS NULL
           AND c.started_at <= p_now
         ORDER BY c.tenant_id, c.work_order_id, c.metric
           FOR UPDATE OF c SKIP LOCKED
    LOOP
        v_pct := 100 * extract(epoch FROM v_r.live) / extract(epoch FROM v_r.target);
        -- warnings: the highest threshold crossed and not raised yet, once
        SELECT max(a) INTO v_level FROM unnest(v_r.warn_at) a WHERE a <= v_pct AND a > v_r.warned_pct;
        IF v_level IS NOT NULL AND v_pct < 100 THEN
            v_esc := v_r.escalation -> 'warning';
            PERFORM @extschema@._log_event(v_r.tenant_id, v_r.work_order_id, 'sla_warning',
                jsonb_build_object('metric', v_r.metric, 'percent', v_level, 'due_at', v_r.due_at,
                                   'notify', coalesce(v_esc -> 'notify', '[]')));
            UPDATE @extschema@.sla_clock SET warned_pct = v_level
             WHERE tenant_id = v_r.tenant_id AND work_order_id = v_r.work_order_id AND metric = v_r.metric;
            v_raised := v_raised + 1;
        END IF;
        IF v_pct >= 100 THEN
            v_esc := v_r.escalation -> 'breach';
            UPDATE @extschema@.sla_clock
               SET breach_raised_at = p_now,
                   warned_pct = greatest(warned_pct, (SELECT coalesce(max(a), 0) FROM unnest(v_r.warn_at) a))
             WHERE tenant_id = v_r.tenant_id AND work_order_id = v_r.work_order_id AND metric = v_r.metric;
            PERFORM @extschema@._log_event(v_r.tenant_id, v_r.work_order_id, 'sla_breached',
                jsonb_build_object('metric', v_r.metric, 'due_at', v_r.due_at, 'notify', coalesce(v_esc -> 'notify', '[]'),
                                   'raise_priority', coalesce((v_esc ->> 'raise_priority')::boolean, false),
                                   'reassign', v_esc -> 'reassign'));
            v_raised := v_raised + 1;
            IF coalesce((v_esc ->> 'raise_priority')::boolean, false) THEN
                SELECT hp.priority_id INTO v_higher
                  FROM @extschema@.work_order w
                  JOIN @extschema@.priority cp ON cp.tenant_id = w.tenant_id AND cp.priority_id = w.priority_id
                  JOIN @extschema@.priority hp ON hp.tenant_id = w.tenant_id AND hp.rank < cp.rank
                 WHERE w.tenant_id = v_r.tenant_id AND w.work_order_id = v_r.work_order_id
                 ORDER BY hp.rank DESC LIMIT 1;
                IF v_higher IS NOT NULL THEN
                    PERFORM @extschema@._set_change_note(v_r.tenant_id, v_r.work_order_id,
                        format('SLA %s target breached: priority raised', v_r.metric));
                    UPDATE @extschema@.work_order SET priority_id = v_higher
                     WHERE tenant_id = v_r.tenant_id AND work_order_id = v_r.work_order_id;
                    PERFORM @extschema@._set_change_note(NULL, NULL, NULL);
                END IF;
            END IF;
            IF v_esc ->> 'reassign' = 'dispatch_queue' THEN
                SELECT assignment_id INTO v_lead FROM @extschema@.assignment
                 WHERE tenant_id = v_r.tenant_id AND work_order_id = v_r.work_order_id AND role = 'lead' AND ended_at IS NULL;
                IF FOUND THEN
                    PERFORM @extschema@.unassign(v_r.tenant_id, v_lead, format('SLA %s target breached: back to the dispatch queue', v_r.metric));
                END IF;
            END IF;
        END IF;
    END LOOP;
    RETURN v_raised;
END
$$;
COMMENT ON FUNCTION @extschema@.sla_tick(bigint, timestamptz) IS
    'Raises each SLA warning (at the policy''s warn_at percentages) and each breach exactly once, as sla_warning / sla_breached events with their outbox notifications, and applies the policy''s escalation on a breach (roles to notify, raise the priority one rank, send the job back to the dispatch queue). NULL tenant: every tenant the caller can see. Returns the number of warnings and breaches raised.';

CREATE FUNCTION @extschema@._sla_breach_at(p_c @extschema@.sla_clock, p_version integer) RETURNS timestamptz
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_left interval := p_c.target;
    v_cur timestamptz := p_c.started_at;
    v_seg interval;
    v_p record;
BEGIN
    -- walk the running stretches between the pauses until the target is used up
    FOR v_p IN SELECT greatest(sp.paused_at, p_c.started_at) AS a, least(coalesce(sp.resumed_at, p_c.counted_to), p_c.counted_to) AS b
                 FROM @extschema@.sla_pause sp
                WHERE sp.tenant_id = p_c.tenant_id AND sp.work_order_id = p_c.work_order_id
                  AND least(coalesce(sp.resumed_at, p_c.counted_to), p_c.counted_to) > greatest(sp.paused_at, p_c.started_at)
                ORDER BY sp.paused_at LOOP
        IF v_p.a > v_cur THEN
            v_seg := @extschema@._business_time_between_v(p_c.tenant_id, p_c.calendar_id, p_version, v_cur, v_p.a);
            IF v_seg >= v_left THEN
                RETURN @extschema@._add_business_time_v(p_c.tenant_id, p_c.calendar_id, p_version, v_cur, v_left);
            END IF;
            v_left := v_left - v_seg;
        END IF;
        v_cur := greatest(v_cur, v_p.b);
    END LOOP;
    RETURN @extschema@._add_business_time_v(p_c.tenant_id, p_c.calendar_id, p_version, v_cur, v_left);
END
$$;
COMMENT ON FUNCTION @extschema@._sla_breach_at(@extschema@.sla_clock, integer) IS
    'Internal: the instant a clock used up its target on a calendar version, walking the running stretches between its pauses.';

CREATE FUNCTION @extschema@.sla_recalculate(p_tenant_id bigint, p_calendar_id bigint, p_mode text) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_version integer;
    v_now timestamptz := clock_timestamp();
    v_n integer;
    v_c @extschema@.sla_clock;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT current_version INTO v_version FROM @extschema@.calendar WHERE tenant_id = p_tenant_id AND calendar_id = p_calendar_id;
    PERFORM @extschema@._require_row(FOUND, 'calendar', p_calendar_id, p_tenant_id);
    IF p_mode IS NULL OR p_mode NOT IN ('keep', 'remaining', 'all') THEN
        RAISE EXCEPTION 'recalculation mode "%" is not known', coalesce(p_mode, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'keep: open clocks stay on the version they started with; remaining: time not yet consumed follows the current version; all: the whole clock is recomputed on the current version.',
                  HINT = 'Pass ''keep'', ''remaining'' or ''all''.';
    END IF;
    IF p_mode = 'keep' THEN
        RETURN 0;
    ELSIF p_mode = 'remaining' THEN
        -- one pass: what ran so far counted on the old version, the rest (and the due time) on the new
        UPDATE @extschema@.sla_clock c
           SET consumed = x.consumed, counted_to = x.counted_to, calendar_version = v_version,
               due_at = CASE WHEN c.state = 'running' AND x.consumed < c.target
                             THEN @extschema@._add_business_time_v(c.tenant_id, c.calendar_id, v_version, x.counted_to, c.target - x.consumed)
                             ELSE c.due_at END
          FROM (SELECT k.tenant_id, k.work_order_id, k.metric,
                       k.consumed + CASE WHEN k.state = 'running' AND v_now > k.counted_to
                                         THEN @extschema@._business_time_between_v(k.tenant_id, k.calendar_id, k.calendar_version, k.counted_to, v_now)
                                         ELSE interval '0' END AS consumed,
                       CASE WHEN k.state = 'running' THEN greatest(v_now, k.counted_to) ELSE k.counted_to END AS counted_to
                  FROM @extschema@.sla_clock k
                 WHERE k.tenant_id = p_tenant_id AND k.calendar_id = p_calendar_id
                   AND k.state IN ('pending', 'running', 'paused') AND k.calendar_version <> v_version) x
         WHERE c.tenant_id = x.tenant_id AND c.work_order_id = x.work_order_id AND c.metric = x.metric;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    ELSE
        -- one pass: each clock again on the new version from its start, less its pauses
        UPDATE @extschema@.sla_clock c
           SET consumed = x.consumed, counted_to = x.counted_to, calendar_version = v_version,
               due_at = CASE WHEN c.state = 'pending' THEN NULL
                             WHEN x.consumed >= c.target AND x.pauses = 0       -- used up without a pause: start + target
                             THEN @extschema@._add_business_time_v(c.tenant_id, c.calendar_id, v_version, c.started_at, c.target)
                             WHEN x.consumed >= c.target THEN c.due_at          -- set below, walking the pauses
                             WHEN c.state = 'running'
                             THEN @extschema@._add_business_time_v(c.tenant_id, c.calendar_id, v_version, x.counted_to, c.target - x.consumed)
                             ELSE NULL END
          FROM (SELECT k.tenant_id, k.work_order_id, k.metric, u.upto AS counted_to, coalesce(ps.n, 0) AS pauses,
                       CASE WHEN k.state = 'pending' THEN interval '0'
                            ELSE @extschema@._business_time_between_v(k.tenant_id, k.calendar_id, v_version, k.started_at, u.upto)
                                 - coalesce(ps.paused, interval '0') END AS consumed
                  FROM @extschema@.sla_clock k
                 CROSS JOIN LATERAL (SELECT CASE WHEN k.state = 'running' THEN greatest(v_now, k.counted_to) ELSE k.counted_to END AS upto) u
                  LEFT JOIN LATERAL (SELECT count(*) AS n,
                                            sum(@extschema@._business_time_between_v(k.tenant_id, k.calendar_id, v_version,
                                                    greatest(sp.paused_at, k.started_at), least(coalesce(sp.resumed_at, u.upto), u.upto))) AS paused
                                       FROM @extschema@.sla_pause sp
                                      WHERE sp.tenant_id = k.tenant_id AND sp.work_order_id = k.work_order_id
                                        AND k.state <> 'pending'
                                        AND least(coalesce(sp.resumed_at, u.upto), u.upto) > greatest(sp.paused_at, k.started_at)) ps ON true
                 WHERE k.tenant_id = p_tenant_id AND k.calendar_id = p_calendar_id
                   AND k.state IN ('pending', 'running', 'paused')) x
         WHERE c.tenant_id = x.tenant_id AND c.work_order_id = x.work_order_id AND c.metric = x.metric;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        -- clocks past their target that paused on the way: the breach instant walks the pauses
        FOR v_c IN SELECT k.* FROM @extschema@.sla_clock k
                    WHERE k.tenant_id = p_tenant_id AND k.calendar_id = p_calendar_id AND k.state IN ('running', 'paused')
                      AND k.consumed >= k.target
                      AND EXISTS (SELECT 1 FROM @extschema@.sla_pause sp
                                   WHERE sp.tenant_id = k.tenant_id AND sp.work_order_id = k.work_order_id
                                     AND sp.paused_at < k.counted_to AND coalesce(sp.resumed_at, k.counted_to) > k.started_at) LOOP
            UPDATE @extschema@.sla_clock SET due_at = @extschema@._sla_breach_at(v_c, v_version)
             WHERE tenant_id = v_c.tenant_id AND work_order_id = v_c.work_order_id AND metric = v_c.metric;
        END LOOP;
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION @extschema@.sla_recalculate(bigint, bigint, text) IS
    'After a calendar edit, moves the open SLA clocks on that calendar: keep (they stay on the version they started with), remaining (time not yet consumed follows the current version) or all (each clock recomputed on the current version from its start, less its pauses; a clock past its target gets the instant it was used up). Returns the number of clocks changed, pending ones included.';
