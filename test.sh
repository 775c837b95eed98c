#!/usr/bin/env bash
# Sets up, builds and runs every test (ctest: unit, database, CLI, extension suites).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 900 "$@"
