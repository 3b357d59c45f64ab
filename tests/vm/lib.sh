# shellcheck shell=bash
# Shared helpers for the tests/vm scripts. Source it; do not run it.
#
# Environment:
#   IOU_VM_CACHE   cache root (default /var/cache/io_uring_exporter/vm); kernels live in
#                  $IOU_VM_CACHE/kernels/<series>/{vmlinuz,release,config}

IOU_VM_CACHE="${IOU_VM_CACHE:-/var/cache/io_uring_exporter/vm}"
VM_PROG="$(basename "$0")"

# print_help: the script's leading comment block, without the "# ".
print_help() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
die() { printf '%s: error: %s\n' "$VM_PROG" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$VM_PROG" "$*" >&2; }

# Default series and the Debian suite that carries each one.
# shellcheck disable=SC2034 # used by the scripts that source this file
VM_DEFAULT_SERIES=(5.10 6.1 6.12 7)
suite_for_series() {
    case "$1" in
        5.10) echo bullseye ;;
        6.1) echo bookworm ;;
        6.12) echo trixie ;;
        7) echo sid ;;
        *) return 1 ;;
    esac
}

kernel_dir() { printf '%s/kernels/%s\n' "$IOU_VM_CACHE" "$1"; }

# ensure_host_tools CMD=PACKAGE...: apt-get install the packages whose command is missing.
ensure_host_tools() {
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd="${spec%%=*}"; pkg="${spec#*=}"
        if [[ "$cmd" == busybox-static ]]; then
            # The dynamic busybox package also provides /bin/busybox; we need the static one.
            [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 && continue
        elif command -v "$cmd" >/dev/null 2>&1; then
            continue
        fi
        missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    [[ $EUID -eq 0 ]] || die "missing host packages ${missing[*]}: run 'sudo apt-get install -y --no-install-recommends ${missing[*]}'"
    log "installing host packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed: run 'apt-get update' and retry"
}

# archive_source: print "URI<TAB>SIGNED_BY" of the machine's first non-security Debian archive,
# read from /etc/apt/sources.list.d/*.sources (deb822) or classic one-line sources lists
# (IOU_VM_APT_ETC replaces /etc/apt, for tests).
# SIGNED_BY is empty when the entry names no key file (apt then uses its default trusted keys).
archive_source() {
    local f out etc="${IOU_VM_APT_ETC:-/etc/apt}"
    shopt -s nullglob
    for f in "$etc"/sources.list.d/*.sources; do
        out="$(awk '
            function flush() {
                if (uris != "" && types ~ /(^| )deb( |$)/ && enabled != "no" &&
                    uris !~ /security/ && suites !~ /-security/) {
                    split(uris, u, " "); printf "%s\t%s\n", u[1], signed; found = 1; exit
                }
                uris = ""; suites = ""; types = ""; signed = ""; enabled = ""; key = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { next }                      # continuation line (e.g. an inline key block)
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
                if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "types") types = val
                else if (key == "enabled") enabled = tolower(val)
                else if (key == "signed-by") signed = (val ~ /^\//) ? val : ""
            }
            END { if (!found) flush() }
        ' "$f")"
        if [[ -n "$out" ]]; then printf '%s\n' "$out"; shopt -u nullglob; return 0; fi
    done
    for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
        [[ -r "$f" ]] || continue
        out="$(awk '
            $1 != "deb" { next }
            {
                signed = ""; i = 2
                if ($2 ~ /^\[/) {
                    opts = ""
                    while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ }
                    if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
                }
                uri = $i; suite = $(i + 1)
                if (uri ~ /security/ || suite ~ /-security/) next
                printf "%s\t%s\n", uri, signed; exit
            }
        ' "$f")"
        if [[ -n "$out" ]]; then printf '%s\n' "$out"; shopt -u nullglob; return 0; fi
    done
    shopt -u nullglob
    return 1
}
