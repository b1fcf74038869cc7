#!/usr/bin/env bash
# audit_crash: the server crashes (SIGKILL) while 8 pgbench writers change
# one tenant's customers and the background sealer seals their entries.
# After the restart the log is whole: once sealed, nothing is left pending,
# seq is exactly 1..N, audit_verify() is ok, and every committed change has
# exactly one entry (compared by primary key with the rows that survived;
# update counters; deleted pool rows; the transaction ids stamped on the
# inserted rows), while the transactions the crash cut off left none.  A
# second load after the restart is sealed onto the same chain.
#
# The crash is a real one: the postmaster is stopped, then it and every
# child are killed with SIGKILL (no shutdown checkpoint, no clean exit of any
# backend or of the sealer), and the cluster is started again with
# pg_ctlcluster, so the restart goes through WAL recovery.  This needs the
# Debian cluster pg_virtualenv makes; the test refuses (skips) any server
# that is not such a throwaway cluster.  WOMGR_AUDIT_CRASH_MODE=backend
# kills one writing backend instead, after which the postmaster ends every
# backend and reinitialises with WAL recovery itself.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail

db=${WOMGR_AUDIT_CRASH_DB:-womgr_audit_crash}
mode=${WOMGR_AUDIT_CRASH_MODE:-postmaster}
clients=8
work=$(mktemp -d)
load=
status=0

q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }
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

# ---- the server: which Debian cluster it is, and how to crash and restart it

port=${PGPORT:-5432}
ver='' cluster='' datadir='' logfile=''
if command -v pg_lsclusters >/dev/null && command -v pg_ctlcluster >/dev/null; then
	read -r ver cluster datadir logfile < <(pg_lsclusters -h 2>/dev/null |
		awk -v p="$port" '$3 == p { print $1, $2, $6, $7; exit }') || true
fi
if [ -z "$cluster" ] || [ ! -e "${PG_CLUSTER_CONF_ROOT:-/etc/postgresql}/$ver/$cluster/.by_pg_virtualenv" ]; then
	echo "ok - skipped: the server on port $port is not a throwaway pg_virtualenv cluster, and this test crashes it"
	rm -rf "$work"
	exit 0
fi

server_ready() { pg_isready -q && psql -X -q -At -d postgres -c "SELECT 1" >/dev/null 2>&1; }
wait_ready() {   # wait_ready <seconds>
	for _ in $(seq 1 $(($1 * 5))); do
		server_ready && return 0
		sleep 0.2
	done
	return 1
}
# a process that is gone, or a zombie nobody has reaped yet
dead() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 0; [ "${s:0:1}" = Z ]; }
start_server() { pg_ctlcluster "$ver" "$cluster" start; }

crash_postmaster() {
	local pm kids p
	pm=$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null) || pm=
	if [ -z "$pm" ]; then   # the data directory is not readable: the checkpointer's parent
		pm=$(ps -o ppid= -p "$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")" | tr -d ' ')
	fi
	[ "$(ps -o comm= -p "$pm")" = postgres ] || { echo "# $pm is not a postmaster"; return 1; }
	# stopped, it forks no new child while its children are listed and killed
	kill -STOP "$pm"
	kids=$(pgrep -P "$pm" | tr '\n' ' ')
	echo "# SIGKILL to the postmaster $pm and its children $kids"
	# shellcheck disable=SC2086
	kill -KILL "$pm" $kids
	for p in $kids; do
		for _ in $(seq 1 100); do dead "$p" && break; sleep 0.1; done
	done
	# a new postmaster refuses to start while the old one's pid still exists
	# (even as a zombie that init has not reaped yet)
	for _ in $(seq 1 300); do
		ps -p "$pm" >/dev/null 2>&1 || break
		sleep 0.1
	done
	if ps -p "$pm" >/dev/null 2>&1; then
		dead "$pm" || { echo "# the postmaster $pm survived SIGKILL"; return 1; }
		echo "# the killed postmaster $pm is an unreaped zombie: removing its lock file"
		rm -f "$datadir/postmaster.pid"
	fi
	start_server
}

crash_backend() {
	local victim
	victim=$(psql -X -q -At -d postgres -c "SELECT pid FROM pg_stat_activity
		WHERE datname = '$db' AND application_name = 'pgbench' ORDER BY state = 'active' DESC LIMIT 1")
	echo "# SIGKILL to the backend $victim: the postmaster ends every backend and recovers"
	kill -KILL "$victim"
	# the postmaster reaps it (a pid that is gone, not a zombie) and then resets
	for _ in $(seq 1 100); do ps -p "$victim" >/dev/null 2>&1 || break; sleep 0.1; done
}

cleanup() {
	local p
	for p in $load; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	# a failure half-way may leave the server down: bring it back to drop the database
	if ! wait_ready 2; then
		start_server >/dev/null 2>&1 || true
		wait_ready 60 || true
	fi
	psql -X -q -At -d "$db" -c "SELECT womgr.audit_stop_sealer()" >/dev/null 2>&1 || true
	dropdb --if-exists "$db" 2>/dev/null || dropdb --if-exists --force "$db" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# ---- set-up: one tenant, a pool of rows to update and one to delete

dropdb --if-exists "$db"
createdb "$db"
upd_pool=200
del_pool=3000
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
base=$(q -c "SELECT womgr.audit_seal()" -c "SELECT coalesce(max(seq), 0) FROM womgr.audit_entry WHERE tenant_id = $tenant" | tail -n 1)

# each committed transaction stamps its inserted rows with its transaction id
cat >"$work/commit.sql" <<'SQL'
\set u random(:upd_lo, :upd_hi)
\set d random(:del_lo, :del_hi)
\set n random(1, 3)
BEGIN;
INSERT INTO womgr.customer (tenant_id, name, kind, tax_pin)
SELECT :tenant, 'ins ' || :client_id, 'individual', pg_current_xact_id()::text FROM generate_series(1, :n);
UPDATE womgr.customer SET phone = (phone::int + 1)::text, updated_at = clock_timestamp()
 WHERE tenant_id = :tenant AND customer_id = :u;
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
bench() {   # bench <clients> <seconds> <output file>
	pgbench -n -c "$1" -j 2 -T "$2" \
		-D tenant="$tenant" -D upd_lo="$upd_lo" -D upd_hi="$upd_hi" -D del_lo="$del_lo" -D del_hi="$del_hi" \
		-f "$work/commit.sql@9" -f "$work/rollback.sql@1" "$db" >"$3" 2>&1
}

# The whole log against the table: what every check after a seal says.
check_log() {   # check_log <when>
	local n distinct lo hi head inserted updated deleted e_ins e_upd e_del e_other
	check "$1: audit_pending is empty" "$(q -c "SELECT count(*) FROM womgr.audit_pending")" 0
	read -r n distinct lo hi head < <(q -F ' ' -c "
		SELECT count(*), count(DISTINCT seq), coalesce(min(seq), 0), coalesce(max(seq), 0),
		       (SELECT seq FROM womgr.audit_chain_head WHERE tenant_id = $tenant)
		  FROM womgr.audit_entry WHERE tenant_id = $tenant")
	check "$1: seq is exactly 1..N without gaps or duplicates, and the head is at N (N = $n)" \
		"$distinct $lo $hi $head" "$n 1 $n $n"
	check "$1: audit_verify is ok for all $n entries" \
		"$(q -F ' ' -c "SELECT ok, entries_checked, first_bad_seq IS NULL, coalesce(problem, '') FROM womgr.audit_verify($tenant)")" \
		"t $n t "
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
	check "$1: entries of the load: $inserted inserts, $updated updates, $deleted deletes, nothing else" \
		"$e_ins $e_upd $e_del $e_other $((n - base))" "$inserted $updated $deleted 0 $((inserted + updated + deleted))"
	check "$1: every row that exists has exactly one insert entry, and every insert entry is a row that exists" \
		"$(q -c "
		WITH rows AS (SELECT customer_id FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'),
		     ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id, count(*) AS c
		                FROM womgr.audit_entry
		               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'I'
		               GROUP BY 1)
		SELECT count(*) FROM rows FULL JOIN ents USING (customer_id) WHERE rows.customer_id IS NULL OR ents.c IS DISTINCT FROM 1")" 0
	check "$1: each updated row has as many update entries as its counter, in order (phone 1, 2, 3, ...)" \
		"$(q -c "
		WITH ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id,
		                     array_agg((new_values->>'phone')::int ORDER BY seq) AS phones
		                FROM womgr.audit_entry
		               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'U'
		               GROUP BY 1)
		SELECT count(*) FROM womgr.customer c LEFT JOIN ents e USING (customer_id)
		 WHERE c.tenant_id = $tenant AND c.name LIKE 'upd %'
		   AND coalesce(e.phones, '{}') IS DISTINCT FROM ARRAY(SELECT generate_series(1, c.phone::int))")" 0
	check "$1: every deleted pool row has exactly one delete entry, and no delete entry names a row that exists" \
		"$(q -c "
		WITH gone AS (SELECT i AS customer_id FROM generate_series($del_lo, $del_hi) i
		               WHERE NOT EXISTS (SELECT FROM womgr.customer c WHERE c.tenant_id = $tenant AND c.customer_id = i)),
		     ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id, count(*) AS c
		                FROM womgr.audit_entry
		               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'D'
		               GROUP BY 1)
		SELECT count(*) FROM gone FULL JOIN ents USING (customer_id) WHERE gone.customer_id IS NULL OR ents.c IS DISTINCT FROM 1")" 0
	check "$1: the entries' transactions are exactly the committed ones (the ids stamped on the inserted rows)" \
		"$(q -F ' ' -c "
		WITH rows AS (SELECT DISTINCT tax_pin::xid8 AS txid FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'),
		     ents AS (SELECT DISTINCT txid FROM womgr.audit_entry WHERE tenant_id = $tenant AND seq > $base)
		SELECT count(*) > 0, count(*) FILTER (WHERE rows.txid IS NULL), count(*) FILTER (WHERE ents.txid IS NULL)
		  FROM rows FULL JOIN ents USING (txid)")" "t 0 0"
	check "$1: nothing of a rolled-back transaction is in the table or the audit log" \
		"$(q -F ' ' -c "
		SELECT (SELECT count(*) FROM womgr.customer WHERE name LIKE 'ROLLED-BACK%' OR email LIKE 'ROLLED-BACK%'),
		       (SELECT count(*) FROM womgr.audit_entry
		         WHERE coalesce(new_values::text, '') || coalesce(old_values::text, '') LIKE '%ROLLED-BACK%')")" "0 0"
}

drain() {   # drain <when>: the background sealer alone empties audit_pending
	local left
	for _ in $(seq 1 100); do
		left=$(q -c "SELECT count(*) FROM womgr.audit_pending")
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	check "$1: the background sealer drains the pending entries by itself" "$left" 0
	q -c "SELECT womgr.audit_seal()" >/dev/null
}

# ---- the load, and the crash in the middle of it

sealer_pid=$(q -c "SELECT womgr.audit_start_sealer()")
started=$(q -c "SELECT pg_postmaster_start_time()")
bench $clients 60 "$work/pgbench1.out" &
load=$!
# until the writers commit and the sealer seals (at least 2 s, at most 30 s)
sleep 2
for _ in $(seq 1 280); do
	sealed=$(q -c "SELECT seq - $base FROM womgr.audit_chain_head WHERE tenant_id = $tenant")
	[ "$sealed" -ge 3000 ] && break
	sleep 0.1
done
check "writers and sealer are busy before the crash ($sealed entries sealed; sealer $sealer_pid)" \
	"$([ "$sealed" -gt 0 ] && echo yes) $(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid")" "yes 1"

log_from=$(($(stat -c %s "$logfile" 2>/dev/null || echo 0) + 1))
if [ "$mode" = backend ]; then crash_backend; else crash_postmaster; fi
ready=no
wait_ready 60 && ready=yes
check "the server accepts connections again after the crash ($mode)" "$ready" yes
[ "$ready" = yes ] || { [ -r "$logfile" ] && tail -n 30 "$logfile"; exit 1; }

# the writers lost their connections
for _ in $(seq 1 100); do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
kill "$load" 2>/dev/null || true
bench_status=0
wait "$load" || bench_status=$?
load=
check "pgbench lost its connections in the crash" \
	"$([ "$bench_status" -ne 0 ] && grep -q 'aborted' "$work/pgbench1.out" && echo yes)" yes
if [ -r "$logfile" ]; then
	check "the server recovered from WAL" \
		"$(tail -c "+$log_from" "$logfile" | grep -c -e 'automatic recovery in progress' -e 'redo done at')" 2
else
	echo "# the server log is not readable here: WAL recovery not checked in the log"
fi
if [ "$mode" = postmaster ]; then
	check "the postmaster is a new one" "$(q -c "SELECT pg_postmaster_start_time() > '$started'")" t
fi
check "the sealer of before the crash is gone" "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid")" 0
echo "# sealer running again by itself after the restart: $(q -c "SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'womgr audit sealer' AND datname = current_database()")"

sealer_pid=$(q -c "SELECT womgr.audit_start_sealer()")
check "audit_start_sealer starts a sealer after the restart" \
	"$(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid AND backend_type = 'womgr audit sealer'")" 1
drain "after the crash"
check_log "after the crash"

# ---- a second load on the recovered server continues the chain

before=$(q -c "SELECT seq FROM womgr.audit_chain_head WHERE tenant_id = $tenant")
bench_status=0
bench 4 2 "$work/pgbench2.out" || bench_status=$?
[ "$bench_status" = 0 ] || cat "$work/pgbench2.out"
check "a second load after the restart runs without an error" "$bench_status" 0
drain "after the second load"
check "the second load's entries follow the first's" \
	"$(q -c "SELECT seq > $before FROM womgr.audit_chain_head WHERE tenant_id = $tenant")" t
check_log "after the second load"

check "audit_stop_sealer stops the sealer" \
	"$(q -c "SELECT womgr.audit_stop_sealer()" -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $sealer_pid")" $'t\n0'
exit $status
