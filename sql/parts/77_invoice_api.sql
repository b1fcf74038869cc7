-- Invoices and credit notes: the immutability guard, totals, issuing
-- (gapless number, frozen document), manual invoices, credit notes, the
-- document and its printable HTML.  Job invoices: 77_invoice_generate.sql.

CREATE FUNCTION @extschema@._invoice_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_number text;
    v_kind text;
BEGIN
    IF TG_TABLE_NAME = 'invoice' THEN
        v_number := CASE WHEN OLD.status = 'issued' THEN OLD.number END;
        v_kind := OLD.kind;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT i.number, i.kind INTO v_number, v_kind
          FROM (SELECT DISTINCT tenant_id, invoice_id FROM new_lines) l
          JOIN @extschema@.invoice i ON i.tenant_id = l.tenant_id AND i.invoice_id = l.invoice_id AND i.status = 'issued'
         LIMIT 1;
    ELSE
        SELECT i.number, i.kind INTO v_number, v_kind
          FROM (SELECT DISTINCT tenant_id, invoice_id FROM old_lines) l
          JOIN @extschema@.invoice i ON i.tenant_id = l.tenant_id AND i.invoice_id = l.invoice_id AND i.status = 'issued'
         LIMIT 1;
    END IF;
    IF v_number IS NOT NULL THEN
        RAISE EXCEPTION '% % is issued and cannot change', replace(v_kind, '_', ' '), v_number
            USING ERRCODE = 'WM011',
                  DETAIL = format('%s of %s refused: an issued invoice or credit note is final.', TG_OP, TG_TABLE_NAME),
                  HINT = 'Correct it with womgr.create_credit_note(), which references it.';
    END IF;
    RETURN CASE WHEN TG_LEVEL = 'STATEMENT' THEN NULL WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@._invoice_guard() IS
    'Internal trigger: refuses any change to an issued invoice or credit note (row trigger on invoice) and to the lines of one (statement triggers on invoice_line, one check per statement) with WM011.';

CREATE TRIGGER invoice_guard BEFORE UPDATE OR DELETE ON @extschema@.invoice
    FOR EACH ROW EXECUTE FUNCTION @extschema@._invoice_guard();
-- Lines are checked once per statement (an invoice's lines are inserted by one
-- statement); the check runs after the statement and before its commit.
CREATE TRIGGER invoice_line_guard_insert AFTER INSERT ON @extschema@.invoice_line
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invoice_guard();
CREATE TRIGGER invoice_line_guard_update AFTER UPDATE ON @extschema@.invoice_line
    REFERENCING OLD TABLE AS old_lines
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invoice_guard();
CREATE TRIGGER invoice_line_guard_delete AFTER DELETE ON @extschema@.invoice_line
    REFERENCING OLD TABLE AS old_lines
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invoice_guard();
-- TRUNCATE is refused by the audit log's guard on every audited table (85_audit_attach.sql).

CREATE FUNCTION @extschema@._invoice_totals(p_tenant_id bigint, p_invoice_id bigint) RETURNS void
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    UPDATE @extschema@.invoice i
       SET subtotal = s.net, tax_total = s.tax, total = s.net + s.tax
      FROM (SELECT coalesce(sum(l.net_amount), 0) AS net, coalesce(sum(l.tax_amount), 0) AS tax
              FROM @extschema@.invoice_line l
             WHERE l.tenant_id = p_tenant_id AND l.invoice_id = p_invoice_id) s
     WHERE i.tenant_id = p_tenant_id AND i.invoice_id = p_invoice_id;
END;
COMMENT ON FUNCTION @extschema@._invoice_totals(bigint, bigint) IS
    'Internal: sets a draft''s subtotal, tax and total to the sums of its lines (tax is rounded per line, so the totals always add up).';

CREATE FUNCTION @extschema@._invoice_document_build(p_inv @extschema@.invoice) RETURNS jsonb
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'kind', p_inv.kind,
        'status', p_inv.status,
        'number', p_inv.number,
        'issue_date', p_inv.issue_date,
        'due_date', p_inv.due_date,
        'tax_point', p_inv.tax_point,
        'currency', p_inv.currency,
        'seller', jsonb_build_object(
            'name', coalesce(s.seller_name, t.name), 'tax_pin', s.seller_tax_pin,
            'address', coalesce(b.address, s.seller_address), 'phone', s.seller_phone, 'email', s.seller_email,
            'branch', CASE WHEN b.branch_id IS NOT NULL THEN jsonb_build_object('code', b.code, 'name', b.name) END),
        'buyer', jsonb_build_object(
            'customer_id', c.customer_id, 'name', c.name, 'account_code', c.account_code, 'tax_pin', c.tax_pin,
            'phone', c.phone, 'email', c.email),
        'work_order', (SELECT jsonb_build_object('number', w.number, 'description', w.description,
                                                 'site', jsonb_build_object('name', st.name, 'address', st.address, 'city', st.city),
                                                 'asset', (SELECT jsonb_build_object('name', a.name, 'serial_number', a.serial_number,
                                                                                     'warranty', a.warranty::text)
                                                             FROM @extschema@.asset a
                                                            WHERE a.tenant_id = w.tenant_id AND a.asset_id = w.asset_id))
                         FROM @extschema@.work_order w
                         JOIN @extschema@.site st ON st.tenant_id = w.tenant_id AND st.site_id = w.site_id
                        WHERE w.tenant_id = p_inv.tenant_id AND w.work_order_id = p_inv.work_order_id),
        'credited_invoice', (SELECT jsonb_build_object('number', o.number, 'issue_date', o.issue_date)
                               FROM @extschema@.invoice o
                              WHERE o.tenant_id = p_inv.tenant_id AND o.invoice_id = p_inv.credited_invoice_id),
        'reason', p_inv.reason,
        'lines', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'line_no', l.line_no, 'kind', l.kind, 'description', l.description,
                     'quantity', l.quantity, 'unit', l.unit, 'unit_price', l.unit_price,
                     'warranty_covered', l.warranty_covered, 'tax_class', tc.code, 'tax_treatment', l.tax_treatment,
                     'tax_rate_percent', l.tax_rate_percent, 'net_amount', l.net_amount, 'tax_amount', l.tax_amount,
                     'total', l.net_amount + l.tax_amount) ORDER BY l.line_no)
                     FROM @extschema@.invoice_line l
                     JOIN @extschema@.tax_class tc ON tc.tenant_id = l.tenant_id AND tc.tax_class_id = l.tax_class_id
                    WHERE l.tenant_id = p_inv.tenant_id AND l.invoice_id = p_inv.invoice_id), '[]'),
        'taxes', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'tax_class', x.code, 'treatment', x.tax_treatment, 'rate_percent', x.tax_rate_percent,
                     'taxable_amount', x.net, 'tax_amount', x.tax) ORDER BY x.code, x.tax_rate_percent)
                     FROM (SELECT tc.code, l.tax_treatment, l.tax_rate_percent,
                                  sum(l.net_amount) AS net, sum(l.tax_amount) AS tax
                             FROM @extschema@.invoice_line l
                             JOIN @extschema@.tax_class tc ON tc.tenant_id = l.tenant_id AND tc.tax_class_id = l.tax_class_id
                            WHERE l.tenant_id = p_inv.tenant_id AND l.invoice_id = p_inv.invoice_id
                            GROUP BY tc.code, l.tax_treatment, l.tax_rate_percent) x), '[]'),
        'totals', jsonb_build_object('subtotal', p_inv.subtotal, 'tax_total', p_inv.tax_total, 'total', p_inv.total),
        'payment_instructions', CASE WHEN p_inv.kind = 'invoice' THEN jsonb_build_object(
            'due_date', p_inv.due_date,
            'terms_days', s.payment_terms_days,
            'mpesa', CASE WHEN s.mpesa_paybill IS NOT NULL OR s.mpesa_till IS NOT NULL THEN jsonb_build_object(
                         'paybill', s.mpesa_paybill, 'till', s.mpesa_till,
                         'account_reference', CASE WHEN s.mpesa_paybill IS NOT NULL THEN p_inv.number END) END,
            'bank_details', s.bank_details) END)
      FROM @extschema@.tenant t
      JOIN @extschema@.billing_settings s ON s.tenant_id = t.tenant_id
      JOIN @extschema@.customer c ON c.tenant_id = t.tenant_id AND c.customer_id = p_inv.customer_id
      LEFT JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = p_inv.branch_id
     WHERE t.tenant_id = p_inv.tenant_id;
END;
COMMENT ON FUNCTION @extschema@._invoice_document_build(@extschema@.invoice) IS
    'Internal: the invoice document (seller, buyer, job, lines, taxes by class and rate, totals, payment instructions) from an invoice row and the tables.';

CREATE FUNCTION @extschema@._issue_invoice(p_tenant_id bigint, p_invoice_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_inv @extschema@.invoice;
    v_lines bigint;
    v_tz text;
    v_terms integer;
    v_prefix text;
    v_doc jsonb;
BEGIN
    SELECT * INTO v_inv FROM @extschema@.invoice
     WHERE tenant_id = p_tenant_id AND invoice_id = p_invoice_id FOR UPDATE;
    IF NOT FOUND THEN
        v_inv := @extschema@._get_invoice(p_tenant_id, p_invoice_id);   -- raises the specific error
    END IF;
    IF v_inv.status = 'issued' THEN
        RETURN v_inv.number;
    END IF;
    SELECT coalesce(sum(l.net_amount), 0.0), coalesce(sum(l.tax_amount), 0.0), count(*)
      INTO v_inv.subtotal, v_inv.tax_total, v_lines
      FROM @extschema@.invoice_line l
     WHERE l.tenant_id = p_tenant_id AND l.invoice_id = p_invoice_id;
    v_inv.total := v_inv.subtotal + v_inv.tax_total;
    IF v_lines = 0 THEN
        RAISE EXCEPTION 'invoice % has no lines', p_invoice_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'An invoice is issued with at least one line.',
                  HINT = 'Add lines, or leave the draft.';
    END IF;
    SELECT coalesce(b.timezone, t.timezone), s.payment_terms_days,
           CASE v_inv.kind WHEN 'invoice' THEN s.invoice_prefix ELSE s.credit_note_prefix END
      INTO v_tz, v_terms, v_prefix
      FROM @extschema@.tenant t
      JOIN @extschema@.billing_settings s ON s.tenant_id = t.tenant_id
      LEFT JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = v_inv.branch_id
     WHERE t.tenant_id = p_tenant_id;
    v_inv.number := @extschema@._next_number(p_tenant_id, v_prefix, v_inv.branch_id, now());
    v_inv.status := 'issued';
    v_inv.issue_date := (now() AT TIME ZONE v_tz)::date;
    v_inv.due_date := CASE WHEN v_inv.kind = 'invoice' THEN v_inv.issue_date + v_terms ELSE v_inv.issue_date END;
    v_inv.issued_at := now();
    v_inv.issued_by := @extschema@.current_actor();
    v_doc := @extschema@._invoice_document_build(v_inv);
    UPDATE @extschema@.invoice
       SET subtotal = v_inv.subtotal, tax_total = v_inv.tax_total, total = v_inv.total,
           status = v_inv.status, number = v_inv.number, issue_date = v_inv.issue_date, due_date = v_inv.due_date,
           issued_at = v_inv.issued_at, issued_by = v_inv.issued_by,
           document = v_doc, document_sha256 = sha256(convert_to(v_doc::text, 'UTF8'))
     WHERE tenant_id = p_tenant_id AND invoice_id = p_invoice_id;
    PERFORM @extschema@._outbox(p_tenant_id, CASE v_inv.kind WHEN 'invoice' THEN 'invoice.issued' ELSE 'credit_note.issued' END,
        jsonb_build_object('invoice_id', p_invoice_id, 'number', v_inv.number, 'customer_id', v_inv.customer_id,
                           'work_order_id', v_inv.work_order_id, 'total', v_inv.total, 'currency', v_inv.currency,
                           'due_date', v_inv.due_date),
        v_inv.work_order_id);
    RETURN v_inv.number;
END
$$;
COMMENT ON FUNCTION @extschema@._issue_invoice(bigint, bigint) IS
    'Internal: issues a draft: totals from its lines, the next gapless number of its series (INV or CN, branch, year), issue and due dates in the branch''s time zone, the frozen document and its SHA-256, and an outbox notice. Idempotent: an issued invoice returns its number.';

CREATE FUNCTION @extschema@._get_invoice(p_tenant_id bigint, p_invoice_id bigint) RETURNS @extschema@.invoice
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_inv @extschema@.invoice;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_invoice_id, 'invoice');
    SELECT * INTO v_inv FROM @extschema@.invoice WHERE tenant_id = p_tenant_id AND invoice_id = p_invoice_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % does not exist', p_invoice_id
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('Tenant %s has no invoice with id %s, or row-level security hides it.', p_tenant_id, p_invoice_id),
                  HINT = 'Check the invoice id and the tenant.';
    END IF;
    RETURN v_inv;
END
$$;
COMMENT ON FUNCTION @extschema@._get_invoice(bigint, bigint) IS
    'Internal: an invoice of the tenant; raises null_value_not_allowed for a NULL id and no_data_found when there is none.';

CREATE FUNCTION @extschema@._tax_class_id(p_tenant_id bigint, p_code text, p_what text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_id bigint;
BEGIN
    SELECT tax_class_id INTO v_id FROM @extschema@.tax_class
     WHERE tenant_id = p_tenant_id AND code = coalesce(p_code, 'vat_standard');
    PERFORM @extschema@._require_ref(v_id IS NOT NULL, 'tax class', coalesce(p_code, 'vat_standard'),
        format('Use a code from womgr.tax_class in the %s (vat_standard, vat_zero, vat_exempt, or your own).', p_what));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._tax_class_id(bigint, text, text) IS
    'Internal: the id of a tax class by code (NULL: vat_standard); foreign_key_violation when the tenant has none.';

CREATE FUNCTION @extschema@.issue_invoice(p_tenant_id bigint, p_invoice_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._get_invoice(p_tenant_id, p_invoice_id);
    RETURN @extschema@._issue_invoice(p_tenant_id, p_invoice_id);
END
$$;
COMMENT ON FUNCTION @extschema@.issue_invoice(bigint, bigint) IS
    'Issues a draft invoice (tenants with billing_settings.issue_on_generate = false review drafts first): gives it the next gapless number of its branch and year, freezes its document and returns the number. Calling it again returns the same number.';

CREATE FUNCTION @extschema@.create_invoice(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'invoice';
    v_customer @extschema@.customer;
    v_branch bigint;
    v_wo bigint;
    v_milestone bigint;
    v_currency text;
    v_tz text;
    v_id bigint;
    v_line jsonb;
    v_no integer := 0;
    v_qty numeric;
    v_price numeric;
    v_class bigint;
    v_kind text;
    v_tax record;
    v_net numeric;
    v_gross numeric;
    v_today date;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['customer_id', 'branch_id', 'work_order_id', 'milestone_id', 'lines'], c_what);
    SELECT * INTO v_customer FROM @extschema@.customer
     WHERE tenant_id = p_tenant_id AND customer_id = @extschema@._spec_bigint(p_spec, 'customer_id', true, c_what);
    PERFORM @extschema@._require_ref(FOUND, 'customer', p_spec->>'customer_id', 'Create the customer with womgr.create_customer() first.');
    v_wo := @extschema@._spec_bigint(p_spec, 'work_order_id', false, c_what);
    IF v_wo IS NOT NULL THEN
        PERFORM @extschema@._require_ref(EXISTS (
            SELECT 1 FROM @extschema@.work_order
             WHERE tenant_id = p_tenant_id AND work_order_id = v_wo AND customer_id = v_customer.customer_id),
            'work order', v_wo::text, 'The work order must be one of this customer''s.');
    END IF;
    v_branch := coalesce(@extschema@._spec_bigint(p_spec, 'branch_id', false, c_what),
                         (SELECT branch_id FROM @extschema@.work_order WHERE tenant_id = p_tenant_id AND work_order_id = v_wo),
                         v_customer.branch_id);
    SELECT coalesce(b.currency, t.currency), coalesce(b.timezone, t.timezone) INTO v_currency, v_tz
      FROM @extschema@.tenant t
      LEFT JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = v_branch
     WHERE t.tenant_id = p_tenant_id;
    PERFORM @extschema@._require_ref(v_branch IS NULL OR EXISTS (
        SELECT 1 FROM @extschema@.branch WHERE tenant_id = p_tenant_id AND branch_id = v_branch),
        'branch', v_branch::text, 'Create the branch with womgr.create_branch() first.');
    v_milestone := @extschema@._spec_bigint(p_spec, 'milestone_id', false, c_what);
    IF jsonb_typeof(p_spec->'lines') IS DISTINCT FROM 'array' OR jsonb_array_length(p_spec->'lines') = 0 THEN
        RAISE EXCEPTION 'field "lines" of the invoice spec must be a non-empty array'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', coalesce(p_spec->>'lines', 'missing')),
                  HINT = 'Send [{"description": "...", "quantity": 1, "unit_price": 1000}].';
    END IF;
    v_today := (now() AT TIME ZONE v_tz)::date;
    INSERT INTO @extschema@.invoice (tenant_id, kind, branch_id, customer_id, work_order_id, milestone_id,
                                     currency, tax_point, created_by)
    VALUES (p_tenant_id, 'invoice', v_branch, v_customer.customer_id, v_wo, v_milestone,
            v_currency, v_today, @extschema@.current_actor())
    RETURNING invoice_id INTO v_id;
    FOR v_line IN SELECT value FROM jsonb_array_elements(p_spec->'lines') LOOP
        v_no := v_no + 1;
        PERFORM @extschema@._spec_keys(v_line, ARRAY['description', 'quantity', 'unit', 'unit_price', 'gross_amount', 'tax_class', 'kind'], 'invoice line');
        v_gross := @extschema@._spec_numeric(v_line, 'gross_amount', false, 'invoice line');
        IF v_gross IS NOT NULL AND (v_line ? 'unit_price' OR v_line ? 'quantity' OR v_gross <= 0) THEN
            RAISE EXCEPTION 'invoice line % gives gross_amount %, which must be positive and stand alone', v_no, v_gross
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A line is priced either net (unit_price and quantity) or as one VAT-inclusive gross_amount.',
                      HINT = 'Send {"description", "gross_amount"} or {"description", "quantity", "unit_price"}.';
        END IF;
        v_qty := coalesce(@extschema@._spec_numeric(v_line, 'quantity', false, 'invoice line'), 1);
        v_price := coalesce(v_gross, @extschema@._spec_numeric(v_line, 'unit_price', true, 'invoice line'));
        IF v_qty <= 0 OR v_price < 0 THEN
            RAISE EXCEPTION 'invoice line % has quantity % and unit price %', v_no, v_qty, v_price
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Quantities must be positive and prices not negative.',
                      HINT = 'Use womgr.create_credit_note() to take amounts back.';
        END IF;
        v_kind := coalesce(@extschema@._spec_text(v_line, 'kind', false, 'invoice line'), 'custom');
        IF v_kind NOT IN ('fee', 'custom', 'milestone') THEN
            RAISE EXCEPTION 'invoice line % has an invalid kind "%"', v_no, v_kind
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Manual invoices have fee, custom or milestone lines.',
                      HINT = 'Bill parts, labour and travel of a job with womgr.generate_invoice().';
        END IF;
        v_class := @extschema@._tax_class_id(p_tenant_id, @extschema@._spec_text(v_line, 'tax_class', false, 'invoice line'), 'invoice line');
        v_tax := @extschema@._tax_rate(p_tenant_id, v_class, v_today);
        IF v_gross IS NOT NULL THEN
            -- VAT-inclusive: the net is the gross less the VAT it contains, the VAT the rest
            v_net := @extschema@._money(v_gross * 100 / (100 + v_tax.rate_percent), v_currency);
            v_price := v_net;
        ELSE
            v_net := @extschema@._money(v_qty * v_price, v_currency);
        END IF;
        INSERT INTO @extschema@.invoice_line (tenant_id, invoice_id, line_no, kind, description, quantity, unit, unit_price,
                                              tax_class_id, tax_treatment, tax_rate_percent, net_amount, tax_amount)
        VALUES (p_tenant_id, v_id, v_no, v_kind, @extschema@._spec_text(v_line, 'description', true, 'invoice line'),
                v_qty, coalesce(@extschema@._spec_text(v_line, 'unit', false, 'invoice line'), 'each'),
                v_price, v_class, v_tax.treatment, v_tax.rate_percent, v_net,
                coalesce(v_gross - v_net, @extschema@._money(v_net * v_tax.rate_percent / 100, v_currency)));
    END LOOP;
    IF (SELECT issue_on_generate FROM @extschema@.billing_settings WHERE tenant_id = p_tenant_id) THEN
        PERFORM @extschema@._issue_invoice(p_tenant_id, v_id);   -- sums the lines itself
    ELSE
        PERFORM @extschema@._invoice_totals(p_tenant_id, v_id);
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_invoice(bigint, jsonb) IS
    'Creates an invoice that is not built from a job''s records (a deposit, a milestone, a sale over the counter) from {"customer_id", optional "branch_id" (default: the work order''s, else the customer''s), "work_order_id", "milestone_id", "lines": [{"description", "unit_price", optional "quantity" (1), "unit", "tax_class" (code, default vat_standard), "kind" (custom, fee or milestone)}]}; a line may instead give one VAT-inclusive "gross_amount" (its VAT is the part of it the rate makes up). Prices are net of VAT; tax is computed per line and rounded to the currency. Issued at once unless billing_settings.issue_on_generate is false. Returns its id.';

CREATE FUNCTION @extschema@.create_credit_note(p_tenant_id bigint, p_invoice_id bigint, p_reason text, p_lines jsonb DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_inv @extschema@.invoice;
    v_id bigint;
    v_el jsonb;
    v_no integer;
    v_qty numeric;
    v_left record;
    v_lines integer;
BEGIN
    PERFORM @extschema@._get_invoice(p_tenant_id, p_invoice_id);
    SELECT * INTO v_inv FROM @extschema@.invoice WHERE tenant_id = p_tenant_id AND invoice_id = p_invoice_id FOR UPDATE;
    IF v_inv.kind <> 'invoice' OR v_inv.status <> 'issued' THEN
        RAISE EXCEPTION 'only issued invoices can be credited'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Invoice %s is a %s %s.', p_invoice_id, v_inv.status, replace(v_inv.kind, '_', ' ')),
                  HINT = 'Change or delete a draft instead; a credit note cannot be credited.';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a credit note needs a reason'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The reason is printed on the credit note and kept for the tax authority.',
                  HINT = 'Pass why the invoice is corrected.';
    END IF;
    IF p_lines IS NOT NULL AND (jsonb_typeof(p_lines) <> 'array' OR jsonb_array_length(p_lines) = 0) THEN
        RAISE EXCEPTION 'p_lines must be a non-empty array'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('It is %s.', p_lines),
                  HINT = 'Send [{"line_no": 2, "quantity": 1}], or NULL to credit everything left.';
    END IF;

    INSERT INTO @extschema@.invoice (tenant_id, kind, branch_id, customer_id, work_order_id, credited_invoice_id,
                                     currency, tax_point, reason, created_by)
    VALUES (p_tenant_id, 'credit_note', v_inv.branch_id, v_inv.customer_id, v_inv.work_order_id, p_invoice_id,
            v_inv.currency, v_inv.tax_point, p_reason, @extschema@.current_actor())
    RETURNING invoice_id INTO v_id;

    -- what is left of each line after earlier credit notes
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.womgr_credit_left (
        line_no integer, quantity numeric, net numeric, tax numeric, ask numeric) ON COMMIT DROP;
    DELETE FROM pg_temp.womgr_credit_left;
    INSERT INTO pg_temp.womgr_credit_left
    SELECT l.line_no, l.quantity - coalesce(c.q, 0), l.net_amount - coalesce(c.net, 0), l.tax_amount - coalesce(c.tax, 0),
           CASE WHEN p_lines IS NULL THEN l.quantity - coalesce(c.q, 0) END
      FROM @extschema@.invoice_line l
      LEFT JOIN (SELECT cl.credited_line_no, sum(cl.quantity) AS q, sum(cl.net_amount) AS net, sum(cl.tax_amount) AS tax
                   FROM @extschema@.invoice cn
                   JOIN @extschema@.invoice_line cl ON cl.tenant_id = cn.tenant_id AND cl.invoice_id = cn.invoice_id
                  WHERE cn.tenant_id = p_tenant_id AND cn.credited_invoice_id = p_invoice_id AND cn.kind = 'credit_note'
                  GROUP BY cl.credited_line_no) c ON c.credited_line_no = l.line_no
     WHERE l.tenant_id = p_tenant_id AND l.invoice_id = p_invoice_id;
    FOR v_el IN SELECT value FROM jsonb_array_elements(coalesce(p_lines, '[]')) LOOP
        PERFORM @extschema@._spec_keys(v_el, ARRAY['line_no', 'quantity'], 'credit note line');
        v_no := @extschema@._spec_bigint(v_el, 'line_no', true, 'credit note line');
        v_qty := @extschema@._spec_numeric(v_el, 'quantity', true, 'credit note line');
        SELECT * INTO v_left FROM pg_temp.womgr_credit_left WHERE line_no = v_no;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'invoice line % does not exist', v_no
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Invoice %s has lines 1 to %s.', v_inv.number, (SELECT max(line_no) FROM pg_temp.womgr_credit_left)),
                      HINT = 'Credit lines by their line_no on the invoice.';
        END IF;
        IF v_qty <= 0 OR v_qty > v_left.quantity - coalesce(v_left.ask, 0) OR v_left.net <= 0 THEN
            RAISE EXCEPTION 'invoice line % has only % left to credit', v_no, v_left.quantity - coalesce(v_left.ask, 0)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('You asked to credit %s; earlier credit notes and this one may not credit more than was billed.', v_qty),
                      HINT = 'Credit a positive quantity up to what is left.';
        END IF;
        UPDATE pg_temp.womgr_credit_left SET ask = coalesce(ask, 0) + v_qty WHERE line_no = v_no;
    END LOOP;

    INSERT INTO @extschema@.invoice_line (tenant_id, invoice_id, line_no, kind, description, quantity, unit, unit_price,
                                          tax_class_id, tax_treatment, tax_rate_percent, net_amount, tax_amount,
                                          part_id, technician_id, source_ref, credited_line_no)
    SELECT p_tenant_id, v_id, row_number() OVER (ORDER BY l.line_no), 'credit', 'Credit: ' || l.description, x.ask, l.unit,
           l.unit_price, l.tax_class_id, l.tax_treatment, l.tax_rate_percent, n.net,
           CASE WHEN x.ask = x.quantity THEN x.tax ELSE @extschema@._money(n.net * l.tax_rate_percent / 100, v_inv.currency) END,
           l.part_id, l.technician_id, jsonb_build_object('credited_invoice', v_inv.number), l.line_no
      FROM pg_temp.womgr_credit_left x
      JOIN @extschema@.invoice_line l ON l.tenant_id = p_tenant_id AND l.invoice_id = p_invoice_id AND l.line_no = x.line_no
      CROSS JOIN LATERAL (SELECT CASE WHEN x.ask = x.quantity THEN x.net
                                      ELSE least(@extschema@._money(x.ask * l.unit_price, v_inv.currency), x.net) END AS net) n
     WHERE x.ask > 0 AND x.net + x.tax > 0;
    GET DIAGNOSTICS v_lines = ROW_COUNT;
    DROP TABLE pg_temp.womgr_credit_left;
    IF v_lines = 0 THEN
        RAISE EXCEPTION 'invoice % has nothing left to credit', v_inv.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Earlier credit notes credit every line in full (warranty lines bill nothing).',
                  HINT = 'See the credit notes that reference it in womgr.invoice.';
    END IF;
    PERFORM @extschema@._issue_invoice(p_tenant_id, v_id);
    IF v_inv.work_order_id IS NOT NULL THEN
        PERFORM @extschema@._log_event(p_tenant_id, v_inv.work_order_id, 'credited',
            jsonb_build_object('invoice', v_inv.number, 'credit_note_id', v_id, 'reason', p_reason));
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_credit_note(bigint, bigint, text, jsonb) IS
    'Corrects an issued invoice with a credit note that references it and is issued at once in its own gapless series (CN-NBO-2026-000001): p_lines [{"line_no", "quantity"}] credits parts of lines at the invoice''s prices and tax rates; NULL credits everything not yet credited. A line is never credited beyond what was billed. The reason is required. Returns the credit note''s id.';

CREATE FUNCTION @extschema@.invoice_document(p_tenant_id bigint, p_invoice_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_inv @extschema@.invoice;
BEGIN
    v_inv := @extschema@._get_invoice(p_tenant_id, p_invoice_id);
    RETURN coalesce(v_inv.document, @extschema@._invoice_document_build(v_inv));
END
$$;
COMMENT ON FUNCTION @extschema@.invoice_document(bigint, bigint) IS
    'Everything needed to render an invoice or credit note: kind, number, dates, currency, seller (name, KRA PIN, address, branch), buyer, the job (number, site, asset), lines, taxes by class and rate, totals, and payment instructions (due date, M-Pesa paybill or till with the invoice number as account reference, bank details). Issued documents are returned exactly as frozen at issue; drafts are built live with status draft and no number.';

CREATE FUNCTION @extschema@._html(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN replace(replace(replace(replace(replace(coalesce(p_text, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
COMMENT ON FUNCTION @extschema@._html(text) IS 'Internal: text escaped for HTML (& < > " '').';

CREATE FUNCTION @extschema@._fmt_money(p_amount numeric, p_currency text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_char(p_amount, CASE @extschema@._currency_scale(p_currency)
                                 WHEN 0 THEN 'FM999,999,999,999,990' WHEN 3 THEN 'FM999,999,999,990.000'
                                 ELSE 'FM999,999,999,999,990.00' END);
COMMENT ON FUNCTION @extschema@._fmt_money(numeric, text) IS 'Internal: an amount with thousands separators and the currency''s decimals (17,366.98; UGX 1,160).';

CREATE FUNCTION @extschema@.invoice_html(p_tenant_id bigint, p_invoice_id bigint) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    d jsonb := @extschema@.invoice_document(p_tenant_id, p_invoice_id);
    c text := d->>'currency';
    v_lines text;
    v_taxes text;
    v_pay text := '';
BEGIN
    SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td class="n">%s %s</td><td class="n">%s</td><td>%s%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                             l->>'line_no', @extschema@._html(l->>'description'), l->>'quantity', @extschema@._html(l->>'unit'),
                             @extschema@._fmt_money((l->>'unit_price')::numeric, c),
                             CASE l->>'tax_treatment' WHEN 'exempt' THEN 'exempt' ELSE (l->>'tax_rate_percent')::numeric::float8 || ' %' END,
                             CASE WHEN (l->>'warranty_covered')::boolean THEN ' (warranty)' ELSE '' END,
                             @extschema@._fmt_money((l->>'net_amount')::numeric, c), @extschema@._fmt_money((l->>'tax_amount')::numeric, c)),
                      E'\n' ORDER BY (l->>'line_no')::integer)
      INTO v_lines FROM jsonb_array_elements(d->'lines') l;
    SELECT string_agg(format('<tr><td>%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                             CASE x->>'treatment' WHEN 'exempt' THEN 'VAT exempt'
                                  ELSE 'VAT ' || (x->>'rate_percent')::numeric::float8 || ' %' END,
                             @extschema@._fmt_money((x->>'taxable_amount')::numeric, c), @extschema@._fmt_money((x->>'tax_amount')::numeric, c)),
                      E'\n')
      INTO v_taxes FROM jsonb_array_elements(d->'taxes') x;
    IF d->'payment_instructions' IS NOT NULL AND jsonb_typeof(d->'payment_instructions') = 'object' THEN
        v_pay := format('<section class="pay"><h2>How to pay</h2><p>Due by %s.</p>%s%s%s</section>',
            @extschema@._html(d#>>'{payment_instructions,due_date}'),
            CASE WHEN d#>>'{payment_instructions,mpesa,paybill}' IS NOT NULL
                 THEN format('<p>M-Pesa: Lipa na M-Pesa, Paybill %s, account %s.</p>',
                             @extschema@._html(d#>>'{payment_instructions,mpesa,paybill}'),
                             @extschema@._html(d#>>'{payment_instructions,mpesa,account_reference}')) ELSE '' END,
            CASE WHEN d#>>'{payment_instructions,mpesa,till}' IS NOT NULL
                 THEN format('<p>M-Pesa: Buy Goods, Till %s.</p>', @extschema@._html(d#>>'{payment_instructions,mpesa,till}')) ELSE '' END,
            CASE WHEN d#>>'{payment_instructions,bank_details}' IS NOT NULL
                 THEN format('<p>Bank: %s</p>', @extschema@._html(d#>>'{payment_instructions,bank_details}')) ELSE '' END);
    END IF;
    RETURN format($h$<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%1$s %2$s</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%%}td,th{border-bottom:1px solid #ccc;padding:4px;text-align:left}.n{text-align:right}@media print{.pay{page-break-inside:avoid}}</style>
</head><body>
<header><h1>%1$s %2$s</h1><p>Issued %3$s &middot; tax point %4$s%5$s</p></header>
<section class="parties"><div><h2>From</h2><p>%6$s<br>PIN %7$s<br>%8$s</p></div>
<div><h2>To</h2><p>%9$s<br>PIN %10$s<br>Account %11$s</p></div></section>
%12$s
<table><thead><tr><th>#</th><th>Description</th><th class="n">Qty</th><th class="n">Unit price</th><th>VAT</th><th class="n">Net</th><th class="n">VAT amount</th></tr></thead>
<tbody>
%13$s
</tbody></table>
<table class="taxes"><thead><tr><th>Tax</th><th class="n">Taxable</th><th class="n">Tax</th></tr></thead><tbody>
%14$s
</tbody></table>
<p class="totals">Subtotal %15$s %16$s<br>VAT %15$s %17$s<br><strong>Total %15$s %18$s</strong></p>
%19$s
</body></html>
$h$,
        CASE d->>'kind' WHEN 'credit_note' THEN 'Credit note' ELSE 'Invoice' END,
        @extschema@._html(coalesce(d->>'number', '(draft)')),
        @extschema@._html(coalesce(d->>'issue_date', 'not yet')), @extschema@._html(d->>'tax_point'),
        CASE WHEN d->'credited_invoice' IS NOT NULL AND jsonb_typeof(d->'credited_invoice') = 'object'
             THEN format(' &middot; credits invoice %s: %s', @extschema@._html(d#>>'{credited_invoice,number}'), @extschema@._html(d->>'reason'))
             ELSE '' END,
        @extschema@._html(d#>>'{seller,name}'), @extschema@._html(d#>>'{seller,tax_pin}'), @extschema@._html(d#>>'{seller,address}'),
        @extschema@._html(d#>>'{buyer,name}'), @extschema@._html(d#>>'{buyer,tax_pin}'), @extschema@._html(d#>>'{buyer,account_code}'),
        CASE WHEN jsonb_typeof(d->'work_order') = 'object'
             THEN format('<p>Work order %s: %s at %s</p>', @extschema@._html(d#>>'{work_order,number}'),
                         @extschema@._html(d#>>'{work_order,description}'), @extschema@._html(d#>>'{work_order,site,name}'))
             ELSE '' END,
        coalesce(v_lines, ''), coalesce(v_taxes, ''), @extschema@._html(c),
        @extschema@._fmt_money((d#>>'{totals,subtotal}')::numeric, c), @extschema@._fmt_money((d#>>'{totals,tax_total}')::numeric, c),
        @extschema@._fmt_money((d#>>'{totals,total}')::numeric, c), v_pay);
END
$$;
COMMENT ON FUNCTION @extschema@.invoice_html(bigint, bigint) IS
    'A printable HTML page of an invoice or credit note, rendered from womgr.invoice_document (every value HTML-escaped): seller and buyer with KRA PINs, the job, lines, VAT by rate, totals and how to pay (M-Pesa paybill and account, till, bank).';
