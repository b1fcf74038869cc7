-- Row triggers (C, src/work_order.c) that keep every work order consistent,
-- whoever writes it: the intake function, a plain INSERT, a bulk UPDATE.

CREATE FUNCTION @extschema@._work_order_before() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_work_order_before';
COMMENT ON FUNCTION @extschema@._work_order_before() IS
    'Internal trigger: numbers new work orders, fills branch and created_by, bumps version and updated_at, protects fixed columns, and checks every status change against the workflow (src/workflow.c).';
CREATE FUNCTION @extschema@._work_order_after() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_work_order_after';
COMMENT ON FUNCTION @extschema@._work_order_after() IS
    'Internal trigger: appends the created, status_changed, reclassified or updated event with actor, role, client address and the note of the change.';
CREATE FUNCTION @extschema@._append_only() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_append_only';
COMMENT ON FUNCTION @extschema@._append_only() IS
    'Internal trigger: refuses UPDATE, DELETE and TRUNCATE on append-only history tables.';

CREATE FUNCTION @extschema@._counter_flush() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_counter_flush';
COMMENT ON FUNCTION @extschema@._counter_flush() IS
    'Internal trigger (deferred to commit, on tenant_counter): writes back the work-order counters a transaction advanced in memory, so a transaction creating N work orders updates each counter row twice and queues one deferred event per counter, not N.';

CREATE TRIGGER work_order_before BEFORE INSERT OR UPDATE ON @extschema@.work_order
    FOR EACH ROW EXECUTE FUNCTION @extschema@._work_order_before();
CREATE TRIGGER work_order_after AFTER INSERT OR UPDATE ON @extschema@.work_order
    FOR EACH ROW EXECUTE FUNCTION @extschema@._work_order_after();
-- The first number a transaction takes from a counter row queues one event
-- here; at commit it writes back the numbers counted in memory since.
CREATE CONSTRAINT TRIGGER tenant_counter_flush AFTER INSERT OR UPDATE ON @extschema@.tenant_counter
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION @extschema@._counter_flush();
CREATE TRIGGER work_order_event_append_only BEFORE UPDATE OR DELETE ON @extschema@.work_order_event
    FOR EACH ROW EXECUTE FUNCTION @extschema@._append_only();
CREATE TRIGGER work_order_event_no_truncate BEFORE TRUNCATE ON @extschema@.work_order_event
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._append_only();

CREATE FUNCTION @extschema@.create_work_order(p_tenant_id bigint, p_spec jsonb) RETURNS bigint
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'womgr_create_work_order';
COMMENT ON FUNCTION @extschema@.create_work_order(bigint, jsonb) IS
    'Creates a work order from a spec {"customer_id", "site_id", "type", "description", optional "priority", "asset_id", "branch_id", "requested_window", "restricted", "source", "external_ref"} and returns its id. The same (source, external_ref) returns the existing id and creates nothing.';

CREATE FUNCTION @extschema@.transition(p_tenant_id bigint, p_work_order_id bigint, p_to_status text,
                                      p_note text DEFAULT NULL, p_expected_version integer DEFAULT NULL,
                                      p_occurred_at timestamptz DEFAULT NULL)
    RETURNS integer
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'womgr_transition';
COMMENT ON FUNCTION @extschema@.transition(bigint, bigint, text, text, integer, timestamptz) IS
    'Moves a work order to another status of its workflow, checking the transition, the acting role and its guards; records p_note with the event. A p_expected_version other than the current one raises WM003. p_occurred_at: when an offline device recorded the change (status_changed_at and the SLA clocks use it). Returns the new version.';

CREATE FUNCTION @extschema@._set_change_note(p_tenant_id bigint, p_work_order_id bigint, p_note text)
    RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'womgr_set_change_note';
COMMENT ON FUNCTION @extschema@._set_change_note(bigint, bigint, text) IS
    'Internal: the note (reason) that the next change of the work order records in its event, until the end of the transaction.';

CREATE FUNCTION @extschema@._event_outbox() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_event_outbox';
COMMENT ON FUNCTION @extschema@._event_outbox() IS
    'Internal trigger: writes an outbox row for every work-order event and sends NOTIFY womgr_events with a small JSON payload.';
CREATE TRIGGER work_order_event_outbox AFTER INSERT ON @extschema@.work_order_event
    FOR EACH ROW EXECUTE FUNCTION @extschema@._event_outbox();
