// The BPF bucket function (bpf/histogram.bpf.h) compiled for the host, against the `le` bounds
// the exporter publishes: every sample must land in the first bucket whose bound covers it.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#ifndef __always_inline
#define __always_inline inline
#endif
#include "bpf/histogram.bpf.h"

#include "metric_families.h"

namespace iouring {
namespace {

TEST(LatencyBuckets, BoundsAreLog2MicrosToMinute) {
  auto b = latency_bucket_bounds();
  ASSERT_EQ(b.size(), static_cast<size_t>(IOU_LAT_BUCKETS - 1));
  EXPECT_DOUBLE_EQ(b.front(), 1.024e-6);
  EXPECT_GT(b.back(), 60.0);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_DOUBLE_EQ(b[i], 2 * b[i - 1]);
}

TEST(LatencyBuckets, BpfBucketIsFirstCoveringLe) {
  auto bounds = latency_bucket_bounds();
  std::vector<uint64_t> samples = {0, 1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 4096, 1000000,
                                   1u << 20, (1u << 20) + 1, 999999999, 60000000000ULL,
                                   (1ULL << 36), (1ULL << 36) + 1, 1ULL << 40,
                                   std::numeric_limits<uint64_t>::max()};
  for (uint64_t ns : samples) {
    uint32_t i = iou_latency_bucket(ns);
    ASSERT_LT(i, static_cast<uint32_t>(IOU_LAT_BUCKETS)) << ns;
    double s = static_cast<double>(ns) / 1e9;
    if (i < bounds.size()) {
      EXPECT_LE(s, bounds[i]) << ns;
    }
    if (i > 0) {
      EXPECT_GT(s, bounds[i - 1]) << ns;
    }
  }
  EXPECT_EQ(iou_latency_bucket(1ULL << 40), static_cast<uint32_t>(IOU_LAT_BUCKETS - 1));
}

TEST(LatencyBuckets, Fls64) {
  EXPECT_EQ(iou_fls64(0), 0u);
  EXPECT_EQ(iou_fls64(1), 1u);
  EXPECT_EQ(iou_fls64(2), 2u);
  EXPECT_EQ(iou_fls64(3), 2u);
  EXPECT_EQ(iou_fls64(1ULL << 63), 64u);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(iou_fls64(1ULL << i), static_cast<uint32_t>(i + 1));
}

TEST(LatencyBuckets, HistogramIsCumulativeWithSumInSeconds) {
  prometheus::MetricFamily f = histogram_family("x_seconds", "help");
  __u64 buckets[IOU_LAT_BUCKETS] = {};
  buckets[0] = 2;
  buckets[3] = 5;
  buckets[IOU_LAT_BUCKETS - 1] = 1;  // +Inf
  add_latency_histogram(f, {{"op", "nop"}}, buckets, 2'500'000'000ULL);
  const auto& h = f.metric.at(0).histogram;
  EXPECT_EQ(h.sample_count, 8u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 2.5);
  ASSERT_EQ(h.bucket.size(), static_cast<size_t>(IOU_LAT_BUCKETS));
  EXPECT_EQ(h.bucket[0].cumulative_count, 2u);
  EXPECT_EQ(h.bucket[2].cumulative_count, 2u);
  EXPECT_EQ(h.bucket[3].cumulative_count, 7u);
  EXPECT_EQ(h.bucket[IOU_LAT_BUCKETS - 2].cumulative_count, 7u);
  EXPECT_EQ(h.bucket.back().cumulative_count, 8u);
  EXPECT_EQ(h.bucket.back().upper_bound, std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace iouring
