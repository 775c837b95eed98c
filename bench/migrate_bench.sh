#!/usr/bin/env bash
# Benchmark (not a test): apply N small migration files with `pgext migrate` and, as the
# peer, with psql running each file in its own transaction (`psql -1 -f`), against the
# same local cluster. Prints a table. Usage: bench/migrate_bench.sh [N] (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
pgext="$PWD/build/app/cli/pgext"
[ -x "$pgext" ] || { echo "build first: ./test.sh or scripts/build.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/pgext-bench-XXXXXX)
chmod 755 "$work"
trap '"$pgext" --project "$work/proj" db:stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

"$pgext" init proj --dir "$work/proj" >/dev/null
rm -f "$work/proj/schema.sql" "$work/proj/functions/"*.sql
for i in $(seq 1 "$n"); do
    printf -v version '2026%010d' "$i"
    cat > "$work/proj/migrations/${version}_m$i.sql" <<SQL
CREATE TABLE t$i (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'x', created_at timestamptz DEFAULT now());
INSERT INTO t$i (id) VALUES (1), (2), (3);
COMMENT ON TABLE t$i IS 'table $i';
SQL
done
"$pgext" --project "$work/proj" db:create >/dev/null

# Peer: psql, one transaction per file, in a second database on the same server.
port=$(sed -n "/^\[database\]/,/^\[/s/^port = //p" "$work/proj/pgext.toml")
sockdir="$work/proj/.pgext/run"
psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres)
"${psql_cmd[@]}" -d postgres -c "CREATE DATABASE psql_peer" >/dev/null

start=$(date +%s.%N)
"$pgext" --project "$work/proj" migrate >/dev/null
mid=$(date +%s.%N)
for f in "$work/proj/migrations/"*.sql; do
    "${psql_cmd[@]}" -d psql_peer -1 -f "$f" >/dev/null
done
end=$(date +%s.%N)

applied=$("${psql_cmd[@]}" -d proj -Atc "SELECT count(*) FROM pgext.schema_history WHERE success")
[ "$applied" = "$n" ] || { echo "pgext applied $applied of $n files" >&2; exit 1; }

awk -v n="$n" -v a="$start" -v b="$mid" -v c="$end" 'BEGIN {
    p = b - a; q = c - b;
    printf "\nMigrating %d small files (3 statements each), local cluster, %s\n\n", n, "2 cores";
    printf "| tool                          | files | seconds | files/s | speed vs psql |\n";
    printf "|-------------------------------|------:|--------:|--------:|--------------:|\n";
    printf "| pgext migrate (with history)  | %5d | %7.2f | %7.0f | %12.2fx |\n", n, p, n / p, q / p;
    printf "| psql -1 -f per file (peer)    | %5d | %7.2f | %7.0f | %12.2fx |\n", n, q, n / q, 1;
    printf "\nTarget: pgext under 10 s for 1000 files. %s\n", (n >= 1000 && p < 10) ? "Met." : "";
}'
