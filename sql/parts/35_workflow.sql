-- Workflows: each tenant defines its statuses (mapped to the fixed system
-- categories), the moves between them, who may make each move and what must
-- be true first.  The C trigger in src/workflow.c enforces them on every
-- change of womgr.work_order, whoever makes it.

CREATE DOMAIN @extschema@.workflow_role AS text
    CHECK (VALUE IN ('admin', 'manager', 'dispatcher', 'technician', 'accountant', 'auditor', 'customer', 'bi'));
COMMENT ON DOMAIN @extschema@.workflow_role IS
    'A womgr role by its short name; the database role is womgr_<name> (see womgr.create_roles()).';

CREATE TABLE @extschema@.workflow (
    tenant_id      bigint NOT NULL,
    workflow_id    bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    is_default     boolean NOT NULL DEFAULT false,
    seeded         boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, workflow_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
CREATE UNIQUE INDEX workflow_one_default ON @extschema@.workflow (tenant_id) WHERE is_default;
COMMENT ON TABLE @extschema@.workflow IS
    'A process for work orders: its statuses, transitions and approval steps. Work-order types name one; types that do not follow the tenant''s default.';

CREATE TABLE @extschema@.workflow_status (
    tenant_id          bigint NOT NULL,
    workflow_status_id bigint GENERATED ALWAYS AS IDENTITY,
    workflow_id        bigint NOT NULL,
    code               text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    label              text NOT NULL CHECK (btrim(label) <> ''),
    category           @extschema@.status_category NOT NULL,
    sla_clock          text NOT NULL CHECK (sla_clock IN ('run', 'pause', 'stop')),
    is_initial         boolean NOT NULL DEFAULT false,
    position           smallint NOT NULL DEFAULT 0,
    seeded             boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, workflow_status_id),
    UNIQUE (tenant_id, workflow_id, code),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES @extschema@.workflow (tenant_id, workflow_id) ON DELETE CASCADE,
    CHECK (NOT is_initial OR category = 'new')
);
CREATE UNIQUE INDEX workflow_status_one_initial ON @extschema@.workflow_status (tenant_id, workflow_id) WHERE is_initial;
COMMENT ON TABLE @extschema@.workflow_status IS
    'A status of a workflow, its system category and what the SLA clock does in it (run, pause, stop). New work orders start in the initial status.';

CREATE TABLE @extschema@.approval_step (
    tenant_id          bigint NOT NULL,
    approval_step_id   bigint GENERATED ALWAYS AS IDENTITY,
    workflow_id        bigint NOT NULL,
    code               text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name               text NOT NULL CHECK (btrim(name) <> ''),
    approver_roles     @extschema@.workflow_role[] NOT NULL CHECK (cardinality(approver_roles) > 0),
    min_quoted_amount  numeric(14, 2) CHECK (min_quoted_amount >= 0.0),
    seeded             boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, approval_step_id),
    UNIQUE (tenant_id, workflow_id, code),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES @extschema@.workflow (tenant_id, workflow_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.approval_step IS
    'A named approval that transitions can require; it applies to every work order, or only to those quoted at min_quoted_amount or more.';

CREATE TABLE @extschema@.workflow_transition (
    tenant_id              bigint NOT NULL,
    workflow_transition_id bigint GENERATED ALWAYS AS IDENTITY,
    workflow_id            bigint NOT NULL,
    from_status            text NOT NULL,
    to_status              text NOT NULL,
    label                  text,
    roles                  @extschema@.workflow_role[] NOT NULL DEFAULT '{}',
    requires_assignment    boolean NOT NULL DEFAULT false,
    required_approvals     text[] NOT NULL DEFAULT '{}',
    requires_proof         boolean NOT NULL DEFAULT false,
    required_fields        text[] NOT NULL DEFAULT '{}',
    requires_note          boolean NOT NULL DEFAULT false,
    enabled                boolean NOT NULL DEFAULT true,
    seeded                 boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, workflow_transition_id),
    UNIQUE (tenant_id, workflow_id, from_status, to_status),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES @extschema@.workflow (tenant_id, workflow_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, workflow_id, from_status)
        REFERENCES @extschema@.workflow_status (tenant_id, workflow_id, code) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, workflow_id, to_status)
        REFERENCES @extschema@.workflow_status (tenant_id, workflow_id, code) ON DELETE CASCADE,
    CHECK (from_status <> to_status)
);
COMMENT ON TABLE @extschema@.workflow_transition IS
    'An allowed move between two statuses: which roles may make it (empty: everyone; admin always) and its guards.';
COMMENT ON COLUMN @extschema@.workflow_transition.requires_assignment IS 'A lead technician must be assigned.';
COMMENT ON COLUMN @extschema@.workflow_transition.required_approvals IS 'Codes of approval steps that must be granted (steps whose amount threshold the work order does not reach are skipped).';
COMMENT ON COLUMN @extschema@.workflow_transition.requires_proof IS 'The work order''s proof-of-completion requirements must be met (always enforced on moves into a completed-category status).';
COMMENT ON COLUMN @extschema@.workflow_transition.required_fields IS 'Work-order columns (e.g. resolution) or custom fields (fields.<key>) that must be filled.';
COMMENT ON COLUMN @extschema@.workflow_transition.requires_note IS 'A note (reason) must be given through womgr.transition().';
COMMENT ON COLUMN @extschema@.workflow_transition.enabled IS
    'false: removed. A removed seeded transition is kept disabled rather than deleted, so pg_dump carries the removal and a restore does not bring the seeded move back.';
