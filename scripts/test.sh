#!/usr/bin/env bash
# Installs everything, builds, and runs every test (unit, root integration, end-to-end, VM
# kernel matrix). Ends with ctest's summary. Run as root from the repository root or anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${IOU_BUILD_DIR:-$repo/build}

"$repo/scripts/install-deps.sh" --test
"$repo/scripts/prepare-host.sh"

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 900 "$@"
