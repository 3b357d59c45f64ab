// The exporter's own health: build, probes attached and why not, BPF recursion misses, map
// read errors.
#pragma once

#include <span>

#include "collectors/collector.h"
#include "loader.h"
#include "map_source.h"

namespace iouring {

class ExporterCollector final : public Collector {
 public:
  ExporterCollector(MapSource& maps, std::span<const ProbeStatus> probes)
      : maps_(maps), probes_(probes) {}
  std::string_view name() const override { return "exporter"; }
  bool collect(std::vector<prometheus::MetricFamily>& out) override;

 private:
  MapSource& maps_;
  std::span<const ProbeStatus> probes_;
};

}  // namespace iouring
