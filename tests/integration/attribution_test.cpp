// Root integration tests of per-workload attribution: real cgroup v2 hierarchies named like the
// kubelet's (systemd and cgroupfs drivers; containerd, CRI-O, Docker), real io_uring work
// inside them (including SQPOLL and io-wq punts), exact per-pod/per-container counts, node
// totals equal to the sum, and the series budget under 5,000 cgroups. Cgroups are removed after.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/exporter_process.h"
#include "support/prom_text.h"
#include "support/test_cgroup.h"

namespace iouring::test {
namespace {

namespace fs = std::filesystem;

struct Workload {
  std::string path;         // relative to the cgroup2 mount
  std::string pod_uid;      // expected label
  std::string container_id;
};

constexpr const char* kUid1 = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
constexpr const char* kUid2 = "1a2b3c4d-5e6f-4071-8293-a4b5c6d7e8f9";
const std::string kCid(64, 'a');
const std::string kCid2(64, 'b');
const std::string kCid3(64, 'c');

std::string underscored(std::string uid) {
  for (char& c : uid)
    if (c == '-') c = '_';
  return uid;
}

// Creates (and later removes) cgroup directories below the cgroup2 mount.
class CgroupTree {
 public:
  explicit CgroupTree(std::string mount) : mount_(std::move(mount)) {}
  ~CgroupTree() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) rmdir(it->c_str());
  }
  void make(const std::string& rel) {
    std::string cur = mount_;
    std::stringstream ss(rel);
    std::string part;
    while (std::getline(ss, part, '/')) {
      if (part.empty()) continue;
      cur += "/" + part;
      if (mkdir(cur.c_str(), 0755) == 0) made_.push_back(cur);
    }
  }
  std::string abs(const std::string& rel) const { return mount_ + rel; }

 private:
  std::string mount_;
  std::vector<std::string> made_;
};

int run_in(const CgroupTree& t, const std::string& rel, const std::vector<std::string>& args) {
  return run_in_cgroup(t.abs(rel), args).exit_code;
}

double sum_of(const Samples& s, const std::string& prefix, const std::string& must_contain = "") {
  double total = 0;
  for (const auto& [k, v] : s)
    if (k.rfind(prefix + "{", 0) == 0 && k.find(must_contain) != std::string::npos) total += v;
  return total;
}

class Attribution : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = cgroup2_mount();
    if (mount_.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy";
    char tmpl[] = "/tmp/iou_attr_XXXXXX";
    dir_ = mkdtemp(tmpl);
    chmod(dir_.c_str(), 0755);
    std::ofstream(dir_ + "/data") << std::string(16384, 'x');
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string mount_, dir_;
};

// Kubelet layouts: systemd driver (slices, runtime scopes) and cgroupfs driver.
std::vector<Workload> kubelet_layouts(const std::string& base) {
  const std::string u1 = underscored(kUid1);
  return {
      {base + "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u1 +
           ".slice/cri-containerd-" + kCid + ".scope",
       kUid1, kCid},
      {base + "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u1 +
           ".slice/crio-" + kCid2 + ".scope",
       kUid1, kCid2},
      {base + "/kubepods.slice/kubepods-pod" + underscored(kUid2) + ".slice/docker-" + kCid3 +
           ".scope",
       kUid2, kCid3},
      {base + "/kubepods/besteffort/pod" + std::string(kUid2) + "/" + kCid, kUid2, kCid},
  };
}

TEST_F(Attribution, PodsAndContainersExactAcrossDriversAndRuntimes) {
  for (const char* granularity : {"pod", "container"}) {
    SCOPED_TRACE(granularity);
    // The kubelet root is the top of the hierarchy; tests nest it under a private directory,
    // which the parser accepts as a prefix (as with kind or a delegated subtree).
    const std::string base = "/iou-attr-" + std::to_string(getpid());
    CgroupTree tree(mount_);
    auto layouts = kubelet_layouts(base);
    for (const auto& w : layouts) tree.make(w.path);
    ExporterProcess e({std::string("--attribution.granularity=") + granularity});
    ASSERT_TRUE(e.started()) << e.log();

    // Per workload: 100 + 10*i NOPs, an SQPOLL ring with 20 NOPs, 8 punted reads.
    for (size_t i = 0; i < layouts.size(); ++i) {
      ASSERT_EQ(run_in(tree, layouts[i].path, {"nop", std::to_string(100 + 10 * i)}), 0);
      ASSERT_EQ(run_in(tree, layouts[i].path, {"sqpoll", "20"}), 0);
      ASSERT_EQ(run_in(tree, layouts[i].path, {"punt", "8", dir_ + "/data"}), 0);
    }
    Samples s = e.scrape();
    std::map<std::string, double> want_nop, want_read, want_sqpoll;
    for (size_t i = 0; i < layouts.size(); ++i) {
      std::string key = layouts[i].pod_uid;
      if (std::string(granularity) == "container") key += "/" + layouts[i].container_id;
      want_nop[key] += 100 + 10 * i + 20;
      want_read[key] += 8;
      want_sqpoll[key] += 1;
    }
    for (const auto& [key, n] : want_nop) {
      std::map<std::string, std::string> labels = {{"cgroup", ""}};
      labels["pod_uid"] = key.substr(0, key.find('/'));
      if (std::string(granularity) == "container") labels["container_id"] = key.substr(key.find('/') + 1);
      auto with = [&](std::map<std::string, std::string> extra) {
        auto l = labels;
        l.insert(extra.begin(), extra.end());
        return l;
      };
      EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", with({{"op", "nop"}}))), n) << key;
      EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", with({{"op", "read"}}))),
                want_read[key]) << key;
      EXPECT_EQ(value(s, series("io_uring_workload_completions_total", with({{"result", "ok"}}))),
                n + want_read[key]) << key;
      EXPECT_EQ(value(s, series("io_uring_workload_sqpoll_rings_created_total", labels)),
                want_sqpoll[key]) << key;
      EXPECT_EQ(value(s, series("io_uring_workload_completion_latency_seconds_count", labels)),
                n + want_read[key]) << key;
    }
    // Node totals equal the sum over workloads (this exporter's maps start empty).
    EXPECT_EQ(sum_of(s, "io_uring_workload_sqes_submitted_total"),
              sum_of(s, "io_uring_sqes_submitted_total"));
    EXPECT_EQ(sum_of(s, "io_uring_workload_completions_total"),
              sum_of(s, "io_uring_completions_total"));
    EXPECT_EQ(sum_of(s, "io_uring_workload_rings_created_total"),
              value(s, series("io_uring_rings_created_total")));
    EXPECT_EQ(value(s, series("io_uring_exporter_attribution_dropped_series_total")), 0);
  }
}

TEST_F(Attribution, BudgetBoundsSeriesAndKeepsTotals) {
  constexpr int kCgroups = 5000, kBudget = 100;
  const std::string base = "/iou-card-" + std::to_string(getpid());
  CgroupTree tree(mount_);
  tree.make(base);
  for (int i = 0; i < kCgroups; ++i) tree.make(base + "/" + std::to_string(i));
  ExporterProcess e({"--attribution.granularity=cgroup",
                     "--attribution.max-cgroups=" + std::to_string(kBudget)});
  ASSERT_TRUE(e.started()) << e.log();
  RunResult r = run_command({IOU_WORKLOAD_BIN, "cgroup-hop", std::to_string(kCgroups), tree.abs(base)}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Samples s = e.scrape();
  int nop_series = 0;
  for (const auto& [k, v] : s)
    nop_series += k.rfind("io_uring_workload_sqes_submitted_total{", 0) == 0;
  EXPECT_LE(nop_series, kBudget + 1);  // budget + the overflow workload
  EXPECT_EQ(value(s, series("io_uring_exporter_attribution_dropped_series_total")), kCgroups - kBudget);
  // Each cgroup: 1 ring create + 2 submits + 2 completions = 5 events.
  EXPECT_EQ(value(s, series("io_uring_exporter_attribution_dropped_events_total")),
            5.0 * (kCgroups - kBudget));
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total",
                            {{"cgroup", "_overflow"}, {"op", "nop"}})),
            2.0 * (kCgroups - kBudget));
  EXPECT_EQ(sum_of(s, "io_uring_workload_sqes_submitted_total"), 2.0 * kCgroups);
  EXPECT_EQ(value(s, series("io_uring_sqes_submitted_total", {{"op", "nop"}})), 2.0 * kCgroups);
  EXPECT_EQ(sum_of(s, "io_uring_workload_rings_created_total"),
            value(s, series("io_uring_rings_created_total")));
  EXPECT_EQ(value(s, series("io_uring_exporter_attribution_budget_cgroups")), kBudget);
}

TEST_F(Attribution, ExitedCgroupsFoldIntoGoneAndFreeTheirSlot) {
  const std::string base = "/iou-gone-" + std::to_string(getpid());
  ExporterProcess e({"--attribution.granularity=cgroup", "--attribution.max-cgroups=10"});
  ASSERT_TRUE(e.started()) << e.log();
  {
    CgroupTree tree(mount_);
    tree.make(base + "/short-lived");
    ASSERT_EQ(run_in(tree, base + "/short-lived", {"nop", "33"}), 0);
  }  // cgroup removed before any scrape
  Samples s = e.scrape();
  EXPECT_EQ(value(s, series("io_uring_workload_sqes_submitted_total", {{"cgroup", "_gone"}, {"op", "nop"}})), 33);
  EXPECT_EQ(value(s, series("io_uring_exporter_cgroup_resolution_failures_total")), 1);
  EXPECT_EQ(value(s, series("io_uring_exporter_attribution_cgroups")), 0);
  Samples s2 = e.scrape();  // stays, and stays monotonic
  EXPECT_EQ(value(s2, series("io_uring_workload_sqes_submitted_total", {{"cgroup", "_gone"}, {"op", "nop"}})), 33);
}

}  // namespace
}  // namespace iouring::test
