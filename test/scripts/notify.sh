#!/usr/bin/env bash
# notify: listeners hear of each event with a small JSON payload, and only
# after commit: a rolled-back transition sends nothing, a committed one sends
# one notification per event, carrying the outbox id to fetch.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail
db=womgr_notify
trap 'dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
q >/dev/null <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_site(1, jsonb_build_object('name', 'HQ', 'customer_id', womgr.create_customer(1, '{"name": "Acme"}')));
SELECT womgr.create_technician(1, jsonb_build_object('name', 'Otieno', 'home_branch_id',
       womgr.create_branch(1, '{"code": "NBO", "name": "Nairobi"}')));
SELECT womgr.create_work_order(1, '{"customer_id": 1, "site_id": 1, "type": "repair", "description": "Leak"}');
SQL
log=$(q <<'SQL'
LISTEN womgr_events;
BEGIN;
SELECT womgr.assign(1, 1, 1);
SELECT womgr.transition(1, 1, 'scheduled');
SELECT 'marker: before rollback';
ROLLBACK;
SELECT 'marker: after rollback';
BEGIN;
SELECT womgr.assign(1, 1, 1);
SELECT womgr.transition(1, 1, 'scheduled');
SELECT 'marker: before commit';
COMMIT;
SELECT 'marker: after commit';
SQL
)
echo "$log" | sed 's/server process with PID [0-9]*/server process with PID N/'
fail=0
# psql prints notifications when the command that delivered them completes: the COMMIT
before=$(echo "$log" | sed -n '/marker: before commit/q;p' | grep -c 'Asynchronous notification' || true)
after=$(echo "$log" | sed -n '/marker: before commit/,/marker: after commit/p' | grep -c 'Asynchronous notification "womgr_events" with payload' || true)
outbox=$(q -c "SELECT string_agg(outbox_id::text, ',' ORDER BY outbox_id) FROM womgr.outbox WHERE claimed_at IS NULL AND topic IN ('work_order.assigned', 'work_order.status_changed')")
payloads=$(echo "$log" | sed -n 's/.*with payload "\(.*\)" received.*/\1/p')
ids=$(echo "$payloads" | sed -n 's/.*"outbox_id": \([0-9]*\).*/\1/p' | paste -sd, -)
[ "$before" = 0 ] && echo "ok - nothing is heard before commit, nor from a rollback" || { echo "not ok - $before notifications before commit"; fail=1; }
[ "$after" = 2 ] && echo "ok - the commit sends one notification per event (assigned, status_changed)" || { echo "not ok - $after notifications after commit"; fail=1; }
[ -n "$ids" ] && [ "$ids" = "$outbox" ] && echo "ok - the payloads name the outbox rows of the events ($ids)" || { echo "not ok - payload outbox ids '$ids', outbox '$outbox'"; fail=1; }
echo "$payloads" | grep -q '"event_type": "status_changed"' && echo "$payloads" | grep -q '"tenant_id": 1, ' \
	&& echo "ok - the payload carries tenant, work order and event type" || { echo "not ok - payload: $payloads"; fail=1; }
exit $fail
