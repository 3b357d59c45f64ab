// Posture gauges: io_uring sysctls, active LSMs, BPF LSM, audit, kernel release.
#pragma once

#include <functional>

#include "collectors/collector.h"
#include "posture.h"

namespace iouring {

class PostureCollector final : public Collector {
 public:
  explicit PostureCollector(std::function<Posture()> read = [] { return read_posture(); })
      : read_(std::move(read)) {}
  std::string_view name() const override { return "posture"; }
  bool collect(std::vector<prometheus::MetricFamily>& out) override;

 private:
  std::function<Posture()> read_;
};

}  // namespace iouring
