-- Escrow milestones (create, deposit, hold, approve, release, refund,
-- cancel, invoice) and the technicians' daily cash reconciliation.  Every
-- escrow move locks its milestone row, checks the move against the status
-- and balances, changes the balances, appends an escrow_movement and writes
-- an escrow.<kind> outbox notice, all in one transaction.

CREATE FUNCTION @extschema@._milestone_state(p_m @extschema@.milestone) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN format('Milestone %s is %s; of %s %s: deposited %s, held %s, released %s, refunded %s.',
                  p_m.milestone_id, p_m.status, p_m.currency, p_m.amount,
                  p_m.deposited, p_m.held, p_m.released, p_m.refunded);
COMMENT ON FUNCTION @extschema@._milestone_state(@extschema@.milestone) IS
    'Internal: a milestone''s status and escrow balances in words, for the DETAIL of a refused move.';

CREATE FUNCTION @extschema@._escrow_refuse(p_m @extschema@.milestone, p_errcode text, p_message text, p_hint text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    RAISE EXCEPTION '%', p_message
        USING ERRCODE = p_errcode,
              DETAIL = @extschema@._milestone_state(p_m),
              HINT = p_hint;
END
$$;
COMMENT ON FUNCTION @extschema@._escrow_refuse(@extschema@.milestone, text, text, text) IS
    'Internal: raises a refused escrow move (WM013 for balances and approval, 55000 for state) with the milestone''s state as DETAIL.';

CREATE FUNCTION @extschema@._lock_milestone(p_tenant_id bigint, p_milestone_id bigint)
    RETURNS @extschema@.milestone
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_milestone_id, 'milestone');
    SELECT * INTO v_m FROM @extschema@.milestone
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'milestone', p_milestone_id, p_tenant_id);
    RETURN v_m;
END
$$;
COMMENT ON FUNCTION @extschema@._lock_milestone(bigint, bigint) IS
    'Internal: a milestone of the tenant, locked FOR UPDATE to the end of the transaction so escrow moves on it run one at a time; raises 22004 for a NULL tenant or id, 23503 for an unknown tenant, P0002 for an unknown milestone.';

CREATE FUNCTION @extschema@._escrow_amount(p_amount numeric, p_currency text, p_what text) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_amount IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_what
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('The %s is an amount in %s.', p_what, p_currency),
                  HINT = format('Pass the %s.', p_what);
    END IF;
    IF p_amount <= 0 THEN
        RAISE EXCEPTION '% must be positive', p_what
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', p_amount),
                  HINT = 'Escrow amounts are greater than zero; a refund is its own move (womgr.escrow_refund).';
    END IF;
    IF p_amount >= 1e12 OR p_amount <> @extschema@._money(p_amount, p_currency) THEN
        RAISE EXCEPTION '% % is not an amount of %', p_what, p_amount, p_currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s amounts have %s decimal places and are below 10^12.', p_currency,
                                  @extschema@._currency_scale(p_currency)),
                  HINT = 'Round the amount to the currency''s minor unit.';
    END IF;
    RETURN @extschema@._money(p_amount, p_currency);
END
$$;
COMMENT ON FUNCTION @extschema@._escrow_amount(numeric, text, text) IS
    'Internal: checks an escrow amount: not NULL (22004), positive and in the currency''s minor unit (22023); returns it at the currency''s scale.';

CREATE FUNCTION @extschema@._escrow_require_live(p_m @extschema@.milestone, p_doing text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_m.status = 'cancelled' THEN
        PERFORM @extschema@._escrow_refuse(p_m, '55000', format('cannot %s: milestone %s is cancelled', p_doing, p_m.milestone_id),
            'A cancelled milestone takes no more escrow moves.');
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._escrow_require_live(@extschema@.milestone, text) IS 'Internal: raises 55000 for a move on a cancelled milestone.';

CREATE FUNCTION @extschema@._escrow_pay(p_m @extschema@.milestone, p_movement_id bigint, p_amount numeric)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_inv @extschema@.invoice;
    v_wo @extschema@.work_order;
    v_payment bigint;
    v_balance numeric;
BEGIN
    SELECT * INTO v_inv FROM @extschema@.invoice
     WHERE tenant_id = p_m.tenant_id AND milestone_id = p_m.milestone_id AND kind = 'invoice' AND status = 'issued'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;                         -- paid when the milestone is invoiced (invoice_milestone)
    END IF;
    IF v_inv.currency <> p_m.currency THEN
        RAISE EXCEPTION 'invoice % is in %, milestone % in %', v_inv.number, v_inv.currency, p_m.milestone_id, p_m.currency
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'An escrow release is paid to the milestone''s invoice in the same currency.',
                  HINT = 'Credit the invoice and invoice the milestone again in its currency.';
    END IF;
    SELECT * INTO v_wo FROM @extschema@.work_order WHERE tenant_id = p_m.tenant_id AND work_order_id = p_m.work_order_id;
    INSERT INTO @extschema@.payment (tenant_id, method, source, status, customer_id, branch_id, amount, currency,
                                     reference, received_at, details, created_by)
    VALUES (p_m.tenant_id, 'escrow', 'escrow', 'matched', v_wo.customer_id, v_wo.branch_id, p_amount, p_m.currency,
            'ESCROW-' || p_movement_id, now(),
            jsonb_build_object('milestone_id', p_m.milestone_id, 'movement_id', p_movement_id),
            @extschema@.current_actor())
    RETURNING payment_id INTO v_payment;
    SELECT b.balance INTO v_balance FROM @extschema@.invoice_balance b
     WHERE b.tenant_id = p_m.tenant_id AND b.invoice_id = v_inv.invoice_id;
    IF v_balance > 0 THEN
        -- as much as the invoice's balance allows, through the one allocation path
        PERFORM @extschema@._allocate(p_m.tenant_id, v_payment, v_inv.invoice_id, NULL);
    END IF;
    RETURN v_payment;
END
$$;
COMMENT ON FUNCTION @extschema@._escrow_pay(@extschema@.milestone, bigint, numeric) IS
    'Internal: when the milestone has an issued invoice, records a released amount as a payment (method and source escrow, the work order''s customer, reference ESCROW-<movement id>) and allocates it to the invoice (locked) up to its balance; the rest is the customer''s credit. Returns the payment id, or NULL when there is no issued invoice yet.';

CREATE FUNCTION @extschema@._escrow_move(p_m @extschema@.milestone, p_kind text, p_amount numeric,
                                        p_from_held numeric, p_from_deposited numeric, p_reference text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_id bigint;
    v_payment bigint;
BEGIN
    INSERT INTO @extschema@.escrow_movement (tenant_id, milestone_id, kind, amount, from_held, from_deposited, reference, actor)
    VALUES (p_m.tenant_id, p_m.milestone_id, p_kind, p_amount, p_from_held, p_from_deposited, p_reference,
            @extschema@.current_actor())
    RETURNING movement_id INTO v_id;
    IF p_kind = 'release' THEN
        v_payment := @extschema@._escrow_pay(p_m, v_id, p_amount);
    END IF;
    PERFORM @extschema@._outbox(p_m.tenant_id, 'escrow.' || p_kind,
        jsonb_build_object('milestone_id', p_m.milestone_id, 'work_order_id', p_m.work_order_id, 'movement_id', v_id,
                           'kind', p_kind, 'amount', p_amount, 'currency', p_m.currency, 'reference', p_reference,
                           'payment_id', v_payment, 'status', p_m.status, 'deposited', p_m.deposited, 'held', p_m.held,
                           'released', p_m.released, 'refunded', p_m.refunded),
        p_m.work_order_id);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._escrow_move(@extschema@.milestone, text, numeric, numeric, numeric, text) IS
    'Internal: appends an escrow movement for a milestone (p_m: the milestone after the move), records a release as a payment to the milestone''s issued invoice (womgr._escrow_pay), and writes the escrow.<kind> outbox notice with the balances after the move; returns the movement id.';

CREATE FUNCTION @extschema@.create_milestones(p_tenant_id bigint, p_work_order_id bigint, p_milestones jsonb)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'milestone';
    v_wo @extschema@.work_order;
    v_currency text;
    v_elem jsonb;
    v_names text[] := '{}';
    v_amounts numeric[] := '{}';
    v_amount numeric;
    v_total numeric := 0;
    v_n integer;
BEGIN
    v_wo := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    IF p_milestones IS NULL THEN
        RAISE EXCEPTION 'milestones must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The work order is split into the milestones given.',
                  HINT = 'Pass a JSON array such as [{"name": "Deposit", "amount": 5000}].';
    END IF;
    IF jsonb_typeof(p_milestones) <> 'array' OR jsonb_array_length(p_milestones) NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'milestones must be a JSON array of 1 to 100 milestones'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is a JSON %s%s.', jsonb_typeof(p_milestones),
                                  CASE WHEN jsonb_typeof(p_milestones) = 'array'
                                       THEN format(' of %s elements', jsonb_array_length(p_milestones)) ELSE '' END),
                  HINT = 'Pass a JSON array such as [{"name": "Deposit", "amount": 5000}].';
    END IF;
    PERFORM @extschema@._require_open(v_wo, 'add milestones to');
    IF EXISTS (SELECT 1 FROM @extschema@.milestone WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id) THEN
        RAISE EXCEPTION 'work order % already has milestones', v_wo.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It has %s milestones.', (SELECT count(*) FROM @extschema@.milestone
                                                            WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id)),
                  HINT = 'A work order is split into milestones once; see womgr.milestone_status.';
    END IF;
    -- The currency of the branch the invoice will be in (create_invoice: the
    -- work order's branch, else the customer's), else the tenant's.
    SELECT coalesce(b.currency, t.currency) INTO v_currency
      FROM @extschema@.tenant t
      JOIN @extschema@.customer c ON c.tenant_id = t.tenant_id AND c.customer_id = v_wo.customer_id
      LEFT JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = coalesce(v_wo.branch_id, c.branch_id)
     WHERE t.tenant_id = p_tenant_id;
    FOR v_elem IN SELECT e FROM jsonb_array_elements(p_milestones) e LOOP
        PERFORM @extschema@._spec_keys(v_elem, ARRAY['name', 'amount'], c_what);
        v_names := v_names || @extschema@._spec_text(v_elem, 'name', true, c_what);
        v_amount := @extschema@._escrow_amount(@extschema@._spec_numeric(v_elem, 'amount', true, c_what), v_currency,
                                               'milestone amount');
        v_amounts := v_amounts || v_amount;
        v_total := v_total + v_amount;
    END LOOP;
    IF v_total > v_wo.quoted_amount THEN
        RAISE EXCEPTION 'milestones add up to more than the quote of work order %', v_wo.number
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('They add up to %s %s; the quoted amount is %s.', v_currency, v_total, v_wo.quoted_amount),
                  HINT = 'Lower the milestone amounts, or raise the quote with womgr.update_work_order().';
    END IF;
    v_n := cardinality(v_names);
    INSERT INTO @extschema@.milestone (tenant_id, work_order_id, seq, name, amount, currency, created_by)
    SELECT p_tenant_id, p_work_order_id, i, v_names[i], v_amounts[i], v_currency, @extschema@.current_actor()
      FROM generate_series(1, v_n) i;
    PERFORM @extschema@._log_event(p_tenant_id, p_work_order_id, 'milestones_created',
        jsonb_build_object('count', v_n, 'total', v_total, 'currency', v_currency));
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION @extschema@.create_milestones(bigint, bigint, jsonb) IS
    'Splits an open work order into escrow milestones, numbered 1.. in the order given: p_milestones is a JSON array of {"name", "amount"} (amount > 0, VAT included, in the branch''s currency). Their sum may not exceed the work order''s quoted_amount when it has one. A work order is split once. Returns the number of milestones.';

CREATE FUNCTION @extschema@.escrow_deposit(p_tenant_id bigint, p_milestone_id bigint, p_amount numeric,
                                          p_reference text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
    v_prior @extschema@.escrow_movement;
    v_amount numeric;
    v_room numeric;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    v_amount := @extschema@._escrow_amount(p_amount, v_m.currency, 'deposit amount');
    IF btrim(p_reference) = '' THEN
        RAISE EXCEPTION 'deposit reference must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The reference is the custodian''s or provider''s transaction id.',
                  HINT = 'Pass the reference, or NULL when there is none.';
    END IF;
    SELECT * INTO v_prior FROM @extschema@.escrow_movement
     WHERE tenant_id = p_tenant_id AND kind = 'deposit' AND reference = p_reference;
    IF FOUND THEN
        IF v_prior.milestone_id = p_milestone_id AND v_prior.amount = v_amount THEN
            RETURN v_prior.movement_id;      -- the same deposit again (a retried callback)
        END IF;
        RAISE EXCEPTION 'deposit reference "%" is already used', p_reference
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Movement %s deposited %s to milestone %s with it.', v_prior.movement_id, v_prior.amount,
                                  v_prior.milestone_id),
                  HINT = 'A provider''s transaction is deposited once; check the reference.';
    END IF;
    PERFORM @extschema@._escrow_require_live(v_m, 'deposit');
    v_room := v_m.amount - v_m.deposited - v_m.held - v_m.released;
    IF v_amount > v_room THEN
        PERFORM @extschema@._escrow_refuse(v_m, 'WM013',
            format('deposit of %s would exceed milestone %s', v_amount, p_milestone_id),
            format('At most %s more can be deposited.', v_room));
    END IF;
    UPDATE @extschema@.milestone SET deposited = deposited + v_amount, updated_at = now()
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id
    RETURNING * INTO v_m;
    RETURN @extschema@._escrow_move(v_m, 'deposit', v_amount, NULL, NULL, p_reference);
END
$$;
COMMENT ON FUNCTION @extschema@.escrow_deposit(bigint, bigint, numeric, text) IS
    'Records money the custodian received for a milestone (deposited += amount); deposited + held + released may not exceed the milestone amount. p_reference (the provider''s transaction id) is recorded once per tenant: the same reference, milestone and amount again returns the first movement. Returns the movement id.';

CREATE FUNCTION @extschema@.escrow_hold(p_tenant_id bigint, p_milestone_id bigint, p_amount numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
    v_amount numeric;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    IF p_amount IS NOT NULL THEN
        v_amount := @extschema@._escrow_amount(p_amount, v_m.currency, 'hold amount');
    END IF;
    PERFORM @extschema@._escrow_require_live(v_m, 'hold');
    v_amount := coalesce(v_amount, v_m.deposited);
    IF v_amount = 0 OR v_amount > v_m.deposited THEN
        PERFORM @extschema@._escrow_refuse(v_m, 'WM013',
            CASE WHEN v_m.deposited = 0 THEN format('milestone %s has nothing deposited to hold', p_milestone_id)
                 ELSE format('hold of %s exceeds what milestone %s has deposited', v_amount, p_milestone_id) END,
            'Deposit first with womgr.escrow_deposit(); at most the deposited amount can be held.');
    END IF;
    UPDATE @extschema@.milestone SET deposited = deposited - v_amount, held = held + v_amount, updated_at = now()
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id
    RETURNING * INTO v_m;
    RETURN @extschema@._escrow_move(v_m, 'hold', v_amount, NULL, NULL, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.escrow_hold(bigint, bigint, numeric) IS
    'Holds deposited money for a milestone (deposited -> held): p_amount, or everything deposited when NULL. Returns the movement id.';

CREATE FUNCTION @extschema@.approve_milestone(p_tenant_id bigint, p_milestone_id bigint, p_note text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    PERFORM @extschema@._escrow_require_live(v_m, 'approve');
    IF v_m.status <> 'pending' THEN
        PERFORM @extschema@._escrow_refuse(v_m, '55000', format('milestone %s is already approved', p_milestone_id),
            format('%s approved it at %s.', v_m.approved_by, v_m.approved_at));
    END IF;
    UPDATE @extschema@.milestone
       SET status = 'approved', approved_by = @extschema@.current_actor(), approved_at = now(),
           approval_note = nullif(btrim(p_note), ''), updated_at = now()
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id;
    PERFORM @extschema@._log_event(p_tenant_id, v_m.work_order_id, 'milestone_approved',
        jsonb_build_object('milestone_id', p_milestone_id, 'seq', v_m.seq, 'name', v_m.name,
                           'amount', v_m.amount, 'held', v_m.held, 'note', nullif(btrim(p_note), '')));
END
$$;
COMMENT ON FUNCTION @extschema@.approve_milestone(bigint, bigint, text) IS
    'Approves a pending milestone (the customer accepted the work), with an optional note: held money can then be released. Recorded with actor and time and as a milestone_approved work-order event.';

CREATE FUNCTION @extschema@.escrow_release(p_tenant_id bigint, p_milestone_id bigint, p_amount numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
    v_amount numeric;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    IF p_amount IS NOT NULL THEN
        v_amount := @extschema@._escrow_amount(p_amount, v_m.currency, 'release amount');
    END IF;
    PERFORM @extschema@._escrow_require_live(v_m, 'release');
    IF v_m.status <> 'approved' THEN
        PERFORM @extschema@._escrow_refuse(v_m, 'WM013', format('milestone %s is not approved', p_milestone_id),
            'Held money is released after the milestone is approved with womgr.approve_milestone().');
    END IF;
    v_amount := coalesce(v_amount, v_m.held);
    IF v_amount = 0 OR v_amount > v_m.held THEN
        PERFORM @extschema@._escrow_refuse(v_m, 'WM013',
            CASE WHEN v_m.held = 0 THEN format('milestone %s holds nothing to release', p_milestone_id)
                 ELSE format('release of %s exceeds what milestone %s holds', v_amount, p_milestone_id) END,
            'Only held money is released; hold deposited money first with womgr.escrow_hold().');
    END IF;
    UPDATE @extschema@.milestone SET held = held - v_amount, released = released + v_amount, updated_at = now()
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id
    RETURNING * INTO v_m;
    RETURN @extschema@._escrow_move(v_m, 'release', v_amount, NULL, NULL, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.escrow_release(bigint, bigint, numeric) IS
    'Releases held money of an approved milestone to the tenant (held -> released): p_amount, or everything held when NULL. When the milestone has an issued invoice, the release is recorded as a payment (method escrow, reference ESCROW-<movement id>) allocated to it up to its balance. Returns the movement id.';

CREATE FUNCTION @extschema@.escrow_refund(p_tenant_id bigint, p_milestone_id bigint, p_amount numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
    v_amount numeric;
    v_from_held numeric;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    IF p_amount IS NOT NULL THEN
        v_amount := @extschema@._escrow_amount(p_amount, v_m.currency, 'refund amount');
    END IF;
    PERFORM @extschema@._escrow_require_live(v_m, 'refund');
    v_amount := coalesce(v_amount, v_m.held + v_m.deposited);
    IF v_amount = 0 OR v_amount > v_m.held + v_m.deposited THEN
        PERFORM @extschema@._escrow_refuse(v_m, 'WM013',
            CASE WHEN v_m.held + v_m.deposited = 0 THEN format('milestone %s has nothing in escrow to refund', p_milestone_id)
                 ELSE format('refund of %s exceeds what milestone %s has in escrow', v_amount, p_milestone_id) END,
            'Only held and deposited money can be refunded; released money is the tenant''s (refund it with a credit note).');
    END IF;
    v_from_held := least(v_amount, v_m.held);
    UPDATE @extschema@.milestone
       SET held = held - v_from_held, deposited = deposited - (v_amount - v_from_held),
           refunded = refunded + v_amount, updated_at = now()
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id
    RETURNING * INTO v_m;
    RETURN @extschema@._escrow_move(v_m, 'refund', v_amount, v_from_held, v_amount - v_from_held, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.escrow_refund(bigint, bigint, numeric) IS
    'Returns escrow money of a milestone to the customer (held first, then deposited -> refunded): p_amount, or everything held and deposited when NULL. Released money cannot be refunded here. Returns the movement id.';

CREATE FUNCTION @extschema@.cancel_milestone(p_tenant_id bigint, p_milestone_id bigint, p_reason text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'cancelling a milestone needs a reason'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The customer and the accountant need to know why the milestone was dropped.',
                  HINT = 'Pass the reason.';
    END IF;
    PERFORM @extschema@._escrow_require_live(v_m, 'cancel');
    IF v_m.status <> 'pending' THEN
        PERFORM @extschema@._escrow_refuse(v_m, '55000', format('milestone %s is approved', p_milestone_id),
            'An approved milestone is settled by release or refund, not cancelled.');
    END IF;
    IF v_m.deposited + v_m.held > 0 THEN
        PERFORM @extschema@._escrow_refuse(v_m, '55000', format('milestone %s still has money in escrow', p_milestone_id),
            'Refund it first with womgr.escrow_refund().');
    END IF;
    UPDATE @extschema@.milestone
       SET status = 'cancelled', cancelled_by = @extschema@.current_actor(), cancelled_at = now(),
           cancel_reason = btrim(p_reason), updated_at = now()
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id;
    PERFORM @extschema@._log_event(p_tenant_id, v_m.work_order_id, 'milestone_cancelled',
        jsonb_build_object('milestone_id', p_milestone_id, 'seq', v_m.seq, 'name', v_m.name, 'reason', btrim(p_reason)));
END
$$;
COMMENT ON FUNCTION @extschema@.cancel_milestone(bigint, bigint, text) IS
    'Cancels a pending milestone with nothing deposited or held (refund first), with a reason; recorded as a milestone_cancelled work-order event. A cancelled milestone takes no more moves and is not invoiced.';

CREATE FUNCTION @extschema@.invoice_milestone(p_tenant_id bigint, p_milestone_id bigint)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_m @extschema@.milestone;
    v_wo @extschema@.work_order;
    v_invoice bigint;
    v_mv record;
BEGIN
    v_m := @extschema@._lock_milestone(p_tenant_id, p_milestone_id);
    SELECT invoice_id INTO v_invoice FROM @extschema@.invoice
     WHERE tenant_id = p_tenant_id AND milestone_id = p_milestone_id AND kind = 'invoice';
    IF NOT FOUND THEN
        PERFORM @extschema@._escrow_require_live(v_m, 'invoice');
        SELECT * INTO v_wo FROM @extschema@.work_order WHERE tenant_id = p_tenant_id AND work_order_id = v_m.work_order_id;
        -- The milestone amount is what the customer pays into escrow, VAT
        -- included: the line is VAT-inclusive, so a full release settles it.
        v_invoice := @extschema@.create_invoice(p_tenant_id, jsonb_strip_nulls(jsonb_build_object(
            'customer_id', v_wo.customer_id, 'branch_id', v_wo.branch_id, 'work_order_id', v_wo.work_order_id,
            'milestone_id', p_milestone_id,
            'lines', jsonb_build_array(jsonb_build_object(
                'kind', 'milestone', 'description', format('Milestone %s: %s', v_m.seq, v_m.name),
                'gross_amount', v_m.amount, 'tax_class', 'vat_standard')))));
    END IF;
    -- Releases made before the invoice was issued become its payments now.
    FOR v_mv IN SELECT mv.movement_id, mv.amount FROM @extschema@.escrow_movement mv
                 WHERE mv.tenant_id = p_tenant_id AND mv.milestone_id = p_milestone_id AND mv.kind = 'release'
                   AND NOT EXISTS (SELECT 1 FROM @extschema@.payment p
                                    WHERE p.tenant_id = p_tenant_id AND p.method = 'escrow'
                                      AND p.reference = 'ESCROW-' || mv.movement_id)
                 ORDER BY mv.movement_id LOOP
        PERFORM @extschema@._escrow_pay(v_m, v_mv.movement_id, v_mv.amount);
    END LOOP;
    RETURN v_invoice;
END
$$;
COMMENT ON FUNCTION @extschema@.invoice_milestone(bigint, bigint) IS
    'Invoices a milestone once (idempotent: returns the existing invoice): one line of kind milestone, "Milestone <seq>: <name>", VAT-inclusive at the milestone amount under vat_standard (the amount paid into escrow includes the VAT, so a full release settles the invoice) to the work order''s customer, through womgr.create_invoice. Releases made before the invoice existed are recorded then as escrow payments allocated to it. Returns the invoice id.';

CREATE VIEW @extschema@.milestone_status WITH (security_barrier) AS
SELECT m.tenant_id, m.milestone_id, m.work_order_id, w.number AS work_order_number, m.seq, m.name,
       m.amount, m.currency, m.status, m.deposited, m.held, m.released, m.refunded,
       m.amount - m.deposited - m.held - m.released AS unfunded,
       m.approved_by, m.approved_at,
       i.invoice_id, i.number AS invoice_number, b.balance AS invoice_balance
  FROM @extschema@.milestone m
  JOIN @extschema@.work_order w ON w.tenant_id = m.tenant_id AND w.work_order_id = m.work_order_id
  LEFT JOIN @extschema@.invoice i ON i.tenant_id = m.tenant_id AND i.milestone_id = m.milestone_id AND i.kind = 'invoice'
  LEFT JOIN @extschema@.invoice_balance b ON b.tenant_id = i.tenant_id AND b.invoice_id = i.invoice_id;
COMMENT ON VIEW @extschema@.milestone_status IS
    'Each milestone with its work order, status, escrow balances (deposited, held, released, refunded and what is still unfunded), and its invoice number and balance once invoiced.';
COMMENT ON COLUMN @extschema@.milestone_status.unfunded IS 'amount - deposited - held - released: what the customer can still deposit.';
COMMENT ON COLUMN @extschema@.milestone_status.invoice_balance IS 'What is still due on the milestone''s issued invoice; NULL before it is invoiced (or while the invoice is a draft).';

CREATE FUNCTION @extschema@.reconcile_technician_cash(p_tenant_id bigint, p_technician_id bigint, p_business_date date,
                                                     p_handed_in numeric, p_note text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_name text;
    v_tz text;
    v_currency text;
    v_from timestamptz;
    v_to timestamptz;
    v_prior @extschema@.cash_reconciliation;
    v_other text[];
    v_expected numeric;
    v_count integer;
    v_note text := nullif(btrim(p_note), '');
    v_handed_in numeric;
    v_r @extschema@.cash_reconciliation;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._require_id(p_technician_id, 'technician');
    -- Locks the technician against a concurrent reconciliation (not against new payments).
    SELECT t.name, b.timezone, b.currency INTO v_name, v_tz, v_currency
      FROM @extschema@.technician t
      JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
     WHERE t.tenant_id = p_tenant_id AND t.technician_id = p_technician_id
       FOR NO KEY UPDATE OF t;
    PERFORM @extschema@._require_row(FOUND, 'technician', p_technician_id, p_tenant_id);
    IF p_business_date IS NULL THEN
        RAISE EXCEPTION 'business date must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Cash is reconciled per technician and day.',
                  HINT = 'Pass the day the cash was collected, in the technician''s home branch time zone.';
    END IF;
    IF p_business_date > (now() AT TIME ZONE v_tz)::date THEN
        RAISE EXCEPTION 'business date % is in the future', to_char(p_business_date, 'YYYY-MM-DD')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s in %s.', to_char(now() AT TIME ZONE v_tz, 'YYYY-MM-DD'), v_tz),
                  HINT = 'Reconcile a day once it has begun.';
    END IF;
    IF p_handed_in IS NULL THEN
        RAISE EXCEPTION 'cash handed in must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The reconciliation records the cash counted.',
                  HINT = 'Pass the amount counted; 0 when nothing was handed in.';
    END IF;
    IF p_handed_in < 0 OR p_handed_in >= 1e12 OR p_handed_in <> @extschema@._money(p_handed_in, v_currency) THEN
        RAISE EXCEPTION 'cash handed in % is not an amount of %', p_handed_in, v_currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It must be zero or more, below 10^12, with %s decimal places.', @extschema@._currency_scale(v_currency)),
                  HINT = 'Pass the amount counted in the branch''s currency.';
    END IF;
    v_handed_in := @extschema@._money(p_handed_in, v_currency);
    SELECT * INTO v_prior FROM @extschema@.cash_reconciliation
     WHERE tenant_id = p_tenant_id AND technician_id = p_technician_id AND business_date = p_business_date;
    IF FOUND THEN
        RAISE EXCEPTION 'cash of technician % for % is already reconciled', p_technician_id, to_char(p_business_date, 'YYYY-MM-DD')
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Reconciliation %s by %s at %s: %s handed in against %s expected (%s).',
                                  v_prior.cash_reconciliation_id, v_prior.received_by, v_prior.reconciled_at,
                                  v_prior.handed_in, v_prior.expected, v_prior.status),
                  HINT = 'A day is reconciled once; see womgr.technician_cash_due for what is outstanding.';
    END IF;
    v_from := p_business_date::timestamp AT TIME ZONE v_tz;
    v_to := (p_business_date + 1)::timestamp AT TIME ZONE v_tz;
    SELECT array_agg(DISTINCT p.currency::text) INTO v_other FROM @extschema@.payment p
     WHERE p.tenant_id = p_tenant_id AND p.collected_by_technician_id = p_technician_id AND p.method = 'cash'
       AND p.received_at >= v_from AND p.received_at < v_to AND p.currency <> v_currency;
    IF v_other IS NOT NULL THEN
        RAISE EXCEPTION 'technician % collected cash in other currencies on %', p_technician_id, to_char(p_business_date, 'YYYY-MM-DD')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The home branch bills in %s; payments in %s were collected too.', v_currency,
                                  array_to_string(v_other, ', ')),
                  HINT = 'Reconcile foreign cash by hand; this function counts one currency.';
    END IF;
    SELECT coalesce(sum(p.amount), 0), count(*) INTO v_expected, v_count FROM @extschema@.payment p
     WHERE p.tenant_id = p_tenant_id AND p.collected_by_technician_id = p_technician_id AND p.method = 'cash'
       AND p.received_at >= v_from AND p.received_at < v_to;
    v_expected := @extschema@._money(v_expected, v_currency);
    IF v_handed_in <> v_expected AND v_note IS NULL THEN
        RAISE EXCEPTION 'a cash difference needs a note'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('%s %s handed in against %s expected from %s cash payments: a difference of %s.',
                                  v_currency, v_handed_in, v_expected, v_count, v_handed_in - v_expected),
                  HINT = 'Say why the cash is short or over in p_note.';
    END IF;
    INSERT INTO @extschema@.cash_reconciliation (tenant_id, technician_id, business_date, currency, payment_count,
                                                 expected, handed_in, status, received_by, note)
    VALUES (p_tenant_id, p_technician_id, p_business_date, v_currency, v_count, v_expected, v_handed_in,
            CASE WHEN v_handed_in = v_expected THEN 'balanced' ELSE 'exception' END,
            @extschema@.current_actor(), v_note)
    RETURNING * INTO v_r;
    IF v_r.status = 'exception' THEN
        PERFORM @extschema@._outbox(p_tenant_id, 'cash.exception',
            jsonb_build_object('cash_reconciliation_id', v_r.cash_reconciliation_id, 'technician_id', p_technician_id,
                               'technician_name', v_name, 'business_date', p_business_date, 'currency', v_currency,
                               'expected', v_expected, 'handed_in', v_handed_in, 'difference', v_r.difference,
                               'note', v_note, 'received_by', v_r.received_by));
    END IF;
    RETURN v_r.cash_reconciliation_id;
END
$$;
COMMENT ON FUNCTION @extschema@.reconcile_technician_cash(bigint, bigint, date, numeric, text) IS
    'Records the cash a technician handed in for a business day (in their home branch''s time zone) against what they collected: the sum of their cash payments received that day. balanced when equal; otherwise an exception, which needs p_note and writes a cash.exception outbox notice. Once per technician and day. Returns the reconciliation id.';

CREATE VIEW @extschema@.technician_cash_due WITH (security_barrier) AS
WITH collected AS (
    SELECT p.tenant_id, p.collected_by_technician_id AS technician_id,
           (p.received_at AT TIME ZONE b.timezone)::date AS business_date, p.currency::text AS currency,
           count(*) AS payment_count, sum(p.amount) AS cash_collected
      FROM @extschema@.payment p
      JOIN @extschema@.technician t ON t.tenant_id = p.tenant_id AND t.technician_id = p.collected_by_technician_id
      JOIN @extschema@.branch b ON b.tenant_id = t.tenant_id AND b.branch_id = t.home_branch_id
     WHERE p.method = 'cash'
     GROUP BY 1, 2, 3, 4
)
SELECT coalesce(c.tenant_id, r.tenant_id) AS tenant_id,
       coalesce(c.technician_id, r.technician_id) AS technician_id,
       t.name AS technician_name,
       coalesce(c.business_date, r.business_date) AS business_date,
       coalesce(c.currency, r.currency::text) AS currency,
       coalesce(c.payment_count, 0) AS payment_count,
       coalesce(c.cash_collected, 0) AS cash_collected,
       r.handed_in,
       coalesce(c.cash_collected, 0) - coalesce(r.handed_in, 0) AS outstanding,
       coalesce(r.status, 'open') AS status,
       r.cash_reconciliation_id
  FROM collected c
  FULL JOIN @extschema@.cash_reconciliation r
    ON r.tenant_id = c.tenant_id AND r.technician_id = c.technician_id AND r.business_date = c.business_date
   AND r.currency::text = c.currency
  JOIN @extschema@.technician t
    ON t.tenant_id = coalesce(c.tenant_id, r.tenant_id) AND t.technician_id = coalesce(c.technician_id, r.technician_id);
COMMENT ON VIEW @extschema@.technician_cash_due IS
    'Per technician, business day (home branch time zone) and currency: the cash collected (cash payments), what was handed in, and what is outstanding (collected - handed in), for days not reconciled yet too (status open; else balanced or exception). Cash recorded for a day after it was reconciled shows up as outstanding.';
COMMENT ON COLUMN @extschema@.technician_cash_due.outstanding IS 'Cash collected minus cash handed in: positive when the technician still owes cash.';
