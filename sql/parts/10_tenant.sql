-- Tenants (service companies), branches and per-tenant counters.
-- Citus rules (DESIGN.md): tenant_id bigint NOT NULL in every table, primary
-- keys (tenant_id, id), composite foreign keys that start with tenant_id.

CREATE TABLE @extschema@.tenant (
    tenant_id      bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,32}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    timezone       text NOT NULL DEFAULT 'Africa/Nairobi',
    currency       char(3) NOT NULL DEFAULT 'KES' CHECK (currency ~ '^[A-Z]{3}$'),
    work_order_prefix text NOT NULL DEFAULT 'WO' CHECK (work_order_prefix ~ '^[A-Z0-9]{1,8}$'),
    seeded         boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);
-- tenant is the one reference table (replicated to every node under Citus),
-- so its code may be unique across tenants.
CREATE UNIQUE INDEX tenant_code_key ON @extschema@.tenant (lower(code));
COMMENT ON TABLE @extschema@.tenant IS
    'A service company. Every other table is scoped by tenant_id; a fresh install has one default tenant. Under Citus this is the reference table.';
COMMENT ON COLUMN @extschema@.tenant.timezone IS 'IANA time zone used where a branch sets none.';
COMMENT ON COLUMN @extschema@.tenant.work_order_prefix IS 'First part of human work-order numbers, as in WO-NBO-2026-000123.';
COMMENT ON COLUMN @extschema@.tenant.seeded IS 'True for rows the install script created; pg_dump restores edits to them.';

CREATE TABLE @extschema@.tenant_counter (
    tenant_id      bigint NOT NULL,
    counter_name   text NOT NULL,
    last_value     bigint NOT NULL DEFAULT 0 CHECK (last_value >= 0),
    PRIMARY KEY (tenant_id, counter_name),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
COMMENT ON TABLE @extschema@.tenant_counter IS
    'Per-tenant counters for human numbers (work orders per branch and year, later invoices). A row lock makes them gapless.';

CREATE TABLE @extschema@.branch (
    tenant_id        bigint NOT NULL,
    branch_id        bigint GENERATED ALWAYS AS IDENTITY,
    code             text NOT NULL CHECK (code ~ '^[A-Z0-9]{1,8}$'),
    name             text NOT NULL CHECK (btrim(name) <> ''),
    parent_branch_id bigint,
    timezone         text NOT NULL,
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    location         geography(Point, 4326),
    address          text,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, branch_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id),
    FOREIGN KEY (tenant_id, parent_branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    CHECK (parent_branch_id IS DISTINCT FROM branch_id)
);
CREATE INDEX branch_parent_idx ON @extschema@.branch (tenant_id, parent_branch_id);
COMMENT ON TABLE @extschema@.branch IS
    'A branch or region of a tenant. parent_branch_id forms the hierarchy (head office > region > branch).';
COMMENT ON COLUMN @extschema@.branch.code IS 'Short upper-case code used in human numbers, e.g. NBO.';
COMMENT ON COLUMN @extschema@.branch.timezone IS 'IANA time zone of the branch; work-order years and local hours use it.';
COMMENT ON COLUMN @extschema@.branch.currency IS 'ISO 4217 currency the branch bills in.';
