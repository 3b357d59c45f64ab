#!/usr/bin/env bash
# Load test: io_uring NOPs as fast as T threads (one ring each) can go, for D seconds, while C
# concurrent clients scrape /metrics back to back. Then: the exporter is still up and /healthz
# answers; the exporter counted exactly the NOPs the generator submitted and reaped; its RSS
# stayed flat; no scrape failed. Prints ops/s, scrape p50/p99/max, RSS and exporter CPU.
# A second, shorter phase runs the same storm against an exporter with the default
# --web.max-requests (8): scrapes beyond the limit must get a 503 (load shedding), never an
# error, and /healthz must keep answering.
#
#   load_test.sh --exporter BIN --generator BIN --storm BIN
#
# Environment (defaults in brackets):
#   IOU_LOAD_SECONDS       [60]       phase 1 duration (generator and storm)
#   IOU_LOAD_THREADS       [2]        generator threads, one ring each
#   IOU_LOAD_CLIENTS       [100]      concurrent scrapers
#   IOU_LOAD_TARGET_OPS    [1000000]  the goal in ops/s, reported (met or not)
#   IOU_LOAD_MIN_OPS       [250000]   the floor in ops/s that is asserted (see below)
#   IOU_LOAD_MAX_REQUESTS  [100]      --web.max-requests of the phase 1 exporter
#   IOU_LOAD_SHED_SECONDS  [10]       phase 2 duration; 0 skips phase 2
#   IOU_LOAD_RSS_GROWTH    [10]       max RSS growth in % from the warm sample (10 s) to the end
#   IOU_LOAD_TIMEOUT       [60]       scrape client connect/read timeout, seconds
#   IOU_LOAD_NEW_CONNECTIONS [0]      1: a new TCP connection per scrape; 0: keep-alive, as
#                                     Prometheus scrapes
#
# Phase 1 runs the exporter with --web.max-requests=100, so that all 100 concurrent scrapes are
# admitted and every one must succeed (with the default of 8, most of them get a 503 at once,
# which phase 2 checks). Scrapes keep their connection alive by default: with a new connection
# per scrape, the exporter's listen backlog (5, cpp-httplib's built-in default) overflows and
# SYN/ACK retransmits add 1 s, 3 s, 7 s... to some scrapes (the summary counts the host's
# ListenOverflows).
#
# The ops/s floor is below the goal: on a 2-core machine the generator's 2 threads, the
# exporter's BPF programs (which run inside every NOP's submit and completion), 100 scraper
# threads and the exporter's HTTP workers share the same 2 cores, and other work on a shared
# host takes its part too. The goal is reported next to the measured rate, and so is the
# generator's ops per CPU second, which hardly depends on the other load; the floor catches a
# gross regression without failing on a busy host.
#
# Other processes may issue NOPs during the test: the generator runs in a cgroup of its own and,
# if the global deltas are larger than its count, its per-cgroup series must be exact instead.
# Other processes' cgroups coming and going change the size of /metrics and so the memory 100
# concurrent renders take: RSS flatness is then reported as not judged. Exit 77 when not root.
set -euo pipefail

EXPORTER= GENERATOR= STORM=
while (($#)); do
  case $1 in
    --exporter) EXPORTER=$2; shift ;;
    --generator) GENERATOR=$2; shift ;;
    --storm) STORM=$2; shift ;;
    *) echo "load_test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -x $EXPORTER && -x $GENERATOR && -x $STORM ]] ||
  { echo "usage: load_test.sh --exporter BIN --generator BIN --storm BIN" >&2; exit 2; }

SECONDS_LOAD=${IOU_LOAD_SECONDS:-60}
THREADS=${IOU_LOAD_THREADS:-2}
CLIENTS=${IOU_LOAD_CLIENTS:-100}
TARGET_OPS=${IOU_LOAD_TARGET_OPS:-1000000}
MIN_OPS=${IOU_LOAD_MIN_OPS:-250000}
MAX_REQUESTS=${IOU_LOAD_MAX_REQUESTS:-100}
SHED_SECONDS=${IOU_LOAD_SHED_SECONDS:-10}
RSS_GROWTH=${IOU_LOAD_RSS_GROWTH:-10}
TIMEOUT=${IOU_LOAD_TIMEOUT:-60}
NEW_CONNECTIONS=${IOU_LOAD_NEW_CONNECTIONS:-0}
CONN_ARGS=(--keep-alive) CONN_MODE=keep-alive
[[ $NEW_CONNECTIONS == 1 ]] && CONN_ARGS=() CONN_MODE="new connection per scrape"
SAMPLE_EVERY=5

log() { printf '[load %s] %s\n' "$(date +%T)" "$*"; }
FAILURES=()
fail() { FAILURES+=("$*"); log "FAIL: $*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "load_test.sh: needs root (the exporter loads BPF programs); skipped"
  exit 77
fi
command -v curl >/dev/null || { echo "load_test.sh: curl not found" >&2; exit 2; }

WORK=$(mktemp -d /tmp/iou-load.XXXXXX)
PIDS=()
CGROUP_DIR=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $CGROUP_DIR && -d $CGROUP_DIR ]] && rmdir "$CGROUP_DIR" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $((20000 + RANDOM % 20000))
}

# Starts an exporter on a free port: sets EXP_PID and EXP_PORT, or returns 1.
start_exporter() {
  local logf=$1; shift
  local extra=()
  # Map pinning (when the flag exists) is switched off: a test must not leave pins behind.
  "$EXPORTER" --help 2>&1 | grep -q -- '--bpf.pin-path' && extra+=(--bpf.pin-path=)
  EXP_PORT=$(free_port)
  "$EXPORTER" --web.listen-address=127.0.0.1:"$EXP_PORT" "${extra[@]}" "$@" >"$logf" 2>&1 &
  EXP_PID=$!
  PIDS+=("$EXP_PID")
  for _ in $(seq 300); do
    kill -0 "$EXP_PID" 2>/dev/null || { log "exporter exited at startup:"; cat "$logf"; return 1; }
    curl -sf -m 2 "http://127.0.0.1:$EXP_PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "exporter did not answer /healthz within 30 s:"; cat "$logf"; return 1
}

stop_exporter() {
  kill -TERM "$1" 2>/dev/null || true
  local rc=0
  wait "$1" 2>/dev/null || rc=$?
  return "$rc"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # utime + stime
CLK_TCK=$(getconf CLK_TCK)
# Host-wide count of connections dropped because a listen queue was full (TcpExt ListenOverflows):
# a full accept queue shows up as 1 s, 3 s, 7 s... scrape latencies (SYN/ACK retransmits).
listen_overflows() {
  awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1; next }
                         print $col["ListenOverflows"] + 0; exit }' /proc/net/netstat
}

# Value of the first sample whose line matches all of the given patterns (0 if none).
metric() {
  local file=$1; shift
  awk -v n="$#" -v pats="$(printf '%s\n' "$@")" '
    BEGIN { split(pats, p, "\n") }
    /^#/ { next }
    { ok = 1; for (i = 1; i <= n; i++) if (index($0, p[i]) == 0) { ok = 0; break }
      if (ok) { printf "%.0f\n", $NF; found = 1; exit } }
    END { if (!found) print 0 }' "$file"
}
# Value of key=value in a line.
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2" | head -1; }

# The generator runs in a cgroup of its own: the exporter's per-workload series for it counts
# only its NOPs, even if other processes on this host issue NOPs during the test.
CG2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
CGROUP_REL=
if [[ -n $CG2 ]] && mkdir "$CG2/iou_load_$$" 2>/dev/null; then
  CGROUP_DIR=$CG2/iou_load_$$
  CGROUP_REL=/iou_load_$$
fi

# ---------------------------------------------------------------- phase 1: load + scrape storm
log "phase 1: $THREADS generator threads for ${SECONDS_LOAD}s, $CLIENTS concurrent scrapers," \
    "exporter --web.max-requests=$MAX_REQUESTS"
start_exporter "$WORK/exporter.log" --web.max-requests="$MAX_REQUESTS" || exit 1
PID=$EXP_PID PORT=$EXP_PORT
URL=http://127.0.0.1:$PORT

curl -sf -m 30 "$URL/metrics" >"$WORK/before.prom"
OVERFLOWS_START=$(listen_overflows)
RSS_START=$(rss_kb "$PID")
CPU_START=$(cpu_ticks "$PID")
T_START=$(date +%s.%N)

STORM_ARGS=(--port "$PORT" --clients "$CLIENTS" --seconds "$SECONDS_LOAD" --timeout "$TIMEOUT"
            "${CONN_ARGS[@]}")
((MAX_REQUESTS < CLIENTS)) && STORM_ARGS+=(--allow-503)
"$STORM" "${STORM_ARGS[@]}" >"$WORK/storm.out" 2>"$WORK/storm.err" &
STORM_PID=$!
PIDS+=("$STORM_PID")

# Samples every SAMPLE_EVERY s until killed, one line each: elapsed s, RSS kB, CPU ticks, and
# from a scrape: its size in bytes, io_uring_exporter_attribution_cgroups, and the totals of
# cgroup_resolution_failures (tracked cgroups that went away) and attribution_dropped_series.
# The last three reveal other processes' cgroups coming and going: the exposition, and the
# memory of 100 concurrent renders of it, then grows for reasons that are not a leak.
sample() {
  local expo
  expo=$(curl -s -m 30 "$URL/metrics" 2>/dev/null | awk '
    { bytes += length($0) + 1 }
    /^io_uring_exporter_attribution_cgroups / { cg = $2 }
    /^io_uring_exporter_cgroup_resolution_failures_total / { gone = $2 }
    /^io_uring_exporter_attribution_dropped_series_total / { drop = $2 }
    END { printf "%d %d %d %d", bytes, cg, gone, drop }')
  printf '%s %s %s %s\n' "$(awk -v s="$T_START" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}')" \
    "$(rss_kb "$PID")" "$(cpu_ticks "$PID")" "$expo"
}
(
  while kill -0 "$PID" 2>/dev/null; do
    sample
    sleep "$SAMPLE_EVERY"
  done
) >"$WORK/samples" &
SAMPLER_PID=$!
PIDS+=("$SAMPLER_PID")

if [[ -n $CGROUP_DIR ]]; then
  (echo "$BASHPID" >"$CGROUP_DIR/cgroup.procs" &&
     exec "$GENERATOR" --threads "$THREADS" --seconds "$SECONDS_LOAD") >"$WORK/gen.out" 2>&1 &&
    GEN_RC=0 || GEN_RC=$?
else
  "$GENERATOR" --threads "$THREADS" --seconds "$SECONDS_LOAD" >"$WORK/gen.out" 2>&1 &&
    GEN_RC=0 || GEN_RC=$?
fi
STORM_RC=0
wait "$STORM_PID" || STORM_RC=$?
T_END=$(date +%s.%N)
OVERFLOWS=$(($(listen_overflows) - OVERFLOWS_START))
RSS_END=$(rss_kb "$PID" || echo 0)
CPU_END=$(cpu_ticks "$PID" || echo 0)
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
kill -0 "$PID" 2>/dev/null && sample >>"$WORK/samples"

# Liveness first: everything below needs a live exporter.
ALIVE=no HEALTH=no
kill -0 "$PID" 2>/dev/null && ALIVE=yes
[[ $(curl -sf -m 30 "$URL/healthz" 2>/dev/null) == ok* ]] && HEALTH=ok
[[ $ALIVE == yes ]] || fail "the exporter died during the load"
[[ $HEALTH == ok ]] || fail "/healthz did not answer ok after the load"
curl -sf -m 30 "$URL/metrics" >"$WORK/after.prom" || : >"$WORK/after.prom"

# Generator result.
GEN_LINE=$(grep '^load_generator ' "$WORK/gen.out" || true)
((GEN_RC == 0)) && [[ -n $GEN_LINE ]] ||
  { fail "the load generator failed (exit $GEN_RC)"; cat "$WORK/gen.out"; }
GEN_OPS=$(field ops "$GEN_LINE"); GEN_OPS=${GEN_OPS:-0}
GEN_OK=$(field ok "$GEN_LINE"); GEN_OK=${GEN_OK:-0}
GEN_CPU=$(field cpu_seconds "$GEN_LINE"); GEN_PER_CPU=$(field ops_per_cpu_sec "$GEN_LINE")
OPS_PER_SEC=$(field ops_per_sec "$GEN_LINE"); OPS_PER_SEC=${OPS_PER_SEC:-0}

# Exact counts: the global deltas must equal what the generator did. Other processes on a busy
# host may issue NOPs too: then the global deltas are larger, and the generator's own cgroup
# series (same BPF events, per cgroup) must be exact instead.
SUB='io_uring_sqes_submitted_total{op="nop"}'
OK='io_uring_completions_total{op="nop",result="ok"}'
D_SUB=$(($(metric "$WORK/after.prom" "$SUB") - $(metric "$WORK/before.prom" "$SUB")))
D_OK=$(($(metric "$WORK/after.prom" "$OK") - $(metric "$WORK/before.prom" "$OK")))
CG_SUB=n/a CG_OK=n/a
if [[ -n $CGROUP_REL ]] && grep -q "cgroup=\"$CGROUP_REL\"" "$WORK/after.prom"; then
  CG_SUB=$(metric "$WORK/after.prom" 'io_uring_workload_sqes_submitted_total{' \
    "cgroup=\"$CGROUP_REL\"" 'op="nop"')
  # (per-workload completions have no op label; the generator's cgroup only runs NOPs)
  CG_OK=$(metric "$WORK/after.prom" 'io_uring_workload_completions_total{' \
    "cgroup=\"$CGROUP_REL\"" 'result="ok"')
fi
COUNT_NOTE=
if ((GEN_OPS > 0 && D_SUB == GEN_OPS && D_OK == GEN_OPS)); then
  COUNT_NOTE="exact"
elif [[ $CG_SUB == "$GEN_OPS" && $CG_OK == "$GEN_OPS" ]] && ((GEN_OPS > 0 && D_SUB >= GEN_OPS && D_OK >= GEN_OPS)); then
  COUNT_NOTE="exact in the generator's cgroup; the global deltas include $((D_SUB - GEN_OPS)) NOPs of other processes"
else
  COUNT_NOTE="MISMATCH"
  fail "counts: generator submitted $GEN_OPS (ok $GEN_OK); exporter global deltas submitted $D_SUB, ok $D_OK; generator cgroup submitted $CG_SUB, ok $CG_OK"
fi

# Scrape storm result.
STORM_LINE=$(grep '^scrape_storm ' "$WORK/storm.out" || true)
[[ -n $STORM_LINE ]] || { fail "the scrape storm printed no result (exit $STORM_RC)"; cat "$WORK/storm.err"; }
S_SCRAPES=$(field scrapes "$STORM_LINE"); S_OK=$(field ok "$STORM_LINE")
S_REJ=$(field rejected "$STORM_LINE"); S_FAILED=$(field failed "$STORM_LINE")
S_P50=$(field p50_ms "$STORM_LINE"); S_P99=$(field p99_ms "$STORM_LINE"); S_MAX=$(field max_ms "$STORM_LINE")
S_MINC=$(field min_client_ok "$STORM_LINE"); S_RATE=$(field scrapes_per_sec "$STORM_LINE")
if ((STORM_RC != 0)); then
  fail "scrape storm: ${S_FAILED:-?} failed, ${S_REJ:-?} rejected (503) of ${S_SCRAPES:-?} scrapes"
  cat "$WORK/storm.err"
fi

# RSS: flat from the warm sample (the first at >= 10 s, or half the run if shorter) to the end,
# judged only if the exposition stayed the same size (see sample()).
WARM_AT=$((SECONDS_LOAD >= 20 ? 10 : SECONDS_LOAD / 2))
RSS_WARM=$(awk -v w="$WARM_AT" '$1 >= w {print $2; exit}' "$WORK/samples")
RSS_WARM=${RSS_WARM:-$RSS_START}
RSS_GROWTH_PCT=$(awk -v a="$RSS_WARM" -v b="$RSS_END" 'BEGIN {printf "%.1f", (a > 0 ? (b - a) * 100 / a : 0)}')
CHURN=$(awk -v w="$WARM_AT" '
  $1 >= w && !seen { seen = 1; b0 = $4; c0 = $5; g0 = $6; d0 = $7 }
  seen { if ($4 > bmax) bmax = $4; if ($5 > cmax) cmax = $5; g1 = $6; d1 = $7 }
  END {
    why = ""
    if (b0 > 0 && bmax > 1.25 * b0) why = why sprintf("exposition grew from %d to %d bytes; ", b0, bmax)
    if (cmax > c0) why = why sprintf("tracked cgroups rose from %d to %d; ", c0, cmax)
    if (g1 > g0) why = why sprintf("%d tracked cgroups went away; ", g1 - g0)
    if (d1 > d0) why = why sprintf("%d cgroups beyond the attribution budget; ", d1 - d0)
    print why
  }' "$WORK/samples")
if [[ -n $CHURN ]]; then
  RSS_VERDICT="not judged: other processes' cgroups changed the exposition (${CHURN%; })"
  log "WARNING: RSS growth ${RSS_GROWTH_PCT}% $RSS_VERDICT"
elif awk -v g="$RSS_GROWTH_PCT" -v m="$RSS_GROWTH" 'BEGIN {exit !(g < m)}'; then
  RSS_VERDICT="flat (limit ${RSS_GROWTH}%)"
else
  RSS_VERDICT="GREW (limit ${RSS_GROWTH}%)"
  fail "RSS grew ${RSS_GROWTH_PCT}% from ${RSS_WARM} kB (${WARM_AT} s) to ${RSS_END} kB (end), limit ${RSS_GROWTH}%"
fi

# Throughput floor.
awk -v r="$OPS_PER_SEC" -v m="$MIN_OPS" 'BEGIN {exit !(r >= m)}' ||
  fail "generator rate $OPS_PER_SEC ops/s is below the asserted floor of $MIN_OPS ops/s"
TARGET_MET=$(awk -v r="$OPS_PER_SEC" -v t="$TARGET_OPS" 'BEGIN {print (r >= t ? "met" : "NOT met")}')

WALL=$(awk -v s="$T_START" -v e="$T_END" 'BEGIN {printf "%.1f", e - s}')
CPU_S=$(awk -v a="$CPU_START" -v b="$CPU_END" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')
CPU_PCT=$(awk -v c="$CPU_S" -v w="$WALL" 'BEGIN {printf "%.1f", (w > 0 ? c * 100 / w : 0)}')
SCRAPE_DUR=$(awk '/^io_uring_exporter_scrape_duration_seconds / {print $2; exit}' "$WORK/after.prom")

if [[ $ALIVE == yes ]]; then
  stop_exporter "$PID" || fail "the phase 1 exporter exited with status $? on SIGTERM"
fi

# --------------------------------------------------- phase 2: load shedding at --web.max-requests
SHED_LINE= SHED_RC=0 HZ_WORST=n/a SHED_OVERFLOWS=n/a
if ((SHED_SECONDS > 0)); then
  log "phase 2: $CLIENTS concurrent scrapers for ${SHED_SECONDS}s, exporter with the default" \
      "--web.max-requests (8): beyond it, immediate 503s"
  if start_exporter "$WORK/exporter2.log"; then
    SHED_OVF_START=$(listen_overflows)
    "$STORM" --port "$EXP_PORT" --clients "$CLIENTS" --seconds "$SHED_SECONDS" --timeout "$TIMEOUT" \
      "${CONN_ARGS[@]}" --allow-503 >"$WORK/shed.out" 2>"$WORK/shed.err" &
    SHED_PID=$!
    PIDS+=("$SHED_PID")
    # /healthz must keep answering while the scrape slots are full.
    HZ_TIMES=()
    # (At most one probe per second while the storm runs, each allowed 30 s: with keep-alive
    # scrapers holding every HTTP worker, a new connection waits for a worker to come free.)
    sleep 1
    while kill -0 "$SHED_PID" 2>/dev/null; do
      t=$(curl -sf -m 30 -o /dev/null -w '%{time_total}' "http://127.0.0.1:$EXP_PORT/healthz") ||
        { fail "/healthz did not answer within 30 s during the phase 2 storm"; break; }
      HZ_TIMES+=("$t")
      sleep 1
    done
    ((${#HZ_TIMES[@]})) && HZ_WORST=$(printf '%s\n' "${HZ_TIMES[@]}" | sort -g | tail -1)
    wait "$SHED_PID" || SHED_RC=$?
    SHED_OVERFLOWS=$(($(listen_overflows) - SHED_OVF_START))
    SHED_LINE=$(grep '^scrape_storm ' "$WORK/shed.out" || true)
    if ((SHED_RC != 0)) || [[ -z $SHED_LINE ]]; then
      fail "phase 2 storm: scrapes failed with something else than 503 (exit $SHED_RC)"
      cat "$WORK/shed.err"
    fi
    kill -0 "$EXP_PID" 2>/dev/null || fail "the phase 2 exporter died under the storm"
    stop_exporter "$EXP_PID" || fail "the phase 2 exporter exited with status $? on SIGTERM"
  else
    fail "the phase 2 exporter did not start"
  fi
fi

# ------------------------------------------------------------------------------------ summary
echo
echo "samples of the phase 1 exporter (elapsed s, VmRSS kB, utime+stime ticks, /metrics bytes,"
echo "  attribution_cgroups, cgroup_resolution_failures_total, attribution_dropped_series_total):"
sed 's/^/  /' "$WORK/samples"
echo
printf '%-44s %s\n' \
  "io_uring load test (${SECONDS_LOAD}s, $THREADS threads/rings, NOP batches of 32)" "" \
  "  generator ops (submitted = completed ok)" "$GEN_OPS" \
  "  ops/s, averaged" "$OPS_PER_SEC" \
  "  goal / asserted floor (ops/s)" "$TARGET_OPS ($TARGET_MET) / $MIN_OPS" \
  "  generator CPU s; ops per CPU second" "${GEN_CPU:-?}; ${GEN_PER_CPU:-?}" \
  "  exporter delta sqes_submitted{op=nop}" "$D_SUB" \
  "  exporter delta completions{op=nop,ok}" "$D_OK" \
  "  generator cgroup series (submitted / ok)" "$CG_SUB / $CG_OK" \
  "  counts" "$COUNT_NOTE" \
  "scrape storm ($CLIENTS clients, max-requests $MAX_REQUESTS, $CONN_MODE)" "" \
  "  scrapes: total / ok / 503 / failed" "${S_SCRAPES:-?} / ${S_OK:-?} / ${S_REJ:-?} / ${S_FAILED:-?}" \
  "  scrapes/s; fewest ok by one client" "${S_RATE:-?}; ${S_MINC:-?}" \
  "  scrape latency p50 / p99 / max (ms)" "${S_P50:-?} / ${S_P99:-?} / ${S_MAX:-?}" \
  "  last io_uring_exporter_scrape_duration_seconds" "${SCRAPE_DUR:-?}" \
  "  listen queue overflows (host-wide)" "$OVERFLOWS" \
  "exporter process" "" \
  "  alive / healthz after the load" "$ALIVE / $HEALTH" \
  "  RSS start / ${WARM_AT}s / end (kB)" "$RSS_START / $RSS_WARM / $RSS_END" \
  "  RSS growth ${WARM_AT}s -> end" "${RSS_GROWTH_PCT}%: $RSS_VERDICT" \
  "  CPU seconds over ${WALL}s; % of one core" "$CPU_S; ${CPU_PCT}%"
if [[ -n $SHED_LINE ]]; then
  printf '%-44s %s\n' \
    "load shedding (${SHED_SECONDS}s, $CLIENTS clients, max-requests 8, $CONN_MODE)" "" \
    "  scrapes: total / ok / 503 / failed" "$(field scrapes "$SHED_LINE") / $(field ok "$SHED_LINE") / $(field rejected "$SHED_LINE") / $(field failed "$SHED_LINE")" \
    "  ok latency p50 / p99 (ms); 503 p99 (ms)" "$(field p50_ms "$SHED_LINE") / $(field p99_ms "$SHED_LINE"); $(field rejected_p99_ms "$SHED_LINE")" \
    "  slowest /healthz during the storm (s)" "$HZ_WORST" \
    "  listen queue overflows (host-wide)" "$SHED_OVERFLOWS"
fi
echo
if ((${#FAILURES[@]})); then
  echo "load test FAILED:"
  printf '  - %s\n' "${FAILURES[@]}"
  echo "exporter log (tail):"
  tail -20 "$WORK/exporter.log" | sed 's/^/  /'
  exit 1
fi
echo "load test passed"
