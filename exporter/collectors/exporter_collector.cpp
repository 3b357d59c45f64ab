#include "collectors/exporter_collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <string>

#include "build_info.h"
#include "metric_families.h"

namespace iouring {

bool ExporterCollector::collect(std::vector<prometheus::MetricFamily>& out) {
  auto build = gauge_family("io_uring_exporter_build_info",
                            "Build of the exporter; the value is always 1.");
  add_gauge(build,
            {{"version", kVersion},
             {"revision", kRevision},
             {"libbpf_version", std::to_string(libbpf_major_version()) + "." +
                                    std::to_string(libbpf_minor_version())}},
            1);
  out.push_back(std::move(build));

  auto attached = gauge_family(
      "io_uring_exporter_probe_attached",
      "1 if the probe's BPF program is attached, else 0; state says why not "
      "(missing: not in this kernel, refused: denied by the kernel, failed, disabled).");
  auto misses = counter_family(
      "io_uring_exporter_bpf_recursion_misses_total",
      "Events a probe's BPF program skipped because it was already running on that CPU.");
  bool ok = true;
  for (const ProbeStatus& p : probes_) {
    std::string program = p.variant ? std::string(prog_kind_name(p.variant->kind)) + "/" +
                                          std::string(p.variant->target)
                                    : std::string();
    add_gauge(attached,
              {{"probe", std::string(p.spec->name)},
               {"program", program},
               {"state", std::string(probe_state_name(p.state))}},
              p.state == ProbeState::attached ? 1 : 0);
    if (p.prog_fd >= 0) {
      struct bpf_prog_info info = {};
      __u32 len = sizeof(info);
      if (bpf_obj_get_info_by_fd(p.prog_fd, &info, &len) == 0)
        add_counter(misses, {{"probe", std::string(p.spec->name)}}, info.recursion_misses);
      else
        ok = false;
    }
  }
  out.push_back(std::move(attached));
  out.push_back(std::move(misses));

  auto errors = counter_family("io_uring_exporter_map_read_errors_total",
                               "Failed reads of a BPF map at scrape time, by map.");
  for (size_t i = 0; i < static_cast<size_t>(MapId::kCount); ++i) {
    auto id = static_cast<MapId>(i);
    add_counter(errors, {{"map", std::string(map_name(id))}}, maps_.read_errors(id));
  }
  out.push_back(std::move(errors));
  return ok;
}

}  // namespace iouring
