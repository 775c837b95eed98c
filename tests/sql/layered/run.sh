#!/usr/bin/env bash
#
# Run the pgTAP suite of the layered template against a fresh throwaway project.
#
#   bash tests/sql/layered/run.sh            (from any directory)
#
# 1. installs pgext_audit (make -C extension/pgext_audit install: needs root or a
#    writable PostgreSQL installation);
# 2. `pgext init t --template layered` in a temporary directory;
# 3. `pgext db:reset --yes` (local cluster, database, schema.sql, migrations, functions);
# 4. `pgext new table store.invoices`, `pgext new function ping`, `pgext migrate`;
# 5. pg_prove on tests/sql/layered/*.sql (psql -f when pg_prove is missing);
# 6. stops the cluster and removes the directory (kept on failure).
#
# Environment: PGEXT (path of the pgext binary, default build/app/cli/pgext),
# PG_CONFIG, LAYERED_KEEP=1 to keep the project and its cluster running.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PGEXT="${PGEXT:-$ROOT/build/app/cli/pgext}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
BINDIR="$("$PG_CONFIG" --bindir)"

if [ ! -x "$PGEXT" ]; then
	echo "layered: $PGEXT not found; build pgext first (or set PGEXT)" >&2
	exit 1
fi
make -C "$ROOT/extension/pgext_audit" -s PG_CONFIG="$PG_CONFIG" install >/dev/null

WORK="$(mktemp -d /tmp/layered.XXXXXX)"
chmod 755 "$WORK"
PROJECT="$WORK/t"
status=1
cleanup() {
	if [ "${LAYERED_KEEP:-0}" = 1 ]; then
		echo "layered: project kept in $PROJECT (stop it with: $PGEXT -p $PROJECT db:stop)"
		return
	fi
	"$PGEXT" -p "$PROJECT" db:stop >/dev/null 2>&1 || true
	if [ "$status" = 0 ]; then
		rm -rf "$WORK"
	else
		echo "layered: project kept in $PROJECT for inspection" >&2
	fi
}
trap cleanup EXIT

"$PGEXT" init t --template layered --dir "$PROJECT" >/dev/null

"$PGEXT" -p "$PROJECT" db:reset --yes >"$WORK/reset.log" 2>&1 || {
	cat "$WORK/reset.log" >&2
	exit 1
}

# Connection: the local superuser on the project's unix socket.
port="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$PROJECT/pgext.toml" | head -1)"
export PGHOST="$PROJECT/.pgext/run" PGPORT="$port" PGUSER=postgres PGDATABASE=t
PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1)

# The generators, exactly as a user runs them.
"$PGEXT" -p "$PROJECT" new table store.invoices >/dev/null
"$PGEXT" -p "$PROJECT" new function ping >/dev/null
grep -q 'business_functions.ping' "$PROJECT/functions/ping.sql" || {
	echo "layered: pgext new function did not use the layered generator" >&2
	exit 1
}
"$PGEXT" -p "$PROJECT" migrate >"$WORK/migrate.log" 2>&1 || {
	cat "$WORK/migrate.log" >&2
	exit 1
}

if command -v pg_prove >/dev/null 2>&1; then
	pg_prove --ext .sql "$HERE"/*.sql && status=0 || status=$?
else
	echo "layered: pg_prove not found (apt-get install libtap-parser-sourcehandler-pgtap-perl); using psql" >&2
	status=0
	for f in "$HERE"/*.sql; do
		out="$("${PSQL[@]}" -f "$f" 2>&1)" || status=1
		echo "$out"
		if grep -q '^not ok' <<<"$out"; then status=1; fi
	done
fi
exit "$status"
