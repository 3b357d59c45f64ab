#!/usr/bin/env bash
# Runs COMMAND while another io_uring user is active on the host: iou_noise (BackgroundNoise:
# short io_uring bursts from a cgroup v2 of its own, a random pause before each) runs from
# before COMMAND starts until it ends. The integration tests' exact checks must still pass,
# retrying the windows the noise disturbed (tests/support/delta_check.h). Fails if COMMAND
# fails or the noise did not run. Root.
#
#   run_with_noise.sh [--noise PATH] [--gaps MIN-MAX] -- COMMAND [ARGS...]
#
# --noise: the iou_noise binary (default: tests/iou_noise under the current directory, i.e. run
# from the build directory); --gaps: pause before each burst in milliseconds (default 50-2000).
# The whole integration suite, from the build directory:
#   ../tests/integration/run_with_noise.sh -- ctest -L integration -E integration_under_noise
set -euo pipefail
noise=tests/iou_noise
gaps=50-2000
while (($#)); do
  case $1 in
    --noise) noise=$2; shift 2 ;;
    --gaps) gaps=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--noise PATH] [--gaps MIN-MAX] -- COMMAND [ARGS...]" >&2; exit 2 ;;
  esac
done
(($#)) || { echo "run_with_noise.sh: no command" >&2; exit 2; }
[[ -x $noise ]] || { echo "run_with_noise.sh: no iou_noise at $noise (--noise)" >&2; exit 2; }

"$noise" "$gaps" &
noise_pid=$!
stop_noise() {
  if [[ -n ${noise_pid:-} ]]; then
    kill -TERM "$noise_pid" 2>/dev/null || true
    noise_rc=0
    wait "$noise_pid" || noise_rc=$?
    noise_pid=
  fi
}
trap stop_noise EXIT

rc=0
"$@" || rc=$?
stop_noise
if ((noise_rc != 0)); then
  echo "run_with_noise.sh: the background noise failed (exit $noise_rc)" >&2
  ((rc)) || rc=1
fi
exit "$rc"
