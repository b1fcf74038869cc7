-- The tamper-evident audit log (docs/audit.md).  Capture (src/audit.c) writes
-- one audit_pending row per changed row of a tenant table, with the BLAKE2b
-- leaf hash of its canonical encoding (docs/audit-format.md).  The sealer
-- (src/seal.c) moves the entries of finished transactions into audit_entry,
-- in commit order (by sealing pass), with each tenant's gapless seq and chain
-- hash.  All audit
-- tables are append-only for everyone; users are granted nothing on them.

CREATE SEQUENCE @extschema@.audit_entry_id_seq AS bigint;
COMMENT ON SEQUENCE @extschema@.audit_entry_id_seq IS
    'Capture ids of audit entries (entry_id), unique in the database and part of each entry''s hash.';

-- Written only by the C capture trigger, once per changed row: no CHECK
-- constraints (each would be compiled again for every captured row; the
-- canonical encoding and audit_entry's checks cover operation).  Rows are
-- deleted as they are sealed, so autovacuum visits it early.
CREATE TABLE @extschema@.audit_pending (
    tenant_id      bigint NOT NULL,
    entry_id       bigint NOT NULL,
    table_name     text NOT NULL,
    operation      text NOT NULL,
    work_order_id  bigint,
    primary_key    json NOT NULL,
    old_values     json,
    new_values     json,
    actor          text NOT NULL,
    db_role        text NOT NULL,
    app_role       text,
    client_ip      inet,
    txid           xid8 NOT NULL,
    captured_at    timestamptz NOT NULL,
    leaf_hash      bytea NOT NULL,
    PRIMARY KEY (tenant_id, entry_id)
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000);
COMMENT ON TABLE @extschema@.audit_pending IS
    'Audit entries captured but not sealed yet: rows of transactions in progress, and of committed ones the sealer has not reached (usually well under a second).';

CREATE TABLE @extschema@.audit_entry (
    tenant_id      bigint NOT NULL,
    seq            bigint NOT NULL CHECK (seq > 0),
    entry_id       bigint NOT NULL,
    table_name     text NOT NULL,
    operation      text NOT NULL CHECK (operation IN ('I', 'U', 'D')),
    work_order_id  bigint,
    primary_key    json NOT NULL,
    old_values     json,
    new_values     json,
    actor          text NOT NULL,
    db_role        text NOT NULL,
    app_role       text,
    client_ip      inet,
    txid           xid8 NOT NULL,
    captured_at    timestamptz NOT NULL,
    leaf_hash      bytea NOT NULL,
    chain_hash     bytea NOT NULL,
    sealed_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_entry_work_order_idx ON @extschema@.audit_entry (tenant_id, work_order_id, seq)
    WHERE work_order_id IS NOT NULL;
COMMENT ON TABLE @extschema@.audit_entry IS
    'The sealed audit log: every change to a tenant table, in commit order by sealing pass (within a pass in the order the changes were made), with the tenant''s gapless sequence number, the BLAKE2b-256 leaf hash of the entry''s canonical encoding, and chain_hash = BLAKE2b-256(previous chain_hash || leaf_hash).';
COMMENT ON COLUMN @extschema@.audit_entry.seq IS 'Position in the tenant''s chain: 1, 2, 3, ... without gaps.';
COMMENT ON COLUMN @extschema@.audit_entry.entry_id IS 'Capture id, unique in the database.';
COMMENT ON COLUMN @extschema@.audit_entry.table_name IS 'The womgr table that changed.';
COMMENT ON COLUMN @extschema@.audit_entry.operation IS 'I (insert), U (update) or D (delete).';
COMMENT ON COLUMN @extschema@.audit_entry.work_order_id IS 'The work order the changed row belongs to, when it has a work_order_id column.';
COMMENT ON COLUMN @extschema@.audit_entry.primary_key IS 'The changed row''s primary key as a JSON object.';
COMMENT ON COLUMN @extschema@.audit_entry.old_values IS 'Before the change: every column for a delete, the changed columns for an update, NULL for an insert.';
COMMENT ON COLUMN @extschema@.audit_entry.new_values IS 'After the change: every column for an insert, the changed columns for an update, NULL for a delete.';
COMMENT ON COLUMN @extschema@.audit_entry.actor IS 'The application user from womgr.set_context(), else the database role.';
COMMENT ON COLUMN @extschema@.audit_entry.db_role IS 'The database role that made the change (outside any SECURITY DEFINER function).';
COMMENT ON COLUMN @extschema@.audit_entry.app_role IS 'The womgr role chosen with womgr.set_context(), if any.';
COMMENT ON COLUMN @extschema@.audit_entry.client_ip IS 'The client address from womgr.set_context(), else the connection''s.';
COMMENT ON COLUMN @extschema@.audit_entry.txid IS 'The transaction that made the change.';
COMMENT ON COLUMN @extschema@.audit_entry.captured_at IS 'When the change was made (clock time).';
COMMENT ON COLUMN @extschema@.audit_entry.leaf_hash IS 'BLAKE2b-256 of the entry''s canonical encoding (docs/audit-format.md).';
COMMENT ON COLUMN @extschema@.audit_entry.chain_hash IS 'BLAKE2b-256 of the previous entry''s chain_hash (32 zero bytes before entry 1) followed by leaf_hash.';
COMMENT ON COLUMN @extschema@.audit_entry.sealed_at IS 'When the sealer gave the entry its place in the chain.';

CREATE TABLE @extschema@.audit_chain_head (
    tenant_id      bigint NOT NULL,
    seq            bigint NOT NULL CHECK (seq >= 0),
    chain_hash     bytea NOT NULL,
    sealed_at      timestamptz,
    PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE @extschema@.audit_chain_head IS
    'The last sealed entry of each tenant''s chain.  Only the sealer advances it; sealers of a tenant take turns on its row lock.';

CREATE TABLE @extschema@.audit_signing_key (
    key_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_key     bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    secret_key     bytea CHECK (length(secret_key) = 64),
    key_file       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    retired_at     timestamptz,
    CHECK (num_nonnulls(secret_key, key_file) = 1)
);
CREATE UNIQUE INDEX audit_signing_key_current ON @extschema@.audit_signing_key ((true)) WHERE retired_at IS NULL;
COMMENT ON TABLE @extschema@.audit_signing_key IS
    'Ed25519 keys that sign audit checkpoints, the current one with retired_at NULL.  Only the extension''s owner can read it; the secret half is here or in the file womgr.audit_key_file names.';

CREATE TABLE @extschema@.audit_checkpoint (
    tenant_id      bigint NOT NULL,
    checkpoint_id  bigint GENERATED ALWAYS AS IDENTITY,
    seq            bigint NOT NULL CHECK (seq >= 0),
    head_hash      bytea NOT NULL,
    signed_at      timestamptz NOT NULL,
    public_key     bytea NOT NULL,
    statement      text NOT NULL,
    PRIMARY KEY (tenant_id, checkpoint_id)
);
CREATE INDEX audit_checkpoint_seq_idx ON @extschema@.audit_checkpoint (tenant_id, seq);
COMMENT ON TABLE @extschema@.audit_checkpoint IS
    'Signed checkpoints made by womgr.audit_checkpoint(): the text of each statement, also meant to be published outside the database.';
