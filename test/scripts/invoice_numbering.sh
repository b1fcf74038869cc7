#!/usr/bin/env bash
# invoice_numbering: invoice numbers stay gapless per branch and year while
# sessions invoice at the same time and some of them roll back; two sessions
# generating the invoice of the same job get one invoice between them.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail
db=womgr_invoice_numbering
trap 'dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
q >/dev/null <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_branch(1, '{"code": "NBO", "name": "Nairobi"}');
SELECT womgr.create_branch(1, '{"code": "MSA", "name": "Mombasa"}');
SELECT womgr.create_customer(1, '{"name": "Acme", "branch_id": 1}');
SELECT womgr.create_customer(1, '{"name": "Pwani Ltd", "branch_id": 2}');
-- n invoices, one transaction each; every third one rolls back after taking its number
CREATE PROCEDURE public.invoice_some(p_customer bigint, n int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM womgr.create_invoice(1, jsonb_build_object('customer_id', p_customer,
                'lines', jsonb_build_array(jsonb_build_object('description', 'visit ' || i, 'unit_price', i))));
            IF i % 3 = 0 THEN
                RAISE EXCEPTION 'roll this one back';
            END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
        COMMIT;
    END LOOP;
END $$;
SQL
# four sessions per branch at once, 60 attempts each (40 kept)
pids=()
for c in 1 2; do
    for _ in 1 2 3 4; do q -c "CALL public.invoice_some($c, 60)" >/dev/null & pids+=($!); done
done
for p in "${pids[@]}"; do wait "$p"; done
result=$(q <<'SQL'
SELECT string_agg(format('%s:%s/%s/%s', code, n, d, m), ' ' ORDER BY code)
  FROM (SELECT b.code, count(i.*) AS n, count(DISTINCT i.number) AS d, max(substring(i.number FROM '\d+$')::int) AS m
          FROM womgr.branch b
          LEFT JOIN womgr.invoice i ON i.tenant_id = b.tenant_id AND i.branch_id = b.branch_id AND i.status = 'issued'
         WHERE b.tenant_id = 1
         GROUP BY b.code) x;
SQL
)
echo "branch:invoices/distinct numbers/highest number: $result"
[ "$result" = "MSA:160/160/160 NBO:160/160/160" ] || { echo "not ok - invoice numbering"; exit 1; }
echo "ok - 8 sessions, 480 attempts of which 160 rolled back: each branch numbered 1..160 without a gap"

# two sessions generate the invoice of the same completed job at once: one invoice
q >/dev/null <<'SQL'
SELECT womgr.create_site(1, '{"name": "HQ", "customer_id": 1}');
SELECT womgr.create_technician(1, '{"name": "Amina", "home_branch_id": 1}');
SELECT womgr.create_work_order(1, '{"customer_id": 1, "site_id": 1, "type": "repair", "description": "race"}');
SELECT womgr.set_billing_status(1, 'standard', NULL);
SELECT womgr.create_rate_card(1, '{"code": "std", "name": "Standard", "default_hourly_rate": 1000}');
SELECT womgr.assign(1, 1, 1);
SELECT womgr.add_charge(1, 1, '{"description": "Repair", "unit_price": 2500}');
SELECT womgr.transition(1, 1, 'scheduled');
SELECT womgr.transition(1, 1, 'in_progress');
SELECT womgr.update_work_order(1, 1, '{"resolution": "fixed"}');
SELECT womgr.transition(1, 1, 'completed');
SQL
pids=(); outs=()
for k in 1 2 3; do q -c "SELECT womgr.generate_invoice(1, 1)" > /tmp/womgr_inv_race_$$_$k & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
ids=$(sort -u /tmp/womgr_inv_race_$$_* | tr '\n' ' '); rm -f /tmp/womgr_inv_race_$$_*
n=$(q -c "SELECT count(*) FROM womgr.invoice WHERE tenant_id = 1 AND work_order_id = 1")
echo "invoices of the job: $n, ids returned: $ids"
[ "$n" = 1 ] && [ "$(echo $ids | wc -w)" = 1 ] || { echo "not ok - concurrent generate_invoice"; exit 1; }
echo "ok - three sessions generating the same job's invoice at once got one invoice and the same id"
