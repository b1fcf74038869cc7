-- Audit benchmark (test/bench/audit.sh): womgr.audit_verify over the
-- tenant's whole sealed chain, :rounds times; entries per second of each
-- run and the median.  Every run must find the chain intact.
-- Variables: :tenant :rounds
\set ON_ERROR_STOP 1
\pset pager off
CREATE TEMP TABLE bench_verify (round int, entries bigint, s float8);
CREATE FUNCTION pg_temp.bench_verify_once(p_round int, p_tenant bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v record;
BEGIN
    SELECT * INTO v FROM womgr.audit_verify(p_tenant);
    IF NOT v.ok THEN
        RAISE EXCEPTION 'audit_verify(%) found a problem at seq %: %', p_tenant, v.first_bad_seq, v.problem;
    END IF;
    INSERT INTO bench_verify VALUES (p_round, v.entries_checked, extract(epoch FROM clock_timestamp() - v_start));
END $$;
-- one statement per run, so each gets its own snapshot and timing
\o /dev/null
SELECT format('SELECT pg_temp.bench_verify_once(%s, %s)', r, :tenant) FROM generate_series(1, :rounds) r \gexec
\o

SELECT format('  %-6s %10s %9s %14s', 'round', 'entries', 's', 'entries/s');
SELECT format('  %-6s %10s %9s %14s', round, entries, round(s::numeric, 2), round(entries / s)) FROM bench_verify ORDER BY round;
SELECT format('RESULT audit_verify entries_per_s=%s entries=%s ok=true',
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY entries / s)), max(entries))
  FROM bench_verify;
