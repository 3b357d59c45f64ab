#!/usr/bin/env bash
# Print the io_uring facts (tp_btf prototypes, IORING_OP_* values, LSM/audit functions,
# CO-RE field layout) of the cached kernels, read from their BTF on the host (no boot needed).
#
# Usage: tests/vm/btf-report.sh [SERIES...]   (default: every series in the cache)
# Side products, cached next to each vmlinuz: vmlinux.btf (raw .BTF section) and vmlinux.h
# (`bpftool btf dump ... format c`), usable as a per-kernel CO-RE reference.
# Needs bpftool, objcopy (binutils) and the decompressor of the bzImage payload (lz4/zstd/xz/gzip).
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
source "$(dirname "$(readlink -f "$0")")/lib.sh"

[[ "${1:-}" == -h || "${1:-}" == --help ]] && { print_help; exit 0; }
command -v bpftool >/dev/null || die "bpftool not found: apt-get install -y --no-install-recommends bpftool"
command -v objcopy >/dev/null || die "objcopy not found: apt-get install -y --no-install-recommends binutils"

series=("$@")
if ((${#series[@]} == 0)); then
    for d in "$IOU_VM_CACHE"/kernels/*/; do [[ -s "$d/vmlinuz" ]] && series+=("$(basename "$d")"); done
fi
((${#series[@]})) || die "no kernels in $IOU_VM_CACHE/kernels: run tests/vm/fetch-kernels.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }

# extract_btf SERIES: bzImage -> compressed payload -> vmlinux ELF -> .BTF section.
extract_btf() {
    local dir bz setup off len magic dec
    dir="$(kernel_dir "$1")" bz="$(kernel_dir "$1")/vmlinuz"
    [[ -s "$dir/vmlinux.btf" ]] && return 0
    [[ -s "$bz" ]] || die "kernel $1 is not in the cache: run tests/vm/fetch-kernels.sh $1"
    [[ "$(dd if="$bz" bs=1 skip=$((0x202)) count=4 2>/dev/null)" == HdrS ]] || die "$bz is not a bzImage"
    setup="$(u8 "$bz" $((0x1f1)))"; ((setup)) || setup=4
    off=$(((setup + 1) * 512 + $(u32 "$bz" $((0x248)))))
    len="$(u32 "$bz" $((0x24c)))" # the payload ends with a 4-byte uncompressed size
    magic="$(dd if="$bz" bs=1 skip="$off" count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')"
    case "$magic" in
        02214c18) dec="lz4 -dc" ;;
        28b52ffd) dec="zstd -dcq" ;;
        fd377a58) dec="xz -dc" ;;
        1f8b*) dec="gzip -dc" ;;
        *) die "$bz: unknown payload compression (magic $magic): extend $0" ;;
    esac
    command -v "${dec%% *}" >/dev/null || die "${dec%% *} not found: apt-get install -y --no-install-recommends ${dec%% *}"
    tail -c +$((off + 1)) "$bz" | head -c $((len - 4)) | $dec >"$tmp/vmlinux" 2>/dev/null || true
    [[ "$(head -c 4 "$tmp/vmlinux" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]] \
        || die "$bz: decompressing the payload with '$dec' gave no ELF file"
    objcopy -O binary --only-section=.BTF "$tmp/vmlinux" "$dir/vmlinux.btf.tmp"
    [[ -s "$dir/vmlinux.btf.tmp" ]] || die "$bz has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF)"
    mv "$dir/vmlinux.btf.tmp" "$dir/vmlinux.btf"
    rm -f "$tmp/vmlinux"
}

# struct_fields HEADER STRUCT FIELD...: print the named members of STRUCT, also those inside
# nested (anonymous or named) struct/union blocks, marked with the block they sit in.
struct_fields() {
    local h="$1" s="$2"
    shift 2
    awk -v s="struct $s {" -v want="$*" '
        BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
        $0 == s { inside = 1; depth = 0; print; next }
        !inside { next }
        /^\};/ { if (!found) print "\t/* none of: " want " */"; print; exit }
        /\{$/ { depth++; next }
        /^\t+\}/ { depth--; next }
        {
            name = $0; sub(/;$/, "", name); sub(/ __attribute__.*$/, "", name); sub(/\[.*$/, "", name)
            sub(/:.*$/, "", name); sub(/\).*$/, "", name); sub(/.*[ *(]/, "", name)
            if (name in keep) { found = 1; line = $0; gsub(/^\t+/, "\t", line); print line (depth ? "  /* nested, depth " depth " */" : "") }
        }' "$h"
}

for s in "${series[@]}"; do
    extract_btf "$s"
    dir="$(kernel_dir "$s")"
    [[ -s "$dir/vmlinux.h" ]] || bpftool btf dump file "$dir/vmlinux.btf" format c >"$dir/vmlinux.h"
    h="$dir/vmlinux.h"
    bpftool btf dump file "$dir/vmlinux.btf" >"$tmp/raw"
    echo "=== $s: $(cat "$dir/release")"
    echo "--- tp_btf prototypes"
    grep -E 'typedef .*\(\*btf_trace_io_uring_' "$h" | sed 's/^typedef //' | LC_ALL=C sort
    echo "--- IORING_OP_*"
    # 5.10 has an anonymous enum, later kernels enum io_uring_op: take the block holding IORING_OP_NOP.
    awk '/^enum( [a-z_]+)? \{$/ { n = 0; next } { blk[++n] = $0 } /^\tIORING_OP_NOP = 0,$/ { hit = 1 }
         /^\};/ && hit { for (i = 1; i < n; i++) { l = blk[i]; gsub(/[\t,]/, "", l); sub(/^IORING_OP_/, "", l)
                                                   sub(/ = /, "=", l); printf "%s%s", l, (i < n - 1 ? " " : "\n") }; exit }' "$h"
    echo "--- functions (BTF FUNC)"
    for f in security_uring_allowed bpf_lsm_uring_allowed security_uring_cmd bpf_lsm_uring_cmd \
             security_uring_sqpoll security_uring_override_creds __audit_uring_entry __audit_uring_exit \
             io_uring_setup __do_sys_io_uring_setup io_issue_sqe; do
        if grep -q "FUNC '$f'" "$tmp/raw"; then echo "  $f: yes"; else echo "  $f: no"; fi
    done
    echo "--- struct io_kiocb / io_cqe / io_ring_ctx (selected members)"
    struct_fields "$h" io_kiocb opcode flags ctx cqe tctx task creds user_data result cflags cmd work
    struct_fields "$h" io_cqe user_data res flags fd big_cqe
    struct_fields "$h" io_ring_ctx flags sq_data submitter_task sq_creds
    struct_fields "$h" io_uring_task task
    echo
done
