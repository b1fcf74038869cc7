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

# shellcheck source=test/scripts/audit_load.bash
. "$(dirname "$0")/audit_load.bash"

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
make_pools 200 3000
write_load_scripts
bench() {   # bench <clients> <seconds> <output file>
	# shellcheck disable=SC2046
	pgbench -n -c "$1" -j 2 -T "$2" $(load_vars) \
		-f "$work/commit.sql@9" -f "$work/rollback.sql@1" "$db" >"$3" 2>&1
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
