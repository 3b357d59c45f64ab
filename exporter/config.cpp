#include "config.h"

#include <CLI/CLI.hpp>

#include <charconv>

#include "build_info.h"
#include "privileges.h"

namespace iouring {

bool parse_listen_address(const std::string& text, ListenAddress& out, std::string& why) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    why = "missing ':port' (use host:port, :port or [v6addr]:port)";
    return false;
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      why = "bad IPv6 address, use [addr]:port";
      return false;
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    why = "IPv6 addresses need brackets: [addr]:port";
    return false;
  }
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    why = "port must be a number from 1 to 65535";
    return false;
  }
  out.host = host;
  out.port = value;
  return true;
}

ParseResult parse_config(int argc, const char* const* argv, Config& out) {
  CLI::App app{"io_uring_exporter: Prometheus metrics for Linux io_uring, aggregated in the kernel "
               "by eBPF.",
               "io_uring_exporter"};
  app.set_version_flag("--version", std::string("io_uring_exporter ") + kVersion + " (" +
                                        kRevision + ")");
  app.add_option("--web.listen-address", out.listen_address,
                 "Address to serve metrics on: host:port, :port or [v6addr]:port")
      ->capture_default_str();
  app.add_option("--web.telemetry-path", out.telemetry_path, "Path under which metrics are served")
      ->capture_default_str();
  app.add_option("--web.config.file", out.web_config_file,
                 "Web config (TLS, client certificates, basic auth, response headers) in the "
                 "Prometheus exporter-toolkit format (as node_exporter's --web.config.file)");
  app.add_option("--web.max-requests", out.max_requests,
                 "Maximum number of scrapes rendered at once; more get 503 at once (not queued)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--log.level", out.log_level, "Log level: debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  for (auto& [name, enabled] : out.collectors) {
    app.add_flag("--collector." + name + ",!--no-collector." + name, enabled,
                 "Enable the " + name + " collector (default: enabled)");
  }
  app.add_flag("--collector.ops.latency,!--no-collector.ops.latency", out.ops_latency,
               "Track submit-to-complete latency per opcode (default: enabled)");
  app.add_option("--bpf.inflight-entries", out.inflight_entries,
                 "Entries of the in-flight request table used for latency and attribution "
                 "(rounded up to a power of two; 32 bytes each)")
      ->check(CLI::Range(1u, 1u << 24))
      ->capture_default_str();

  app.add_option("--bpf.btf-path", out.btf_path,
                 "Kernel BTF to use instead of /sys/kernel/btf/vmlinux (e.g. from BTFHub)");
  app.add_option("--bpf.disable-program-type", out.disabled_prog_types,
                 "Never use BPF programs of this type; the next variant is used (repeatable)")
      ->check(CLI::IsMember({"tp_btf", "raw_tp", "tracepoint", "fentry", "fexit", "lsm"}));

  app.add_option("--attribution.granularity", out.attribution,
                 "Per-workload metrics by: pod, container, cgroup, or none (no per-workload work "
                 "in the kernel)")
      ->check(CLI::IsMember({"none", "cgroup", "container", "pod"}))
      ->capture_default_str();
  app.add_option("--attribution.max-cgroups", out.attribution_max_cgroups,
                 "Budget: cgroups tracked individually; the rest share cgroup=\"_overflow\"")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--attribution.unknown-cgroups", out.attribution_unknown,
                 "Non-Kubernetes cgroups: keep their path as the cgroup label, or none")
      ->check(CLI::IsMember({"cgroup", "none"}))
      ->capture_default_str();
  app.add_option("--attribution.cgroup-root", out.cgroup_root,
                 "cgroup v2 mount (default: found in /proc/self/mountinfo)");

  bool pin = false, no_pin = false;
  app.add_option("--bpf.pin-path", out.bpf_pin_path,
                 "bpffs directory where the BPF maps and links are pinned, so counters continue "
                 "and programs stay attached across restarts (\"\" = do not pin)")
      ->expected(0, 1);  // --bpf.pin-path= is an empty value (no default_str: CLI11 would use it)
  app.add_flag("--bpf.pin", pin,
               std::string("Pin the BPF state under --bpf.pin-path, default ") + kDefaultPinPath +
                   " (default: off; the DaemonSet turns it on). Pinned programs stay attached "
                   "after the exporter exits: remove them with --bpf.uninstall");
  app.add_flag("--no-bpf.pin", no_pin, "Do not pin (overrides --bpf.pin and --bpf.pin-path)");
  app.add_flag("--bpf.uninstall", out.bpf_uninstall,
               "Remove everything pinned under --bpf.pin-path (detaching the programs once no "
               "exporter runs) and exit");
  std::vector<std::string> keep_caps;
  app.add_option("--runtime.keep-capabilities", keep_caps,
                 "Capabilities kept after start-up, comma-separated (default: none; e.g. "
                 "CAP_AUDIT_CONTROL to read the audit status at every scrape)")
      ->delimiter(',');

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {ParseStatus::exit_success, app.help()};
  } catch (const CLI::CallForVersion& e) {
    return {ParseStatus::exit_success, e.what()};
  } catch (const CLI::ParseError& e) {
    return {ParseStatus::exit_failure, std::string("error: ") + e.what() + "\n\n" + app.help()};
  }
  std::string why;
  if (!parse_listen_address(out.listen_address, out.listen, why))
    return {ParseStatus::exit_failure,
            "error: --web.listen-address=" + out.listen_address + ": " + why};
  if (out.telemetry_path.empty() || out.telemetry_path.front() != '/' || out.telemetry_path == "/")
    return {ParseStatus::exit_failure,
            "error: --web.telemetry-path must start with '/' and not be '/' (e.g. /metrics)"};
  if ((pin || out.bpf_uninstall) && app.count("--bpf.pin-path") == 0)
    out.bpf_pin_path = kDefaultPinPath;
  if (no_pin) out.bpf_pin_path.clear();
  if (out.bpf_uninstall && out.bpf_pin_path.empty())
    return {ParseStatus::exit_failure, "error: --bpf.uninstall needs a --bpf.pin-path"};
  if (!parse_capability_list(keep_caps, out.keep_capabilities, why))
    return {ParseStatus::exit_failure, "error: --runtime.keep-capabilities: " + why};
  return {ParseStatus::run, {}};
}

}  // namespace iouring
