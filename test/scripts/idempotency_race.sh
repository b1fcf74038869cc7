#!/usr/bin/env bash
# idempotency_race: two sessions send the same (source, external_ref) at the
# same time; the second waits for the first to commit and gets its work
# order, and only one work order exists.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail
db=womgr_race
out=$(mktemp)
trap 'rm -f "$out"; dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
q >/dev/null <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_site(1, jsonb_build_object('name', 'HQ', 'customer_id',
       womgr.create_customer(1, '{"name": "Acme"}')));
SQL
spec='{"customer_id": 1, "site_id": 1, "type": "repair", "description": "Leak", "source": "crm", "external_ref": "CASE-7"}'
# the first session holds its uncommitted work order for a second
q -c "BEGIN" -c "SELECT womgr.create_work_order(1, '$spec')" -c "SELECT pg_sleep(1.5)" -c "COMMIT" >"$out" &
first=$!
sleep 0.5
second=$(q -c "SELECT womgr.create_work_order(1, '$spec')")
wait $first
first_id=$(sed -n 1p "$out")
count=$(q -c "SELECT count(*) FROM womgr.work_order WHERE source = 'crm' AND external_ref = 'CASE-7'")
echo "first session: $first_id, second session: $second, work orders: $count"
[ "$first_id" = "$second" ] && [ "$count" = 1 ] || { echo "not ok - concurrent idempotent intake"; exit 1; }
echo "ok - the concurrent resend waited and returned the same work order"
