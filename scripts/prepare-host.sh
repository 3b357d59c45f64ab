#!/usr/bin/env bash
# Mounts what the exporter needs if absent: tracefs, securityfs and bpffs (idempotent).
set -euo pipefail
if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
    echo "prepare-host: cannot mount tracefs at /sys/kernel/tracing (syscall probes will be missing)" >&2
fi
if [[ ! -e /sys/kernel/security/lsm ]]; then
  mount -t securityfs none /sys/kernel/security 2>/dev/null ||
    echo "prepare-host: cannot mount securityfs (the active-LSM gauges will be missing)" >&2
fi
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
  mount -t bpf bpf /sys/fs/bpf 2>/dev/null ||
    echo "prepare-host: cannot mount bpffs at /sys/fs/bpf (pinning unavailable)" >&2
fi
