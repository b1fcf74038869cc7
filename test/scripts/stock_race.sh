#!/usr/bin/env bash
# stock_race: sessions take the last units of a part at the same moment.
# The first issues the last unit to one job and holds its transaction open
# for 3 s; the second, issuing it to another job, must be seen waiting on
# the stock level's row lock for over a second and, when the first commits,
# fail with WM010 (not enough stock); on hand ends at 0, never negative, with
# one issue.  When the first rolls back, the waiting second gets the unit.
# Then 20 sessions released at once each issue 1 of 5 units: exactly 5
# succeed, 15 get WM010, no other error (no deadlock), on hand ends at 0 and
# equals the sum of the ledger.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set);
# STOCK_RACE_DB names another database to use (it is dropped at the end).
set -euo pipefail
db=${STOCK_RACE_DB:-womgr_stock_race}
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
read -r part wh < <(q <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_branch(1, '{"code": "NBO", "name": "Nairobi"}') AS branch \gset
SELECT womgr.create_customer(1, jsonb_build_object('name', 'Acme', 'branch_id', :branch)) AS customer \gset
SELECT womgr.create_site(1, jsonb_build_object('name', 'HQ', 'customer_id', :customer, 'branch_id', :branch)) AS site \gset
SELECT count(womgr.create_work_order(1, jsonb_build_object('customer_id', :customer, 'site_id', :site, 'type', 'repair',
                                                           'description', 'Leak ' || i))) AS made
  FROM generate_series(1, 24) i \gset
SELECT womgr.create_part(1, '{"sku": "VALVE-15", "name": "Gate valve 15 mm", "price": 1200}') AS part \gset
SELECT womgr.create_stock_location(1, jsonb_build_object('code', 'nbo_main', 'name', 'Nairobi store', 'kind', 'warehouse',
                                                         'branch_id', :branch)) AS wh \gset
SELECT :part || ' ' || :wh;
SQL
)
mapfile -t wo < <(q -c "SELECT work_order_id FROM womgr.work_order ORDER BY work_order_id")
issue() { echo "SELECT womgr.issue_parts(1, $1, $part, 1, $wh)"; }
on_hand() { q -c "SELECT on_hand FROM womgr.stock_level WHERE part_id = $part AND location_id = $wh"; }
issues() { q -c "SELECT count(*) FROM womgr.stock_movement WHERE part_id = $part AND kind = 'issue'"; }
fail=0
check() {   # $1 1 when the case passed, $2 what
	if [ "$1" = 1 ]; then echo "ok - $2"; else echo "not ok - $2"; fail=1; fi
}
race() {   # $1 $2 the two jobs; $3 how the first ends: COMMIT or ROLLBACK; $4 what
	local wo1=$1 wo2=$2 end=$3 what=$4 wait_s before_issues
	q -c "SELECT womgr.receive_stock(1, $wh, $part, 1, 800)" >/dev/null
	before_issues=$(issues)
	# the first takes the last unit and holds its transaction open for 3 s
	q -c "BEGIN" -c "$(issue "$wo1")" -c "SELECT pg_sleep(3)" -c "$end" >"$work/first" 2>&1 &
	local first=$!
	for _ in $(seq 1 200); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		              AND state = 'active' AND query = 'SELECT pg_sleep(3)'")" = 1 ] && break
		sleep 0.05
	done
	(
		s=$(date +%s.%N)
		psql -X -q -At -d $db -c "\\set VERBOSITY verbose" -c "$(issue "$wo2")" >"$work/second" 2>&1 || true
		echo "elapsed $(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')" >>"$work/second"
	) &
	local second=$!
	# is the second waiting for a lock (the stock level the first holds) while the first sleeps?
	local waiting=0
	for _ in $(seq 1 30); do
		waiting=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
		                   AND wait_event_type = 'Lock' AND query LIKE '%issue_parts(1, $wo2,%'")
		[ "$waiting" = 1 ] && break
		kill -0 $second 2>/dev/null || break
		sleep 0.05
	done
	wait $first || true
	wait $second || true
	wait_s=$(sed -n 's/^elapsed //p' "$work/second")
	local left issued
	left=$(on_hand)
	issued=$(( $(issues) - before_issues ))
	echo "first session ($end): $(head -1 "$work/first"); second session: $(grep -v '^elapsed' "$work/second" | head -2 | tr '\n' ' ')after ${wait_s}s, waited on a lock: $waiting; on hand: $left; issues: $issued"
	local ok=1
	[ "$waiting" = 1 ] || ok=0
	awk -v w="$wait_s" 'BEGIN { exit !(w >= 1.0) }' || ok=0
	[ "$issued" = 1 ] || ok=0
	[ "$left" = 0.000 ] || ok=0
	if [ "$end" = COMMIT ]; then
		# the second waited for the first, then found nothing left
		grep -q 'ERROR:  WM010: not enough stock of part "VALVE-15" at "nbo_main"' "$work/second" || ok=0
	else
		# the second waited for the first, then got the unit the first gave back
		grep -q "ERROR" "$work/second" && ok=0
	fi
	check $ok "$what"
}
race "${wo[0]}" "${wo[1]}" COMMIT \
	"two sessions take the last unit at once: the second waits for the first and fails with WM010 when it commits; on hand 0"
race "${wo[2]}" "${wo[3]}" ROLLBACK \
	"the first rolls back: the waiting second gets the last unit; on hand 0"

# 20 sessions released at the same moment (they queue on an advisory lock
# held by a gate session) each issue 1 of the 5 units left
q -c "SELECT womgr.receive_stock(1, $wh, $part, 5, 800)" >/dev/null
before=$(issues)
psql -X -q -At -d $db -c "SELECT pg_advisory_lock(4711)" -c "SELECT pg_sleep(2)" >/dev/null 2>&1 &
gate=$!
for _ in $(seq 1 100); do
	[ "$(q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4711 AND granted")" = 1 ] && break
	sleep 0.05
done
pids=()
for i in $(seq 4 23); do
	psql -X -q -At -d $db -c "\\set VERBOSITY verbose" -c "SELECT pg_advisory_lock_shared(4711)" \
		-c "$(issue "${wo[$i]}")" >"$work/many.$i" 2>&1 &
	pids+=($!)
done
wait $gate || true
for p in "${pids[@]}"; do wait "$p" || true; done
wm010=$(cat "$work"/many.* | grep -c 'ERROR:  WM010' || true)
errors=$(cat "$work"/many.* | grep -c 'ERROR' || true)
issued=$(( $(issues) - before ))
left=$(on_hand)
ledger=$(q -c "SELECT sum(quantity) FROM womgr.stock_movement WHERE part_id = $part AND location_id = $wh")
echo "20 sessions at once for 5 units: issued $issued, WM010 $wm010, errors in all $errors, on hand $left, ledger sum $ledger"
ok=1
[ "$issued" = 5 ] || ok=0
[ "$wm010" = 15 ] || ok=0
[ "$errors" = 15 ] || ok=0
[ "$left" = 0.000 ] || ok=0
[ "$ledger" = 0.000 ] || ok=0
check $ok "20 sessions take 5 units at the same moment: 5 issued, 15 refused with WM010, on hand 0 and equal to the ledger"
exit $fail
