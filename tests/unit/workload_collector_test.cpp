// WorkloadCollector over fake maps and a directory tree standing in for cgroup2 (a cgroup's id
// is its directory's inode number, so plain directories work): labels per granularity,
// overflow, exited cgroups folded into _gone, node totals preserved.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "bpf/abi.h"
#include "collectors/workload_collector.h"
#include "support/fake_map_reader.h"
#include "support/prom_text.h"
#include "uring_names.h"

namespace iouring {
namespace {

namespace fs = std::filesystem;
using test::series;
using test::value;

constexpr const char* kUid = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const std::string kCid(64, 'e');

class WorkloadCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("iou_wl_" + std::to_string(getpid()));
    pod_dir_ = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
               std::string("0b1c2d3e_4f50_6172_8394_a5b6c7d8e9f0") + ".slice/cri-containerd-" +
               kCid + ".scope";
    fs::create_directories(root_.string() + pod_dir_);
    fs::create_directories(root_ / "system.slice" / "db.service");
    fs::create_directories(root_ / "doomed");
  }
  void TearDown() override { fs::remove_all(root_); }
  uint64_t id_of(const std::string& rel) {
    struct stat st {};
    stat((root_.string() + rel).c_str(), &st);
    return st.st_ino;
  }
  test::Samples collect(WorkloadOptions opts, test::FakeMapReader& reader, CgroupResolver& r) {
    MapSource maps(reader);
    WorkloadCollector c(maps, r, opts);
    std::vector<prometheus::MetricFamily> out;
    EXPECT_TRUE(c.collect(out));
    std::ostringstream os;
    prometheus::TextSerializer().Serialize(os, out);
    return test::parse_prom_text(os.str());
  }
  fs::path root_;
  std::string pod_dir_;
};

iou_workload_stats stats(uint64_t nops, uint64_t denied = 0) {
  iou_workload_stats s{};
  s.submitted[opcode_slot("nop")] = nops;
  s.completed[IOU_RES_OK] = nops - denied;
  s.completed[IOU_RES_EPERM] = denied;
  s.rings_created = 1;
  return s;
}

TEST_F(WorkloadCollectorTest, LabelsPerGranularityAndOverflow) {
  test::FakeMapReader reader;
  reader.set(MapId::ops_globals, std::vector<iou_op_globals>(1));
  std::map<uint64_t, iou_workload_stats> h = {
      {IOU_WORKLOAD_OVERFLOW, stats(7)},
      {id_of(pod_dir_), stats(100, 4)},
      {id_of("/system.slice/db.service"), stats(50)}};
  reader.set_hash(MapId::workload_stats, h);
  CgroupResolver resolver(root_.string());

  WorkloadOptions pod;
  auto s = collect(pod, reader, resolver);
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"pod_uid", kUid}, {"cgroup", ""}, {"op", "nop"}})), 100);
  EXPECT_EQ(value(s, series("io_uring_workload_denials_total", {{"pod_uid", kUid}, {"cgroup", ""}})), 4);
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"pod_uid", ""}, {"cgroup", "/system.slice/db.service"}, {"op", "nop"}})), 50);
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"pod_uid", ""}, {"cgroup", "_overflow"}, {"op", "nop"}})), 7);
  EXPECT_EQ(value(s, series("io_uring_exporter_attribution_cgroups")), 2);

  WorkloadOptions container;
  container.granularity = Granularity::container;
  container.label_unknown_cgroups = false;
  s = collect(container, reader, resolver);
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"pod_uid", kUid}, {"container_id", kCid}, {"cgroup", ""}, {"op", "nop"}})), 100);
  // Unknown cgroups without a label: one anonymous series.
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"pod_uid", ""}, {"container_id", ""}, {"cgroup", ""}, {"op", "nop"}})), 50);

  WorkloadOptions cg;
  cg.granularity = Granularity::cgroup;
  s = collect(cg, reader, resolver);
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"cgroup", pod_dir_}, {"op", "nop"}})), 100);
}

TEST_F(WorkloadCollectorTest, ExitedCgroupsFoldIntoGoneAndLeaveTheTable) {
  test::FakeMapReader reader;
  reader.set(MapId::ops_globals, std::vector<iou_op_globals>(1));
  const uint64_t doomed = id_of("/doomed");
  reader.set_hash(MapId::workload_stats, std::map<uint64_t, iou_workload_stats>{
                                             {IOU_WORKLOAD_OVERFLOW, stats(0)}, {doomed, stats(9)}});
  CgroupResolver resolver(root_.string());
  MapSource maps(reader);
  WorkloadOptions opts;
  opts.granularity = Granularity::cgroup;
  WorkloadCollector c(maps, resolver, opts);
  std::vector<prometheus::MetricFamily> out;
  ASSERT_TRUE(c.collect(out));  // resolves /doomed
  fs::remove(root_ / "doomed");
  reader.set_hash(MapId::workload_stats, std::map<uint64_t, iou_workload_stats>{
                                             {IOU_WORKLOAD_OVERFLOW, stats(0)}, {doomed, stats(9)}});
  resolver.rescan();
  for (int i = 0; i < 2; ++i) {
    out.clear();
    ASSERT_TRUE(c.collect(out));
    std::ostringstream os;
    prometheus::TextSerializer().Serialize(os, out);
    auto s = test::parse_prom_text(os.str());
    EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"cgroup", "_gone"}, {"op", "nop"}})), 9);
    EXPECT_EQ(value(s, series("io_uring_exporter_cgroup_resolution_failures_total")), 1);
    EXPECT_FALSE(reader.has_key(MapId::workload_stats, doomed));
  }
}

}  // namespace
}  // namespace iouring
