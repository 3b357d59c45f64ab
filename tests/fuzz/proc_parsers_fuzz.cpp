// libFuzzer target for everything the exporter parses from /proc, /sys and its command line:
// sysctl values, the LSM list, mountinfo, /proc/<pid>/status capabilities, listen addresses
// and whole argument vectors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "capabilities.h"
#include "cgroup_resolver.h"
#include "config.h"
#include "posture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto v = iouring::parse_lsm_list(text)) {
    if (v->size() > 16) std::abort();
    for (const auto& name : *v)
      if (name.empty() || name.size() > 32) std::abort();
  }
  (void)iouring::parse_sysctl_long(text);
  if (auto m = iouring::find_cgroup2_mount(text))
    if (m->empty() || m->front() != '/') std::abort();
  (void)iouring::parse_proc_status_caps(text);

  iouring::ListenAddress addr;
  std::string why;
  if (iouring::parse_listen_address(std::string(text), addr, why)) {
    if (addr.port < 1 || addr.port > 65535) std::abort();
  } else if (why.empty()) {
    std::abort();
  }

  // Argument vectors: NUL-separated words. Any outcome but a crash or an escaped exception.
  std::vector<std::string> words = {"io_uring_exporter"};
  std::string cur;
  for (char c : text) {
    if (c == '\0') {
      words.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  words.push_back(cur);
  if (words.size() > 64) return 0;
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  iouring::Config cfg;
  auto r = iouring::parse_config(static_cast<int>(argv.size()), argv.data(), cfg);
  if (r.status == iouring::ParseStatus::run && (cfg.listen.port < 1 || cfg.listen.port > 65535))
    std::abort();
  return 0;
}
