-- Benchmark: womgr.create_work_order against the plain INSERT of the same
-- row, N calls inside one transaction, alternating in rounds so both sides
-- see the same machine state.  Prints one row per round and the median ratio.
-- Variables: :tenant :customer :site :calls :rounds
\set ON_ERROR_STOP 1
\pset pager off
CREATE TEMP TABLE bench_round (round int, side text, ms float8);

CREATE FUNCTION pg_temp.bench_plain(p_tenant bigint, p_customer bigint, p_site bigint, p_calls int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_type bigint;
    v_priority bigint;
BEGIN
    SELECT work_order_type_id, default_priority_id INTO v_type, v_priority
      FROM womgr.work_order_type WHERE tenant_id = p_tenant AND code = 'repair';
    FOR i IN 1..p_calls LOOP
        INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
        VALUES (p_tenant, p_customer, p_site, v_type, v_priority, 'Benchmark: generator does not start');
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000;
END $$;

CREATE FUNCTION pg_temp.bench_api(p_tenant bigint, p_customer bigint, p_site bigint, p_calls int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_spec jsonb := jsonb_build_object('customer_id', p_customer, 'site_id', p_site, 'type', 'repair',
                                       'description', 'Benchmark: generator does not start');
BEGIN
    FOR i IN 1..p_calls LOOP
        PERFORM womgr.create_work_order(p_tenant, v_spec);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000;
END $$;

-- warm-up: plans, caches
SELECT pg_temp.bench_plain(:tenant, :customer, :site, 200) IS NOT NULL AS warm,
       pg_temp.bench_api(:tenant, :customer, :site, 200) IS NOT NULL AS warm2 \gset

INSERT INTO bench_round
SELECT r, side, CASE side WHEN 'plain' THEN pg_temp.bench_plain(:tenant, :customer, :site, :calls)
                          ELSE pg_temp.bench_api(:tenant, :customer, :site, :calls) END
  FROM generate_series(1, :rounds) r, (VALUES ('plain'), ('api')) s(side)
;

SELECT format('%-58s %10s %10s %7s', 'create_work_order vs plain INSERT, ' || :calls || ' calls/transaction',
              'INSERT ms', 'womgr ms', 'ratio');
SELECT format('  round %-50s %10s %10s %7s', round, round(p.ms::numeric, 1), round(a.ms::numeric, 1), round((a.ms / p.ms)::numeric, 2))
  FROM bench_round p JOIN bench_round a USING (round)
 WHERE p.side = 'plain' AND a.side = 'api' ORDER BY round;
SELECT format('RESULT intake_loop ratio=%s target<=2.00 %s', round(m::numeric, 2), CASE WHEN m <= 2 THEN 'MET' ELSE 'MISSED' END)
  FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.ms / p.ms) AS m
          FROM bench_round p JOIN bench_round a USING (round)
         WHERE p.side = 'plain' AND a.side = 'api') x;
