// One scrape: runs every collector, times it, and adds the per-collector self-metrics.
// It is the prometheus-cpp Collectable the HTTP layer serializes.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "collectors/collector.h"

namespace iouring {

class Scraper final : public prometheus::Collectable {
 public:
  void add(std::unique_ptr<Collector> c) { collectors_.push_back(std::move(c)); }
  std::vector<prometheus::MetricFamily> Collect() const override;
  // Collect() rendered in the Prometheus text format (0.0.4), byte for byte what
  // prometheus::TextSerializer writes (text_exposition.h).
  std::string render() const;

 private:
  std::vector<std::unique_ptr<Collector>> collectors_;
  mutable std::mutex mu_;  // one scrape at a time: map reads share scratch buffers
};

}  // namespace iouring
