-- Service requests: what a customer asks for, before it becomes a work order.

CREATE FUNCTION @extschema@._spec_timestamptz(p_spec jsonb, p_key text, p_required boolean, p_what text)
    RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
DECLARE
    v_text text := @extschema@._spec_text(p_spec, p_key, p_required, p_what);
BEGIN
    IF v_text IS NULL THEN
        RETURN NULL;
    END IF;
    -- ISO 8601 with an explicit offset only: a bare local time would depend on the session's TimeZone
    IF v_text ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$' THEN
        BEGIN
            RETURN v_text::timestamptz;
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            NULL;
        END;
    END IF;
    RAISE EXCEPTION 'field "%" of the % spec holds an invalid timestamp "%"', p_key, p_what, v_text
        USING ERRCODE = 'invalid_datetime_format',
              DETAIL = 'Timestamps are ISO 8601 with a time zone offset.',
              HINT = 'Send a time such as "2026-11-23T14:05:00+03:00".';
END
$$;
COMMENT ON FUNCTION @extschema@._spec_timestamptz(jsonb, text, boolean, text) IS
    'Internal: an ISO 8601 timestamp with offset in a spec, or NULL when absent and optional.';

CREATE FUNCTION @extschema@._lock_request(p_tenant_id bigint, p_request_id bigint)
    RETURNS @extschema@.service_request
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.service_request;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT * INTO v_r FROM @extschema@.service_request
     WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'service request', p_request_id, p_tenant_id);
    RETURN v_r;
END
$$;
COMMENT ON FUNCTION @extschema@._lock_request(bigint, bigint) IS 'Internal: locks a service request for a change.';

CREATE FUNCTION @extschema@._require_request_status(p_r @extschema@.service_request, p_allowed text[], p_doing text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF NOT p_r.status = ANY (p_allowed) THEN
        RAISE EXCEPTION 'service request % is %', p_r.service_request_id, p_r.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Only a request that is %s can be %s.', array_to_string(p_allowed, ' or '), p_doing),
                  HINT = CASE p_r.status WHEN 'converted' THEN format('It became work order %s.', p_r.work_order_id)
                                         ELSE 'Check the request''s status first.' END;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._require_request_status(@extschema@.service_request, text[], text) IS 'Internal: raises unless a request is in one of the allowed statuses.';

CREATE FUNCTION @extschema@._request_refs(p_tenant_id bigint, p_spec jsonb, p_what text,
                                          INOUT p_customer bigint, INOUT p_site bigint, INOUT p_contact bigint,
                                          INOUT p_type bigint, INOUT p_priority bigint)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_spec ? 'customer_id' THEN
        p_customer := @extschema@._spec_bigint(p_spec, 'customer_id', true, p_what);
        PERFORM @extschema@._require_ref(EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = p_customer),
            'customer', p_customer::text, 'Create the customer with womgr.create_customer() first.');
    END IF;
    IF p_spec ? 'site_id' THEN
        p_site := @extschema@._spec_bigint(p_spec, 'site_id', false, p_what);
        IF p_site IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.site
                                               WHERE tenant_id = p_tenant_id AND site_id = p_site AND customer_id = p_customer) THEN
            RAISE EXCEPTION 'site % is not a site of customer %', p_site, p_customer
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = 'This tenant has no such site for the customer.',
                      HINT = 'Send a site of the customer, or create it with womgr.create_site().';
        END IF;
    END IF;
    IF p_spec ? 'contact_id' THEN
        p_contact := @extschema@._spec_bigint(p_spec, 'contact_id', false, p_what);
        PERFORM @extschema@._require_ref(p_contact IS NULL OR EXISTS (SELECT 1 FROM @extschema@.contact
                                                                      WHERE tenant_id = p_tenant_id AND contact_id = p_contact),
            'contact', p_contact::text, 'Create the contact with womgr.create_contact() first.');
    END IF;
    IF p_spec ? 'type' THEN
        SELECT work_order_type_id INTO p_type FROM @extschema@.work_order_type
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_spec, 'type', true, p_what);
        PERFORM @extschema@._require_ref(FOUND, 'work order type', format('"%s"', p_spec ->> 'type'),
            'List types with SELECT code, name FROM womgr.work_order_type.');
    END IF;
    IF p_spec ? 'priority' THEN
        SELECT priority_id INTO p_priority FROM @extschema@.priority
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_spec, 'priority', true, p_what);
        PERFORM @extschema@._require_ref(FOUND, 'priority', format('"%s"', p_spec ->> 'priority'),
            'List priorities with SELECT code, rank FROM womgr.priority.');
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._request_refs(bigint, jsonb, text, bigint, bigint, bigint, bigint, bigint) IS
    'Internal: checks the customer, site, contact, type and priority named in a request spec.';

CREATE FUNCTION @extschema@.create_service_request(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'service request';
    v_refs record;
    v_channel text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['customer_id', 'site_id', 'contact_id', 'type', 'priority',
        'description', 'channel'], c_what);
    PERFORM @extschema@._spec_bigint(p_spec, 'customer_id', true, c_what);
    v_refs := @extschema@._request_refs(p_tenant_id, p_spec, c_what, NULL, NULL, NULL, NULL, NULL);
    v_channel := @extschema@._check_code(coalesce(@extschema@._spec_text(p_spec, 'channel', false, c_what), 'manual'),
                                         '^[a-z0-9_.-]{1,40}$', 'channel', c_what, 'whatsapp');
    INSERT INTO @extschema@.service_request (tenant_id, customer_id, site_id, contact_id, work_order_type_id, priority_id,
                                             description, channel, created_by)
    VALUES (p_tenant_id, v_refs.p_customer, v_refs.p_site, v_refs.p_contact, v_refs.p_type, v_refs.p_priority,
            @extschema@._spec_text(p_spec, 'description', true, c_what), v_channel, @extschema@.current_actor())
    RETURNING service_request_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_service_request(bigint, jsonb) IS
    'Records a customer''s request from {"customer_id", "description", optional "site_id", "contact_id", "type", "priority", "channel"}; returns its id.';

CREATE FUNCTION @extschema@.add_request_attachment(p_tenant_id bigint, p_request_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.service_request := @extschema@._lock_request(p_tenant_id, p_request_id);
    v_a record;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_request_status(v_r, ARRAY['new', 'triaged', 'approved'], 'given attachments');
    v_a := @extschema@._attachment_spec(p_spec);
    SELECT attachment_id INTO v_id FROM @extschema@.attachment
     WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id AND kind = v_a.kind AND content_hash = v_a.content_hash;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO @extschema@.attachment (tenant_id, service_request_id, kind, content_hash, size_bytes, mime_type, storage_uri,
                                        captured_at, location, signed_by, caption, uploaded_by)
    VALUES (p_tenant_id, p_request_id, v_a.kind, v_a.content_hash, v_a.size_bytes, v_a.mime_type, v_a.storage_uri,
            v_a.captured_at, v_a.location, v_a.signed_by, v_a.caption, @extschema@.current_actor())
    RETURNING attachment_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_request_attachment(bigint, bigint, jsonb) IS
    'Records a file sent with a service request (same spec as womgr.add_attachment); it moves to the work order on conversion.';

CREATE FUNCTION @extschema@.triage_service_request(p_tenant_id bigint, p_request_id bigint, p_spec jsonb DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'triage';
    v_r @extschema@.service_request := @extschema@._lock_request(p_tenant_id, p_request_id);
    v_refs record;
BEGIN
    PERFORM @extschema@._require_request_status(v_r, ARRAY['new', 'triaged', 'approved'], 'triaged');
    PERFORM @extschema@._spec_keys(coalesce(p_spec, '{}'), ARRAY['site_id', 'contact_id', 'type', 'priority', 'description'], c_what);
    v_refs := @extschema@._request_refs(p_tenant_id, coalesce(p_spec, '{}'), c_what, v_r.customer_id, v_r.site_id,
                                        v_r.contact_id, v_r.work_order_type_id, v_r.priority_id);
    UPDATE @extschema@.service_request
       SET site_id = v_refs.p_site, contact_id = v_refs.p_contact, work_order_type_id = v_refs.p_type,
           priority_id = v_refs.p_priority,
           description = coalesce(@extschema@._spec_text(p_spec, 'description', false, c_what), description),
           status = CASE WHEN status = 'new' THEN 'triaged' ELSE status END,
           triaged_by = @extschema@.current_actor(), triaged_at = now()
     WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id;
END
$$;
COMMENT ON FUNCTION @extschema@.triage_service_request(bigint, bigint, jsonb) IS
    'Triages a request that is not decided or converted yet: sets or corrects {"site_id", "contact_id", "type", "priority", "description"}; a new request becomes triaged, an approved one stays approved.';

CREATE FUNCTION @extschema@._decide_request(p_tenant_id bigint, p_request_id bigint, p_decision text, p_reason text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.service_request := @extschema@._lock_request(p_tenant_id, p_request_id);
BEGIN
    PERFORM @extschema@._require_request_status(v_r,
        CASE p_decision WHEN 'approved' THEN ARRAY['new', 'triaged'] ELSE ARRAY['new', 'triaged', 'approved'] END, p_decision);
    IF p_decision = 'rejected' THEN
        PERFORM @extschema@._require_reason(p_reason, 'The customer is told why the request was refused.');
    END IF;
    UPDATE @extschema@.service_request
       SET status = p_decision, decided_by = @extschema@.current_actor(), decided_at = now(), decision_reason = p_reason
     WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id;
END
$$;
COMMENT ON FUNCTION @extschema@._decide_request(bigint, bigint, text, text) IS 'Internal: approves or rejects a service request, recording who and why.';

CREATE FUNCTION @extschema@.approve_service_request(p_tenant_id bigint, p_request_id bigint, p_reason text DEFAULT NULL)
    RETURNS void
    LANGUAGE sql VOLATILE
    AS $$ SELECT @extschema@._decide_request(p_tenant_id, p_request_id, 'approved', p_reason) $$;
COMMENT ON FUNCTION @extschema@.approve_service_request(bigint, bigint, text) IS 'Approves a new or triaged request, recording who and why; it can then be converted.';

CREATE FUNCTION @extschema@.reject_service_request(p_tenant_id bigint, p_request_id bigint, p_reason text)
    RETURNS void
    LANGUAGE sql VOLATILE
    AS $$ SELECT @extschema@._decide_request(p_tenant_id, p_request_id, 'rejected', p_reason) $$;
COMMENT ON FUNCTION @extschema@.reject_service_request(bigint, bigint, text) IS 'Rejects a request with a reason (required).';

CREATE FUNCTION @extschema@.convert_service_request(p_tenant_id bigint, p_request_id bigint, p_spec jsonb DEFAULT '{}')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'conversion';
    v_r @extschema@.service_request := @extschema@._lock_request(p_tenant_id, p_request_id);
    v_spec jsonb;
    v_wo bigint;
BEGIN
    IF v_r.status = 'converted' THEN
        RETURN v_r.work_order_id;                -- converted already
    END IF;
    PERFORM @extschema@._require_request_status(v_r, ARRAY['approved'], 'converted');
    PERFORM @extschema@._spec_keys(coalesce(p_spec, '{}'),
        ARRAY['asset_id', 'branch_id', 'requested_window', 'restricted', 'template', 'completion_requirements', 'description'], c_what);
    IF v_r.site_id IS NULL OR v_r.work_order_type_id IS NULL THEN
        RAISE EXCEPTION 'service request % needs a site and a type before it becomes a work order', p_request_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its site is %s and its type is %s.', coalesce(v_r.site_id::text, 'missing'),
                                  coalesce(v_r.work_order_type_id::text, 'missing')),
                  HINT = 'Set them with womgr.triage_service_request().';
    END IF;
    v_spec := jsonb_build_object(
        'customer_id', v_r.customer_id, 'site_id', v_r.site_id,
        'type', (SELECT code FROM @extschema@.work_order_type WHERE tenant_id = p_tenant_id AND work_order_type_id = v_r.work_order_type_id),
        'description', v_r.description,
        'source', 'service_request', 'external_ref', v_r.service_request_id::text)
        || jsonb_strip_nulls(jsonb_build_object(
        'priority', (SELECT code FROM @extschema@.priority WHERE tenant_id = p_tenant_id AND priority_id = v_r.priority_id)))
        || coalesce(p_spec, '{}');
    v_wo := @extschema@.create_work_order(p_tenant_id, v_spec);
    UPDATE @extschema@.service_request SET status = 'converted', work_order_id = v_wo
     WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id;
    UPDATE @extschema@.attachment SET work_order_id = v_wo
     WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id AND work_order_id IS NULL;
    PERFORM @extschema@._log_event(p_tenant_id, v_wo, 'converted_from_request',
        jsonb_build_object('service_request_id', p_request_id, 'channel', v_r.channel,
                           'attachments', (SELECT count(*) FROM @extschema@.attachment
                                            WHERE tenant_id = p_tenant_id AND service_request_id = p_request_id)));
    RETURN v_wo;
END
$$;
COMMENT ON FUNCTION @extschema@.convert_service_request(bigint, bigint, jsonb) IS
    'Turns an approved request into a work order (source service_request, external_ref = the request id) that carries the request''s attachments; optional {"asset_id", "branch_id", "requested_window", "restricted", "template", "completion_requirements", "description"}. Returns the work order id; converting twice returns the same one.';
