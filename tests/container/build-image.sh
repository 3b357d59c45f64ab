#!/usr/bin/env bash
# Build the io_uring_exporter image from the repository's Dockerfile without a Docker engine, then
# check its runtime stage from the outside.
#
# Usage: tests/container/build-image.sh [IMAGE_TAG]        (default localhost/io_uring_exporter:dev)
#
# Steps (each prints its duration):
#   1. installs podman and debootstrap with apt-get if they are missing;
#   2. bootstraps a Debian 12 minbase root file system with debootstrap, from the archive URI that this
#      machine's own apt configuration names (read at run time, never written into the repository),
#      caches it as a tarball under $IOU_IMAGE_CACHE (default /var/cache/io_uring_exporter/image), and
#      imports it into podman as debian:bookworm-slim when podman does not have that image yet;
#   3. podman build --isolation chroot --cgroup-manager cgroupfs --network host --pull=never
#      (the build stage runs scripts/install-deps.sh, compiles, and runs `ctest -L unit`);
#   4. exports the runtime stage's file system and, in a chroot: runs `io_uring_exporter --version`
#      and `ldd` (no library may be "not found"), checks that no compiler/clang/bpftool/headers were
#      left in it, and checks the image's ENTRYPOINT;
#   5. (as root, when the host can load BPF) starts the exported exporter in the chroot with only the
#      host paths the DaemonSet mounts, on a loopback port, and fetches /healthz and /metrics.
#      Skip it with IOU_IMAGE_SMOKE=0.
#
# `podman run` is not used: on this machine kind crun cannot set rlimits (no CAP_SYS_RESOURCE), so the
# runtime stage is checked through its exported file system instead.
# Set IOU_IMAGE_REFRESH=1 to re-bootstrap the base image, IOU_IMAGE_NO_CACHE=1 to build every layer anew.
set -euo pipefail

repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
tag="${1:-localhost/io_uring_exporter:dev}"
base_ref="debian:bookworm-slim"
cache="${IOU_IMAGE_CACHE:-/var/cache/io_uring_exporter/image}"
base_tar="$cache/bookworm-minbase.tar"

die() { echo "build-image: $*" >&2; exit 1; }
log() { echo "build-image: $*"; }
t_start=$SECONDS
step_start=$SECONDS
step_done() { log "$1 took $((SECONDS - step_start)) s"; step_start=$SECONDS; }

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, podman with chroot isolation and chroot need it)"

work="$(mktemp -d /tmp/iou-image.XXXXXX)"
cid=""
smoke_pid=""
cleanup() {
    [[ -n "$smoke_pid" ]] && kill "$smoke_pid" 2>/dev/null && wait "$smoke_pid" 2>/dev/null
    [[ -n "$cid" ]] && podman rm -f "$cid" >/dev/null 2>&1
    # The smoke run mounts inside a private mount namespace, so nothing is left mounted here;
    # refuse to delete through a mount point all the same.
    if ! grep -q " $work/" /proc/self/mounts; then rm -rf "$work"; fi
}
trap cleanup EXIT

# --- 1. tools
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
podman_g=(podman --cgroup-manager cgroupfs)
step_done "tools"

# --- 2. base image
# The first non-security "deb" URI of the machine's apt sources (deb822 files first, then one-line lists).
archive_uri() {
    local f
    shopt -s nullglob
    for f in /etc/apt/sources.list.d/*.sources; do
        awk '
            function flush() {
                if (uris != "" && types ~ /(^| )deb( |$)/ && enabled != "no" && suites !~ /-security/ &&
                    uris !~ /security/) { split(uris, u, " "); print u[1]; found = 1; exit }
                uris = suites = types = enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                if (key == "uris") uris = val; else if (key == "suites") suites = val
                else if (key == "types") types = val; else if (key == "enabled") enabled = tolower(val)
            }
            END { if (!found) flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r "$f" ]] || continue
        awk '$1 == "deb" && $0 !~ /security/ {
                 for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; exit }
             }' "$f"
    done
    shopt -u nullglob
}

mkdir -p "$cache"
if [[ ! -s "$base_tar" || -n "${IOU_IMAGE_REFRESH:-}" ]]; then
    uri="$(archive_uri | head -n1)"
    [[ -n "$uri" ]] || die "no Debian archive URI in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
    log "debootstrap --variant=minbase bookworm from the machine's apt archive ($uri)"
    rootfs="$work/rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$uri" >"$work/debootstrap.log" 2>&1 \
        || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    # Like the official slim image: no apt lists, no package cache, no docs or man pages.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/var/log/*.log
    tar --numeric-owner -C "$rootfs" -cf "$base_tar.tmp" .
    mv "$base_tar.tmp" "$base_tar"
    rm -rf "$rootfs"
    "${podman_g[@]}" rmi -f "$base_ref" >/dev/null 2>&1 || true
fi
if ! "${podman_g[@]}" image exists "$base_ref"; then
    log "importing $base_tar as $base_ref"
    "${podman_g[@]}" import --quiet "$base_tar" "$base_ref" >/dev/null
fi
step_done "base image"

# --- 3. build
log "podman build -t $tag $repo"
build_start=$SECONDS
no_cache=()
[[ -n "${IOU_IMAGE_NO_CACHE:-}" ]] && no_cache=(--no-cache)
"${podman_g[@]}" build --isolation chroot --network host --pull=never "${no_cache[@]}" \
    --build-arg DEBIAN_IMAGE="$base_ref" \
    --build-arg IOU_REVISION="$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
    -t "$tag" -f "$repo/Dockerfile" "$repo" \
    >"$work/build.log" 2>&1 \
    || { tail -n 60 "$work/build.log" >&2; die "podman build failed (last lines above)"; }
build_secs=$((SECONDS - build_start))
grep -E 'tests passed|tests failed|No tests were found' "$work/build.log" | sed 's/^/  ctest: /' || true
step_done "podman build"

# --- 4. runtime stage checks
entry="$("${podman_g[@]}" image inspect --format '{{json .Config.Entrypoint}}' "$tag")"
[[ "$entry" == '["/usr/bin/io_uring_exporter"]' ]] || die "unexpected ENTRYPOINT $entry"
size="$("${podman_g[@]}" image inspect --format '{{.Size}}' "$tag")"

cid="$("${podman_g[@]}" create "$tag")"
root="$work/runtime"
mkdir -p "$root"
"${podman_g[@]}" export "$cid" | tar -C "$root" -x
log "runtime: $(chroot "$root" /usr/bin/io_uring_exporter --version)"
chroot "$root" ldd /usr/bin/io_uring_exporter >"$work/ldd.txt"
sed 's/^/  ldd: /' "$work/ldd.txt"
if grep -q 'not found' "$work/ldd.txt"; then die "runtime stage misses shared libraries (see ldd above)"; fi
for leftover in usr/bin/gcc usr/bin/g++ usr/bin/cc usr/bin/clang usr/bin/cmake usr/sbin/bpftool \
                usr/include/bpf usr/include/linux; do
    [[ ! -e "$root/$leftover" ]] || die "runtime stage contains /$leftover (build-only content)"
done
log "image $tag: $((size / 1024 / 1024)) MiB, entrypoint $entry, no build tools inside"
step_done "runtime checks"

# --- 5. smoke run of the exported runtime stage
can_bpf=1
[[ -r /sys/kernel/btf/vmlinux ]] || can_bpf=0
if [[ "${IOU_IMAGE_SMOKE:-1}" == 0 ]]; then
    log "smoke run skipped (IOU_IMAGE_SMOKE=0)"
elif ((can_bpf == 0)); then
    log "smoke run skipped: the host has no /sys/kernel/btf/vmlinux"
else
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
            || echo 19774)"
    # A private mount namespace: the mounts vanish with the process. Like a container: a fresh
    # read-only sysfs and procfs, then the host paths the DaemonSet mounts (deploy/daemonset.yaml):
    # /sys/kernel/btf, /sys/kernel/tracing, /sys/fs/bpf, /sys/fs/cgroup, /sys/kernel/security.
    unshare --mount --propagation private -- bash -c '
        set -e
        r="$1"; shift
        mkdir -p "$r/proc" "$r/sys"
        mount -t proc proc "$r/proc"
        mount -t sysfs -o ro sysfs "$r/sys"
        for d in kernel/btf kernel/tracing fs/bpf fs/cgroup kernel/security; do
            [ -d "/sys/$d" ] && [ -d "$r/sys/$d" ] || continue
            mount --rbind "/sys/$d" "$r/sys/$d"
        done
        exec chroot "$r" "$@"' _ "$root" /usr/bin/io_uring_exporter --web.listen-address="127.0.0.1:$port" \
        >"$work/smoke.log" 2>&1 &
    smoke_pid=$!
    ok=0
    for _ in $(seq 1 50); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=1; break; fi
        kill -0 "$smoke_pid" 2>/dev/null || break
        sleep 0.2
    done
    # The whole body first: `curl | grep -q` fails under pipefail when grep exits at its match.
    if ((ok)) && metrics=$(curl -fsS "http://127.0.0.1:$port/metrics") &&
        grep -q '^io_uring_exporter_build_info' <<<"$metrics"; then
        log "smoke run: /healthz and /metrics answer from the exported runtime stage"
    else
        cat "$work/smoke.log" >&2
        die "smoke run: the exporter in the runtime stage did not serve /healthz and /metrics"
    fi
    kill "$smoke_pid" 2>/dev/null; wait "$smoke_pid" 2>/dev/null || true; smoke_pid=""
    step_done "smoke run"
fi

log "OK: podman build ${build_secs} s, total $((SECONDS - t_start)) s"
