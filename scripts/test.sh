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

# --- sanitized suite (scripts/test-sanitized.sh): unit + root integration tests built with
# ASan+UBSan in build-asan. Runs before the main ctest so that the output still ends with the
# main run's summary; its failure fails this script after that summary. IOU_SKIP_SANITIZED=1
# skips it.
sanitized_rc=0
export IOU_SANITIZED_SUMMARY="$build/sanitized-summary.txt"
rm -f "$IOU_SANITIZED_SUMMARY"
if [[ ${IOU_SKIP_SANITIZED:-0} != 1 ]]; then
  "$repo/scripts/test-sanitized.sh" || sanitized_rc=$?
fi
# --- end of the sanitized suite

cd "$build"
main_rc=0
ctest --output-on-failure --timeout 900 "$@" || main_rc=$?
# The sanitized suite's result, after ctest's summary, only when it failed:
if ((sanitized_rc != 0)); then
  cat "$IOU_SANITIZED_SUMMARY" 2>/dev/null || echo "sanitized suite (scripts/test-sanitized.sh) FAILED, see above"
  exit 1
fi
exit "$main_rc"
