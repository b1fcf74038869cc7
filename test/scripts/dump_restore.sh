#!/usr/bin/env bash
# dump_restore: pg_dump of a database with womgr data, restored into a new
# database (custom format through pg_restore, and plain SQL through psql),
# gives the same rows in every womgr table, and the restored database keeps
# working (identities continue, seeded rows keep their edits, moves removed
# from or re-added to the seeded workflow stay removed or changed), and its
# audit log verifies with the same chain head.  Restores run with
# womgr.audit_capture = off, as docs/audit.md says: the log comes with the dump,
# so the rows the restore writes are not recorded a second time.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail

src=womgr_dump_src
work=$(mktemp -d)
trap 'rm -rf "$work"; for d in $src womgr_dump_fc womgr_dump_sql; do dropdb --if-exists "$d" 2>/dev/null || true; done' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$@"; }

for d in $src womgr_dump_fc womgr_dump_sql; do dropdb --if-exists "$d"; done
createdb $src
q $src >/dev/null <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.demo_generate(200, 3);
-- edits to rows the install script seeded must survive too
UPDATE womgr.tenant SET name = 'Jua Kali Services' WHERE tenant_id = womgr.default_tenant_id();
UPDATE womgr.priority SET name = 'Dharura' WHERE tenant_id = womgr.default_tenant_id() AND code = 'emergency';
-- the seeded standard workflow, changed: a move removed, a move re-added with other rules, a move added
SELECT womgr.remove_workflow_transition(womgr.default_tenant_id(), 'standard', 'closed', 'scheduled');
SELECT womgr.remove_workflow_transition(womgr.default_tenant_id(), 'standard', 'new', 'scheduled');
SELECT womgr.add_workflow_transition(womgr.default_tenant_id(), 'standard',
       '{"from": "new", "to": "scheduled", "roles": ["manager"], "requires_assignment": true, "requires_note": true}');
SELECT womgr.add_workflow_transition(womgr.default_tenant_id(), 'standard', '{"from": "new", "to": "en_route", "roles": ["dispatcher"]}');
BEGIN;
SELECT womgr.set_context(womgr.default_tenant_id(), 'restore.check', '192.0.2.1');
SELECT womgr.create_customer(womgr.default_tenant_id(), jsonb_build_object('name', 'Acme', 'branch_id',
       womgr.create_branch(womgr.default_tenant_id(), '{"code": "NBO", "name": "Nairobi"}')));
COMMIT;
-- part of the log sealed, the rest still pending when the dump is taken
SELECT womgr.audit_seal(womgr.default_tenant_id());
UPDATE womgr.tenant SET name = name WHERE tenant_id = womgr.default_tenant_id();
SQL

# every womgr table as one line: name, row count, digest of its rows in order
digest() {
	q "$1" <<'SQL'
CREATE FUNCTION pg_temp.table_digest(p_table text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    EXECUTE format($q$SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), ''))
                        FROM womgr.%I t$q$, p_table) INTO v;
    RETURN v;
END $$;
SELECT c.relname || ' ' || pg_temp.table_digest(c.relname)
  FROM pg_class c WHERE c.relnamespace = 'womgr'::regnamespace AND c.relkind = 'r' ORDER BY c.relname;
SQL
}

digest $src > "$work/src.txt"
grep -q '^work_order [1-9]' "$work/src.txt" || { echo "no work orders in the source database"; exit 1; }

pg_dump -Fc -d $src -f "$work/db.dump"
createdb womgr_dump_fc
PGOPTIONS='-c womgr.audit_capture=off' pg_restore --exit-on-error -d womgr_dump_fc "$work/db.dump"
digest womgr_dump_fc > "$work/fc.txt"

pg_dump -d $src -f "$work/db.sql"
createdb womgr_dump_sql
PGOPTIONS='-c womgr.audit_capture=off' psql -X -q -v ON_ERROR_STOP=1 -d womgr_dump_sql -f "$work/db.sql" >/dev/null
digest womgr_dump_sql > "$work/sql.txt"

status=0
for f in fc sql; do
	if diff -u "$work/src.txt" "$work/$f.txt"; then
		echo "ok - $f restore has the same rows in every womgr table"
	else
		echo "not ok - $f restore differs"; status=1
	fi
done

# the restored database keeps working: new ids do not collide, seeded edits kept
for d in womgr_dump_fc womgr_dump_sql; do
	out=$(q $d <<'SQL'
SELECT ok FROM womgr.audit_verify(womgr.default_tenant_id());
SELECT womgr.audit_seal() > 0 AND (SELECT ok FROM womgr.audit_verify(womgr.default_tenant_id()));
SELECT name FROM womgr.tenant WHERE tenant_id = womgr.default_tenant_id();
SELECT count(*) FROM womgr.tenant WHERE seeded;
SELECT womgr.create_tenant('{"code": "after-restore", "name": "After Restore"}') > (SELECT max(tenant_id) - 1 FROM womgr.tenant);
SELECT womgr.create_work_order(t, jsonb_build_object('customer_id', c, 'site_id', s, 'type', 'repair', 'description', 'after restore')) > 0
  FROM (SELECT tenant_id AS t, customer_id AS c, site_id AS s FROM womgr.site ORDER BY tenant_id DESC, site_id LIMIT 1) x;
SELECT string_agg(from_status || '>' || to_status || ':' || array_to_string(roles, ','), ' ' ORDER BY to_status)
  FROM womgr.workflow_transition tr
 WHERE tr.tenant_id = womgr.default_tenant_id() AND tr.from_status IN ('new', 'closed') AND tr.enabled;
SQL
)
	expect=$'t\nt\nJua Kali Services\n1\nt\nt\nnew>cancelled:dispatcher,manager new>en_route:dispatcher new>scheduled:manager'
	if [ "$out" = "$expect" ]; then
		echo "ok - $d works after restore"
	else
		echo "not ok - $d after restore:"; echo "$out"; status=1
	fi
done
exit $status
