#!/usr/bin/env bash
# Benchmarks: load a demo company at a scale, run each benchmark with womgr
# and its baseline side by side in the same run, and print ratios (absolute
# times drift on a shared machine; ratios measured together do not).
#
#   test/bench/run.sh [work orders, default 10000]
#
# Run it inside a cluster (test/run.sh bench does the set-up and calls it).
set -euo pipefail
cd "$(dirname "$0")/../.."
scale=${1:-10000}
db=womgr_bench
rounds=${BENCH_ROUNDS:-5}
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }

dropdb --if-exists $db
createdb $db
q -c "CREATE EXTENSION womgr CASCADE"
echo "== loading the demo company with $scale work orders"
start=$(date +%s.%N)
tenant=$(q -c "SELECT womgr.demo_generate($scale, 1)")
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "   loaded in %.1f s\n", e - s }'
read -r customer site type_id priority_id < <(q -F ' ' -c "
    SELECT s.customer_id, s.site_id, ty.work_order_type_id, ty.default_priority_id
      FROM womgr.site s, womgr.work_order_type ty
     WHERE s.tenant_id = $tenant AND ty.tenant_id = $tenant AND ty.code = 'repair'
     ORDER BY s.site_id LIMIT 1")
q -c "VACUUM ANALYZE"

echo
echo "== intake, one transaction per call (pgbench, 1 client, $rounds alternating rounds of 10 s)"
vars=(-D tenant=$tenant -D customer=$customer -D site=$site -D type_id=$type_id -D priority_id=$priority_id)
ratios=()
printf '  %-8s %14s %14s %7s\n' round "INSERT tps" "womgr tps" ratio
for r in $(seq 1 "$rounds"); do
	plain=$(pgbench -n -M simple -c 1 -T 10 "${vars[@]}" -f test/bench/intake_plain.pgbench $db | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	api=$(pgbench -n -M simple -c 1 -T 10 "${vars[@]}" -f test/bench/intake_api.pgbench $db | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	ratio=$(awk -v p="$plain" -v a="$api" 'BEGIN { printf "%.3f", p / a }')
	ratios+=("$ratio")
	printf '  %-8s %14.0f %14.0f %7.2f\n' "$r" "$plain" "$api" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
awk -v m="$median" 'BEGIN { printf "RESULT intake_per_transaction cost_ratio=%.2f target<=2.00 %s\n", m, (m <= 2 ? "MET" : "MISSED") }'

echo
echo "== intake, 2000 calls per transaction ($rounds alternating rounds)"
q -v tenant="$tenant" -v customer="$customer" -v site="$site" -v calls=2000 -v rounds="$rounds" -f test/bench/intake_loop.sql

echo
echo "== transition, 2 x 1000 status changes per transaction ($rounds alternating rounds)"
q -v tenant="$tenant" -v calls=1000 -v rounds="$rounds" -f test/bench/transition_loop.sql

echo
echo "== transition, one status change per transaction (pgbench, 1 client, $rounds alternating rounds of 10 s)"
read -r lo hi < <(q -F ' ' -c "SELECT min(work_order_id), max(work_order_id) FROM womgr.work_order
                                 WHERE tenant_id = $tenant AND description LIKE 'Benchmark: pump %'")
tvars=(-D tenant=$tenant -D lo=$lo -D hi=$hi)
ratios=()
printf '  %-8s %14s %14s %7s\n' round "UPDATE tps" "womgr tps" ratio
for r in $(seq 1 "$rounds"); do
	plain=$(pgbench -n -M simple -c 1 -T 10 "${tvars[@]}" -f test/bench/transition_plain.pgbench $db | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	api=$(pgbench -n -M simple -c 1 -T 10 "${tvars[@]}" -f test/bench/transition_api.pgbench $db | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	ratio=$(awk -v p="$plain" -v a="$api" 'BEGIN { printf "%.3f", p / a }')
	ratios+=("$ratio")
	printf '  %-8s %14.0f %14.0f %7.2f\n' "$r" "$plain" "$api" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
awk -v m="$median" 'BEGIN { printf "RESULT transition_per_transaction cost_ratio=%.2f target<=3.00 %s\n", m, (m <= 3 ? "MET" : "MISSED") }'

echo
echo "== business calendars: add_business_time over 1000000 rows against start + duration, and against hand-written PL/pgSQL on samples ($rounds alternating rounds)"
q -v tenant="$tenant" -v rounds="$rounds" -f test/bench/calendar.sql

echo
echo "== SLA: sla_recalculate ('remaining', 'all') on the open clocks of 100000 work orders after a calendar edit, against a plain UPDATE of their due times ($rounds alternating rounds)"
q -v tenant="$tenant" -v rounds="$rounds" -f test/bench/sla_recalc.sql

echo
echo "== dispatch: match_technicians top 10 against hand-written SQL (A: ORDER BY ST_Distance; B: ORDER BY <-> on the KNN index, ids only), 10000 technicians, 100000 sites, 300 work orders x $rounds rounds"
start=$(date +%s.%N)
q -v rounds="$rounds" -f test/bench/dispatch_match.sql
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "   done in %.1f s\n", e - s }'

echo
echo "== dispatch: plan_dispatch against greedy nearest-qualified on the demo company's busiest day to plan (total travel, jobs placed)"
q -v tenant="$tenant" -f test/bench/plan_dispatch.sql

echo
echo "== dispatch: solve_assignment on 5 dense random 1000 x 1000 matrices against SciPy's linear_sum_assignment (best of 3 alternating rounds each)"
/usr/bin/python3 test/bench/solver.py "$db" --matrices 5 --size 1000 --rounds 3

echo
echo "== audit log: capture under 8 concurrent writers against no auditing and a naive hash chain, sealing latency, verification speed"
test/bench/audit.sh $db "$tenant"

echo
echo "== billing: generate_invoice for 200 completed jobs of about 10 lines against hand-written INSERTs of the same invoices and lines ($rounds alternating rounds)"
q -v tenant="$tenant" -v jobs=200 -v rounds="$rounds" -f test/bench/invoice.sql | grep -v '^[0-9|.]*$'
