#!/usr/bin/env bash
# Smoke test of the VM infrastructure: boot every kernel once and check what the exporter needs.
#
# Usage: tests/vm/smoke.sh [--logdir DIR] [SERIES...]   (default series: 5.10 6.1 6.12 7)
# Fetches missing kernels (cached ones cost nothing), builds one initramfs (with bpftool and its
# shared libraries, to exercise build-initramfs.sh's ldd copying) and boots each kernel with an
# emulated NVMe disk. The guest checks: uname -r, /sys/kernel/btf/vmlinux, the io_uring
# tracepoints in tracefs, /sys/kernel/security/lsm, the NVMe device (/dev/ng0n1 from 5.13 on,
# /dev/nvme0n1 before), the nobody user, and that bpftool can read the kernel's BTF.
# Exit status 0 only if every kernel passes. Console logs go to DIR (default: a temp dir).
set -euo pipefail
here="$(dirname "$(readlink -f "$0")")"
# shellcheck source=tests/vm/lib.sh
source "$here/lib.sh"

logdir="" series=()
while (($#)); do
    case "$1" in
        --logdir) logdir="${2:?--logdir needs a value}"; shift 2 ;;
        -h | --help) print_help; exit 0 ;;
        -*) die "unknown option $1: see --help" ;;
        *) series+=("$1"); shift ;;
    esac
done
((${#series[@]})) || series=("${VM_DEFAULT_SERIES[@]}")

"$here/fetch-kernels.sh" "${series[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
keep_logs="$logdir"
[[ -n "$logdir" ]] || logdir="$work/logs"
mkdir -p "$logdir"

cat >"$work/guest.sh" <<'EOF'
# Runs inside the VM (busybox sh). iou_nvme_dev comes from the kernel command line.
echo # the firmware leaves escape sequences on the current console line
fail=0
check() { # check DESCRIPTION COMMAND...
    d="$1"; shift
    if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=1; fi
}
echo "uname -r: $(uname -r)"
check "BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
echo "io_uring tracepoints:"
ls /sys/kernel/tracing/events/io_uring/ | tr '\n' ' '; echo
check "tracepoint io_uring_complete" test -d /sys/kernel/tracing/events/io_uring/io_uring_complete
echo "lsm: $(cat /sys/kernel/security/lsm)"
check "bpf in active LSMs" grep -q 'bpf' /sys/kernel/security/lsm
check "bpffs mounted" grep -q ' /sys/fs/bpf bpf ' /proc/mounts
check "NVMe device $iou_nvme_dev" test -c "$iou_nvme_dev" -o -b "$iou_nvme_dev"
check "user nobody (65534)" test "$(su -s /bin/sh nobody -c 'id -u')" = 65534
n="$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -c "'btf_trace_io_uring_")"
echo "bpftool: $n btf_trace_io_uring_* typedefs"
check "bpftool reads the kernel BTF" test "$n" -gt 0
exit $fail
EOF

bpftool_bin="$(command -v bpftool || true)"
[[ -n "$bpftool_bin" ]] || die "bpftool not found: apt-get install -y --no-install-recommends bpftool"
"$here/build-initramfs.sh" "$work/smoke.cpio.gz" "$work/guest.sh" "$bpftool_bin"

declare -A result=() seconds=()
failed=0
for s in "${series[@]}"; do
    s="${s%%=*}"
    dir="$(kernel_dir "$s")"
    rel="$(cat "$dir/release")"
    # /dev/ng* (NVMe generic char device, the IORING_OP_URING_CMD target) exists from 5.13 on.
    major="${rel%%.*}" minor="${rel#*.}" minor="${minor%%[.-]*}"
    dev=/dev/ng0n1
    ((major < 5 || (major == 5 && minor < 13))) && dev=/dev/nvme0n1
    log="$logdir/smoke-$s.log"
    t0="$(date +%s%N)"
    rc=0
    "$here/run-vm.sh" --kernel "$s" --initramfs "$work/smoke.cpio.gz" --nvme --timeout 120 \
        --append "iou_nvme_dev=$dev" --quiet --log "$log" || rc=$?
    t1="$(date +%s%N)"
    seconds[$s]="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
    if ((rc == 0)) && ! tr -d '\r' <"$log" | grep -qxF "uname -r: $rel"; then
        echo "smoke.sh: $s: guest did not report uname -r $rel" >&2
        rc=1
    fi
    if ((rc == 0)); then
        result[$s]=PASS
    else
        result[$s]="FAIL (rc $rc)"
        failed=1
        tr -d '\r' <"$log" | grep -E '^(FAIL|uname|lsm)|Kernel panic|VM-EXIT' | sed "s/^/  $s: /" >&2 || true
    fi
    printf '%-5s %-28s %-12s %6ss  %s\n' "$s" "$rel" "${result[$s]}" "${seconds[$s]}" "${keep_logs:+$log}"
done
if ((failed)); then
    printf 'smoke.sh: error: some kernels failed: read the console logs in %s\n' "$logdir" >&2
    [[ "$logdir" == "$work/logs" ]] && trap - EXIT && printf 'smoke.sh: (kept %s)\n' "$work" >&2
    exit 1
fi
echo "smoke.sh: all ${#series[@]} kernels passed"
