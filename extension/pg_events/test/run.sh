#!/usr/bin/env bash
#
# Run the pg_events regression suite in a temporary PostgreSQL instance,
# then the strict JSON check of the raw plugin output.
#
#   bash extension/pg_events/test/run.sh        (from any directory)
#
# Builds and installs the extension first when the installed copy differs
# (installing needs root or a writable PostgreSQL installation).  As root,
# pg_regress and the test servers run as the "postgres" OS user in a
# temporary directory that user owns.  Exits non-zero on any failure and
# prints regression.diffs.
#
# Environment: PG_CONFIG (default pg_config), PGE_KEEP_WORKDIR=1 to keep the
# temporary directory.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
PG_CONFIG="${PG_CONFIG:-pg_config}"
BINDIR="$("$PG_CONFIG" --bindir)"
PGXS="$("$PG_CONFIG" --pgxs)"
PG_REGRESS="$(dirname "$PGXS")/../test/regress/pg_regress"
TESTS=(setup api options types dml tracking partition toast big authz upgrade)

. "$HERE/cluster.sh"

pge_ensure_installed "$EXT" "$PG_CONFIG"

WORK="$(pge_make_workdir pg_events_regress)"
cleanup() {
	if [ "${PGE_KEEP_WORKDIR:-0}" != 1 ] && [ "${status:-1}" = 0 ]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# The checkout may sit where the postgres user cannot read (a home folder with
# mode 700): pg_regress and the servers read a copy in the work directory.
mkdir -p "$WORK/input"
cp -r "$HERE/sql" "$HERE/expected" "$HERE/logical.conf" "$WORK/input/"
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$WORK/input"
fi

status=0
(
	cd "$WORK"
	pge_as_pg "$PG_REGRESS" \
		--temp-instance="$WORK/tmp_check" \
		--temp-config="$WORK/input/logical.conf" \
		--inputdir="$WORK/input" \
		--outputdir="$WORK" \
		--bindir="$BINDIR" \
		--encoding=UTF8 \
		--no-locale \
		"${TESTS[@]}"
) || status=$?

if [ "$status" != 0 ]; then
	echo "pg_events regression tests FAILED; diffs follow ($WORK/regression.diffs)" >&2
	cat "$WORK/regression.diffs" >&2 || true
	exit "$status"
fi

bash "$HERE/json_strict_check.sh" || status=$?
if [ "$status" != 0 ]; then
	echo "pg_events strict JSON check FAILED" >&2
	exit "$status"
fi
echo "pg_events: all tests passed"
