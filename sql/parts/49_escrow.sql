-- Escrow milestones and technician cash.  A job can be split into
-- milestones the customer pays into escrow: money is deposited, held while
-- the work is done, and released to the tenant once the milestone is
-- approved (or refunded to the customer).  womgr records the balances and
-- an append-only ledger of every move; the money itself sits with a
-- licensed custodian or payment provider (docs/billing.md).  Technicians
-- who collect cash on site hand it in once a day; cash_reconciliation
-- records each count against the cash payments of that day.

CREATE TABLE @extschema@.milestone (
    tenant_id       bigint NOT NULL,
    milestone_id    bigint GENERATED ALWAYS AS IDENTITY,
    work_order_id   bigint NOT NULL,
    seq             integer NOT NULL CHECK (seq > 0),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    amount          numeric NOT NULL CHECK (amount > 0.0),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'cancelled')),
    deposited       numeric NOT NULL DEFAULT 0 CHECK (deposited >= 0.0),
    held            numeric NOT NULL DEFAULT 0 CHECK (held >= 0.0),
    released        numeric NOT NULL DEFAULT 0 CHECK (released >= 0.0),
    refunded        numeric NOT NULL DEFAULT 0 CHECK (refunded >= 0.0),
    approved_by     text,
    approved_at     timestamptz,
    approval_note   text,
    cancelled_by    text,
    cancelled_at    timestamptz,
    cancel_reason   text,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, milestone_id),
    UNIQUE (tenant_id, work_order_id, seq),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES @extschema@.work_order (tenant_id, work_order_id),
    CHECK (deposited + held + released <= amount),
    CHECK (status = 'approved' OR released = 0.0),
    CHECK ((status = 'approved') = (approved_at IS NOT NULL)),
    CHECK ((approved_at IS NULL) = (approved_by IS NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL)),
    CHECK ((cancelled_at IS NULL) = (cancel_reason IS NULL)),
    CHECK (status <> 'cancelled' OR (deposited = 0.0 AND held = 0.0))
);
COMMENT ON TABLE @extschema@.milestone IS
    'A part of a work order the customer pays for through escrow (deposit, first fix, handover), with its amount in the branch''s currency and the escrow balances it has now. Status pending -> approved (the customer accepted the work; held money may be released) or cancelled. Balances change only through the escrow functions, each of which appends to womgr.escrow_movement. Create with womgr.create_milestones().';
COMMENT ON COLUMN @extschema@.milestone.seq IS 'Position of the milestone within its work order, from 1.';
COMMENT ON COLUMN @extschema@.milestone.amount IS 'What the milestone is worth, VAT included (the amount paid into escrow; its invoice is VAT-inclusive), in currency.';
COMMENT ON COLUMN @extschema@.milestone.currency IS 'The currency of the branch that invoices the work order (its own branch, else its customer''s; else the tenant''s currency).';
COMMENT ON COLUMN @extschema@.milestone.deposited IS 'Received from the customer by the custodian and not yet held for the milestone.';
COMMENT ON COLUMN @extschema@.milestone.held IS 'Held (locked) for the milestone until it is approved and released, or refunded.';
COMMENT ON COLUMN @extschema@.milestone.released IS 'Released to the tenant after approval; recorded as an escrow payment when the milestone has an issued invoice.';
COMMENT ON COLUMN @extschema@.milestone.refunded IS 'Returned to the customer. Refunds free room: deposited + held + released never exceeds amount.';

CREATE TABLE @extschema@.escrow_movement (
    tenant_id       bigint NOT NULL,
    movement_id     bigint GENERATED ALWAYS AS IDENTITY,
    milestone_id    bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('deposit', 'hold', 'release', 'refund')),
    amount          numeric NOT NULL CHECK (amount > 0.0),
    from_held       numeric CHECK (from_held >= 0.0),
    from_deposited  numeric CHECK (from_deposited >= 0.0),
    reference       text CHECK (btrim(reference) <> ''),
    actor           text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, movement_id),
    FOREIGN KEY (tenant_id, milestone_id) REFERENCES @extschema@.milestone (tenant_id, milestone_id),
    CHECK ((kind = 'refund') = (from_held IS NOT NULL AND from_deposited IS NOT NULL)),
    CHECK (kind <> 'refund' OR from_held + from_deposited = amount)
);
-- A custodian's reference is recorded once: a retried deposit callback is not counted twice.
CREATE UNIQUE INDEX escrow_movement_deposit_reference_key ON @extschema@.escrow_movement (tenant_id, reference)
    WHERE kind = 'deposit' AND reference IS NOT NULL;
CREATE INDEX escrow_movement_milestone_idx ON @extschema@.escrow_movement (tenant_id, milestone_id, movement_id);
COMMENT ON TABLE @extschema@.escrow_movement IS
    'Append-only ledger of escrow moves: deposit (in -> deposited), hold (deposited -> held), release (held -> released) and refund (held, then deposited -> refunded). Summing a milestone''s movements gives its balances. A release''s escrow payment has reference ESCROW-<movement_id>.';
COMMENT ON COLUMN @extschema@.escrow_movement.from_held IS 'Refunds only: the part taken from held.';
COMMENT ON COLUMN @extschema@.escrow_movement.from_deposited IS 'Refunds only: the part taken from deposited.';
COMMENT ON COLUMN @extschema@.escrow_movement.reference IS 'The custodian''s or provider''s reference for the move (an M-Pesa receipt for a deposit), if any.';

CREATE TRIGGER escrow_movement_append_only BEFORE UPDATE OR DELETE ON @extschema@.escrow_movement
    FOR EACH ROW EXECUTE FUNCTION @extschema@._append_only();
CREATE TRIGGER escrow_movement_no_truncate BEFORE TRUNCATE ON @extschema@.escrow_movement
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._append_only();

ALTER TABLE @extschema@.invoice ADD FOREIGN KEY (tenant_id, milestone_id) REFERENCES @extschema@.milestone (tenant_id, milestone_id);

CREATE TABLE @extschema@.cash_reconciliation (
    tenant_id              bigint NOT NULL,
    cash_reconciliation_id bigint GENERATED ALWAYS AS IDENTITY,
    technician_id          bigint NOT NULL,
    business_date          date NOT NULL,
    currency               char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_count          integer NOT NULL CHECK (payment_count >= 0),
    expected               numeric NOT NULL CHECK (expected >= 0.0),
    handed_in              numeric NOT NULL CHECK (handed_in >= 0.0),
    difference             numeric GENERATED ALWAYS AS (handed_in - expected) STORED,
    status                 text NOT NULL CHECK (status IN ('balanced', 'exception')),
    received_by            text NOT NULL,
    note                   text,
    reconciled_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, cash_reconciliation_id),
    UNIQUE (tenant_id, technician_id, business_date),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id),
    CHECK ((status = 'balanced') = (difference = 0.0)),
    CHECK (status = 'balanced' OR btrim(note) <> '')
);
COMMENT ON TABLE @extschema@.cash_reconciliation IS
    'A technician''s cash hand-in for one business day, counted against the cash payments they collected that day: one per technician and day (womgr.reconcile_technician_cash). A difference makes it an exception, with a note and a cash.exception outbox notice.';
COMMENT ON COLUMN @extschema@.cash_reconciliation.business_date IS 'The day in the technician''s home branch time zone.';
COMMENT ON COLUMN @extschema@.cash_reconciliation.expected IS 'Sum of the technician''s cash payments (method cash, collected_by_technician_id) received that day, when it was reconciled.';
COMMENT ON COLUMN @extschema@.cash_reconciliation.handed_in IS 'Cash counted by the person receiving it (received_by).';
COMMENT ON COLUMN @extschema@.cash_reconciliation.difference IS 'handed_in - expected: negative when cash is short, positive when over.';
COMMENT ON COLUMN @extschema@.cash_reconciliation.status IS 'balanced (no difference) or exception (a difference; note says why).';
