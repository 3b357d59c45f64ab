// Parses a cgroup path into Kubernetes / container workload identity,
// following the kubelet's cgroup naming for the systemd and cgroupfs
// drivers (cgroup v2, and cgroup v1 / hybrid controller hierarchies).
//
// The input is untrusted: unprivileged users and containers can create
// cgroups with arbitrary names in delegated subtrees. The parser is bounded
// (kMaxCgroupPathLength), never trusts length or charset, and only copies
// fully validated ids into the result. When several candidates appear on one
// path the outermost (leftmost) wins, so names created below a container
// cannot re-label it. A fake hierarchy created in a delegated subtree that
// contains no real pod (e.g. under user.slice) is still parsed, because the
// prefix is not checked; callers that need provenance must check it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace iouring {

struct WorkloadIdentity {
  enum class Runtime { unknown, containerd, crio, docker };

  Runtime runtime = Runtime::unknown;  // unknown for cgroupfs bare ids / pod-level
  std::string pod_uid;       // "" or canonical 8-4-4-4-12, lower-case hex
  std::string container_id;  // "" or exactly 64 lower-case hex
  std::string qos;           // "guaranteed" | "burstable" | "besteffort" | ""
  bool is_kubepods = false;  // true iff a kubelet pod cgroup was identified

  bool operator==(const WorkloadIdentity&) const = default;
};

// Longer inputs are rejected without being scanned.
inline constexpr std::size_t kMaxCgroupPathLength = 4096;

// Returns the identity for a pod-level or container-level cgroup, or nullopt
// when the path is not one (e.g. "/", "/user.slice/...", a QoS slice) or is
// malformed. Accepts any mount/nesting prefix and a trailing '/'.
std::optional<WorkloadIdentity> parse_cgroup_path(std::string_view path);

// "unknown", "containerd", "crio" or "docker".
std::string_view runtime_name(WorkloadIdentity::Runtime runtime) noexcept;

}  // namespace iouring
