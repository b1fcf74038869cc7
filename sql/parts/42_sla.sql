-- SLA: contracts, policies with targets by priority, and the clocks of each
-- work order with their pauses.  Deadlines are computed with the calendar
-- arithmetic of src/calendar.c, in the transaction of the change.

ALTER TABLE @extschema@.branch ADD COLUMN calendar_id bigint;
ALTER TABLE @extschema@.branch ADD FOREIGN KEY (tenant_id, calendar_id) REFERENCES @extschema@.calendar (tenant_id, calendar_id);
COMMENT ON COLUMN @extschema@.branch.calendar_id IS 'The business calendar SLA policies without their own calendar use for this branch''s work orders.';

CREATE TABLE @extschema@.contract (
    tenant_id      bigint NOT NULL,
    contract_id    bigint GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint NOT NULL,
    code           text NOT NULL CHECK (btrim(code) <> ''),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    valid          daterange NOT NULL CHECK (NOT isempty(valid)),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, contract_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id)
);
CREATE INDEX contract_customer_idx ON @extschema@.contract (tenant_id, customer_id);
COMMENT ON TABLE @extschema@.contract IS 'A service contract with a customer for a period; its SLA policy takes precedence over all others.';

CREATE TABLE @extschema@.sla_policy (
    tenant_id          bigint NOT NULL,
    sla_policy_id      bigint GENERATED ALWAYS AS IDENTITY,
    code               text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name               text NOT NULL CHECK (btrim(name) <> ''),
    scope              text NOT NULL CHECK (scope IN ('contract', 'customer', 'type', 'default')),
    contract_id        bigint,
    customer_id        bigint,
    work_order_type_id bigint,
    calendar_id        bigint,
    start_status       text CHECK (start_status ~ '^[a-z0-9_]{1,40}$'),
    warn_at            smallint[] NOT NULL DEFAULT '{50,75,90}',
    escalation         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(escalation) = 'object'),
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sla_policy_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, contract_id) REFERENCES @extschema@.contract (tenant_id, contract_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, work_order_type_id) REFERENCES @extschema@.work_order_type (tenant_id, work_order_type_id),
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES @extschema@.calendar (tenant_id, calendar_id),
    CHECK ((scope = 'contract') = (contract_id IS NOT NULL)),
    CHECK ((scope = 'customer') = (customer_id IS NOT NULL)),
    CHECK ((scope = 'type') = (work_order_type_id IS NOT NULL))
);
CREATE UNIQUE INDEX sla_policy_one_default ON @extschema@.sla_policy (tenant_id) WHERE scope = 'default' AND active;
CREATE UNIQUE INDEX sla_policy_one_per_contract ON @extschema@.sla_policy (tenant_id, contract_id) WHERE active AND contract_id IS NOT NULL;
CREATE UNIQUE INDEX sla_policy_one_per_customer ON @extschema@.sla_policy (tenant_id, customer_id) WHERE active AND customer_id IS NOT NULL;
CREATE UNIQUE INDEX sla_policy_one_per_type ON @extschema@.sla_policy (tenant_id, work_order_type_id) WHERE active AND work_order_type_id IS NOT NULL;
COMMENT ON TABLE @extschema@.sla_policy IS
    'Service-level targets for a scope: a contract, a customer, a work-order type or the tenant''s default (that order of precedence), measured on a calendar (the policy''s, else the branch''s, else around the clock).';
COMMENT ON COLUMN @extschema@.sla_policy.start_status IS 'The status whose first entry starts the clocks; NULL: they start when the work order is created.';
COMMENT ON COLUMN @extschema@.sla_policy.warn_at IS 'Percentages of a target at which a warning is raised, once each.';
COMMENT ON COLUMN @extschema@.sla_policy.escalation IS
    'What sla_tick does on a warning and on a breach: {"warning": {"notify": ["dispatcher"]}, "breach": {"notify": ["manager"], "raise_priority": true, "reassign": "dispatch_queue"}}.';

CREATE TABLE @extschema@.sla_target (
    tenant_id      bigint NOT NULL,
    sla_target_id  bigint GENERATED ALWAYS AS IDENTITY,
    sla_policy_id  bigint NOT NULL,
    metric         text NOT NULL CHECK (metric IN ('response', 'arrival', 'resolution')),
    priority_id    bigint,
    target         interval NOT NULL CHECK (target > interval '0'),
    PRIMARY KEY (tenant_id, sla_target_id),
    FOREIGN KEY (tenant_id, sla_policy_id) REFERENCES @extschema@.sla_policy (tenant_id, sla_policy_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, priority_id) REFERENCES @extschema@.priority (tenant_id, priority_id)
);
CREATE UNIQUE INDEX sla_target_key ON @extschema@.sla_target (tenant_id, sla_policy_id, metric, coalesce(priority_id, 0));
COMMENT ON TABLE @extschema@.sla_target IS
    'A target of a policy: first response (leaving category new), arrival on site (in_progress) or resolution (completed), for one priority or, with no priority, for all.';

CREATE TABLE @extschema@.sla_clock (
    tenant_id        bigint NOT NULL,
    work_order_id    bigint NOT NULL,
    metric           text NOT NULL CHECK (metric IN ('response', 'arrival', 'resolution')),
    sla_policy_id    bigint NOT NULL,
    calendar_id      bigint,
    calendar_version integer,
    target           interval NOT NULL,
    started_at       timestamptz,
    consumed         interval NOT NULL DEFAULT '0',
    counted_to       timestamptz,
    state            text NOT NULL CHECK (state IN ('pending', 'running', 'paused', 'met', 'missed', 'cancelled')),
    due_at           timestamptz,
    stopped_at       timestamptz,
    warned_pct       smallint NOT NULL DEFAULT 0,
    breach_raised_at timestamptz,
    PRIMARY KEY (tenant_id, work_order_id, metric),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, sla_policy_id) REFERENCES @extschema@.sla_policy (tenant_id, sla_policy_id),
    FOREIGN KEY (tenant_id, calendar_id, calendar_version)
        REFERENCES @extschema@.calendar_version (tenant_id, calendar_id, version)
);
ALTER TABLE @extschema@.sla_clock ADD CHECK ((state = 'pending') = (started_at IS NULL) AND (started_at IS NULL) = (counted_to IS NULL));
CREATE INDEX sla_clock_due_idx ON @extschema@.sla_clock (tenant_id, due_at) WHERE state = 'running';
CREATE INDEX sla_clock_calendar_idx ON @extschema@.sla_clock (tenant_id, calendar_id) WHERE state IN ('running', 'paused');
COMMENT ON TABLE @extschema@.sla_clock IS
    'One SLA clock of a work order: its target, the business time consumed up to counted_to, and the due time while it runs. Recomputable from the status history and the pauses.';

CREATE TABLE @extschema@.sla_pause (
    tenant_id      bigint NOT NULL,
    sla_pause_id   bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id  bigint NOT NULL,
    paused_at      timestamptz NOT NULL,
    resumed_at     timestamptz CHECK (resumed_at >= paused_at),
    status         text NOT NULL,
    PRIMARY KEY (tenant_id, sla_pause_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id)
);
CREATE UNIQUE INDEX sla_pause_one_open ON @extschema@.sla_pause (tenant_id, work_order_id) WHERE resumed_at IS NULL;
CREATE INDEX sla_pause_work_order_idx ON @extschema@.sla_pause (tenant_id, work_order_id, paused_at);
COMMENT ON TABLE @extschema@.sla_pause IS 'A time the SLA clocks of a work order stood still (a status whose SLA clock pauses).';
