-- What gathers around a work order while it is done: the people assigned,
-- approvals, notes, attachments (proof of completion), the service request
-- it came from, and the outbox that tells the world about every event.

CREATE TABLE @extschema@.department (
    tenant_id      bigint NOT NULL,
    department_id  bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    branch_id      bigint,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, department_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id)
);
COMMENT ON TABLE @extschema@.department IS 'A department or team (electrical, HVAC crew, night shift) that work orders can be assigned to as a whole.';

CREATE TABLE @extschema@.department_member (
    tenant_id      bigint NOT NULL,
    department_id  bigint NOT NULL,
    technician_id  bigint NOT NULL,
    PRIMARY KEY (tenant_id, department_id, technician_id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES @extschema@.department (tenant_id, department_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id) ON DELETE CASCADE
);
CREATE INDEX department_member_technician_idx ON @extschema@.department_member (tenant_id, technician_id);
COMMENT ON TABLE @extschema@.department_member IS 'Technicians in a department or team.';

CREATE TABLE @extschema@.assignment (
    tenant_id      bigint NOT NULL,
    assignment_id  bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id  bigint NOT NULL,
    role           text NOT NULL CHECK (role IN ('lead', 'backup', 'crew', 'department')),
    technician_id  bigint,
    department_id  bigint,
    booked         tstzrange CHECK (booked IS NULL OR (NOT isempty(booked) AND NOT lower_inf(booked) AND NOT upper_inf(booked))),
    assigned_by    text NOT NULL,
    assigned_at    timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    ended_by       text,
    end_reason     text,
    PRIMARY KEY (tenant_id, assignment_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES @extschema@.department (tenant_id, department_id),
    CHECK ((role = 'department') = (department_id IS NOT NULL)),
    CHECK ((role = 'department') = (technician_id IS NULL)),
    CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
CREATE UNIQUE INDEX assignment_one_lead ON @extschema@.assignment (tenant_id, work_order_id)
    WHERE role = 'lead' AND ended_at IS NULL;
CREATE UNIQUE INDEX assignment_one_per_technician ON @extschema@.assignment (tenant_id, work_order_id, technician_id)
    WHERE technician_id IS NOT NULL AND ended_at IS NULL;
CREATE UNIQUE INDEX assignment_one_per_department ON @extschema@.assignment (tenant_id, work_order_id, department_id)
    WHERE department_id IS NOT NULL AND ended_at IS NULL;
CREATE INDEX assignment_technician_idx ON @extschema@.assignment (tenant_id, technician_id) WHERE ended_at IS NULL;
COMMENT ON TABLE @extschema@.assignment IS
    'Who works on a work order: one lead, backups and crew members (technicians) or whole departments, each with an optional booked time range. Ended assignments stay as history.';
COMMENT ON COLUMN @extschema@.assignment.booked IS 'The time the technician is booked for the job; the dispatch engine keeps bookings from overlapping.';

CREATE TABLE @extschema@.approval (
    tenant_id        bigint NOT NULL,
    approval_id      bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id    bigint NOT NULL,
    approval_step_id bigint NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by     text NOT NULL,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    request_note     text,
    decided_by       text,
    decided_at       timestamptz,
    decision_reason  text,
    PRIMARY KEY (tenant_id, approval_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, approval_step_id) REFERENCES @extschema@.approval_step (tenant_id, approval_step_id),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((decided_at IS NULL) = (decided_by IS NULL))
);
CREATE UNIQUE INDEX approval_one_open ON @extschema@.approval (tenant_id, work_order_id, approval_step_id)
    WHERE status IN ('pending', 'approved');
COMMENT ON TABLE @extschema@.approval IS
    'A request for an approval step on a work order and its decision, with who asked, who decided, when and why.';

CREATE TABLE @extschema@.note (
    tenant_id      bigint NOT NULL,
    note_id        bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id  bigint NOT NULL,
    body           text NOT NULL CHECK (btrim(body) <> ''),
    visibility     text NOT NULL DEFAULT 'internal' CHECK (visibility IN ('internal', 'customer')),
    mentions       text[] NOT NULL DEFAULT '{}',
    author         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, note_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id)
);
CREATE INDEX note_work_order_idx ON @extschema@.note (tenant_id, work_order_id, created_at);
COMMENT ON TABLE @extschema@.note IS 'A note on a work order: internal (staff only) or visible to the customer; @mentions notify colleagues.';

CREATE TABLE @extschema@.service_request (
    tenant_id          bigint NOT NULL,
    service_request_id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id        bigint NOT NULL,
    site_id            bigint,
    contact_id         bigint,
    work_order_type_id bigint,
    priority_id        bigint,
    description        text NOT NULL CHECK (btrim(description) <> ''),
    channel            text NOT NULL DEFAULT 'manual' CHECK (channel ~ '^[a-z0-9_.-]{1,40}$'),
    status             text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'triaged', 'approved', 'rejected', 'converted')),
    triaged_by         text,
    triaged_at         timestamptz,
    decided_by         text,
    decided_at         timestamptz,
    decision_reason    text,
    work_order_id      bigint,
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, service_request_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, site_id, customer_id) REFERENCES @extschema@.site (tenant_id, site_id, customer_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES @extschema@.contact (tenant_id, contact_id),
    FOREIGN KEY (tenant_id, work_order_type_id) REFERENCES @extschema@.work_order_type (tenant_id, work_order_type_id),
    FOREIGN KEY (tenant_id, priority_id) REFERENCES @extschema@.priority (tenant_id, priority_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    CHECK ((status = 'converted') = (work_order_id IS NOT NULL))
);
CREATE INDEX service_request_open_idx ON @extschema@.service_request (tenant_id, status)
    WHERE status IN ('new', 'triaged', 'approved');
COMMENT ON TABLE @extschema@.service_request IS
    'A customer''s request for service, before it is a work order: triaged, approved or rejected, then converted into a work order that keeps the link.';

CREATE TABLE @extschema@.attachment (
    tenant_id          bigint NOT NULL,
    attachment_id      bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id      bigint,
    service_request_id bigint,
    kind               text NOT NULL CHECK (kind IN ('photo_before', 'photo_after', 'signature', 'document')),
    content_hash       bytea NOT NULL CHECK (length(content_hash) = 32),
    size_bytes         bigint NOT NULL CHECK (size_bytes > 0),
    mime_type          text NOT NULL CHECK (mime_type ~ '^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$'),
    storage_uri        text NOT NULL CHECK (btrim(storage_uri) <> ''),
    captured_at        timestamptz NOT NULL,
    location           geography(Point, 4326),
    signed_by          text,
    caption            text,
    uploaded_by        text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, attachment_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, service_request_id) REFERENCES @extschema@.service_request (tenant_id, service_request_id),
    CHECK (work_order_id IS NOT NULL OR service_request_id IS NOT NULL),
    CHECK ((kind = 'signature') = (signed_by IS NOT NULL))
);
CREATE UNIQUE INDEX attachment_work_order_hash_key ON @extschema@.attachment (tenant_id, work_order_id, kind, content_hash)
    WHERE work_order_id IS NOT NULL;
CREATE INDEX attachment_request_idx ON @extschema@.attachment (tenant_id, service_request_id)
    WHERE service_request_id IS NOT NULL;
COMMENT ON TABLE @extschema@.attachment IS
    'A photo, signature or document of a work order or service request: the file lives in object storage (storage_uri); womgr keeps its SHA-256, size, type, capture time and GPS point.';
COMMENT ON COLUMN @extschema@.attachment.content_hash IS 'SHA-256 of the file''s bytes; the same file sent twice is recorded once.';

CREATE TABLE @extschema@.outbox (
    tenant_id      bigint NOT NULL,
    outbox_id      bigint GENERATED ALWAYS AS IDENTITY,
    topic          text NOT NULL,
    work_order_id  bigint,
    event_id       bigint,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    claimed_at     timestamptz,
    PRIMARY KEY (tenant_id, outbox_id)
);
CREATE INDEX outbox_unclaimed_idx ON @extschema@.outbox (tenant_id, outbox_id) WHERE claimed_at IS NULL;
COMMENT ON TABLE @extschema@.outbox IS
    'Events for apps, workers and integrations, written in the same transaction as the change; a NOTIFY womgr_events follows each at commit. Consume with womgr.outbox_claim().';
