# shellcheck shell=sh disable=SC2154 # pid is set through eval
# Guest side of the VM kernel matrix (tests/vm/matrix.sh); runs as /guest.sh under busybox sh.
#
# Starts two exporters side by side, each pinning its BPF state in its own bpffs directory:
# "main" with default flags (tp_btf, fexit/fentry programs) and "fallback" with
# --bpf.disable-program-type tp_btf, fexit and fentry (raw_tp and lsm/ programs). Then runs a suite of steps; after every step it scrapes both and prints the scrapes
# (comments and histogram buckets dropped) on the console between markers:
#   @@STEP <name> rc=<exit status of the step's command>@@
#   @@SCRAPE-BEGIN <name>[~fallback]@@ ... @@SCRAPE-END <name>[~fallback] <line count>@@
#   @@SKIP <name> <why>@@         a step this kernel cannot run (the host decides if that is right)
#   @@FACT <key> <value>@@        what the guest saw (uname -r, lsm list, devices, ...)
# The host (tests/vm/matrix_check.py) computes each step's deltas from consecutive scrapes and
# asserts them. The guest itself asserts nothing beyond reporting exit statuses.
#
# (busybox 1.35 wget segfaults with -T: the timeouts come from `timeout`.)
# Kernel command-line environment: iou_n (NOP count, default 100), iou_m (count for the other
# steps, default 20), iou_inflight (in-flight table size given to the exporters, default 1024;
# the inflight step submits 1.5 times as many NOPs).
N="${iou_n:-100}"
M="${iou_m:-20}"
INFLIGHT_ENTRIES="${iou_inflight:-1024}"
INFLIGHT=$((INFLIGHT_ENTRIES * 3 / 2))
VARIANTS="main fallback"
port() { case "$1" in main) echo 9435 ;; fallback) echo 9436 ;; esac; }
echo # the firmware leaves escape sequences on the current console line

fact() { echo "@@FACT $1 $2@@"; }
scrape() { # scrape NAME: both exporters
    for v in $VARIANTS; do
        tag="$1"
        [ "$v" = main ] || tag="$1~$v"
        if ! timeout 20 wget -q -O /tmp/scrape "http://127.0.0.1:$(port "$v")/metrics"; then
            echo "@@SCRAPE-FAILED $tag@@"
            continue
        fi
        grep -v -e '^#' -e '_bucket{' /tmp/scrape >/tmp/scrape.lines
        echo "@@SCRAPE-BEGIN $tag@@"
        cat /tmp/scrape.lines
        echo "@@SCRAPE-END $tag $(wc -l </tmp/scrape.lines)@@"
    done
}
step() { # step NAME COMMAND...: run COMMAND (at most 60 s), report its exit status, scrape
    name="$1"; shift
    timeout 60 "$@" >/tmp/step.out 2>&1
    rc=$?
    sed "s/^/[$name] /" /tmp/step.out
    echo "@@STEP $name rc=$rc@@"
    scrape "$name"
}
skip() { echo "@@SKIP $1 $2@@"; }
print_logs() { # the exporters' logs, without libbpf's debug chatter (verifier logs are not debug)
    for v in $VARIANTS; do
        echo "@@LOG-BEGIN exporter-$v@@"
        grep -v ' debug libbpf: ' "/tmp/exporter-$v.log"
        echo "@@LOG-END exporter-$v@@"
    done
}
inflight_entries() { # entries of the exporters' in-flight tables in use (submitted, not completed)
    command -v bpftool >/dev/null || { echo none; return; }
    bpftool map dump name ops_inflight 2>/dev/null | grep -c '"req": [1-9]'
}
# The exporters copy kernel.io_uring_disabled into a BPF map every second (the setup refusal
# classifier reads it there): give that thread time, with margin for a slow emulated CPU.
wait_posture() { sleep 2.5; }

REL="$(uname -r)"
MAJOR="${REL%%.*}"
MINOR="${REL#*.}"
MINOR="${MINOR%%[!0-9]*}"
fact release "$REL"
fact lsm "$(cat /sys/kernel/security/lsm 2>/dev/null)"
fact audit_cmdline "$(grep -o 'audit=[0-9]' /proc/cmdline)"
fact unprivileged_bpf_disabled "$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null)"
NG=""
[ -c /dev/ng0n1 ] && NG=/dev/ng0n1
fact ng "${NG:-none}"
SYSCTL=/proc/sys/kernel/io_uring_disabled
if [ -w "$SYSCTL" ]; then fact io_uring_disabled "$(cat "$SYSCTL")"; else fact io_uring_disabled none; fi

# Test files: readable data for the punt step, a root-only file for the EACCES step.
dd if=/dev/zero of=/tmp/data bs=4096 count=4 2>/dev/null
echo secret >/tmp/secret
chmod 600 /tmp/secret

# The test LSM first: it only acts on the marker comms, and loads before the exporters attach
# (the fallback exporter's lsm/ programs then run after it and see its verdict).
echo "deny-lsm:"
iou_vm_deny_lsm /sys/fs/bpf/iou_deny 2>&1 | sed 's/^/  /'
DENY=0
[ -e /sys/fs/bpf/iou_deny/uring_sqpoll ] && DENY=1
fact deny_lsm "$DENY"

for v in $VARIANTS; do
    extra=""
    [ "$v" = fallback ] && extra="--bpf.disable-program-type=tp_btf --bpf.disable-program-type=fexit --bpf.disable-program-type=fentry"
    # shellcheck disable=SC2086 # $extra is a list of flags
    io_uring_exporter --web.listen-address="127.0.0.1:$(port $v)" --log.level=debug \
        --bpf.pin-path="/sys/fs/bpf/iou_$v" --bpf.inflight-entries="$INFLIGHT_ENTRIES" $extra \
        >"/tmp/exporter-$v.log" 2>&1 &
    eval "PID_$v=$!"
done
for v in $VARIANTS; do
    eval "pid=\$PID_$v"
    t=0
    until timeout 5 wget -q -O /dev/null "http://127.0.0.1:$(port "$v")/healthz"; do
        t=$((t + 1))
        if [ $t -ge 120 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "@@EXPORTER-FAILED $v@@"
            print_logs
            exit 3
        fi
        sleep 0.5
    done
    fact "exporter_${v}_ready_after_halfsecs" "$t"
done
scrape base

# --- core counts
step nop iou_workload nop "$N"
step openat iou_workload openat "$M" /etc/passwd
step openat_enoent iou_workload openat-enoent "$M" /nonexistent/file
step openat_eacces iou_workload --uid 65534 openat-eacces "$M" /tmp/secret
step timeout iou_workload timeout "$M"
step sqpoll iou_workload sqpoll "$M"
step punt iou_workload punt "$M" /tmp/data
step fail iou_workload fail "$M"
if [ "$MAJOR" -gt 6 ] || { [ "$MAJOR" -eq 6 ] && [ "$MINOR" -ge 4 ]; }; then
    step multishot iou_workload multishot 5
else
    skip multishot "IORING_TIMEOUT_MULTISHOT needs 6.4+"
fi

# --- personalities (uring_override_creds hook) and passthrough (uring_cmd hook)
step personality iou_vm_helper personality "$M"
if [ -n "$NG" ]; then
    step uring_cmd iou_vm_helper uring-cmd "$M" "$NG"
else
    skip uring_cmd "no /dev/ng0n1"
fi

# --- the test LSM denies the marked comm
if [ "$DENY" = 1 ]; then
    step deny_sqpoll iou_vm_helper --comm iou_denied --expect EPERM sqpoll-setup
    step deny_personality iou_vm_helper --comm iou_denied --expect EACCES personality 5
    if [ -n "$NG" ]; then
        step deny_uring_cmd iou_vm_helper --comm iou_denied --expect EPERM uring-cmd 5 "$NG"
    else
        skip deny_uring_cmd "no /dev/ng0n1"
    fi
    if [ -e /sys/fs/bpf/iou_deny/uring_allowed ]; then
        step deny_allowed iou_vm_helper --comm iou_noring --expect EPERM setup
    else
        skip deny_allowed "no lsm/uring_allowed"
    fi
else
    skip deny_sqpoll "no io_uring BPF LSM hooks"
fi

# --- CQ overflow last: on 6.1+ overflowed CQEs never reach io_uring_complete, which leaves stale
# latency entries behind that a later request failing at init can pick up.
step overflow iou_workload overflow 12
fact inflight_after_overflow "$(inflight_entries)"
# More submissions than the exporter's in-flight table holds (--bpf.inflight-entries).
step inflight iou_workload nop "$INFLIGHT"

# --- kernel.io_uring_disabled (6.6+)
if [ -w "$SYSCTL" ]; then
    echo 2 >"$SYSCTL"; wait_posture
    step sysctl_disabled iou_workload nop 1
    echo 1 >"$SYSCTL"; wait_posture
    step sysctl_not_permitted iou_workload --uid 65534 nop 1
    step sysctl_root_allowed iou_workload nop 1
    echo 0 >"$SYSCTL"; wait_posture
    scrape sysctl_restored
else
    skip sysctl_disabled "no $SYSCTL"
fi

for v in $VARIANTS; do
    eval "pid=\$PID_$v"
    kill "$pid"
    wait "$pid"
    echo "@@EXPORTER-EXIT $v $?@@"
done
print_logs
exit 0
