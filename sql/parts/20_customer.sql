-- Customers, their contacts, their sites (where work happens) and the assets there.

CREATE TABLE @extschema@.customer (
    tenant_id      bigint NOT NULL,
    customer_id    bigint GENERATED ALWAYS AS IDENTITY,
    account_code   text CHECK (btrim(account_code) <> ''),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    kind           text NOT NULL DEFAULT 'business' CHECK (kind IN ('individual', 'business')),
    tax_pin        text CHECK (btrim(tax_pin) <> ''),
    phone          text,
    email          text,
    branch_id      bigint,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id)
);
CREATE UNIQUE INDEX customer_account_code_key ON @extschema@.customer (tenant_id, account_code)
    WHERE account_code IS NOT NULL;
CREATE INDEX customer_branch_idx ON @extschema@.customer (tenant_id, branch_id);
COMMENT ON TABLE @extschema@.customer IS 'A customer (person or company) that work is done for.';
COMMENT ON COLUMN @extschema@.customer.account_code IS 'The customer''s account number in the tenant''s books; unique per tenant.';
COMMENT ON COLUMN @extschema@.customer.tax_pin IS 'Tax identification number (in Kenya the KRA PIN).';
COMMENT ON COLUMN @extschema@.customer.branch_id IS 'Branch that serves the customer by default.';

CREATE TABLE @extschema@.contact (
    tenant_id      bigint NOT NULL,
    contact_id     bigint GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint NOT NULL,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    role           text,
    phone          text,
    email          text,
    is_primary     boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, contact_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id)
);
CREATE INDEX contact_customer_idx ON @extschema@.contact (tenant_id, customer_id);
CREATE UNIQUE INDEX contact_one_primary_key ON @extschema@.contact (tenant_id, customer_id) WHERE is_primary;
COMMENT ON TABLE @extschema@.contact IS 'A person to call at a customer; at most one primary contact per customer.';

CREATE TABLE @extschema@.site (
    tenant_id      bigint NOT NULL,
    site_id        bigint GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint NOT NULL,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    address        text,
    city           text,
    county         text,
    location       geography(Point, 4326),
    branch_id      bigint,
    access_notes   text,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, site_id),
    UNIQUE (tenant_id, site_id, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id)
);
CREATE INDEX site_customer_idx ON @extschema@.site (tenant_id, customer_id);
CREATE INDEX site_location_idx ON @extschema@.site USING gist (location);
COMMENT ON TABLE @extschema@.site IS 'A place where work is done; it belongs to one customer.';
COMMENT ON COLUMN @extschema@.site.location IS 'WGS 84 point (longitude, latitude) of the site.';
COMMENT ON COLUMN @extschema@.site.branch_id IS 'Branch that serves the site; falls back to the customer''s branch.';

CREATE TABLE @extschema@.asset (
    tenant_id      bigint NOT NULL,
    asset_id       bigint GENERATED ALWAYS AS IDENTITY,
    site_id        bigint NOT NULL,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    category       text,
    make           text,
    model          text,
    serial_number  text CHECK (btrim(serial_number) <> ''),
    installed_on   date,
    warranty       daterange CHECK (warranty IS NULL OR NOT isempty(warranty)),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, asset_id),
    UNIQUE (tenant_id, asset_id, site_id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES @extschema@.site (tenant_id, site_id)
);
CREATE INDEX asset_site_idx ON @extschema@.asset (tenant_id, site_id);
CREATE UNIQUE INDEX asset_serial_key ON @extschema@.asset (tenant_id, coalesce(make, ''), serial_number)
    WHERE serial_number IS NOT NULL;
COMMENT ON TABLE @extschema@.asset IS 'Equipment installed at a site (a generator, an AC unit, a solar inverter).';
COMMENT ON COLUMN @extschema@.asset.warranty IS 'Dates the warranty covers, [start, end).';
