#!/usr/bin/env bash
# Builds the C++ code (exporter, its library, the tests and the workload tool) with
# AddressSanitizer + UndefinedBehaviorSanitizer (-DIOU_SANITIZE=ON; the BPF objects are built by
# their own clang command and are not instrumented) in a build directory of its own, and runs
# the unit and root integration tests (ctest -L "unit|integration") under the sanitizers.
#
#   scripts/test-sanitized.sh [ctest arguments...]
#
# IOU_ASAN_BUILD_DIR (default build-asan next to the sources) is the build directory. Every
# ASan/LSan report, including those of the exporter and workload processes the integration
# tests start (whose output the tests do not show), is written to <build>/sanitizer-reports and
# printed at the end; any report fails the run. Run as root, after scripts/install-deps.sh
# --test and scripts/prepare-host.sh (scripts/test.sh runs this script after both).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${IOU_ASAN_BUILD_DIR:-$repo/build-asan}
start=$(date +%s)

# -O1 -g1: what the ASan documentation recommends, and half the compile time of -O2 -g (-g1
# keeps the line tables the reports' stack traces need).
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOU_SANITIZE=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
# Only what the unit and integration tests run (not the fuzzers, the VM helpers or benchmarks).
cmake --build "$build" -j"$(nproc)" --target unit_tests integration_tests io_uring_exporter iou_workload iou_noise

reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# log_path: one file per reporting process (<prefix>.<pid>), so ASan and LeakSanitizer reports
# of child processes (the exporter and iou_workload the integration tests start, whose output
# they delete) are kept. abort_on_error/halt_on_error: the first finding ends the process with a
# failure, which fails the test that ran it. UBSan reports go to the process's stderr (GCC's
# UBSan runtime ignores log_path when linked together with ASan): ctest shows those of test
# binaries; an exporter that hits one exits 1 and its test fails (its log is deleted: run
# <build>/io_uring_exporter by hand with the test's flags and workload to see the report).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

cd "$build"
rc=0
rm -f Testing/Temporary/LastTestsFailed.log
ctest -L "unit|integration" --output-on-failure --timeout 900 -j"$(nproc)" "$@" || rc=$?

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo
  echo "=== sanitizer reports (${#found[@]} process(es)) ==="
  for f in "${found[@]}"; do
    echo "--- $f"
    cat "$f"
  done
  ((rc)) || rc=1
fi
summary="sanitized run (ASan+UBSan, unit + integration): $( ((rc)) && echo FAILED || echo passed), $(($(date +%s) - start)) s including the build"
echo "$summary"
# One-line summary with the failed tests' names for scripts/test.sh to repeat at the very end
# (CI logs keep only the tail).
if [[ -n ${IOU_SANITIZED_SUMMARY:-} ]]; then
  failed=$(sed -n 's/^[0-9]*://p' Testing/Temporary/LastTestsFailed.log 2>/dev/null | paste -sd' ' || true)
  echo "$summary${failed:+; failed: $failed}${found[0]:+; sanitizer reports: ${#found[@]}}" >"$IOU_SANITIZED_SUMMARY"
fi
exit "$rc"
