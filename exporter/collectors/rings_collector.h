// Ring-level metrics: rings created and their setup flags, CQ overflows, short writes.
#pragma once

#include "collectors/collector.h"
#include "map_source.h"

namespace iouring {

class RingsCollector final : public Collector {
 public:
  explicit RingsCollector(MapSource& maps) : maps_(maps) {}
  std::string_view name() const override { return "rings"; }
  bool collect(std::vector<prometheus::MetricFamily>& out) override;

 private:
  MapSource& maps_;
};

}  // namespace iouring
