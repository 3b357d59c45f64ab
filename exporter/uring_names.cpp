#include "uring_names.h"

#include <array>

#include "bpf/abi.h"

namespace iouring {
namespace {

// IORING_OP_* in uapi order (include/uapi/linux/io_uring.h of the newest kernel).
constexpr std::array<std::string_view, 65> kOpcodes = {
    "nop",          "readv",          "writev",          "fsync",
    "read_fixed",   "write_fixed",    "poll_add",        "poll_remove",
    "sync_file_range", "sendmsg",     "recvmsg",         "timeout",
    "timeout_remove", "accept",       "async_cancel",    "link_timeout",
    "connect",      "fallocate",      "openat",          "close",
    "files_update", "statx",          "read",            "write",
    "fadvise",      "madvise",        "send",            "recv",
    "openat2",      "epoll_ctl",      "splice",          "provide_buffers",
    "remove_buffers", "tee",          "shutdown",        "renameat",
    "unlinkat",     "mkdirat",        "symlinkat",       "linkat",
    "msg_ring",     "fsetxattr",      "setxattr",        "fgetxattr",
    "getxattr",     "socket",         "uring_cmd",       "send_zc",
    "sendmsg_zc",   "read_multishot", "waitid",          "futex_wait",
    "futex_wake",   "futex_waitv",    "fixed_fd_install", "ftruncate",
    "bind",         "listen",         "recv_zc",         "epoll_wait",
    "readv_fixed",  "writev_fixed",   "pipe",            "nop128",      // 7.x
    "uring_cmd128",
};
static_assert(kOpcodes.size() < IOU_OP_UNKNOWN, "opcode table must fit below the unknown slot");

// IORING_SETUP_* bit names.
constexpr std::array<std::string_view, 20> kSetupFlags = {
    "iopoll",        "sqpoll",         "sq_aff",         "cqsize",
    "clamp",         "attach_wq",      "r_disabled",     "submit_all",
    "coop_taskrun",  "taskrun_flag",   "sqe128",         "cqe32",
    "single_issuer", "defer_taskrun",  "no_mmap",        "registered_fd_only",
    "no_sqarray",    "hybrid_iopoll",  "cqe_mixed",      "sqe_mixed",
};

constexpr std::array<std::string_view, IOU_RES_COUNT> kResults = {
#define IOU_X(name, err, label) label,
    IOU_RESULTS(IOU_X)
#undef IOU_X
};

// IORING_REGISTER_* in uapi order.
constexpr std::array<std::string_view, 36> kRegisterOps = {
    "register_buffers",        "unregister_buffers",     "register_files",
    "unregister_files",        "register_eventfd",       "unregister_eventfd",
    "register_files_update",   "register_eventfd_async", "register_probe",
    "register_personality",    "unregister_personality", "register_restrictions",
    "register_enable_rings",   "register_files2",        "register_files_update2",
    "register_buffers2",       "register_buffers_update", "register_iowq_aff",
    "unregister_iowq_aff",     "register_iowq_max_workers", "register_ring_fds",
    "unregister_ring_fds",     "register_pbuf_ring",     "unregister_pbuf_ring",
    "register_sync_cancel",    "register_file_alloc_range", "register_pbuf_status",
    "register_napi",           "unregister_napi",        "register_clock",
    "register_clone_buffers",  "register_send_msg_ring", "register_zcrx_ifq",
    "register_resize_rings",   "register_mem_region",    "register_query",
};
static_assert(kRegisterOps.size() < IOU_REG_UNKNOWN);

constexpr std::array<std::string_view, IOU_HOOK_COUNT> kHooks = {
#define IOU_X(name, label) label,
    IOU_HOOKS(IOU_X)
#undef IOU_X
};
constexpr std::array<std::string_view, IOU_SETUP_REASON_COUNT> kSetupReasons = {
#define IOU_X(name, label) label,
    IOU_SETUP_REASONS(IOU_X)
#undef IOU_X
};
constexpr std::array<std::string_view, IOU_CMD_OP_COUNT> kCmdOps = {
#define IOU_X(name, op, label) label,
    IOU_CMD_OPS(IOU_X)
#undef IOU_X
};
constexpr std::array<std::string_view, IOU_CMD_TARGET_COUNT> kCmdTargets = {
#define IOU_X(name, label) label,
    IOU_CMD_TARGETS(IOU_X)
#undef IOU_X
};

template <size_t N>
std::string_view at_or(const std::array<std::string_view, N>& a, uint32_t i, std::string_view dflt) {
  return i < N ? a[i] : dflt;
}

}  // namespace

std::string_view register_opcode_name(uint32_t slot) { return at_or(kRegisterOps, slot, "unknown"); }
int register_opcode_slot(std::string_view name) {
  for (size_t i = 0; i < kRegisterOps.size(); ++i)
    if (kRegisterOps[i] == name) return static_cast<int>(i);
  return -1;
}
std::string_view hook_name(uint32_t hook) { return at_or(kHooks, hook, "unknown"); }
std::string_view setup_reason_name(uint32_t r) { return at_or(kSetupReasons, r, "other"); }
std::string_view cmd_op_name(uint32_t slot) { return at_or(kCmdOps, slot, "other"); }
std::string_view cmd_target_name(uint32_t t) { return at_or(kCmdTargets, t, "other"); }

std::string_view opcode_name(uint32_t slot) {
  return slot < kOpcodes.size() ? kOpcodes[slot] : std::string_view("unknown");
}

uint32_t named_opcode_count() { return kOpcodes.size(); }

int opcode_slot(std::string_view name) {
  for (size_t i = 0; i < kOpcodes.size(); ++i)
    if (kOpcodes[i] == name) return static_cast<int>(i);
  return name == "unknown" ? IOU_OP_UNKNOWN : -1;
}

std::string_view setup_flag_name(uint32_t bit) {
  return bit < kSetupFlags.size() ? kSetupFlags[bit] : std::string_view();
}

std::string_view result_name(uint32_t result_class) {
  return result_class < kResults.size() ? kResults[result_class] : std::string_view("other");
}

bool result_is_denial(uint32_t result_class) {
  return result_class == IOU_RES_EPERM || result_class == IOU_RES_EACCES;
}

}  // namespace iouring
