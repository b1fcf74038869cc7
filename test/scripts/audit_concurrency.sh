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
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

status=0
check() {   # check "<description>" "<got>" "<expected>"
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "#   got:      $2"
		echo "#   expected: $3"
		status=1
	fi
}

dropdb --if-exists "$db"
createdb "$db"

# Two pools of customers made before the load: rows the writers update
# (phone counts the committed updates of each) and rows they delete.
upd_pool=200
del_pool=1500
read -r tenant upd_lo upd_hi del_lo del_hi < <(q -F ' ' <<SQL
CREATE EXTENSION womgr CASCADE;
INSERT INTO womgr.customer (tenant_id, name, phone)
SELECT womgr.default_tenant_id(), 'upd ' || i, '0' FROM generate_series(1, $upd_pool) i;
INSERT INTO womgr.customer (tenant_id, name)
SELECT womgr.default_tenant_id(), 'del ' || i FROM generate_series(1, $del_pool) i;
SELECT womgr.default_tenant_id(),
       min(customer_id) FILTER (WHERE name LIKE 'upd %'), max(customer_id) FILTER (WHERE name LIKE 'upd %'),
       min(customer_id) FILTER (WHERE name LIKE 'del %'), max(customer_id) FILTER (WHERE name LIKE 'del %')
  FROM womgr.customer WHERE tenant_id = womgr.default_tenant_id();
SQL
)
check "the pools have contiguous ids" "$((upd_hi - upd_lo + 1)) $((del_hi - del_lo + 1))" "$upd_pool $del_pool"

# what exists before the load is sealed first; the load's entries follow it
base=$(q -c "SELECT womgr.audit_seal()" -c "SELECT coalesce(max(seq), 0) FROM womgr.audit_entry WHERE tenant_id = $tenant")
base=$(echo "$base" | tail -1)

cat >"$work/commit.sql" <<'SQL'
\set u random(:upd_lo, :upd_hi)
\set d random(:del_lo, :del_hi)
\set n random(1, 3)
\set sp random(1, 4)
BEGIN;
INSERT INTO womgr.customer (tenant_id, name, kind, tax_pin)
SELECT :tenant, 'ins ' || :client_id, 'individual', pg_current_xact_id()::text FROM generate_series(1, :n);
UPDATE womgr.customer SET phone = (phone::int + 1)::text, updated_at = clock_timestamp()
 WHERE tenant_id = :tenant AND customer_id = :u;
\if :sp = 1
SAVEPOINT s;
INSERT INTO womgr.customer (tenant_id, name) VALUES (:tenant, 'ROLLED-BACK-SAVEPOINT');
UPDATE womgr.customer SET email = 'ROLLED-BACK-SAVEPOINT' WHERE tenant_id = :tenant AND customer_id = :u;
DELETE FROM womgr.customer WHERE tenant_id = :tenant AND customer_id = :d;
ROLLBACK TO SAVEPOINT s;
\endif
DELETE FROM womgr.customer WHERE tenant_id = :tenant AND customer_id = :d;
COMMIT;
SQL
cat >"$work/rollback.sql" <<'SQL'
\set u random(:upd_lo, :upd_hi)
\set d random(:del_lo, :del_hi)
BEGIN;
INSERT INTO womgr.customer (tenant_id, name)
SELECT :tenant, 'ROLLED-BACK-TXN' FROM generate_series(1, 2);
UPDATE womgr.customer SET phone = (phone::int + 1)::text, email = 'ROLLED-BACK-TXN'
 WHERE tenant_id = :tenant AND customer_id = :u;
DELETE FROM womgr.customer WHERE tenant_id = :tenant AND customer_id = :d;
ROLLBACK;
SQL

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
pgbench -n -c $clients -j 2 -t "$per_client" \
	-D tenant="$tenant" -D upd_lo="$upd_lo" -D upd_hi="$upd_hi" -D del_lo="$del_lo" -D del_hi="$del_hi" \
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

# the background sealer alone drains what is left
for _ in $(seq 1 100); do
	left=$(q -c "SELECT count(*) FROM womgr.audit_pending")
	[ "$left" = 0 ] && break
	sleep 0.1
done
check "the background sealer drains the pending entries by itself" "$left" 0
q -c "SELECT womgr.audit_seal()" >/dev/null
check "audit_pending is empty" "$(q -c "SELECT count(*) FROM womgr.audit_pending")" 0

read -r n distinct lo hi head < <(q -F ' ' -c "
	SELECT count(*), count(DISTINCT seq), coalesce(min(seq), 0), coalesce(max(seq), 0),
	       (SELECT seq FROM womgr.audit_chain_head WHERE tenant_id = $tenant)
	  FROM womgr.audit_entry WHERE tenant_id = $tenant")
check "seq is exactly 1..N without gaps or duplicates, and the head is at N (N = $n)" \
	"$distinct $lo $hi $head" "$n 1 $n $n"
check "audit_verify is ok for all $n entries" \
	"$(q -F ' ' -c "SELECT ok, entries_checked, first_bad_seq IS NULL, coalesce(problem, '') FROM womgr.audit_verify($tenant)")" \
	"t $n t "

# expected entries, counted from the table itself
read -r inserted updated deleted < <(q -F ' ' -c "
	SELECT count(*) FILTER (WHERE name LIKE 'ins %'),
	       coalesce(sum(phone::int) FILTER (WHERE name LIKE 'upd %'), 0),
	       $del_pool - count(*) FILTER (WHERE name LIKE 'del %')
	  FROM womgr.customer WHERE tenant_id = $tenant")
read -r e_ins e_upd e_del e_other < <(q -F ' ' -c "
	SELECT count(*) FILTER (WHERE table_name = 'customer' AND operation = 'I'),
	       count(*) FILTER (WHERE table_name = 'customer' AND operation = 'U'),
	       count(*) FILTER (WHERE table_name = 'customer' AND operation = 'D'),
	       count(*) FILTER (WHERE table_name <> 'customer')
	  FROM womgr.audit_entry WHERE tenant_id = $tenant AND seq > $base")
check "entries of the load: $inserted inserts, $updated updates, $deleted deletes, nothing else" \
	"$e_ins $e_upd $e_del $e_other" "$inserted $updated $deleted 0"
check "the load's entries number inserts + updates + deletes" "$((n - base))" "$((inserted + updated + deleted))"

# row by row, by primary key
check "every inserted row has exactly one insert entry, and every insert entry is a row that exists" \
	"$(q -c "
	WITH rows AS (SELECT customer_id FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'),
	     ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id, count(*) AS c
	                FROM womgr.audit_entry
	               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'I'
	               GROUP BY 1)
	SELECT count(*) FROM rows FULL JOIN ents USING (customer_id) WHERE rows.customer_id IS NULL OR ents.c IS DISTINCT FROM 1")" 0
check "each updated row has as many update entries as its counter, in commit order (phone 1, 2, 3, ...)" \
	"$(q -c "
	WITH ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id,
	                     array_agg((new_values->>'phone')::int ORDER BY seq) AS phones
	                FROM womgr.audit_entry
	               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'U'
	               GROUP BY 1)
	SELECT count(*) FROM womgr.customer c FULL JOIN ents e USING (customer_id)
	 WHERE c.tenant_id = $tenant AND c.name LIKE 'upd %'
	   AND coalesce(e.phones, '{}') IS DISTINCT FROM
	       ARRAY(SELECT generate_series(1, c.phone::int))")" 0
check "every deleted pool row has exactly one delete entry, and no delete entry names a row that exists" \
	"$(q -c "
	WITH gone AS (SELECT i AS customer_id FROM generate_series($del_lo, $del_hi) i
	               WHERE NOT EXISTS (SELECT FROM womgr.customer c WHERE c.tenant_id = $tenant AND c.customer_id = i)),
	     ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id, count(*) AS c
	                FROM womgr.audit_entry
	               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'D'
	               GROUP BY 1)
	SELECT count(*) FROM gone FULL JOIN ents USING (customer_id) WHERE gone.customer_id IS NULL OR ents.c IS DISTINCT FROM 1")" 0
check "the long transaction's entry, captured first, was sealed once, after later entries" \
	"$(q -F ' ' -c "
	SELECT count(*), bool_and(e.seq > (SELECT min(seq) FROM womgr.audit_entry l
	                                   WHERE l.tenant_id = $tenant AND l.entry_id > e.entry_id))
	  FROM womgr.audit_entry e JOIN womgr.customer c
	    ON c.tenant_id = e.tenant_id AND c.customer_id = (e.primary_key->>'customer_id')::bigint
	 WHERE e.tenant_id = $tenant AND e.table_name = 'customer' AND e.operation = 'I' AND c.name = 'ins long'")" "1 t"
# every committed transaction inserted rows stamped with its transaction id
committed=$(q -c "SELECT count(DISTINCT tax_pin) FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'")
rolled_back=$((total - committed + 1))
check "the entries' transactions are exactly the $committed committed ones ($rolled_back rolled back)" \
	"$(q -F ' ' -c "
	WITH rows AS (SELECT DISTINCT tax_pin::xid8 AS txid FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'),
	     ents AS (SELECT DISTINCT txid FROM womgr.audit_entry WHERE tenant_id = $tenant AND seq > $base)
	SELECT count(*) FILTER (WHERE rows.txid IS NULL), count(*) FILTER (WHERE ents.txid IS NULL)
	  FROM rows FULL JOIN ents USING (txid)")" "0 0"
check "nothing of a rolled-back transaction or savepoint is in the table or the audit log" \
	"$(q -F ' ' -c "
	SELECT (SELECT count(*) FROM womgr.customer WHERE name LIKE 'ROLLED-BACK%' OR email LIKE 'ROLLED-BACK%'),
	       (SELECT count(*) FROM womgr.audit_entry
	         WHERE coalesce(new_values::text, '') || coalesce(old_values::text, '') LIKE '%ROLLED-BACK%'),
	       (SELECT count(*) FROM womgr.audit_pending
	         WHERE coalesce(new_values::text, '') || coalesce(old_values::text, '') LIKE '%ROLLED-BACK%')")" "0 0 0"

check "audit_stop_sealer stops the sealer" \
	"$(q -c "SELECT womgr.audit_stop_sealer()" -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid")" $'t\n0'
# the sealer is a background worker the postmaster restarts 5 s after a
# crash: stopped, it must stay stopped (else, once the database is dropped,
# it is restarted and fails there every 5 s, holding a worker slot for good)
sleep 6
check "the stopped sealer stays stopped (6 s later no sealer runs in the database)" \
	"$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'womgr audit sealer' AND datname = current_database()")" 0
exit $status
