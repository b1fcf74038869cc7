-- Job invoices: womgr.generate_invoice() turns a completed work order's
-- parts, labour, travel, call-out fee and charges into an invoice at the
-- prices and rates in force, covering warranty work at zero; it runs by
-- itself when the work order reaches its workflow's billing status.

CREATE FUNCTION @extschema@._covers(p_area geography, p_point geography) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT ST_Covers(p_area, p_point);
END;
COMMENT ON FUNCTION @extschema@._covers(geography, geography) IS
    'Internal: whether an area covers a point (PostGIS ST_Covers, bound at install, never through search_path).';

CREATE FUNCTION @extschema@._rate_card_for(p_tenant_id bigint, p_branch_id bigint, p_on date)
    RETURNS @extschema@.rate_card
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT rc.* FROM @extschema@.rate_card rc
     WHERE rc.tenant_id = p_tenant_id AND (rc.branch_id = p_branch_id OR rc.branch_id IS NULL) AND rc.valid @> p_on
     ORDER BY rc.branch_id IS NULL
     LIMIT 1;
END;
COMMENT ON FUNCTION @extschema@._rate_card_for(bigint, bigint, date) IS
    'Internal: the rate card in force for a branch on a date: the branch''s own, else the tenant-wide one.';

-- The labour of a job per technician: its time entries, else the time its
-- history spent in in_progress statuses, for the lead technician.
CREATE FUNCTION @extschema@._job_labour(p_tenant_id bigint, p_wo @extschema@.work_order)
    RETURNS TABLE (technician_id bigint, period tstzrange, source_ref jsonb)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM @extschema@.time_entry te
                WHERE te.tenant_id = p_tenant_id AND te.work_order_id = p_wo.work_order_id AND te.kind = 'labour') THEN
        RETURN QUERY
            SELECT te.technician_id, te.period, jsonb_build_object('time_entry_id', te.time_entry_id)
              FROM @extschema@.time_entry te
             WHERE te.tenant_id = p_tenant_id AND te.work_order_id = p_wo.work_order_id
               AND te.kind = 'labour' AND te.billable;
        RETURN;
    END IF;
    RETURN QUERY
        WITH ev AS (
            SELECT e.work_order_event_id, coalesce((e.details->>'client_time')::timestamptz, e.occurred_at) AS t0, s.category,
                   lead(coalesce((e.details->>'client_time')::timestamptz, e.occurred_at))
                       OVER (ORDER BY e.occurred_at, e.work_order_event_id) AS t1
              FROM @extschema@.work_order_event e
              JOIN @extschema@.workflow_status s
                ON s.tenant_id = e.tenant_id AND s.workflow_id = p_wo.workflow_id AND s.code = e.to_status
             WHERE e.tenant_id = p_tenant_id AND e.work_order_id = p_wo.work_order_id AND e.to_status IS NOT NULL)
        SELECT (SELECT a.technician_id FROM @extschema@.assignment a
                 WHERE a.tenant_id = p_tenant_id AND a.work_order_id = p_wo.work_order_id AND a.role = 'lead'
                 ORDER BY a.ended_at IS NULL DESC, a.assigned_at DESC LIMIT 1),
               tstzrange(ev.t0, ev.t1), jsonb_build_object('event_id', ev.work_order_event_id)
          FROM ev
         WHERE ev.category = 'in_progress' AND ev.t1 > ev.t0;
END
$$;
COMMENT ON FUNCTION @extschema@._job_labour(bigint, @extschema@.work_order) IS
    'Internal: the labour periods of a job per technician: its billable labour time entries when it has any labour entries, else each stretch its history spent in an in_progress status (at the times the devices reported, details.client_time, else the server''s), for the lead technician.';

CREATE FUNCTION @extschema@._generate_invoice(p_tenant_id bigint, p_work_order_id bigint, p_auto boolean)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order;
    v_id bigint;
    v_currency text;
    v_tz text;
    v_completed_at timestamptz;
    v_tax_point date;
    v_card @extschema@.rate_card;
    v_covered boolean;
    v_km numeric;
    v_lines integer;
    v_number text;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    SELECT i.invoice_id INTO v_id FROM @extschema@.invoice i
     WHERE i.tenant_id = p_tenant_id AND i.work_order_id = p_work_order_id AND i.kind = 'invoice' AND i.milestone_id IS NULL;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    IF v_wo.category NOT IN ('completed', 'closed') THEN
        RAISE EXCEPTION 'work order % is not completed', v_wo.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It is in status "%s" (%s); jobs are invoiced once completed.', v_wo.status, v_wo.category),
                  HINT = 'Complete it with womgr.transition(), or bill a deposit with womgr.create_invoice().';
    END IF;
    SELECT coalesce(b.currency, t.currency), coalesce(b.timezone, t.timezone) INTO v_currency, v_tz
      FROM @extschema@.tenant t
      LEFT JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = v_wo.branch_id
     WHERE t.tenant_id = p_tenant_id;
    SELECT max(e.occurred_at) INTO v_completed_at
      FROM @extschema@.work_order_event e
      JOIN @extschema@.workflow_status s ON s.tenant_id = e.tenant_id AND s.workflow_id = v_wo.workflow_id AND s.code = e.to_status
     WHERE e.tenant_id = p_tenant_id AND e.work_order_id = p_work_order_id AND s.category = 'completed';
    v_tax_point := (coalesce(v_completed_at, now()) AT TIME ZONE v_tz)::date;
    v_card := @extschema@._rate_card_for(p_tenant_id, v_wo.branch_id, v_tax_point);
    v_covered := EXISTS (SELECT 1 FROM @extschema@.asset a
                          WHERE a.tenant_id = p_tenant_id AND a.asset_id = v_wo.asset_id AND a.warranty @> v_tax_point);

    IF v_card.rate_card_id IS NULL AND EXISTS (SELECT 1 FROM @extschema@._job_labour(p_tenant_id, v_wo)) THEN
        RAISE EXCEPTION 'no rate card applies to work order %', v_wo.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The job has labour to bill, and neither its branch nor the tenant has a rate card valid on %s.', v_tax_point),
                  HINT = 'Create one with womgr.create_rate_card().';
    END IF;
    IF v_card.travel_mode = 'per_km' THEN
        SELECT sum(te.distance_km) INTO v_km FROM @extschema@.time_entry te
         WHERE te.tenant_id = p_tenant_id AND te.work_order_id = p_work_order_id AND te.kind = 'travel' AND te.billable;
        IF v_km IS NULL THEN
            SELECT round((2 * @extschema@._distance_m(b.location, s.location) / 1000)::numeric, 1) INTO v_km
              FROM @extschema@.site s
              JOIN @extschema@.branch b ON b.tenant_id = s.tenant_id AND b.branch_id = v_wo.branch_id
             WHERE s.tenant_id = p_tenant_id AND s.site_id = v_wo.site_id;
        END IF;
    END IF;

    INSERT INTO @extschema@.invoice (tenant_id, kind, branch_id, customer_id, work_order_id, currency, tax_point, created_by)
    VALUES (p_tenant_id, 'invoice', v_wo.branch_id, v_wo.customer_id, p_work_order_id, v_currency, v_tax_point,
            @extschema@.current_actor())
    RETURNING invoice_id INTO v_id;

    WITH labour AS (
        SELECT l.technician_id,
               sum(extract(epoch FROM upper(l.period) - lower(l.period))) AS total_s,
               sum(CASE WHEN v_card.after_hours_calendar_id IS NULL
                        THEN extract(epoch FROM upper(l.period) - lower(l.period))
                        ELSE extract(epoch FROM @extschema@.business_time_between(p_tenant_id, v_card.after_hours_calendar_id,
                                                                                  lower(l.period), upper(l.period))) END) AS normal_s,
               jsonb_agg(l.source_ref) AS refs
          FROM @extschema@._job_labour(p_tenant_id, v_wo) l
         WHERE v_card.rate_card_id IS NOT NULL
         GROUP BY l.technician_id),
    billed AS (
        -- each part rounded up to the billing increment; the minimum tops up normal time
        SELECT lb.*, t.name AS technician_name,
               ceil(lb.normal_s / extract(epoch FROM v_card.billing_increment)) * extract(epoch FROM v_card.billing_increment) AS n_s,
               ceil((lb.total_s - lb.normal_s) / extract(epoch FROM v_card.billing_increment)) * extract(epoch FROM v_card.billing_increment) AS a_s,
               coalesce((SELECT max(rl.hourly_rate)
                           FROM @extschema@.rate_card_labour rl
                           JOIN @extschema@.work_order_type_skill ws
                             ON ws.tenant_id = rl.tenant_id AND ws.skill_id = rl.skill_id AND ws.work_order_type_id = v_wo.work_order_type_id
                           JOIN @extschema@.technician_skill ts
                             ON ts.tenant_id = rl.tenant_id AND ts.skill_id = rl.skill_id AND ts.technician_id = lb.technician_id
                                AND ts.level >= rl.min_level
                          WHERE rl.tenant_id = p_tenant_id AND rl.rate_card_id = v_card.rate_card_id),
                        v_card.default_hourly_rate) AS rate
          FROM labour lb
          LEFT JOIN @extschema@.technician t ON t.tenant_id = p_tenant_id AND t.technician_id = lb.technician_id),
    src AS (
        SELECT 1 AS grp, 'call_out'::text AS kind, 'Call-out fee'::text AS description, 1::numeric AS quantity, 'each'::text AS unit,
               v_card.call_out_fee AS unit_price, v_card.fee_tax_class_id AS tax_class_id, v_covered AS covered,
               NULL::numeric AS cost_amount, NULL::bigint AS part_id, NULL::bigint AS technician_id,
               jsonb_build_object('rate_card', v_card.code) AS source_ref, 0::bigint AS sort
         WHERE v_card.call_out_fee > 0
        UNION ALL
        SELECT 2, 'labour', 'Labour' || coalesce(': ' || b.technician_name, ''),
               round((b.n_s + greatest(extract(epoch FROM v_card.minimum_labour) - b.n_s - b.a_s, 0)) / 3600, 3), 'h',
               b.rate, v_card.labour_tax_class_id, v_covered, NULL, NULL, b.technician_id,
               jsonb_build_object('periods', b.refs, 'normal_seconds', b.normal_s), b.technician_id
          FROM billed b
         WHERE b.n_s + greatest(extract(epoch FROM v_card.minimum_labour) - b.n_s - b.a_s, 0) > 0
        UNION ALL
        SELECT 3, 'labour', 'Labour after hours' || coalesce(': ' || b.technician_name, ''),
               round(b.a_s / 3600, 3), 'h',
               @extschema@._money(b.rate * v_card.after_hours_multiplier, v_currency), v_card.labour_tax_class_id, v_covered,
               NULL, NULL, b.technician_id,
               jsonb_build_object('periods', b.refs, 'after_hours_seconds', b.total_s - b.normal_s,
                                  'multiplier', v_card.after_hours_multiplier), b.technician_id
          FROM billed b
         WHERE b.a_s > 0
        UNION ALL
        SELECT 4, 'travel', format('Travel: %s km', trim_scale(v_km)), v_km, 'km', v_card.travel_per_km, v_card.fee_tax_class_id, v_covered,
               NULL, NULL, NULL, jsonb_build_object('km', v_km), 0
         WHERE v_card.travel_mode = 'per_km' AND v_km > 0 AND v_card.travel_per_km > 0
        UNION ALL
        SELECT 4, 'travel', 'Travel: ' || z.name, 1, 'each', z.fee, v_card.fee_tax_class_id, v_covered,
               NULL, NULL, NULL, jsonb_build_object('zone', z.code), 0
          FROM (SELECT coalesce(min(rz.travel_fee), v_card.travel_default_fee) AS fee,
                       coalesce((array_agg(tr.name ORDER BY rz.travel_fee))[1], 'standard zone') AS name,
                       (array_agg(tr.code ORDER BY rz.travel_fee))[1] AS code
                  FROM @extschema@.site s
                  JOIN @extschema@.rate_card_zone rz ON rz.tenant_id = s.tenant_id AND rz.rate_card_id = v_card.rate_card_id
                  JOIN @extschema@.territory tr ON tr.tenant_id = rz.tenant_id AND tr.territory_id = rz.territory_id
                 WHERE s.tenant_id = p_tenant_id AND s.site_id = v_wo.site_id AND @extschema@._covers(tr.area, s.location)) z
         WHERE v_card.travel_mode = 'zone' AND z.fee > 0
        UNION ALL
        SELECT 5, 'part', m.sku || ' ' || m.name, m.quantity, m.unit, m.unit_price, m.tax_class_id, v_covered,
               m.cost_amount, m.part_id, NULL, jsonb_build_object('sku', m.sku), m.part_id
          FROM @extschema@.work_order_material m
         WHERE m.tenant_id = p_tenant_id AND m.work_order_id = p_work_order_id
        UNION ALL
        SELECT 6, c.kind, c.description, c.quantity, 'each', c.unit_price, c.tax_class_id, false,
               NULL, NULL, NULL, jsonb_build_object('charge_id', c.charge_id), c.charge_id
          FROM @extschema@.work_order_charge c
         WHERE c.tenant_id = p_tenant_id AND c.work_order_id = p_work_order_id),
    priced AS (
        SELECT src.*, tc.treatment,
               coalesce(tr.rate_percent,
                        CASE WHEN tc.treatment = 'exempt' THEN 0
                             ELSE (@extschema@._tax_rate(p_tenant_id, tc.tax_class_id, v_tax_point)).rate_percent END) AS rate,
               CASE WHEN src.covered THEN 0 ELSE @extschema@._money(src.quantity * src.unit_price, v_currency) END AS net
          FROM src
          JOIN @extschema@.tax_class tc ON tc.tenant_id = p_tenant_id AND tc.tax_class_id = src.tax_class_id
          LEFT JOIN @extschema@.tax_rate tr
            ON tr.tenant_id = p_tenant_id AND tr.tax_class_id = src.tax_class_id AND tr.valid @> v_tax_point
                AND tc.treatment <> 'exempt')
    INSERT INTO @extschema@.invoice_line (tenant_id, invoice_id, line_no, kind, description, quantity, unit, unit_price,
                                          warranty_covered, tax_class_id, tax_treatment, tax_rate_percent, net_amount,
                                          tax_amount, cost_amount, part_id, technician_id, source_ref)
    SELECT p_tenant_id, v_id, row_number() OVER (ORDER BY p.grp, p.sort, p.description), p.kind, p.description, p.quantity,
           p.unit, p.unit_price, p.covered, p.tax_class_id, p.treatment, p.rate, p.net,
           @extschema@._money(p.net * p.rate / 100, v_currency), p.cost_amount, p.part_id, p.technician_id, p.source_ref
      FROM priced p;
    GET DIAGNOSTICS v_lines = ROW_COUNT;

    IF v_lines = 0 THEN
        IF p_auto THEN
            DELETE FROM @extschema@.invoice WHERE tenant_id = p_tenant_id AND invoice_id = v_id;
            PERFORM @extschema@._outbox(p_tenant_id, 'invoice.nothing_to_bill',
                jsonb_build_object('work_order_id', p_work_order_id, 'number', v_wo.number), p_work_order_id);
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'work order % has nothing to bill', v_wo.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'It has no parts issued, no labour or travel, no call-out fee and no charges.',
                  HINT = 'Record them (womgr.issue_parts, womgr.add_time_entry, womgr.add_charge) first.';
    END IF;
    IF (SELECT s.issue_on_generate FROM @extschema@.billing_settings s WHERE s.tenant_id = p_tenant_id) THEN
        v_number := @extschema@._issue_invoice(p_tenant_id, v_id);
    ELSE
        PERFORM @extschema@._invoice_totals(p_tenant_id, v_id);
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._generate_invoice(bigint, bigint, boolean) IS
    'Internal: builds the invoice of a completed job (see generate_invoice). p_auto (the billing-status trigger): a job with nothing to bill gets no invoice and an invoice.nothing_to_bill notice instead of an error.';

CREATE FUNCTION @extschema@.generate_invoice(p_tenant_id bigint, p_work_order_id bigint) RETURNS bigint
    LANGUAGE sql VOLATILE
    RETURN @extschema@._generate_invoice(p_tenant_id, p_work_order_id, false);
COMMENT ON FUNCTION @extschema@.generate_invoice(bigint, bigint) IS
    'Invoices a completed work order and returns the invoice id: call-out fee, labour per technician (time entries, else the time in in_progress statuses for the lead) rounded up to the rate card''s increment at the best skill rate the technician qualifies for, after-hours labour (outside the rate card''s calendar) at the multiplier, travel per km or by zone, parts issued (net of returns) at the prices of the day they were issued, and the job''s charges. Lines of a job on an asset under warranty on the tax point are covered at zero (charges stay billable). VAT per line at the rate in force on the completion date, rounded to the currency. Issued with a gapless number unless billing_settings.issue_on_generate is false. Idempotent: a second call returns the same invoice. Runs by itself when the work order enters its workflow''s billing status (womgr.set_billing_status).';

CREATE FUNCTION @extschema@._bill_on_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_message text;
    v_detail text;
    v_hint text;
BEGIN
    IF EXISTS (SELECT 1 FROM @extschema@.workflow_status ws
                WHERE ws.tenant_id = NEW.tenant_id AND ws.workflow_id = NEW.workflow_id AND ws.code = NEW.status AND ws.invoices) THEN
        BEGIN
            PERFORM @extschema@._generate_invoice(NEW.tenant_id, NEW.work_order_id, true);
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            -- Billing is not set up for this job (no rate card, no tax rate):
            -- the technician's completion stands, and the office is told.
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            PERFORM @extschema@._outbox(NEW.tenant_id, 'invoice.not_generated',
                jsonb_build_object('work_order_id', NEW.work_order_id, 'number', NEW.number,
                                   'message', v_message, 'detail', v_detail, 'hint', v_hint), NEW.work_order_id);
        END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._bill_on_status() IS
    'Internal trigger: invoices a work order in the same transaction as its move into its workflow''s billing status (workflow_status.invoices). When billing is not set up for the job (no rate card applies, a tax rate is missing) the move still happens and an invoice.not_generated outbox notice carries the reason; generate_invoice can be called once it is fixed.';
CREATE TRIGGER work_order_bill_on_status AFTER UPDATE OF status ON @extschema@.work_order
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION @extschema@._bill_on_status();
