#!/usr/bin/python3
"""Benchmark: womgr.solve_assignment against SciPy's linear_sum_assignment.

    test/bench/solver.py DB [--matrices 5] [--size 1000] [--rounds 3]

Generates seeded dense random matrices (costs uniform in [0, 1000)), loads
them into a table of database DB, and solves each with both, side by side in
alternating rounds of one run.  womgr is timed inside the server (a PL/pgSQL
function reads the matrix from the table and calls solve_assignment between
two clock_timestamp() readings, so the client transfer is not counted; the
detoasting of the 8 MB array is; the same call on the array already read
into memory is shown too); SciPy with time.perf_counter around the call.  Each side keeps its best time of the rounds.  The totals must agree
(relative 1e-9) on every matrix, else the result is MISSED and the exit
status 1.  The greedy total (repeatedly the globally cheapest cell whose row
and column are both free) is printed for comparison.

Talks to PostgreSQL through psql (PG* environment variables apply).
"""
import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def psql(db, sql, stdin=None):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", db]
    if stdin is None:
        cmd += ["-c", sql]
        data = None
    else:
        data = sql + "\n" + stdin
    out = subprocess.run(cmd, input=data, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        sys.exit(2)
    return out.stdout.strip()


def array_literal(c):
    return "{" + ",".join("{" + ",".join(map(repr, row)) + "}" for row in c.tolist()) + "}"


def greedy_total(c):
    """Repeatedly the globally cheapest cell whose row and column are free."""
    n, m = c.shape
    order = np.argsort(c, axis=None, kind="stable")
    row_free = np.ones(n, bool)
    col_free = np.ones(m, bool)
    total, left = 0.0, min(n, m)
    for flat in order.tolist():
        i, j = divmod(flat, m)
        if row_free[i] and col_free[j]:
            row_free[i] = col_free[j] = False
            total += c[i, j]
            left -= 1
            if left == 0:
                break
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--matrices", type=int, default=5)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    db, n = args.db, args.size

    mats = [np.random.default_rng(20260 + k).uniform(0.0, 1000.0, (n, n)) for k in range(args.matrices)]
    psql(db, "DROP TABLE IF EXISTS solver_bench_matrix; "
             "CREATE TABLE solver_bench_matrix (id int PRIMARY KEY, m float8[] NOT NULL); "
             "ALTER TABLE solver_bench_matrix ALTER m SET STORAGE EXTERNAL")
    # float8 input reads repr() back to the identical double
    psql(db, "COPY solver_bench_matrix FROM STDIN;",
         "".join(f"{k}\t{array_literal(c)}\n" for k, c in enumerate(mats)) + "\\.\n")
    psql(db, """
        CREATE OR REPLACE FUNCTION solver_bench_time(p_id int, OUT ms float8, OUT assigned int, OUT total float8,
                                                     OUT ms_in_memory float8)
            LANGUAGE plpgsql AS $$
        DECLARE
            t0 timestamptz;
            v float8[];
        BEGIN
            t0 := clock_timestamp();
            SELECT count(*), sum(s.cost) INTO assigned, total
              FROM solver_bench_matrix b, womgr.solve_assignment(b.m) s WHERE b.id = p_id;
            ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
            -- the same call on the matrix already read into memory
            SELECT m INTO v FROM solver_bench_matrix WHERE id = p_id;
            t0 := clock_timestamp();
            PERFORM count(*) FROM womgr.solve_assignment(v);
            ms_in_memory := extract(epoch FROM clock_timestamp() - t0) * 1000;
        END
        $$""")
    psql(db, "SELECT solver_bench_time(0)")  # load the library, warm the cache

    best_w = [float("inf")] * len(mats)
    best_wm = [float("inf")] * len(mats)
    best_s = [float("inf")] * len(mats)
    tot_w, tot_s, asg_w = [None] * len(mats), [None] * len(mats), [None] * len(mats)
    missed_cost = False
    for _ in range(args.rounds):
        for k, c in enumerate(mats):
            t = time.perf_counter()
            r, cc = linear_sum_assignment(c)
            best_s[k] = min(best_s[k], (time.perf_counter() - t) * 1000)
            tot_s[k] = float(c[r, cc].sum())
            ms, assigned, total, ms_mem = psql(db, f"SELECT ms, assigned, total, ms_in_memory "
                                                   f"FROM solver_bench_time({k})").split("|")
            best_w[k] = min(best_w[k], float(ms))
            best_wm[k] = min(best_wm[k], float(ms_mem))
            tot_w[k], asg_w[k] = float(total), int(assigned)
            if asg_w[k] != n or abs(tot_w[k] - tot_s[k]) > 1e-9 * max(1.0, abs(tot_s[k])):
                missed_cost = True

    ratios = []
    print("  womgr ms: the call reading the matrix from the table; in memory: on the array already read")
    print(f"  {'matrix':<7} {'womgr ms':>9} {'in memory':>9} {'scipy ms':>9} {'ratio':>6} {'optimal total':>18} "
          f"{'greedy total':>14} {'greedy +%':>9}")
    for k, c in enumerate(mats):
        g = greedy_total(c)
        ratio = best_w[k] / best_s[k]
        ratios.append(ratio)
        same = "" if abs(tot_w[k] - tot_s[k]) <= 1e-9 * max(1.0, abs(tot_s[k])) and asg_w[k] == n else \
            f"  COST MISMATCH: womgr {tot_w[k]!r} ({asg_w[k]} rows), scipy {tot_s[k]!r}"
        print(f"  {k + 1:<7} {best_w[k]:9.1f} {best_wm[k]:9.1f} {best_s[k]:9.1f} {ratio:6.2f} {tot_s[k]:18.6f} {g:14.3f} "
              f"{100 * (g - tot_s[k]) / tot_s[k]:8.1f}%{same}")
    median = statistics.median(ratios)
    met = median <= 2.0 and not missed_cost
    print(f"RESULT solve_assignment time_ratio={median:.2f} target<=2.00 {'MET' if met else 'MISSED'}"
          + ("  (totals differ: see above)" if missed_cost else ""))
    psql(db, "DROP FUNCTION solver_bench_time(int); DROP TABLE solver_bench_matrix")
    return 1 if missed_cost else 0


if __name__ == "__main__":
    sys.exit(main())
