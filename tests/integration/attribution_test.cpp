// Root integration tests of per-workload attribution: real cgroup v2 hierarchies named like the
// kubelet's (systemd and cgroupfs drivers; containerd, CRI-O, Docker), real io_uring work
// inside them (including SQPOLL and io-wq punts), exact per-pod/per-container counts, node
// totals equal to the sum, and the series budget under 1,000 cgroups. Cgroups are removed after.
// Other io_uring users on the host: see support/delta_check.h and support/settled_scrape.h.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/delta_check.h"
#include "support/exporter_process.h"
#include "support/prom_text.h"
#include "support/settled_scrape.h"
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
    // Node totals are compared with the sum over workloads from here on: during start-up the
    // node-wide ring counter attaches before the per-workload one, so a ring another process
    // creates in between is counted once, node-wide only.
    std::optional<Samples> started = settled_scrape([&] { return e.scrape(); });
    ASSERT_TRUE(started) << "io_uring activity on the host during every pair of scrapes";

    // Per workload: 100 + 10*i NOPs, an SQPOLL ring with 20 NOPs, 8 punted reads.
    for (size_t i = 0; i < layouts.size(); ++i) {
      ASSERT_EQ(run_in(tree, layouts[i].path, {"nop", std::to_string(100 + 10 * i)}), 0);
      ASSERT_EQ(run_in(tree, layouts[i].path, {"sqpoll", "20"}), 0);
      ASSERT_EQ(run_in(tree, layouts[i].path, {"punt", "8", dir_ + "/data"}), 0);
    }
    // Per workload the counts are absolute (this exporter's maps start empty, and nobody else
    // runs in these cgroups); the relation to node totals needs a scrape no activity overlapped.
    std::optional<Samples> settled = settled_scrape([&] { return e.scrape(); });
    ASSERT_TRUE(settled) << "io_uring activity on the host during every pair of scrapes";
    const Samples& s = *settled;
    auto rise = [&](const char* name) { return sum(s, {name, {}}) - sum(*started, {name, {}}); };
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
    // Node totals rise as the sum over workloads does (other users' included).
    EXPECT_EQ(rise("io_uring_workload_sqes_submitted_total"),
              rise("io_uring_sqes_submitted_total"));
    EXPECT_EQ(rise("io_uring_workload_completions_total"), rise("io_uring_completions_total"));
    EXPECT_EQ(rise("io_uring_workload_rings_created_total"), rise("io_uring_rings_created_total"));
    EXPECT_EQ(value(s, series("io_uring_exporter_attribution_dropped_series_total")), 0);
  }
}

// The budget fills once per exporter, with whoever comes first: each attempt starts a fresh
// exporter (counters and table empty, so the window starts at zero) and hops through every
// cgroup: 1 ring, 2 NOPs submitted and completed in each, known by construction. Another
// io_uring user in the window would take a slot or share the overflow workload: retried.
// 1,000 cgroups (ten times the budget) keep the window short enough for that: 0.2 s from the
// attach to the scrape (5,000 took a second, which a neighbour using io_uring about once a
// second seldom leaves clean).
TEST_F(Attribution, BudgetBoundsSeriesAndKeepsTotals) {
  constexpr int kCgroups = 1000, kBudget = 100;
  const std::string base = "/iou-card-" + std::to_string(getpid());
  CgroupTree tree(mount_);
  tree.make(base);
  for (int i = 0; i < kCgroups; ++i) tree.make(base + "/" + std::to_string(i));
  std::unique_ptr<ExporterProcess> e;
  DeltaCheck c([&] { return e->scrape(); });
  c.known("SQEs submitted", {"io_uring_sqes_submitted_total", {}}, 2.0 * kCgroups)
      .known("requests completed", {"io_uring_completions_total", {}}, 2.0 * kCgroups)
      .known("rings created", {"io_uring_rings_created_total", {}}, kCgroups)
      .node({"io_uring_exporter_attribution_dropped_series_total", {}}, kCgroups - kBudget)
      // Each cgroup: 1 ring create + 2 submits + 2 completions = 5 events.
      .node({"io_uring_exporter_attribution_dropped_events_total", {}}, 5.0 * (kCgroups - kBudget))
      .node({"io_uring_workload_sqes_submitted_total", {{"cgroup", "_overflow"}, {"op", "nop"}}},
            2.0 * (kCgroups - kBudget))
      .node({"io_uring_workload_sqes_submitted_total", {}}, 2.0 * kCgroups)
      .node({"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 2.0 * kCgroups);
  CheckResult r = c.run_windows([&] {
    e.reset();
    e = std::make_unique<ExporterProcess>(
        std::vector<std::string>{"--attribution.granularity=cgroup",
                                 "--attribution.max-cgroups=" + std::to_string(kBudget)});
    if (!e->started()) throw std::runtime_error("exporter did not start: " + e->log());
    RunResult hop = run_command(
        {IOU_WORKLOAD_BIN, "cgroup-hop", std::to_string(kCgroups), tree.abs(base)}, 300);
    if (hop.exit_code != 0) throw WorkloadFailed("cgroup-hop: " + hop.output);
    return Window{{}, e->scrape()};
  });
  ASSERT_TRUE(r.passed) << r.report;
  const Samples& s = r.last.after;
  int nop_series = 0;
  for (const auto& [k, v] : s)
    nop_series += k.rfind("io_uring_workload_sqes_submitted_total{", 0) == 0;
  EXPECT_LE(nop_series, kBudget + 1);  // budget + the overflow workload
  EXPECT_EQ(value(s, series("io_uring_exporter_attribution_budget_cgroups")), kBudget);
  std::optional<Samples> settled = settled_scrape([&] { return e->scrape(); });
  ASSERT_TRUE(settled) << "io_uring activity on the host during every pair of scrapes";
  EXPECT_EQ(sum_of(*settled, "io_uring_workload_rings_created_total"),
            value(*settled, series("io_uring_rings_created_total")));
}

// The short-lived cgroup is gone by the second scrape: its own activity is known by
// construction (33 NOPs, 1 ring, 1 cgroup to resolve), and its counts must be under "_gone".
TEST_F(Attribution, ExitedCgroupsFoldIntoGoneAndFreeTheirSlot) {
  ExporterProcess e({"--attribution.granularity=cgroup"});
  ASSERT_TRUE(e.started()) << e.log();
  const Selector gone_nops{"io_uring_workload_sqes_submitted_total",
                           {{"cgroup", "_gone"}, {"op", "nop"}}};
  const Selector failures{"io_uring_exporter_cgroup_resolution_failures_total", {}};
  DeltaCheck c([&] { return e.scrape(); });
  c.known("SQEs submitted", {"io_uring_sqes_submitted_total", {}}, 33)
      .known("requests completed", {"io_uring_completions_total", {}}, 33)
      .known("rings created", {"io_uring_rings_created_total", {}}, 1)
      .known("cgroups gone", failures, 1)
      .node(gone_nops, 33)
      .node(failures, 1)
      .node({"io_uring_exporter_attribution_cgroups", {}}, 0);  // its slot was freed
  CheckResult r = c.run([&] {
    TestCgroup cg("iou-gone");
    if (!cg.ok()) throw WorkloadFailed(cg.why());
    cg.run_ok({"nop", "33"});
    if (!cg.remove()) throw WorkloadFailed("cannot remove " + cg.dir());
  });  // the cgroup is removed before the second scrape
  ASSERT_TRUE(r.passed) << r.report;
  // Stays, and stays monotonic: unchanged while no other cgroup exits.
  DeltaCheck again([&] { return e.scrape(); });
  again.known("cgroups gone", failures, 0).node(gone_nops, 0);
  r = again.run([] {});
  EXPECT_TRUE(r.passed) << r.report;
}

}  // namespace
}  // namespace iouring::test
