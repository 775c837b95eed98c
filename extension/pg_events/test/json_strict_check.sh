#!/usr/bin/env bash
#
# Strict JSON check of the raw pg_events output, and fixture drift check.
#
# Replays the regression workload (test/sql/*.sql except the 100,000-row
# test) against a throwaway cluster while a separate slot records every
# document, writes the raw documents one per line, and
#
#   1. parses every line with node's JSON.parse (a strict RFC 8259 parser)
#      and checks the document shape (v, op, key order);
#   2. compares them, with LSNs/xids/times masked, to the committed fixtures
#      in test/fixtures/*.jsonl, so the fixtures cannot drift from the
#      plugin (regenerate with test/make_fixtures.sh).
#
#   bash extension/pg_events/test/json_strict_check.sh [--write DIR]
#
# --write DIR only generates the .jsonl files into DIR (used by
# make_fixtures.sh) and skips the checks.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
export PG_CONFIG="${PG_CONFIG:-pg_config}"
. "$HERE/cluster.sh"

WRITE_DIR=""
if [ "${1:-}" = "--write" ]; then
	WRITE_DIR="$2"
fi

# the workload: the regression tests that produce documents, in order
FIXTURE_TESTS=(options types dml tracking partition toast)

pge_ensure_installed "$EXT" "$PG_CONFIG"
WORK="$(pge_make_workdir pg_events_json)"
cleanup() {
	pge_cluster_stop "$WORK"
	rm -rf "$WORK"
}
trap cleanup EXIT

pge_cluster_start "$WORK" \
	"wal_level = logical" \
	"max_replication_slots = 20" \
	"output_plugin_libraries = 'pgoutput, test_decoding, pg_events, wal2json'" \
	"logical_decoding_work_mem = 64kB" \
	"autovacuum = off" \
	"fsync = off"

OUT="$WORK/out"
pge_as_pg mkdir -p "$OUT"
pge_psql postgres -c "CREATE DATABASE fixtures TEMPLATE template0 ENCODING 'UTF8'"
# setup.sql installs the extension and the helpers the tests use
pge_psql fixtures -v ON_ERROR_STOP=0 -f "$HERE/sql/setup.sql" >/dev/null 2>&1
pge_psql fixtures -c "SELECT 'init' FROM pg_create_logical_replication_slot('fixture', 'pg_events')" >/dev/null

for t in "${FIXTURE_TESTS[@]}"; do
	# the tests contain intentional errors: do not stop on them
	(cd "$HERE/sql" && PGTZ=UTC pge_psql fixtures -v ON_ERROR_STOP=0 -f "$t.sql") >/dev/null 2>&1 || true
	# (warnings about the deliberately malformed messages go to a log)
	pge_psql fixtures -At -c "SELECT data FROM pg_logical_slot_get_changes('fixture', NULL, NULL)" \
		>"$OUT/$t.jsonl" 2>>"$WORK/warnings.log"
done

if [ -n "$WRITE_DIR" ]; then
	mkdir -p "$WRITE_DIR"
	for t in "${FIXTURE_TESTS[@]}"; do
		cp "$OUT/$t.jsonl" "$WRITE_DIR/$t.jsonl"
	done
	echo "wrote ${#FIXTURE_TESTS[@]} fixture files to $WRITE_DIR"
	exit 0
fi

status=0
node "$HERE/json_strict_check.js" "$OUT"/*.jsonl || status=1

# drift: the committed fixtures must match what the plugin writes today
mask() {
	sed -E -e 's/"(lsn|end_lsn)":"[0-9A-F]+\/[0-9A-F]+"/"\1":"L"/g' \
		-e 's/"xid":[0-9]+/"xid":X/g' \
		-e 's/"commit_time":"[^"]*"/"commit_time":"T"/g' "$1"
}
for t in "${FIXTURE_TESTS[@]}"; do
	if [ ! -f "$HERE/fixtures/$t.jsonl" ]; then
		echo "missing fixture test/fixtures/$t.jsonl (run test/make_fixtures.sh)" >&2
		status=1
		continue
	fi
	if ! diff -u <(mask "$HERE/fixtures/$t.jsonl") <(mask "$OUT/$t.jsonl") >"$WORK/$t.diff"; then
		echo "fixture test/fixtures/$t.jsonl is out of date (run test/make_fixtures.sh):" >&2
		head -40 "$WORK/$t.diff" >&2
		status=1
	fi
done
node "$HERE/json_strict_check.js" "$HERE"/fixtures/*.jsonl || status=1

if [ "$status" = 0 ]; then
	echo "json_strict_check: ok"
fi
exit "$status"
