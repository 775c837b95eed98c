#!/usr/bin/env bash
# Sets up, builds, and brings up the example to-do project with `pgext dev`: its local
# PostgreSQL, PostgREST, pg_events_ws and the frontend. Stays in the foreground (it prints
# the URLs; open the frontend in a browser) until Ctrl-C, which stops what it started (the
# services, and PostgreSQL when it was not running before).
# Not for tests or CI: ./test.sh never calls this script.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
scripts/build.sh

pgext="$PWD/build/app/cli/pgext"
example="$PWD/example"
if [ ! -f "$example/pgext.toml" ]; then
    "$pgext" init example --template todo --dir "$example"
else
    # An example made by an older pgext: add template files it lacks (never overwrites).
    fresh="$(mktemp -d)"
    trap 'rm -rf "$fresh"' EXIT
    "$pgext" init example --template todo --dir "$fresh/example" >/dev/null
    for part in frontend functions; do
        cp -rn "$fresh/example/$part/." "$example/$part/"
    done
    rm -rf "$fresh"
    trap - EXIT
fi

# With a display, the studio opens the example (its Services panel starts the stack);
# headless, `pgext dev` runs it and prints the URLs.
studio="$PWD/build/app/studio/pgext-studio"
if [ -x "$studio" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    exec "$studio" "$example"
fi
cat <<MSG
Starting the example with pgext dev (Ctrl-C stops it). Sign up in the browser, open a
second window to watch changes arrive live.
MSG
exec "$pgext" --project "$example" dev
