// A collector turns one signal area's BPF maps into metric families, at scrape time.
#pragma once

#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace iouring {

class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  // Appends this area's families. Returns false when a source could not be read; what could be
  // read is still appended.
  virtual bool collect(std::vector<prometheus::MetricFamily>& out) = 0;
};

}  // namespace iouring
