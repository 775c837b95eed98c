#!/usr/bin/env bash
#
# Run the pgext_audit regression suite in a temporary PostgreSQL instance.
#
#   bash extension/pgext_audit/test/run.sh        (from any directory)
#
# Installs the extension first (make install: needs root or a writable
# PostgreSQL installation).  As root, pg_regress and its temporary server run
# as the "postgres" OS user in a temporary directory that user owns.  Exits
# non-zero on any failure and prints regression.diffs.
#
# Environment: PG_CONFIG (default pg_config), PGEXT_AUDIT_KEEP_WORKDIR=1 to
# keep the temporary directory.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
PG_CONFIG="${PG_CONFIG:-pg_config}"
BINDIR="$("$PG_CONFIG" --bindir)"
PGXS="$("$PG_CONFIG" --pgxs)"
PG_REGRESS="$(dirname "$PGXS")/../test/regress/pg_regress"
TESTS=(setup logging triggers purge security pg_events)

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

if ! make -C "$EXT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null; then
	echo "pgext_audit: 'make -C $EXT install' failed; run it as root" \
		"(or as the owner of the PostgreSQL installation)" >&2
	exit 1
fi

WORK="$(mktemp -d /tmp/pgext_audit_regress.XXXXXX)"
chmod 755 "$WORK"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$WORK"
fi
# pg_regress reads the tests as the postgres user: give it a copy it can read
# whatever the permissions of the checkout.
cp -r "$HERE/sql" "$HERE/expected" "$WORK/"
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$WORK"
fi

status=0
cleanup() {
	if [ "${PGEXT_AUDIT_KEEP_WORKDIR:-0}" != 1 ] && [ "$status" = 0 ]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

(
	cd "$WORK"
	as_pg "$PG_REGRESS" \
		--temp-instance="$WORK/tmp_check" \
		--inputdir="$WORK" \
		--outputdir="$WORK" \
		--bindir="$BINDIR" \
		--encoding=UTF8 \
		--no-locale \
		"${TESTS[@]}"
) || status=$?

if [ "$status" != 0 ]; then
	echo "pgext_audit regression tests FAILED; diffs follow ($WORK/regression.diffs)" >&2
	cat "$WORK/regression.diffs" >&2 || true
	exit "$status"
fi
echo "pgext_audit: all tests passed"
