-- Setting up billing: the seller and payment details, tax rates, rate cards,
-- which status invoices a job, and recording the time and charges of a job.

CREATE FUNCTION @extschema@.set_billing_settings(p_tenant_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'billing settings';
    v_s @extschema@.billing_settings;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes, ARRAY['seller_name', 'seller_tax_pin', 'seller_address', 'seller_phone',
        'seller_email', 'invoice_prefix', 'credit_note_prefix', 'payment_terms_days', 'issue_on_generate',
        'mpesa_paybill', 'mpesa_till', 'bank_details'], c_what);
    SELECT * INTO STRICT v_s FROM @extschema@.billing_settings WHERE tenant_id = p_tenant_id FOR UPDATE;
    v_s := jsonb_populate_record(v_s, p_changes - 'payment_terms_days' - 'issue_on_generate');
    IF p_changes ? 'payment_terms_days' THEN
        v_s.payment_terms_days := @extschema@._spec_numeric(p_changes, 'payment_terms_days', true, c_what);
        IF v_s.payment_terms_days NOT BETWEEN 0 AND 365 THEN
            RAISE EXCEPTION 'field "payment_terms_days" of the billing settings spec must be between 0 and 365'
                USING ERRCODE = 'invalid_parameter_value', DETAIL = format('It is %s.', p_changes->>'payment_terms_days'),
                      HINT = 'Send the days between the issue date and the due date, e.g. 14.';
        END IF;
    END IF;
    IF p_changes ? 'issue_on_generate' THEN
        v_s.issue_on_generate := @extschema@._spec_bool(p_changes, 'issue_on_generate', true, c_what);
    END IF;
    PERFORM @extschema@._check_code(v_s.invoice_prefix, '^[A-Z0-9]{1,8}$', 'invoice_prefix', c_what, 'INV');
    PERFORM @extschema@._check_code(v_s.credit_note_prefix, '^[A-Z0-9]{1,8}$', 'credit_note_prefix', c_what, 'CN');
    PERFORM @extschema@._check_code(v_s.mpesa_paybill, '^[0-9]{5,7}$', 'mpesa_paybill', c_what, '522533');
    PERFORM @extschema@._check_code(v_s.mpesa_till, '^[0-9]{5,7}$', 'mpesa_till', c_what, '5123456');
    IF v_s.invoice_prefix = v_s.credit_note_prefix THEN
        RAISE EXCEPTION 'invoices and credit notes need different prefixes'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('Both are "%s".', v_s.invoice_prefix),
                  HINT = 'Each series is numbered on its own, so the prefixes tell them apart.';
    END IF;
    UPDATE @extschema@.billing_settings
       SET seller_name = v_s.seller_name, seller_tax_pin = v_s.seller_tax_pin, seller_address = v_s.seller_address,
           seller_phone = v_s.seller_phone, seller_email = v_s.seller_email, invoice_prefix = v_s.invoice_prefix,
           credit_note_prefix = v_s.credit_note_prefix, payment_terms_days = v_s.payment_terms_days,
           issue_on_generate = v_s.issue_on_generate, mpesa_paybill = v_s.mpesa_paybill, mpesa_till = v_s.mpesa_till,
           bank_details = v_s.bank_details, updated_at = now()
     WHERE tenant_id = p_tenant_id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_billing_settings(bigint, jsonb) IS
    'Changes the billing settings named in p_changes: "seller_name", "seller_tax_pin" (KRA PIN), "seller_address", "seller_phone", "seller_email", "invoice_prefix" (INV), "credit_note_prefix" (CN), "payment_terms_days" (14), "issue_on_generate" (true), "mpesa_paybill", "mpesa_till", "bank_details". A key set to null clears it.';

CREATE FUNCTION @extschema@.set_tax_rate(p_tenant_id bigint, p_tax_class text, p_rate_percent numeric, p_valid_from date)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_class bigint;
    v_treatment text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    v_class := @extschema@._tax_class_id(p_tenant_id, coalesce(p_tax_class, ''), 'tax rate');
    SELECT treatment INTO v_treatment FROM @extschema@.tax_class WHERE tenant_id = p_tenant_id AND tax_class_id = v_class;
    IF p_rate_percent IS NULL OR p_valid_from IS NULL THEN
        RAISE EXCEPTION 'tax rate and start date must not be null'
            USING ERRCODE = 'null_value_not_allowed', DETAIL = 'A tax rate applies from a date on.',
                  HINT = 'Pass e.g. 16 and ''2026-01-01''.';
    END IF;
    IF p_rate_percent < 0 OR p_rate_percent >= 100 OR (v_treatment <> 'standard' AND p_rate_percent <> 0) THEN
        RAISE EXCEPTION 'tax rate % %% is not valid for tax class "%"', p_rate_percent, p_tax_class
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The class is %s; standard classes take 0 to 99.999 %%, zero-rated and exempt classes only 0.', v_treatment),
                  HINT = 'Kenya''s standard VAT rate is 16.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tax_rate WHERE tenant_id = p_tenant_id AND tax_class_id = v_class
                                                    AND lower(valid) >= p_valid_from) THEN
        RAISE EXCEPTION 'tax class "%" already has a rate from % or later', p_tax_class, p_valid_from
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Rates are added in date order; invoices already issued keep the rates they were issued with.',
                  HINT = 'Pass a start date after the latest rate''s.';
    END IF;
    UPDATE @extschema@.tax_rate SET valid = daterange(lower(valid), p_valid_from)
     WHERE tenant_id = p_tenant_id AND tax_class_id = v_class AND valid @> p_valid_from;
    INSERT INTO @extschema@.tax_rate (tenant_id, tax_class_id, valid, rate_percent)
    VALUES (p_tenant_id, v_class, daterange(p_valid_from, NULL), p_rate_percent)
    RETURNING tax_rate_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_tax_rate(bigint, text, numeric, date) IS
    'Sets the rate of a tax class (by code) from a date on: the rate in force then ends the day before. Invoices use the rate in force on their tax point (the completion date). Returns the new rate''s id.';

CREATE FUNCTION @extschema@.set_billing_status(p_tenant_id bigint, p_workflow text, p_status text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_workflow bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT workflow_id INTO v_workflow FROM @extschema@.workflow WHERE tenant_id = p_tenant_id AND code = p_workflow;
    PERFORM @extschema@._require_ref(FOUND, 'workflow', coalesce(p_workflow, 'null'), 'See womgr.workflow for the codes.');
    IF p_status IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM @extschema@.workflow_status
         WHERE tenant_id = p_tenant_id AND workflow_id = v_workflow AND code = p_status AND category IN ('completed', 'closed')) THEN
        RAISE EXCEPTION 'status "%" of workflow "%" cannot be the billing status', p_status, p_workflow
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Jobs are invoiced in a status of category completed or closed of their workflow.',
                  HINT = 'Pass NULL to invoice by hand with womgr.generate_invoice().';
    END IF;
    UPDATE @extschema@.workflow_status SET invoices = false
     WHERE tenant_id = p_tenant_id AND workflow_id = v_workflow AND invoices AND code IS DISTINCT FROM p_status;
    UPDATE @extschema@.workflow_status SET invoices = true
     WHERE tenant_id = p_tenant_id AND workflow_id = v_workflow AND code = p_status AND NOT invoices;
END
$$;
COMMENT ON FUNCTION @extschema@.set_billing_status(bigint, text, text) IS
    'Sets the status (of category completed or closed) in which a workflow''s work orders invoice themselves; NULL turns automatic invoicing off for it. The standard workflow invoices on completed.';

CREATE FUNCTION @extschema@.create_rate_card(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'rate card';
    v_code text;
    v_branch bigint;
    v_from date;
    v_until date;
    v_mode text;
    v_id bigint;
    v_el jsonb;
    v_skill bigint;
    v_num numeric;
    v_key text;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'branch_id', 'valid_from', 'valid_until',
        'default_hourly_rate', 'call_out_fee', 'after_hours_multiplier', 'after_hours_calendar_id', 'billing_increment',
        'minimum_labour', 'travel_mode', 'travel_per_km', 'travel_default_fee', 'labour_tax_class', 'fee_tax_class',
        'labour', 'zones'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what), '^[a-z0-9_]{1,40}$', 'code', c_what, 'standard_2026');
    PERFORM @extschema@._require_unique(EXISTS (
        SELECT 1 FROM @extschema@.rate_card WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    v_branch := @extschema@._spec_bigint(p_spec, 'branch_id', false, c_what);
    PERFORM @extschema@._require_ref(v_branch IS NULL OR EXISTS (
        SELECT 1 FROM @extschema@.branch WHERE tenant_id = p_tenant_id AND branch_id = v_branch),
        'branch', v_branch::text, 'Leave branch_id out for a tenant-wide card.');
    FOREACH v_key IN ARRAY ARRAY['default_hourly_rate', 'call_out_fee', 'travel_per_km', 'travel_default_fee'] LOOP
        v_num := @extschema@._spec_numeric(p_spec, v_key, false, c_what);
        IF v_num < 0 THEN
            RAISE EXCEPTION 'field "%" of the rate card spec must not be negative', v_key
                USING ERRCODE = 'invalid_parameter_value', DETAIL = format('It is %s.', v_num), HINT = 'Amounts are net of VAT.';
        END IF;
    END LOOP;
    IF @extschema@._spec_numeric(p_spec, 'after_hours_multiplier', false, c_what) < 1 THEN
        RAISE EXCEPTION 'field "after_hours_multiplier" of the rate card spec must be at least 1'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('It is %s.', p_spec->>'after_hours_multiplier'),
                  HINT = 'Use 1.5 for time and a half.';
    END IF;
    v_mode := coalesce(@extschema@._spec_text(p_spec, 'travel_mode', false, c_what), 'none');
    IF v_mode NOT IN ('none', 'per_km', 'zone') THEN
        RAISE EXCEPTION 'field "travel_mode" of the rate card spec has an invalid value "%"', v_mode
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Travel is charged per_km, by zone, or not at all (none).',
                  HINT = 'Send "per_km" with travel_per_km, or "zone" with zones.';
    END IF;
    v_from := coalesce(@extschema@._spec_date(p_spec, 'valid_from', false, c_what), '2000-01-01');
    v_until := @extschema@._spec_date(p_spec, 'valid_until', false, c_what);
    IF v_until < v_from THEN
        RAISE EXCEPTION 'the rate card ends before it starts'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('valid_from %s, valid_until %s.', v_from, v_until),
                  HINT = 'valid_until is the last day the card applies.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.rate_card
                WHERE tenant_id = p_tenant_id AND coalesce(branch_id, 0) = coalesce(v_branch, 0)
                  AND valid && daterange(v_from, v_until, '[]')) THEN
        RAISE EXCEPTION 'another rate card of % applies in that period', coalesce('branch ' || v_branch, 'the tenant')
            USING ERRCODE = 'exclusion_violation',
                  DETAIL = format('Cards of one branch (or tenant-wide cards) may not overlap; this one covers %s to %s.',
                                  v_from, coalesce(v_until::text, 'open end')),
                  HINT = 'Give the new card a later valid_from, or end the old one first.';
    END IF;
    PERFORM @extschema@._check_calendar_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'after_hours_calendar_id', false, c_what));
    INSERT INTO @extschema@.rate_card (tenant_id, code, name, branch_id, valid, default_hourly_rate, call_out_fee,
        after_hours_multiplier, after_hours_calendar_id, billing_increment, minimum_labour, travel_mode, travel_per_km,
        travel_default_fee, labour_tax_class_id, fee_tax_class_id)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what), v_branch,
            daterange(v_from, v_until, '[]'),
            coalesce((p_spec->>'default_hourly_rate')::numeric, 0), coalesce((p_spec->>'call_out_fee')::numeric, 0),
            coalesce((p_spec->>'after_hours_multiplier')::numeric, 1.5),
            (p_spec->>'after_hours_calendar_id')::bigint,
            coalesce(@extschema@._spec_interval(p_spec, 'billing_increment', c_what), '15 minutes'),
            coalesce(@extschema@._spec_interval(p_spec, 'minimum_labour', c_what), '0'),
            v_mode, coalesce((p_spec->>'travel_per_km')::numeric, 0), coalesce((p_spec->>'travel_default_fee')::numeric, 0),
            @extschema@._tax_class_id(p_tenant_id, p_spec->>'labour_tax_class', c_what),
            @extschema@._tax_class_id(p_tenant_id, p_spec->>'fee_tax_class', c_what))
    RETURNING rate_card_id INTO v_id;
    IF p_spec ? 'labour' AND jsonb_typeof(p_spec->'labour') <> 'array' THEN
        RAISE EXCEPTION 'field "labour" of the rate card spec must be an array'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('It is %s.', p_spec->>'labour'),
                  HINT = 'Send [{"skill": "solar", "min_level": 3, "hourly_rate": 2500}].';
    END IF;
    FOR v_el IN SELECT value FROM jsonb_array_elements(coalesce(p_spec->'labour', '[]')) LOOP
        PERFORM @extschema@._spec_keys(v_el, ARRAY['skill', 'min_level', 'hourly_rate'], 'rate card labour');
        SELECT skill_id INTO v_skill FROM @extschema@.skill
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(v_el, 'skill', true, 'rate card labour');
        PERFORM @extschema@._require_ref(FOUND, 'skill', v_el->>'skill', 'Create the skill with womgr.create_skill() first.');
        v_num := @extschema@._spec_numeric(v_el, 'hourly_rate', true, 'rate card labour');
        IF v_num < 0 OR coalesce((v_el->>'min_level')::integer, 1) NOT BETWEEN 1 AND 5 THEN
            RAISE EXCEPTION 'labour rate for skill "%" is not valid', v_el->>'skill'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('hourly_rate %s, min_level %s: rates must not be negative and levels run 1 to 5.',
                                      v_num, coalesce(v_el->>'min_level', '1')),
                      HINT = 'Send {"skill": "solar", "min_level": 3, "hourly_rate": 2500}.';
        END IF;
        INSERT INTO @extschema@.rate_card_labour (tenant_id, rate_card_id, skill_id, min_level, hourly_rate)
        VALUES (p_tenant_id, v_id, v_skill, coalesce((v_el->>'min_level')::smallint, 1), v_num);
    END LOOP;
    FOR v_el IN SELECT value FROM jsonb_array_elements(coalesce(p_spec->'zones', '[]')) LOOP
        PERFORM @extschema@._spec_keys(v_el, ARRAY['territory', 'travel_fee'], 'rate card zone');
        SELECT territory_id INTO v_skill FROM @extschema@.territory
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(v_el, 'territory', true, 'rate card zone');
        PERFORM @extschema@._require_ref(FOUND, 'territory', v_el->>'territory', 'Create it with womgr.create_territory() first.');
        v_num := @extschema@._spec_numeric(v_el, 'travel_fee', true, 'rate card zone');
        IF v_num < 0 THEN
            RAISE EXCEPTION 'travel fee of zone "%" must not be negative', v_el->>'territory'
                USING ERRCODE = 'invalid_parameter_value', DETAIL = format('It is %s.', v_num), HINT = 'Fees are net of VAT.';
        END IF;
        INSERT INTO @extschema@.rate_card_zone (tenant_id, rate_card_id, territory_id, travel_fee)
        VALUES (p_tenant_id, v_id, v_skill, v_num);
    END LOOP;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_rate_card(bigint, jsonb) IS
    'Creates a rate card from {"code", "name", optional "branch_id" (omit for tenant-wide), "valid_from", "valid_until" (inclusive dates), "default_hourly_rate", "labour": [{"skill", "min_level", "hourly_rate"}], "call_out_fee", "after_hours_multiplier" (1.5), "after_hours_calendar_id", "billing_increment" (''15 minutes''), "minimum_labour", "travel_mode" (none, per_km, zone), "travel_per_km", "travel_default_fee", "zones": [{"territory", "travel_fee"}], "labour_tax_class", "fee_tax_class" (codes, default vat_standard)}. Amounts are net of VAT in the branch currency. Cards of one branch may not overlap in time. Returns its id.';

CREATE FUNCTION @extschema@._spec_interval(p_spec jsonb, p_key text, p_what text) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    v interval;
BEGIN
    IF p_spec->>p_key IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        v := (p_spec->>p_key)::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
        v := NULL;
    END;
    IF v IS NULL OR v < '0' OR v > '1 day' THEN
        RAISE EXCEPTION 'field "%" of the % spec has an invalid value "%"', p_key, p_what, p_spec->>p_key
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'It must be a duration from 0 to 1 day.',
                  HINT = 'Send e.g. "15 minutes".';
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION @extschema@._spec_interval(jsonb, text, text) IS
    'Internal: a duration field of a spec (0 to 1 day); invalid_parameter_value otherwise.';

CREATE FUNCTION @extschema@.add_time_entry(p_tenant_id bigint, p_work_order_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'time entry';
    v_wo @extschema@.work_order;
    v_tech bigint;
    v_kind text;
    v_start timestamptz;
    v_end timestamptz;
    v_km numeric;
    v_client timestamptz;
    v_id bigint;
BEGIN
    v_wo := @extschema@._get_work_order(p_tenant_id, p_work_order_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['technician_id', 'kind', 'started_at', 'ended_at', 'distance_km',
        'billable', 'note', 'client_recorded_at'], c_what);
    IF EXISTS (SELECT 1 FROM @extschema@.invoice WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id
                                                   AND kind = 'invoice' AND milestone_id IS NULL) THEN
        RAISE EXCEPTION 'work order % is already invoiced', v_wo.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Time recorded now would never be billed.',
                  HINT = 'Bill it with womgr.create_invoice(), or credit and re-invoice.';
    END IF;
    v_tech := @extschema@._spec_bigint(p_spec, 'technician_id', true, c_what);
    PERFORM @extschema@._require_ref(EXISTS (
        SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = v_tech),
        'technician', v_tech::text, 'Check the technician id.');
    v_kind := coalesce(@extschema@._spec_text(p_spec, 'kind', false, c_what), 'labour');
    IF v_kind NOT IN ('labour', 'travel') THEN
        RAISE EXCEPTION 'field "kind" of the time entry spec has an invalid value "%"', v_kind
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Time is labour or travel.', HINT = 'Send "labour" or "travel".';
    END IF;
    BEGIN
        v_start := (p_spec->>'started_at')::timestamptz;
        v_end := (p_spec->>'ended_at')::timestamptz;
        v_client := (p_spec->>'client_recorded_at')::timestamptz;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
        RAISE EXCEPTION 'the time entry has an invalid started_at, ended_at or client_recorded_at'
            USING ERRCODE = 'invalid_datetime_format',
                  DETAIL = format('started_at %s, ended_at %s, client_recorded_at %s.', p_spec->>'started_at', p_spec->>'ended_at',
                                  coalesce(p_spec->>'client_recorded_at', 'none')),
                  HINT = 'Send ISO 8601 times with an offset, e.g. "2026-03-02T09:00:00+03:00".';
    END;
    IF v_start IS NULL OR v_end IS NULL OR v_end <= v_start OR v_end - v_start > interval '24 hours' THEN
        RAISE EXCEPTION 'a time entry needs started_at before ended_at, at most 24 hours apart'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('started_at %s, ended_at %s.', coalesce(p_spec->>'started_at', 'missing'), coalesce(p_spec->>'ended_at', 'missing')),
                  HINT = 'Record one entry per stretch of work.';
    END IF;
    v_km := @extschema@._spec_numeric(p_spec, 'distance_km', false, c_what);
    IF v_km IS NOT NULL AND (v_kind <> 'travel' OR v_km < 0) THEN
        RAISE EXCEPTION 'distance_km belongs to travel entries and must not be negative'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('kind %s, distance_km %s.', v_kind, v_km),
                  HINT = 'Record the km driven on the travel entry.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.time_entry WHERE tenant_id = p_tenant_id AND technician_id = v_tech
                                                      AND period && tstzrange(v_start, v_end)) THEN
        RAISE EXCEPTION 'the technician already has time recorded in that period'
            USING ERRCODE = 'exclusion_violation',
                  DETAIL = format('Technician %s has an entry overlapping %s to %s.', v_tech, v_start, v_end),
                  HINT = 'One technician''s time entries never overlap; correct the times.';
    END IF;
    INSERT INTO @extschema@.time_entry (tenant_id, work_order_id, technician_id, kind, period, distance_km, billable,
                                        note, client_recorded_at, created_by)
    VALUES (p_tenant_id, p_work_order_id, v_tech, v_kind, tstzrange(v_start, v_end), v_km,
            coalesce(@extschema@._spec_bool(p_spec, 'billable', false, c_what), true),
            @extschema@._spec_text(p_spec, 'note', false, c_what),
            v_client, @extschema@.current_actor())
    RETURNING time_entry_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_time_entry(bigint, bigint, jsonb) IS
    'Records time on a job from {"technician_id", "started_at", "ended_at", optional "kind" (labour or travel), "distance_km" (travel), "billable" (true), "note", "client_recorded_at"}; returns its id. A job with labour entries is billed by them instead of by its status history.';

CREATE FUNCTION @extschema@.add_charge(p_tenant_id bigint, p_work_order_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'charge';
    v_wo @extschema@.work_order;
    v_kind text;
    v_qty numeric;
    v_price numeric;
    v_id bigint;
BEGIN
    v_wo := @extschema@._get_work_order(p_tenant_id, p_work_order_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['kind', 'description', 'quantity', 'unit_price', 'tax_class'], c_what);
    IF EXISTS (SELECT 1 FROM @extschema@.invoice WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id
                                                   AND kind = 'invoice' AND milestone_id IS NULL) THEN
        RAISE EXCEPTION 'work order % is already invoiced', v_wo.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A charge added now would never be billed.',
                  HINT = 'Bill it with womgr.create_invoice().';
    END IF;
    v_kind := coalesce(@extschema@._spec_text(p_spec, 'kind', false, c_what), 'custom');
    v_qty := coalesce(@extschema@._spec_numeric(p_spec, 'quantity', false, c_what), 1);
    v_price := @extschema@._spec_numeric(p_spec, 'unit_price', true, c_what);
    IF v_kind NOT IN ('fee', 'custom') OR v_qty <= 0 OR v_price < 0 THEN
        RAISE EXCEPTION 'the charge is not valid'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('kind %s, quantity %s, unit_price %s: kind is fee or custom, the quantity positive and the price not negative.',
                                  v_kind, v_qty, v_price),
                  HINT = 'Discounts are given as credit notes after invoicing.';
    END IF;
    INSERT INTO @extschema@.work_order_charge (tenant_id, work_order_id, kind, description, quantity, unit_price,
                                               tax_class_id, created_by)
    VALUES (p_tenant_id, p_work_order_id, v_kind, @extschema@._spec_text(p_spec, 'description', true, c_what), v_qty, v_price,
            @extschema@._tax_class_id(p_tenant_id, @extschema@._spec_text(p_spec, 'tax_class', false, c_what), c_what),
            @extschema@.current_actor())
    RETURNING charge_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_charge(bigint, bigint, jsonb) IS
    'Adds a fee or custom line to bill with a job from {"description", "unit_price" (net of VAT), optional "quantity" (1), "kind" (fee or custom), "tax_class" (code, default vat_standard)}; returns its id. Charges are billed even under warranty.';
