#!/usr/bin/env bash
# End-to-end: exporter -> Prometheus -> every dashboard query and every alert rule.
#
# Usage: tests/e2e/prometheus_e2e.sh [EXPORTER [WORKLOAD]]
#   EXPORTER  io_uring_exporter binary (or env IOU_EXPORTER; default build/io_uring_exporter)
#   WORKLOAD  iou_workload binary (or env IOU_WORKLOAD; default: compiled into the temp dir from
#             tests/workload/iou_workload.cpp with g++ -luring)
#
# What it does, on loopback only, bounded to 85 s by a watchdog:
#   1. starts the exporter on a free 127.0.0.1 port and Debian's prometheus on another one (temp dir,
#      scrape_interval and evaluation_interval 1s, rule_files = deploy/alerts/io_uring_alerts.rules.yml,
#      job "io_uring_exporter", target label node="e2e-node" as the ServiceMonitor would add);
#   2. waits for three scrapes, then runs workloads: nop, read, punt, openat-enoent, openat-eacces (as
#      uid 65534), timeout, sqpoll, multishot, fail, overflow;
#   3. waits until Prometheus has scraped their effects, then runs tests/e2e/check_queries.py:
#      up{job="io_uring_exporter"} == 1; every dashboard panel query (variables substituted) parses and,
#      for panels using only the metrics the exporter serves today, returns data; every variable query
#      parses; every rule is healthy after evaluation and its expression parses; and the alert
#      IoUringSqpollRingCreated fires on the real SQPOLL ring the workload created.
# IOU_E2E_VERBOSE=1 prints every check, not only the failures and the section headers.
# Needs root (the exporter loads BPF) and kernel BTF; exits 77 (skipped) without them.
# Processes it started are stopped on exit (trap), whatever happens.
set -euo pipefail

repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
budget=85
if [[ -z "${IOU_E2E_WATCHDOG:-}" ]]; then
    # Re-run under a hard time limit; the trap below still cleans up on the TERM it sends.
    IOU_E2E_WATCHDOG=1 exec timeout --kill-after=5 "$budget" "$0" "$@"
fi

t0=$SECONDS
log() { printf 'e2e [%2ds] %s\n' "$((SECONDS - t0))" "$*"; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIPPED: $*"; exit 77; }

exporter="${1:-${IOU_EXPORTER:-$repo/build/io_uring_exporter}}"
workload="${2:-${IOU_WORKLOAD:-}}"
rules="$repo/deploy/alerts/io_uring_alerts.rules.yml"

[[ $(id -u) -eq 0 ]] || skip "needs root to load the exporter's BPF programs"
[[ -r /sys/kernel/btf/vmlinux ]] || skip "kernel has no BTF (/sys/kernel/btf/vmlinux)"
[[ -x "$exporter" ]] || die "exporter binary $exporter not found (build it, or pass its path as \$1)"
command -v prometheus >/dev/null || die "prometheus not installed (apt-get install prometheus; scripts/install-deps.sh --test)"
command -v curl >/dev/null || die "curl not installed"
command -v python3 >/dev/null || die "python3 not installed"

tmp="$(mktemp -d /tmp/iou-e2e.XXXXXX)"
pids=()
cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if ((rc != 0 && rc != 77)); then
        for f in exporter.log prometheus.log; do
            [[ -s "$tmp/$f" ]] && { echo "--- last lines of $f"; tail -n 15 "$tmp/$f"; }
        done
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 124' TERM INT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for DESCRIPTION SECONDS COMMAND...: poll every 0.2 s.
wait_for() {
    local what="$1" secs="$2"; shift 2
    local until=$((SECONDS + secs))
    while ! "$@" >/dev/null 2>&1; do
        ((SECONDS < until)) || die "timed out after ${secs}s waiting for $what"
        sleep 0.2
    done
}

# --- workload generator
if [[ -z "$workload" ]]; then
    log "compiling tests/workload/iou_workload.cpp"
    g++ -std=c++20 -O2 "$repo/tests/workload/iou_workload.cpp" -o "$tmp/iou_workload" -luring \
        || die "cannot compile the workload generator (needs g++ and liburing-dev)"
    workload="$tmp/iou_workload"
fi
[[ -x "$workload" ]] || die "workload binary $workload not found"

# --- exporter
eport="$(free_port)"
"$exporter" --web.listen-address="127.0.0.1:$eport" >"$tmp/exporter.log" 2>&1 &
pids+=($!)
exporter_pid=$!
wait_for "the exporter's /healthz" 15 curl -fsS "http://127.0.0.1:$eport/healthz"
log "exporter up on 127.0.0.1:$eport ($(grep -o '[0-9]* of [0-9]* probes attached' "$tmp/exporter.log" || echo '?'))"

# --- prometheus
pport="$(free_port)"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
scrape_configs:
  - job_name: io_uring_exporter
    static_configs:
      - targets: ["127.0.0.1:$eport"]
        labels:
          node: e2e-node
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$pport"
wait_for "prometheus /-/ready" 20 curl -fsS "$prom/-/ready"
promq() { curl -fsS --get "$prom/api/v1/query" --data-urlencode "query=$1"; }
has_data() { promq "$1" | grep -q '"result":\[{'; }
wait_for "three scrapes of the exporter" 15 has_data 'count_over_time(up{job="io_uring_exporter"}[1m]) >= 3'
log "prometheus up on 127.0.0.1:$pport, exporter scraped"

# --- workloads
head -c 1048576 /dev/urandom >"$tmp/data.bin"
mkdir -m 0700 "$tmp/private"
echo secret >"$tmp/private/file"
chmod 0600 "$tmp/private/file"
run() {
    "$workload" "$@" >>"$tmp/workload.log" 2>&1 || die "workload '$*' failed: $(tail -n 3 "$tmp/workload.log")"
}
run nop 2000
run read 200 "$tmp/data.bin"
run punt 100 "$tmp/data.bin"
run openat-enoent 50 "$tmp/does-not-exist"
run --uid 65534 openat-eacces 20 "$tmp/private/file"
run timeout 5
run sqpoll 20
run multishot 20
run fail 20
run overflow 32
kill -0 "$exporter_pid" 2>/dev/null || die "the exporter died while the workloads ran"
log "workloads done"

# Their effects must be in Prometheus before the panels are checked.
wait_for "the workloads' counters in prometheus" 15 has_data \
    'increase(io_uring_rings_created_by_flag_total{flag="sqpoll"}[1m]) > 0 and on() sum(io_uring_completions_total{result="EACCES"}) > 0'
sleep 2   # two more scrapes, so every rate() window holds the final values

# --- every dashboard query and every rule
log "checking dashboard queries and rules"
python3 "$repo/tests/e2e/check_queries.py" --prom "$prom" --dashboards "$repo/dashboards" \
    --rules "$rules" --job io_uring_exporter --expect-firing IoUringSqpollRingCreated \
    --timeout $((budget - (SECONDS - t0) - 10)) >"$tmp/check.log" 2>&1 && rc=0 || rc=$?
if [[ -n "${IOU_E2E_VERBOSE:-}" ]]; then
    cat "$tmp/check.log"
else
    # Section headers, failures with their details, and the closing "N passed, M failed" line.
    grep -v '^  ok ' "$tmp/check.log" || true
fi
((rc == 0)) || die "query checks failed (see above)"
kill -0 "$exporter_pid" 2>/dev/null || die "the exporter died during the checks"
log "OK in $((SECONDS - t0)) s"
