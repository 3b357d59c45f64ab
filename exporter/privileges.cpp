#include "privileges.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace iouring {
namespace {

// Index = capability number (include/uapi/linux/capability.h).
constexpr std::string_view kCapNames[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kCapSetpcap = 8;
constexpr int kMaxCap = 63;  // the masks are 64 bits wide

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// Highest capability the running kernel knows (the bounding set has one bit per capability).
int last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = -1;
  if (in >> n && n >= 0 && n <= kMaxCap) return n;
  return static_cast<int>(std::size(kCapNames)) - 1;
}

int thread_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

bool has(uint64_t mask, int cap) { return cap >= 0 && cap <= kMaxCap && ((mask >> cap) & 1); }

std::string errno_text(int err) {
  return std::string(strerrorname_np(err) ? strerrorname_np(err) : "E?") + " (" +
         std::strerror(err) + ")";
}

}  // namespace

std::optional<int> capability_from_name(std::string_view name) {
  std::string n = upper(name);
  if (n.rfind("CAP_", 0) != 0) n = "CAP_" + n;
  for (size_t i = 0; i < std::size(kCapNames); ++i)
    if (kCapNames[i] == n) return static_cast<int>(i);
  return std::nullopt;
}

std::string capability_name(int cap) {
  if (cap >= 0 && static_cast<size_t>(cap) < std::size(kCapNames))
    return std::string(kCapNames[cap]);
  return "CAP_" + std::to_string(cap);
}

bool parse_capability_list(const std::vector<std::string>& names, uint64_t& mask,
                           std::string& why) {
  mask = 0;
  for (const std::string& name : names) {
    if (name.empty() || upper(name) == "NONE") continue;
    auto cap = capability_from_name(name);
    if (!cap) {
      why = "unknown capability '" + name + "' (use names such as CAP_AUDIT_CONTROL, see "
            "capabilities(7))";
      return false;
    }
    mask |= uint64_t{1} << *cap;
  }
  return true;
}

std::string capability_list(uint64_t mask) {
  std::string out;
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (!has(mask, cap)) continue;
    if (!out.empty()) out += ',';
    out += capability_name(cap);
  }
  return out.empty() ? "none" : out;
}

bool drop_privileges(uint64_t keep, PrivilegeDropReport& report, std::string& error) {
  report = {};
  if (int n = thread_count(); n != 1) {
    error = n < 0 ? "cannot count threads in /proc/self/task: is /proc mounted?"
                  : "cannot drop capabilities: " + std::to_string(n) +
                        " threads already run (capabilities are per thread; drop them first)";
    return false;
  }
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) {
    error = "capget failed: " + errno_text(errno);
    return false;
  }
  const uint64_t permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  const uint64_t effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  report.not_held = keep & ~permitted;
  keep &= permitted;

  // The bounding set first: dropping from it needs CAP_SETPCAP in the effective set.
  const int last = last_cap();
  if (has(effective, kCapSetpcap)) {
    report.bounding_cleared = true;
    for (int cap = 0; cap <= last; ++cap) {
      if (has(keep, cap)) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
        error = "cannot drop " + capability_name(cap) + " from the bounding set: " +
                errno_text(errno);
        return false;
      }
    }
  }
  // Ambient capabilities survive execve; none are wanted.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    error = "cannot clear the ambient capability set: " + errno_text(errno);
    return false;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    error = "cannot set no_new_privs: " + errno_text(errno);
    return false;
  }
  __user_cap_data_struct next[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    next[i].effective = static_cast<uint32_t>(keep >> (32 * i));
    next[i].permitted = static_cast<uint32_t>(keep >> (32 * i));
    next[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, next) != 0) {
    error = "capset failed: " + errno_text(errno);
    return false;
  }
  // Read back: the kernel must agree that only `keep` is left.
  __user_cap_data_struct check[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, check) != 0) {
    error = "capget failed: " + errno_text(errno);
    return false;
  }
  const uint64_t now_eff = check[0].effective | (uint64_t{check[1].effective} << 32);
  const uint64_t now_prm = check[0].permitted | (uint64_t{check[1].permitted} << 32);
  const uint64_t now_inh = check[0].inheritable | (uint64_t{check[1].inheritable} << 32);
  if (now_eff != keep || now_prm != keep || now_inh != 0) {
    error = "capabilities still held after capset: effective " + capability_list(now_eff);
    return false;
  }
  report.kept = keep;
  return true;
}

}  // namespace iouring
