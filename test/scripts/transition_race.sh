#!/usr/bin/env bash
# transition_race: two sessions move the same work order at the same time.
# The second waits for the first's row lock; when the first commits, the
# second sees the new version and gets a clear conflict (WM003 with an
# expected version, WM001 "already in status" without one).  Exactly one
# transition is recorded.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail
db=womgr_transition_race
out=$(mktemp)
trap 'rm -f "$out"; dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
wo=$(q <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_site(1, jsonb_build_object('name', 'HQ', 'customer_id', womgr.create_customer(1, '{"name": "Acme"}'))) \gset
SELECT womgr.create_technician(1, jsonb_build_object('name', 'Otieno', 'home_branch_id',
       womgr.create_branch(1, '{"code": "NBO", "name": "Nairobi"}'))) \gset
SELECT womgr.create_work_order(1, '{"customer_id": 1, "site_id": 1, "type": "repair", "description": "Leak"}') AS wo \gset
SELECT womgr.assign(1, :wo, 1) \gset
SELECT :wo;
SQL
)
fail=0
race() {   # $1 = expected version argument for the second session, $2 = expected SQLSTATE
	local target=$3 from_version
	from_version=$(q -c "SELECT version FROM womgr.work_order WHERE work_order_id = $wo")
	# the first session moves the work order and holds its transaction open for a moment
	q -c "BEGIN" -c "SELECT womgr.transition(1, $wo, '$target', 'first', $from_version)" -c "SELECT pg_sleep(1.5)" -c "COMMIT" >"$out" 2>&1 &
	local first=$!
	sleep 0.5
	local second
	second=$(psql -X -q -At -d $db -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" \
	         -c "SELECT womgr.transition(1, $wo, '$target', 'second', $1)" 2>&1 || true)
	wait $first
	local moves
	moves=$(q -c "SELECT count(*) FROM womgr.work_order_event WHERE work_order_id = $wo AND to_status = '$target'")
	echo "first session: $(head -1 "$out"); second session: $(echo "$second" | head -2 | tr '\n' ' ')"
	if [ "$moves" = 1 ] && echo "$second" | grep -q "ERROR:  $2"; then
		echo "ok - $4"
	else
		echo "not ok - $4 (moves to $target: $moves)"; fail=1
	fi
}
race "(SELECT version FROM womgr.work_order WHERE work_order_id = $wo)" WM003 scheduled \
	"two sessions schedule the same work order with the same expected version: one wins, the other gets WM003"
race NULL WM001 en_route \
	"without an expected version the second finds the work order already moved: WM001"
exit $fail
