-- Money: billing settings, tax classes and rates, rate cards, the time and
-- charges that become invoice lines, and invoices and credit notes.  Amounts
-- are numeric in the branch's currency, rounded to the currency's minor unit
-- (womgr._money); nothing here is floating point.

CREATE TABLE @extschema@.billing_settings (
    tenant_id             bigint NOT NULL,
    seller_name           text,
    seller_tax_pin        text,
    seller_address        text,
    seller_phone          text,
    seller_email          text,
    invoice_prefix        text NOT NULL DEFAULT 'INV' CHECK (invoice_prefix ~ '^[A-Z0-9]{1,8}$'),
    credit_note_prefix    text NOT NULL DEFAULT 'CN' CHECK (credit_note_prefix ~ '^[A-Z0-9]{1,8}$'),
    payment_terms_days    integer NOT NULL DEFAULT 14 CHECK (payment_terms_days BETWEEN 0 AND 365),
    issue_on_generate     boolean NOT NULL DEFAULT true,
    mpesa_paybill         text CHECK (mpesa_paybill ~ '^[0-9]{5,7}$'),
    mpesa_till            text CHECK (mpesa_till ~ '^[0-9]{5,7}$'),
    bank_details          text,
    seeded                boolean NOT NULL DEFAULT false,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
COMMENT ON TABLE @extschema@.billing_settings IS
    'One row per tenant: who the seller is on invoices, number prefixes, payment terms, whether generated invoices are issued at once, and the M-Pesa paybill or till customers pay to. Change it with womgr.set_billing_settings().';
COMMENT ON COLUMN @extschema@.billing_settings.issue_on_generate IS
    'true (default): generate_invoice issues and numbers the invoice at once; false: it stays a draft until womgr.issue_invoice().';
COMMENT ON COLUMN @extschema@.billing_settings.mpesa_paybill IS
    'M-Pesa paybill (business) number; invoices tell customers to pay to it with the invoice number as the account.';

-- The billing status is a flag on the status (not a column of workflow that
-- points at workflow_status), so a data-only restore has no cycle to order.
ALTER TABLE @extschema@.workflow_status
    ADD COLUMN invoices boolean NOT NULL DEFAULT false,
    ADD CHECK (NOT invoices OR category IN ('completed', 'closed'));
CREATE UNIQUE INDEX workflow_status_one_billing ON @extschema@.workflow_status (tenant_id, workflow_id) WHERE invoices;
COMMENT ON COLUMN @extschema@.workflow_status.invoices IS
    'The workflow''s billing status: work orders entering it are invoiced by themselves (womgr.generate_invoice runs in the same transaction as the move). At most one per workflow; set it with womgr.set_billing_status().';

CREATE TABLE @extschema@.tax_class (
    tenant_id      bigint NOT NULL,
    tax_class_id   bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    treatment      text NOT NULL CHECK (treatment IN ('standard', 'zero_rated', 'exempt')),
    seeded         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, tax_class_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
COMMENT ON TABLE @extschema@.tax_class IS
    'How a part, labour or fee is taxed: standard (VAT at the rate in force), zero_rated (taxable at 0 %) or exempt (outside VAT). New tenants get vat_standard (16 %), vat_zero and vat_exempt.';

CREATE TABLE @extschema@.tax_rate (
    tenant_id      bigint NOT NULL,
    tax_rate_id    bigint GENERATED ALWAYS AS IDENTITY,
    tax_class_id   bigint NOT NULL,
    valid          daterange NOT NULL CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    rate_percent   numeric(6, 3) NOT NULL CHECK (rate_percent >= 0.0 AND rate_percent < 100.0),
    seeded         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, tax_rate_id),
    FOREIGN KEY (tenant_id, tax_class_id) REFERENCES @extschema@.tax_class (tenant_id, tax_class_id) ON DELETE CASCADE,
    EXCLUDE USING gist (tenant_id WITH =, tax_class_id WITH =, valid WITH &&)
);
COMMENT ON TABLE @extschema@.tax_rate IS
    'The rate of a tax class over a range of dates (Kenya''s VAT went from 16 % to 14 % and back in 2020); ranges of one class never overlap. Invoices use the rate in force on their tax point.';

CREATE TABLE @extschema@.rate_card (
    tenant_id              bigint NOT NULL,
    rate_card_id           bigint GENERATED ALWAYS AS IDENTITY,
    code                   text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name                   text NOT NULL CHECK (btrim(name) <> ''),
    branch_id              bigint,
    valid                  daterange NOT NULL DEFAULT daterange('2000-01-01', NULL)
                           CHECK (NOT isempty(valid) AND NOT lower_inf(valid)),
    default_hourly_rate    numeric(14, 2) NOT NULL DEFAULT 0 CHECK (default_hourly_rate >= 0.0),
    call_out_fee           numeric(14, 2) NOT NULL DEFAULT 0 CHECK (call_out_fee >= 0.0),
    after_hours_multiplier numeric(5, 3) NOT NULL DEFAULT 1.5 CHECK (after_hours_multiplier >= 1.0),
    after_hours_calendar_id bigint,
    billing_increment      interval NOT NULL DEFAULT '15 minutes' CHECK (billing_increment > '0' AND billing_increment <= '1 hour'),
    minimum_labour         interval NOT NULL DEFAULT '0' CHECK (minimum_labour >= '0'),
    travel_mode            text NOT NULL DEFAULT 'none' CHECK (travel_mode IN ('none', 'per_km', 'zone')),
    travel_per_km          numeric(14, 2) NOT NULL DEFAULT 0 CHECK (travel_per_km >= 0.0),
    travel_default_fee     numeric(14, 2) NOT NULL DEFAULT 0 CHECK (travel_default_fee >= 0.0),
    labour_tax_class_id    bigint NOT NULL,
    fee_tax_class_id       bigint NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rate_card_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    FOREIGN KEY (tenant_id, after_hours_calendar_id) REFERENCES @extschema@.calendar (tenant_id, calendar_id),
    FOREIGN KEY (tenant_id, labour_tax_class_id) REFERENCES @extschema@.tax_class (tenant_id, tax_class_id),
    FOREIGN KEY (tenant_id, fee_tax_class_id) REFERENCES @extschema@.tax_class (tenant_id, tax_class_id),
    EXCLUDE USING gist (tenant_id WITH =, (coalesce(branch_id, 0)) WITH =, valid WITH &&)
);
COMMENT ON TABLE @extschema@.rate_card IS
    'What a tenant charges, for one branch (or every branch when branch_id is NULL) over a range of dates: labour by skill and level (rate_card_labour), the after-hours multiplier outside the working hours of a calendar, the call-out fee, and travel per km or flat by zone. A branch''s own card wins over the tenant-wide one.';
COMMENT ON COLUMN @extschema@.rate_card.after_hours_calendar_id IS
    'Labour outside this calendar''s working hours and holidays is charged at after_hours_multiplier; NULL: no after-hours rate.';
COMMENT ON COLUMN @extschema@.rate_card.billing_increment IS 'Each technician''s labour on a job is rounded up to a multiple of this.';
COMMENT ON COLUMN @extschema@.rate_card.minimum_labour IS 'Least labour charged per technician per job.';
COMMENT ON COLUMN @extschema@.rate_card.travel_mode IS
    'none; per_km: travel_per_km times the km the technicians recorded (else the round trip from the branch to the site in a straight line); zone: the flat fee of the zone (territory) the site lies in, else travel_default_fee.';

CREATE TABLE @extschema@.rate_card_labour (
    tenant_id      bigint NOT NULL,
    rate_card_id   bigint NOT NULL,
    skill_id       bigint NOT NULL,
    min_level      smallint NOT NULL DEFAULT 1 CHECK (min_level BETWEEN 1 AND 5),
    hourly_rate    numeric(14, 2) NOT NULL CHECK (hourly_rate >= 0.0),
    PRIMARY KEY (tenant_id, rate_card_id, skill_id, min_level),
    FOREIGN KEY (tenant_id, rate_card_id) REFERENCES @extschema@.rate_card (tenant_id, rate_card_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, skill_id) REFERENCES @extschema@.skill (tenant_id, skill_id)
);
COMMENT ON TABLE @extschema@.rate_card_labour IS
    'Hourly labour rates by skill and level: a technician is charged at the highest rate among the job type''s required skills whose min_level they reach; otherwise at the card''s default_hourly_rate.';

CREATE TABLE @extschema@.rate_card_zone (
    tenant_id      bigint NOT NULL,
    rate_card_id   bigint NOT NULL,
    territory_id   bigint NOT NULL,
    travel_fee     numeric(14, 2) NOT NULL CHECK (travel_fee >= 0.0),
    PRIMARY KEY (tenant_id, rate_card_id, territory_id),
    FOREIGN KEY (tenant_id, rate_card_id) REFERENCES @extschema@.rate_card (tenant_id, rate_card_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, territory_id) REFERENCES @extschema@.territory (tenant_id, territory_id)
);
COMMENT ON TABLE @extschema@.rate_card_zone IS 'Flat travel fees by zone (a territory polygon), for rate cards with travel_mode zone; the cheapest zone containing the site applies.';

CREATE TABLE @extschema@.time_entry (
    tenant_id       bigint NOT NULL,
    time_entry_id   bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id   bigint NOT NULL,
    technician_id   bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('labour', 'travel')),
    period          tstzrange NOT NULL CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)),
    distance_km     numeric(8, 2) CHECK (distance_km >= 0.0),
    billable        boolean NOT NULL DEFAULT true,
    note            text,
    client_recorded_at timestamptz,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, time_entry_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id),
    CHECK (kind = 'travel' OR distance_km IS NULL),
    EXCLUDE USING gist (tenant_id WITH =, technician_id WITH =, period WITH &&)
);
CREATE INDEX time_entry_work_order_idx ON @extschema@.time_entry (tenant_id, work_order_id);
COMMENT ON TABLE @extschema@.time_entry IS
    'Time a technician spent on a job (labour) or getting there (travel, with the km driven). One technician''s entries never overlap. When a job has labour entries, invoices bill them; otherwise the time in in_progress statuses from the job''s history, for the lead technician.';

CREATE TABLE @extschema@.work_order_charge (
    tenant_id       bigint NOT NULL,
    charge_id       bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id   bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('fee', 'custom')),
    description     text NOT NULL CHECK (btrim(description) <> ''),
    quantity        numeric(14, 3) NOT NULL DEFAULT 1 CHECK (quantity > 0.0),
    unit_price      numeric(14, 2) NOT NULL CHECK (unit_price >= 0.0),
    tax_class_id    bigint NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, charge_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, tax_class_id) REFERENCES @extschema@.tax_class (tenant_id, tax_class_id)
);
CREATE INDEX work_order_charge_work_order_idx ON @extschema@.work_order_charge (tenant_id, work_order_id);
COMMENT ON TABLE @extschema@.work_order_charge IS
    'Extra fees and custom lines to bill with a job (disposal fee, permit, a custom item), priced when they are added.';

CREATE TABLE @extschema@.invoice (
    tenant_id          bigint NOT NULL,
    invoice_id         bigint GENERATED ALWAYS AS IDENTITY,
    kind               text NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    status             text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued')),
    number             text,
    branch_id          bigint,
    customer_id        bigint NOT NULL,
    work_order_id      bigint,
    milestone_id       bigint,
    credited_invoice_id bigint,
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    tax_point          date NOT NULL,
    issue_date         date,
    due_date           date,
    subtotal           numeric NOT NULL DEFAULT 0,
    tax_total          numeric NOT NULL DEFAULT 0,
    total              numeric NOT NULL DEFAULT 0,
    reason             text,
    document           jsonb,
    document_sha256    bytea,
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    issued_by          text,
    issued_at          timestamptz,
    PRIMARY KEY (tenant_id, invoice_id),
    UNIQUE (tenant_id, number),
    UNIQUE (tenant_id, invoice_id, customer_id),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, credited_invoice_id) REFERENCES @extschema@.invoice (tenant_id, invoice_id),
    CHECK ((status = 'issued') = (number IS NOT NULL)),
    CHECK ((status = 'issued') = (issued_at IS NOT NULL AND issue_date IS NOT NULL AND document IS NOT NULL)),
    CHECK ((kind = 'credit_note') = (credited_invoice_id IS NOT NULL)),
    CHECK (kind = 'invoice' OR reason IS NOT NULL),
    CHECK (total = subtotal + tax_total AND subtotal >= 0.0 AND tax_total >= 0.0)
);
-- One invoice per job (and one per milestone): generate_invoice is idempotent.
CREATE UNIQUE INDEX invoice_one_per_work_order ON @extschema@.invoice (tenant_id, work_order_id)
    WHERE kind = 'invoice' AND milestone_id IS NULL AND work_order_id IS NOT NULL;
CREATE UNIQUE INDEX invoice_one_per_milestone ON @extschema@.invoice (tenant_id, milestone_id)
    WHERE kind = 'invoice' AND milestone_id IS NOT NULL;
CREATE INDEX invoice_customer_idx ON @extschema@.invoice (tenant_id, customer_id, issue_date);
CREATE INDEX invoice_branch_issue_idx ON @extschema@.invoice (tenant_id, branch_id, issue_date);
CREATE INDEX invoice_credited_idx ON @extschema@.invoice (tenant_id, credited_invoice_id) WHERE credited_invoice_id IS NOT NULL;
COMMENT ON TABLE @extschema@.invoice IS
    'An invoice or a credit note. Drafts can change; once issued it has its gapless number (INV-NBO-2026-000001, CN-... for credit notes), a frozen document and its SHA-256, and nothing about it can change: corrections are credit notes that reference it.';
COMMENT ON COLUMN @extschema@.invoice.number IS 'Gapless per prefix, branch and year (in the branch''s time zone), given when issued.';
COMMENT ON COLUMN @extschema@.invoice.tax_point IS 'The date whose tax rates apply: the day the job was completed, else the day the invoice was made.';
COMMENT ON COLUMN @extschema@.invoice.milestone_id IS 'The escrow milestone this invoice bills, if any.';
COMMENT ON COLUMN @extschema@.invoice.document IS 'The invoice document (womgr.invoice_document) frozen at issue, so every reprint is identical.';
COMMENT ON COLUMN @extschema@.invoice.document_sha256 IS 'SHA-256 of the frozen document''s text.';

CREATE TABLE @extschema@.invoice_line (
    tenant_id          bigint NOT NULL,
    invoice_id         bigint NOT NULL,
    line_no            integer NOT NULL CHECK (line_no > 0),
    kind               text NOT NULL CHECK (kind IN ('part', 'labour', 'travel', 'call_out', 'fee', 'custom', 'milestone', 'credit')),
    description        text NOT NULL CHECK (btrim(description) <> ''),
    quantity           numeric(14, 3) NOT NULL CHECK (quantity > 0.0),
    unit               text NOT NULL DEFAULT 'each',
    unit_price         numeric(14, 2) NOT NULL CHECK (unit_price >= 0.0),
    warranty_covered   boolean NOT NULL DEFAULT false,
    tax_class_id       bigint NOT NULL,
    tax_treatment      text NOT NULL CHECK (tax_treatment IN ('standard', 'zero_rated', 'exempt')),
    tax_rate_percent   numeric(6, 3) NOT NULL CHECK (tax_rate_percent >= 0.0),
    net_amount         numeric NOT NULL CHECK (net_amount >= 0.0),
    tax_amount         numeric NOT NULL CHECK (tax_amount >= 0.0),
    cost_amount        numeric CHECK (cost_amount >= 0.0),
    part_id            bigint,
    technician_id      bigint,
    source_ref         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(source_ref) = 'object'),
    credited_line_no   integer,
    PRIMARY KEY (tenant_id, invoice_id, line_no),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES @extschema@.invoice (tenant_id, invoice_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tax_class_id) REFERENCES @extschema@.tax_class (tenant_id, tax_class_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id),
    CHECK (NOT warranty_covered OR net_amount = 0.0)
);
COMMENT ON TABLE @extschema@.invoice_line IS
    'A line of an invoice or credit note with the price, tax class, rate and amounts it was billed at (snapshots: later price or rate changes never touch it). Warranty-covered lines are shown at zero.';
COMMENT ON COLUMN @extschema@.invoice_line.cost_amount IS 'What the line cost the tenant (parts at moving average cost, labour at the rate card); for margins and BI.';
COMMENT ON COLUMN @extschema@.invoice_line.source_ref IS 'Where the line came from: time entries, stock movements, a charge or a milestone.';
