-- Working on a job: approvals, notes, attachments, proof of completion,
-- reclassification, field updates, templates and the outbox.

CREATE FUNCTION @extschema@.request_approval(p_tenant_id bigint, p_work_order_id bigint, p_step text,
                                            p_note text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_step @extschema@.approval_step;
    v_id bigint;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    SELECT * INTO v_step FROM @extschema@.approval_step
     WHERE tenant_id = p_tenant_id AND workflow_id = v_wo.workflow_id AND code = p_step;
    PERFORM @extschema@._require_ref(FOUND, 'approval step', format('"%s"', p_step),
        'List the steps of the work order''s workflow with SELECT code, name FROM womgr.approval_step.');
    PERFORM @extschema@._require_open(v_wo, 'request approvals for');
    SELECT approval_id INTO v_id FROM @extschema@.approval
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id
       AND approval_step_id = v_step.approval_step_id AND status IN ('pending', 'approved');
    IF FOUND THEN
        RETURN v_id;                             -- asked already (or granted)
    END IF;
    INSERT INTO @extschema@.approval (tenant_id, work_order_id, approval_step_id, requested_by, request_note)
    VALUES (p_tenant_id, p_work_order_id, v_step.approval_step_id, @extschema@.current_actor(), p_note)
    RETURNING approval_id INTO v_id;
    PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'approval_requested',
        jsonb_build_object('approval_id', v_id, 'step', v_step.code, 'approver_roles', v_step.approver_roles, 'note', p_note));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.request_approval(bigint, bigint, text, text) IS
    'Asks for an approval step of the work order''s workflow; returns the approval id (the open one if it was asked already).';

CREATE FUNCTION @extschema@._decide_approval(p_tenant_id bigint, p_approval_id bigint, p_decision text, p_reason text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_a @extschema@.approval;
    v_step @extschema@.approval_step;
    v_roles text[];
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT * INTO v_a FROM @extschema@.approval WHERE tenant_id = p_tenant_id AND approval_id = p_approval_id;
    PERFORM @extschema@._require_row(FOUND, 'approval', p_approval_id, p_tenant_id);
    PERFORM @extschema@._lock_work_order(p_tenant_id, v_a.work_order_id, NULL);
    SELECT * INTO v_a FROM @extschema@.approval WHERE tenant_id = p_tenant_id AND approval_id = p_approval_id;
    IF v_a.status <> 'pending' THEN
        RAISE EXCEPTION 'approval % is already %', p_approval_id, v_a.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s decided it at %s.', v_a.decided_by, v_a.decided_at),
                  HINT = 'Request the approval again with womgr.request_approval() for a new decision.';
    END IF;
    SELECT * INTO v_step FROM @extschema@.approval_step WHERE tenant_id = p_tenant_id AND approval_step_id = v_a.approval_step_id;
    v_roles := @extschema@.current_roles();
    IF NOT ('admin' = ANY (v_roles) OR v_roles && v_step.approver_roles::text[]) THEN
        RAISE EXCEPTION 'acting role may not decide approval "%"', v_step.code
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('It is decided by: %s. The transaction acts as: %s.',
                                  array_to_string(v_step.approver_roles::text[], ', '),
                                  coalesce(nullif(array_to_string(v_roles, ', '), ''), 'no womgr role')),
                  HINT = 'Ask someone in one of those roles, or pick the role with womgr.set_context().';
    END IF;
    IF p_decision = 'rejected' THEN
        PERFORM @extschema@._require_reason(p_reason, 'The requester needs to know why the approval was refused.');
    END IF;
    UPDATE @extschema@.approval
       SET status = p_decision, decided_by = @extschema@.current_actor(), decided_at = now(), decision_reason = p_reason
     WHERE tenant_id = p_tenant_id AND approval_id = p_approval_id;
    PERFORM @extschema@._log_event(p_tenant_id, v_a.work_order_id,
        CASE p_decision WHEN 'approved' THEN 'approval_granted' ELSE 'approval_rejected' END,
        jsonb_build_object('approval_id', p_approval_id, 'step', v_step.code, 'reason', p_reason));
END
$$;
COMMENT ON FUNCTION @extschema@._decide_approval(bigint, bigint, text, text) IS 'Internal: records the decision on a pending approval after checking the approver''s role.';

CREATE FUNCTION @extschema@.approve(p_tenant_id bigint, p_approval_id bigint, p_reason text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._decide_approval(p_tenant_id, p_approval_id, 'approved', p_reason);
END
$$;
COMMENT ON FUNCTION @extschema@.approve(bigint, bigint, text) IS
    'Grants a pending approval; the acting role must be one of the step''s approver roles (or admin). Recorded with actor and reason.';

CREATE FUNCTION @extschema@.reject(p_tenant_id bigint, p_approval_id bigint, p_reason text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._decide_approval(p_tenant_id, p_approval_id, 'rejected', p_reason);
END
$$;
COMMENT ON FUNCTION @extschema@.reject(bigint, bigint, text) IS
    'Rejects a pending approval with a reason (required); the work order cannot pass the transitions that need it until a new request is granted.';

CREATE FUNCTION @extschema@.add_note(p_tenant_id bigint, p_work_order_id bigint, p_body text,
                                    p_visibility text DEFAULT 'internal', p_mentions text[] DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_mentions text[];
    v_id bigint;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    IF p_body IS NULL OR btrim(p_body) = '' THEN
        RAISE EXCEPTION 'note must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A note needs text.',
                  HINT = 'Pass the text of the note.';
    END IF;
    IF length(p_body) > 20000 THEN
        RAISE EXCEPTION 'note is too long'
            USING ERRCODE = 'string_data_right_truncation',
                  DETAIL = format('It has %s characters; at most 20000 are allowed.', length(p_body)),
                  HINT = 'Attach long text as a document.';
    END IF;
    IF p_visibility IS NULL OR p_visibility NOT IN ('internal', 'customer') THEN
        RAISE EXCEPTION 'note visibility "%" is not known', p_visibility
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Notes are internal (staff only) or customer (the customer sees them too).',
                  HINT = 'Pass ''internal'' or ''customer''.';
    END IF;
    SELECT coalesce(array_agg(DISTINCT m ORDER BY m), '{}') INTO v_mentions
      FROM (SELECT btrim(x) AS m FROM unnest(coalesce(p_mentions, '{}')) x
            UNION
            SELECT r[1] FROM regexp_matches(p_body, '(?:^|[^A-Za-z0-9_.])@([A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_])', 'g') r) s
     WHERE m <> '';
    INSERT INTO @extschema@.note (tenant_id, work_order_id, body, visibility, mentions, author)
    VALUES (p_tenant_id, p_work_order_id, p_body, p_visibility, v_mentions, @extschema@.current_actor())
    RETURNING note_id INTO v_id;
    PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'note_added',
        jsonb_build_object('note_id', v_id, 'visibility', p_visibility, 'mentions', to_jsonb(v_mentions)));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_note(bigint, bigint, text, text, text[]) IS
    'Adds a note to a work order, internal (default) or visible to the customer; colleagues named in p_mentions or as @name in the text are listed in the note_added event for notification. Returns the note id.';

CREATE FUNCTION @extschema@._attachment_spec(p_spec jsonb, OUT kind text, OUT content_hash bytea, OUT size_bytes bigint,
                                             OUT mime_type text, OUT storage_uri text, OUT captured_at timestamptz,
                                             OUT location geography, OUT signed_by text, OUT caption text)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    c_what constant text := 'attachment';
    v_hash text;
BEGIN
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['kind', 'sha256', 'size_bytes', 'mime_type', 'storage_uri',
        'captured_at', 'location', 'signed_by', 'caption'], c_what);
    kind := @extschema@._spec_text(p_spec, 'kind', true, c_what);
    IF kind NOT IN ('photo_before', 'photo_after', 'signature', 'document') THEN
        RAISE EXCEPTION 'field "kind" of the attachment spec has an invalid value "%"', kind
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Kinds are photo_before, photo_after, signature and document.',
                  HINT = 'Send the kind that says what the file proves.';
    END IF;
    v_hash := lower(@extschema@._spec_text(p_spec, 'sha256', true, c_what));
    IF v_hash !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'field "sha256" of the attachment spec is not a SHA-256 digest'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It must be 64 hexadecimal digits; it has %s characters.', length(v_hash)),
                  HINT = 'Send the hex SHA-256 of the file''s bytes, as sha256sum prints it.';
    END IF;
    content_hash := decode(v_hash, 'hex');
    size_bytes := @extschema@._spec_bigint(p_spec, 'size_bytes', true, c_what);
    IF size_bytes <= 0 THEN
        RAISE EXCEPTION 'field "size_bytes" of the attachment spec must be positive'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('It is %s.', size_bytes),
                  HINT = 'Send the file''s size in bytes.';
    END IF;
    mime_type := lower(@extschema@._spec_text(p_spec, 'mime_type', true, c_what));
    IF mime_type !~ '^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$' THEN
        RAISE EXCEPTION 'field "mime_type" of the attachment spec has an invalid value "%"', mime_type
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A MIME type is type/subtype.',
                  HINT = 'Send e.g. "image/jpeg" or "application/pdf".';
    END IF;
    storage_uri := @extschema@._spec_text(p_spec, 'storage_uri', true, c_what);
    captured_at := coalesce(@extschema@._spec_timestamptz(p_spec, 'captured_at', false, c_what), now());
    location := @extschema@._spec_location(p_spec, 'location', c_what);
    signed_by := @extschema@._spec_text(p_spec, 'signed_by', false, c_what);
    IF (kind = 'signature') <> (signed_by IS NOT NULL) THEN
        RAISE EXCEPTION 'field "signed_by" of the attachment spec goes with kind signature only'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The kind is %s and signed_by is %s.', kind, CASE WHEN signed_by IS NULL THEN 'missing' ELSE 'given' END),
                  HINT = 'A signature names who signed; other attachments do not.';
    END IF;
    caption := @extschema@._spec_text(p_spec, 'caption', false, c_what);
END
$$;
COMMENT ON FUNCTION @extschema@._attachment_spec(jsonb) IS 'Internal: validates an attachment spec.';

CREATE FUNCTION @extschema@.add_attachment(p_tenant_id bigint, p_work_order_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_a record;
    v_id bigint;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    v_a := @extschema@._attachment_spec(p_spec);
    SELECT attachment_id INTO v_id FROM @extschema@.attachment
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id AND kind = v_a.kind AND content_hash = v_a.content_hash;
    IF FOUND THEN
        RETURN v_id;                             -- the same file sent again (offline retry)
    END IF;
    PERFORM @extschema@._require_open(v_wo, 'attach files to');
    INSERT INTO @extschema@.attachment (tenant_id, work_order_id, kind, content_hash, size_bytes, mime_type, storage_uri,
                                        captured_at, location, signed_by, caption, uploaded_by)
    VALUES (p_tenant_id, p_work_order_id, v_a.kind, v_a.content_hash, v_a.size_bytes, v_a.mime_type, v_a.storage_uri,
            v_a.captured_at, v_a.location, v_a.signed_by, v_a.caption, @extschema@.current_actor())
    RETURNING attachment_id INTO v_id;
    PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'attachment_added',
        jsonb_build_object('attachment_id', v_id, 'kind', v_a.kind, 'sha256', encode(v_a.content_hash, 'hex'),
                           'has_location', v_a.location IS NOT NULL));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_attachment(bigint, bigint, jsonb) IS
    'Records a file of a work order from {"kind" (photo_before, photo_after, signature, document), "sha256", "size_bytes", "mime_type", "storage_uri", optional "captured_at", "location": {"lat", "lon"}, "signed_by" (signatures), "caption"}; the same file sent twice returns the first id.';

CREATE FUNCTION @extschema@.confirm_completion(p_tenant_id bigint, p_work_order_id bigint, p_confirmed_by text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    IF p_confirmed_by IS NULL OR btrim(p_confirmed_by) = '' THEN
        RAISE EXCEPTION 'confirmed_by must not be empty'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The confirmation records who, on the customer''s side, confirmed the work.',
                  HINT = 'Pass the customer contact''s name.';
    END IF;
    PERFORM @extschema@._require_open(v_wo, 'confirm');
    UPDATE @extschema@.work_order SET customer_confirmed_at = now(), customer_confirmed_by = p_confirmed_by
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id;
END
$$;
COMMENT ON FUNCTION @extschema@.confirm_completion(bigint, bigint, text) IS
    'Records that the customer (p_confirmed_by) confirmed the work is done; needed when the proof-of-completion requirements ask for customer_confirmation.';

CREATE FUNCTION @extschema@.completion_status(p_tenant_id bigint, p_work_order_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_wo @extschema@.work_order := @extschema@._get_work_order(p_tenant_id, p_work_order_id);
    v_missing text[];
BEGIN
    v_missing := @extschema@._completion_missing(p_tenant_id, p_work_order_id, v_wo.site_id,
                                                 v_wo.completion_requirements, v_wo.customer_confirmed_at IS NOT NULL);
    RETURN jsonb_build_object('requirements', v_wo.completion_requirements,
                              'missing', to_jsonb(v_missing),
                              'complete', cardinality(v_missing) = 0);
END
$$;
COMMENT ON FUNCTION @extschema@.completion_status(bigint, bigint) IS
    'The work order''s proof-of-completion requirements, what is still missing, and whether it is complete: {"requirements", "missing": [...], "complete"}.';

CREATE FUNCTION @extschema@.reclassify(p_tenant_id bigint, p_work_order_id bigint, p_type text,
                                      p_reason text DEFAULT NULL, p_expected_version integer DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_type @extschema@.work_order_type;
    v_version integer;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, p_expected_version);
    SELECT * INTO v_type FROM @extschema@.work_order_type WHERE tenant_id = p_tenant_id AND code = p_type;
    PERFORM @extschema@._require_ref(FOUND, 'work order type', format('"%s"', p_type),
        'List types with SELECT code, name FROM womgr.work_order_type.');
    PERFORM @extschema@._require_active(v_type.active, 'work order type', format('"%s"', p_type));
    IF v_type.work_order_type_id = v_wo.work_order_type_id THEN
        RAISE EXCEPTION 'work order % is already of type "%"', v_wo.number, p_type
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Nothing was changed.',
                  HINT = 'Pass the type the work order should become.';
    END IF;
    PERFORM @extschema@._require_open(v_wo, 'reclassify');
    PERFORM @extschema@._set_change_note(p_tenant_id, p_work_order_id, p_reason);
    UPDATE @extschema@.work_order SET work_order_type_id = v_type.work_order_type_id
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id
    RETURNING version INTO v_version;
    PERFORM @extschema@._set_change_note(NULL, NULL, NULL);
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION @extschema@.reclassify(bigint, bigint, text, text, integer) IS
    'Changes a work order''s type during the job (e.g. mechanical turns out electrical), recorded as a "reclassified" event with the reason; the workflow and proof-of-completion requirements are re-resolved from the new type. Returns the new version.';

CREATE FUNCTION @extschema@.update_work_order(p_tenant_id bigint, p_work_order_id bigint, p_changes jsonb,
                                             p_expected_version integer DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'work order changes';
    v_wo @extschema@.work_order;
    v_priority bigint;
    v_amount numeric;
    v_fields jsonb;
    v_version integer;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, p_expected_version);
    PERFORM @extschema@._spec_keys(p_changes, ARRAY['description', 'priority', 'quoted_amount', 'resolution',
        'fields', 'restricted', 'completion_requirements'], c_what);
    IF p_changes ? 'priority' THEN
        SELECT priority_id INTO v_priority FROM @extschema@.priority
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_changes, 'priority', true, c_what);
        PERFORM @extschema@._require_ref(FOUND, 'priority', format('"%s"', p_changes ->> 'priority'),
            'List priorities with SELECT code, rank FROM womgr.priority.');
    END IF;
    v_amount := @extschema@._spec_numeric(p_changes, 'quoted_amount', false, c_what);
    IF v_amount < 0 OR v_amount >= 1e12 THEN
        RAISE EXCEPTION 'field "quoted_amount" of the work order changes is out of range'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('It is %s.', v_amount),
                  HINT = 'Send the quoted price, 0 or more, in the branch currency.';
    END IF;
    v_fields := p_changes -> 'fields';
    IF v_fields IS NOT NULL AND jsonb_typeof(v_fields) <> 'object' THEN
        RAISE EXCEPTION 'field "fields" of the work order changes must be a JSON object'
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(v_fields)),
                  HINT = 'Send {"<key>": <value>}; a null value removes the key.';
    END IF;
    PERFORM @extschema@._require_open(v_wo, 'change');
    UPDATE @extschema@.work_order w SET
        description = CASE WHEN p_changes ? 'description' THEN @extschema@._spec_text(p_changes, 'description', true, c_what) ELSE w.description END,
        priority_id = coalesce(v_priority, w.priority_id),
        quoted_amount = CASE WHEN p_changes ? 'quoted_amount' THEN v_amount ELSE w.quoted_amount END,
        resolution = CASE WHEN p_changes ? 'resolution' THEN @extschema@._spec_text(p_changes, 'resolution', false, c_what) ELSE w.resolution END,
        fields = CASE WHEN v_fields IS NULL THEN w.fields ELSE jsonb_strip_nulls(w.fields || v_fields) END,
        restricted = CASE WHEN p_changes ? 'restricted' THEN @extschema@._spec_bool(p_changes, 'restricted', true, c_what) ELSE w.restricted END,
        extra_requirements = CASE WHEN p_changes ? 'completion_requirements'
                                  THEN @extschema@._check_requirements(p_changes -> 'completion_requirements', c_what)
                                  ELSE w.extra_requirements END
     WHERE w.tenant_id = p_tenant_id AND w.work_order_id = p_work_order_id
    RETURNING version INTO v_version;
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION @extschema@.update_work_order(bigint, bigint, jsonb, integer) IS
    'Changes fields of an open work order: {"description", "priority", "quoted_amount", "resolution", "fields" (merged; null removes a key), "restricted", "completion_requirements" (added to what the work order already requires; the stricter of each wins, nothing is dropped)}. Status changes go through womgr.transition(). Returns the new version.';

CREATE FUNCTION @extschema@.create_work_order_template(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'work order template';
    v_code text;
    v_type bigint;
    v_priority bigint;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'type', 'priority', 'description',
        'completion_requirements'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'quarterly_ac_service');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.work_order_template WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    SELECT work_order_type_id INTO v_type FROM @extschema@.work_order_type
     WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_spec, 'type', true, c_what);
    PERFORM @extschema@._require_ref(FOUND, 'work order type', format('"%s"', p_spec ->> 'type'),
        'List types with SELECT code, name FROM womgr.work_order_type.');
    IF p_spec ? 'priority' THEN
        SELECT priority_id INTO v_priority FROM @extschema@.priority
         WHERE tenant_id = p_tenant_id AND code = @extschema@._spec_text(p_spec, 'priority', true, c_what);
        PERFORM @extschema@._require_ref(FOUND, 'priority', format('"%s"', p_spec ->> 'priority'),
            'List priorities with SELECT code, rank FROM womgr.priority.');
    END IF;
    INSERT INTO @extschema@.work_order_template (tenant_id, code, name, work_order_type_id, priority_id, description, extra_requirements)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what), v_type, v_priority,
            @extschema@._spec_text(p_spec, 'description', true, c_what),
            @extschema@._check_requirements(p_spec -> 'completion_requirements', c_what))
    RETURNING template_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_work_order_template(bigint, jsonb) IS
    'Creates a work-order template from {"code", "name", "type", "description", optional "priority", "completion_requirements"}; womgr.create_work_order(..., {"template": code, ...}) generates work orders from it, requirements included.';

CREATE FUNCTION @extschema@.outbox_claim(p_tenant_id bigint, p_limit integer DEFAULT 100)
    RETURNS SETOF @extschema@.outbox
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_ids bigint[];
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit must be from 1 to 10000'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('It is %s.', coalesce(p_limit::text, 'null')),
                  HINT = 'Claim events in batches of a few hundred.';
    END IF;
    -- the ids first, in a statement of their own: a LIMIT inside UPDATE ...
    -- FROM can be read again by the join and hand out more than p_limit
    v_ids := ARRAY(SELECT outbox_id FROM @extschema@.outbox
                    WHERE tenant_id = p_tenant_id AND claimed_at IS NULL
                    ORDER BY outbox_id LIMIT p_limit FOR UPDATE SKIP LOCKED);
    RETURN QUERY
    WITH claimed AS (
        UPDATE @extschema@.outbox o SET claimed_at = now()
         WHERE o.tenant_id = p_tenant_id AND o.outbox_id = ANY (v_ids)
        RETURNING o.*)
    SELECT * FROM claimed ORDER BY outbox_id;
END
$$;
COMMENT ON FUNCTION @extschema@.outbox_claim(bigint, integer) IS
    'Claims up to p_limit unclaimed outbox events of a tenant, oldest first, skipping rows another worker holds; commit after handling them (a rollback returns them). Wake up on LISTEN womgr_events.';

CREATE FUNCTION @extschema@._transition_missing(p_tenant_id bigint, p_work_order_id bigint, p_to_status text)
    RETURNS text[]
    LANGUAGE c STABLE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'womgr_transition_missing';
COMMENT ON FUNCTION @extschema@._transition_missing(bigint, bigint, text) IS
    'Internal: what would stop the move to p_to_status now (role, guards but the note), judged by the same C code as the trigger, without making it; NULL when the workflow has no such transition.';

CREATE FUNCTION @extschema@.available_transitions(p_tenant_id bigint, p_work_order_id bigint)
    RETURNS TABLE (to_status text, label text, category @extschema@.status_category, allowed boolean, missing text[],
                   requires_note boolean)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    v_wo @extschema@.work_order := @extschema@._get_work_order(p_tenant_id, p_work_order_id);
BEGIN
    RETURN QUERY
    SELECT tr.to_status, coalesce(tr.label, st.label), st.category, cardinality(m.missing) = 0, m.missing,
           tr.requires_note
      FROM @extschema@.workflow_transition tr
      JOIN @extschema@.workflow_status st
        ON st.tenant_id = tr.tenant_id AND st.workflow_id = tr.workflow_id AND st.code = tr.to_status
     CROSS JOIN LATERAL (SELECT @extschema@._transition_missing(p_tenant_id, p_work_order_id, tr.to_status) AS missing) m
     WHERE tr.tenant_id = p_tenant_id AND tr.workflow_id = v_wo.workflow_id AND tr.from_status = v_wo.status AND tr.enabled
     ORDER BY st.position, tr.to_status;
END
$$;
COMMENT ON FUNCTION @extschema@.available_transitions(bigint, bigint) IS
    'The moves a work order''s workflow offers from its current status, each with its label, category, whether the acting role may make it now, what is missing (the same checks as the trigger; nothing is changed) and whether it needs a note: the buttons an app shows.';
