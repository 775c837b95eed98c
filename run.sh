#!/usr/bin/env bash
# Sets up, builds, and brings up the example to-do project's local database.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
scripts/build.sh

pgext="$PWD/build/app/cli/pgext"
example="$PWD/example"
if [ ! -f "$example/pgext.toml" ]; then
    "$pgext" init example --template todo --dir "$example"
fi
# Starts the project's cluster (creating it on first run), creates the database and
# applies schema.sql, migrations/ and functions/.
"$pgext" --project "$example" migrate
echo
"$pgext" --project "$example" status
cat <<MSG

The example project lives in example/. Try:
  cd example && ../build/app/cli/pgext status
  ../build/app/cli/pgext db:stop        # stop its PostgreSQL
MSG
