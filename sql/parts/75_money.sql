-- Shared money helpers: currency rounding, tax rates in force, gapless
-- document numbers, outbox notices, and the one place an invoice is issued
-- (numbered, frozen, made immutable).

CREATE FUNCTION @extschema@._currency_scale(p_currency text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN p_currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF',
                            'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
        WHEN p_currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
        ELSE 2 END;
COMMENT ON FUNCTION @extschema@._currency_scale(text) IS
    'Internal: decimal places of a currency''s minor unit (ISO 4217): 0 for UGX, RWF, JPY and the like, 3 for BHD, KWD, OMR and the like, else 2 (KES, TZS, USD, EUR).';

CREATE FUNCTION @extschema@._money(p_amount numeric, p_currency text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN round(p_amount, @extschema@._currency_scale(p_currency));
COMMENT ON FUNCTION @extschema@._money(numeric, text) IS
    'Internal: an amount rounded half away from zero to the currency''s minor unit (KES 2 places, UGX none).';

CREATE FUNCTION @extschema@._tax_rate(p_tenant_id bigint, p_tax_class_id bigint, p_on date,
                                      OUT treatment text, OUT rate_percent numeric)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_code text;
BEGIN
    SELECT c.treatment, c.code INTO treatment, v_code
      FROM @extschema@.tax_class c WHERE c.tenant_id = p_tenant_id AND c.tax_class_id = p_tax_class_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tax class % does not exist', p_tax_class_id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Tenant %s has no tax class with id %s.', p_tenant_id, p_tax_class_id),
                  HINT = 'See womgr.tax_class for the tenant''s classes.';
    END IF;
    IF treatment = 'exempt' THEN
        rate_percent := 0;
        RETURN;
    END IF;
    SELECT r.rate_percent INTO rate_percent
      FROM @extschema@.tax_rate r
     WHERE r.tenant_id = p_tenant_id AND r.tax_class_id = p_tax_class_id AND r.valid @> p_on;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tax class "%" has no rate on %', v_code, p_on
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Every taxable line needs the rate in force on the invoice''s tax point.',
                  HINT = 'Add the rate with womgr.set_tax_rate().';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._tax_rate(bigint, bigint, date) IS
    'Internal: the treatment and rate of a tax class on a date (exempt: 0); raises when a taxable class has no rate then.';

CREATE FUNCTION @extschema@._outbox(p_tenant_id bigint, p_topic text, p_payload jsonb, p_work_order_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO @extschema@.outbox (tenant_id, topic, work_order_id, payload)
    VALUES (p_tenant_id, p_topic, p_work_order_id, p_payload)
    RETURNING outbox_id INTO v_id;
    PERFORM pg_catalog.pg_notify('womgr_events', pg_catalog.json_build_object(
        'tenant_id', p_tenant_id, 'outbox_id', v_id, 'work_order_id', p_work_order_id, 'topic', p_topic)::text);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._outbox(bigint, text, jsonb, bigint) IS
    'Internal: writes an outbox row (topic such as stock.low or payment.requested) and sends NOTIFY womgr_events at commit, like work-order events do.';

CREATE FUNCTION @extschema@._next_number(p_tenant_id bigint, p_prefix text, p_branch_id bigint, p_at timestamptz)
    RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_name text;
    v_value bigint;
BEGIN
    SELECT p_prefix || coalesce('-' || b.code, '') || '-' || to_char(p_at AT TIME ZONE coalesce(b.timezone, t.timezone), 'YYYY')
      INTO STRICT v_name
      FROM @extschema@.tenant t
      LEFT JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = p_branch_id
     WHERE t.tenant_id = p_tenant_id;
    -- The row lock taken here is held to commit: numbers of one series are
    -- handed out one transaction at a time, and a rollback takes its number back.
    INSERT INTO @extschema@.tenant_counter AS c (tenant_id, counter_name, last_value)
    VALUES (p_tenant_id, v_name, 1)
    ON CONFLICT (tenant_id, counter_name) DO UPDATE SET last_value = c.last_value + 1
    RETURNING c.last_value INTO v_value;
    RETURN v_name || '-' || lpad(v_value::text, 6, '0');
END
$$;
COMMENT ON FUNCTION @extschema@._next_number(bigint, text, bigint, timestamptz) IS
    'Internal: the next gapless number of a series PREFIX-BRANCH-YEAR (INV-NBO-2026-000001; PREFIX-YEAR without a branch), the year in the branch''s (else the tenant''s) time zone. The counter row stays locked to commit, so concurrent issuers queue and a rolled-back number is given again.';

CREATE FUNCTION @extschema@._seed_billing(p_tenant_id bigint, p_seeded boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    INSERT INTO @extschema@.billing_settings (tenant_id, seller_name, seeded)
    SELECT p_tenant_id, t.name, p_seeded FROM @extschema@.tenant t WHERE t.tenant_id = p_tenant_id;
    INSERT INTO @extschema@.tax_class (tenant_id, code, name, treatment, seeded) VALUES
        (p_tenant_id, 'vat_standard', 'VAT standard rate', 'standard', p_seeded),
        (p_tenant_id, 'vat_zero', 'VAT zero-rated', 'zero_rated', p_seeded),
        (p_tenant_id, 'vat_exempt', 'VAT exempt', 'exempt', p_seeded);
    INSERT INTO @extschema@.tax_rate (tenant_id, tax_class_id, valid, rate_percent, seeded)
    SELECT p_tenant_id, c.tax_class_id, daterange('2000-01-01', NULL), r.rate, p_seeded
      FROM (VALUES ('vat_standard', 16.000), ('vat_zero', 0.000)) AS r(code, rate)
      JOIN @extschema@.tax_class c ON c.tenant_id = p_tenant_id AND c.code = r.code;
    UPDATE @extschema@.workflow_status ws SET invoices = true
      FROM @extschema@.workflow w
     WHERE w.tenant_id = p_tenant_id AND w.code = 'standard'
       AND ws.tenant_id = w.tenant_id AND ws.workflow_id = w.workflow_id AND ws.code = 'completed'
       AND NOT EXISTS (SELECT 1 FROM @extschema@.workflow_status x
                        WHERE x.tenant_id = w.tenant_id AND x.workflow_id = w.workflow_id AND x.invoices);
END
$$;
COMMENT ON FUNCTION @extschema@._seed_billing(bigint, boolean) IS
    'Internal: gives a new tenant billing settings (seller: the tenant''s name, 14 days'' terms, invoices issued on generation), the tax classes vat_standard (16 %), vat_zero and vat_exempt, and makes the standard workflow invoice on completed.';

CREATE VIEW @extschema@.invoice_balance WITH (security_barrier) AS
SELECT i.tenant_id, i.invoice_id, i.number, i.branch_id, i.customer_id, i.work_order_id, i.currency,
       i.issue_date, i.due_date, i.total,
       coalesce(p.paid, 0) AS paid,
       coalesce(c.credited, 0) AS credited,
       i.total - coalesce(p.paid, 0) - coalesce(c.credited, 0) AS balance
  FROM @extschema@.invoice i
  LEFT JOIN LATERAL (SELECT sum(a.amount) AS paid FROM @extschema@.payment_allocation a
                      WHERE a.tenant_id = i.tenant_id AND a.invoice_id = i.invoice_id) p ON true
  LEFT JOIN LATERAL (SELECT sum(cn.total) AS credited FROM @extschema@.invoice cn
                      WHERE cn.tenant_id = i.tenant_id AND cn.credited_invoice_id = i.invoice_id
                        AND cn.kind = 'credit_note' AND cn.status = 'issued') c ON true
 WHERE i.kind = 'invoice' AND i.status = 'issued';
COMMENT ON VIEW @extschema@.invoice_balance IS
    'Issued invoices with what was paid (allocations), credited (issued credit notes) and the balance still due: total - paid - credited.';
COMMENT ON COLUMN @extschema@.invoice_balance.balance IS 'total - paid - credited; 0 when settled.';
