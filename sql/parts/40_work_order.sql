-- Priorities, work-order types, work orders and their append-only event history.

CREATE TABLE @extschema@.priority (
    tenant_id      bigint NOT NULL,
    priority_id    bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    rank           integer NOT NULL CHECK (rank > 0),
    seeded         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, priority_id),
    UNIQUE (tenant_id, code),
    UNIQUE (tenant_id, rank),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
COMMENT ON TABLE @extschema@.priority IS 'Priority levels of a tenant; rank 1 is the most urgent.';

CREATE TABLE @extschema@.work_order_type (
    tenant_id           bigint NOT NULL,
    work_order_type_id  bigint GENERATED ALWAYS AS IDENTITY,
    code                text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name                text NOT NULL CHECK (btrim(name) <> ''),
    default_priority_id bigint NOT NULL,
    estimated_duration  interval NOT NULL DEFAULT '2 hours' CHECK (estimated_duration > '0'),
    workflow_id         bigint,
    completion_requirements jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(completion_requirements) = 'object'),
    active              boolean NOT NULL DEFAULT true,
    seeded              boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, work_order_type_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, default_priority_id) REFERENCES @extschema@.priority (tenant_id, priority_id),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES @extschema@.workflow (tenant_id, workflow_id)
);
COMMENT ON TABLE @extschema@.work_order_type IS 'Kinds of work (installation, repair, inspection, ...) with their default priority, required skills, workflow and proof-of-completion requirements.';
COMMENT ON COLUMN @extschema@.work_order_type.workflow_id IS 'The workflow its work orders follow; NULL: the tenant''s default workflow.';
COMMENT ON COLUMN @extschema@.work_order_type.completion_requirements IS
    'Proof of completion every work order of this type needs: {"signature": true, "min_before_photos": n, "min_after_photos": n, "max_distance_m": metres, "customer_confirmation": true}.';

CREATE TABLE @extschema@.work_order_type_skill (
    tenant_id           bigint NOT NULL,
    work_order_type_id  bigint NOT NULL,
    skill_id            bigint NOT NULL,
    min_level           smallint NOT NULL DEFAULT 1 CHECK (min_level BETWEEN 1 AND 5),
    PRIMARY KEY (tenant_id, work_order_type_id, skill_id),
    FOREIGN KEY (tenant_id, work_order_type_id) REFERENCES @extschema@.work_order_type (tenant_id, work_order_type_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, skill_id) REFERENCES @extschema@.skill (tenant_id, skill_id)
);
COMMENT ON TABLE @extschema@.work_order_type_skill IS 'Skills a work-order type requires, each at a minimum level.';

CREATE TABLE @extschema@.work_order_template (
    tenant_id          bigint NOT NULL,
    template_id        bigint GENERATED ALWAYS AS IDENTITY,
    code               text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name               text NOT NULL CHECK (btrim(name) <> ''),
    work_order_type_id bigint NOT NULL,
    priority_id        bigint,
    description        text NOT NULL CHECK (btrim(description) <> ''),
    extra_requirements jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra_requirements) = 'object'),
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, template_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, work_order_type_id) REFERENCES @extschema@.work_order_type (tenant_id, work_order_type_id),
    FOREIGN KEY (tenant_id, priority_id) REFERENCES @extschema@.priority (tenant_id, priority_id)
);
COMMENT ON TABLE @extschema@.work_order_template IS
    'A reusable job description (type, priority, description, extra proof-of-completion requirements) that work orders and maintenance plans are generated from.';

CREATE TABLE @extschema@.work_order (
    tenant_id          bigint NOT NULL,
    work_order_id      bigint GENERATED ALWAYS AS IDENTITY,
    number             text NOT NULL,
    branch_id          bigint,
    customer_id        bigint NOT NULL,
    site_id            bigint NOT NULL,
    asset_id           bigint,
    work_order_type_id bigint NOT NULL,
    priority_id        bigint NOT NULL,
    workflow_id        bigint NOT NULL,
    status             text NOT NULL,
    category           @extschema@.status_category NOT NULL,
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    requested_window   tstzrange CHECK (requested_window IS NULL OR NOT isempty(requested_window)),
    description        text NOT NULL CHECK (btrim(description) <> ''),
    restricted         boolean NOT NULL DEFAULT false,
    quoted_amount      numeric(14, 2) CHECK (quoted_amount >= 0.0),
    resolution         text CHECK (btrim(resolution) <> ''),
    fields             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
    template_id        bigint,
    extra_requirements jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra_requirements) = 'object'),
    completion_requirements jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(completion_requirements) = 'object'),
    customer_confirmed_at timestamptz,
    customer_confirmed_by text,
    version            integer NOT NULL DEFAULT 1,
    source             text NOT NULL DEFAULT 'manual' CHECK (btrim(source) <> ''),
    external_ref       text CHECK (btrim(external_ref) <> ''),
    created_by         text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, work_order_id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    FOREIGN KEY (tenant_id, site_id, customer_id) REFERENCES @extschema@.site (tenant_id, site_id, customer_id),
    FOREIGN KEY (tenant_id, asset_id, site_id) REFERENCES @extschema@.asset (tenant_id, asset_id, site_id),
    FOREIGN KEY (tenant_id, work_order_type_id) REFERENCES @extschema@.work_order_type (tenant_id, work_order_type_id),
    FOREIGN KEY (tenant_id, priority_id) REFERENCES @extschema@.priority (tenant_id, priority_id),
    FOREIGN KEY (tenant_id, workflow_id, status) REFERENCES @extschema@.workflow_status (tenant_id, workflow_id, code),
    FOREIGN KEY (tenant_id, template_id) REFERENCES @extschema@.work_order_template (tenant_id, template_id)
);
CREATE UNIQUE INDEX work_order_external_ref_key ON @extschema@.work_order (tenant_id, source, external_ref)
    WHERE external_ref IS NOT NULL;
CREATE INDEX work_order_customer_idx ON @extschema@.work_order (tenant_id, customer_id);
CREATE INDEX work_order_site_idx ON @extschema@.work_order (tenant_id, site_id);
CREATE INDEX work_order_asset_idx ON @extschema@.work_order (tenant_id, asset_id) WHERE asset_id IS NOT NULL;
CREATE INDEX work_order_open_idx ON @extschema@.work_order (tenant_id, branch_id, category)
    WHERE category NOT IN ('closed', 'cancelled');
COMMENT ON TABLE @extschema@.work_order IS 'A job to do for a customer at a site. Create it with womgr.create_work_order().';
COMMENT ON COLUMN @extschema@.work_order.number IS 'Human number such as WO-NBO-2026-000123 (prefix, branch code, year in the branch''s time zone, per-branch-and-year counter); assigned on insert when not given.';
COMMENT ON COLUMN @extschema@.work_order.status IS 'Workflow status code; new work orders start in the workflow''s initial status. Changes are checked against the workflow (src/workflow.c).';
COMMENT ON COLUMN @extschema@.work_order.category IS 'System category of the status, kept in step by the workflow trigger.';
COMMENT ON COLUMN @extschema@.work_order.workflow_id IS 'The workflow the work order follows: its type''s, else the tenant''s default; re-resolved on reclassification.';
COMMENT ON COLUMN @extschema@.work_order.quoted_amount IS 'Quoted price in the branch currency; approval steps with an amount threshold compare against it.';
COMMENT ON COLUMN @extschema@.work_order.resolution IS 'What was done / found, as the technician reports it.';
COMMENT ON COLUMN @extschema@.work_order.fields IS 'Custom fields of the tenant; transitions can require them as fields.<key>.';
COMMENT ON COLUMN @extschema@.work_order.extra_requirements IS 'Proof-of-completion requirements added by a template, maintenance plan, request or the caller, on top of the type''s.';
COMMENT ON COLUMN @extschema@.work_order.completion_requirements IS 'The requirements in force: the type''s merged with extra_requirements, the stricter of each (computed by the trigger).';
COMMENT ON COLUMN @extschema@.work_order.requested_window IS 'When the customer wants the work done.';
COMMENT ON COLUMN @extschema@.work_order.restricted IS 'Visible only to assigned personnel and managers.';
COMMENT ON COLUMN @extschema@.work_order.version IS 'Bumped by every update; pass it back for optimistic concurrency.';
COMMENT ON COLUMN @extschema@.work_order.source IS 'Intake channel (manual, portal, api, email, whatsapp, pm, ...).';
COMMENT ON COLUMN @extschema@.work_order.external_ref IS 'The sender''s own id; (source, external_ref) makes intake idempotent.';

CREATE TABLE @extschema@.work_order_event (
    tenant_id           bigint NOT NULL,
    work_order_event_id bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id       bigint NOT NULL,
    event_type          text NOT NULL CHECK (event_type ~ '^[a-z_]{1,40}$'),
    from_status         text,
    to_status           text,
    actor               text NOT NULL,
    db_role             text NOT NULL,
    client_ip           inet,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    details             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    PRIMARY KEY (tenant_id, work_order_event_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id)
);
CREATE INDEX work_order_event_work_order_idx ON @extschema@.work_order_event (tenant_id, work_order_id, occurred_at);
COMMENT ON TABLE @extschema@.work_order_event IS
    'Append-only history of a work order: creation, status changes, and (with later engines) assignments, notes and approvals, each with actor, database role and client address.';
COMMENT ON COLUMN @extschema@.work_order_event.actor IS 'Application user from womgr.set_context, else the database role.';
