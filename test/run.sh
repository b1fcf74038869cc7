#!/usr/bin/env bash
# womgr's one-command entry points (see README "Quick start"):
#
#   test/run.sh demo    install what is missing, build, install, start a
#                       throwaway cluster, load the demo company, print it
#   test/run.sh test    the same set-up, then the whole test suite; the last
#                       line is "N passed, N failed"
#   test/run.sh shell   like demo, then an interactive psql on the cluster
#   test/run.sh bench [N]  the same set-up, then the benchmarks on a demo
#                       company of N work orders (default 10000)
#   test/run.sh valgrind   the suite against a server running under valgrind
#                       memcheck; fails on any error report with womgr.so in
#                       its stack (PostgreSQL's own known reports are ignored)
#
# Debian packages are installed with apt-get when run as root (or through
# sudo when it needs no password).  The cluster runs as the postgres user on
# a private port (Debian's pg_virtualenv) and is removed afterwards.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-}

packages=(
	postgresql-15 postgresql-server-dev-15 postgresql-15-postgis-3 postgresql-15-cron
	postgresql-15-pgtap libsodium-dev pkg-config make gcc
	python3
)
# Warnings are errors in the test build (CI), never in the default build.
strict_cflags="-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
	else
		echo "run.sh: needs root for: $*" >&2
		echo "run.sh: run it as root, or run that command with sudo first" >&2
		exit 2
	fi
}

install_packages() {
	local missing=() p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_and_install() {
	echo "== building womgr"
	make -s clean >/dev/null
	make -s PG_CFLAGS="${1:-}" 2>&1
	as_root make -s install >/dev/null
}

# Run "$0 inside <mode>" in a throwaway cluster with pg_cron preloaded.
in_cluster() {
	local db=$1; shift
	# -t: a private temporary directory even as root, so runs never collide
	pg_virtualenv -t -o shared_preload_libraries=pg_cron -o "cron.database_name=$db" \
		-o max_locks_per_transaction=256 "$@"
}

count_results() {
	# pg_regress prints one line per test: "test name ... ok" / "... FAILED"
	local out=$1
	passed=$(grep -cE '^(test | +)?[a-z_ ]*[a-z_]+ +\.\.\. ok' "$out" || true)
	failed=$(grep -cE '\.\.\. FAILED' "$out" || true)
}

case "$mode" in
	valgrind)
		packages+=(valgrind)
		install_packages
		build_and_install "$strict_cflags -O0 -g"
		chmod -R a+rX . 2>/dev/null || true
		vg=$(mktemp -d)
		chmod 777 "$vg"
		run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
		bindir=$(pg_config --bindir)
		run_pg "$bindir/initdb -D $vg/data -A trust -U postgres >/dev/null"
		cat >>"$vg/data/postgresql.conf" <<-CONF
			port = 54329
			unix_socket_directories = '$vg'
			listen_addresses = ''
			shared_preload_libraries = 'pg_cron'
			cron.database_name = 'contrib_regression'
		CONF
		run_pg "valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 \
			--log-file=$vg/valgrind.%p.log $bindir/postgres -D $vg/data >$vg/server.log 2>&1 &"
		for _ in $(seq 1 120); do pg_isready -q -h "$vg" -p 54329 && break; sleep 1; done
		status=0
		PGHOST=$vg PGPORT=54329 PGUSER=postgres make -s installcheck || status=$?
		run_pg "$bindir/pg_ctl -D $vg/data -m fast stop >/dev/null" || true
		# one report per block; keep those whose stack passes through womgr.so
		ours=$(awk '/^==[0-9]+== [A-Z]/ { if (blk ~ /womgr\.so/) n++; blk = "" } { blk = blk $0 "\n" }
		            END { if (blk ~ /womgr\.so/) n++; print n + 0 }' "$vg"/valgrind.*.log)
		if [ "$ours" -gt 0 ]; then
			grep -l 'womgr\.so' "$vg"/valgrind.*.log | xargs cat
			status=1
		fi
		echo "valgrind: $ours error reports in womgr.so"
		rm -rf "$vg"
		exit $status
		;;
	demo|shell|test|bench)
		# the assignment benchmark compares with SciPy's linear_sum_assignment
		if [ "$mode" = bench ]; then packages+=(python3-scipy); fi
		install_packages
		if [ "$mode" = test ]; then build_and_install "$strict_cflags"; else build_and_install; fi
		chmod -R a+rX . 2>/dev/null || true
		case "$mode" in
			test)
				# the summary is printed again after pg_virtualenv's own
				# closing words, so it is the last line
				summary=$(mktemp)
				chmod 666 "$summary"
				status=0
				WOMGR_SUMMARY=$summary in_cluster contrib_regression "$0" inside-test || status=$?
				[ -s "$summary" ] || echo "0 passed, 1 failed" >"$summary"
				[ "$status" -ne 0 ] && grep -q ' 0 failed' "$summary" && echo "0 passed, 1 failed" >"$summary"
				cat "$summary"
				rm -f "$summary"
				exit "$status"
				;;
			bench) in_cluster womgr_bench test/bench/run.sh "${2:-10000}" ;;
			*) in_cluster womgr_demo "$0" "inside-$mode" ;;
		esac
		;;
	inside-demo|inside-shell)
		createdb womgr_demo
		psql -X -q -v ON_ERROR_STOP=1 -d womgr_demo -f test/demo.sql
		if [ "$mode" = inside-shell ]; then
			echo "== psql on the throwaway cluster (it is removed when you quit)"
			psql -X -d womgr_demo
		fi
		;;
	inside-test)
		out=$(mktemp)
		status=0
		make -s installcheck 2>&1 | tee "$out" || status=$?
		count_results "$out"
		for script in test/scripts/*.sh; do
			[ -e "$script" ] || continue
			name=$(basename "$script" .sh)
			if bash "$script" >"$out.script" 2>&1; then
				echo "script $name ... ok"
				passed=$((passed + 1))
			else
				echo "script $name ... FAILED"
				sed 's/^/    /' "$out.script"
				failed=$((failed + 1))
			fi
		done
		if [ -s regression.diffs ]; then
			echo "== regression.diffs"
			cat regression.diffs
		fi
		rm -f "$out" "$out.script"
		[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
		echo "$passed passed, $failed failed"
		[ -n "${WOMGR_SUMMARY:-}" ] && echo "$passed passed, $failed failed" >"$WOMGR_SUMMARY"
		[ "$failed" -eq 0 ]
		;;
	*)
		echo "usage: test/run.sh demo|test|shell|bench [N]|valgrind" >&2
		exit 2
		;;
esac
