-- Payments: the ledger of money received (M-Pesa, card, cash, bank transfer,
-- escrow releases) and its allocations to invoices.  What is not allocated
-- is the customer's credit.

CREATE TABLE @extschema@.payment (
    tenant_id        bigint NOT NULL,
    payment_id       bigint GENERATED ALWAYS AS IDENTITY,
    method           text NOT NULL CHECK (method IN ('mpesa', 'card', 'cash', 'bank_transfer', 'escrow')),
    source           text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'stk_push', 'c2b', 'escrow', 'technician')),
    status           text NOT NULL DEFAULT 'matched' CHECK (status IN ('matched', 'unmatched')),
    customer_id      bigint,
    branch_id        bigint,
    amount           numeric NOT NULL CHECK (amount > 0.0),
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reference        text CHECK (btrim(reference) <> ''),
    account_reference text,
    payer_phone      text,
    payer_name       text,
    collected_by_technician_id bigint,
    received_at      timestamptz NOT NULL,
    details          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    matched_by       text,
    matched_at       timestamptz,
    PRIMARY KEY (tenant_id, payment_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    FOREIGN KEY (tenant_id, collected_by_technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id),
    CHECK ((status = 'matched') = (customer_id IS NOT NULL)),
    CHECK ((method = 'cash') OR collected_by_technician_id IS NULL),
    CHECK ((matched_by IS NULL) = (matched_at IS NULL)),
    CHECK (matched_at IS NULL OR status = 'matched')
);
-- A provider's transaction id (the M-Pesa receipt number) is recorded once.
CREATE UNIQUE INDEX payment_reference_key ON @extschema@.payment (tenant_id, method, reference)
    WHERE reference IS NOT NULL;
CREATE INDEX payment_customer_idx ON @extschema@.payment (tenant_id, customer_id, received_at);
CREATE INDEX payment_unmatched_idx ON @extschema@.payment (tenant_id, received_at) WHERE status = 'unmatched';
CREATE INDEX payment_technician_cash_idx ON @extschema@.payment (tenant_id, collected_by_technician_id, received_at)
    WHERE collected_by_technician_id IS NOT NULL;
COMMENT ON TABLE @extschema@.payment IS
    'Money received: M-Pesa (STK push or C2B paybill/till), card, cash (collected on site by a technician) or bank transfer, and escrow releases. Unmatched payments (a C2B payment whose account reference names no invoice or customer) wait in a queue for an accountant.';
COMMENT ON COLUMN @extschema@.payment.reference IS 'The provider''s transaction id (M-Pesa receipt number, card authorisation, bank reference); unique per method.';
COMMENT ON COLUMN @extschema@.payment.account_reference IS 'The account the payer typed (M-Pesa BillRefNumber): an invoice number or a customer account code.';
COMMENT ON COLUMN @extschema@.payment.source IS
    'How it arrived: manual (recorded by staff), stk_push (an M-Pesa prompt womgr requested), c2b (paid to the paybill or till unprompted), escrow, technician (cash collected on site).';
COMMENT ON COLUMN @extschema@.payment.payer_phone IS 'The payer''s phone as 2547XXXXXXXX or 2541XXXXXXXX when known.';
COMMENT ON COLUMN @extschema@.payment.details IS 'What the provider sent (the C2B confirmation, the STK callback metadata), kept verbatim.';
COMMENT ON COLUMN @extschema@.payment.matched_by IS 'The accountant who matched an unmatched payment to its customer (womgr.match_payment), with matched_at.';

CREATE TABLE @extschema@.payment_allocation (
    tenant_id        bigint NOT NULL,
    allocation_id    bigint GENERATED ALWAYS AS IDENTITY,
    payment_id       bigint NOT NULL,
    invoice_id       bigint NOT NULL,
    amount           numeric NOT NULL CHECK (amount > 0.0),
    allocated_by     text NOT NULL,
    allocated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, allocation_id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES @extschema@.payment (tenant_id, payment_id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES @extschema@.invoice (tenant_id, invoice_id)
);
CREATE INDEX payment_allocation_payment_idx ON @extschema@.payment_allocation (tenant_id, payment_id);
CREATE INDEX payment_allocation_invoice_idx ON @extschema@.payment_allocation (tenant_id, invoice_id);
COMMENT ON TABLE @extschema@.payment_allocation IS
    'Part of a payment applied to an issued invoice. A payment''s allocations never exceed its amount and an invoice''s never exceed its balance (both rows are locked while allocating); what is left of a payment is the customer''s credit.';

CREATE TABLE @extschema@.payment_request (
    tenant_id           bigint NOT NULL,
    payment_request_id  bigint GENERATED ALWAYS AS IDENTITY,
    kind                text NOT NULL CHECK (kind IN ('stk_push', 'payment_link')),
    invoice_id          bigint NOT NULL,
    customer_id         bigint NOT NULL,
    phone               text NOT NULL CHECK (phone ~ '^254[17][0-9]{8}$'),
    amount              numeric NOT NULL CHECK (amount > 0.0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    account_reference   text NOT NULL CHECK (btrim(account_reference) <> ''),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    merchant_request text CHECK (btrim(merchant_request) <> ''),
    checkout_request text CHECK (btrim(checkout_request) <> ''),
    result_code         integer,
    result_desc         text,
    payment_id          bigint,
    requested_by        text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    completed_at        timestamptz,
    PRIMARY KEY (tenant_id, payment_request_id),
    FOREIGN KEY (tenant_id, invoice_id, customer_id) REFERENCES @extschema@.invoice (tenant_id, invoice_id, customer_id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES @extschema@.payment (tenant_id, payment_id),
    CHECK ((checkout_request IS NULL) = (sent_at IS NULL)),
    CHECK ((status = 'pending') = (completed_at IS NULL)),
    CHECK ((status = 'succeeded') = (payment_id IS NOT NULL)),
    CHECK (status <> 'succeeded' OR result_code = 0),
    CHECK (status <> 'failed' OR result_code IS DISTINCT FROM 0),
    CHECK (kind <> 'stk_push' OR amount = trunc(amount))
);
-- The ids Safaricom returns identify the callback that answers the request.
CREATE UNIQUE INDEX payment_request_checkout_key ON @extschema@.payment_request (tenant_id, checkout_request)
    WHERE checkout_request IS NOT NULL;
-- At most one pending request of each kind per invoice: asking again returns it.
CREATE UNIQUE INDEX payment_request_one_pending ON @extschema@.payment_request (tenant_id, invoice_id, kind)
    WHERE status = 'pending';
CREATE INDEX payment_request_invoice_idx ON @extschema@.payment_request (tenant_id, invoice_id);
COMMENT ON TABLE @extschema@.payment_request IS
    'A request that a customer pay an invoice: an M-Pesa STK push (the prompt on the customer''s phone) or a payment link. womgr records it and writes the outbox notice payment.requested; the app tier calls Safaricom, stores the ids it returns (womgr.payment_request_sent) and hands the callback to womgr.record_mpesa_callback, which settles the request.';
COMMENT ON COLUMN @extschema@.payment_request.phone IS 'The phone to prompt, normalised to 2547XXXXXXXX or 2541XXXXXXXX.';
COMMENT ON COLUMN @extschema@.payment_request.amount IS 'Amount asked for; whole shillings for an STK push (M-Pesa takes no cents).';
COMMENT ON COLUMN @extschema@.payment_request.account_reference IS 'The invoice number, shown to the payer and sent back as the account.';
COMMENT ON COLUMN @extschema@.payment_request.checkout_request IS 'Safaricom''s CheckoutRequestID for the STK push; its callback names it. Unique per tenant.';
COMMENT ON COLUMN @extschema@.payment_request.result_code IS 'The callback''s ResultCode: 0 paid; 1032 cancelled by the user, 1037 no answer from the phone, 2001 wrong PIN, 1 insufficient balance, ...';
COMMENT ON COLUMN @extschema@.payment_request.payment_id IS 'The payment the successful callback recorded.';

CREATE TABLE @extschema@.mpesa_callback (
    tenant_id           bigint NOT NULL,
    mpesa_callback_id   bigint GENERATED ALWAYS AS IDENTITY,
    checkout_request text NOT NULL CHECK (btrim(checkout_request) <> ''),
    merchant_request text,
    result_code         integer NOT NULL,
    result_desc         text,
    amount              numeric CHECK (amount > 0.0),
    receipt             text CHECK (btrim(receipt) <> ''),
    transaction_at      timestamptz,
    phone               text,
    outcome             text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'unmatched')),
    payment_request_id  bigint,
    payment_id          bigint,
    payload             jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    received_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, mpesa_callback_id),
    UNIQUE (tenant_id, checkout_request),
    FOREIGN KEY (tenant_id, payment_request_id) REFERENCES @extschema@.payment_request (tenant_id, payment_request_id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES @extschema@.payment (tenant_id, payment_id),
    CHECK ((result_code = 0) = (payment_id IS NOT NULL)),
    CHECK (result_code <> 0 OR (amount IS NOT NULL AND receipt IS NOT NULL AND transaction_at IS NOT NULL)),
    CHECK ((outcome = 'unmatched') = (payment_request_id IS NULL)),
    CHECK (outcome = 'unmatched' OR (outcome = 'succeeded') = (result_code = 0))
);
COMMENT ON TABLE @extschema@.mpesa_callback IS
    'Every M-Pesa STK push callback received, once per CheckoutRequestID (Safaricom may post it again; the repeat changes nothing). Success callbacks point to the payment they recorded; a callback that answers no known request is kept as unmatched (with an unmatched payment when it paid).';
COMMENT ON COLUMN @extschema@.mpesa_callback.transaction_at IS 'TransactionDate (YYYYMMDDHHMMSS, Nairobi local time) as a timestamp.';
COMMENT ON COLUMN @extschema@.mpesa_callback.receipt IS 'MpesaReceiptNumber; the payment''s reference.';
COMMENT ON COLUMN @extschema@.mpesa_callback.outcome IS
    'succeeded (a payment for the request), failed (the payer cancelled, timed out, ...), unmatched (no request has this CheckoutRequestID yet).';
COMMENT ON COLUMN @extschema@.mpesa_callback.payload IS 'The callback body exactly as posted.';
