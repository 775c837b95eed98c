#!/usr/bin/env bash
#
# Decoding throughput of pg_events against wal2json (format-version 2) and
# test_decoding on the same WAL.  A benchmark, not a test.
#
#   bash extension/pg_events/bench/bench.sh [RUNS]
#
# In a throwaway cluster (run as the postgres OS user when started as root):
#   1. create one slot per plugin before any workload;
#   2. workload "batch":  1,000,000 row changes in 1,000-row transactions
#      (600 x INSERT 1,000 rows, 300 x UPDATE 1,000 rows, 100 x DELETE
#      1,000 rows);
#   3. workload "single": 200,000 single-row INSERT transactions (a procedure
#      that COMMITs in a loop);
#   4. decode each workload's WAL with every plugin through
#      pg_logical_slot_peek_changes(slot, upto_lsn, NULL, ...) counting the
#      output rows, RUNS times (default 3) after one warm-up pass, and report
#      the median.  Slots are advanced past "batch" before "single" is
#      measured.
#
# Server settings: fsync=off, synchronous_commit=off (the workload only has
# to produce WAL; decoding reads flushed WAL, the script waits for the flush),
# shared_buffers=512MB, work_mem=2GB in the decoding session (the SQL
# function materializes its result; keep that in memory for every plugin).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
export PG_CONFIG="${PG_CONFIG:-pg_config}"
RUNS="${1:-3}"
. "$EXT/test/cluster.sh"

pge_ensure_installed "$EXT" "$PG_CONFIG"
WORK="$(pge_make_workdir pg_events_bench)"
cleanup() {
	pge_cluster_stop "$WORK"
	rm -rf "$WORK"
}
trap cleanup EXIT

pge_cluster_start "$WORK" \
	"wal_level = logical" \
	"max_replication_slots = 10" \
	"output_plugin_libraries = 'pgoutput, test_decoding, pg_events, wal2json'" \
	"fsync = off" \
	"synchronous_commit = off" \
	"full_page_writes = off" \
	"shared_buffers = 512MB" \
	"max_wal_size = 8GB" \
	"checkpoint_timeout = 30min" \
	"logical_decoding_work_mem = 64MB"

psql_b() { pge_psql bench "$@"; }
pge_psql postgres -c "CREATE DATABASE bench TEMPLATE template0 ENCODING 'UTF8'"

psql_b <<'SQL'
CREATE EXTENSION pg_events;
CREATE TABLE orders (
	id bigint PRIMARY KEY,
	account int NOT NULL,
	amount numeric(12, 2) NOT NULL,
	status text NOT NULL,
	note text,
	created timestamptz NOT NULL,
	paid boolean NOT NULL,
	attrs jsonb
);
SELECT pg_events.track('orders');

SELECT 'slot' FROM pg_create_logical_replication_slot('s_pg_events', 'pg_events');
SELECT 'slot' FROM pg_create_logical_replication_slot('s_wal2json', 'wal2json');
SELECT 'slot' FROM pg_create_logical_replication_slot('s_test_decoding', 'test_decoding');

CREATE PROCEDURE gen_batch() LANGUAGE plpgsql AS $$
BEGIN
	FOR b IN 0 .. 599 LOOP
		INSERT INTO orders
		SELECT g, g % 1000, (g % 100000) / 100.0, 'new', 'order note ' || g,
			   '2026-11-21 05:00:00+00'::timestamptz + g * interval '1 second',
			   g % 2 = 0, jsonb_build_object('sku', 'SKU-' || (g % 5000), 'qty', g % 7)
		  FROM generate_series(b * 1000 + 1, b * 1000 + 1000) g;
		COMMIT;
	END LOOP;
	FOR b IN 0 .. 299 LOOP
		UPDATE orders SET status = 'paid', paid = true, amount = amount + 1
		 WHERE id BETWEEN b * 1000 + 1 AND b * 1000 + 1000;
		COMMIT;
	END LOOP;
	FOR b IN 500 .. 599 LOOP
		DELETE FROM orders WHERE id BETWEEN b * 1000 + 1 AND b * 1000 + 1000;
		COMMIT;
	END LOOP;
END
$$;

CREATE PROCEDURE gen_single() LANGUAGE plpgsql AS $$
BEGIN
	FOR g IN 1000001 .. 1200000 LOOP
		INSERT INTO orders VALUES (g, g % 1000, (g % 100000) / 100.0, 'new', 'order note ' || g,
			'2026-11-21 05:00:00+00'::timestamptz + g * interval '1 second',
			g % 2 = 0, jsonb_build_object('sku', 'SKU-' || (g % 5000), 'qty', g % 7));
		COMMIT;
	END LOOP;
END
$$;

CREATE FUNCTION wait_flushed(target pg_lsn) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	WHILE pg_current_wal_flush_lsn() < target LOOP
		PERFORM pg_sleep(0.05);
	END LOOP;
END
$$;

CREATE FUNCTION decode_secs(slot name, upto pg_lsn, VARIADIC opts text[] DEFAULT '{}',
							OUT docs bigint, OUT secs float8)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
BEGIN
	t0 := clock_timestamp();
	SELECT count(*) INTO docs FROM pg_logical_slot_peek_changes(slot, upto, NULL, VARIADIC opts);
	secs := extract(epoch FROM clock_timestamp() - t0);
END
$$;
CREATE TABLE results (plugin text, workload text, rows bigint, docs bigint, run int, secs float8);
SQL

echo "generating workload batch (1,000,000 row changes in 1,000-row transactions)..."
t0=$(date +%s)
psql_b -c "CALL gen_batch()"
L1=$(psql_b -At -c "SELECT pg_current_wal_insert_lsn()")
psql_b -c "SELECT wait_flushed('$L1')" >/dev/null
echo "  done in $(( $(date +%s) - t0 )) s, WAL up to $L1"

echo "generating workload single (200,000 single-row transactions)..."
t0=$(date +%s)
psql_b -c "CALL gen_single()"
L2=$(psql_b -At -c "SELECT pg_current_wal_insert_lsn()")
psql_b -c "SELECT wait_flushed('$L2')" >/dev/null
echo "  done in $(( $(date +%s) - t0 )) s, WAL up to $L2"
psql_b -At -c "SELECT 'WAL written: ' || pg_size_pretty(pg_wal_lsn_diff('$L2', restart_lsn)) FROM pg_replication_slots WHERE slot_name = 's_pg_events'"

# plugin label | slot | options
PLUGINS=(
	"pg_events|s_pg_events|"
	"wal2json|s_wal2json|'format-version', '2'"
	"wal2json (include-types=false)|s_wal2json|'format-version', '2', 'include-types', 'false'"
	"test_decoding|s_test_decoding|"
)

measure() {
	local workload="$1" rows="$2" upto="$3"
	echo "decoding workload $workload ($RUNS runs per plugin)..."
	# warm-up: WAL into the page cache
	psql_b -At -c "SELECT docs FROM decode_secs('s_test_decoding', '$upto')" >/dev/null
	for run in $(seq 1 "$RUNS"); do
		for p in "${PLUGINS[@]}"; do
			IFS='|' read -r label slot opts <<<"$p"
			local args="'$slot', '$upto'"
			[ -n "$opts" ] && args="$args, $opts"
			psql_b -q -c "SET work_mem = '2GB'" -c "INSERT INTO results SELECT '$label', '$workload', $rows, docs, $run, secs FROM decode_secs($args)"
		done
	done
}

measure batch 1000000 "$L1"
psql_b -At -c "SELECT pg_replication_slot_advance(slot_name, '$L1') FROM pg_replication_slots" >/dev/null
measure single 200000 "$L2"

echo
echo "Machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GB RAM"
echo "Server: $("$(${PG_CONFIG} --bindir)/postgres" --version)"
echo
psql_b -P footer=off <<'SQL'
WITH med AS (
	SELECT plugin, workload, max(rows) AS rows, max(docs) AS docs,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY secs) AS secs
	  FROM results GROUP BY plugin, workload
)
SELECT m.plugin, m.workload, m.rows, m.docs AS output_rows,
	   round(m.secs::numeric, 2) AS seconds,
	   round(m.rows / m.secs) AS "rows/s",
	   round((w.secs / m.secs)::numeric, 2) AS "vs wal2json"
  FROM med m
  JOIN med w ON w.workload = m.workload AND w.plugin = 'wal2json'
 ORDER BY m.workload, m.secs;
SQL
