#!/usr/bin/env bash
# booking_race: two sessions book the same technician at the same moment
# with womgr.assign(..., p_start, p_end) on two different work orders.  The
# first books, then holds its transaction open for 3 s; the second does not
# see that booking yet (womgr.assign's own clash check passes), so the
# exclusion constraint assignment_no_double_booking decides: the second must
# be seen waiting on a lock (pg_stat_activity) for over a second and, when
# the first commits, fail with exclusion_violation (23P01), one booking
# left; when the first rolls back, the second gets the time.  Bookings that
# do not overlap (back to back) both succeed at the same moment, without
# waiting.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set);
# BOOKING_RACE_DB names another database to use (it is dropped at the end).
set -euo pipefail
db=${BOOKING_RACE_DB:-womgr_booking_race}
first_out=$(mktemp)
second_out=$(mktemp)
trap 'rm -f "$first_out" "$second_out"; dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
tech=$(q <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_branch(1, '{"code": "NBO", "name": "Nairobi"}') AS branch \gset
SELECT womgr.create_customer(1, jsonb_build_object('name', 'Acme', 'branch_id', :branch)) AS customer \gset
SELECT womgr.create_site(1, jsonb_build_object('name', 'HQ', 'customer_id', :customer, 'branch_id', :branch)) AS site \gset
SELECT womgr.create_technician(1, jsonb_build_object('name', 'Otieno', 'home_branch_id', :branch)) AS tech \gset
SELECT count(womgr.create_work_order(1, jsonb_build_object('customer_id', :customer, 'site_id', :site, 'type', 'repair',
                                                           'description', 'Leak ' || i))) AS made
  FROM generate_series(1, 6) i \gset
SELECT :tech;
SQL
)
mapfile -t wo < <(q -c "SELECT work_order_id FROM womgr.work_order ORDER BY work_order_id")
# a day ahead, at whole hours, in the server's time zone
day=$(q -c "SELECT date_trunc('day', now()) + interval '2 days'")
at() { echo "'$day'::timestamptz + interval '$1'"; }
fail=0
race() {   # $1 first work order, $2 $3 its start and end (hours into the day); $4 $5 $6 the second's;
	       # $7 how the first ends: COMMIT or ROLLBACK; $8 expected for the second: 23P01 or ok; $9 what
	local wo1=$1 wo2=$4 end=$7 expect=$8 what=$9 wait_s
	# the first books and holds its transaction open for 3 s
	q -c "BEGIN" -c "SELECT womgr.assign(1, $wo1, $tech, 'lead', $(at "$2"), $(at "$3"))" -c "SELECT pg_sleep(3)" -c "$end" >"$first_out" 2>&1 &
	local first=$!
	# once it has booked (it is asleep), the second tries the same technician
	for _ in $(seq 1 200); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		              AND state = 'active' AND query = 'SELECT pg_sleep(3)'")" = 1 ] && break
		sleep 0.05
	done
	(
		s=$(date +%s.%N)
		psql -X -q -At -d $db -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" \
			-c "SELECT womgr.assign(1, $wo2, $tech, 'lead', $(at "$5"), $(at "$6"))" >"$second_out" 2>&1 || true
		echo "elapsed $(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')" >>"$second_out"
	) &
	local second=$!
	# is the second waiting for a lock (the first's transaction) while the first sleeps?
	local waiting=0
	for _ in $(seq 1 30); do
		waiting=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
		                   AND wait_event_type = 'Lock' AND query LIKE '%womgr.assign(1, $wo2,%'")
		[ "$waiting" = 1 ] && break
		kill -0 $second 2>/dev/null || break
		sleep 0.05
	done
	wait $first || true
	wait $second || true
	wait_s=$(sed -n 's/^elapsed //p' "$second_out")
	local booked
	booked=$(q -c "SELECT coalesce(string_agg(work_order_id::text, ',' ORDER BY work_order_id), 'none') FROM womgr.assignment
	                WHERE technician_id = $tech AND ended_at IS NULL AND work_order_id IN ($wo1, $wo2)")
	echo "first session ($end): $(head -1 "$first_out"); second session: $(grep -v '^elapsed' "$second_out" | head -2 | tr '\n' ' ')after ${wait_s}s, waited on a lock: $waiting; booked: $booked"
	local ok=1
	if [ "$expect" = 23P01 ]; then
		# the second waited for the first, then failed once the first committed: one booking, the first's
		grep -q "ERROR:  23P01" "$second_out" || ok=0
		[ "$waiting" = 1 ] || ok=0
		awk -v w="$wait_s" 'BEGIN { exit !(w >= 1.0) }' || ok=0
		[ "$booked" = "$wo1" ] || ok=0
	elif [ "$end" = ROLLBACK ]; then
		# the second waited for the first, then got the time when the first rolled back
		grep -q "ERROR" "$second_out" && ok=0
		[ "$waiting" = 1 ] || ok=0
		awk -v w="$wait_s" 'BEGIN { exit !(w >= 1.0) }' || ok=0
		[ "$booked" = "$wo2" ] || ok=0
	else
		# both booked; the second did not wait for the first
		grep -q "ERROR" "$second_out" && ok=0
		grep -q "ERROR" "$first_out" && ok=0
		[ "$waiting" = 0 ] || ok=0
		awk -v w="$wait_s" 'BEGIN { exit !(w < 1.0) }' || ok=0
		[ "$booked" = "$wo1,$wo2" ] || ok=0
	fi
	if [ $ok = 1 ]; then
		echo "ok - $what"
	else
		echo "not ok - $what"; fail=1
	fi
}
race "${wo[0]}" '9 hours' '11 hours' "${wo[1]}" '10 hours' '12 hours' COMMIT 23P01 \
	"overlapping bookings at the same moment: the second waits for the first and fails with 23P01 when it commits; one booking"
race "${wo[2]}" '13 hours' '14 hours' "${wo[3]}" '13 hours 30 minutes' '14 hours 30 minutes' ROLLBACK ok \
	"overlapping bookings, the first rolls back: the waiting second gets the time"
race "${wo[4]}" '15 hours' '16 hours' "${wo[5]}" '16 hours' '17 hours' COMMIT ok \
	"back-to-back bookings at the same moment: both succeed, the second without waiting"
exit $fail
