// Command-line configuration (flags follow the Prometheus exporter conventions).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pinning.h"

namespace iouring {

struct ListenAddress {
  std::string host;  // "" = all addresses
  int port = 0;
};

struct Config {
  std::string listen_address = ":9773";
  ListenAddress listen;                 // parsed listen_address
  std::string telemetry_path = "/metrics";
  std::string log_level = "info";
  std::map<std::string, bool> collectors = {{"ops", true}, {"rings", true}, {"security", true}, {"posture", true}};
  bool ops_latency = true;
  uint32_t inflight_entries = 65536;
  std::string btf_path;                          // "" = the running kernel's /sys/kernel/btf/vmlinux
  std::vector<std::string> disabled_prog_types;  // e.g. tp_btf: force the raw_tp variants
  int max_requests = 8;
  std::string attribution = "pod";                // none, cgroup, container, pod
  uint32_t attribution_max_cgroups = 1024;
  std::string attribution_unknown = "cgroup";     // cgroup: label non-pod cgroups by path; none
  std::string cgroup_root;                        // "" = the cgroup2 mount from mountinfo
  std::string web_config_file;  // --web.config.file: TLS, basic auth, headers ("" = none)
  std::string bpf_pin_path;  // "" = nothing pinned (--bpf.pin: kDefaultPinPath)
  bool bpf_uninstall = false;       // remove the pins and exit
  uint64_t keep_capabilities = 0;   // bit mask kept after start-up (--runtime.keep-capabilities)
};

enum class ParseStatus { run, exit_success, exit_failure };

struct ParseResult {
  ParseStatus status;
  std::string message;  // help/version text, or a one-line error plus usage
};

ParseResult parse_config(int argc, const char* const* argv, Config& out);

// "host:port", ":port" or "[v6]:port". Returns false with a one-line reason.
bool parse_listen_address(const std::string& text, ListenAddress& out, std::string& why);

}  // namespace iouring
