#!/usr/bin/env bash
# Installs everything, builds, and runs the exporter in the foreground (as root).
# Extra arguments go to the exporter, e.g. scripts/run.sh --web.listen-address=:9773
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${IOU_BUILD_DIR:-$repo/build}

"$repo/scripts/install-deps.sh"
"$repo/scripts/prepare-host.sh"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOU_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target io_uring_exporter
exec "$build/io_uring_exporter" "$@"
