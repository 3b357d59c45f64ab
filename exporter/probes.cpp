#include "probes.h"

#include <array>

namespace iouring {
namespace {

using K = ProgKind;

// Prototypes per kernel are listed in tests/vm/KERNELS.md.
constexpr ProbeVariant kSubmit[] = {
    {"submit_req_btf", K::tp_btf, "io_uring_submit_req", 1},   // 6.3+
    {"submit_req_raw", K::raw_tp, "io_uring_submit_req", 1},
    {"submit_sqe_btf", K::tp_btf, "io_uring_submit_sqe", 2},   // 5.18 .. 6.2
    {"submit_sqe_raw", K::raw_tp, "io_uring_submit_sqe", 2},
};
constexpr ProbeVariant kComplete[] = {
    {"complete_cqe_btf", K::tp_btf, "io_uring_complete", 3},   // (ctx, req, cqe)
    {"complete_cqe_raw", K::raw_tp, "io_uring_complete", 3},
    {"complete_res_btf", K::tp_btf, "io_uring_complete", 7},   // (ctx, req, user_data, res, ...)
    {"complete_res_raw", K::raw_tp, "io_uring_complete", 7},
};
constexpr ProbeVariant kPunt[] = {
    {"punt_btf", K::tp_btf, "io_uring_queue_async_work", 2},
    {"punt_raw", K::raw_tp, "io_uring_queue_async_work", 2},
};
constexpr ProbeVariant kFailed[] = {
    {"failed_btf", K::tp_btf, "io_uring_req_failed", 3},
    {"failed_raw", K::raw_tp, "io_uring_req_failed", 3},
};
constexpr ProbeVariant kCreate[] = {
    {"create_btf", K::tp_btf, "io_uring_create", 5},
    {"create_raw", K::raw_tp, "io_uring_create", 5},
};
constexpr ProbeVariant kOverflow[] = {
    {"overflow_btf", K::tp_btf, "io_uring_cqe_overflow", 5},
    {"overflow_raw", K::raw_tp, "io_uring_cqe_overflow", 5},
};
constexpr ProbeVariant kShortWrite[] = {
    {"short_write_btf", K::tp_btf, "io_uring_short_write", 4},
    {"short_write_raw", K::raw_tp, "io_uring_short_write", 4},
};

constexpr ProbeSpec kProbes[] = {
    {"submit", "ops", kSubmit},
    {"complete", "ops", kComplete},
    {"async_punt", "ops", kPunt},
    {"req_failed", "ops", kFailed},
    {"create", "rings", kCreate},
    {"cqe_overflow", "rings", kOverflow},
    {"short_write", "rings", kShortWrite},
};

}  // namespace

std::string_view prog_kind_name(ProgKind kind) {
  switch (kind) {
    case K::tp_btf: return "tp_btf";
    case K::raw_tp: return "raw_tp";
    case K::tracepoint: return "tracepoint";
    case K::fentry: return "fentry";
    case K::fexit: return "fexit";
    case K::lsm: return "lsm";
  }
  return "unknown";
}

bool parse_prog_kind(std::string_view name, ProgKind& out) {
  for (ProgKind k : {K::tp_btf, K::raw_tp, K::tracepoint, K::fentry, K::fexit, K::lsm}) {
    if (prog_kind_name(k) == name) {
      out = k;
      return true;
    }
  }
  return false;
}

std::span<const ProbeSpec> probe_table() { return kProbes; }

}  // namespace iouring
