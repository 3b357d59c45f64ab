// Per-opcode request metrics: submissions, completions by result, denials, latency, punts.
#pragma once

#include "collectors/collector.h"
#include "map_source.h"

namespace iouring {

class OpsCollector final : public Collector {
 public:
  OpsCollector(MapSource& maps, bool latency_enabled)
      : maps_(maps), latency_enabled_(latency_enabled) {}
  std::string_view name() const override { return "ops"; }
  bool collect(std::vector<prometheus::MetricFamily>& out) override;

 private:
  MapSource& maps_;
  bool latency_enabled_;
};

}  // namespace iouring
