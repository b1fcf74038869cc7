-- Audit benchmark (test/bench/audit.sh): how long entries waited for the
-- background sealer while the audited rounds ran.  For each entry captured
-- in an audited round: sealed_at - captured_at.  captured_at is the clock in
-- the capture trigger, a little before the transaction's commit, so this
-- slightly overstates the time from commit to sealed.
-- Variables: :tenant
\set ON_ERROR_STOP 1
\pset pager off
CREATE TEMP TABLE bench_latency AS
SELECT r.round, extract(epoch FROM e.sealed_at - e.captured_at) * 1000 AS ms
  FROM bench_audit.run r
  JOIN womgr.audit_entry e ON e.tenant_id = :tenant AND e.entry_id > r.entry_lo AND e.entry_id <= r.entry_hi
 WHERE r.mode = 'audited';

SELECT format('  %-6s %10s %10s %10s %10s', 'round', 'entries', 'p50 ms', 'p99 ms', 'max ms');
SELECT format('  %-6s %10s %10s %10s %10s', round, count(*),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
              round(max(ms)::numeric, 1))
  FROM bench_latency GROUP BY round ORDER BY round;
SELECT format('  %-6s %10s %10s %10s %10s', 'all', count(*),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
              round(max(ms)::numeric, 1))
  FROM bench_latency;
SELECT format('RESULT audit_seal_latency p50=%ss p99=%ss target_p99<2.00s %s',
              round((p50 / 1000)::numeric, 3), round((p99 / 1000)::numeric, 3), CASE WHEN p99 < 2000 THEN 'MET' ELSE 'MISSED' END)
  FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
          FROM bench_latency) s;
