#!/usr/bin/env bash
#
# Regenerate test/fixtures/*.jsonl: the raw pg_events documents written for
# the regression workload, one per line.  Commit the result; the C++ decoder
# tests in core/ parse these files and json_strict_check.sh fails when they
# no longer match the plugin's output.
#
#   bash extension/pg_events/test/make_fixtures.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/json_strict_check.sh" --write "$HERE/fixtures"
node "$HERE/json_strict_check.js" "$HERE"/fixtures/*.jsonl
