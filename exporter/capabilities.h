// Process capabilities, read from /proc/self/status (no libcap needed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iouring {

struct CapabilitySets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t bounding = 0;
};

inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapPerfmon = 38;
inline constexpr int kCapBpf = 39;

// Parses the CapEff/CapPrm/CapBnd lines of a /proc/<pid>/status text.
std::optional<CapabilitySets> parse_proc_status_caps(std::string_view status_text);
std::optional<CapabilitySets> read_process_caps(const std::string& status_path = "/proc/self/status");

// Empty when the effective set can load and attach tracing BPF programs, else a one-line error.
std::string missing_bpf_capabilities(const CapabilitySets& caps);

}  // namespace iouring
