#!/usr/bin/env bash
# VM kernel matrix: boot every cached Debian kernel under QEMU, run the exporter and a workload
# suite in it, and assert exact metric deltas and probe choices per kernel.
#
# Usage: tests/vm/matrix.sh [--build-dir DIR] [--logdir DIR] [--jobs N] [--n N] [--m M]
#                           [--vm-timeout SECS] [SERIES...]
#   --build-dir  CMake build directory with io_uring_exporter, tests/iou_workload,
#                tests/iou_vm_helper and tests/iou_vm_deny_lsm (default: <repo>/build; missing
#                targets are built).
#   --logdir     where the console logs and the initramfs go (default: <build-dir>/vm-matrix).
#   --jobs       VMs booted at the same time (default 2; each TCG guest uses one host core).
#   --n / --m    NOPs in the nop step (default 100) / requests in the other steps (default 20).
#   --vm-timeout seconds one boot may take (default 180; a boot that times out or crashes before
#                the guest script ends is retried once). A run takes 20-90 s, depending on load.
#   SERIES       kernels to test (default: 5.10 6.1 6.12 7), fetched by fetch-kernels.sh.
#
# One initramfs (busybox, the exporter, iou_workload, iou_vm_helper, the test LSM loader, bpftool
# if installed, and the guest script matrix-guest.sh) is booted with an emulated NVMe disk and
# "audit=1". The guest runs two exporters (default programs; raw_tp + lsm/ fallbacks) and prints
# a scrape of each after every step; matrix_check.py turns consecutive scrapes into deltas and
# checks them against what the kernel version supports (tests/vm/TIERS.md lists the result).
# Per kernel, <logdir>/<series>.log is the console and <series>.check the failed checks.
# Exit status: 0 all kernels pass, 1 a check failed, 77 cannot run here (not root, no QEMU, or
# kernels not cached and not downloadable); ctest reports 77 as skipped.
set -euo pipefail
here="$(dirname "$(readlink -f "$0")")"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/vm/lib.sh
source "$here/lib.sh"

build="$repo/build" logdir="" jobs=2 n=100 m=20 vm_timeout=180 series=()
while (($#)); do
    case "$1" in
        --build-dir) build="${2:?--build-dir needs a value}"; shift 2 ;;
        --logdir) logdir="${2:?--logdir needs a value}"; shift 2 ;;
        --jobs) jobs="${2:?--jobs needs a value}"; shift 2 ;;
        --n) n="${2:?--n needs a value}"; shift 2 ;;
        --m) m="${2:?--m needs a value}"; shift 2 ;;
        --vm-timeout) vm_timeout="${2:?--vm-timeout needs a value}"; shift 2 ;;
        -h | --help) print_help; exit 0 ;;
        -*) die "unknown option $1: see --help" ;;
        *) series+=("$1"); shift ;;
    esac
done
((${#series[@]})) || series=("${VM_DEFAULT_SERIES[@]}")
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number, got '$jobs'"
[[ "$n" =~ ^[1-9][0-9]*$ && "$m" =~ ^[1-9][0-9]*$ && "$vm_timeout" =~ ^[1-9][0-9]*$ ]] \
    || die "--n, --m and --vm-timeout must be positive numbers"
((m >= 5)) || die "--m must be at least 5 (the deny steps send 5 requests)"
build="$(readlink -f "$build")"
[[ -n "$logdir" ]] || logdir="$build/vm-matrix"

skip() { printf '%s: SKIPPED: %s\n' "$VM_PROG" "$*" >&2; exit 77; }
[[ $EUID -eq 0 ]] || skip "needs root (the initramfs needs device nodes; run: sudo $0)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86, or run tests/vm/fetch-kernels.sh once)"
command -v python3 >/dev/null || skip "python3 not installed"

t_start="$(date +%s%N)"
mkdir -p "$logdir"
exec 8>"$logdir/.lock"
flock -n 8 || die "another matrix.sh is using $logdir: wait for it, or pass another --logdir"
# Kernels: cached ones cost nothing; otherwise this needs the Debian archive.
if ! "$here/fetch-kernels.sh" "${series[@]}" 2>"$logdir/fetch.err"; then
    cat "$logdir/fetch.err" >&2
    rm -f "$logdir/fetch.err"
    skip "kernels ${series[*]} are not cached and could not be downloaded (see above)"
fi
rm -f "$logdir/fetch.err"

bins=("$build/io_uring_exporter" "$build/tests/iou_workload" "$build/tests/iou_vm_helper"
      "$build/tests/iou_vm_deny_lsm")
bpftool_bin="$(command -v bpftool || true)" # optional: the guest counts in-flight table entries
missing=0
for b in "${bins[@]}"; do [[ -x "$b" ]] || missing=1; done
if ((missing)); then
    [[ -f "$build/CMakeCache.txt" ]] || die "$build is not a CMake build directory: cmake -S $repo -B $build first, or pass --build-dir"
    log "building the missing test binaries in $build"
    cmake --build "$build" --target io_uring_exporter iou_workload iou_vm_helper iou_vm_deny_lsm -j2 >&2 \
        || die "building the VM matrix binaries failed (see above)"
fi

initramfs="$logdir/matrix.cpio.gz"
"$here/build-initramfs.sh" "$initramfs" "$here/matrix-guest.sh" "${bins[@]}" ${bpftool_bin:+"$bpftool_bin"} 2>&1 | sed 's/^/  /' >&2
[[ -s "$initramfs" ]] || die "building the initramfs failed"

# run_one SERIES: boot, check; writes $logdir/SERIES.{log,check,result}.
run_one() {
    local s="$1" rel t0 t1 rc attempt check_rc
    rel="$(cat "$(kernel_dir "$s")/release")"
    t0="$(date +%s%N)"
    for attempt in 1 2; do
        rc=0
        "$here/run-vm.sh" --kernel "$s" --initramfs "$initramfs" --nvme --timeout "$vm_timeout" --quiet \
            --append "audit=1 loglevel=3 iou_n=$n iou_m=$m" --log "$logdir/$s.log" \
            >"$logdir/$s.vm.err" 2>&1 || rc=$?
        # 124 timeout / 125 no exit marker: the emulator or the boot failed, not the test. Once more.
        ((rc == 124 || rc == 125)) && ((attempt == 1)) && { cp "$logdir/$s.log" "$logdir/$s.attempt1.log" 2>/dev/null || true; continue; }
        break
    done
    check_rc=0
    python3 "$here/matrix_check.py" --series "$s" --release "$rel" --log "$logdir/$s.log" --n "$n" --m "$m" \
        >"$logdir/$s.check" 2>&1 || check_rc=$?
    t1="$(date +%s%N)"
    local verdict=PASS
    ((rc == 0 && check_rc == 0)) || verdict="FAIL"
    ((rc != 0)) && printf '  %s: guest exit status %s (%s)\n' "$s" "$rc" "$(tail -n 1 "$logdir/$s.vm.err")" >>"$logdir/$s.check"
    printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$rel" "$verdict" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e9 }')" \
        "$(tail -n 1 "$logdir/$s.check" | sed 's/^ *[^:]*: //')" >"$logdir/$s.result"
}

rm -f "$logdir"/*.result
running=0
for s in "${series[@]}"; do
    s="${s%%=*}"
    run_one "$s" &
    running=$((running + 1))
    if ((running >= jobs)); then wait -n || true; running=$((running - 1)); fi
done
wait || true

failed=0
printf '\n%-5s %-28s %-5s %5s  %s\n' series release res secs checks
for s in "${series[@]}"; do
    s="${s%%=*}"
    if [[ ! -s "$logdir/$s.result" ]]; then
        printf '%-5s %-28s %-5s\n' "$s" "?" FAIL
        failed=1
        continue
    fi
    IFS=$'\t' read -r ser rel verdict secs summary <"$logdir/$s.result"
    printf '%-5s %-28s %-5s %5s  %s\n' "$ser" "$rel" "$verdict" "$secs" "$summary"
    # Failures and fixed known bugs are shown; the known bugs (XFAIL) are in <series>.check.
    grep -E ': (FAIL|XPASS) |guest exit status' "$logdir/$s.check" | sed 's/^/      /' || true
    [[ "$verdict" == PASS ]] || failed=1
done
t_end="$(date +%s%N)"
printf 'matrix.sh: %s kernels in %ss; logs in %s (known exporter bugs: grep XFAIL *.check)\n' "${#series[@]}" \
    "$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", (b - a) / 1e9 }')" "$logdir"
if ((failed)); then
    echo "matrix.sh: FAILED: read <logdir>/<series>.check and the console log <series>.log" >&2
    exit 1
fi
echo "matrix.sh: all kernels passed"
