// libFuzzer target for iouring::parse_cgroup_path.
// Invariants: no crash / UB; a result's ids are empty or canonical; the
// result only claims a pod when it has a pod uid; parsing is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exporter/cgroup_path.h"

namespace {

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_canonical_uid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_lower_hex(s[i])) return false;
  }
  return true;
}

bool is_container_id(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using Runtime = iouring::WorkloadIdentity::Runtime;
  // Copy so ASan catches reads past the end of the input.
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto first = iouring::parse_cgroup_path(input);
  check(first == iouring::parse_cgroup_path(input));
  if (!first) return 0;

  check(first->pod_uid.empty() || is_canonical_uid(first->pod_uid));
  check(first->container_id.empty() || is_container_id(first->container_id));
  check(first->is_kubepods == !first->pod_uid.empty());
  if (first->is_kubepods) {
    check(first->qos == "guaranteed" || first->qos == "burstable" || first->qos == "besteffort");
  } else {
    check(first->qos.empty() && first->runtime == Runtime::docker && !first->container_id.empty());
  }
  check(iouring::runtime_name(first->runtime) != "unknown" || first->runtime == Runtime::unknown);
  check(size <= iouring::kMaxCgroupPathLength);
  return 0;
}
