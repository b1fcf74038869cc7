-- Benchmark: womgr.transition against a plain UPDATE of the status column,
-- on the same rows: each side moves :calls work orders from new to scheduled
-- and back (2 x :calls status changes) in one transaction, alternating in
-- rounds.  Both go through the workflow trigger (the move, the role, the
-- lead-assignment guard, the event, the outbox row); transition adds the
-- locked read, the version and same-status checks and the note.
-- Variables: :tenant :calls :rounds (the work orders are made here)
\set ON_ERROR_STOP 1
\pset pager off
CREATE TEMP TABLE bench_round (round int, side text, ms float8);
CREATE TEMP TABLE bench_wo AS
SELECT womgr.create_work_order(:tenant, jsonb_build_object('customer_id', s.customer_id, 'site_id', s.site_id, 'type', 'repair',
                                                           'description', 'Benchmark: pump ' || i)) AS work_order_id
  FROM generate_series(1, :calls) i,
       (SELECT customer_id, site_id FROM womgr.site WHERE tenant_id = :tenant ORDER BY site_id LIMIT 1) s;
SELECT count(womgr.assign(:tenant, work_order_id, (SELECT min(technician_id) FROM womgr.technician WHERE tenant_id = :tenant AND active)))
       AS assigned FROM bench_wo \gset
ANALYZE bench_wo;

CREATE FUNCTION pg_temp.bench_plain(p_tenant bigint) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_id bigint;
BEGIN
    FOR v_id IN SELECT work_order_id FROM bench_wo ORDER BY 1 LOOP
        UPDATE womgr.work_order SET status = 'scheduled' WHERE tenant_id = p_tenant AND work_order_id = v_id;
    END LOOP;
    FOR v_id IN SELECT work_order_id FROM bench_wo ORDER BY 1 LOOP
        UPDATE womgr.work_order SET status = 'new' WHERE tenant_id = p_tenant AND work_order_id = v_id;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000;
END $$;

CREATE FUNCTION pg_temp.bench_api(p_tenant bigint) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_id bigint;
BEGIN
    FOR v_id IN SELECT work_order_id FROM bench_wo ORDER BY 1 LOOP
        PERFORM womgr.transition(p_tenant, v_id, 'scheduled');
    END LOOP;
    FOR v_id IN SELECT work_order_id FROM bench_wo ORDER BY 1 LOOP
        PERFORM womgr.transition(p_tenant, v_id, 'new');
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000;
END $$;

-- warm-up: plans, caches
SELECT pg_temp.bench_plain(:tenant) IS NOT NULL AS warm, pg_temp.bench_api(:tenant) IS NOT NULL AS warm2 \gset

INSERT INTO bench_round
SELECT r, side, CASE side WHEN 'plain' THEN pg_temp.bench_plain(:tenant) ELSE pg_temp.bench_api(:tenant) END
  FROM generate_series(1, :rounds) r, (VALUES ('plain'), ('api')) s(side);

SELECT format('%-58s %10s %10s %7s', 'transition vs plain UPDATE, ' || 2 * :calls || ' moves/transaction',
              'UPDATE ms', 'womgr ms', 'ratio');
SELECT format('  round %-50s %10s %10s %7s', round, round(p.ms::numeric, 1), round(a.ms::numeric, 1), round((a.ms / p.ms)::numeric, 2))
  FROM bench_round p JOIN bench_round a USING (round)
 WHERE p.side = 'plain' AND a.side = 'api' ORDER BY round;
SELECT format('RESULT transition_loop ratio=%s target<=3.00 %s', round(m::numeric, 2), CASE WHEN m <= 3 THEN 'MET' ELSE 'MISSED' END)
  FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.ms / p.ms) AS m
          FROM bench_round p JOIN bench_round a USING (round)
         WHERE p.side = 'plain' AND a.side = 'api') x;
