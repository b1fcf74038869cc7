#!/usr/bin/env bash
# numbering: work-order numbers across committed transactions and concurrent
# sessions: no number is given twice, each branch counts on without holes
# after commits, and the counter row ends at the last number once committed.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail
db=womgr_numbering
trap 'dropdb --if-exists $db 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $db "$@"; }
dropdb --if-exists $db
createdb $db
q >/dev/null <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.create_site(1, jsonb_build_object('name', 'HQ', 'customer_id',
       womgr.create_customer(1, jsonb_build_object('name', 'Acme', 'branch_id',
       womgr.create_branch(1, '{"code": "NBO", "name": "Nairobi"}')))));
CREATE FUNCTION public.add_work_orders(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP   -- one statement per work order, in one transaction
        PERFORM womgr.create_work_order(1, jsonb_build_object('customer_id', 1, 'site_id', 1,
                                        'type', 'repair', 'description', 'job ' || i));
    END LOOP;
END $$;
SQL
# one transaction of 300 single-statement intakes, then a bulk INSERT
q -c "SELECT add_work_orders(300)" >/dev/null
q -c "INSERT INTO womgr.work_order (tenant_id, customer_id, site_id, work_order_type_id, priority_id, description)
      SELECT 1, 1, 1, work_order_type_id, default_priority_id, 'bulk' FROM womgr.work_order_type, generate_series(1, 200)
       WHERE tenant_id = 1 AND code = 'repair'"
# four sessions at once, 150 intakes each
pids=()
for _ in 1 2 3 4; do q -c "SELECT add_work_orders(150)" >/dev/null & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
result=$(q <<'SQL'
SELECT count(*), count(DISTINCT number),
       max(substring(number FROM '\d+$')::int),
       (SELECT last_value FROM womgr.tenant_counter WHERE tenant_id = 1 AND counter_name LIKE 'WO-NBO-%')
  FROM womgr.work_order WHERE tenant_id = 1;
SQL
)
echo "work orders | distinct numbers | highest number | counter: $result"
[ "$result" = "1100|1100|1100|1100" ] || { echo "not ok - numbering"; exit 1; }
echo "ok - 1100 work orders from single statements, a bulk insert and 4 concurrent sessions: numbers 1..1100, counter 1100"
