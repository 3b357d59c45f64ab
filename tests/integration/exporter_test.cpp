// Root integration tests on the running kernel: the real exporter binary, real io_uring
// workloads with known counts, exact deltas between two scrapes of /metrics, node-wide and of
// the workload's own cgroup (other io_uring users on the host: see support/delta_check.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "support/delta_check.h"
#include "support/exporter_process.h"
#include "support/prom_text.h"
#include "support/test_cgroup.h"

namespace iouring::test {
namespace {

std::string g_dir;

std::string make_fixture_files() {
  char tmpl[] = "/tmp/iou_it_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  chmod(dir.c_str(), 0755);
  {
    std::ofstream f(dir + "/data", std::ios::binary);
    std::string block(4096, 'x');
    for (int i = 0; i < 4; ++i) f << block;
  }
  {
    std::ofstream f(dir + "/secret");
    f << "root only\n";
  }
  chmod((dir + "/secret").c_str(), 0600);
  // Read once so later reads are served from the page cache.
  run_command({"/bin/cat", dir + "/data"});
  return dir;
}

// Node-wide series.
Selector op(const char* metric, const char* opname) { return {metric, {{"op", opname}}}; }
Selector submitted(const char* opname) { return op("io_uring_sqes_submitted_total", opname); }
Selector res(const char* opname, const char* result) {
  return {"io_uring_completions_total", {{"op", opname}, {"result", result}}};
}
Selector lat_count(const char* opname) {
  return op("io_uring_completion_latency_seconds_count", opname);
}
Selector node_total(const char* metric, std::map<std::string, std::string> labels = {}) {
  return {metric, std::move(labels)};
}
// The test cgroup's series (DeltaCheck::own adds the cgroup label).
Selector own_submitted(const char* opname) {
  return op("io_uring_workload_sqes_submitted_total", opname);
}
Selector own_res(const char* result) {
  return {"io_uring_workload_completions_total", {{"result", result}}};
}
const Selector kOwnLatCount{"io_uring_workload_completion_latency_seconds_count", {}};
const Selector kOwnDenials{"io_uring_workload_denials_total", {}};
const Selector kOwnRings{"io_uring_workload_rings_created_total", {}};
const Selector kOwnSqpollRings{"io_uring_workload_sqpoll_rings_created_total", {}};

// One exporter (default flags: pod attribution, other cgroups labelled by path) for the suite;
// each test runs its workload in a fresh cgroup and checks the node-wide deltas (retried while
// other io_uring users are active, see DeltaCheck) and the cgroup's own.
class ExporterDeltas : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_dir = make_fixture_files();
    exporter_ = std::make_unique<ExporterProcess>(std::vector<std::string>{});
  }
  static void TearDownTestSuite() {
    exporter_.reset();
    run_command({"/bin/rm", "-rf", g_dir});
  }
  void SetUp() override {
    ASSERT_TRUE(exporter_->started()) << exporter_->log();
    if (cgroup2_mount().empty())
      GTEST_SKIP() << "no cgroup v2 hierarchy: per-workload counts unavailable";
    cgroup_ = std::make_unique<TestCgroup>("iou-it");
    ASSERT_TRUE(cgroup_->ok()) << cgroup_->why();
  }
  void TearDown() override { cgroup_.reset(); }

  DeltaCheck delta_check() const {
    return DeltaCheck([] { return exporter_->scrape(); }, cgroup_->path());
  }
  // Runs the workload in the test's cgroup until every expected delta held exactly in one window.
  void expect_exact(const DeltaCheck& c, const std::vector<std::string>& args, int uid = -1) {
    CheckResult r = c.run([&] { cgroup_->run_ok(args, uid); });
    EXPECT_TRUE(r.passed) << r.report;
  }

  static std::unique_ptr<ExporterProcess> exporter_;
  std::unique_ptr<TestCgroup> cgroup_;
};
std::unique_ptr<ExporterProcess> ExporterDeltas::exporter_;

TEST_F(ExporterDeltas, Nops) {
  DeltaCheck c = delta_check();
  c.node(submitted("nop"), 1000)
      .node(res("nop", "ok"), 1000)
      .node(lat_count("nop"), 1000)
      .node(op("io_uring_denials_total", "nop"), 0)
      .node(node_total("io_uring_rings_created_total"), 1)
      .own(own_submitted("nop"), 1000)
      .own(own_res("ok"), 1000)
      .own(kOwnLatCount, 1000)
      .own(kOwnDenials, 0)
      .own(kOwnRings, 1);
  expect_exact(c, {"nop", "1000"});
}

TEST_F(ExporterDeltas, PageCachedReads) {
  DeltaCheck c = delta_check();
  c.node(submitted("read"), 300)
      .node(res("read", "ok"), 300)
      .node(lat_count("read"), 300)
      .own(own_submitted("read"), 300)
      .own(own_res("ok"), 300)
      .own(kOwnLatCount, 300);
  expect_exact(c, {"read", "300", g_dir + "/data"});
}

TEST_F(ExporterDeltas, OpenatMissingFileIsEnoentNotDenial) {
  DeltaCheck c = delta_check();
  c.node(submitted("openat"), 50)
      .node(res("openat", "ENOENT"), 50)
      .node(op("io_uring_denials_total", "openat"), 0)
      .own(own_submitted("openat"), 50)
      .own(own_res("ENOENT"), 50)
      .own(kOwnDenials, 0);
  expect_exact(c, {"openat-enoent", "50", g_dir + "/missing"});
}

TEST_F(ExporterDeltas, OpenatRootOnlyFileAsNobodyIsDenied) {
  DeltaCheck c = delta_check();
  c.node(submitted("openat"), 20)
      .node(res("openat", "EACCES"), 20)
      .node(op("io_uring_denials_total", "openat"), 20)
      .own(own_submitted("openat"), 20)
      .own(own_res("EACCES"), 20)
      .own(kOwnDenials, 20);
  expect_exact(c, {"openat-eacces", "20", g_dir + "/secret"}, 65534);
}

TEST_F(ExporterDeltas, TimeoutsExpireWithEtime) {
  // Timeouts complete from a timer, in whatever task runs then: still the submitter's workload.
  DeltaCheck c = delta_check();
  c.node(submitted("timeout"), 5)
      .node(res("timeout", "ETIME"), 5)
      .node(res("timeout", "ok"), 0)
      .node(lat_count("timeout"), 5)
      .own(own_submitted("timeout"), 5)
      .own(own_res("ETIME"), 5)
      .own(own_res("ok"), 0)
      .own(kOwnLatCount, 5);
  expect_exact(c, {"timeout", "5"});
}

TEST_F(ExporterDeltas, SqpollRing) {
  DeltaCheck c = delta_check();
  c.node(submitted("nop"), 100)
      .node(res("nop", "ok"), 100)
      .node(node_total("io_uring_rings_created_total"), 1)
      .node(node_total("io_uring_rings_created_by_flag_total", {{"flag", "sqpoll"}}), 1)
      .own(own_submitted("nop"), 100)
      .own(own_res("ok"), 100)
      .own(kOwnRings, 1)
      .own(kOwnSqpollRings, 1);
  expect_exact(c, {"sqpoll", "100"});
}

TEST_F(ExporterDeltas, MultishotCountsOneRequestAndOneLatencySample) {
  // One multishot timeout firing 6 times: 5 CQEs with F_MORE (posted without a request on
  // current kernels), then the final one. Request-less CQEs name no workload: another user's
  // long-running multishot request could post some in the window without submitting anything.
  const Selector multishot_cqes = node_total("io_uring_cqes_without_request_total",
                                             {{"kind", "multishot"}});
  DeltaCheck c = delta_check();
  c.known("request-less multishot CQEs", multishot_cqes, 5)
      .node(submitted("timeout"), 1)
      .node(res("timeout", "ETIME"), 1)
      .node(lat_count("timeout"), 1)
      .node(multishot_cqes, 5)
      .own(own_submitted("timeout"), 1)
      .own(own_res("ETIME"), 1)
      .own(kOwnLatCount, 1);
  expect_exact(c, {"multishot", "6"});
}

TEST_F(ExporterDeltas, AsyncPuntsToIoWq) {
  // io-wq workers are io threads of the ring owner, in its cgroup.
  DeltaCheck c = delta_check();
  c.node(submitted("read"), 40)
      .node(op("io_uring_async_punts_total", "read"), 40)
      .node(res("read", "ok"), 40)
      .own(own_submitted("read"), 40)
      .own(own_res("ok"), 40);
  expect_exact(c, {"punt", "40", g_dir + "/data"});
}

TEST_F(ExporterDeltas, RequestsFailedAtInit) {
  // Never submitted, but completed (with EINVAL) by the submitting task: in its workload.
  DeltaCheck c = delta_check();
  c.node(op("io_uring_requests_failed_total", "nop"), 7)
      .node(res("nop", "EINVAL"), 7)
      .node(submitted("nop"), 0)
      .own(own_res("EINVAL"), 7)
      .own(own_submitted("nop"), 0);
  expect_exact(c, {"fail", "7"});
}

TEST_F(ExporterDeltas, CqOverflow) {
  // 12 NOPs into a CQ of 8 without reaping: 4 CQEs overflow. Overflowed CQEs bypass the
  // io_uring_complete tracepoint, so only 8 count as completions. Overflows name no workload:
  // another user's requests submitted before the window could overflow in it.
  const Selector overflows = node_total("io_uring_cq_overflows_total");
  const Selector dropped = node_total("io_uring_cqes_dropped_total");
  DeltaCheck c = delta_check();
  c.known("CQ overflows", overflows, 4)
      .known("CQEs dropped", dropped, 0)
      .node(submitted("nop"), 12)
      .node(overflows, 4)
      .node(dropped, 0)
      .node(res("nop", "ok"), 8)
      .own(own_submitted("nop"), 12)
      .own(own_res("ok"), 8);
  expect_exact(c, {"overflow", "12"});
}

TEST_F(ExporterDeltas, AllProbesAttachedAndOutputLints) {
  Samples s = exporter_->scrape();
  for (const char* probe : {"submit", "complete", "async_punt", "req_failed", "create",
                            "cqe_overflow", "short_write"}) {
    bool found = false;
    for (const auto& [key, v] : s)
      if (key.rfind("io_uring_exporter_probe_attached{", 0) == 0 &&
          key.find("probe=\"" + std::string(probe) + "\"") != std::string::npos) {
        found = true;
        EXPECT_EQ(v, 1) << key;
        EXPECT_NE(key.find("state=\"attached\""), std::string::npos) << key;
      }
    EXPECT_TRUE(found) << probe;
  }
  // promtool lints the live output.
  std::string path = "/tmp/iou_it_scrape.prom";
  std::ofstream(path) << exporter_->scrape_text();
  RunResult r = run_command({"/bin/sh", "-c", "promtool check metrics < " + path});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  unlink(path.c_str());
}

// --- variants and flags, each with its own exporter

TEST(ExporterVariants, RawTracepointsCountExactly) {
  if (cgroup2_mount().empty()) GTEST_SKIP() << "no cgroup v2 hierarchy";
  TestCgroup cg("iou-it");
  ASSERT_TRUE(cg.ok()) << cg.why();
  ExporterProcess e({"--bpf.disable-program-type=tp_btf"});
  ASSERT_TRUE(e.started()) << e.log();
  Samples s0 = e.scrape();
  EXPECT_EQ(value(s0, series("io_uring_exporter_probe_attached",
                             {{"probe", "submit"}, {"program", "raw_tp/io_uring_submit_req"},
                              {"state", "attached"}})),
            1);
  EXPECT_EQ(value(s0, series("io_uring_exporter_probe_attached",
                             {{"probe", "complete"}, {"program", "raw_tp/io_uring_complete"},
                              {"state", "attached"}})),
            1);
  DeltaCheck c([&] { return e.scrape(); }, cg.path());
  c.node(submitted("nop"), 500)
      .node(res("nop", "ok"), 500)
      .node(lat_count("nop"), 500)
      .node(res("openat", "ENOENT"), 30)
      .node(node_total("io_uring_rings_created_total"), 2)
      .own(own_submitted("nop"), 500)
      .own(own_submitted("openat"), 30)
      .own(own_res("ok"), 500)
      .own(own_res("ENOENT"), 30)
      .own(kOwnLatCount, 530)
      .own(kOwnRings, 2);
  CheckResult r = c.run([&] {
    cg.run_ok({"nop", "500"});
    cg.run_ok({"openat-enoent", "30", "/nonexistent/iou"});
  });
  EXPECT_TRUE(r.passed) << r.report;
}

TEST(ExporterVariants, LatencyOffStillCountsExactly) {
  if (cgroup2_mount().empty()) GTEST_SKIP() << "no cgroup v2 hierarchy";
  TestCgroup cg("iou-it");
  ASSERT_TRUE(cg.ok()) << cg.why();
  ExporterProcess e({"--no-collector.ops.latency"});
  ASSERT_TRUE(e.started()) << e.log();
  DeltaCheck c([&] { return e.scrape(); }, cg.path());
  c.node(submitted("nop"), 200)
      .node(res("nop", "ok"), 200)
      .own(own_submitted("nop"), 200)
      .own(own_res("ok"), 200);
  CheckResult r = c.run([&] { cg.run_ok({"nop", "200"}); });
  EXPECT_TRUE(r.passed) << r.report;
  for (const auto& [key, v] : r.last.after)
    EXPECT_EQ(key.find("latency_seconds"), std::string::npos) << key;
}

// 32 timeouts in flight at once over a 2-entry in-flight table (one pair): the first 2 take the
// entries, the other 30 complete without a latency sample and are counted as untracked. Nothing
// is lost: completions stay exact and samples + untracked = completions.
TEST(ExporterVariants, CollidingRequestsLoseOnlyTheirLatencySampleAndAreCounted) {
  if (cgroup2_mount().empty()) GTEST_SKIP() << "no cgroup v2 hierarchy";
  TestCgroup cg("iou-it");
  ASSERT_TRUE(cg.ok()) << cg.why();
  ExporterProcess e({"--bpf.inflight-entries=2"});
  ASSERT_TRUE(e.started()) << e.log();
  DeltaCheck c([&] { return e.scrape(); }, cg.path());
  c.node(submitted("timeout"), 32)
      .node(res("timeout", "ETIME"), 32)
      .node(lat_count("timeout"), 2)
      .node(node_total("io_uring_exporter_latency_untracked_total"), 30)
      .own(own_submitted("timeout"), 32)
      .own(own_res("ETIME"), 32);
  CheckResult r = c.run([&] { cg.run_ok({"timeout", "32"}); });
  EXPECT_TRUE(r.passed) << r.report;
}

TEST(ExporterVariants, DisabledCollectorDropsItsProbes) {
  ExporterProcess e({"--no-collector.rings"});
  ASSERT_TRUE(e.started()) << e.log();
  Samples s = e.scrape();
  EXPECT_FALSE(s.count(series("io_uring_rings_created_total")));
  EXPECT_EQ(value(s, series("io_uring_exporter_probe_attached",
                            {{"probe", "create"}, {"program", ""}, {"state", "disabled"}})),
            0);
  EXPECT_TRUE(s.count(series("io_uring_exporter_probe_attached",
                             {{"probe", "create"}, {"program", ""}, {"state", "disabled"}})));
}

TEST(ExporterVariants, LandingPageAndUnknownPaths) {
  ExporterProcess e({});
  ASSERT_TRUE(e.started()) << e.log();
  std::string page = e.scrape_text("/");
  EXPECT_NE(page.find("href=\"/metrics\""), std::string::npos);
  EXPECT_THROW(e.scrape_text("/nope"), std::runtime_error);
  EXPECT_EQ(e.stop(), 0);  // SIGTERM is a clean exit
}

// --- start-up errors: one line naming the fix, non-zero exit, nothing left behind

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

TEST(ExporterErrors, PortInUse) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string addr = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  RunResult r = run_command({IOU_EXPORTER_BIN, "--web.listen-address=" + addr}, 60);
  close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(last_line(r.output).find("cannot listen on " + addr + ": Address already in use"),
            std::string::npos)
      << r.output;
  EXPECT_NE(last_line(r.output).find("--web.listen-address"), std::string::npos);
}

TEST(ExporterErrors, UnknownFlagPrintsUsage) {
  RunResult r = run_command({IOU_EXPORTER_BIN, "--web.listen-adress=:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("Usage"), std::string::npos) << r.output;
}

TEST(ExporterErrors, Unprivileged) {
  RunResult r = run_command({IOU_EXPORTER_BIN, "--web.listen-address=127.0.0.1:1"}, 30, 65534);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(last_line(r.output).find("missing capabilities CAP_BPF, CAP_PERFMON: run as root"),
            std::string::npos)
      << r.output;
}

TEST(ExporterErrors, MissingBtf) {
  RunResult r = run_command({IOU_EXPORTER_BIN, "--bpf.btf-path=/nonexistent/vmlinux"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(last_line(r.output).find("cannot read kernel BTF from /nonexistent/vmlinux"),
            std::string::npos)
      << r.output;
  EXPECT_NE(last_line(r.output).find("CONFIG_DEBUG_INFO_BTF"), std::string::npos);
}

}  // namespace
}  // namespace iouring::test
