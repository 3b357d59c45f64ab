#!/usr/bin/env bash
# Boot a cached Debian cloud kernel with an initramfs under QEMU (TCG) and return the guest's rc.
#
# Usage: tests/vm/run-vm.sh --kernel SERIES|VMLINUZ --initramfs FILE [--append "ARGS"] [--lsm LIST]
#                           [--nvme] [--cpu MODEL] [--tcg-thread single|multi] [--timeout SECS]
#                           [--log FILE] [--quiet]
#   --kernel     series fetched by fetch-kernels.sh (5.10, 6.1, 6.12, 7) or a path to a bzImage.
#   --append     extra kernel command-line words, e.g. "audit=1" or "iou_test=foo" (the latter
#                reaches the guest script as an environment variable).
#   --lsm        LSM order (default lockdown,capability,bpf); an lsm= in --append also wins.
#   --nvme       attach an emulated 64 MiB NVMe disk (/dev/nvme0n1, /dev/ng0n1 from 5.13).
#   --cpu        QEMU CPU model (default max,cx16=off; env IOU_VM_CPU).
#   --tcg-thread single|multi (default single; env IOU_VM_TCG_THREAD).
#   --timeout    kill QEMU after SECS seconds (default 180); exit 124.
#   --log        also write the serial console to FILE.
#   --quiet      do not copy the console to stdout (use with --log).
# Exit status: the N of the guest's "@@VM-EXIT N@@" line; 124 on timeout; 125 if the marker is
# missing (kernel panic, init crash); 2 on usage errors.
#
# Why not plain "-accel tcg,thread=multi -cpu max": with Debian's QEMU 7.2, 6.12 guests died in
# about 1 boot of 10 (double fault right after SLUB's cmpxchg16b in __kmalloc; gone with cx16=off)
# and 6.12/7.x guests sometimes hit "Oops: int3" in sched_clock_cpu (a jump-label patch seen late
# by the other vCPU under multi-threaded TCG; gone with thread=single). thread=single costs no
# boot time here. Set IOU_VM_KVM=1 to use KVM where /dev/kvm exists.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

kernel="" initramfs="" append="" lsm="lockdown,capability,bpf" nvme=0 timeout_s=180 logfile="" quiet=0
cpu="${IOU_VM_CPU:-max,cx16=off}" tcg_thread="${IOU_VM_TCG_THREAD:-single}"
while (($#)); do
    case "$1" in
        --kernel) kernel="${2:?--kernel needs a value}"; shift 2 ;;
        --initramfs) initramfs="${2:?--initramfs needs a value}"; shift 2 ;;
        --append) append="${2?--append needs a value}"; shift 2 ;;
        --lsm) lsm="${2:?--lsm needs a value}"; shift 2 ;;
        --nvme) nvme=1; shift ;;
        --cpu) cpu="${2:?--cpu needs a value}"; shift 2 ;;
        --tcg-thread) tcg_thread="${2:?--tcg-thread needs a value}"; shift 2 ;;
        --timeout) timeout_s="${2:?--timeout needs a value}"; shift 2 ;;
        --log) logfile="${2:?--log needs a value}"; shift 2 ;;
        --quiet) quiet=1; shift ;;
        -h | --help) print_help; exit 0 ;;
        *) printf '%s: error: unknown argument %q: see --help\n' "$VM_PROG" "$1" >&2; exit 2 ;;
    esac
done
[[ -n "$kernel" && -n "$initramfs" ]] || { printf '%s: error: --kernel SERIES and --initramfs FILE are required (see --help)\n' "$VM_PROG" >&2; exit 2; }
[[ "$timeout_s" =~ ^[0-9]+$ && "$timeout_s" -gt 0 ]] || die "--timeout must be a positive number of seconds, got '$timeout_s'"

if [[ -f "$kernel" ]]; then
    vmlinuz="$kernel"
else
    vmlinuz="$(kernel_dir "$kernel")/vmlinuz"
    [[ -s "$vmlinuz" ]] || die "kernel $kernel is not in the cache ($vmlinuz): run tests/vm/fetch-kernels.sh $kernel"
fi
[[ -r "$initramfs" ]] || die "initramfs '$initramfs' not readable: build it with tests/vm/build-initramfs.sh"
command -v qemu-system-x86_64 >/dev/null \
    || die "qemu-system-x86_64 not found: apt-get install -y --no-install-recommends qemu-system-x86"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cmdline="console=ttyS0 panic=-1 rdinit=/init quiet"
[[ " $append " == *" lsm="* ]] || cmdline+=" lsm=$lsm"
[[ -n "$append" ]] && cmdline+=" $append"

[[ "$tcg_thread" == single || "$tcg_thread" == multi ]] || die "--tcg-thread must be single or multi, got '$tcg_thread'"
accel=(-accel "tcg,thread=$tcg_thread" -cpu "$cpu")
if [[ "${IOU_VM_KVM:-0}" == 1 && -w /dev/kvm ]]; then accel=(-accel kvm -cpu host); fi
qemu=(qemu-system-x86_64 -machine q35 "${accel[@]}" -smp 2 -m 1G -nographic -no-reboot -nic none
      -kernel "$vmlinuz" -initrd "$initramfs" -append "$cmdline")
if ((nvme)); then
    truncate -s 64M "$tmp/nvme.img"
    # shellcheck disable=SC2054 # the commas belong to QEMU option values
    qemu+=(-drive "file=$tmp/nvme.img,if=none,id=nvm,format=raw" -device nvme,serial=iouvm,drive=nvm)
fi

console="$tmp/console.log"
set +e
if ((quiet)); then
    timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$console" 2>&1
    qrc=$?
else
    timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$console"
    qrc=${PIPESTATUS[0]}
fi
set -e
if [[ -n "$logfile" ]]; then
    mkdir -p "$(dirname "$logfile")"
    cp "$console" "$logfile"
fi

show_tail() { # the console is otherwise lost when --quiet is given without --log
    ((quiet)) && [[ -z "$logfile" ]] && tail -n 25 "$console" | tr -d '\r' | sed 's/^/  console: /' >&2
    return 0
}
marker="$(tr -d '\r' <"$console" | sed -n 's/.*@@VM-EXIT \([0-9]\{1,3\}\)@@.*/\1/p' | tail -n1)"
timed_out=0
((qrc == 124 || qrc == 137)) && timed_out=1
if [[ -z "$marker" ]]; then
    if ((timed_out)); then
        show_tail
        log "error: guest did not finish within ${timeout_s}s (killed): raise --timeout or read the console${logfile:+ in $logfile}"
        exit 124
    fi
    show_tail
    log "error: no @@VM-EXIT@@ marker (qemu rc $qrc): the kernel or /init failed, read the console${logfile:+ in $logfile}"
    exit 125
fi
((timed_out)) && log "warning: guest printed its rc but did not power off within ${timeout_s}s"
exit "$marker"
