// Least privilege after start-up: once the BPF programs are loaded, attached and pinned, the
// HTTP port is bound and the start-up-only reads are done, every capability is dropped (all five
// sets) but those named by --runtime.keep-capabilities, and no_new_privs is set.
//
// What keeps working without any capability (measured on 6.18, see the hardening test):
//  - reading and updating BPF maps through the fds opened at start-up (map lookups, batch reads,
//    deletes of stale workloads, the posture map write): the kernel checks the fd's mode only;
//  - bpf_obj_get_info_by_fd on program fds (recursion_misses is filled for everyone);
//  - /proc/sys/kernel/io_uring_*, /sys/kernel/security/lsm and the cgroup2 walk: world-readable.
// What does not: AUDIT_GET over NETLINK_AUDIT needs CAP_AUDIT_CONTROL, so the audit gauge is the
// value read at start-up unless CAP_AUDIT_CONTROL is kept (then it is read at every scrape).
//
// Capabilities are per thread: call drop_privileges() before any other thread is started.
//
// Needed to START (measured on 6.18 with the bounding set cut down by capsh):
//  - uid 0: CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN alone, as before 5.8); every probe the
//    root exporter attaches attaches, pins are created and reused. CAP_SYS_RESOURCE only on
//    kernels before 5.11 (BPF memory charged to RLIMIT_MEMLOCK instead of the memory cgroup).
//  - a non-root uid (ambient capabilities): also CAP_DAC_READ_SEARCH, else the syscall
//    tracepoints (tracefs is mode 0700) are missing; and a writable --bpf.pin-path.
//  - optional: CAP_SETPCAP to empty the bounding set too (else it is left as it was, harmless
//    under no_new_privs); CAP_AUDIT_CONTROL for the audit gauge (once, or kept: every scrape);
//    CAP_NET_BIND_SERVICE for a port below 1024 (bound before the drop, so not kept).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iouring {

inline constexpr int kCapAuditControl = 30;

// "CAP_BPF" (any case; the CAP_ prefix is optional) -> 39; nullopt for unknown names.
std::optional<int> capability_from_name(std::string_view name);
// 39 -> "CAP_BPF"; "CAP_<n>" for numbers this build has no name for.
std::string capability_name(int cap);
// Names -> bit mask. false and a one-line reason naming the bad entry.
bool parse_capability_list(const std::vector<std::string>& names, uint64_t& mask,
                           std::string& why);
// "CAP_BPF,CAP_PERFMON", or "none".
std::string capability_list(uint64_t mask);

struct PrivilegeDropReport {
  uint64_t kept = 0;                // capabilities still effective and permitted
  uint64_t not_held = 0;            // asked to keep but not permitted at start
  bool bounding_cleared = false;    // false without CAP_SETPCAP: bounding set left as it was
};

// Drops every capability of the calling thread except `keep` from the effective, permitted and
// inheritable sets, clears the ambient set, drops the rest of the bounding set (when
// CAP_SETPCAP allows it) and sets PR_SET_NO_NEW_PRIVS. Fails when other threads already run
// (they would keep their capabilities). false and a one-line error on failure.
bool drop_privileges(uint64_t keep, PrivilegeDropReport& report, std::string& error);

}  // namespace iouring
