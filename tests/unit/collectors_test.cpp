// Collectors over fake maps: exact values, and a golden rendering that promtool must accept
// (ctest runs `promtool check metrics` on tests/golden/metrics.prom).
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "bpf/abi.h"
#include "collectors/exporter_collector.h"
#include "collectors/ops_collector.h"
#include "collectors/rings_collector.h"
#include "scraper.h"
#include "support/fake_map_reader.h"
#include "support/prom_text.h"
#include "text_exposition.h"
#include "uring_names.h"

namespace iouring {
namespace {

using test::series;
using test::value;

test::FakeMapReader fake_maps() {
  test::FakeMapReader r;
  std::vector<iou_op_stats> ops(IOU_OP_SLOTS);
  auto& nop = ops[opcode_slot("nop")];
  nop.submitted = 100;
  nop.completed[IOU_RES_OK] = 97;
  nop.completed[IOU_RES_EINVAL] = 3;
  nop.latency[0] = 90;
  nop.latency[2] = 7;
  nop.latency_sum_ns = 150000;
  auto& openat = ops[opcode_slot("openat")];
  openat.submitted = 8;
  openat.completed[IOU_RES_ENOENT] = 5;
  openat.completed[IOU_RES_EACCES] = 2;
  openat.completed[IOU_RES_EPERM] = 1;
  openat.latency[3] = 8;
  openat.latency_sum_ns = 64000;
  auto& read = ops[opcode_slot("read")];
  read.submitted = 10;
  read.completed[IOU_RES_OK] = 10;
  read.async_punts = 10;
  read.latency[IOU_LAT_BUCKETS - 1] = 10;  // +Inf
  read.latency_sum_ns = 100'000'000'000ULL;
  auto& timeout = ops[opcode_slot("timeout")];
  timeout.submitted = 1;
  timeout.more_cqes = 3;
  timeout.completed[IOU_RES_ETIME] = 1;
  timeout.latency[12] = 1;
  timeout.latency_sum_ns = 4'000'000;
  timeout.latency_untracked = 2;
  auto& unknown = ops[IOU_OP_UNKNOWN];
  unknown.failed_init = 2;
  r.set(MapId::ops_stats, ops);

  std::vector<iou_op_globals> g(1);
  g[0].multishot_cqes = 3;
  g[0].aux_cqes = 1;
  r.set(MapId::ops_globals, g);

  std::vector<iou_ring_stats> rings(1);
  rings[0].rings_created = 10;
  rings[0].setup_flags[1] = 1;   // sqpoll
  rings[0].setup_flags[3] = 2;   // cqsize
  rings[0].setup_flags[25] = 1;  // a bit no kernel names yet
  rings[0].cq_overflows = 4;
  rings[0].short_writes = 1;
  r.set(MapId::ring_stats, rings);
  return r;
}

std::string render(std::vector<prometheus::MetricFamily> families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return os.str();
}

TEST(OpsCollector, ExactValues) {
  auto reader = fake_maps();
  MapSource maps(reader);
  OpsCollector c(maps, true);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(c.collect(out));
  auto s = test::parse_prom_text(render(out));
  EXPECT_EQ(value(s, series("io_uring_sqes_submitted_total", {{"op", "nop"}})), 100);
  EXPECT_EQ(value(s, series("io_uring_completions_total", {{"op", "nop"}, {"result", "EINVAL"}})), 3);
  EXPECT_EQ(value(s, series("io_uring_denials_total", {{"op", "openat"}})), 3);
  EXPECT_EQ(value(s, series("io_uring_denials_total", {{"op", "nop"}})), 0);
  EXPECT_TRUE(s.count(series("io_uring_denials_total", {{"op", "nop"}})));
  // Zero result classes other than ok are left out; ok is always there for an active opcode.
  EXPECT_FALSE(s.count(series("io_uring_completions_total", {{"op", "nop"}, {"result", "EIO"}})));
  EXPECT_TRUE(s.count(series("io_uring_completions_total", {{"op", "openat"}, {"result", "ok"}})));
  EXPECT_EQ(value(s, series("io_uring_async_punts_total", {{"op", "read"}})), 10);
  EXPECT_EQ(value(s, series("io_uring_multishot_cqes_total", {{"op", "timeout"}})), 3);
  EXPECT_EQ(value(s, series("io_uring_requests_failed_total", {{"op", "unknown"}})), 2);
  EXPECT_EQ(value(s, series("io_uring_cqes_without_request_total", {{"kind", "multishot"}})), 3);
  EXPECT_EQ(value(s, series("io_uring_exporter_latency_untracked_total")), 2);
  EXPECT_EQ(value(s, series("io_uring_completion_latency_seconds_count", {{"op", "nop"}})), 97);
  EXPECT_EQ(value(s, series("io_uring_completion_latency_seconds_bucket", {{"op", "nop"}, {"le", "1.024e-06"}})), 90);
  EXPECT_EQ(value(s, series("io_uring_completion_latency_seconds_bucket", {{"op", "nop"}, {"le", "4.096e-06"}})), 97);
  EXPECT_EQ(value(s, series("io_uring_completion_latency_seconds_bucket", {{"op", "read"}, {"le", "68.719476736"}})), 0);
  EXPECT_EQ(value(s, series("io_uring_completion_latency_seconds_bucket", {{"op", "read"}, {"le", "+Inf"}})), 10);
  EXPECT_DOUBLE_EQ(value(s, series("io_uring_completion_latency_seconds_sum", {{"op", "read"}})), 100.0);
  // Opcodes that never ran produce no series.
  EXPECT_FALSE(s.count(series("io_uring_sqes_submitted_total", {{"op", "write"}})));
}

// Opcodes newer than the name table are counted in slots of their own but exported as
// op="unknown" with the unknown slot: one series per label set, holding the sum.
TEST(OpsCollector, UnnamedOpcodeSlotsFoldIntoOneUnknownSeries) {
  test::FakeMapReader reader;
  std::vector<iou_op_stats> ops(IOU_OP_SLOTS);
  for (uint32_t slot = 0; slot < IOU_OP_SLOTS; ++slot) {
    ops[slot].submitted = 1;
    ops[slot].async_punts = 2;
    ops[slot].completed[IOU_RES_OK] = 1;
    ops[slot].latency[1] = 1;
  }
  reader.set(MapId::ops_stats, ops);
  reader.set(MapId::ops_globals, std::vector<iou_op_globals>(1));
  MapSource maps(reader);
  OpsCollector c(maps, true);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(c.collect(out));
  const std::string text = text_exposition(out);
  std::map<std::string, int> seen;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') ++seen[line.substr(0, line.rfind(' '))];
  for (const auto& [key, n] : seen) EXPECT_EQ(n, 1) << key;
  const double unnamed = IOU_OP_SLOTS - named_opcode_count();  // unnamed slots + the unknown slot
  auto s = test::parse_prom_text(text);
  EXPECT_EQ(value(s, series("io_uring_sqes_submitted_total", {{"op", "unknown"}})), unnamed);
  EXPECT_EQ(value(s, series("io_uring_async_punts_total", {{"op", "unknown"}})), 2 * unnamed);
  EXPECT_EQ(value(s, series("io_uring_completion_latency_seconds_count", {{"op", "unknown"}})), unnamed);
  EXPECT_EQ(value(s, series("io_uring_sqes_submitted_total", {{"op", "nop"}})), 1);
}

TEST(OpsCollector, LatencyOffMeansNoHistogram) {
  auto reader = fake_maps();
  MapSource maps(reader);
  OpsCollector c(maps, false);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(c.collect(out));
  for (const auto& f : out) EXPECT_NE(f.name, "io_uring_completion_latency_seconds");
}

TEST(RingsCollector, FlagsNamedAndUnnamed) {
  auto reader = fake_maps();
  MapSource maps(reader);
  RingsCollector c(maps);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(c.collect(out));
  auto s = test::parse_prom_text(render(out));
  EXPECT_EQ(value(s, series("io_uring_rings_created_total")), 10);
  EXPECT_EQ(value(s, series("io_uring_rings_created_by_flag_total", {{"flag", "sqpoll"}})), 1);
  EXPECT_EQ(value(s, series("io_uring_rings_created_by_flag_total", {{"flag", "cqsize"}})), 2);
  EXPECT_EQ(value(s, series("io_uring_rings_created_by_flag_total", {{"flag", "bit25"}})), 1);
  EXPECT_FALSE(s.count(series("io_uring_rings_created_by_flag_total", {{"flag", "bit26"}})));
  EXPECT_EQ(value(s, series("io_uring_cq_overflows_total")), 4);
}

TEST(Scraper, FailedMapReadIsReportedNotFatal) {
  auto reader = fake_maps();
  reader.fail(MapId::ops_stats);
  MapSource maps(reader);
  Scraper scraper;
  scraper.add(std::make_unique<OpsCollector>(maps, true));
  scraper.add(std::make_unique<RingsCollector>(maps));
  scraper.add(std::make_unique<ExporterCollector>(maps, std::span<const ProbeStatus>{}));
  auto s = test::parse_prom_text(scraper.render());
  EXPECT_EQ(value(s, series("io_uring_exporter_collector_success", {{"collector", "ops"}})), 0);
  EXPECT_EQ(value(s, series("io_uring_exporter_collector_success", {{"collector", "rings"}})), 1);
  EXPECT_EQ(value(s, series("io_uring_exporter_map_read_errors_total", {{"map", "ops_stats"}})), 1);
  EXPECT_EQ(value(s, series("io_uring_rings_created_total")), 10);  // the rest is still served
  EXPECT_EQ(value(s, series("io_uring_cqes_without_request_total", {{"kind", "aux"}})), 1);
}

TEST(Golden, OpsAndRings) {
  auto reader = fake_maps();
  MapSource maps(reader);
  std::vector<prometheus::MetricFamily> out;
  OpsCollector(maps, true).collect(out);
  RingsCollector(maps).collect(out);
  std::string text = render(out);
  // What /metrics serves (Scraper::render) is text_exposition: the same bytes.
  EXPECT_EQ(text_exposition(out), text);
  const std::string path = std::string(IOU_SOURCE_DIR) + "/tests/golden/metrics.prom";
  if (std::getenv("IOU_UPDATE_GOLDEN")) {
    std::ofstream(path) << text;
    GTEST_SKIP() << "golden file rewritten";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path << " (run with IOU_UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str()) << "output changed; review and run with IOU_UPDATE_GOLDEN=1";
}

}  // namespace
}  // namespace iouring
