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
    "readv_fixed",  "writev_fixed",   "pipe",            "nop128",
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

}  // namespace

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
