#include "capabilities.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace iouring {
namespace {

bool parse_hex_field(std::string_view text, std::string_view key, uint64_t& out) {
  size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string_view::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      std::string_view rest = text.substr(pos + key.size());
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      size_t end = rest.find('\n');
      std::string_view value = rest.substr(0, end);
      if (value.empty() || value.size() > 16) return false;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), out, 16);
      return ec == std::errc() && p == value.data() + value.size();
    }
    pos += key.size();
  }
  return false;
}

bool has(uint64_t set, int cap) { return (set >> cap) & 1; }

}  // namespace

std::optional<CapabilitySets> parse_proc_status_caps(std::string_view text) {
  CapabilitySets c;
  if (!parse_hex_field(text, "CapEff:", c.effective) ||
      !parse_hex_field(text, "CapPrm:", c.permitted) ||
      !parse_hex_field(text, "CapBnd:", c.bounding))
    return std::nullopt;
  return c;
}

std::optional<CapabilitySets> read_process_caps(const std::string& status_path) {
  std::ifstream in(status_path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_proc_status_caps(ss.str());
}

std::string missing_bpf_capabilities(const CapabilitySets& caps) {
  if (has(caps.effective, kCapSysAdmin)) return {};
  if (has(caps.effective, kCapBpf) && has(caps.effective, kCapPerfmon)) return {};
  std::string missing;
  if (!has(caps.effective, kCapBpf)) missing += "CAP_BPF";
  if (!has(caps.effective, kCapPerfmon)) missing += missing.empty() ? "CAP_PERFMON" : ", CAP_PERFMON";
  return "missing capabilities " + missing +
         ": run as root, or grant CAP_BPF and CAP_PERFMON (kernel 5.8+; else CAP_SYS_ADMIN)";
}

}  // namespace iouring
