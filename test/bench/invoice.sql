-- Benchmark: womgr.generate_invoice against hand-written SQL inserting the
-- same invoice and lines, for :jobs completed jobs of about 10 lines each
-- (call-out, two technicians' labour, after-hours labour, travel, four parts,
-- two charges).  Each round runs both sides on the same jobs inside a
-- transaction that is rolled back, alternating which goes first.
--   womgr: generate_invoice (rate card, warranty, labour from time entries,
--          after-hours split on the calendar, travel, parts, charges, VAT per
--          line, gapless number, frozen document, event, outbox).
--   plain: the INSERTs a user would write with the answer known: take a
--          number from a counter row, insert the invoice, insert its lines
--          (copied from a reference run), set the totals and issue it.
-- Variables: :tenant :jobs :rounds
\set ON_ERROR_STOP 1
\pset pager off
SET client_min_messages = warning;

-- set-up: a rate card, parts in a warehouse, and :jobs completed jobs
SELECT branch_id AS bench_branch FROM womgr.branch WHERE tenant_id = :tenant AND code = 'NBO' \gset
SELECT womgr.set_billing_status(:tenant, 'standard', NULL);
SELECT calendar_id AS bench_cal FROM womgr.calendar WHERE tenant_id = :tenant ORDER BY calendar_id LIMIT 1 \gset
SELECT womgr.create_rate_card(:tenant, jsonb_build_object('code', 'bench_card', 'name', 'Benchmark card', 'branch_id', :bench_branch,
        'valid_from', '2000-01-01', 'default_hourly_rate', 1800, 'call_out_fee', 1500, 'after_hours_multiplier', 1.5,
        'after_hours_calendar_id', :bench_cal, 'minimum_labour', '1 hour', 'travel_mode', 'per_km', 'travel_per_km', 45)) \gset
SELECT womgr.create_stock_location(:tenant, jsonb_build_object('code', 'bench_wh', 'name', 'Benchmark warehouse',
        'kind', 'warehouse', 'branch_id', :bench_branch)) AS wh \gset
CREATE TEMP TABLE bench_part AS
SELECT womgr.create_part(:tenant, jsonb_build_object('sku', 'BENCH-' || i, 'name', 'Benchmark part ' || i, 'price', 100 * i, 'cost', 60 * i)) AS part_id
  FROM generate_series(1, 4) i;
SELECT count(womgr.receive_stock(:tenant, :wh, part_id, 100000, 50)) FROM bench_part \gset
CREATE TEMP TABLE bench_tech AS
SELECT technician_id FROM womgr.technician WHERE tenant_id = :tenant AND home_branch_id = :bench_branch AND active
 ORDER BY technician_id LIMIT 2;
CREATE TEMP TABLE bench_job AS
SELECT womgr.create_work_order(:tenant, jsonb_build_object('customer_id', s.customer_id, 'site_id', s.site_id, 'type', 'repair',
        'branch_id', :bench_branch, 'description', 'Benchmark invoice ' || i)) AS work_order_id, i
  FROM generate_series(1, :jobs) i,
       (SELECT customer_id, site_id FROM womgr.site WHERE tenant_id = :tenant AND branch_id = :bench_branch ORDER BY site_id LIMIT 1) s;
SELECT set_config('bench.tenant', :'tenant', false), set_config('bench.wh', :'wh', false) \gset
DO $$
DECLARE
    j record;
    t bigint[] := (SELECT array_agg(technician_id ORDER BY technician_id) FROM bench_tech);
    d timestamptz;
BEGIN
    FOR j IN SELECT * FROM bench_job LOOP
        d := timestamptz '2020-01-06 15:00+03' + (j.i * interval '1 day');
        PERFORM womgr.assign(current_setting('bench.tenant')::bigint, j.work_order_id, t[1]);
        PERFORM womgr.assign(current_setting('bench.tenant')::bigint, j.work_order_id, t[2], 'crew');
        PERFORM womgr.add_time_entry(current_setting('bench.tenant')::bigint, j.work_order_id,
            jsonb_build_object('technician_id', t[1], 'started_at', d, 'ended_at', d + interval '3 hours 10 minutes'));
        PERFORM womgr.add_time_entry(current_setting('bench.tenant')::bigint, j.work_order_id,
            jsonb_build_object('technician_id', t[2], 'started_at', d, 'ended_at', d + interval '1 hour'));
        PERFORM womgr.add_time_entry(current_setting('bench.tenant')::bigint, j.work_order_id,
            jsonb_build_object('technician_id', t[1], 'kind', 'travel', 'distance_km', 12.5,
                               'started_at', d - interval '1 hour', 'ended_at', d - interval '20 minutes'));
        PERFORM womgr.issue_parts(current_setting('bench.tenant')::bigint, j.work_order_id, p.part_id, 2,
                                  current_setting('bench.wh')::bigint)
           FROM bench_part p;
        PERFORM womgr.add_charge(current_setting('bench.tenant')::bigint, j.work_order_id,
            '{"kind": "fee", "description": "Disposal", "unit_price": 800}');
        PERFORM womgr.add_charge(current_setting('bench.tenant')::bigint, j.work_order_id,
            '{"description": "County permit", "unit_price": 500, "tax_class": "vat_exempt"}');
        UPDATE womgr.work_order SET status = 'scheduled' WHERE tenant_id = current_setting('bench.tenant')::bigint AND work_order_id = j.work_order_id;
        UPDATE womgr.work_order SET status = 'in_progress' WHERE tenant_id = current_setting('bench.tenant')::bigint AND work_order_id = j.work_order_id;
        UPDATE womgr.work_order SET resolution = 'done', status = 'completed' WHERE tenant_id = current_setting('bench.tenant')::bigint AND work_order_id = j.work_order_id;
    END LOOP;
END $$;

-- the reference answer for the plain side: each job's invoice and lines, made once and rolled back
CREATE TEMP TABLE ref_invoice (work_order_id bigint, branch_id bigint, customer_id bigint, currency char(3), tax_point date,
                               subtotal numeric, tax_total numeric, total numeric);
CREATE TEMP TABLE ref_line AS SELECT 0::bigint AS work_order_id, l.* FROM womgr.invoice_line l WHERE false;
BEGIN;
CREATE TEMP TABLE ref_ids ON COMMIT DROP AS
SELECT work_order_id, womgr.generate_invoice(:tenant, work_order_id) AS invoice_id FROM bench_job;
\copy (SELECT i.work_order_id, i.branch_id, i.customer_id, i.currency, i.tax_point, i.subtotal, i.tax_total, i.total FROM womgr.invoice i JOIN ref_ids USING (invoice_id)) TO '/tmp/womgr_bench_ref_invoice.csv' CSV
\copy (SELECT r.work_order_id, l.* FROM womgr.invoice_line l JOIN ref_ids r USING (invoice_id)) TO '/tmp/womgr_bench_ref_line.csv' CSV
ROLLBACK;
\copy ref_invoice FROM '/tmp/womgr_bench_ref_invoice.csv' CSV
\copy ref_line FROM '/tmp/womgr_bench_ref_line.csv' CSV
\! rm -f /tmp/womgr_bench_ref_invoice.csv /tmp/womgr_bench_ref_line.csv
SELECT count(*) AS ref_lines, round(count(*)::numeric / count(DISTINCT work_order_id), 1) AS lines_per_invoice FROM ref_line;
ANALYZE bench_job; ANALYZE ref_line; ANALYZE ref_invoice;

CREATE FUNCTION pg_temp.bench_api(p_tenant bigint) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    v_id bigint;
BEGIN
    FOR v_id IN SELECT work_order_id FROM bench_job ORDER BY 1 LOOP
        PERFORM womgr.generate_invoice(p_tenant, v_id);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000;
END $$;

CREATE FUNCTION pg_temp.bench_plain(p_tenant bigint) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_start timestamptz := clock_timestamp();
    r record;
    v_id bigint;
    v_no bigint;
BEGIN
    FOR r IN SELECT * FROM ref_invoice ORDER BY work_order_id LOOP
        UPDATE womgr.tenant_counter SET last_value = last_value + 1
         WHERE tenant_id = p_tenant AND counter_name = 'INV-NBO-BENCH' RETURNING last_value INTO v_no;
        INSERT INTO womgr.invoice (tenant_id, kind, branch_id, customer_id, work_order_id, currency, tax_point, created_by)
        VALUES (p_tenant, 'invoice', r.branch_id, r.customer_id, r.work_order_id, r.currency, r.tax_point, 'bench')
        RETURNING invoice_id INTO v_id;
        INSERT INTO womgr.invoice_line (tenant_id, invoice_id, line_no, kind, description, quantity, unit, unit_price,
                                        warranty_covered, tax_class_id, tax_treatment, tax_rate_percent, net_amount,
                                        tax_amount, cost_amount, part_id, technician_id, source_ref)
        SELECT p_tenant, v_id, l.line_no, l.kind, l.description, l.quantity, l.unit, l.unit_price, l.warranty_covered,
               l.tax_class_id, l.tax_treatment, l.tax_rate_percent, l.net_amount, l.tax_amount, l.cost_amount,
               l.part_id, l.technician_id, l.source_ref
          FROM ref_line l WHERE l.work_order_id = r.work_order_id;
        UPDATE womgr.invoice
           SET subtotal = r.subtotal, tax_total = r.tax_total, total = r.total, status = 'issued',
               number = 'INV-NBO-BENCH-' || lpad(v_no::text, 6, '0'), issue_date = current_date,
               due_date = current_date + 14, issued_at = now(), issued_by = 'bench', document = '{}'
         WHERE tenant_id = p_tenant AND invoice_id = v_id;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1000;
END $$;
INSERT INTO womgr.tenant_counter (tenant_id, counter_name, last_value) VALUES (:tenant, 'INV-NBO-BENCH', 0);

-- Each round runs both sides on the same jobs, each in a transaction rolled
-- back afterwards, alternating which side goes first.
CREATE PROCEDURE pg_temp.bench_rounds(p_tenant bigint, p_rounds int)
LANGUAGE plpgsql AS $$
DECLARE
    v_plain float8[] := '{}';
    v_api float8[] := '{}';
    v_ms float8;
BEGIN
    FOR r IN 1..p_rounds LOOP
        IF r % 2 = 1 THEN
            v_ms := pg_temp.bench_plain(p_tenant); ROLLBACK; v_plain := v_plain || v_ms;
            v_ms := pg_temp.bench_api(p_tenant); ROLLBACK; v_api := v_api || v_ms;
        ELSE
            v_ms := pg_temp.bench_api(p_tenant); ROLLBACK; v_api := v_api || v_ms;
            v_ms := pg_temp.bench_plain(p_tenant); ROLLBACK; v_plain := v_plain || v_ms;
        END IF;
    END LOOP;
    INSERT INTO bench_round SELECT r, v_plain[r], v_api[r] FROM generate_series(1, p_rounds) r;
END $$;
CREATE TEMP TABLE bench_round (round int, plain_ms float8, api_ms float8);
CALL pg_temp.bench_rounds(:tenant, :rounds);
SELECT format('  %-8s %16s %20s %7s', 'round', 'hand-written ms', 'generate_invoice ms', 'ratio')
UNION ALL
SELECT * FROM (SELECT format('  %-8s %16s %20s %7s', round, round(plain_ms::numeric, 1), round(api_ms::numeric, 1),
                             round((api_ms / plain_ms)::numeric, 2)) FROM bench_round ORDER BY round) x;
SELECT format('RESULT generate_invoice_vs_insert cost_ratio=%s target<=3.00 %s  (%s invoices of %s lines per side and round; median of %s rounds)',
              round(m::numeric, 2), CASE WHEN m <= 3 THEN 'MET' ELSE 'MISSED' END, :jobs,
              (SELECT round(count(*)::numeric / :jobs, 1) FROM ref_line), :rounds)
  FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY api_ms / plain_ms) AS m FROM bench_round) x;
