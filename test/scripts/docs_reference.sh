#!/usr/bin/env bash
# docs_reference: every public womgr function has a section in
# docs/reference.md and a row in the README's reference table.
# Runs inside the throwaway cluster of test/run.sh (PG* variables set).
set -euo pipefail
db=womgr_docs_check
trap 'dropdb --if-exists $db 2>/dev/null || true' EXIT
dropdb --if-exists $db
createdb $db
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION womgr CASCADE" >/dev/null 2>&1
fns=$(psql -X -At -d $db -c "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'womgr'::regnamespace
                              AND proname !~ '^_' AND prokind = 'f' ORDER BY 1")
missing=0
for f in $fns; do
	grep -q "^## $f\$" docs/reference.md || { echo "not in docs/reference.md: $f"; missing=1; }
	grep -q "^| \`$f(" README.md || { echo "not in the README's reference table: $f"; missing=1; }
done
n=$(echo "$fns" | wc -w)
[ $missing = 0 ] && echo "ok - all $n public functions are documented in docs/reference.md and the README" || { echo "not ok - undocumented functions"; exit 1; }
