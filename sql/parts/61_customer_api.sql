-- Customers, contacts, sites and assets: create and update.

CREATE FUNCTION @extschema@._check_contact_fields(p_spec jsonb, p_what text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    PERFORM @extschema@._check_code(@extschema@._spec_text(p_spec, 'phone', false, p_what),
                                    '^\+?[0-9][0-9 ()-]{5,19}$', 'phone', p_what, '+254712345678');
    PERFORM @extschema@._check_code(@extschema@._spec_text(p_spec, 'email', false, p_what),
                                    '^[^@\s]+@[^@\s]+\.[^@\s]+$', 'email', p_what, 'name@example.co.ke');
END
$$;
COMMENT ON FUNCTION @extschema@._check_contact_fields(jsonb, text) IS
    'Internal: raises unless the phone and email fields of a spec look like a phone number and an e-mail address.';

CREATE FUNCTION @extschema@._check_branch_ref(p_tenant_id bigint, p_branch_id bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_branch_id IS NOT NULL THEN
        PERFORM @extschema@._require_ref(
            EXISTS (SELECT 1 FROM @extschema@.branch WHERE tenant_id = p_tenant_id AND branch_id = p_branch_id),
            'branch', p_branch_id::text, 'List branches with SELECT branch_id, code FROM womgr.branch.');
    END IF;
    RETURN p_branch_id;
END
$$;
COMMENT ON FUNCTION @extschema@._check_branch_ref(bigint, bigint) IS
    'Internal: raises unless a branch named by a spec exists in the tenant.';

CREATE FUNCTION @extschema@.create_customer(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'customer';
    v_account text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec,
        ARRAY['name', 'account_code', 'kind', 'tax_pin', 'phone', 'email', 'branch_id', 'active'], c_what);
    PERFORM @extschema@._check_contact_fields(p_spec, c_what);
    v_account := @extschema@._spec_text(p_spec, 'account_code', false, c_what);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND account_code = v_account),
        c_what, 'account_code', v_account);
    INSERT INTO @extschema@.customer (tenant_id, name, account_code, kind, tax_pin, phone, email, branch_id, active)
    VALUES (p_tenant_id,
            @extschema@._spec_text(p_spec, 'name', true, c_what),
            v_account,
            coalesce(@extschema@._check_code(@extschema@._spec_text(p_spec, 'kind', false, c_what),
                                             '^(individual|business)$', 'kind', c_what, 'business'), 'business'),
            @extschema@._spec_text(p_spec, 'tax_pin', false, c_what),
            @extschema@._spec_text(p_spec, 'phone', false, c_what),
            @extschema@._spec_text(p_spec, 'email', false, c_what),
            @extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'branch_id', false, c_what)),
            coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true))
    RETURNING customer_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_customer(bigint, jsonb) IS
    'Creates a customer from {"name", optional "account_code", "kind" (individual or business), "tax_pin", "phone", "email", "branch_id", "active"}; returns its id.';

CREATE FUNCTION @extschema@.update_customer(p_tenant_id bigint, p_customer_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'customer';
    v_account text;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes,
        ARRAY['name', 'account_code', 'kind', 'tax_pin', 'phone', 'email', 'branch_id', 'active'], c_what);
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = p_customer_id),
        c_what, p_customer_id, p_tenant_id);
    PERFORM @extschema@._check_contact_fields(p_changes, c_what);
    v_account := @extschema@._spec_text(p_changes, 'account_code', false, c_what);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.customer
                 WHERE tenant_id = p_tenant_id AND account_code = v_account AND customer_id <> p_customer_id),
        c_what, 'account_code', v_account);
    UPDATE @extschema@.customer c SET
        name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE c.name END,
        account_code = CASE WHEN p_changes ? 'account_code' THEN v_account ELSE c.account_code END,
        kind = CASE WHEN p_changes ? 'kind'
                    THEN @extschema@._check_code(@extschema@._spec_text(p_changes, 'kind', true, c_what),
                                                 '^(individual|business)$', 'kind', c_what, 'business')
                    ELSE c.kind END,
        tax_pin = CASE WHEN p_changes ? 'tax_pin' THEN @extschema@._spec_text(p_changes, 'tax_pin', false, c_what) ELSE c.tax_pin END,
        phone = CASE WHEN p_changes ? 'phone' THEN @extschema@._spec_text(p_changes, 'phone', false, c_what) ELSE c.phone END,
        email = CASE WHEN p_changes ? 'email' THEN @extschema@._spec_text(p_changes, 'email', false, c_what) ELSE c.email END,
        branch_id = CASE WHEN p_changes ? 'branch_id'
                         THEN @extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_changes, 'branch_id', false, c_what))
                         ELSE c.branch_id END,
        active = CASE WHEN p_changes ? 'active' THEN @extschema@._spec_bool(p_changes, 'active', true, c_what) ELSE c.active END,
        updated_at = now()
    WHERE c.tenant_id = p_tenant_id AND c.customer_id = p_customer_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_customer(bigint, bigint, jsonb) IS
    'Changes the fields of a customer named in p_changes (same fields as create_customer).';

CREATE FUNCTION @extschema@.create_contact(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'contact';
    v_customer bigint;
    v_primary boolean;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec, ARRAY['customer_id', 'name', 'role', 'phone', 'email', 'is_primary'], c_what);
    PERFORM @extschema@._check_contact_fields(p_spec, c_what);
    v_customer := @extschema@._spec_bigint(p_spec, 'customer_id', true, c_what);
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = v_customer),
        'customer', v_customer::text, 'Create the customer with womgr.create_customer() first.');
    v_primary := coalesce(@extschema@._spec_bool(p_spec, 'is_primary', false, c_what), false);
    IF v_primary THEN
        UPDATE @extschema@.contact SET is_primary = false
         WHERE tenant_id = p_tenant_id AND customer_id = v_customer AND is_primary;
    END IF;
    INSERT INTO @extschema@.contact (tenant_id, customer_id, name, role, phone, email, is_primary)
    VALUES (p_tenant_id, v_customer,
            @extschema@._spec_text(p_spec, 'name', true, c_what),
            @extschema@._spec_text(p_spec, 'role', false, c_what),
            @extschema@._spec_text(p_spec, 'phone', false, c_what),
            @extschema@._spec_text(p_spec, 'email', false, c_what),
            v_primary)
    RETURNING contact_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_contact(bigint, jsonb) IS
    'Adds a contact person to a customer from {"customer_id", "name", optional "role", "phone", "email", "is_primary"}; a new primary contact replaces the old one. Returns its id.';

CREATE FUNCTION @extschema@.create_site(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'site';
    v_customer bigint;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec,
        ARRAY['customer_id', 'name', 'address', 'city', 'county', 'location', 'branch_id', 'access_notes', 'active'], c_what);
    v_customer := @extschema@._spec_bigint(p_spec, 'customer_id', true, c_what);
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.customer WHERE tenant_id = p_tenant_id AND customer_id = v_customer),
        'customer', v_customer::text, 'Create the customer with womgr.create_customer() first.');
    INSERT INTO @extschema@.site (tenant_id, customer_id, name, address, city, county, location, branch_id, access_notes, active)
    VALUES (p_tenant_id, v_customer,
            @extschema@._spec_text(p_spec, 'name', true, c_what),
            @extschema@._spec_text(p_spec, 'address', false, c_what),
            @extschema@._spec_text(p_spec, 'city', false, c_what),
            @extschema@._spec_text(p_spec, 'county', false, c_what),
            @extschema@._spec_location(p_spec, 'location', c_what),
            @extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_spec, 'branch_id', false, c_what)),
            @extschema@._spec_text(p_spec, 'access_notes', false, c_what),
            coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true))
    RETURNING site_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_site(bigint, jsonb) IS
    'Creates a site of a customer from {"customer_id", "name", optional "address", "city", "county", "location": {"lat", "lon"}, "branch_id", "access_notes", "active"}; returns its id.';

CREATE FUNCTION @extschema@.update_site(p_tenant_id bigint, p_site_id bigint, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'site';
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_changes,
        ARRAY['name', 'address', 'city', 'county', 'location', 'branch_id', 'access_notes', 'active'], c_what);
    PERFORM @extschema@._require_row(
        EXISTS (SELECT 1 FROM @extschema@.site WHERE tenant_id = p_tenant_id AND site_id = p_site_id),
        c_what, p_site_id, p_tenant_id);
    UPDATE @extschema@.site s SET
        name = CASE WHEN p_changes ? 'name' THEN @extschema@._spec_text(p_changes, 'name', true, c_what) ELSE s.name END,
        address = CASE WHEN p_changes ? 'address' THEN @extschema@._spec_text(p_changes, 'address', false, c_what) ELSE s.address END,
        city = CASE WHEN p_changes ? 'city' THEN @extschema@._spec_text(p_changes, 'city', false, c_what) ELSE s.city END,
        county = CASE WHEN p_changes ? 'county' THEN @extschema@._spec_text(p_changes, 'county', false, c_what) ELSE s.county END,
        location = CASE WHEN p_changes ? 'location' THEN @extschema@._spec_location(p_changes, 'location', c_what) ELSE s.location END,
        branch_id = CASE WHEN p_changes ? 'branch_id'
                         THEN @extschema@._check_branch_ref(p_tenant_id, @extschema@._spec_bigint(p_changes, 'branch_id', false, c_what))
                         ELSE s.branch_id END,
        access_notes = CASE WHEN p_changes ? 'access_notes'
                            THEN @extschema@._spec_text(p_changes, 'access_notes', false, c_what) ELSE s.access_notes END,
        active = CASE WHEN p_changes ? 'active' THEN @extschema@._spec_bool(p_changes, 'active', true, c_what) ELSE s.active END,
        updated_at = now()
    WHERE s.tenant_id = p_tenant_id AND s.site_id = p_site_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_site(bigint, bigint, jsonb) IS
    'Changes the fields of a site named in p_changes (as create_site, except customer_id: a site stays with its customer).';

CREATE FUNCTION @extschema@.create_asset(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    c_what constant text := 'asset';
    v_site bigint;
    v_from date;
    v_until date;
    v_make text;
    v_serial text;
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    PERFORM @extschema@._spec_keys(p_spec,
        ARRAY['site_id', 'name', 'category', 'make', 'model', 'serial_number', 'installed_on',
              'warranty_from', 'warranty_until', 'active'], c_what);
    v_make := @extschema@._spec_text(p_spec, 'make', false, c_what);
    v_serial := @extschema@._spec_text(p_spec, 'serial_number', false, c_what);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.asset WHERE tenant_id = p_tenant_id AND serial_number = v_serial
                   AND coalesce(make, '') = coalesce(v_make, '')),
        c_what, 'serial_number', v_serial);
    v_site := @extschema@._spec_bigint(p_spec, 'site_id', true, c_what);
    PERFORM @extschema@._require_ref(
        EXISTS (SELECT 1 FROM @extschema@.site WHERE tenant_id = p_tenant_id AND site_id = v_site),
        'site', v_site::text, 'Create the site with womgr.create_site() first.');
    v_from := @extschema@._spec_date(p_spec, 'warranty_from', false, c_what);
    v_until := @extschema@._spec_date(p_spec, 'warranty_until', false, c_what);
    IF (v_from IS NULL) <> (v_until IS NULL) OR v_until < v_from THEN
        RAISE EXCEPTION 'the warranty of the asset spec needs warranty_from on or before warranty_until'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('warranty_from is %s and warranty_until is %s.',
                                  coalesce(v_from::text, 'missing'), coalesce(v_until::text, 'missing')),
                  HINT = 'Send both dates, or neither.';
    END IF;
    INSERT INTO @extschema@.asset (tenant_id, site_id, name, category, make, model, serial_number, installed_on,
                                   warranty, active)
    VALUES (p_tenant_id, v_site,
            @extschema@._spec_text(p_spec, 'name', true, c_what),
            @extschema@._spec_text(p_spec, 'category', false, c_what),
            v_make,
            @extschema@._spec_text(p_spec, 'model', false, c_what),
            v_serial,
            @extschema@._spec_date(p_spec, 'installed_on', false, c_what),
            CASE WHEN v_from IS NOT NULL THEN daterange(v_from, v_until, '[]') END,
            coalesce(@extschema@._spec_bool(p_spec, 'active', false, c_what), true))
    RETURNING asset_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_asset(bigint, jsonb) IS
    'Registers equipment at a site from {"site_id", "name", optional "category", "make", "model", "serial_number" (unique per make), "installed_on", "warranty_from", "warranty_until", "active"} (dates YYYY-MM-DD, warranty inclusive); returns its id.';
