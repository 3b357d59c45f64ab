// The node's io_uring security posture: sysctls, active LSMs, audit, kernel release.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iouring {

struct Posture {
  std::optional<int> io_uring_disabled;        // kernel.io_uring_disabled (absent before 6.6)
  std::optional<long> io_uring_group;          // kernel.io_uring_group
  std::optional<std::vector<std::string>> lsms;  // /sys/kernel/security/lsm
  std::optional<bool> audit_enabled;           // AUDIT_GET over netlink
  std::string kernel_release;
};

struct PosturePaths {
  std::string proc_sys_kernel = "/proc/sys/kernel";
  std::string lsm_list = "/sys/kernel/security/lsm";
};

Posture read_posture(const PosturePaths& paths = {});

// Parsers for what the kernel writes (exposed for tests and fuzzing).
std::optional<long> parse_sysctl_long(std::string_view text);
// Comma-separated LSM names; each must be [a-z0-9_]{1,32}, at most 16 of them.
std::optional<std::vector<std::string>> parse_lsm_list(std::string_view text);
// Reads audit_status.enabled through NETLINK_AUDIT (needs CAP_AUDIT_CONTROL); nullopt if it
// cannot be asked, false when the kernel has no audit support.
std::optional<bool> query_audit_enabled();

}  // namespace iouring
