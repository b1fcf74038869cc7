#!/usr/bin/env bash
# audit_concurrency: 8 pgbench writers change one tenant's customers at once
# (inserts, updates, deletes; a tenth of the transactions roll back, a
# quarter of the committed ones roll back a savepoint) while the background
# sealer runs and another session calls womgr.audit_seal() in a loop.
# Afterwards every entry is sealed: nothing is left pending, the tenant's seq
# is exactly 1..N, audit_verify() is ok for all N, and the log holds exactly
# one entry per committed row change, counted from the table itself (rows
# that exist, an update counter per row, pool rows that are gone), with no
# entry of a rolled-back transaction or savepoint (their rows carry a marker).
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail

db=${WOMGR_AUDIT_CONCURRENCY_DB:-womgr_audit_concurrency}
clients=8
per_client=${WOMGR_AUDIT_TXNS_PER_CLIENT:-1000}
work=$(mktemp -d)
sealer_loop=
long_txn=
cleanup() {
	local p
	for p in $sealer_loop $long_txn; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	psql -X -q -At -d "$db" -c "SELECT womgr.audit_stop_sealer()" >/dev/null 2>&1 || true
	dropdb --if-exists "$db" 2>/dev/null || dropdb --if-exists --force "$db" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
status=0
# shellcheck source=test/scripts/audit_load.bash
. "$(dirname "$0")/audit_load.bash"

dropdb --if-exists "$db"
createdb "$db"

make_pools 200 1500
write_load_scripts savepoints

sealer_pid=$(q -c "SELECT womgr.audit_start_sealer()")
check "the background sealer runs" "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid")" 1

# a second sealer: womgr.audit_seal() in a loop while the writers run
(
	while :; do
		psql -X -q -At -d "$db" -c "SELECT womgr.audit_seal($tenant)" >/dev/null 2>>"$work/seal_loop.err" \
			|| echo "audit_seal failed" >>"$work/seal_loop.err"
		sleep 0.1
	done
) &
sealer_loop=$!

# a long transaction: its entry is captured before the writers start (a low
# entry_id) and committed after the sealers have sealed thousands of later ones
q -c "BEGIN" -c "INSERT INTO womgr.customer (tenant_id, name, tax_pin) VALUES ($tenant, 'ins long', pg_current_xact_id()::text)" \
	-c "SELECT pg_sleep(3)" -c "COMMIT" >"$work/long.out" 2>&1 &
long_txn=$!

pgbench_status=0
# shellcheck disable=SC2046
pgbench -n -c $clients -j 2 -t "$per_client" $(load_vars) \
	-f "$work/commit.sql@9" -f "$work/rollback.sql@1" "$db" >"$work/pgbench.out" 2>"$work/pgbench.err" \
	|| pgbench_status=$?
long_status=0
wait "$long_txn" || long_status=$?
long_txn=
kill "$sealer_loop" 2>/dev/null || true
wait "$sealer_loop" 2>/dev/null || true
sealer_loop=

total=$((clients * per_client))
processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
if [ "$pgbench_status" -ne 0 ] || [ "$processed" != "$total" ]; then
	cat "$work/pgbench.out" "$work/pgbench.err"
fi
check "$clients writers ran $total transactions without an error" "$pgbench_status $processed" "0 $total"
check "the long transaction committed" "$long_status $(cat "$work/long.out")" "0 "
check "womgr.audit_seal() in a concurrent session never failed" "$(cat "$work/seal_loop.err" 2>/dev/null || true)" ""

sealed_during=$(q -c "SELECT seq - $base FROM womgr.audit_chain_head WHERE tenant_id = $tenant")
check "entries were sealed while the writers ran ($sealed_during)" "$([ "$sealed_during" -gt 0 ] && echo yes)" yes
check "the background sealer survived the load (same process)" \
	"$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'womgr audit sealer' AND datname = current_database()")" \
	"$sealer_pid"

drain "after the load"
check_log "after the load"
check "the long transaction's entry, captured first, was sealed once, after later entries" \
	"$(q -F ' ' -c "
	SELECT count(*), bool_and(e.seq > (SELECT min(seq) FROM womgr.audit_entry l
	                                   WHERE l.tenant_id = $tenant AND l.entry_id > e.entry_id))
	  FROM womgr.audit_entry e JOIN womgr.customer c
	    ON c.tenant_id = e.tenant_id AND c.customer_id = (e.primary_key->>'customer_id')::bigint
	 WHERE e.tenant_id = $tenant AND e.table_name = 'customer' AND e.operation = 'I' AND c.name = 'ins long'")" "1 t"
committed=$(q -c "SELECT count(DISTINCT tax_pin) FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'")
echo "# $committed transactions committed, $((total - committed + 1)) rolled back"

check "audit_stop_sealer stops the sealer" \
	"$(q -c "SELECT womgr.audit_stop_sealer()" -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid")" $'t\n0'
# the sealer is a background worker the postmaster restarts 5 s after a
# crash: stopped, it must stay stopped (else, once the database is dropped,
# it is restarted and fails there every 5 s, holding a worker slot for good)
sleep 6
check "the stopped sealer stays stopped (6 s later no sealer runs in the database)" \
	"$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'womgr audit sealer' AND datname = current_database()")" 0
exit $status
