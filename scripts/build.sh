#!/usr/bin/env bash
# Configures (once) and builds everything; installs the PostgreSQL extensions.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build build -j"$(nproc)"

for ext in extension/*/; do
    [ -f "$ext/Makefile" ] || continue
    make -s -C "$ext" USE_PGXS=1 >/dev/null
    sudo_if_needed make -s -C "$ext" USE_PGXS=1 install >/dev/null
done
