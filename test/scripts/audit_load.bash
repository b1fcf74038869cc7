# audit_load.bash: what the audit concurrency and crash tests share (sourced
# by test/scripts/audit_concurrency.sh and audit_crash.sh; not a test itself).
# The caller sets db and work (a scratch directory) and status=0.
#
# The load: pgbench writers change one tenant's customers.  Committed
# transactions insert 1-3 rows stamped with their transaction id (tax_pin),
# bump the update counter (phone) of a row of one pool and delete a row of
# another; a tenth of the transactions roll back, leaving a marker that must
# appear nowhere.  check_log then holds the whole audit log against the
# table, row by row.

q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

check() {   # check "<description>" "<got>" "<expected>"
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "#   got:      $2"
		echo "#   expected: $3"
		status=1
	fi
}

# make_pools <update pool> <delete pool>: womgr in $db, the two pools of
# customers; sets tenant, upd_lo/upd_hi, del_lo/del_hi, del_pool, and base
# (the last seq before the load: what exists before it is sealed first).
make_pools() {
	local upd_pool=$1
	del_pool=$2
	read -r tenant upd_lo upd_hi del_lo del_hi < <(q -F ' ' <<SQL
CREATE EXTENSION womgr CASCADE;
INSERT INTO womgr.customer (tenant_id, name, phone)
SELECT womgr.default_tenant_id(), 'upd ' || i, '0' FROM generate_series(1, $upd_pool) i;
INSERT INTO womgr.customer (tenant_id, name)
SELECT womgr.default_tenant_id(), 'del ' || i FROM generate_series(1, $del_pool) i;
SELECT womgr.default_tenant_id(),
       min(customer_id) FILTER (WHERE name LIKE 'upd %'), max(customer_id) FILTER (WHERE name LIKE 'upd %'),
       min(customer_id) FILTER (WHERE name LIKE 'del %'), max(customer_id) FILTER (WHERE name LIKE 'del %')
  FROM womgr.customer WHERE tenant_id = womgr.default_tenant_id();
SQL
)
	check "the pools have contiguous ids" "$((upd_hi - upd_lo + 1)) $((del_hi - del_lo + 1))" "$upd_pool $del_pool"
	base=$(q -c "SELECT womgr.audit_seal()" -c "SELECT coalesce(max(seq), 0) FROM womgr.audit_entry WHERE tenant_id = $tenant" | tail -n 1)
}

# write_load_scripts [savepoints]: $work/commit.sql and $work/rollback.sql;
# with "savepoints", a quarter of the committed transactions also roll back
# a savepoint that touched marked rows.
write_load_scripts() {
	local savepoint=''
	if [ "${1:-}" = savepoints ]; then
		savepoint='\set sp random(1, 4)
\if :sp = 1
SAVEPOINT s;
INSERT INTO womgr.customer (tenant_id, name) VALUES (:tenant, '"'ROLLED-BACK-SAVEPOINT'"');
UPDATE womgr.customer SET email = '"'ROLLED-BACK-SAVEPOINT'"' WHERE tenant_id = :tenant AND customer_id = :u;
DELETE FROM womgr.customer WHERE tenant_id = :tenant AND customer_id = :d;
ROLLBACK TO SAVEPOINT s;
\endif'
	fi
	cat >"$work/commit.sql" <<SQL
\\set u random(:upd_lo, :upd_hi)
\\set d random(:del_lo, :del_hi)
\\set n random(1, 3)
BEGIN;
INSERT INTO womgr.customer (tenant_id, name, kind, tax_pin)
SELECT :tenant, 'ins ' || :client_id, 'individual', pg_current_xact_id()::text FROM generate_series(1, :n);
UPDATE womgr.customer SET phone = (phone::int + 1)::text, updated_at = clock_timestamp()
 WHERE tenant_id = :tenant AND customer_id = :u;
$savepoint
DELETE FROM womgr.customer WHERE tenant_id = :tenant AND customer_id = :d;
COMMIT;
SQL
	cat >"$work/rollback.sql" <<'SQL'
\set u random(:upd_lo, :upd_hi)
\set d random(:del_lo, :del_hi)
BEGIN;
INSERT INTO womgr.customer (tenant_id, name)
SELECT :tenant, 'ROLLED-BACK-TXN' FROM generate_series(1, 2);
UPDATE womgr.customer SET phone = (phone::int + 1)::text, email = 'ROLLED-BACK-TXN'
 WHERE tenant_id = :tenant AND customer_id = :u;
DELETE FROM womgr.customer WHERE tenant_id = :tenant AND customer_id = :d;
ROLLBACK;
SQL
}

# the pgbench variables of the load scripts
load_vars() {
	echo -D "tenant=$tenant" -D "upd_lo=$upd_lo" -D "upd_hi=$upd_hi" -D "del_lo=$del_lo" -D "del_hi=$del_hi"
}

drain() {   # drain <when>: the background sealer alone empties audit_pending
	local left
	for _ in $(seq 1 100); do
		left=$(q -c "SELECT count(*) FROM womgr.audit_pending")
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	check "$1: the background sealer drains the pending entries by itself" "$left" 0
	q -c "SELECT womgr.audit_seal()" >/dev/null
}

# The whole log against the table: what every check after a seal says.
check_log() {   # check_log <when>
	local n distinct lo hi head inserted updated deleted e_ins e_upd e_del e_other
	check "$1: audit_pending is empty" "$(q -c "SELECT count(*) FROM womgr.audit_pending")" 0
	read -r n distinct lo hi head < <(q -F ' ' -c "
		SELECT count(*), count(DISTINCT seq), coalesce(min(seq), 0), coalesce(max(seq), 0),
		       (SELECT seq FROM womgr.audit_chain_head WHERE tenant_id = $tenant)
		  FROM womgr.audit_entry WHERE tenant_id = $tenant")
	check "$1: seq is exactly 1..N without gaps or duplicates, and the head is at N (N = $n)" \
		"$distinct $lo $hi $head" "$n 1 $n $n"
	check "$1: audit_verify is ok for all $n entries" \
		"$(q -F ' ' -c "SELECT ok, entries_checked, first_bad_seq IS NULL, coalesce(problem, '') FROM womgr.audit_verify($tenant)")" \
		"t $n t "
	read -r inserted updated deleted < <(q -F ' ' -c "
		SELECT count(*) FILTER (WHERE name LIKE 'ins %'),
		       coalesce(sum(phone::int) FILTER (WHERE name LIKE 'upd %'), 0),
		       $del_pool - count(*) FILTER (WHERE name LIKE 'del %')
		  FROM womgr.customer WHERE tenant_id = $tenant")
	read -r e_ins e_upd e_del e_other < <(q -F ' ' -c "
		SELECT count(*) FILTER (WHERE table_name = 'customer' AND operation = 'I'),
		       count(*) FILTER (WHERE table_name = 'customer' AND operation = 'U'),
		       count(*) FILTER (WHERE table_name = 'customer' AND operation = 'D'),
		       count(*) FILTER (WHERE table_name <> 'customer')
		  FROM womgr.audit_entry WHERE tenant_id = $tenant AND seq > $base")
	check "$1: entries of the load: $inserted inserts, $updated updates, $deleted deletes, nothing else" \
		"$e_ins $e_upd $e_del $e_other $((n - base))" "$inserted $updated $deleted 0 $((inserted + updated + deleted))"
	check "$1: every row that exists has exactly one insert entry, and every insert entry is a row that exists" \
		"$(q -c "
		WITH rows AS (SELECT customer_id FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'),
		     ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id, count(*) AS c
		                FROM womgr.audit_entry
		               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'I'
		               GROUP BY 1)
		SELECT count(*) FROM rows FULL JOIN ents USING (customer_id) WHERE rows.customer_id IS NULL OR ents.c IS DISTINCT FROM 1")" 0
	check "$1: each updated row has as many update entries as its counter, in order (phone 1, 2, 3, ...)" \
		"$(q -c "
		WITH ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id,
		                     array_agg((new_values->>'phone')::int ORDER BY seq) AS phones
		                FROM womgr.audit_entry
		               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'U'
		               GROUP BY 1)
		SELECT count(*) FROM womgr.customer c LEFT JOIN ents e USING (customer_id)
		 WHERE c.tenant_id = $tenant AND c.name LIKE 'upd %'
		   AND coalesce(e.phones, '{}') IS DISTINCT FROM ARRAY(SELECT generate_series(1, c.phone::int))")" 0
	check "$1: every deleted pool row has exactly one delete entry, and no delete entry names a row that exists" \
		"$(q -c "
		WITH gone AS (SELECT i AS customer_id FROM generate_series($del_lo, $del_hi) i
		               WHERE NOT EXISTS (SELECT FROM womgr.customer c WHERE c.tenant_id = $tenant AND c.customer_id = i)),
		     ents AS (SELECT (primary_key->>'customer_id')::bigint AS customer_id, count(*) AS c
		                FROM womgr.audit_entry
		               WHERE tenant_id = $tenant AND seq > $base AND table_name = 'customer' AND operation = 'D'
		               GROUP BY 1)
		SELECT count(*) FROM gone FULL JOIN ents USING (customer_id) WHERE gone.customer_id IS NULL OR ents.c IS DISTINCT FROM 1")" 0
	check "$1: the entries' transactions are exactly the committed ones (the ids stamped on the inserted rows)" \
		"$(q -F ' ' -c "
		WITH rows AS (SELECT DISTINCT tax_pin::xid8 AS txid FROM womgr.customer WHERE tenant_id = $tenant AND name LIKE 'ins %'),
		     ents AS (SELECT DISTINCT txid FROM womgr.audit_entry WHERE tenant_id = $tenant AND seq > $base)
		SELECT count(*) > 0, count(*) FILTER (WHERE rows.txid IS NULL), count(*) FILTER (WHERE ents.txid IS NULL)
		  FROM rows FULL JOIN ents USING (txid)")" "t 0 0"
	check "$1: nothing of a rolled-back transaction or savepoint is in the table or the audit log" \
		"$(q -F ' ' -c "
		SELECT (SELECT count(*) FROM womgr.customer WHERE name LIKE 'ROLLED-BACK%' OR email LIKE 'ROLLED-BACK%'),
		       (SELECT count(*) FROM womgr.audit_entry
		         WHERE coalesce(new_values::text, '') || coalesce(old_values::text, '') LIKE '%ROLLED-BACK%'),
		       (SELECT count(*) FROM womgr.audit_pending
		         WHERE coalesce(new_values::text, '') || coalesce(old_values::text, '') LIKE '%ROLLED-BACK%')")" "0 0 0"
}
