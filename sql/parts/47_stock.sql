-- Parts and stock: the parts catalogue, stock locations (warehouses and
-- technicians' vans), stock levels that never go negative, the append-only
-- ledger of every stock movement, reservations for scheduled jobs, the parts
-- a job needs, and low-stock alerts.  Quantities are numeric with at most 3
-- decimals (metres, kilograms, litres); costs carry 4 decimals, prices 2.

CREATE TABLE @extschema@.part (
    tenant_id      bigint NOT NULL,
    part_id        bigint GENERATED ALWAYS AS IDENTITY,
    sku            text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    unit           text NOT NULL DEFAULT 'each' CHECK (unit ~ '^[a-z][a-z0-9_]{0,15}$'),
    cost           numeric(16, 4) NOT NULL DEFAULT 0 CHECK (cost >= 0.0),
    price          numeric(14, 2) NOT NULL DEFAULT 0 CHECK (price >= 0.0),
    tax_class_id   bigint NOT NULL,
    average_cost   numeric(16, 4) NOT NULL DEFAULT 0 CHECK (average_cost >= 0.0),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, part_id),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id),
    FOREIGN KEY (tenant_id, tax_class_id) REFERENCES @extschema@.tax_class (tenant_id, tax_class_id)
);
CREATE UNIQUE INDEX part_sku_key ON @extschema@.part (tenant_id, lower(sku));
COMMENT ON TABLE @extschema@.part IS
    'The parts catalogue: what a tenant stocks, issues to jobs and bills. Create and change parts with womgr.create_part() and womgr.update_part(); stock is in womgr.stock_level.';
COMMENT ON COLUMN @extschema@.part.sku IS 'Stock-keeping unit code, unique per tenant ignoring case.';
COMMENT ON COLUMN @extschema@.part.unit IS 'Unit of measure of quantities: each, m, kg, l, box, ...';
COMMENT ON COLUMN @extschema@.part.cost IS 'Unit cost of the last receipt (purchase).';
COMMENT ON COLUMN @extschema@.part.price IS 'Selling price per unit before tax; issues to jobs record it, so later changes do not touch what was issued.';
COMMENT ON COLUMN @extschema@.part.tax_class_id IS 'How the part is taxed when billed; the tenant''s vat_standard unless given.';
COMMENT ON COLUMN @extschema@.part.average_cost IS
    'Moving average unit cost over the stock on hand at every location: each receipt (and return) makes it (on_hand * average_cost + quantity * unit_cost) / (on_hand + quantity), rounded to 4 places. Issues, transfers and adjustments are valued at it.';

-- Invoice lines of kind part name the part they bill.
ALTER TABLE @extschema@.invoice_line ADD FOREIGN KEY (tenant_id, part_id) REFERENCES @extschema@.part (tenant_id, part_id);

CREATE TABLE @extschema@.stock_location (
    tenant_id      bigint NOT NULL,
    location_id    bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    kind           text NOT NULL CHECK (kind IN ('warehouse', 'van')),
    branch_id      bigint NOT NULL,
    technician_id  bigint,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, location_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id),
    CHECK (kind = 'van' OR technician_id IS NULL)
);
-- A technician drives at most one active van.
CREATE UNIQUE INDEX stock_location_one_van ON @extschema@.stock_location (tenant_id, technician_id)
    WHERE kind = 'van' AND active AND technician_id IS NOT NULL;
CREATE INDEX stock_location_branch_idx ON @extschema@.stock_location (tenant_id, branch_id, kind) WHERE active;
COMMENT ON TABLE @extschema@.stock_location IS
    'Where stock is kept: a branch''s warehouse or a technician''s van. Scheduled jobs reserve their parts from the lead technician''s van, else from a warehouse of the job''s branch.';
COMMENT ON COLUMN @extschema@.stock_location.technician_id IS 'The technician who drives the van (vans only); a technician has at most one active van.';

CREATE TABLE @extschema@.stock_level (
    tenant_id      bigint NOT NULL,
    location_id    bigint NOT NULL,
    part_id        bigint NOT NULL,
    on_hand        numeric(14, 3) NOT NULL DEFAULT 0 CHECK (on_hand >= 0.0),
    reserved       numeric(14, 3) NOT NULL DEFAULT 0 CHECK (reserved >= 0.0 AND reserved <= on_hand),
    reorder_point  numeric(14, 3) CHECK (reorder_point >= 0.0),
    reorder_qty    numeric(14, 3) CHECK (reorder_qty > 0.0),
    low            boolean NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, location_id, part_id),
    FOREIGN KEY (tenant_id, location_id) REFERENCES @extschema@.stock_location (tenant_id, location_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES @extschema@.part (tenant_id, part_id),
    CHECK (NOT low OR reorder_point IS NOT NULL)
);
CREATE INDEX stock_level_part_idx ON @extschema@.stock_level (tenant_id, part_id);
COMMENT ON TABLE @extschema@.stock_level IS
    'Stock of one part at one location. The CHECKs guarantee that stock never goes negative and that no more is reserved than is on hand; the stock functions lock the row and raise WM010 (not enough stock) before they would fail. Every change of on_hand is a row of womgr.stock_movement.';
COMMENT ON COLUMN @extschema@.stock_level.reserved IS 'Held by reservations of scheduled jobs (womgr.stock_reservation); available = on_hand - reserved.';
COMMENT ON COLUMN @extschema@.stock_level.reorder_point IS 'A low-stock alert is raised when available falls to or below it; NULL: no alerts.';
COMMENT ON COLUMN @extschema@.stock_level.reorder_qty IS 'How much to reorder when stock is low (told in the alert).';
COMMENT ON COLUMN @extschema@.stock_level.low IS
    'Available is at or below the reorder point now; kept by a trigger, so an alert is raised once per crossing and cleared when available rises above the point.';

CREATE TABLE @extschema@.stock_transfer (
    tenant_id         bigint NOT NULL,
    transfer_id       bigint GENERATED ALWAYS AS IDENTITY,
    part_id           bigint NOT NULL,
    from_location_id  bigint NOT NULL,
    to_location_id    bigint NOT NULL,
    quantity          numeric(14, 3) NOT NULL CHECK (quantity > 0.0),
    reference         text CHECK (btrim(reference) <> ''),
    actor             text NOT NULL,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, transfer_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES @extschema@.part (tenant_id, part_id),
    FOREIGN KEY (tenant_id, from_location_id) REFERENCES @extschema@.stock_location (tenant_id, location_id),
    FOREIGN KEY (tenant_id, to_location_id) REFERENCES @extschema@.stock_location (tenant_id, location_id),
    CHECK (from_location_id <> to_location_id)
);
COMMENT ON TABLE @extschema@.stock_transfer IS
    'A move of stock between two locations (append-only); its transfer_out and transfer_in movements name it.';

CREATE TABLE @extschema@.stock_movement (
    tenant_id      bigint NOT NULL,
    movement_id    bigint GENERATED ALWAYS AS IDENTITY,
    kind           text NOT NULL CHECK (kind IN ('receipt', 'transfer_out', 'transfer_in', 'issue', 'return', 'adjustment')),
    location_id    bigint NOT NULL,
    part_id        bigint NOT NULL,
    quantity       numeric(14, 3) NOT NULL CHECK (quantity <> 0.0),
    unit_cost      numeric(16, 4) NOT NULL CHECK (unit_cost >= 0.0),
    unit_price     numeric(14, 2) CHECK (unit_price >= 0.0),
    work_order_id  bigint,
    transfer_id    bigint,
    reason         text,
    reference      text CHECK (btrim(reference) <> ''),
    actor          text NOT NULL,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, movement_id),
    FOREIGN KEY (tenant_id, location_id, part_id) REFERENCES @extschema@.stock_level (tenant_id, location_id, part_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, transfer_id) REFERENCES @extschema@.stock_transfer (tenant_id, transfer_id),
    CHECK (CASE WHEN kind IN ('receipt', 'transfer_in', 'return') THEN quantity > 0.0
                WHEN kind IN ('issue', 'transfer_out') THEN quantity < 0.0
                ELSE true END),
    CHECK ((kind IN ('issue', 'return')) = (work_order_id IS NOT NULL)),
    CHECK ((kind IN ('issue', 'return')) = (unit_price IS NOT NULL)),
    CHECK ((kind IN ('transfer_out', 'transfer_in')) = (transfer_id IS NOT NULL)),
    CHECK (kind <> 'adjustment' OR (reason IS NOT NULL AND btrim(reason) <> ''))
);
CREATE INDEX stock_movement_level_idx ON @extschema@.stock_movement (tenant_id, location_id, part_id, occurred_at);
CREATE INDEX stock_movement_work_order_idx ON @extschema@.stock_movement (tenant_id, work_order_id, part_id)
    WHERE work_order_id IS NOT NULL;
COMMENT ON TABLE @extschema@.stock_movement IS
    'The append-only stock ledger: every change of a level''s on_hand, signed (receipts, transfers in and returns add; issues and transfers out take). The sum of a level''s movements is its on_hand. Corrections are adjustments with a reason, never edits.';
COMMENT ON COLUMN @extschema@.stock_movement.quantity IS 'Signed change of on_hand at the location.';
COMMENT ON COLUMN @extschema@.stock_movement.unit_cost IS
    'Receipts: the purchase cost; returns: the average cost of the job''s issues; others: the part''s moving average cost at that moment.';
COMMENT ON COLUMN @extschema@.stock_movement.unit_price IS 'Issues and returns: the part''s selling price at the issue (what the job is billed).';
COMMENT ON COLUMN @extschema@.stock_movement.work_order_id IS 'The job parts were issued to or returned from.';
COMMENT ON COLUMN @extschema@.stock_movement.reason IS 'Why (required for adjustments: count correction, damage, theft, ...).';
COMMENT ON COLUMN @extschema@.stock_movement.reference IS 'Outside reference: supplier delivery note, purchase order, transfer slip.';

CREATE TABLE @extschema@.work_order_part (
    tenant_id      bigint NOT NULL,
    work_order_id  bigint NOT NULL,
    part_id        bigint NOT NULL,
    quantity       numeric(14, 3) NOT NULL CHECK (quantity > 0.0),
    planned_by     text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, work_order_id, part_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES @extschema@.part (tenant_id, part_id)
);
COMMENT ON TABLE @extschema@.work_order_part IS
    'Parts a job is planned to need (womgr.plan_parts()); what is neither reserved nor issued yet is reserved when the job is scheduled.';

CREATE TABLE @extschema@.stock_reservation (
    tenant_id      bigint NOT NULL,
    reservation_id bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id  bigint NOT NULL,
    part_id        bigint NOT NULL,
    location_id    bigint NOT NULL,
    quantity       numeric(14, 3) NOT NULL CHECK (quantity > 0.0),
    consumed       numeric(14, 3) NOT NULL DEFAULT 0 CHECK (consumed >= 0.0 AND consumed <= quantity),
    status         text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'consumed', 'released')),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    PRIMARY KEY (tenant_id, reservation_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, location_id, part_id) REFERENCES @extschema@.stock_level (tenant_id, location_id, part_id),
    CHECK ((status = 'consumed') = (consumed = quantity)),
    CHECK ((status = 'held') = (closed_at IS NULL))
);
-- One held reservation per job, part and location: reserving more adds to it.
CREATE UNIQUE INDEX stock_reservation_one_held ON @extschema@.stock_reservation (tenant_id, work_order_id, part_id, location_id)
    WHERE status = 'held';
CREATE INDEX stock_reservation_level_idx ON @extschema@.stock_reservation (tenant_id, location_id, part_id) WHERE status = 'held';
COMMENT ON TABLE @extschema@.stock_reservation IS
    'Stock held for a job at a location. While held, quantity - consumed counts in the level''s reserved; issues to the job consume it, and it is released when the job is cancelled, completed or closed (or by womgr.release_reservation()).';
COMMENT ON COLUMN @extschema@.stock_reservation.consumed IS 'How much of it issues to the job have used; consumed = quantity makes it consumed.';

CREATE TABLE @extschema@.stock_alert (
    tenant_id      bigint NOT NULL,
    alert_id       bigint GENERATED ALWAYS AS IDENTITY,
    location_id    bigint NOT NULL,
    part_id        bigint NOT NULL,
    available      numeric(14, 3) NOT NULL,
    reorder_point  numeric(14, 3) NOT NULL,
    reorder_qty    numeric(14, 3),
    raised_at      timestamptz NOT NULL DEFAULT now(),
    cleared_at     timestamptz,
    PRIMARY KEY (tenant_id, alert_id),
    FOREIGN KEY (tenant_id, location_id) REFERENCES @extschema@.stock_location (tenant_id, location_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES @extschema@.part (tenant_id, part_id),
    CHECK (cleared_at >= raised_at)
);
CREATE UNIQUE INDEX stock_alert_one_open ON @extschema@.stock_alert (tenant_id, location_id, part_id) WHERE cleared_at IS NULL;
COMMENT ON TABLE @extschema@.stock_alert IS
    'Low-stock alerts: one is raised (with an outbox notice stock.low) each time a level''s available stock falls to or below its reorder point, and cleared when it rises above again.';
COMMENT ON COLUMN @extschema@.stock_alert.available IS 'on_hand - reserved when the alert was raised.';
