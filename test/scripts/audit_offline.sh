#!/usr/bin/env bash
# audit_offline: the offline verifier womgr_audit_verify (src/tools/) checks
# an exported audit chain without the database and agrees with
# womgr.audit_verify / womgr.audit_verify_checkpoint; an independent Python
# recomputation (hashlib only) of every leaf and chain hash, and a decoding
# of every entry, follow docs/audit-format.md; and every tampering (changed
# payload, deleted middle or tail entries, swapped order, truncate and
# reseal, a forged checkpoint) is reported at the same first_bad_seq as SQL.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
db=${AUDIT_OFFLINE_DB:-womgr_audit_offline}
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$db" 2>/dev/null || true' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

status=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; status=1; }

# the tool: installed by make install, else the one make built in the repo
tool=$(pg_config --bindir)/womgr_audit_verify
if [ ! -x "$tool" ]; then
	tool=$repo/src/tools/womgr_audit_verify
	[ -x "$tool" ] || make -s -C "$repo" src/tools/womgr_audit_verify >/dev/null
fi
[ -x "$tool" ] || { echo "not ok - womgr_audit_verify is neither installed nor built"; exit 1; }

dropdb --if-exists "$db"
createdb -E UTF8 --locale=C -T template0 "$db"
q >/dev/null <<'SQL'
CREATE EXTENSION womgr CASCADE;
SELECT womgr.default_tenant_id() AS t \gset
BEGIN;
SELECT womgr.set_context(:t, 'auditor.test', '192.0.2.7');
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS b \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', E'Caf\u00e9 "Zebra"\tLtd', 'branch_id', :b)) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Head office')) AS s \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Depot')) AS s2 \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair',
                                                      'description', 'Leaking pipe')) AS w \gset
COMMIT;
-- an entry of several hundred KB: the export line is that long, twice over
UPDATE womgr.work_order SET description = repeat('a long description ', 20000)
 WHERE tenant_id = :t AND work_order_id = :w;
DELETE FROM womgr.site WHERE tenant_id = :t AND site_id = :s2;
-- another tenant's chain must not leak into tenant 1's export
SELECT womgr.create_tenant('{"code": "other", "name": "Other Ltd"}') AS t2 \gset
SELECT womgr.create_customer(:t2, '{"name": "Other customer"}');
SELECT womgr.audit_seal();
SQL
t=$(q -c 'SELECT womgr.default_tenant_id()')
key=$(q -c "SELECT encode(womgr.audit_generate_key(), 'hex')")
# the checkpoint as it would be published (kept outside womgr's tables too)
q -c "CREATE TABLE public.published AS SELECT womgr.audit_checkpoint($t) AS statement"
q -c 'SELECT statement FROM public.published' >"$work/checkpoint"
cp_seq=$(sed -n 's/^seq //p' "$work/checkpoint")
# entries after the checkpoint
q >/dev/null <<SQL
UPDATE womgr.customer SET phone = '+254 700 000 000' WHERE tenant_id = $t;
SELECT womgr.audit_seal();
SQL
echo "$key" >"$work/key"

# export, audit_verify and audit_verify_checkpoint (as first_bad_seq, 'none'
# when not ok without one, 'ok' when ok) of the database as it is after the
# given SQL, which runs in a transaction that is rolled back
snapshot() {
	local name=$1 sql=$2 statement=${3:-SELECT statement FROM public.published}
	q >/dev/null <<SQL
BEGIN;
ALTER TABLE womgr.audit_entry DISABLE TRIGGER audit_append_only;
ALTER TABLE womgr.audit_chain_head DISABLE TRIGGER audit_append_only;
ALTER TABLE womgr.audit_checkpoint DISABLE TRIGGER audit_append_only;
$sql
COPY (SELECT * FROM womgr.audit_export($t)) TO STDOUT \g '$work/$name.tsv'
SELECT CASE WHEN ok THEN 'ok' ELSE coalesce(first_bad_seq::text, 'none') END
  FROM womgr.audit_verify($t) \g '$work/$name.sql'
SELECT CASE WHEN ok THEN 'ok' ELSE coalesce(first_bad_seq::text, 'none') END
  FROM womgr.audit_verify_checkpoint(($statement), decode('$key', 'hex')) \g '$work/$name.sql_cp'
ROLLBACK;
SQL
}

# the tool's verdict: ok, the first_bad_seq it reports, or error(<exit code>)
verdict() {
	local out rc=0
	out=$("$tool" "$@" 2>"$work/stderr") || rc=$?
	case $rc in
		0) echo ok ;;
		1) sed -n 's/^bad: first_bad_seq=\([^:]*\):.*/\1/p' <<<"$out" ;;
		*) echo "error($rc): $(cat "$work/stderr")" ;;
	esac
}

# expect NAME WHAT EXPECTED [TOOL ARGS...]: the tool's verdict on NAME.tsv
expect() {
	local name=$1 what=$2 want=$3 got
	shift 3
	got=$(verdict "$@" "$work/$name.tsv")
	if [ "$got" = "$want" ]; then pass "$name: $what: $got"; else fail "$name: $what: expected $want, got $got"; fi
}

# ---- (a) an untouched chain: the tool says ok and agrees with SQL
snapshot clean ''
head=$(q -c "SELECT encode(chain_hash, 'hex') || ' ' || seq FROM womgr.audit_chain_head WHERE tenant_id = $t")
checked=$(q -c "SELECT entries_checked FROM womgr.audit_verify($t) WHERE ok")
out=$("$tool" --key "$key" --checkpoint "$work/checkpoint" "$work/clean.tsv" 2>&1) || true
if [ "$out" = "ok: $checked entries, tenant $t, head ${head% *}"$'\n'"checkpoint ok at seq $cp_seq" ] &&
	[ "${head#* }" = "$checked" ] && [ "$(cat "$work/clean.sql")" = ok ] && [ "$(cat "$work/clean.sql_cp")" = ok ]; then
	pass "clean chain: the tool says ok for all $checked entries and the checkpoint at $cp_seq, like audit_verify"
else
	fail "clean chain: tool said '$out'; audit_verify: $checked entries, head $head"
fi
if [ "$(awk 'length > 700000' "$work/clean.tsv" | wc -l)" -ge 1 ]; then
	pass "the export has a line of over 700 KB"
else
	fail "the export has no long line"
fi
if [ "$(cut -f1 "$work/clean.tsv" | sort -u)" = "$t" ]; then
	pass "the export holds only tenant $t"
else
	fail "the export holds other tenants"
fi

# psql -A -F tab output is the same as COPY's; "-" reads standard input
psql -X -At -F $'\t' -d "$db" -c "SELECT * FROM womgr.audit_export($t)" >"$work/psql.tsv"
out=$("$tool" - <"$work/psql.tsv" 2>&1) || true
if cmp -s "$work/psql.tsv" "$work/clean.tsv" && grep -q "^ok: $checked entries" <<<"$out"; then
	pass "psql -At -F tab export is read too, from standard input"
else
	fail "psql -At -F tab export"
fi

# a range that starts later is anchored on its first stored chain hash
q -c "COPY (SELECT * FROM womgr.audit_export($t, 3)) TO STDOUT" >"$work/from3.tsv"
from3=$(q -c "SELECT entries_checked FROM womgr.audit_verify($t, 3) WHERE ok")
out=$("$tool" "$work/from3.tsv" 2>&1) || true
if grep -q '^note: the export starts at entry 3' <<<"$out" && grep -q "^ok: $from3 entries" <<<"$out"; then
	pass "export from entry 3: anchored, $from3 entries ok, like audit_verify($t, 3)"
else
	fail "export from entry 3: $out (audit_verify: $from3)"
fi

"$tool" --dump "$work/clean.tsv" >"$work/dump.txt" 2>&1 || true
if grep -q '^  table       work_order$' "$work/dump.txt" && grep -q '^  client_ip   192.0.2.7$' "$work/dump.txt" &&
	grep -q "^ok: $checked entries" "$work/dump.txt"; then
	pass "--dump prints the entries"
else
	fail "--dump"
fi

# ---- (b) an independent recomputation with Python's hashlib, per docs/audit-format.md
q >"$work/reference.tsv" <<SQL
COPY (SELECT seq, tenant_id, entry_id, table_name, operation, coalesce(work_order_id::text, '-'),
             md5(primary_key::text), coalesce(md5(old_values::text), '-'), coalesce(md5(new_values::text), '-'),
             md5(actor), md5(db_role), coalesce(md5(app_role), '-'),
             CASE WHEN client_ip IS NULL THEN '-' ELSE md5(format('%s', client_ip)) END,
             txid::text, (extract(epoch FROM captured_at) * 1000000)::bigint
        FROM womgr.audit_entry WHERE tenant_id = $t ORDER BY seq) TO STDOUT
SQL
cat >"$work/recompute.py" <<'PY'
import hashlib, json, struct, sys

export, reference, head, checkpoint = sys.argv[1:5]

def blake(b):
    return hashlib.blake2b(b, digest_size=32).digest()

def decode(b):
    """The fields of a v1 entry, in encoding order (docs/audit-format.md)."""
    assert b[:4] == b"WMA\x01", "magic"
    pos = 4
    def i64():
        nonlocal pos
        v, = struct.unpack_from(">q", b, pos); pos += 8; return v
    def string():
        nonlocal pos
        n, = struct.unpack_from(">I", b, pos); pos += 4
        if n == 0xFFFFFFFF:
            return None
        s = b[pos:pos + n]; assert len(s) == n, "truncated"; pos += n; return s
    def byte():
        nonlocal pos
        pos += 1; return b[pos - 1]
    e = {"tenant_id": i64(), "entry_id": i64(), "table_name": string(), "operation": chr(byte())}
    e["work_order_id"] = i64() if byte() == 1 else None
    for f in ("primary_key", "old_values", "new_values", "actor", "db_role", "app_role", "client_ip"):
        e[f] = string()
    e["txid"] = i64(); e["captured_at_us"] = i64()
    assert pos == len(b), "trailing bytes"
    return e

def md5(s):
    return "-" if s is None else hashlib.md5(s).hexdigest()

ref = {}
for line in open(reference):
    r = line.rstrip("\n").split("\t")
    ref[int(r[0])] = r[1:]

prev = bytes(32)
chains = {}
n = 0
for line in open(export):
    tenant, seq, leaf_hex, chain_hex, entry_hex = line.rstrip("\n").split("\t")
    entry = bytes.fromhex(entry_hex)
    leaf = blake(entry)
    chain = blake(prev + leaf)
    assert leaf.hex() == leaf_hex, f"leaf of {seq}"
    assert chain.hex() == chain_hex, f"chain of {seq}"
    e = decode(entry)
    got = [str(e["tenant_id"]), str(e["entry_id"]), e["table_name"].decode(), e["operation"],
           "-" if e["work_order_id"] is None else str(e["work_order_id"]),
           md5(e["primary_key"]), md5(e["old_values"]), md5(e["new_values"]),
           md5(e["actor"]), md5(e["db_role"]), md5(e["app_role"]), md5(e["client_ip"]),
           str(e["txid"]), str(e["captured_at_us"])]
    assert got == ref[int(seq)], f"entry {seq}: decoded {got}, database has {ref[int(seq)]}"
    assert str(e["tenant_id"]) == tenant, f"tenant of {seq}"
    # primary key and values are JSON objects; which of old/new an operation has
    assert isinstance(json.loads(e["primary_key"]), dict)
    want = {"I": (False, True), "U": (True, True), "D": (True, False)}[e["operation"]]
    assert (e["old_values"] is not None, e["new_values"] is not None) == want, f"old/new of {seq}"
    for v in (e["old_values"], e["new_values"]):
        if v is not None:
            assert isinstance(json.loads(v), dict)
    chains[int(seq)] = chain
    prev = chain
    n += 1

head_hex, head_seq = open(head).read().split()
assert n == len(ref) == int(head_seq) and prev.hex() == head_hex, "head"
cp = dict(l.split(" ", 1) for l in open(checkpoint).read().splitlines() if " " in l)
assert chains[int(cp["seq"])].hex() == cp["head"], "checkpoint head"
print(n)
PY
echo "$head" >"$work/head"
if ! command -v python3 >/dev/null; then
	fail "python3 is not installed (test/run.sh installs it): no independent recomputation"
elif n=$(python3 "$work/recompute.py" "$work/clean.tsv" "$work/reference.tsv" "$work/head" "$work/checkpoint" 2>&1); then
	pass "Python hashlib recomputes all $n leaf and chain hashes, the head and the checkpoint's head, and decodes every entry to the database's columns"
else
	fail "Python recomputation: $n"
fi

# ---- (c) tampering, as superuser with the append-only triggers disabled
check_case() {
	# NAME WHAT: the tool agrees with audit_verify without the checkpoint and
	# with audit_verify_checkpoint with it
	local name=$1 what=$2 sql_v sql_cp
	sql_v=$(cat "$work/$name.sql")
	sql_cp=$(cat "$work/$name.sql_cp")
	expect "$name" "$what, like audit_verify" "$sql_v"
	expect "$name" "$what, with the checkpoint, like audit_verify_checkpoint" "$sql_cp" --key "$key" --checkpoint "$work/checkpoint"
}

snapshot payload "UPDATE womgr.audit_entry SET new_values = '{\"name\": \"Forged\"}' WHERE tenant_id = $t AND seq = 3;"
[ "$(cat "$work/payload.sql")" = 3 ] || fail "payload: audit_verify says $(cat "$work/payload.sql"), not 3"
check_case payload "changed new_values of entry 3"

snapshot time "UPDATE womgr.audit_entry SET captured_at = captured_at - interval '1 hour' WHERE tenant_id = $t AND seq = 5;"
check_case time "changed captured_at of entry 5"

snapshot middle "DELETE FROM womgr.audit_entry WHERE tenant_id = $t AND seq = 4;"
[ "$(cat "$work/middle.sql")" = 4 ] || fail "middle: audit_verify says $(cat "$work/middle.sql"), not 4"
check_case middle "deleted entry 4"

tail_from=$((cp_seq - 1))
snapshot tail "DELETE FROM womgr.audit_entry WHERE tenant_id = $t AND seq >= $tail_from;"
[ "$(cat "$work/tail.sql_cp")" = "$tail_from" ] || fail "tail: audit_verify_checkpoint says $(cat "$work/tail.sql_cp"), not $tail_from"
# audit_verify sees the chain head (and the stored checkpoint); an export
# alone is a shorter chain that verifies, and only a checkpoint tells
expect tail "deleted entries $tail_from and on, without the checkpoint" ok
expect tail "deleted entries $tail_from and on, with the checkpoint, like audit_verify" "$(cat "$work/tail.sql")" \
	--key "$key" --checkpoint "$work/checkpoint"
expect tail "deleted entries $tail_from and on, with the checkpoint, like audit_verify_checkpoint" "$(cat "$work/tail.sql_cp")" \
	--key "$key" --checkpoint "$work/checkpoint"
# the same, covered up: head rewound and the stored checkpoints deleted;
# only the published checkpoint still tells
snapshot tail_hidden "DELETE FROM womgr.audit_entry WHERE tenant_id = $t AND seq >= $tail_from;
UPDATE womgr.audit_chain_head SET seq = $((tail_from - 1)),
       chain_hash = (SELECT chain_hash FROM womgr.audit_entry WHERE tenant_id = $t AND seq = $((tail_from - 1)))
 WHERE tenant_id = $t;
DELETE FROM womgr.audit_checkpoint WHERE tenant_id = $t;"
expect tail_hidden "tail deleted and covered up, without the checkpoint (audit_verify: $(cat "$work/tail_hidden.sql"))" ok
check_case tail_hidden "tail deleted and covered up"

snapshot swapped "UPDATE womgr.audit_entry SET seq = 1000000 WHERE tenant_id = $t AND seq = 2;
UPDATE womgr.audit_entry SET seq = 2 WHERE tenant_id = $t AND seq = 3;
UPDATE womgr.audit_entry SET seq = 3 WHERE tenant_id = $t AND seq = 1000000;"
[ "$(cat "$work/swapped.sql")" = 2 ] || fail "swapped: audit_verify says $(cat "$work/swapped.sql"), not 2"
check_case swapped "entries 2 and 3 swapped"

# truncate and reseal: everything deleted, fresh changes sealed into a new,
# self-consistent chain; the published checkpoint fails, at entry 1 when the
# new chain reaches its seq, else where the new chain ends
forge="DELETE FROM womgr.audit_entry WHERE tenant_id = $t;
DELETE FROM womgr.audit_chain_head WHERE tenant_id = $t;
DELETE FROM womgr.audit_checkpoint WHERE tenant_id = $t;"
snapshot reseal_short "$forge
SELECT womgr.create_customer($t, '{\"name\": \"Forged Ltd\"}');
SELECT womgr.audit_seal($t);"
expect reseal_short "truncated and resealed shorter, without the checkpoint (audit_verify: $(cat "$work/reseal_short.sql"))" ok
check_case reseal_short "truncated and resealed shorter"
snapshot reseal_long "$forge
SELECT womgr.create_customer($t, jsonb_build_object('name', 'Forged ' || i)) FROM generate_series(1, $cp_seq + 2) i;
SELECT womgr.audit_seal($t);"
[ "$(cat "$work/reseal_long.sql_cp")" = 1 ] || fail "reseal_long: audit_verify_checkpoint says $(cat "$work/reseal_long.sql_cp"), not 1"
check_case reseal_long "truncated and resealed longer"

# a forged checkpoint: its seq changed, its signature kept
sed "s/^seq .*/seq $((cp_seq - 1))/" "$work/checkpoint" >"$work/forged_checkpoint"
snapshot forged_cp '' "SELECT pg_catalog.replace(statement, E'\\nseq $cp_seq\\n', E'\\nseq $((cp_seq - 1))\\n') FROM public.published"
expect forged_cp "altered checkpoint, like audit_verify_checkpoint" "$(cat "$work/forged_cp.sql_cp")" \
	--key "$key" --checkpoint "$work/forged_checkpoint"
other_key=$(printf '%064d' 7)
sql_other=$(q -c "SELECT CASE WHEN ok THEN 'ok' ELSE coalesce(first_bad_seq::text, 'none') END
                    FROM womgr.audit_verify_checkpoint((SELECT statement FROM public.published), decode('$other_key', 'hex'))")
expect clean "checkpoint checked under another key, like audit_verify_checkpoint" "$sql_other" \
	--key "$other_key" --checkpoint "$work/checkpoint"

# ---- malformed input: a verdict or an error, never ok and never a crash
head -c 1000 "$work/clean.tsv" >"$work/cut.tsv"
printf '1\t1\tzz\tzz\tzz\n' >"$work/junk.tsv"
head -c 4096 /dev/urandom >"$work/random.tsv"
sed '1s/\t[0-9a-f]*$/\t574d4101/' "$work/clean.tsv" >"$work/short_entry.tsv"
for f in cut junk random short_entry; do
	rc=0
	"$tool" "$work/$f.tsv" >/dev/null 2>&1 || rc=$?
	if [ "$rc" = 1 ] || [ "$rc" = 2 ]; then pass "malformed export ($f): exit $rc"; else fail "malformed export ($f): exit $rc"; fi
done
rc=0
"$tool" --key "$key" --checkpoint /dev/null "$work/clean.tsv" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "an empty checkpoint file is an error (exit 2)" || fail "empty checkpoint file: exit $rc"

exit $status
