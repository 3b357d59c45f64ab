#!/usr/bin/env bash
# Download Debian cloud kernels for the VM tests, without installing them.
#
# Usage: tests/vm/fetch-kernels.sh [SERIES[=SUITE]...]
#   SERIES   5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie), 7 (sid); default: all four.
#   =SUITE   take the series from another suite, e.g. 7=trixie-backports.
#
# Result: $IOU_VM_CACHE/kernels/<series>/{vmlinuz,release,config,package}
#         (IOU_VM_CACHE defaults to /var/cache/io_uring_exporter/vm).
# A cached series is reused without touching the network. Set IOU_VM_REFRESH=1 to re-download.
#
# apt runs with a private state (lists, cache, sources.list under $IOU_VM_CACHE/apt/<suite>),
# so the host's apt configuration and installed packages are left alone. The archive URI and
# its keyring are read at run time from the machine's own apt sources.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

[[ "${1:-}" == -h || "${1:-}" == --help ]] && { print_help; exit 0; }

specs=("$@")
((${#specs[@]})) || specs=("${VM_DEFAULT_SERIES[@]}")

# Host tools the VM scripts need (apt-get and dpkg-deb are part of every Debian system).
ensure_host_tools qemu-system-x86_64=qemu-system-x86 busybox-static=busybox-static cpio=cpio
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    die "apt-get/dpkg-deb not found: this script needs a Debian-based host"
fi

mkdir -p "$IOU_VM_CACHE" 2>/dev/null || true
[[ -d "$IOU_VM_CACHE" && -w "$IOU_VM_CACHE" ]] \
    || die "cache dir $IOU_VM_CACHE is not writable: run as root or set IOU_VM_CACHE=/some/writable/dir"
exec 9>"$IOU_VM_CACHE/.fetch.lock"
flock -w 600 9 || die "another fetch-kernels.sh holds $IOU_VM_CACHE/.fetch.lock: wait for it to finish"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

archive_uri="" signed_by=""
declare -A updated=()

# apt_private SUITE ARGS...: run apt-get/apt-cache against the private state of SUITE.
apt_opts() {
    local st="$IOU_VM_CACHE/apt/$1"
    printf '%s\n' \
        -o "Dir::State=$st/state" -o "Dir::State::Lists=$st/lists" -o "Dir::State::status=/dev/null" \
        -o "Dir::Cache=$st/cache" -o "Dir::Etc::sourcelist=$st/sources.list" \
        -o "Dir::Etc::sourceparts=/dev/null" -o "Dir::Etc::preferences=/dev/null" \
        -o "Dir::Etc::preferencesparts=/dev/null" -o "APT::Architecture=amd64" \
        -o "APT::Architectures::=amd64" -o "APT::Sandbox::User=root" -o "Acquire::Languages=none" \
        -o "Acquire::Retries=3" -o "Acquire::http::Timeout=30" -q
}

prepare_suite() {
    local suite="$1" st="$IOU_VM_CACHE/apt/$1"
    [[ -n "${updated[$suite]:-}" ]] && return 0
    if [[ -z "$archive_uri" ]]; then
        local src
        src="$(archive_source)" \
            || die "no non-security 'deb' entry in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list: add the Debian archive to apt's sources"
        archive_uri="${src%%$'\t'*}"; signed_by="${src#*$'\t'}"
        if [[ -n "$signed_by" && ! -r "$signed_by" ]]; then
            die "keyring $signed_by (Signed-By in apt sources) is unreadable: install debian-archive-keyring"
        fi
        log "archive: $archive_uri${signed_by:+ (keyring $signed_by)}"
    fi
    mkdir -p "$st/state" "$st/lists/partial" "$st/cache/archives/partial"
    local opt=""
    [[ -n "$signed_by" ]] && opt="[signed-by=$signed_by] "
    printf 'deb %s%s %s main\n' "$opt" "$archive_uri" "$suite" >"$st/sources.list"
    log "apt-get update ($suite, private state in $st)"
    mapfile -t o < <(apt_opts "$suite")
    apt-get "${o[@]}" update >"$work/update-$suite.log" 2>&1 || {
        sed 's/^/  /' "$work/update-$suite.log" >&2
        die "apt-get update for suite $suite failed (see above): check network access to $archive_uri and that the archive keyring knows the suite's key (apt-get install debian-archive-keyring)"
    }
    if grep -qE '^(W|E):' "$work/update-$suite.log"; then
        sed 's/^/  /' "$work/update-$suite.log" >&2
        die "apt-get update for suite $suite reported errors (see above): the suite may not exist at $archive_uri or its signature could not be verified"
    fi
    updated[$suite]=1
}

fetch_series() {
    local series="$1" suite="$2" dir tmp rel meta pkg deb debs vmlinuz config version vpkg f
    dir="$(kernel_dir "$series")"
    if [[ -s "$dir/vmlinuz" && -s "$dir/release" && "${IOU_VM_REFRESH:-0}" != 1 ]]; then
        log "$series: cached $(cat "$dir/release")"
        return 0
    fi
    prepare_suite "$suite"
    mapfile -t o < <(apt_opts "$suite")

    # linux-image-cloud-amd64 depends on the versioned image package linux-image-<rel>.
    meta="$(apt-cache "${o[@]}" show --no-all-versions linux-image-cloud-amd64 2>/dev/null)" \
        || die "$series: package linux-image-cloud-amd64 not found in suite $suite: pick another suite with $series=SUITE"
    rel="$(sed -n 's/^Depends: //p' <<<"$meta" | tr ',' '\n' \
        | sed -n 's/^ *linux-image-\([^ ]*-cloud-amd64\)\( .*\)\{0,1\}$/\1/p' | head -n1)"
    [[ -n "$rel" ]] || die "$series: cannot find linux-image-<release> in the Depends of linux-image-cloud-amd64 ($suite): the package layout changed, update $0"
    if [[ "$rel" != "$series".* && "$rel" != "$series"-* ]]; then
        die "$series: suite $suite now carries $rel, not $series.x: call with ${rel%%.*}=$suite or $series=<suite that has it>"
    fi

    tmp="$work/$series"
    mkdir -p "$tmp/debs" "$tmp/root"
    # Up to 6.x the image package holds /boot/vmlinuz-<rel> and /boot/config-<rel>. From 7.x it
    # is a metapackage: linux-binary-<rel> has /usr/lib/modules/<rel>/vmlinuz and
    # linux-base-<rel> has /usr/lib/modules/<rel>/config. The -unsigned build is a last resort.
    vmlinuz="" config="" version="" vpkg=""
    for pkg in "linux-image-$rel" "linux-binary-$rel" "linux-image-$rel-unsigned" "linux-base-$rel"; do
        [[ -n "$vmlinuz" && -n "$config" ]] && break
        [[ -n "$vmlinuz" && "$pkg" != linux-base-* ]] && continue
        apt-cache "${o[@]}" show --no-all-versions "$pkg" >/dev/null 2>&1 || continue
        log "$series: apt-get download $pkg ($suite)"
        (cd "$tmp/debs" && apt-get "${o[@]}" download "$pkg" >"$work/download-$pkg.log" 2>&1) || {
            sed 's/^/  /' "$work/download-$pkg.log" >&2
            die "$series: apt-get download $pkg failed (see above): check network access to $archive_uri"
        }
        debs=("$tmp/debs/${pkg}"_*.deb)
        deb="${debs[0]}"
        [[ -f "$deb" ]] || die "$series: apt-get download $pkg produced no .deb"
        dpkg-deb -x "$deb" "$tmp/root"
        for f in "$tmp/root/boot/vmlinuz-$rel" "$tmp/root/usr/lib/modules/$rel/vmlinuz"; do
            [[ -z "$vmlinuz" && -s "$f" ]] && { vmlinuz="$f"; vpkg="$pkg"; version="$(dpkg-deb -f "$deb" Version)"; }
        done
        for f in "$tmp/root/boot/config-$rel" "$tmp/root/usr/lib/modules/$rel/config"; do
            [[ -z "$config" && -s "$f" ]] && config="$f"
        done
    done
    [[ -n "$vmlinuz" ]] || die "$series: none of linux-image-$rel, linux-binary-$rel, linux-image-$rel-unsigned ships a vmlinuz for $rel: update $0 for the new package layout"

    mkdir -p "$dir.new"
    cp "$vmlinuz" "$dir.new/vmlinuz"
    printf '%s\n' "$rel" >"$dir.new/release"
    [[ -n "$config" ]] && cp "$config" "$dir.new/config"
    printf 'suite=%s\npackage=%s\nversion=%s\n' "$suite" "$vpkg" "$version" >"$dir.new/package"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
    rm -rf "$tmp"
    log "$series: stored $rel in $dir"
}

for spec in "${specs[@]}"; do
    series="${spec%%=*}"
    if [[ "$spec" == *=* ]]; then
        suite="${spec#*=}"
    else
        suite="$(suite_for_series "$series")" \
            || die "unknown series '$series': use one of ${VM_DEFAULT_SERIES[*]} or SERIES=SUITE (e.g. 7=trixie-backports)"
    fi
    [[ "$series" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad series '$series': expected e.g. 6.12 or 7"
    [[ "$suite" =~ ^[a-z0-9-]+$ ]] || die "bad suite '$suite': expected e.g. trixie or trixie-backports"
    fetch_series "$series" "$suite"
done
