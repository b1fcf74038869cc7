-- Parts and stock: the catalogue, locations, receipts at moving average
-- cost, transfers, adjustments, parts planned for jobs, reservations when a
-- job is scheduled, issues and returns, low-stock alerts, and the views
-- that invoicing and stock reports read.
--
-- Locking: every change of a level locks its row first (_stock_change), so
-- two sessions taking the last unit queue and the second gets WM010; the
-- CHECKs of stock_level are the final guarantee.  Functions that change the
-- total on hand of a part also lock the part row (FOR UPDATE to change its
-- average cost, FOR SHARE otherwise) so receipts see a settled total.

CREATE FUNCTION @extschema@._check_quantity(p_quantity numeric, p_what text) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_quantity IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_what
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Stock functions move a quantity of a part.',
                  HINT = format('Pass the %s.', p_what);
    END IF;
    IF p_quantity <= 0 OR p_quantity >= 1e11 OR p_quantity <> round(p_quantity, 3) THEN
        RAISE EXCEPTION '% % is not a valid quantity', p_what, p_quantity
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Quantities are above 0 and below 100000000000, with at most 3 decimals.',
                  HINT = 'Pass a positive quantity in the part''s unit.';
    END IF;
    RETURN p_quantity;
END
$$;
COMMENT ON FUNCTION @extschema@._check_quantity(numeric, text) IS
    'Internal: raises null_value_not_allowed for a NULL quantity and invalid_parameter_value unless it is positive with at most 3 decimals.';

CREATE FUNCTION @extschema@._check_amount(p_amount numeric, p_scale integer, p_field text, p_what text) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_amount < 0 OR p_amount >= 1e12 OR p_amount <> round(p_amount, p_scale) THEN
        RAISE EXCEPTION '% of the % must be an amount from 0 with at most % decimals', p_field, p_what, p_scale
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', p_amount),
                  HINT = format('Pass the %s per unit, before tax.', p_field);
    END IF;
    RETURN p_amount;
END
$$;
COMMENT ON FUNCTION @extschema@._check_amount(numeric, integer, text, text) IS
    'Internal: raises invalid_parameter_value unless a price or cost is from 0 to below 10^12 with at most p_scale decimals (NULL passes).';

CREATE FUNCTION @extschema@._stock_part(p_tenant_id bigint, p_part_id bigint, p_for_update boolean) RETURNS @extschema@.part
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_part @extschema@.part;
BEGIN
    PERFORM @extschema@._require_id(p_part_id, 'part');
    IF p_for_update THEN
        SELECT * INTO v_part FROM @extschema@.part WHERE tenant_id = p_tenant_id AND part_id = p_part_id FOR UPDATE;
    ELSE
        SELECT * INTO v_part FROM @extschema@.part WHERE tenant_id = p_tenant_id AND part_id = p_part_id FOR SHARE;
    END IF;
    PERFORM @extschema@._require_ref(FOUND, 'part', p_part_id::text, 'List parts with SELECT part_id, sku, name FROM womgr.part.');
    RETURN v_part;
END
$$;
COMMENT ON FUNCTION @extschema@._stock_part(bigint, bigint, boolean) IS
    'Internal: a part of the tenant, locked FOR UPDATE (its average cost will change) or FOR SHARE; raises null_value_not_allowed for a NULL id and foreign_key_violation for an unknown part.';

CREATE FUNCTION @extschema@._stock_location(p_tenant_id bigint, p_location_id bigint) RETURNS @extschema@.stock_location
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_loc @extschema@.stock_location;
BEGIN
    PERFORM @extschema@._require_id(p_location_id, 'stock location');
    SELECT * INTO v_loc FROM @extschema@.stock_location WHERE tenant_id = p_tenant_id AND location_id = p_location_id;
    PERFORM @extschema@._require_ref(FOUND, 'stock location', p_location_id::text,
        'List locations with SELECT location_id, code, kind FROM womgr.stock_location.');
    PERFORM @extschema@._require_active(v_loc.active, 'stock location', format('"%s"', v_loc.code));
    RETURN v_loc;
END
$$;
COMMENT ON FUNCTION @extschema@._stock_location(bigint, bigint) IS
    'Internal: an active stock location of the tenant; raises null_value_not_allowed, foreign_key_violation (unknown) or object_not_in_prerequisite_state (inactive).';

CREATE FUNCTION @extschema@._lock_level(p_tenant_id bigint, p_location_id bigint, p_part_id bigint) RETURNS @extschema@.stock_level
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_level @extschema@.stock_level;
BEGIN
    SELECT * INTO v_level FROM @extschema@.stock_level
     WHERE tenant_id = p_tenant_id AND location_id = p_location_id AND part_id = p_part_id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO @extschema@.stock_level (tenant_id, location_id, part_id) VALUES (p_tenant_id, p_location_id, p_part_id)
        ON CONFLICT DO NOTHING;
        SELECT * INTO STRICT v_level FROM @extschema@.stock_level
         WHERE tenant_id = p_tenant_id AND location_id = p_location_id AND part_id = p_part_id FOR UPDATE;
    END IF;
    RETURN v_level;
END
$$;
COMMENT ON FUNCTION @extschema@._lock_level(bigint, bigint, bigint) IS
    'Internal: the stock level of a part at a location, created empty when missing and locked for update until the end of the transaction.';

CREATE FUNCTION @extschema@._stock_change(p_tenant_id bigint, p_location_id bigint, p_part_id bigint,
                                          p_on_hand_delta numeric, p_reserved_delta numeric)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_level @extschema@.stock_level := @extschema@._lock_level(p_tenant_id, p_location_id, p_part_id);
BEGIN
    IF v_level.on_hand + p_on_hand_delta < v_level.reserved + p_reserved_delta
       OR v_level.reserved + p_reserved_delta < 0 THEN
        RAISE EXCEPTION 'not enough stock of part "%" at "%"',
                (SELECT sku FROM @extschema@.part WHERE tenant_id = p_tenant_id AND part_id = p_part_id),
                (SELECT code FROM @extschema@.stock_location WHERE tenant_id = p_tenant_id AND location_id = p_location_id)
            USING ERRCODE = 'WM010',
                  DETAIL = format('On hand %s, reserved %s, asked %s.', v_level.on_hand, v_level.reserved,
                                  CASE WHEN p_on_hand_delta < 0 THEN -p_on_hand_delta ELSE p_reserved_delta END),
                  HINT = 'Receive or transfer stock to the location first, or use another location (see womgr.stock_levels).';
    END IF;
    UPDATE @extschema@.stock_level
       SET on_hand = on_hand + p_on_hand_delta, reserved = reserved + p_reserved_delta, updated_at = now()
     WHERE tenant_id = p_tenant_id AND location_id = p_location_id AND part_id = p_part_id;
END
$$;
COMMENT ON FUNCTION @extschema@._stock_change(bigint, bigint, bigint, numeric, numeric) IS
    'Internal: locks a stock level and changes on_hand and reserved by the deltas; raises WM010 (not enough stock, with on hand, reserved and asked) when on_hand would fall below reserved or reserved below 0.';

CREATE FUNCTION @extschema@._stock_level_low() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_low boolean := coalesce(NEW.on_hand - NEW.reserved <= NEW.reorder_point, false);
    v_was boolean := TG_OP = 'UPDATE' AND coalesce(OLD.low, false);
    v_alert bigint;
BEGIN
    IF v_low AND NOT v_was THEN
        INSERT INTO @extschema@.stock_alert (tenant_id, location_id, part_id, available, reorder_point, reorder_qty)
        VALUES (NEW.tenant_id, NEW.location_id, NEW.part_id, NEW.on_hand - NEW.reserved, NEW.reorder_point, NEW.reorder_qty)
        RETURNING alert_id INTO v_alert;
        PERFORM @extschema@._outbox(NEW.tenant_id, 'stock.low', jsonb_build_object(
            'alert_id', v_alert, 'location_id', NEW.location_id,
            'location', (SELECT code FROM @extschema@.stock_location WHERE tenant_id = NEW.tenant_id AND location_id = NEW.location_id),
            'part_id', NEW.part_id,
            'sku', (SELECT sku FROM @extschema@.part WHERE tenant_id = NEW.tenant_id AND part_id = NEW.part_id),
            'available', NEW.on_hand - NEW.reserved, 'reorder_point', NEW.reorder_point, 'reorder_qty', NEW.reorder_qty));
    ELSIF v_was AND NOT v_low THEN
        UPDATE @extschema@.stock_alert SET cleared_at = now()
         WHERE tenant_id = NEW.tenant_id AND location_id = NEW.location_id AND part_id = NEW.part_id AND cleared_at IS NULL;
    END IF;
    NEW.low := v_low;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@._stock_level_low() IS
    'Internal trigger (before insert or update of stock_level): keeps low, and when available falls to or below the reorder point raises one stock_alert with an outbox notice stock.low; clears the alert when available rises above the point again.';
CREATE TRIGGER stock_level_low BEFORE INSERT OR UPDATE ON @extschema@.stock_level
    FOR EACH ROW EXECUTE FUNCTION @extschema@._stock_level_low();

CREATE TRIGGER stock_movement_append_only BEFORE UPDATE OR DELETE ON @extschema@.stock_movement
    FOR EACH ROW EXECUTE FUNCTION @extschema@._append_only();
CREATE TRIGGER stock_movement_no_truncate BEFORE TRUNCATE ON @extschema@.stock_movement
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._append_only();
CREATE TRIGGER stock_transfer_append_only BEFORE UPDATE OR DELETE ON @extschema@.stock_transfer
    FOR EACH ROW EXECUTE FUNCTION @extschema@._append_only();
CREATE TRIGGER stock_transfer_no_truncate BEFORE TRUNCATE ON @extschema@.stock_transfer
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._append_only();

CREATE FUNCTION @extschema@._average_cost(p_tenant_id bigint, p_part @extschema@.part, p_old_total numeric,
                                          p_quantity numeric, p_value numeric, p_last_cost numeric)
    RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
    UPDATE @extschema@.part
       SET average_cost = round((p_old_total * p_part.average_cost + p_value) / (p_old_total + p_quantity), 4),
           cost = coalesce(p_last_cost, cost), updated_at = now()
     WHERE tenant_id = p_tenant_id AND part_id = p_part.part_id
$$;
COMMENT ON FUNCTION @extschema@._average_cost(bigint, @extschema@.part, numeric, numeric, numeric, numeric) IS
    'Internal: the new moving average cost after p_quantity worth p_value came in on top of p_old_total on hand: (old_total * average + value) / (old_total + quantity), rounded to 4 places; p_last_cost (receipts) becomes the part''s cost.';

CREATE FUNCTION @extschema@._lead_van(p_tenant_id bigint, p_work_order_id bigint) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$
    SELECT l.location_id
      FROM @extschema@.assignment a
      JOIN @extschema@.stock_location l
        ON l.tenant_id = a.tenant_id AND l.technician_id = a.technician_id AND l.kind = 'van' AND l.active
     WHERE a.tenant_id = p_tenant_id AND a.work_order_id = p_work_order_id AND a.role = 'lead' AND a.ended_at IS NULL
$$;
COMMENT ON FUNCTION @extschema@._lead_van(bigint, bigint) IS 'Internal: the active van of the work order''s current lead technician, or NULL.';

CREATE FUNCTION @extschema@._pick_location(p_tenant_id bigint, p_wo @extschema@.work_order, p_part_id bigint, p_need numeric)
    RETURNS bigint
    LANGUAGE sql STABLE
    AS $$
    SELECT l.location_id
      FROM @extschema@.stock_location l
      LEFT JOIN @extschema@.stock_level s
        ON s.tenant_id = l.tenant_id AND s.location_id = l.location_id AND s.part_id = p_part_id
     WHERE l.tenant_id = p_tenant_id AND l.active
       AND (l.location_id = @extschema@._lead_van(p_tenant_id, p_wo.work_order_id)
            OR (l.kind = 'warehouse' AND l.branch_id = p_wo.branch_id))
     ORDER BY CASE WHEN l.kind = 'van' AND coalesce(s.on_hand - s.reserved, 0) >= p_need THEN 0
                   WHEN l.kind = 'warehouse' THEN 1 ELSE 2 END,
              coalesce(s.on_hand - s.reserved, 0) DESC, l.location_id
     LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@._pick_location(bigint, @extschema@.work_order, bigint, numeric) IS
    'Internal: where a job''s part is taken from: the lead technician''s van when it has p_need available, else the warehouse of the job''s branch with the most available, else the van; NULL when there is none.';

CREATE FUNCTION @extschema@._reserve(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_location_id bigint,
                                     p_quantity numeric)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM @extschema@._stock_change(p_tenant_id, p_location_id, p_part_id, 0, p_quantity);
    INSERT INTO @extschema@.stock_reservation AS r (tenant_id, work_order_id, part_id, location_id, quantity, created_by)
    VALUES (p_tenant_id, p_work_order_id, p_part_id, p_location_id, p_quantity, @extschema@.current_actor())
    ON CONFLICT (tenant_id, work_order_id, part_id, location_id) WHERE status = 'held'
    DO UPDATE SET quantity = r.quantity + EXCLUDED.quantity
    RETURNING r.reservation_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@._reserve(bigint, bigint, bigint, bigint, numeric) IS
    'Internal: holds p_quantity of a part at a location for a job (added to the job''s held reservation there); WM010 when not that much is available.';

CREATE FUNCTION @extschema@._release_held(p_tenant_id bigint, p_work_order_id bigint, p_reservation_id bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
    WITH released AS (
        UPDATE @extschema@.stock_reservation r SET status = 'released', closed_at = now()
         WHERE r.tenant_id = p_tenant_id AND r.work_order_id = p_work_order_id AND r.status = 'held'
           AND (p_reservation_id IS NULL OR r.reservation_id = p_reservation_id)
        RETURNING r.location_id, r.part_id, r.quantity - r.consumed AS held)
    UPDATE @extschema@.stock_level l SET reserved = l.reserved - s.held, updated_at = now()
      FROM (SELECT location_id, part_id, sum(held) AS held FROM released GROUP BY location_id, part_id) s
     WHERE l.tenant_id = p_tenant_id AND l.location_id = s.location_id AND l.part_id = s.part_id
$$;
COMMENT ON FUNCTION @extschema@._release_held(bigint, bigint, bigint) IS
    'Internal: releases the job''s held reservations (or the one given), giving what they still hold back to available.';

CREATE FUNCTION @extschema@._reserve_planned(p_wo @extschema@.work_order) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_need record;
    v_loc bigint;
    v_take numeric;
    v_short jsonb := '[]';
BEGIN
    FOR v_need IN
        SELECT wp.part_id, p.sku, wp.quantity - coalesce(h.held, 0) - coalesce(i.issued, 0) AS need
          FROM @extschema@.work_order_part wp
          JOIN @extschema@.part p ON p.tenant_id = wp.tenant_id AND p.part_id = wp.part_id
          LEFT JOIN LATERAL (SELECT sum(r.quantity - r.consumed) AS held FROM @extschema@.stock_reservation r
                              WHERE r.tenant_id = wp.tenant_id AND r.work_order_id = wp.work_order_id
                                AND r.part_id = wp.part_id AND r.status = 'held') h ON true
          LEFT JOIN LATERAL (SELECT sum(-m.quantity) AS issued FROM @extschema@.stock_movement m
                              WHERE m.tenant_id = wp.tenant_id AND m.work_order_id = wp.work_order_id
                                AND m.part_id = wp.part_id AND m.kind IN ('issue', 'return')) i ON true
         WHERE wp.tenant_id = p_wo.tenant_id AND wp.work_order_id = p_wo.work_order_id
           AND wp.quantity - coalesce(h.held, 0) - coalesce(i.issued, 0) > 0
         ORDER BY wp.part_id
    LOOP
        v_loc := @extschema@._pick_location(p_wo.tenant_id, p_wo, v_need.part_id, v_need.need);
        v_take := 0;
        IF v_loc IS NOT NULL THEN
            SELECT least(v_need.need, l.on_hand - l.reserved) INTO v_take
              FROM @extschema@._lock_level(p_wo.tenant_id, v_loc, v_need.part_id) l;
            IF v_take > 0 THEN
                PERFORM @extschema@._reserve(p_wo.tenant_id, p_wo.work_order_id, v_need.part_id, v_loc, v_take);
            END IF;
        END IF;
        IF v_take < v_need.need THEN
            v_short := v_short || jsonb_build_object('part_id', v_need.part_id, 'sku', v_need.sku, 'needed', v_need.need,
                                                     'reserved', v_take, 'short', v_need.need - v_take, 'location_id', v_loc);
        END IF;
    END LOOP;
    IF jsonb_array_length(v_short) > 0 THEN
        PERFORM @extschema@._outbox(p_wo.tenant_id, 'stock.shortage',
            jsonb_build_object('work_order_id', p_wo.work_order_id, 'number', p_wo.number, 'parts', v_short), p_wo.work_order_id);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._reserve_planned(@extschema@.work_order) IS
    'Internal: reserves the job''s planned parts not yet held or issued, each from the lead technician''s van when it has enough, else from a warehouse of the job''s branch; what cannot be reserved is listed in one outbox notice stock.shortage.';

CREATE FUNCTION @extschema@._stock_on_category() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.category = 'scheduled' THEN
        PERFORM @extschema@._reserve_planned(NEW);
    ELSIF NEW.category IN ('cancelled', 'completed', 'closed') THEN
        PERFORM @extschema@._release_held(NEW.tenant_id, NEW.work_order_id);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._stock_on_category() IS
    'Internal trigger: a job entering a scheduled status reserves its planned parts; a job cancelled, completed or closed releases what it still holds.';
CREATE TRIGGER work_order_stock
    AFTER UPDATE ON @extschema@.work_order
    FOR EACH ROW WHEN (OLD.category IS DISTINCT FROM NEW.category)
    EXECUTE FUNCTION @extschema@._stock_on_category();

CREATE FUNCTION @extschema@.create_part(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'part';
    v_sku text;
    v_tax bigint;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['sku', 'name', 'unit', 'cost', 'price', 'tax_class_id', 'active'], c_what);
    v_sku := @extschema@._check_code(@extschema@._spec_text(p_spec, 'sku', true, c_what),
                                     '^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$', 'sku', c_what, 'PVC-20MM');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.part WHERE tenant_id = p_tenant_id AND lower(sku) = lower(v_sku)), c_what, 'sku', v_sku);
    v_tax := coalesce(@extschema@._spec_bigint(p_spec, 'tax_class_id', false, c_what),
                      (SELECT tax_class_id FROM @extschema@.tax_class WHERE tenant_id = p_tenant_id AND code = 'vat_standard'));
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.tax_class WHERE tenant_id = p_tenant_id AND tax_class_id = v_tax),
        'tax class', coalesce(v_tax::text, 'vat_standard'), 'List tax classes with SELECT tax_class_id, code FROM womgr.tax_class.');
    INSERT INTO @extschema@.part (tenant_id, sku, name, unit, cost, price, tax_class_id, average_cost, active)
    SELECT p_tenant_id, v_sku, @extschema@._spec_text(p_spec, 'name', true, c_what),
           coalesce(@extschema@._check_code(@extschema@._spec_text(p_spec, 'unit', false, c_what),
                                            '^[a-z][a-z0-9_]{0,15}$', 'unit', c_what, 'each'), 'each'),
           coalesce(c.cost, 0), coalesce(@extschema@._check_amount(@extschema@._spec_numeric(p_spec, 'price', false, c_what),
                                                                   2, 'price', c_what), 0),
           v_tax, coalesce(c.cost, 0), coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true)
      FROM (SELECT @extschema@._check_amount(@extschema@._spec_numeric(p_spec, 'cost', false, c_what), 4, 'cost', c_what) AS cost) c
    RETURNING part_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_part(bigint, jsonb) IS
    'Creates a part from {"sku" (unique per tenant ignoring case), "name", optional "unit" (default each), "cost" (starting cost, 4 decimals), "price" (selling price before tax, 2 decimals), "tax_class_id" (default the tenant''s vat_standard), "active"}; returns its id.';

CREATE FUNCTION @extschema@.update_part(p_tenant_id bigint, p_part_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'part';
    v_tax bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes, ARRAY['name', 'cost', 'price', 'tax_class_id', 'active'], c_what);
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.part WHERE tenant_id = p_tenant_id AND part_id = p_part_id), c_what, p_part_id, p_tenant_id);
    IF p_changes ? 'tax_class_id' THEN
        v_tax := @extschema@._spec_bigint(p_changes, 'tax_class_id', true, c_what);
        PERFORM @extschema@._require_ref(
            EXISTS (SELECT 1 FROM @extschema@.tax_class WHERE tenant_id = p_tenant_id AND tax_class_id = v_tax),
            'tax class', v_tax::text, 'List tax classes with SELECT tax_class_id, code FROM womgr.tax_class.');
    END IF;
    UPDATE @extschema@.part p SET
        name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE p.name END,
        cost = CASE WHEN p_changes ? 'cost'
                    THEN @extschema@._check_amount(@extschema@._spec_numeric(p_changes, 'cost', true, c_what), 4, 'cost', c_what)
                    ELSE p.cost END,
        price = CASE WHEN p_changes ? 'price'
                     THEN @extschema@._check_amount(@extschema@._spec_numeric(p_changes, 'price', true, c_what), 2, 'price', c_what)
                     ELSE p.price END,
        tax_class_id = coalesce(v_tax, p.tax_class_id),
        active = CASE WHEN p_changes ? 'active' THEN @extschema@._spec_bool(p_changes, 'active', true, c_what) ELSE p.active END,
        updated_at = now()
     WHERE p.tenant_id = p_tenant_id AND p.part_id = p_part_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_part(bigint, bigint, jsonb) IS
    'Changes the fields of a part named in p_changes: "name", "cost" (last purchase cost), "price", "tax_class_id", "active". Stock already issued keeps the price it was issued at; average_cost changes only with receipts and returns.';

CREATE FUNCTION @extschema@.create_stock_location(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'stock location';
    v_code text;
    v_kind text;
    v_tech bigint;
    v_branch bigint;
    v_active boolean;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['code', 'name', 'kind', 'branch_id', 'technician_id', 'active'], c_what);
    v_code := @extschema@._check_code(@extschema@._spec_text(p_spec, 'code', true, c_what),
                                      '^[a-z0-9_]{1,40}$', 'code', c_what, 'van_otieno');
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.stock_location WHERE tenant_id = p_tenant_id AND code = v_code), c_what, 'code', v_code);
    v_kind := @extschema@._spec_text(p_spec, 'kind', true, c_what);
    IF v_kind NOT IN ('warehouse', 'van') THEN
        RAISE EXCEPTION 'field "kind" of the stock location spec has an invalid value "%"', v_kind
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Stock locations are a warehouse or a van.',
                  HINT = 'Send "warehouse" or "van".';
    END IF;
    v_tech := @extschema@._spec_bigint(p_spec, 'technician_id', false, c_what);
    v_active := coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true);
    IF v_tech IS NOT NULL THEN
        IF v_kind <> 'van' THEN
            RAISE EXCEPTION 'only a van has a technician'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The location "%s" is a %s.', v_code, v_kind),
                      HINT = 'Leave "technician_id" out for warehouses.';
        END IF;
        SELECT home_branch_id INTO v_branch FROM @extschema@.technician WHERE tenant_id = p_tenant_id AND technician_id = v_tech;
        PERFORM @extschema@._require_ref(FOUND, 'technician', v_tech::text, 'Create the technician first.');
        PERFORM @extschema@._require_unique(v_active AND EXISTS (
            SELECT 1 FROM @extschema@.stock_location
             WHERE tenant_id = p_tenant_id AND technician_id = v_tech AND kind = 'van' AND active),
            'van of the technician', 'technician_id', v_tech::text);
    END IF;
    v_branch := coalesce(@extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'branch_id', v_tech IS NULL, c_what)),
                         v_branch);
    INSERT INTO @extschema@.stock_location (tenant_id, code, name, kind, branch_id, technician_id, active)
    VALUES (p_tenant_id, v_code, @extschema@._spec_text(p_spec, 'name', true, c_what), v_kind, v_branch, v_tech, v_active)
    RETURNING location_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_stock_location(bigint, jsonb) IS
    'Creates a stock location from {"code", "name", "kind": "warehouse" or "van", "branch_id" (required for warehouses; a van defaults to its technician''s home branch), "technician_id" (vans only; one active van per technician), optional "active"}; returns its id.';

CREATE FUNCTION @extschema@.receive_stock(p_tenant_id bigint, p_location_id bigint, p_part_id bigint, p_quantity numeric,
                                         p_unit_cost numeric, p_reference text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_part @extschema@.part;
    v_total numeric;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    v_part := @extschema@._stock_part(p_tenant_id, p_part_id, true);
    PERFORM @extschema@._stock_location(p_tenant_id, p_location_id);
    PERFORM @extschema@._check_quantity(p_quantity, 'quantity');
    IF p_unit_cost IS NULL THEN
        RAISE EXCEPTION 'unit cost must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'A receipt records what the stock cost; the part''s moving average cost depends on it.',
                  HINT = 'Pass the purchase cost per unit (0 for free stock).';
    END IF;
    PERFORM @extschema@._check_amount(p_unit_cost, 4, 'unit cost', 'receipt');
    SELECT coalesce(sum(on_hand), 0) INTO v_total FROM @extschema@.stock_level WHERE tenant_id = p_tenant_id AND part_id = p_part_id;
    PERFORM @extschema@._stock_change(p_tenant_id, p_location_id, p_part_id, p_quantity, 0);
    INSERT INTO @extschema@.stock_movement (tenant_id, kind, location_id, part_id, quantity, unit_cost, reference, actor)
    VALUES (p_tenant_id, 'receipt', p_location_id, p_part_id, p_quantity, p_unit_cost, nullif(btrim(p_reference), ''),
            @extschema@.current_actor())
    RETURNING movement_id INTO v_id;
    PERFORM @extschema@._average_cost(p_tenant_id, v_part, v_total, p_quantity, p_quantity * p_unit_cost, p_unit_cost);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.receive_stock(bigint, bigint, bigint, numeric, numeric, text) IS
    'Receives p_quantity of a part into a location at p_unit_cost (supplier delivery; p_reference: delivery note or order). The part''s cost becomes p_unit_cost and its average_cost the moving average over the stock on hand at every location: (on_hand * average_cost + quantity * unit_cost) / (on_hand + quantity), rounded to 4 places. Returns the movement id.';

CREATE FUNCTION @extschema@.transfer_stock(p_tenant_id bigint, p_from_location_id bigint, p_to_location_id bigint,
                                          p_part_id bigint, p_quantity numeric, p_reference text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_part @extschema@.part;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    v_part := @extschema@._stock_part(p_tenant_id, p_part_id, false);
    PERFORM @extschema@._stock_location(p_tenant_id, p_from_location_id);
    PERFORM @extschema@._stock_location(p_tenant_id, p_to_location_id);
    PERFORM @extschema@._check_quantity(p_quantity, 'quantity');
    IF p_from_location_id = p_to_location_id THEN
        RAISE EXCEPTION 'a transfer needs two different locations'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Both are location %s.', p_from_location_id),
                  HINT = 'Pass the location the stock leaves and the one it goes to.';
    END IF;
    -- lock both levels in location order, so opposite transfers cannot deadlock
    IF p_from_location_id < p_to_location_id THEN
        PERFORM @extschema@._stock_change(p_tenant_id, p_from_location_id, p_part_id, -p_quantity, 0);
        PERFORM @extschema@._stock_change(p_tenant_id, p_to_location_id, p_part_id, p_quantity, 0);
    ELSE
        PERFORM @extschema@._stock_change(p_tenant_id, p_to_location_id, p_part_id, p_quantity, 0);
        PERFORM @extschema@._stock_change(p_tenant_id, p_from_location_id, p_part_id, -p_quantity, 0);
    END IF;
    INSERT INTO @extschema@.stock_transfer (tenant_id, part_id, from_location_id, to_location_id, quantity, reference, actor)
    VALUES (p_tenant_id, p_part_id, p_from_location_id, p_to_location_id, p_quantity, nullif(btrim(p_reference), ''),
            @extschema@.current_actor())
    RETURNING transfer_id INTO v_id;
    INSERT INTO @extschema@.stock_movement (tenant_id, kind, location_id, part_id, quantity, unit_cost, transfer_id, reference, actor)
    SELECT p_tenant_id, m.kind, m.loc, p_part_id, m.qty, v_part.average_cost, v_id, nullif(btrim(p_reference), ''),
           @extschema@.current_actor()
      FROM (VALUES ('transfer_out', p_from_location_id, -p_quantity), ('transfer_in', p_to_location_id, p_quantity)) m(kind, loc, qty);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.transfer_stock(bigint, bigint, bigint, bigint, numeric, text) IS
    'Moves p_quantity of a part from one location to another (warehouse to van, van to van, ...): a stock_transfer with a transfer_out and a transfer_in movement at the average cost. Only available stock (on hand minus reserved) can leave. Returns the transfer id.';

CREATE FUNCTION @extschema@.adjust_stock(p_tenant_id bigint, p_location_id bigint, p_part_id bigint, p_delta numeric,
                                        p_reason text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_part @extschema@.part;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    v_part := @extschema@._stock_part(p_tenant_id, p_part_id, false);
    PERFORM @extschema@._stock_location(p_tenant_id, p_location_id);
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a stock adjustment needs a reason'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Adjustments correct the ledger (stock count, damage, loss) and say why.',
                  HINT = 'Pass the reason.';
    END IF;
    IF p_delta IS NULL THEN
        RAISE EXCEPTION 'delta must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'An adjustment adds (positive) or takes (negative) stock.',
                  HINT = 'Pass the change of the quantity on hand.';
    END IF;
    PERFORM @extschema@._check_quantity(abs(p_delta), 'delta');
    PERFORM @extschema@._stock_change(p_tenant_id, p_location_id, p_part_id, p_delta, 0);
    INSERT INTO @extschema@.stock_movement (tenant_id, kind, location_id, part_id, quantity, unit_cost, reason, actor)
    VALUES (p_tenant_id, 'adjustment', p_location_id, p_part_id, p_delta, v_part.average_cost, btrim(p_reason),
            @extschema@.current_actor())
    RETURNING movement_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.adjust_stock(bigint, bigint, bigint, numeric, text) IS
    'Corrects the stock on hand of a part at a location by p_delta (positive: found, negative: damaged, lost, counted short) with a required reason; valued at the average cost, which does not change. A negative delta can take only available stock. Returns the movement id.';

CREATE FUNCTION @extschema@.set_reorder_point(p_tenant_id bigint, p_location_id bigint, p_part_id bigint,
                                             p_reorder_point numeric, p_reorder_qty numeric DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._stock_part(p_tenant_id, p_part_id, false);
    PERFORM @extschema@._stock_location(p_tenant_id, p_location_id);
    IF p_reorder_point < 0 OR p_reorder_point <> round(p_reorder_point, 3) OR p_reorder_point >= 1e11 THEN
        RAISE EXCEPTION 'reorder point % is not valid', p_reorder_point
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A reorder point is a quantity from 0 with at most 3 decimals.',
                  HINT = 'Pass NULL to stop low-stock alerts for the part there.';
    END IF;
    IF p_reorder_qty IS NOT NULL THEN
        PERFORM @extschema@._check_quantity(p_reorder_qty, 'reorder quantity');
    END IF;
    PERFORM @extschema@._lock_level(p_tenant_id, p_location_id, p_part_id);
    UPDATE @extschema@.stock_level SET reorder_point = p_reorder_point, reorder_qty = p_reorder_qty, updated_at = now()
     WHERE tenant_id = p_tenant_id AND location_id = p_location_id AND part_id = p_part_id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_reorder_point(bigint, bigint, bigint, numeric, numeric) IS
    'Sets the reorder point of a part at a location (NULL: no alerts) and the quantity to reorder. When available stock (on hand minus reserved) is at or below the point, one low-stock alert is raised (womgr.stock_alert and an outbox notice stock.low) until it rises above again.';

CREATE FUNCTION @extschema@.plan_parts(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_quantity numeric)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    v_part @extschema@.part := @extschema@._stock_part(p_tenant_id, p_part_id, false);
BEGIN
    PERFORM @extschema@._require_open(v_wo, 'plan parts for');
    IF p_quantity = 0 THEN
        DELETE FROM @extschema@.work_order_part
         WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id AND part_id = p_part_id;
        RETURN;
    END IF;
    PERFORM @extschema@._check_quantity(p_quantity, 'quantity');
    PERFORM @extschema@._require_active(v_part.active, 'part', format('"%s"', v_part.sku));
    INSERT INTO @extschema@.work_order_part AS w (tenant_id, work_order_id, part_id, quantity, planned_by)
    VALUES (p_tenant_id, p_work_order_id, p_part_id, p_quantity, @extschema@.current_actor())
    ON CONFLICT (tenant_id, work_order_id, part_id)
    DO UPDATE SET quantity = EXCLUDED.quantity, planned_by = EXCLUDED.planned_by, updated_at = now();
END
$$;
COMMENT ON FUNCTION @extschema@.plan_parts(bigint, bigint, bigint, numeric) IS
    'Sets how much of a part a job needs (0 removes it from the plan). When the job enters a scheduled status, what is neither reserved nor issued yet is reserved: from the lead technician''s van when it has enough, else from a warehouse of the job''s branch; a shortfall reserves what there is and writes an outbox notice stock.shortage.';

CREATE FUNCTION @extschema@.reserve_parts(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_quantity numeric,
                                         p_location_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    v_part @extschema@.part := @extschema@._stock_part(p_tenant_id, p_part_id, false);
    v_loc bigint;
BEGIN
    PERFORM @extschema@._require_open(v_wo, 'reserve parts for');
    PERFORM @extschema@._require_active(v_part.active, 'part', format('"%s"', v_part.sku));
    PERFORM @extschema@._check_quantity(p_quantity, 'quantity');
    v_loc := coalesce(p_location_id, @extschema@._pick_location(p_tenant_id, v_wo, p_part_id, p_quantity));
    IF v_loc IS NULL THEN
        RAISE EXCEPTION 'no stock location to reserve part "%" for work order %', v_part.sku, v_wo.number
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The job''s lead technician has no van and its branch has no warehouse.',
                  HINT = 'Pass p_location_id.';
    END IF;
    PERFORM @extschema@._stock_location(p_tenant_id, v_loc);
    RETURN @extschema@._reserve(p_tenant_id, p_work_order_id, p_part_id, v_loc, p_quantity);
END
$$;
COMMENT ON FUNCTION @extschema@.reserve_parts(bigint, bigint, bigint, numeric, bigint) IS
    'Holds p_quantity of a part for a job at p_location_id (default: the lead technician''s van when it has enough, else the warehouse of the job''s branch with the most available). All or nothing: WM010 when not that much is available there. Adds to the job''s held reservation at that location; returns its id.';

CREATE FUNCTION @extschema@.release_reservation(p_tenant_id bigint, p_reservation_id bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_r @extschema@.stock_reservation;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT * INTO v_r FROM @extschema@.stock_reservation
     WHERE tenant_id = p_tenant_id AND reservation_id = p_reservation_id FOR UPDATE;
    PERFORM @extschema@._require_row(FOUND, 'reservation', p_reservation_id, p_tenant_id);
    IF v_r.status <> 'held' THEN
        RAISE EXCEPTION 'reservation % is already %', p_reservation_id, v_r.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Only held reservations can be released.',
                  HINT = 'See womgr.stock_reservation.';
    END IF;
    PERFORM @extschema@._release_held(p_tenant_id, v_r.work_order_id, p_reservation_id);
END
$$;
COMMENT ON FUNCTION @extschema@.release_reservation(bigint, bigint) IS
    'Releases a held reservation: what it still holds becomes available again. Jobs that are cancelled, completed or closed release theirs by themselves.';

CREATE FUNCTION @extschema@.issue_parts(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_quantity numeric,
                                       p_location_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    v_part @extschema@.part := @extschema@._stock_part(p_tenant_id, p_part_id, false);
    v_loc bigint;
    v_res @extschema@.stock_reservation;
    v_take numeric;
    v_id bigint;
BEGIN
    PERFORM @extschema@._check_quantity(p_quantity, 'quantity');
    PERFORM @extschema@._require_open(v_wo, 'issue parts to');
    v_loc := coalesce(p_location_id, @extschema@._lead_van(p_tenant_id, p_work_order_id),
                      (SELECT r.location_id FROM @extschema@.stock_reservation r
                        WHERE r.tenant_id = p_tenant_id AND r.work_order_id = p_work_order_id AND r.part_id = p_part_id
                          AND r.status = 'held'
                        ORDER BY r.quantity - r.consumed DESC, r.reservation_id LIMIT 1));
    IF v_loc IS NULL THEN
        RAISE EXCEPTION 'issue of part "%" to work order % needs a location', v_part.sku, v_wo.number
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The job''s lead technician has no van and the job holds no reservation of the part.',
                  HINT = 'Pass p_location_id.';
    END IF;
    PERFORM @extschema@._stock_location(p_tenant_id, v_loc);
    SELECT * INTO v_res FROM @extschema@.stock_reservation
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id AND part_id = p_part_id AND location_id = v_loc
       AND status = 'held'
       FOR UPDATE;
    v_take := least(p_quantity, coalesce(v_res.quantity - v_res.consumed, 0));
    PERFORM @extschema@._stock_change(p_tenant_id, v_loc, p_part_id, -p_quantity, -v_take);
    IF v_take > 0 THEN
        UPDATE @extschema@.stock_reservation
           SET consumed = consumed + v_take,
               status = CASE WHEN consumed + v_take = quantity THEN 'consumed' ELSE 'held' END,
               closed_at = CASE WHEN consumed + v_take = quantity THEN now() END
         WHERE tenant_id = p_tenant_id AND reservation_id = v_res.reservation_id;
    END IF;
    INSERT INTO @extschema@.stock_movement (tenant_id, kind, location_id, part_id, quantity, unit_cost, unit_price, work_order_id, actor)
    VALUES (p_tenant_id, 'issue', v_loc, p_part_id, -p_quantity, v_part.average_cost, v_part.price, p_work_order_id,
            @extschema@.current_actor())
    RETURNING movement_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.issue_parts(bigint, bigint, bigint, numeric, bigint) IS
    'Issues p_quantity of a part to an open job from p_location_id (default: the lead technician''s van, else the location of the job''s held reservation of the part). It consumes the job''s held reservation there first; beyond it only available stock can be issued (WM010). Records the part''s average cost and price at that moment (what the job is billed, see womgr.work_order_material). Returns the movement id.';

CREATE FUNCTION @extschema@.return_parts(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_quantity numeric,
                                        p_location_id bigint)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_wo @extschema@.work_order := @extschema@._lock_work_order(p_tenant_id, p_work_order_id, NULL);
    v_part @extschema@.part := @extschema@._stock_part(p_tenant_id, p_part_id, true);
    v_net numeric;
    v_total numeric;
    v_value numeric;
    v_id bigint;
BEGIN
    PERFORM @extschema@._check_quantity(p_quantity, 'quantity');
    PERFORM @extschema@._stock_location(p_tenant_id, p_location_id);
    SELECT coalesce(sum(-quantity), 0) INTO v_net FROM @extschema@.stock_movement
     WHERE tenant_id = p_tenant_id AND work_order_id = p_work_order_id AND part_id = p_part_id AND kind IN ('issue', 'return');
    IF p_quantity > v_net THEN
        RAISE EXCEPTION 'cannot return more of part "%" than work order % was issued', v_part.sku, v_wo.number
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Issued net of returns: %s; returning %s.', v_net, p_quantity),
                  HINT = 'Return at most what the job was issued; correct other stock with womgr.adjust_stock().';
    END IF;
    SELECT coalesce(sum(on_hand), 0) INTO v_total FROM @extschema@.stock_level WHERE tenant_id = p_tenant_id AND part_id = p_part_id;
    PERFORM @extschema@._stock_change(p_tenant_id, p_location_id, p_part_id, p_quantity, 0);
    -- one movement per price the job was issued at, newest issues first
    WITH bucket AS (
        SELECT m.unit_price, sum(-m.quantity) AS net,
               sum(-m.quantity * m.unit_cost) FILTER (WHERE m.kind = 'issue') / sum(-m.quantity) FILTER (WHERE m.kind = 'issue') AS cost,
               max(m.movement_id) AS last_movement
          FROM @extschema@.stock_movement m
         WHERE m.tenant_id = p_tenant_id AND m.work_order_id = p_work_order_id AND m.part_id = p_part_id
           AND m.kind IN ('issue', 'return')
         GROUP BY m.unit_price
        HAVING sum(-m.quantity) > 0),
    take AS (
        SELECT b.*, least(b.net, p_quantity - coalesce(sum(b.net) OVER (ORDER BY b.last_movement DESC
                                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) AS qty
          FROM bucket b),
    ins AS (
        INSERT INTO @extschema@.stock_movement (tenant_id, kind, location_id, part_id, quantity, unit_cost, unit_price, work_order_id, actor)
        SELECT p_tenant_id, 'return', p_location_id, p_part_id, t.qty, round(t.cost, 4), t.unit_price, p_work_order_id,
               @extschema@.current_actor()
          FROM take t WHERE t.qty > 0 ORDER BY t.last_movement DESC
        RETURNING movement_id, quantity * unit_cost AS value)
    SELECT min(movement_id), sum(value) INTO v_id, v_value FROM ins;
    PERFORM @extschema@._average_cost(p_tenant_id, v_part, v_total, p_quantity, v_value, NULL);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.return_parts(bigint, bigint, bigint, numeric, bigint) IS
    'Returns p_quantity of a part from a job into a location, at the average unit cost of the job''s issues (which blends into the part''s moving average cost) and the price they were issued at. At most the job''s net issued quantity can come back (invalid_parameter_value otherwise). When the job was issued the part at several prices, the return is split over them, newest first, one movement each; returns the first movement id.';

CREATE VIEW @extschema@.stock_levels WITH (security_invoker = true, security_barrier = true) AS
SELECT l.tenant_id, l.location_id, loc.code AS location_code, loc.kind AS location_kind, loc.branch_id,
       l.part_id, p.sku, p.name AS part_name, p.unit,
       l.on_hand, l.reserved, l.on_hand - l.reserved AS available,
       p.average_cost, @extschema@._money(l.on_hand * p.average_cost, b.currency) AS stock_value, b.currency,
       l.reorder_point, l.reorder_qty,
       coalesce(l.on_hand - l.reserved <= l.reorder_point, false) AS below_reorder
  FROM @extschema@.stock_level l
  JOIN @extschema@.stock_location loc ON loc.tenant_id = l.tenant_id AND loc.location_id = l.location_id
  JOIN @extschema@.branch b ON b.tenant_id = loc.tenant_id AND b.branch_id = loc.branch_id
  JOIN @extschema@.part p ON p.tenant_id = l.tenant_id AND p.part_id = l.part_id;
COMMENT ON VIEW @extschema@.stock_levels IS
    'Stock of every part at every location with what is reserved, available, its value at the moving average cost and whether it is at or below the reorder point. Runs with the caller''s rights, so row-level security applies.';
COMMENT ON COLUMN @extschema@.stock_levels.available IS 'on_hand - reserved: what can be issued, transferred or reserved.';
COMMENT ON COLUMN @extschema@.stock_levels.stock_value IS 'on_hand * average_cost, rounded to the minor unit of the location''s branch currency.';
COMMENT ON COLUMN @extschema@.stock_levels.below_reorder IS 'available <= reorder_point (false without a reorder point).';

CREATE VIEW @extschema@.work_order_material WITH (security_invoker = true, security_barrier = true) AS
SELECT m.tenant_id, m.work_order_id, m.part_id, p.sku, p.name, p.unit, p.tax_class_id,
       sum(-m.quantity) AS quantity, m.unit_price,
       @extschema@._money(sum(-m.quantity * m.unit_cost), coalesce(b.currency, t.currency)) AS cost_amount
  FROM @extschema@.stock_movement m
  JOIN @extschema@.part p ON p.tenant_id = m.tenant_id AND p.part_id = m.part_id
  JOIN @extschema@.work_order w ON w.tenant_id = m.tenant_id AND w.work_order_id = m.work_order_id
  JOIN @extschema@.tenant t ON t.tenant_id = m.tenant_id
  LEFT JOIN @extschema@.branch b ON b.tenant_id = w.tenant_id AND b.branch_id = w.branch_id
 WHERE m.kind IN ('issue', 'return')
 GROUP BY m.tenant_id, m.work_order_id, m.part_id, p.sku, p.name, p.unit, p.tax_class_id, m.unit_price, b.currency, t.currency
HAVING sum(-m.quantity) > 0;
COMMENT ON VIEW @extschema@.work_order_material IS
    'Parts a job used, for invoicing: per part and price it was issued at, the quantity issued net of returns (only rows above 0) and what it cost. Runs with the caller''s rights, so row-level security applies.';
COMMENT ON COLUMN @extschema@.work_order_material.quantity IS 'Issued minus returned, in the part''s unit.';
COMMENT ON COLUMN @extschema@.work_order_material.unit_price IS 'The part''s price when it was issued (a snapshot; one row per price).';
COMMENT ON COLUMN @extschema@.work_order_material.cost_amount IS
    'Net cost at the unit costs the movements recorded (average cost at issue, the issues'' average on return), rounded to the minor unit of the job''s branch currency (else the tenant''s).';
COMMENT ON COLUMN @extschema@.work_order_material.tax_class_id IS 'The part''s tax class now.';
