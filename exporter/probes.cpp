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
    {"submit_sqe_legacy_btf", K::tp_btf, "io_uring_submit_sqe", 7},  // 5.10 .. 5.17
    {"submit_sqe_legacy_raw", K::raw_tp, "io_uring_submit_sqe", 7},
};
constexpr ProbeVariant kComplete[] = {
    {"complete_cqe_btf", K::tp_btf, "io_uring_complete", 3},   // (ctx, req, cqe)
    {"complete_cqe_raw", K::raw_tp, "io_uring_complete", 3},
    {"complete_res_btf", K::tp_btf, "io_uring_complete", 7},   // (ctx, req, user_data, res, ...)
    {"complete_res_raw", K::raw_tp, "io_uring_complete", 7},
    {"complete_legacy_btf", K::tp_btf, "io_uring_complete", 4},  // 5.10: no request pointer
};
constexpr ProbeVariant kPunt[] = {
    {"punt_btf", K::tp_btf, "io_uring_queue_async_work", 2},
    {"punt_raw", K::raw_tp, "io_uring_queue_async_work", 2},
    {"punt_legacy_btf", K::tp_btf, "io_uring_queue_async_work", 5},  // 5.10
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

// LSM hooks: fexit sees every LSM's verdict; the lsm/ program is the fallback (calls only).
#define IOU_HOOK_VARIANTS(var, fn, hook)                                    \
  constexpr ProbeVariant var[] = {{#fn "_exit", K::fexit, #fn, -1},          \
                                  {#hook "_lsm", K::lsm, #hook, -1}};       \
  constexpr ProbeVariant var##Latency[] = {{#fn "_enter", K::fentry, #fn, -1}};
IOU_HOOK_VARIANTS(kHookCreds, security_uring_override_creds, uring_override_creds)
IOU_HOOK_VARIANTS(kHookSqpoll, security_uring_sqpoll, uring_sqpoll)
IOU_HOOK_VARIANTS(kHookCmd, security_uring_cmd, uring_cmd)
IOU_HOOK_VARIANTS(kHookAllowed, security_uring_allowed, uring_allowed)
#undef IOU_HOOK_VARIANTS

constexpr ProbeVariant kAuditEntry[] = {{"audit_entry_exit", K::fexit, "__audit_uring_entry", -1}};
constexpr ProbeVariant kAuditEntryLatency[] = {
    {"audit_entry_enter", K::fentry, "__audit_uring_entry", -1}};
constexpr ProbeVariant kAuditExit[] = {{"audit_exit_exit", K::fexit, "__audit_uring_exit", -1}};
constexpr ProbeVariant kAuditExitLatency[] = {
    {"audit_exit_enter", K::fentry, "__audit_uring_exit", -1}};

constexpr ProbeVariant kSetupExit[] = {
    {"setup_exit", K::tracepoint, "syscalls/sys_exit_io_uring_setup", -1}};
constexpr ProbeVariant kRegisterEnter[] = {
    {"register_enter", K::tracepoint, "syscalls/sys_enter_io_uring_register", -1}};
constexpr ProbeVariant kRegisterExit[] = {
    {"register_exit", K::tracepoint, "syscalls/sys_exit_io_uring_register", -1}};

constexpr ProbeVariant kWorkloadCreate[] = {
    {"create_workload_btf", K::tp_btf, "io_uring_create", 5},
    {"create_workload_raw", K::raw_tp, "io_uring_create", 5},
};

constexpr ProbeSpec kProbes[] = {
    {"submit", "ops", kSubmit},
    {"complete", "ops", kComplete},
    {"async_punt", "ops", kPunt},
    {"req_failed", "ops", kFailed},
    {"create", "rings", kCreate},
    {"cqe_overflow", "rings", kOverflow},
    {"short_write", "rings", kShortWrite},
    {"workload_create", "workloads", kWorkloadCreate},
    {"hook_override_creds", "security", kHookCreds},
    {"hook_override_creds_latency", "security", kHookCredsLatency},
    {"hook_sqpoll", "security", kHookSqpoll},
    {"hook_sqpoll_latency", "security", kHookSqpollLatency},
    {"hook_cmd", "security", kHookCmd},
    {"hook_cmd_latency", "security", kHookCmdLatency},
    {"hook_allowed", "security", kHookAllowed},
    {"hook_allowed_latency", "security", kHookAllowedLatency},
    {"audit_entry", "security", kAuditEntry},
    {"audit_entry_latency", "security", kAuditEntryLatency},
    {"audit_exit", "security", kAuditExit},
    {"audit_exit_latency", "security", kAuditExitLatency},
    {"setup_exit", "security", kSetupExit},
    {"register_enter", "security", kRegisterEnter},
    {"register_exit", "security", kRegisterExit},
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
