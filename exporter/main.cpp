// io_uring_exporter: loads the BPF programs, then serves their maps as Prometheus metrics.
#include <sys/utsname.h>

#include <csignal>
#include <fstream>
#include <cstdio>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "build_info.h"
#include "capabilities.h"
#include "collectors/exporter_collector.h"
#include "collectors/ops_collector.h"
#include "collectors/posture_collector.h"
#include "collectors/security_collector.h"
#include "collectors/workload_collector.h"
#include "cgroup_resolver.h"
#include "collectors/rings_collector.h"
#include "config.h"
#include "http_server.h"
#include "kernel_btf.h"
#include "loader.h"
#include "logging.h"
#include "map_source.h"
#include "pinning.h"
#include "posture.h"
#include "privileges.h"
#include "scraper.h"
#include "web_config.h"

using namespace iouring;

namespace {

// Before 5.19, with kernel.unprivileged_bpf_disabled set (the distribution default), every bpf()
// command, map lookups included, needs CAP_BPF (5.8+) or CAP_SYS_ADMIN: the capability that
// scrapes then need, or -1 when none is.
int capability_needed_for_map_reads() {
  utsname u{};
  int major = 0, minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return -1;
  if (major > 5 || (major == 5 && minor >= 19)) return -1;
  std::ifstream in("/proc/sys/kernel/unprivileged_bpf_disabled");
  int disabled = 1;
  if (in) in >> disabled;
  if (disabled == 0) return -1;
  return (major == 5 && minor >= 8) ? kCapBpf : kCapSysAdmin;
}

int fail(const std::string& message) {
  spdlog::error("{}", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  ParseResult parsed = parse_config(argc, argv, cfg);
  if (parsed.status != ParseStatus::run) {
    std::fputs(parsed.message.c_str(), parsed.status == ParseStatus::exit_success ? stdout : stderr);
    std::fputc('\n', parsed.status == ParseStatus::exit_success ? stdout : stderr);
    return parsed.status == ParseStatus::exit_success ? 0 : 2;
  }
  setup_logging(cfg.log_level);
  spdlog::info("io_uring_exporter {} ({}) starting", kVersion, kRevision);
  if (cfg.bpf_uninstall) {
    std::string message;
    bool ok = uninstall_pins(cfg.bpf_pin_path, message);
    if (!ok) return fail(message);
    spdlog::info("{}", message);
    return 0;
  }

  // The web config is checked first (certificates, keys, hashes): a bad one fails fast.
  WebConfig web;
  if (!cfg.web_config_file.empty()) {
    std::string web_error;
    if (!load_web_config(cfg.web_config_file, web, web_error)) return fail(web_error);
    for (const std::string& warning : web.warnings) spdlog::warn("{}", warning);
  }

  auto caps = read_process_caps();
  if (!caps) return fail("cannot read /proc/self/status: is /proc mounted?");
  if (std::string why = missing_bpf_capabilities(*caps); !why.empty()) return fail(why);

  std::string error;
  auto btf = KernelBtf::load(&error, cfg.btf_path.empty() ? nullptr : cfg.btf_path.c_str());
  if (!btf) return fail(error);

  LoaderOptions lopts;
  lopts.track_latency = cfg.ops_latency;
  lopts.inflight_entries = cfg.inflight_entries;
  lopts.btf_path = cfg.btf_path;
  lopts.pin_path = cfg.bpf_pin_path;
  WorkloadOptions wopts;
  parse_granularity(cfg.attribution, wopts.granularity);
  wopts.label_unknown_cgroups = cfg.attribution_unknown == "cgroup";
  wopts.latency = cfg.ops_latency;
  wopts.budget = cfg.attribution_max_cgroups;
  CgroupResolver resolver(cfg.cgroup_root);
  if (wopts.granularity != Granularity::none && !resolver.usable()) {
    spdlog::warn("no cgroup v2 hierarchy found (mount cgroup2, or pass --attribution.cgroup-root): "
                 "per-workload metrics disabled");
    wopts.granularity = Granularity::none;
  }
  cfg.collectors["workloads"] = wopts.granularity != Granularity::none;
  lopts.workload_budget = cfg.collectors["workloads"] ? cfg.attribution_max_cgroups : 0;
  for (const std::string& name : cfg.disabled_prog_types) {
    ProgKind kind;
    if (parse_prog_kind(name, kind)) lopts.disabled_kinds.push_back(kind);
  }
  lopts.collector_enabled = [&cfg](std::string_view name) {
    auto it = cfg.collectors.find(std::string(name));
    return it == cfg.collectors.end() || it->second;
  };
  auto loader = Loader::load(*btf, lopts, &error);
  if (!loader) return fail(error);
  btf.reset();

  BpfMapReader reader;
  for (size_t i = 0; i < static_cast<size_t>(MapId::kCount); ++i)
    reader.set_fd(static_cast<MapId>(i), loader->map_fd(static_cast<MapId>(i)));
  MapSource maps(reader);

  Scraper scraper;
  if (cfg.collectors["ops"])
    scraper.add(std::make_unique<OpsCollector>(maps, loader->latency_tracked()));
  if (cfg.collectors["rings"]) scraper.add(std::make_unique<RingsCollector>(maps));
  if (cfg.collectors["security"])
    scraper.add(std::make_unique<SecurityCollector>(
        maps, [&loader](std::string_view probe) { return loader->attached(probe); }));
  // AUDIT_GET needs CAP_AUDIT_CONTROL: unless it is kept, the audit gauge is the start-up value.
  const bool audit_live = (cfg.keep_capabilities >> kCapAuditControl) & 1;
  const std::optional<bool> audit_at_start =
      cfg.collectors["posture"] && !audit_live ? query_audit_enabled() : std::nullopt;
  if (cfg.collectors["posture"])
    scraper.add(std::make_unique<PostureCollector>([audit_live, audit_at_start] {
      Posture p = read_posture();
      if (!audit_live) p.audit_enabled = audit_at_start;
      return p;
    }));
  wopts.latency = loader->latency_tracked();
  if (cfg.collectors["workloads"])
    scraper.add(std::make_unique<WorkloadCollector>(maps, resolver, wopts));
  scraper.add(std::make_unique<ExporterCollector>(maps, loader->probes()));

  // Signals are taken by a dedicated wait below, never by the server threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  HttpServer server(cfg, [&scraper] { return scraper.render(); }, &web);
  if (!server.bind(error)) return fail(error);

  // Everything privileged is done (BPF loaded, attached and pinned, port bound): keep only the
  // capabilities asked for, before any other thread starts (capabilities are per thread).
  PrivilegeDropReport dropped;
  uint64_t keep = cfg.keep_capabilities;
  if (int cap = capability_needed_for_map_reads(); cap >= 0 && !((keep >> cap) & 1)) {
    keep |= uint64_t{1} << cap;
    spdlog::info("kernel before 5.19 with kernel.unprivileged_bpf_disabled set: keeping {} for "
                 "map reads", capability_list(uint64_t{1} << cap));
  }
  if (!drop_privileges(keep, dropped, error)) return fail(error);
  if (dropped.not_held)
    spdlog::warn("--runtime.keep-capabilities: {} not held at start, cannot be kept",
                 capability_list(dropped.not_held));
  spdlog::info("capabilities dropped (kept: {}{}), no_new_privs set",
               capability_list(dropped.kept),
               dropped.bounding_cleared ? "" : "; bounding set unchanged: no CAP_SETPCAP");

  // The setup refusal classifier reads kernel.io_uring_disabled from a map: keep it current.
  std::jthread posture_refresh([&loader](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      if (auto v = read_posture().io_uring_disabled) loader->write_posture(*v);
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
    }
  });

  if (!web.path.empty())
    spdlog::info("web config {}: TLS {}, basic auth {}, rate limit {}", web.path,
                 web.tls_enabled() ? "on" : "off",
                 web.auth_enabled() ? std::to_string(web.basic_auth_users.size()) + " user(s)"
                                    : std::string("off"),
                 web.rate_limited() ? "on" : "off");
  spdlog::info("serving {} on {} ({} of {} probes attached)", cfg.telemetry_path,
               cfg.listen_address, loader->attached_count(), loader->probes().size());

  std::thread http([&server] { server.serve(); });
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received signal {}, stopping", sig);
  server.stop();
  http.join();
  return 0;
}
