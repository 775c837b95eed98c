# Helpers shared by the pg_events test, fixture and benchmark scripts.
# Source it; it defines functions only.
#
# Throwaway clusters listen on a unix socket in their own directory under
# /tmp (short path, no TCP).  As root, every server-side command runs as the
# "postgres" OS user, which owns the directory.

# Run a command as the PostgreSQL OS user when we are root.
pge_as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Create a temporary directory the PostgreSQL OS user can use; print it.
pge_make_workdir() {
	local dir
	dir="$(mktemp -d "/tmp/${1:-pg_events}.XXXXXX")"
	chmod 755 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
	fi
	echo "$dir"
}

# Build the extension and install it when the installed copy differs.
pge_ensure_installed() {
	local ext="$1" pg_config="${2:-pg_config}" libdir sharedir need=0
	make -C "$ext" -s PG_CONFIG="$pg_config" >/dev/null
	libdir="$("$pg_config" --pkglibdir)"
	sharedir="$("$pg_config" --sharedir)/extension"
	cmp -s "$ext/pg_events.so" "$libdir/pg_events.so" || need=1
	cmp -s "$ext/pg_events.control" "$sharedir/pg_events.control" || need=1
	for script in "$ext"/sql/*.sql; do
		cmp -s "$script" "$sharedir/$(basename "$script")" || need=1
	done
	if [ "$need" = 1 ]; then
		if ! make -C "$ext" -s PG_CONFIG="$pg_config" install >/dev/null; then
			echo "pg_events is not installed and 'make -C $ext install' failed;" \
				"run it as root (or as the owner of the PostgreSQL installation)" >&2
			return 1
		fi
	fi
}

# pge_cluster_start DIR [CONFIG-LINE ...]: initdb + start a cluster in DIR.
# Sets PGE_HOST (socket directory) and PGE_PORT.
pge_cluster_start() {
	local dir="$1"
	shift
	local bindir
	bindir="$("${PG_CONFIG:-pg_config}" --bindir)"
	pge_as_pg mkdir -p "$dir/sock"
	pge_as_pg "$bindir/initdb" -D "$dir/data" -E UTF8 --no-locale -A trust \
		-U postgres --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir/sock'"
		echo "port = 5432"
		for line in "$@"; do
			echo "$line"
		done
	} | pge_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	pge_as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
	PGE_HOST="$dir/sock"
	PGE_PORT=5432
}

# pge_cluster_stop DIR
pge_cluster_stop() {
	local bindir
	bindir="$("${PG_CONFIG:-pg_config}" --bindir)"
	pge_as_pg "$bindir/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
}

# pge_psql DB [psql args...]: psql on the cluster started last.
pge_psql() {
	local db="$1"
	shift
	"$("${PG_CONFIG:-pg_config}" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$PGE_HOST" -p "$PGE_PORT" -U postgres -d "$db" "$@"
}
