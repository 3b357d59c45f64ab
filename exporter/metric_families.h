// Small builders for prometheus-cpp MetricFamily values, so collectors read as a list of series.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linux/types.h>
#include <prometheus/metric_family.h>

namespace iouring {

using Labels = std::vector<prometheus::ClientMetric::Label>;

prometheus::MetricFamily counter_family(std::string name, std::string help);
prometheus::MetricFamily gauge_family(std::string name, std::string help);
prometheus::MetricFamily histogram_family(std::string name, std::string help);

void add_counter(prometheus::MetricFamily& f, Labels labels, double value);
void add_gauge(prometheus::MetricFamily& f, Labels labels, double value);

// Upper bounds (`le`, seconds) of the BPF latency buckets, +Inf excluded.
std::span<const double> latency_bucket_bounds();

// Adds a histogram series from the BPF layout: non-cumulative log2 buckets (the last one +Inf)
// and a sum in nanoseconds.
void add_latency_histogram(prometheus::MetricFamily& f, Labels labels,
                           std::span<const __u64> buckets, uint64_t sum_ns);

}  // namespace iouring
