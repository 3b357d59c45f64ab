#include "metric_families.h"

#include <array>
#include <cmath>
#include <limits>

#include "bpf/abi.h"

namespace iouring {
namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType t) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = t;
  return f;
}

constexpr std::array<double, IOU_LAT_BUCKETS - 1> make_bounds() {
  std::array<double, IOU_LAT_BUCKETS - 1> b{};
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<double>(uint64_t{1} << (IOU_LAT_MIN_SHIFT + i)) / 1e9;
  return b;
}
constexpr auto kBounds = make_bounds();

}  // namespace

prometheus::MetricFamily counter_family(std::string name, std::string help) {
  return family(std::move(name), std::move(help), prometheus::MetricType::Counter);
}
prometheus::MetricFamily gauge_family(std::string name, std::string help) {
  return family(std::move(name), std::move(help), prometheus::MetricType::Gauge);
}
prometheus::MetricFamily histogram_family(std::string name, std::string help) {
  return family(std::move(name), std::move(help), prometheus::MetricType::Histogram);
}

void add_counter(prometheus::MetricFamily& f, Labels labels, double value) {
  auto& m = f.metric.emplace_back();
  m.label = std::move(labels);
  m.counter.value = value;
}

void add_gauge(prometheus::MetricFamily& f, Labels labels, double value) {
  auto& m = f.metric.emplace_back();
  m.label = std::move(labels);
  m.gauge.value = value;
}

std::span<const double> latency_bucket_bounds() { return kBounds; }

void add_latency_histogram(prometheus::MetricFamily& f, Labels labels,
                           std::span<const __u64> buckets, uint64_t sum_ns) {
  auto& m = f.metric.emplace_back();
  m.label = std::move(labels);
  auto& h = m.histogram;
  uint64_t cumulative = 0;
  h.bucket.reserve(kBounds.size() + 1);
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    auto& b = h.bucket.emplace_back();
    b.cumulative_count = cumulative;
    b.upper_bound = i < kBounds.size() ? kBounds[i] : std::numeric_limits<double>::infinity();
  }
  h.sample_count = cumulative;
  h.sample_sum = static_cast<double>(sum_ns) / 1e9;
}

}  // namespace iouring
