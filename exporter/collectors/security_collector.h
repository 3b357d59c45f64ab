// Security signals: LSM hook calls, verdicts and latency; audit hook calls, latency and coverage
// gap; io_uring_setup/register refusals; personalities, restrictions and uring_cmd use.
// Metrics of a probe that is not attached are left out, never shown as zeros.
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "collectors/collector.h"
#include "map_source.h"

namespace iouring {

class SecurityCollector final : public Collector {
 public:
  SecurityCollector(MapSource& maps, std::function<bool(std::string_view probe)> attached)
      : maps_(maps), attached_(std::move(attached)) {}
  std::string_view name() const override { return "security"; }
  bool collect(std::vector<prometheus::MetricFamily>& out) override;

 private:
  bool collect_hooks(std::vector<prometheus::MetricFamily>& out);
  bool collect_audit(std::vector<prometheus::MetricFamily>& out);
  bool collect_refusals(std::vector<prometheus::MetricFamily>& out);
  bool collect_misuse(std::vector<prometheus::MetricFamily>& out);

  MapSource& maps_;
  std::function<bool(std::string_view)> attached_;
  std::map<uint32_t, uint64_t> unaudited_;  // last reported gap per opcode (kept monotonic)
};

}  // namespace iouring
