// Per-workload metrics: the kernel counts per cgroup; here cgroups become pods, containers or
// cgroup paths (kubelet naming, no Kubernetes API), within the configured series budget.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bpf/abi.h"
#include "cgroup_resolver.h"
#include "collectors/collector.h"
#include "map_source.h"

namespace iouring {

enum class Granularity { none, cgroup, container, pod };
bool parse_granularity(std::string_view text, Granularity& out);

struct WorkloadOptions {
  Granularity granularity = Granularity::pod;
  bool label_unknown_cgroups = true;  // non-Kubernetes cgroups keep their path as `cgroup`
  bool latency = true;
  uint32_t budget = 1024;
};

class WorkloadCollector final : public Collector {
 public:
  WorkloadCollector(MapSource& maps, CgroupResolver& resolver, WorkloadOptions opts)
      : maps_(maps), resolver_(resolver), opts_(opts) {}
  std::string_view name() const override { return "workloads"; }
  bool collect(std::vector<prometheus::MetricFamily>& out) override;

 private:
  using LabelValues = std::vector<std::string>;  // values for label_names()
  std::vector<std::string> label_names() const;
  LabelValues labels_for(uint64_t cgroup_id, const std::string* path) const;

  MapSource& maps_;
  CgroupResolver& resolver_;
  WorkloadOptions opts_;
  iou_workload_stats gone_{};          // counts of cgroups that died, folded in and removed
  uint64_t resolution_failures_ = 0;
};

}  // namespace iouring
