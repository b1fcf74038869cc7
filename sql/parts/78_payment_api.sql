-- Payments: recording money received, allocating it to invoices (what is
-- left is the customer's credit), M-Pesa STK push requests and callbacks,
-- C2B confirmations, the unmatched queue, balances and aging.
--
-- Lock order (no deadlocks): the M-Pesa checkout advisory lock, then the
-- payment request, then payments in id order, then invoices in id order.

CREATE FUNCTION @extschema@._msisdn(p_phone text, p_what text, p_strict boolean DEFAULT true) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v text := regexp_replace(p_phone, '[[:space:]()-]', '', 'g');
BEGIN
    IF p_phone IS NULL THEN
        RETURN NULL;
    ELSIF v ~ '^0[17][0-9]{8}$' THEN
        RETURN '254' || substr(v, 2);
    ELSIF v ~ '^\+?254[17][0-9]{8}$' THEN
        RETURN ltrim(v, '+');
    ELSIF NOT p_strict THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'phone "%" of the % is not a Kenyan mobile number', p_phone, p_what
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'M-Pesa numbers are 07XXXXXXXX or 01XXXXXXXX, or +254 / 254 followed by 7 or 1 and eight digits.',
              HINT = 'Send the number as 0712345678 or +254712345678.';
END
$$;
COMMENT ON FUNCTION @extschema@._msisdn(text, text, boolean) IS
    'Internal: a Kenyan mobile number (07.., 01.., +2547.., 2541.., spaces and dashes ignored) as 2547XXXXXXXX or 2541XXXXXXXX; NULL for NULL. Anything else raises invalid_parameter_value, or gives NULL when p_strict is false (numbers a provider sent).';

CREATE FUNCTION @extschema@._payment_currency(p_tenant_id bigint, p_customer_id bigint) RETURNS text
    LANGUAGE sql STABLE
    RETURN (SELECT coalesce(b.currency, t.currency)
              FROM @extschema@.tenant t
              LEFT JOIN @extschema@.customer c ON c.tenant_id = t.tenant_id AND c.customer_id = p_customer_id
              LEFT JOIN @extschema@.branch b ON b.tenant_id = c.tenant_id AND b.branch_id = c.branch_id
             WHERE t.tenant_id = p_tenant_id);
COMMENT ON FUNCTION @extschema@._payment_currency(bigint, bigint) IS
    'Internal: the currency a customer pays in by default: their branch''s, else the tenant''s.';

CREATE FUNCTION @extschema@._unallocated(p_tenant_id bigint, p_payment_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
    RETURN (SELECT p.amount - coalesce((SELECT sum(a.amount) FROM @extschema@.payment_allocation a
                                         WHERE a.tenant_id = p.tenant_id AND a.payment_id = p.payment_id), 0)
              FROM @extschema@.payment p
             WHERE p.tenant_id = p_tenant_id AND p.payment_id = p_payment_id);
COMMENT ON FUNCTION @extschema@._unallocated(bigint, bigint) IS 'Internal: what is left of a payment to allocate.';

CREATE FUNCTION @extschema@._lock_payment(p_tenant_id bigint, p_payment_id bigint) RETURNS @extschema@.payment
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_p @extschema@.payment;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_payment_id, 'payment');
    SELECT * INTO v_p FROM @extschema@.payment
     WHERE tenant_id = p_tenant_id AND payment_id = p_payment_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'payment', p_payment_id, p_tenant_id);
    RETURN v_p;
END
$$;
COMMENT ON FUNCTION @extschema@._lock_payment(bigint, bigint) IS 'Internal: locks a payment row for allocation or matching (P0002 when unknown).';

CREATE FUNCTION @extschema@._payment_notice(p_tenant_id bigint, p_payment_id bigint, p_topic text,
                                            p_extra jsonb DEFAULT '{}')
    RETURNS bigint
    LANGUAGE sql VOLATILE
    RETURN @extschema@._outbox(p_tenant_id, p_topic,
        (SELECT jsonb_build_object(
                    'payment_id', p.payment_id, 'method', p.method, 'source', p.source, 'status', p.status,
                    'customer_id', p.customer_id, 'amount', p.amount, 'currency', p.currency,
                    'reference', p.reference, 'received_at', p.received_at,
                    'allocations', coalesce((SELECT jsonb_agg(jsonb_build_object('invoice_id', a.invoice_id, 'amount', a.amount)
                                                              ORDER BY a.allocation_id)
                                               FROM @extschema@.payment_allocation a
                                              WHERE a.tenant_id = p.tenant_id AND a.payment_id = p.payment_id), '[]'),
                    'unallocated', @extschema@._unallocated(p.tenant_id, p.payment_id)) || p_extra
           FROM @extschema@.payment p WHERE p.tenant_id = p_tenant_id AND p.payment_id = p_payment_id));
COMMENT ON FUNCTION @extschema@._payment_notice(bigint, bigint, text, jsonb) IS
    'Internal: writes an outbox notice (payment.received, payment.matched) describing a payment and its allocations.';

CREATE FUNCTION @extschema@._allocate(p_tenant_id bigint, p_payment_id bigint, p_invoice_id bigint, p_amount numeric)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_p @extschema@.payment;
    v_i @extschema@.invoice;
    v_balance numeric;
    v_left numeric;
    v_amount numeric;
    v_id bigint;
BEGIN
    -- fixed order: the payment, then the invoice
    v_p := @extschema@._lock_payment(p_tenant_id, p_payment_id);
    PERFORM @extschema@._require_id(p_invoice_id, 'invoice');
    SELECT * INTO v_i FROM @extschema@.invoice
     WHERE tenant_id = p_tenant_id AND invoice_id = p_invoice_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'invoice', p_invoice_id, p_tenant_id);
    IF v_p.status = 'unmatched' THEN
        RAISE EXCEPTION 'payment % is unmatched', p_payment_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'No customer is known for it yet.',
                  HINT = 'Match it to its customer with womgr.match_payment().';
    END IF;
    IF v_i.kind = 'credit_note' THEN
        RAISE EXCEPTION 'invoice % is a credit note', coalesce(v_i.number, p_invoice_id::text)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Payments are allocated to invoices; a credit note reduces its invoice''s balance by itself.',
                  HINT = 'Allocate the payment to an invoice.';
    END IF;
    IF v_i.status = 'draft' THEN
        RAISE EXCEPTION 'invoice % is a draft', p_invoice_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only issued invoices are paid.',
                  HINT = 'Issue the invoice first.';
    END IF;
    IF v_i.customer_id <> v_p.customer_id THEN
        RAISE EXCEPTION 'payment % and invoice % belong to different customers', p_payment_id, v_i.number
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The payment is from customer %s; the invoice is billed to customer %s.', v_p.customer_id, v_i.customer_id),
                  HINT = 'Allocate a payment only to invoices of its own customer.';
    END IF;
    IF v_i.currency <> v_p.currency THEN
        RAISE EXCEPTION 'payment % is in % but invoice % is in %', p_payment_id, v_p.currency, v_i.number, v_i.currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A payment pays invoices of its own currency only.',
                  HINT = 'Allocate it to an invoice in the same currency.';
    END IF;
    SELECT b.balance INTO v_balance FROM @extschema@.invoice_balance b
     WHERE b.tenant_id = p_tenant_id AND b.invoice_id = p_invoice_id;
    IF v_balance <= 0 THEN
        RAISE EXCEPTION 'invoice % is already settled', v_i.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its balance is %s %s.', v_balance, v_i.currency),
                  HINT = 'What is not allocated stays as the customer''s credit.';
    END IF;
    IF p_amount IS NOT NULL AND p_amount <= 0 THEN
        RAISE EXCEPTION 'allocation amount must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', p_amount),
                  HINT = 'Pass the amount to apply, or NULL for as much as possible.';
    END IF;
    IF p_amount <> @extschema@._money(p_amount, v_p.currency) THEN
        RAISE EXCEPTION 'allocation amount % has more decimals than % allows', p_amount, v_p.currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s has %s decimal places.', v_p.currency, @extschema@._currency_scale(v_p.currency)),
                  HINT = 'Round the amount to the currency''s minor unit.';
    END IF;
    v_left := @extschema@._unallocated(p_tenant_id, p_payment_id);
    IF v_left <= 0 THEN
        RAISE EXCEPTION 'payment % is fully allocated', p_payment_id
            USING ERRCODE = 'WM012',
                  DETAIL = format('All %s %s of it is allocated to invoices.', v_p.amount, v_p.currency),
                  HINT = 'Use another payment.';
    END IF;
    v_amount := coalesce(p_amount, least(v_left, v_balance));
    IF v_amount > v_left THEN
        RAISE EXCEPTION 'allocation of % % exceeds what is left of payment %', v_amount, v_p.currency, p_payment_id
            USING ERRCODE = 'WM012',
                  DETAIL = format('Payment %s of %s %s has %s %s left to allocate.', p_payment_id, v_p.amount, v_p.currency, v_left, v_p.currency),
                  HINT = 'Allocate at most what is left, or pass NULL for as much as possible.';
    END IF;
    IF v_amount > v_balance THEN
        RAISE EXCEPTION 'allocation of % % exceeds the balance of invoice %', v_amount, v_p.currency, v_i.number
            USING ERRCODE = 'WM012',
                  DETAIL = format('Invoice %s has %s %s left to pay.', v_i.number, v_balance, v_i.currency),
                  HINT = 'Allocate at most the balance; what is left of the payment stays as the customer''s credit.';
    END IF;
    INSERT INTO @extschema@.payment_allocation (tenant_id, payment_id, invoice_id, amount, allocated_by)
    VALUES (p_tenant_id, p_payment_id, p_invoice_id, v_amount, @extschema@.current_actor())
    RETURNING allocation_id INTO v_id;
    IF v_amount = v_balance THEN
        PERFORM @extschema@._outbox(p_tenant_id, 'invoice.paid',
            jsonb_build_object('invoice_id', v_i.invoice_id, 'number', v_i.number, 'customer_id', v_i.customer_id,
                               'total', v_i.total, 'currency', v_i.currency, 'last_payment_id', p_payment_id),
            v_i.work_order_id);
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._allocate(bigint, bigint, bigint, numeric) IS
    'Internal: allocates part of a payment to an invoice after locking both (payment first); NULL amount: as much as both allow. Writes invoice.paid when the invoice is settled.';

CREATE FUNCTION @extschema@._allocate_oldest_first(p_tenant_id bigint, p_payment_id bigint) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_p @extschema@.payment;
    v_left numeric;
    v_amount numeric;
    v_n integer := 0;
    r record;
BEGIN
    v_p := @extschema@._lock_payment(p_tenant_id, p_payment_id);
    v_left := @extschema@._unallocated(p_tenant_id, p_payment_id);
    IF v_p.status <> 'matched' OR v_left <= 0 THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM @extschema@.invoice i
     WHERE i.tenant_id = p_tenant_id AND i.customer_id = v_p.customer_id AND i.currency = v_p.currency
       AND i.invoice_id IN (SELECT b.invoice_id FROM @extschema@.invoice_balance b
                             WHERE b.tenant_id = p_tenant_id AND b.customer_id = v_p.customer_id AND b.balance > 0)
     ORDER BY i.invoice_id FOR UPDATE;
    FOR r IN SELECT b.invoice_id, b.balance FROM @extschema@.invoice_balance b
              WHERE b.tenant_id = p_tenant_id AND b.customer_id = v_p.customer_id AND b.currency = v_p.currency
                AND b.balance > 0
              ORDER BY coalesce(b.due_date, b.issue_date), b.issue_date, b.invoice_id LOOP
        EXIT WHEN v_left <= 0;
        v_amount := least(v_left, r.balance);
        PERFORM @extschema@._allocate(p_tenant_id, p_payment_id, r.invoice_id, v_amount);
        v_left := v_left - v_amount;
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION @extschema@._allocate_oldest_first(bigint, bigint) IS
    'Internal: allocates what is left of a matched payment to its customer''s open invoices in its currency, oldest due date first; returns the allocations made.';

CREATE FUNCTION @extschema@.record_payment(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'payment';
    v_method text;
    v_amount numeric;
    v_currency text;
    v_customer_id bigint;
    v_branch_id bigint;
    v_invoice_id bigint;
    v_reference text;
    v_received_at timestamptz;
    v_phone text;
    v_tech bigint;
    v_allocate text;
    v_existing @extschema@.payment;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['method', 'amount', 'currency', 'customer_id', 'reference', 'received_at',
        'payer_phone', 'payer_name', 'collected_by_technician_id', 'invoice_id', 'allocate'], c_what);
    v_method := @extschema@._spec_text(p_spec, 'method', true, c_what);
    IF v_method NOT IN ('mpesa', 'card', 'cash', 'bank_transfer') THEN
        RAISE EXCEPTION 'field "method" of the payment spec has an invalid value "%"', v_method
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Methods are mpesa, card, cash and bank_transfer.',
                  HINT = 'Escrow releases are recorded by the escrow functions.';
    END IF;
    v_amount := @extschema@._spec_numeric(p_spec, 'amount', true, c_what);
    v_invoice_id := @extschema@._spec_bigint(p_spec, 'invoice_id', false, c_what);
    v_customer_id := @extschema@._spec_bigint(p_spec, 'customer_id', false, c_what);
    IF v_invoice_id IS NOT NULL THEN
        SELECT coalesce(v_customer_id, i.customer_id), i.branch_id INTO v_customer_id, v_branch_id
          FROM @extschema@.invoice i WHERE i.tenant_id = p_tenant_id AND i.invoice_id = v_invoice_id;
        PERFORM @extschema@._require_ref(FOUND, 'invoice', v_invoice_id::text, 'See womgr.invoice_balance for open invoices.');
    END IF;
    IF v_customer_id IS NULL THEN
        RAISE EXCEPTION 'the payment spec needs field "customer_id"'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Field "customer_id" is missing or null and no "invoice_id" names the customer.',
                  HINT = 'Add "customer_id" (or "invoice_id") to the spec.';
    END IF;
    SELECT coalesce(v_branch_id, c.branch_id) INTO v_branch_id
      FROM @extschema@.customer c WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_customer_id;
    PERFORM @extschema@._require_ref(FOUND, 'customer', v_customer_id::text, 'Create the customer first.');
    v_currency := coalesce(@extschema@._check_code(@extschema@._spec_text(p_spec, 'currency', false, c_what),
                                                   '^[A-Z]{3}$', 'currency', c_what, 'KES'),
                           @extschema@._payment_currency(p_tenant_id, v_customer_id));
    IF v_amount <= 0 THEN
        RAISE EXCEPTION 'field "amount" of the payment spec must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', v_amount),
                  HINT = 'Refunds are not payments; send the amount received.';
    END IF;
    IF v_amount <> @extschema@._money(v_amount, v_currency) THEN
        RAISE EXCEPTION 'field "amount" of the payment spec has more decimals than % allows', v_currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s; %s has %s decimal places.', v_amount, v_currency, @extschema@._currency_scale(v_currency)),
                  HINT = 'Send the amount exactly as received.';
    END IF;
    v_reference := btrim(@extschema@._spec_text(p_spec, 'reference', false, c_what));
    v_received_at := coalesce(@extschema@._spec_timestamptz(p_spec, 'received_at', false, c_what), now());
    IF v_received_at > now() + interval '1 hour' THEN
        RAISE EXCEPTION 'field "received_at" of the payment spec is in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', v_received_at),
                  HINT = 'Record payments once they are received.';
    END IF;
    v_phone := @extschema@._msisdn(@extschema@._spec_text(p_spec, 'payer_phone', false, c_what), 'payment spec');
    v_tech := @extschema@._spec_bigint(p_spec, 'collected_by_technician_id', false, c_what);
    IF v_tech IS NOT NULL THEN
        IF v_method <> 'cash' THEN
            RAISE EXCEPTION 'field "collected_by_technician_id" of the payment spec goes with method cash only'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The method is %s.', v_method),
                      HINT = 'Leave the technician out, or record the cash the technician collected.';
        END IF;
        PERFORM @extschema@._require_ref(
            EXISTS (SELECT 1 FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = v_tech),
            'technician', v_tech::text, 'Check the technician id.');
    END IF;
    v_allocate := @extschema@._spec_text(p_spec, 'allocate', false, c_what);
    IF v_allocate NOT IN ('oldest_first', 'none') THEN
        RAISE EXCEPTION 'field "allocate" of the payment spec has an invalid value "%"', v_allocate
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is oldest_first (pay the customer''s open invoices, oldest due first) or none.',
                  HINT = 'Use "invoice_id" to pay one invoice.';
    END IF;
    INSERT INTO @extschema@.payment AS p (tenant_id, method, source, customer_id, branch_id, amount, currency, reference,
                                          payer_phone, payer_name, collected_by_technician_id, received_at, created_by)
    VALUES (p_tenant_id, v_method, CASE WHEN v_tech IS NULL THEN 'manual' ELSE 'technician' END, v_customer_id, v_branch_id,
            @extschema@._money(v_amount, v_currency), v_currency, v_reference, v_phone,
            @extschema@._spec_text(p_spec, 'payer_name', false, c_what),
            v_tech, v_received_at, @extschema@.current_actor())
    ON CONFLICT (tenant_id, method, reference) WHERE reference IS NOT NULL DO NOTHING
    RETURNING p.payment_id INTO v_id;
    IF v_id IS NULL THEN
        SELECT * INTO STRICT v_existing FROM @extschema@.payment
         WHERE tenant_id = p_tenant_id AND method = v_method AND reference = v_reference;
        IF v_existing.amount = v_amount AND v_existing.currency = v_currency
           AND v_existing.customer_id IS NOT DISTINCT FROM v_customer_id THEN
            RETURN v_existing.payment_id;        -- the same payment recorded again
        END IF;
        RAISE EXCEPTION '% payment reference "%" is already used', v_method, v_reference
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Payment %s has it, for %s %s from customer %s; this one is %s %s from customer %s.',
                                  v_existing.payment_id, v_existing.amount, v_existing.currency,
                                  coalesce(v_existing.customer_id::text, '(unmatched)'), v_amount, v_currency, v_customer_id),
                  HINT = 'A provider''s transaction id is recorded once; check the reference.';
    END IF;
    IF v_invoice_id IS NOT NULL THEN
        PERFORM @extschema@._allocate(p_tenant_id, v_id, v_invoice_id, NULL);
    END IF;
    IF v_allocate = 'oldest_first' THEN
        PERFORM @extschema@._allocate_oldest_first(p_tenant_id, v_id);
    END IF;
    PERFORM @extschema@._payment_notice(p_tenant_id, v_id, 'payment.received');
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_payment(bigint, jsonb) IS
    'Records money received from {"method": mpesa | card | cash | bank_transfer, "amount", optional "currency" (default the customer''s branch currency, else the tenant''s), "customer_id" (may be left out when "invoice_id" is given), "reference" (the provider''s transaction id), "received_at" (default now), "payer_phone", "payer_name", "collected_by_technician_id" (cash only), "invoice_id" (allocate to it at once), "allocate": "oldest_first" (allocate to the customer''s open invoices, oldest due first)}; what is not allocated stays as the customer''s credit. The same method and reference again returns the existing payment when amount, currency and customer agree. Returns the payment id.';

CREATE FUNCTION @extschema@.allocate_payment(p_tenant_id bigint, p_payment_id bigint, p_invoice_id bigint,
                                            p_amount numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    RETURN @extschema@._allocate(p_tenant_id, p_payment_id, p_invoice_id, p_amount);
END
$$;
COMMENT ON FUNCTION @extschema@.allocate_payment(bigint, bigint, bigint, numeric) IS
    'Applies part of a payment to an issued invoice of the same customer and currency; NULL amount: the smaller of what is left of the payment and the invoice''s balance. The payment and then the invoice are locked, so concurrent allocations never exceed either (WM012). Returns the allocation id.';

CREATE FUNCTION @extschema@.apply_customer_credit(p_tenant_id bigint, p_customer_id bigint) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_n integer := 0;
    r record;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_customer_id, 'customer');
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = p_customer_id),
        'customer', p_customer_id, p_tenant_id);
    -- every payment first (id order), then the invoices inside _allocate_oldest_first
    PERFORM 1 FROM @extschema@.payment p
     WHERE p.tenant_id = p_tenant_id AND p.customer_id = p_customer_id
       AND p.amount > coalesce((SELECT sum(a.amount) FROM @extschema@.payment_allocation a
                                 WHERE a.tenant_id = p.tenant_id AND a.payment_id = p.payment_id), 0)
     ORDER BY p.payment_id FOR UPDATE;
    FOR r IN SELECT u.payment_id FROM @extschema@.payment_unallocated u
              WHERE u.tenant_id = p_tenant_id AND u.customer_id = p_customer_id AND u.unallocated > 0
              ORDER BY u.received_at, u.payment_id LOOP
        v_n := v_n + @extschema@._allocate_oldest_first(p_tenant_id, r.payment_id);
    END LOOP;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION @extschema@.apply_customer_credit(bigint, bigint) IS
    'Allocates the customer''s unallocated payments (oldest received first) to their open invoices of the same currency (oldest due first); returns the number of allocations made (0 when there was nothing to do).';

CREATE FUNCTION @extschema@.match_payment(p_tenant_id bigint, p_payment_id bigint, p_customer_id bigint,
                                         p_invoice_id bigint DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_p @extschema@.payment;
    v_branch_id bigint;
    v_n integer;
BEGIN
    v_p := @extschema@._lock_payment(p_tenant_id, p_payment_id);
    IF v_p.status <> 'unmatched' THEN
        RAISE EXCEPTION 'payment % is already matched', p_payment_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It belongs to customer %s.', v_p.customer_id),
                  HINT = 'Only payments in womgr.unmatched_payments are matched by hand; use allocate_payment for the rest.';
    END IF;
    PERFORM @extschema@._require_id(p_customer_id, 'customer');
    SELECT c.branch_id INTO v_branch_id FROM @extschema@.customer c
     WHERE c.tenant_id = p_tenant_id AND c.customer_id = p_customer_id;
    PERFORM @extschema@._require_ref(FOUND, 'customer', p_customer_id::text, 'Check the customer id.');
    UPDATE @extschema@.payment
       SET customer_id = p_customer_id, status = 'matched', branch_id = coalesce(branch_id, v_branch_id),
           matched_by = @extschema@.current_actor(), matched_at = now()
     WHERE tenant_id = p_tenant_id AND payment_id = p_payment_id;
    IF p_invoice_id IS NOT NULL THEN
        PERFORM @extschema@._allocate(p_tenant_id, p_payment_id, p_invoice_id, NULL);
        v_n := 1;
    ELSE
        v_n := @extschema@._allocate_oldest_first(p_tenant_id, p_payment_id);
    END IF;
    PERFORM @extschema@._payment_notice(p_tenant_id, p_payment_id, 'payment.matched');
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION @extschema@.match_payment(bigint, bigint, bigint, bigint) IS
    'For the accountant: gives an unmatched payment its customer (recording who matched it and when) and allocates it to p_invoice_id, or when that is NULL to the customer''s open invoices oldest first; the rest is credit. Returns the number of allocations made.';

-- ---- M-Pesa --------------------------------------------------------------

CREATE FUNCTION @extschema@._mpesa_bad(p_what text, p_path text, p_problem text, p_detail text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_problem IS NULL THEN
        RAISE EXCEPTION '% has no "%"', p_what, p_path
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = coalesce(p_detail, 'The field is missing or null.'),
                  HINT = 'Pass the body exactly as Safaricom posted it.';
    END IF;
    RAISE EXCEPTION '% field "%" %', p_what, p_path, p_problem
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = coalesce(p_detail, 'Safaricom does not send such a value.'),
              HINT = 'Pass the body exactly as Safaricom posted it.';
END
$$;
COMMENT ON FUNCTION @extschema@._mpesa_bad(text, text, text, text) IS
    'Internal: raises invalid_parameter_value for a malformed M-Pesa payload, naming the JSON path (problem NULL: the field is missing).';

CREATE FUNCTION @extschema@._mpesa_amount(p_value jsonb, p_what text, p_path text) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    v numeric;
BEGIN
    IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
        PERFORM @extschema@._mpesa_bad(p_what, p_path, NULL, NULL);
    ELSIF jsonb_typeof(p_value) = 'number' THEN
        v := p_value::text::numeric;
    ELSIF jsonb_typeof(p_value) = 'string' AND btrim(p_value #>> '{}') ~ '^[0-9]{1,12}(\.[0-9]{1,2})?$' THEN
        v := btrim(p_value #>> '{}')::numeric;
    ELSE
        PERFORM @extschema@._mpesa_bad(p_what, p_path, 'must be a positive amount',
            format('It is %s.', p_value::text));
    END IF;
    IF v <= 0 OR v <> round(v, 2) THEN
        PERFORM @extschema@._mpesa_bad(p_what, p_path, 'must be a positive amount',
            format('It is %s.', v));
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION @extschema@._mpesa_amount(jsonb, text, text) IS
    'Internal: a positive amount of at most two decimals from an M-Pesa payload (JSON number or string such as "500.00").';

CREATE FUNCTION @extschema@._mpesa_time(p_value jsonb, p_what text, p_path text) RETURNS timestamptz
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v text;
BEGIN
    IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
        PERFORM @extschema@._mpesa_bad(p_what, p_path, NULL, NULL);
    END IF;
    v := CASE WHEN jsonb_typeof(p_value) IN ('number', 'string') THEN btrim(p_value #>> '{}') END;
    IF v ~ '^[0-9]{14}$' THEN
        BEGIN
            RETURN make_timestamp(substr(v, 1, 4)::int, substr(v, 5, 2)::int, substr(v, 7, 2)::int,
                                  substr(v, 9, 2)::int, substr(v, 11, 2)::int, substr(v, 13, 2)::int)
                   AT TIME ZONE 'Africa/Nairobi';
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            NULL;
        END;
    END IF;
    PERFORM @extschema@._mpesa_bad(p_what, p_path, 'is not a date and time YYYYMMDDHHMMSS',
        format('It is %s.', p_value::text));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._mpesa_time(jsonb, text, text) IS
    'Internal: an M-Pesa time YYYYMMDDHHMMSS (JSON number or string), which is Nairobi local time, as a timestamptz.';

CREATE FUNCTION @extschema@._mpesa_text(p_value jsonb, p_what text, p_path text, p_required boolean) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
        IF p_required THEN
            PERFORM @extschema@._mpesa_bad(p_what, p_path, NULL, NULL);
        END IF;
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_value) NOT IN ('string', 'number') OR btrim(p_value #>> '{}') = '' THEN
        PERFORM @extschema@._mpesa_bad(p_what, p_path, 'must be a non-empty string',
            format('It is %s.', p_value::text));
    END IF;
    RETURN btrim(p_value #>> '{}');
END
$$;
COMMENT ON FUNCTION @extschema@._mpesa_text(jsonb, text, text, boolean) IS
    'Internal: a non-empty string (or number, as text) field of an M-Pesa payload; NULL when absent and optional.';

CREATE FUNCTION @extschema@._mpesa_stk_parse(p_payload jsonb,
        OUT checkout_request text, OUT merchant_request text, OUT result_code integer, OUT result_desc text,
        OUT amount numeric, OUT receipt text, OUT transaction_at timestamptz, OUT phone text, OUT callback jsonb)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    c_what constant text := 'mpesa callback';
    c_cb constant text := 'Body.stkCallback';
    c_items constant text := 'Body.stkCallback.CallbackMetadata.Item';
    v_code jsonb;
    v_items jsonb;
    v_meta jsonb;
BEGIN
    IF p_payload IS NULL THEN
        RAISE EXCEPTION 'mpesa callback must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The callback body is required.',
                  HINT = 'Pass the JSON body Safaricom posted.';
    END IF;
    IF jsonb_typeof(p_payload) <> 'object' THEN
        RAISE EXCEPTION 'mpesa callback must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(p_payload)),
                  HINT = 'Pass the JSON body Safaricom posted: {"Body": {"stkCallback": {...}}}.';
    END IF;
    callback := p_payload #> '{Body,stkCallback}';
    IF callback IS NULL OR jsonb_typeof(callback) <> 'object' THEN
        PERFORM @extschema@._mpesa_bad(c_what, c_cb, NULL, 'The body must be {"Body": {"stkCallback": {...}}}.');
    END IF;
    IF jsonb_typeof(callback -> 'CheckoutRequestID') IS DISTINCT FROM 'string' THEN
        PERFORM @extschema@._mpesa_text(callback -> 'CheckoutRequestID', c_what, c_cb || '.CheckoutRequestID', true);
        PERFORM @extschema@._mpesa_bad(c_what, c_cb || '.CheckoutRequestID', 'must be a non-empty string',
            format('It is %s.', (callback -> 'CheckoutRequestID')::text));
    END IF;
    checkout_request := @extschema@._mpesa_text(callback -> 'CheckoutRequestID', c_what, c_cb || '.CheckoutRequestID', true);
    merchant_request := @extschema@._mpesa_text(callback -> 'MerchantRequestID', c_what, c_cb || '.MerchantRequestID', false);
    v_code := callback -> 'ResultCode';
    IF v_code IS NULL OR jsonb_typeof(v_code) = 'null' THEN
        PERFORM @extschema@._mpesa_bad(c_what, c_cb || '.ResultCode', NULL, NULL);
    END IF;
    IF NOT (jsonb_typeof(v_code) IN ('number', 'string') AND btrim(v_code #>> '{}') ~ '^-?[0-9]{1,9}$') THEN
        PERFORM @extschema@._mpesa_bad(c_what, c_cb || '.ResultCode', 'must be an integer', format('It is %s.', v_code::text));
    END IF;
    result_code := btrim(v_code #>> '{}')::integer;
    result_desc := callback ->> 'ResultDesc';
    IF result_code <> 0 THEN
        RETURN;
    END IF;
    v_items := callback #> '{CallbackMetadata,Item}';
    IF v_items IS NULL OR jsonb_typeof(v_items) = 'null' THEN
        PERFORM @extschema@._mpesa_bad(c_what, c_items, NULL, 'A successful callback (ResultCode 0) lists Amount, MpesaReceiptNumber and TransactionDate.');
    END IF;
    IF jsonb_typeof(v_items) <> 'array' THEN
        PERFORM @extschema@._mpesa_bad(c_what, c_items, 'must be an array', format('It is a JSON %s.', jsonb_typeof(v_items)));
    END IF;
    SELECT coalesce(jsonb_object_agg(e ->> 'Name', e -> 'Value'), '{}') INTO v_meta
      FROM jsonb_array_elements(v_items) e
     WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'Name') = 'string';
    amount := @extschema@._mpesa_amount(v_meta -> 'Amount', c_what, c_items || '[Amount]');
    receipt := @extschema@._mpesa_text(v_meta -> 'MpesaReceiptNumber', c_what, c_items || '[MpesaReceiptNumber]', true);
    transaction_at := @extschema@._mpesa_time(v_meta -> 'TransactionDate', c_what, c_items || '[TransactionDate]');
    phone := coalesce(@extschema@._msisdn(v_meta ->> 'PhoneNumber', c_what, false), v_meta ->> 'PhoneNumber');
END
$$;
COMMENT ON FUNCTION @extschema@._mpesa_stk_parse(jsonb) IS
    'Internal: validates an STK push callback body and returns its fields; raises 22004 (NULL) or 22023 naming the JSON path.';

CREATE FUNCTION @extschema@._mpesa_checkout_lock(p_tenant_id bigint, p_checkout_request_id text) RETURNS void
    LANGUAGE sql VOLATILE
    RETURN pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('womgr.mpesa_checkout:' || p_tenant_id || ':' || p_checkout_request_id, 0));
COMMENT ON FUNCTION @extschema@._mpesa_checkout_lock(bigint, text) IS
    'Internal: serialises everything done for one CheckoutRequestID (the callback and payment_request_sent), so a callback that overtakes payment_request_sent is matched by it.';

CREATE FUNCTION @extschema@._mpesa_payment(p_tenant_id bigint, p_receipt text, p_amount numeric, p_customer_id bigint,
                                           p_source text, p_received_at timestamptz, p_phone text, p_payer_name text,
                                           p_account_reference text, p_details jsonb)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_id bigint;
    v_existing @extschema@.payment;
BEGIN
    INSERT INTO @extschema@.payment AS p (tenant_id, method, source, status, customer_id, branch_id, amount, currency,
                                          reference, account_reference, payer_phone, payer_name, received_at,
                                          details, created_by)
    SELECT p_tenant_id, 'mpesa', p_source, CASE WHEN p_customer_id IS NULL THEN 'unmatched' ELSE 'matched' END,
           p_customer_id, c.branch_id, @extschema@._money(p_amount, 'KES'), 'KES', p_receipt, p_account_reference, p_phone, p_payer_name,
           p_received_at, p_details, @extschema@.current_actor()
      FROM (SELECT 1) one
      LEFT JOIN @extschema@.customer c ON c.tenant_id = p_tenant_id AND c.customer_id = p_customer_id
    ON CONFLICT (tenant_id, method, reference) WHERE reference IS NOT NULL DO NOTHING
    RETURNING p.payment_id INTO v_id;
    IF v_id IS NOT NULL THEN
        RETURN v_id;
    END IF;
    SELECT * INTO STRICT v_existing FROM @extschema@.payment
     WHERE tenant_id = p_tenant_id AND method = 'mpesa' AND reference = p_receipt;
    IF v_existing.amount <> p_amount THEN
        RAISE EXCEPTION 'mpesa receipt "%" is already recorded with another amount', p_receipt
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Payment %s has it for %s %s; this message says %s.', v_existing.payment_id,
                                  v_existing.amount, v_existing.currency, p_amount),
                  HINT = 'Check the message against the M-Pesa statement.';
    END IF;
    RETURN v_existing.payment_id;                -- the same transaction reported again (STK callback and C2B)
END
$$;
COMMENT ON FUNCTION @extschema@._mpesa_payment(bigint, text, numeric, bigint, text, timestamptz, text, text, text, jsonb) IS
    'Internal: the KES payment of an M-Pesa receipt, made once: a receipt seen before (an STK callback and a C2B confirmation of the same transaction) returns the existing payment when the amount agrees.';

CREATE FUNCTION @extschema@._settle_request(p_tenant_id bigint, p_request_id bigint, p_callback_id bigint) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.payment_request;
    v_c @extschema@.mpesa_callback;
    v_p @extschema@.payment;
    v_i @extschema@.invoice_balance;
BEGIN
    SELECT * INTO STRICT v_r FROM @extschema@.payment_request
     WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id FOR UPDATE;
    SELECT * INTO STRICT v_c FROM @extschema@.mpesa_callback
     WHERE tenant_id = p_tenant_id AND mpesa_callback_id = p_callback_id FOR UPDATE;
    IF v_c.result_code <> 0 THEN
        UPDATE @extschema@.payment_request
           SET status = 'failed', result_code = v_c.result_code, result_desc = v_c.result_desc, completed_at = now()
         WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id;
        UPDATE @extschema@.mpesa_callback SET outcome = 'failed', payment_request_id = p_request_id
         WHERE tenant_id = p_tenant_id AND mpesa_callback_id = p_callback_id;
        PERFORM @extschema@._outbox(p_tenant_id, 'payment.failed',
            jsonb_build_object('payment_request_id', p_request_id, 'kind', v_r.kind, 'invoice_id', v_r.invoice_id,
                               'customer_id', v_r.customer_id, 'phone', v_r.phone, 'amount', v_r.amount,
                               'currency', v_r.currency, 'result_code', v_c.result_code, 'result_desc', v_c.result_desc),
            (SELECT i.work_order_id FROM @extschema@.invoice i WHERE i.tenant_id = p_tenant_id AND i.invoice_id = v_r.invoice_id));
        RETURN NULL;
    END IF;
    v_p := @extschema@._lock_payment(p_tenant_id, v_c.payment_id);
    IF v_p.status = 'unmatched' THEN         -- recorded before the request was known
        UPDATE @extschema@.payment p
           SET customer_id = v_r.customer_id, status = 'matched',
               branch_id = (SELECT c.branch_id FROM @extschema@.customer c WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_r.customer_id),
               account_reference = coalesce(p.account_reference, v_r.account_reference)
         WHERE p.tenant_id = p_tenant_id AND p.payment_id = v_p.payment_id;
        v_p.customer_id := v_r.customer_id;
    END IF;
    SELECT * INTO v_i FROM @extschema@.invoice_balance b WHERE b.tenant_id = p_tenant_id AND b.invoice_id = v_r.invoice_id;
    IF v_p.customer_id = v_r.customer_id AND v_p.currency = v_i.currency AND v_i.balance > 0
       AND @extschema@._unallocated(p_tenant_id, v_p.payment_id) > 0 THEN
        PERFORM @extschema@._allocate(p_tenant_id, v_p.payment_id, v_r.invoice_id, NULL);
    END IF;
    UPDATE @extschema@.payment_request
       SET status = 'succeeded', result_code = 0, result_desc = v_c.result_desc, payment_id = v_p.payment_id, completed_at = now()
     WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id;
    UPDATE @extschema@.mpesa_callback SET outcome = 'succeeded', payment_request_id = p_request_id
     WHERE tenant_id = p_tenant_id AND mpesa_callback_id = p_callback_id;
    PERFORM @extschema@._payment_notice(p_tenant_id, v_p.payment_id, 'payment.received',
        jsonb_build_object('payment_request_id', p_request_id, 'invoice_id', v_r.invoice_id));
    RETURN v_p.payment_id;
END
$$;
COMMENT ON FUNCTION @extschema@._settle_request(bigint, bigint, bigint) IS
    'Internal: applies a logged STK callback to its request: success matches the payment to the request''s customer, allocates it to the invoice (the excess is credit), marks the request succeeded and writes payment.received; failure marks it failed and writes payment.failed. Returns the payment id or NULL.';

CREATE FUNCTION @extschema@.request_payment(p_tenant_id bigint, p_invoice_id bigint, p_kind text DEFAULT 'stk_push',
                                           p_phone text DEFAULT NULL, p_amount numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_i @extschema@.invoice_balance;
    v_kind text := p_kind;
    v_inv_kind text;
    v_inv_status text;
    v_phone text;
    v_max numeric;
    v_amount numeric;
    v_s @extschema@.billing_settings;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_invoice_id, 'invoice');
    IF v_kind IS NULL OR v_kind NOT IN ('stk_push', 'payment_link') THEN
        RAISE EXCEPTION 'payment request kind "%" is not known', v_kind
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Kinds are stk_push (an M-Pesa prompt on the customer''s phone) and payment_link.',
                  HINT = 'Pass ''stk_push'' or ''payment_link''.';
    END IF;
    SELECT i.kind, i.status INTO v_inv_kind, v_inv_status FROM @extschema@.invoice i
     WHERE i.tenant_id = p_tenant_id AND i.invoice_id = p_invoice_id;
    PERFORM @extschema@._require_row(FOUND, 'invoice', p_invoice_id, p_tenant_id);
    IF v_inv_kind <> 'invoice' OR v_inv_status <> 'issued' THEN
        RAISE EXCEPTION 'invoice % is a %', p_invoice_id, CASE WHEN v_inv_kind = 'credit_note' THEN 'credit note' ELSE 'draft' END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Payment is requested for issued invoices only.',
                  HINT = 'Issue the invoice first.';
    END IF;
    SELECT * INTO STRICT v_i FROM @extschema@.invoice_balance b WHERE b.tenant_id = p_tenant_id AND b.invoice_id = p_invoice_id;
    IF v_i.balance <= 0 THEN
        RAISE EXCEPTION 'invoice % is already settled', v_i.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its balance is %s %s.', v_i.balance, v_i.currency),
                  HINT = 'There is nothing to ask for.';
    END IF;
    IF p_phone IS NULL THEN
        SELECT c.phone INTO v_phone FROM @extschema@.customer c WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_i.customer_id;
        IF v_phone IS NULL THEN
            RAISE EXCEPTION 'customer % has no phone', v_i.customer_id
                USING ERRCODE = 'null_value_not_allowed',
                      DETAIL = 'The request is sent to a phone.',
                      HINT = 'Pass p_phone, or set the customer''s phone.';
        END IF;
    END IF;
    v_phone := @extschema@._msisdn(coalesce(p_phone, v_phone), 'payment request');
    SELECT * INTO v_s FROM @extschema@.billing_settings s WHERE s.tenant_id = p_tenant_id;
    IF v_kind = 'stk_push' THEN
        IF v_i.currency <> 'KES' THEN
            RAISE EXCEPTION 'invoice % is in %; M-Pesa charges KES only', v_i.number, v_i.currency
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'An STK push asks for Kenyan shillings.',
                      HINT = 'Send a payment link instead.';
        END IF;
        IF v_s.mpesa_paybill IS NULL AND v_s.mpesa_till IS NULL THEN
            RAISE EXCEPTION 'no M-Pesa paybill or till is set'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'An STK push charges the payer to the tenant''s paybill or till.',
                      HINT = 'Set mpesa_paybill or mpesa_till in the billing settings.';
        END IF;
        v_max := ceil(v_i.balance);               -- M-Pesa takes whole shillings; the cents over are credit
    ELSE
        v_max := v_i.balance;
    END IF;
    v_amount := coalesce(p_amount, v_max);
    IF v_amount <= 0 THEN
        RAISE EXCEPTION 'payment request amount must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', v_amount),
                  HINT = 'Pass NULL to ask for the balance.';
    END IF;
    IF v_kind = 'stk_push' AND v_amount <> trunc(v_amount) THEN
        RAISE EXCEPTION 'an M-Pesa STK push asks for whole shillings'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The amount is %s.', v_amount),
                  HINT = 'Round the amount; NULL asks for the balance rounded up.';
    END IF;
    IF v_amount <> @extschema@._money(v_amount, v_i.currency) THEN
        RAISE EXCEPTION 'payment request amount % has more decimals than % allows', v_amount, v_i.currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s has %s decimal places.', v_i.currency, @extschema@._currency_scale(v_i.currency)),
                  HINT = 'Round the amount to the currency''s minor unit.';
    END IF;
    IF v_amount > v_max THEN
        RAISE EXCEPTION 'payment request amount % is more than the balance of invoice %', v_amount, v_i.number
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The balance is %s %s.', v_i.balance, v_i.currency),
                  HINT = 'Ask for at most the balance; NULL asks for all of it.';
    END IF;
    v_amount := @extschema@._money(v_amount, v_i.currency);
    INSERT INTO @extschema@.payment_request AS r (tenant_id, kind, invoice_id, customer_id, phone, amount, currency,
                                                  account_reference, requested_by)
    VALUES (p_tenant_id, v_kind, p_invoice_id, v_i.customer_id, v_phone, v_amount, v_i.currency, v_i.number,
            @extschema@.current_actor())
    ON CONFLICT (tenant_id, invoice_id, kind) WHERE status = 'pending' DO NOTHING
    RETURNING r.payment_request_id INTO v_id;
    IF v_id IS NULL THEN
        SELECT r.payment_request_id INTO STRICT v_id FROM @extschema@.payment_request r
         WHERE r.tenant_id = p_tenant_id AND r.invoice_id = p_invoice_id AND r.kind = v_kind AND r.status = 'pending';
        RETURN v_id;                             -- asked already and not answered yet
    END IF;
    PERFORM @extschema@._outbox(p_tenant_id, 'payment.requested',
        jsonb_build_object('payment_request_id', v_id, 'kind', v_kind, 'invoice_id', p_invoice_id,
                           'customer_id', v_i.customer_id, 'phone', v_phone, 'amount', v_amount, 'currency', v_i.currency,
                           'account_reference', v_i.number, 'paybill', v_s.mpesa_paybill, 'till', v_s.mpesa_till,
                           'transaction_type', CASE WHEN v_s.mpesa_paybill IS NOT NULL THEN 'CustomerPayBillOnline'
                                                    WHEN v_s.mpesa_till IS NOT NULL THEN 'CustomerBuyGoodsOnline' END),
        v_i.work_order_id);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.request_payment(bigint, bigint, text, text, numeric) IS
    'Asks the customer to pay an issued invoice: p_kind stk_push (M-Pesa prompt; KES, whole shillings, needs a paybill or till in the billing settings) or payment_link; p_phone defaults to the customer''s phone and is stored as 2547XXXXXXXX / 2541XXXXXXXX; p_amount defaults to the balance (rounded up to whole shillings for an STK push) and may not exceed it. Writes outbox payment.requested (request id, kind, phone, amount, currency, account_reference = invoice number, paybill, till, transaction_type) for the app tier that calls Safaricom. While a request of the same kind for the invoice is pending, returns that one. Returns the request id.';

CREATE FUNCTION @extschema@.payment_request_sent(p_tenant_id bigint, p_request_id bigint, p_merchant_request_id text,
                                                p_checkout_request_id text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.payment_request;
    v_callback_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_request_id, 'payment request');
    IF p_merchant_request_id IS NULL OR p_checkout_request_id IS NULL THEN
        RAISE EXCEPTION 'merchant and checkout request ids must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('MerchantRequestID is %s, CheckoutRequestID is %s.',
                                  coalesce(p_merchant_request_id, 'null'), coalesce(p_checkout_request_id, 'null')),
                  HINT = 'Pass both ids from Safaricom''s answer to the STK push.';
    END IF;
    IF btrim(p_merchant_request_id) = '' OR btrim(p_checkout_request_id) = '' THEN
        RAISE EXCEPTION 'merchant and checkout request ids must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'One of them is blank.',
                  HINT = 'Pass both ids from Safaricom''s answer to the STK push.';
    END IF;
    PERFORM @extschema@._mpesa_checkout_lock(p_tenant_id, p_checkout_request_id);
    SELECT * INTO v_r FROM @extschema@.payment_request
     WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'payment request', p_request_id, p_tenant_id);
    IF v_r.checkout_request IS NOT NULL THEN
        IF v_r.checkout_request = p_checkout_request_id AND v_r.merchant_request = p_merchant_request_id THEN
            RETURN;                              -- told twice
        END IF;
        RAISE EXCEPTION 'payment request % was sent already', p_request_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It has CheckoutRequestID %s.', v_r.checkout_request),
                  HINT = 'Ask again with womgr.request_payment() once this request is answered.';
    END IF;
    IF v_r.status <> 'pending' THEN
        RAISE EXCEPTION 'payment request % is %', p_request_id, v_r.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only pending requests are sent.',
                  HINT = 'Ask again with womgr.request_payment().';
    END IF;
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.payment_request
                 WHERE tenant_id = p_tenant_id AND checkout_request = p_checkout_request_id),
        'payment request', 'CheckoutRequestID', p_checkout_request_id);
    UPDATE @extschema@.payment_request
       SET merchant_request = p_merchant_request_id, checkout_request = p_checkout_request_id, sent_at = now()
     WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id;
    -- the callback overtook us: settle the request with it now
    SELECT c.mpesa_callback_id INTO v_callback_id FROM @extschema@.mpesa_callback c
     WHERE c.tenant_id = p_tenant_id AND c.checkout_request = p_checkout_request_id AND c.outcome = 'unmatched';
    IF FOUND THEN
        PERFORM @extschema@._settle_request(p_tenant_id, p_request_id, v_callback_id);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.payment_request_sent(bigint, bigint, text, text) IS
    'The app tier reports the MerchantRequestID and CheckoutRequestID Safaricom returned for a pending request (the checkout id is unique per tenant; the same ids again change nothing). A callback that arrived before this call is applied to the request now.';

CREATE FUNCTION @extschema@.payment_request_failed(p_tenant_id bigint, p_request_id bigint, p_reason text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.payment_request;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_request_id, 'payment request');
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a failed payment request needs a reason'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The accountant and the customer need to know why no prompt was sent.',
                  HINT = 'Pass Safaricom''s errorMessage, or what went wrong.';
    END IF;
    SELECT * INTO v_r FROM @extschema@.payment_request
     WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'payment request', p_request_id, p_tenant_id);
    IF v_r.status <> 'pending' OR v_r.checkout_request IS NOT NULL THEN
        RAISE EXCEPTION 'payment request % is %', p_request_id, CASE WHEN v_r.status = 'pending' THEN 'sent' ELSE v_r.status END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only a pending request Safaricom never accepted can be marked failed; a sent one is settled by its callback.',
                  HINT = 'Wait for the callback (a timeout arrives as ResultCode 1037).';
    END IF;
    UPDATE @extschema@.payment_request SET status = 'failed', result_desc = p_reason, completed_at = now()
     WHERE tenant_id = p_tenant_id AND payment_request_id = p_request_id;
    PERFORM @extschema@._outbox(p_tenant_id, 'payment.failed',
        jsonb_build_object('payment_request_id', p_request_id, 'kind', v_r.kind, 'invoice_id', v_r.invoice_id,
                           'customer_id', v_r.customer_id, 'phone', v_r.phone, 'amount', v_r.amount,
                           'currency', v_r.currency, 'result_code', NULL, 'result_desc', p_reason),
        (SELECT i.work_order_id FROM @extschema@.invoice i WHERE i.tenant_id = p_tenant_id AND i.invoice_id = v_r.invoice_id));
END
$$;
COMMENT ON FUNCTION @extschema@.payment_request_failed(bigint, bigint, text) IS
    'The app tier reports that Safaricom refused a pending request before sending the prompt (the STK push call failed): the request is marked failed with the reason (no result code) and payment.failed is written, so a new request can be made.';

CREATE FUNCTION @extschema@.record_mpesa_callback(p_tenant_id bigint, p_payload jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v record;
    v_r @extschema@.payment_request;
    v_c @extschema@.mpesa_callback;
    v_payment_id bigint;
    v_callback_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    v := @extschema@._mpesa_stk_parse(p_payload);
    PERFORM @extschema@._mpesa_checkout_lock(p_tenant_id, v.checkout_request);
    SELECT * INTO v_c FROM @extschema@.mpesa_callback c
     WHERE c.tenant_id = p_tenant_id AND c.checkout_request = v.checkout_request;
    IF FOUND THEN
        IF v_c.result_code = v.result_code AND v_c.receipt IS NOT DISTINCT FROM v.receipt
           AND v_c.amount IS NOT DISTINCT FROM v.amount THEN
            RETURN v_c.payment_id;               -- Safaricom posted it again
        END IF;
        RAISE EXCEPTION 'mpesa callback for CheckoutRequestID "%" was recorded already with another result', v.checkout_request
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Callback %s has ResultCode %s and receipt %s; this one has ResultCode %s and receipt %s.',
                                  v_c.mpesa_callback_id, v_c.result_code, coalesce(v_c.receipt, '(none)'),
                                  v.result_code, coalesce(v.receipt, '(none)')),
                  HINT = 'A checkout is answered once; check the callback''s origin.';
    END IF;
    SELECT * INTO v_r FROM @extschema@.payment_request r
     WHERE r.tenant_id = p_tenant_id AND r.checkout_request = v.checkout_request FOR UPDATE;
    IF v.result_code = 0 THEN
        v_payment_id := @extschema@._mpesa_payment(p_tenant_id, v.receipt, v.amount, v_r.customer_id, 'stk_push',
            v.transaction_at, v.phone, NULL, v_r.account_reference, v.callback);
    END IF;
    INSERT INTO @extschema@.mpesa_callback (tenant_id, checkout_request, merchant_request, result_code, result_desc,
                                            amount, receipt, transaction_at, phone, outcome, payment_id, payload)
    VALUES (p_tenant_id, v.checkout_request, v.merchant_request, v.result_code, v.result_desc,
            v.amount, v.receipt, v.transaction_at, v.phone, 'unmatched', v_payment_id, p_payload)
    RETURNING mpesa_callback_id INTO v_callback_id;
    IF v_r.payment_request_id IS NOT NULL THEN
        RETURN @extschema@._settle_request(p_tenant_id, v_r.payment_request_id, v_callback_id);
    END IF;
    IF v_payment_id IS NOT NULL THEN
        PERFORM @extschema@._payment_notice(p_tenant_id, v_payment_id, 'payment.received');
    END IF;
    RETURN v_payment_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_mpesa_callback(bigint, jsonb) IS
    'Records an M-Pesa STK push callback exactly as Safaricom posts it ({"Body": {"stkCallback": {"MerchantRequestID", "CheckoutRequestID", "ResultCode", "ResultDesc", "CallbackMetadata": {"Item": [{"Name", "Value"}, ...]}}}}) in womgr.mpesa_callback, once per CheckoutRequestID. ResultCode 0: records the payment (mpesa, stk_push, reference = MpesaReceiptNumber, received_at = TransactionDate in Nairobi time), allocates it to the request''s invoice (the excess is credit), marks the request succeeded, writes payment.received and returns the payment id. Other codes: marks the request failed with the code and description, writes payment.failed and returns NULL. A callback no request knows is kept as unmatched (a paid one as an unmatched payment). Malformed bodies raise 22023 naming the JSON path and record nothing; the same callback again returns the same result.';

CREATE FUNCTION @extschema@.record_mpesa_c2b(p_tenant_id bigint, p_payload jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'mpesa c2b confirmation';
    v_trans_id text;
    v_amount numeric;
    v_time timestamptz;
    v_ref text;
    v_phone text;
    v_name text;
    v_invoice_id bigint;
    v_customer_id bigint;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_payload IS NULL THEN
        RAISE EXCEPTION 'mpesa c2b confirmation must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The confirmation body is required.',
                  HINT = 'Pass the JSON body Safaricom posted to the confirmation URL.';
    END IF;
    IF jsonb_typeof(p_payload) <> 'object' THEN
        RAISE EXCEPTION 'mpesa c2b confirmation must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(p_payload)),
                  HINT = 'Pass the JSON body Safaricom posted to the confirmation URL.';
    END IF;
    v_trans_id := @extschema@._mpesa_text(p_payload -> 'TransID', c_what, 'TransID', true);
    v_amount := @extschema@._mpesa_amount(p_payload -> 'TransAmount', c_what, 'TransAmount');
    v_time := @extschema@._mpesa_time(p_payload -> 'TransTime', c_what, 'TransTime');
    v_ref := upper(nullif(btrim(p_payload ->> 'BillRefNumber'), ''));  -- empty for till (Buy Goods) payments
    v_phone := @extschema@._msisdn(p_payload ->> 'MSISDN', c_what, false);
    v_name := nullif(concat_ws(' ', nullif(btrim(p_payload ->> 'FirstName'), ''), nullif(btrim(p_payload ->> 'MiddleName'), ''),
                               nullif(btrim(p_payload ->> 'LastName'), '')), '');
    IF v_ref IS NOT NULL THEN
        SELECT i.invoice_id, i.customer_id INTO v_invoice_id, v_customer_id FROM @extschema@.invoice i
         WHERE i.tenant_id = p_tenant_id AND i.number = v_ref AND i.kind = 'invoice' AND i.status = 'issued';
        IF v_customer_id IS NULL THEN
            SELECT min(c.customer_id) INTO v_customer_id FROM @extschema@.customer c
             WHERE c.tenant_id = p_tenant_id AND upper(btrim(c.account_code)) = v_ref
            HAVING count(*) = 1;
        END IF;
    END IF;
    SELECT p.payment_id INTO v_id FROM @extschema@.payment p
     WHERE p.tenant_id = p_tenant_id AND p.method = 'mpesa' AND p.reference = v_trans_id;
    IF FOUND THEN
        RETURN @extschema@._mpesa_payment(p_tenant_id, v_trans_id, v_amount, NULL, 'c2b', v_time, v_phone, v_name,
                                          v_ref, p_payload);  -- the same TransID again: the existing payment
    END IF;
    v_id := @extschema@._mpesa_payment(p_tenant_id, v_trans_id, v_amount, v_customer_id, 'c2b', v_time, v_phone, v_name,
                                       v_ref, p_payload);
    IF v_invoice_id IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM @extschema@.invoice_balance b
                    WHERE b.tenant_id = p_tenant_id AND b.invoice_id = v_invoice_id AND b.balance > 0 AND b.currency = 'KES') THEN
            PERFORM @extschema@._allocate(p_tenant_id, v_id, v_invoice_id, NULL);
        END IF;
    ELSIF v_customer_id IS NOT NULL THEN
        PERFORM @extschema@._allocate_oldest_first(p_tenant_id, v_id);
    END IF;
    PERFORM @extschema@._payment_notice(p_tenant_id, v_id, 'payment.received');
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_mpesa_c2b(bigint, jsonb) IS
    'Records an M-Pesa C2B confirmation (paybill or till) as Safaricom posts it (TransactionType, TransID, TransTime YYYYMMDDHHMMSS Nairobi time, TransAmount, BusinessShortCode, BillRefNumber, MSISDN, FirstName, ...) as a KES payment, once per TransID. BillRefNumber (trimmed, any case) equal to an issued invoice''s number: paid by that invoice''s customer and allocated to it (the excess is credit); else equal to a customer''s account_code: allocated to that customer''s invoices oldest first; else the payment waits in womgr.unmatched_payments. Malformed bodies raise 22023 naming the field. Returns the payment id.';

-- ---- Views ---------------------------------------------------------------

CREATE VIEW @extschema@.payment_unallocated WITH (security_barrier) AS
SELECT p.tenant_id, p.payment_id, p.customer_id, p.status, p.method, p.source, p.currency, p.received_at, p.reference,
       p.amount,
       coalesce(a.allocated, 0) AS allocated,
       p.amount - coalesce(a.allocated, 0) AS unallocated
  FROM @extschema@.payment p
  LEFT JOIN LATERAL (SELECT sum(x.amount) AS allocated FROM @extschema@.payment_allocation x
                      WHERE x.tenant_id = p.tenant_id AND x.payment_id = p.payment_id) a ON true;
COMMENT ON VIEW @extschema@.payment_unallocated IS 'Every payment with what is allocated to invoices and what is left (the customer''s credit).';
COMMENT ON COLUMN @extschema@.payment_unallocated.amount IS 'Amount received.';
COMMENT ON COLUMN @extschema@.payment_unallocated.allocated IS 'Sum of the payment''s allocations to invoices.';
COMMENT ON COLUMN @extschema@.payment_unallocated.unallocated IS 'amount - allocated: credit still to apply (womgr.apply_customer_credit).';

CREATE VIEW @extschema@.unmatched_payments WITH (security_barrier) AS
SELECT p.tenant_id, p.payment_id, p.method, p.source, p.amount, p.currency, p.reference, p.account_reference,
       p.payer_phone, p.payer_name, p.received_at, p.details
  FROM @extschema@.payment p
 WHERE p.status = 'unmatched';
COMMENT ON VIEW @extschema@.unmatched_payments IS
    'The accountant''s queue: payments whose customer is unknown (an M-Pesa C2B account reference that names no invoice or customer, an STK callback no request knows). Resolve with womgr.match_payment().';
COMMENT ON COLUMN @extschema@.unmatched_payments.account_reference IS 'What the payer typed as the account (BillRefNumber), upper-cased.';
COMMENT ON COLUMN @extschema@.unmatched_payments.details IS 'The provider''s message as received.';

CREATE VIEW @extschema@.customer_balance WITH (security_barrier) AS
WITH inv AS (
    SELECT i.tenant_id, i.customer_id, i.currency,
           sum(i.total) FILTER (WHERE i.kind = 'invoice') AS invoiced,
           sum(i.total) FILTER (WHERE i.kind = 'credit_note') AS credited
      FROM @extschema@.invoice i
     WHERE i.status = 'issued'
     GROUP BY i.tenant_id, i.customer_id, i.currency),
due AS (
    SELECT b.tenant_id, b.customer_id, b.currency, sum(b.balance) AS balance_due
      FROM @extschema@.invoice_balance b
     GROUP BY b.tenant_id, b.customer_id, b.currency),
pay AS (
    SELECT u.tenant_id, u.customer_id, u.currency, sum(u.amount) AS paid, sum(u.unallocated) AS unallocated
      FROM @extschema@.payment_unallocated u
     WHERE u.status = 'matched'
     GROUP BY u.tenant_id, u.customer_id, u.currency),
k AS (
    SELECT inv.tenant_id, inv.customer_id, inv.currency FROM inv
    UNION
    SELECT pay.tenant_id, pay.customer_id, pay.currency FROM pay)
SELECT k.tenant_id, k.customer_id, c.name AS customer_name, k.currency,
       coalesce(inv.invoiced, 0) AS invoiced,
       coalesce(inv.credited, 0) AS credited,
       coalesce(pay.paid, 0) AS paid,
       coalesce(due.balance_due, 0) AS balance_due,
       coalesce(pay.unallocated, 0) AS unallocated_credit
  FROM k
  JOIN @extschema@.customer c ON c.tenant_id = k.tenant_id AND c.customer_id = k.customer_id
  LEFT JOIN inv ON inv.tenant_id = k.tenant_id AND inv.customer_id = k.customer_id AND inv.currency = k.currency
  LEFT JOIN due ON due.tenant_id = k.tenant_id AND due.customer_id = k.customer_id AND due.currency = k.currency
  LEFT JOIN pay ON pay.tenant_id = k.tenant_id AND pay.customer_id = k.customer_id AND pay.currency = k.currency;
COMMENT ON VIEW @extschema@.customer_balance IS
    'Per customer and currency: what was invoiced and credited (issued documents), paid (matched payments received), still due on invoices, and received but not yet allocated. balance_due - unallocated_credit is what the customer owes net.';
COMMENT ON COLUMN @extschema@.customer_balance.invoiced IS 'Sum of the totals of issued invoices.';
COMMENT ON COLUMN @extschema@.customer_balance.credited IS 'Sum of the totals of issued credit notes.';
COMMENT ON COLUMN @extschema@.customer_balance.paid IS 'Sum of the customer''s payments (allocated or not).';
COMMENT ON COLUMN @extschema@.customer_balance.balance_due IS 'Sum of the balances of issued invoices: invoiced - credited - allocated payments.';
COMMENT ON COLUMN @extschema@.customer_balance.unallocated_credit IS 'Money received and not yet allocated: the customer''s credit.';

CREATE FUNCTION @extschema@.receivables_aging(p_tenant_id bigint, p_as_of date DEFAULT current_date)
    RETURNS TABLE (tenant_id bigint, invoice_id bigint, customer_id bigint, customer_name text, number text,
                   currency text, issue_date date, due_date date, total numeric, balance numeric,
                   days_overdue integer, bucket text)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_as_of IS NULL THEN
        RAISE EXCEPTION 'aging date must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Days overdue are counted up to this date.',
                  HINT = 'Omit it for today.';
    END IF;
    RETURN QUERY
    SELECT b.tenant_id, b.invoice_id, b.customer_id, c.name, b.number, b.currency::text, b.issue_date, b.due_date,
           b.total, b.balance, d.days,
           CASE WHEN d.days <= 0 THEN 'current' WHEN d.days <= 30 THEN '1-30' WHEN d.days <= 60 THEN '31-60'
                WHEN d.days <= 90 THEN '61-90' ELSE '90+' END
      FROM @extschema@.invoice_balance b
      JOIN @extschema@.customer c ON c.tenant_id = b.tenant_id AND c.customer_id = b.customer_id
      CROSS JOIN LATERAL (SELECT greatest(p_as_of - coalesce(b.due_date, b.issue_date), 0) AS days) d
     WHERE b.tenant_id = p_tenant_id AND b.balance > 0
     ORDER BY coalesce(b.due_date, b.issue_date), b.invoice_id;
END
$$;
COMMENT ON FUNCTION @extschema@.receivables_aging(bigint, date) IS
    'Open invoices (balance > 0) of a tenant aged as of p_as_of (default today): days past the due date (0 when not yet due) and the bucket current, 1-30, 31-60, 61-90 or 90+.';

CREATE VIEW @extschema@.receivables_aging WITH (security_barrier) AS
SELECT r.*
  FROM @extschema@.tenant t
 CROSS JOIN LATERAL @extschema@.receivables_aging(t.tenant_id, current_date) r;
COMMENT ON VIEW @extschema@.receivables_aging IS
    'Open invoices aged as of today (womgr.receivables_aging(tenant, date) for another date): balance, days overdue and bucket.';
COMMENT ON COLUMN @extschema@.receivables_aging.balance IS 'What is still due (womgr.invoice_balance).';
COMMENT ON COLUMN @extschema@.receivables_aging.days_overdue IS 'Days past the due date (the issue date when there is none); 0 when not yet due.';
COMMENT ON COLUMN @extschema@.receivables_aging.bucket IS 'current (not overdue), 1-30, 31-60, 61-90 or 90+ days overdue.';
