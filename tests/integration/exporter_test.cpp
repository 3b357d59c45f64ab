// Root integration tests on the running kernel: the real exporter binary, real io_uring
// workloads with known counts, exact deltas between two scrapes of /metrics.
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

#include "support/exporter_process.h"
#include "support/prom_text.h"

namespace iouring::test {
namespace {

using Expect = std::map<std::string, double>;

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

std::string workload() { return IOU_WORKLOAD_BIN; }

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
  }

  // Runs the workload and checks every expected delta exactly.
  void check(const std::vector<std::string>& args, const Expect& want, int uid = -1) {
    Samples before = exporter_->scrape();
    std::vector<std::string> argv = {workload()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run_command(argv, 120, uid);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    Samples after = exporter_->scrape();
    for (const auto& [key, delta] : want)
      EXPECT_EQ(value(after, key) - value(before, key), delta) << key;
  }

  static std::unique_ptr<ExporterProcess> exporter_;
};
std::unique_ptr<ExporterProcess> ExporterDeltas::exporter_;

std::string op(const char* metric, const char* opname) { return series(metric, {{"op", opname}}); }
std::string res(const char* opname, const char* result) {
  return series("io_uring_completions_total", {{"op", opname}, {"result", result}});
}
std::string lat_count(const char* opname) {
  return series("io_uring_completion_latency_seconds_count", {{"op", opname}});
}

TEST_F(ExporterDeltas, Nops) {
  check({"nop", "1000"}, {{op("io_uring_sqes_submitted_total", "nop"), 1000},
                          {res("nop", "ok"), 1000},
                          {lat_count("nop"), 1000},
                          {op("io_uring_denials_total", "nop"), 0},
                          {series("io_uring_rings_created_total"), 1}});
}

TEST_F(ExporterDeltas, PageCachedReads) {
  check({"read", "300", g_dir + "/data"}, {{op("io_uring_sqes_submitted_total", "read"), 300},
                                           {res("read", "ok"), 300},
                                           {lat_count("read"), 300}});
}

TEST_F(ExporterDeltas, OpenatMissingFileIsEnoentNotDenial) {
  check({"openat-enoent", "50", g_dir + "/missing"},
        {{op("io_uring_sqes_submitted_total", "openat"), 50},
         {res("openat", "ENOENT"), 50},
         {op("io_uring_denials_total", "openat"), 0}});
}

TEST_F(ExporterDeltas, OpenatRootOnlyFileAsNobodyIsDenied) {
  check({"openat-eacces", "20", g_dir + "/secret"},
        {{op("io_uring_sqes_submitted_total", "openat"), 20},
         {res("openat", "EACCES"), 20},
         {op("io_uring_denials_total", "openat"), 20}},
        65534);
}

TEST_F(ExporterDeltas, TimeoutsExpireWithEtime) {
  check({"timeout", "5"}, {{op("io_uring_sqes_submitted_total", "timeout"), 5},
                           {res("timeout", "ETIME"), 5},
                           {res("timeout", "ok"), 0},
                           {lat_count("timeout"), 5}});
}

TEST_F(ExporterDeltas, SqpollRing) {
  check({"sqpoll", "100"},
        {{op("io_uring_sqes_submitted_total", "nop"), 100},
         {res("nop", "ok"), 100},
         {series("io_uring_rings_created_total"), 1},
         {series("io_uring_rings_created_by_flag_total", {{"flag", "sqpoll"}}), 1}});
}

TEST_F(ExporterDeltas, MultishotCountsOneRequestAndOneLatencySample) {
  // One multishot timeout firing 6 times: 5 CQEs with F_MORE (posted without a request on
  // current kernels), then the final one.
  check({"multishot", "6"},
        {{op("io_uring_sqes_submitted_total", "timeout"), 1},
         {res("timeout", "ETIME"), 1},
         {lat_count("timeout"), 1},
         {series("io_uring_cqes_without_request_total", {{"kind", "multishot"}}), 5}});
}

TEST_F(ExporterDeltas, AsyncPuntsToIoWq) {
  check({"punt", "40", g_dir + "/data"}, {{op("io_uring_sqes_submitted_total", "read"), 40},
                                          {op("io_uring_async_punts_total", "read"), 40},
                                          {res("read", "ok"), 40}});
}

TEST_F(ExporterDeltas, RequestsFailedAtInit) {
  check({"fail", "7"}, {{op("io_uring_requests_failed_total", "nop"), 7},
                        {res("nop", "EINVAL"), 7},
                        {op("io_uring_sqes_submitted_total", "nop"), 0}});
}

TEST_F(ExporterDeltas, CqOverflow) {
  // 12 NOPs into a CQ of 8 without reaping: 4 CQEs overflow. Overflowed CQEs bypass the
  // io_uring_complete tracepoint, so only 8 count as completions.
  check({"overflow", "12"}, {{op("io_uring_sqes_submitted_total", "nop"), 12},
                             {series("io_uring_cq_overflows_total"), 4},
                             {series("io_uring_cqes_dropped_total"), 0},
                             {res("nop", "ok"), 8}});
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
  RunResult r = run_command({workload(), "nop", "500"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command({workload(), "openat-enoent", "30", "/nonexistent/iou"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Samples s1 = e.scrape();
  auto d = [&](const std::string& k) { return value(s1, k) - value(s0, k); };
  EXPECT_EQ(d(op("io_uring_sqes_submitted_total", "nop")), 500);
  EXPECT_EQ(d(res("nop", "ok")), 500);
  EXPECT_EQ(d(lat_count("nop")), 500);
  EXPECT_EQ(d(res("openat", "ENOENT")), 30);
  EXPECT_EQ(d(series("io_uring_rings_created_total")), 2);
}

TEST(ExporterVariants, LatencyOffStillCountsExactly) {
  ExporterProcess e({"--no-collector.ops.latency"});
  ASSERT_TRUE(e.started()) << e.log();
  Samples s0 = e.scrape();
  RunResult r = run_command({workload(), "nop", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Samples s1 = e.scrape();
  EXPECT_EQ(value(s1, op("io_uring_sqes_submitted_total", "nop")) -
                value(s0, op("io_uring_sqes_submitted_total", "nop")),
            200);
  EXPECT_EQ(value(s1, res("nop", "ok")) - value(s0, res("nop", "ok")), 200);
  for (const auto& [key, v] : s1) EXPECT_EQ(key.find("latency_seconds"), std::string::npos) << key;
}

// 32 timeouts in flight at once over a 2-entry in-flight table (one pair): the first 2 take the
// entries, the other 30 complete without a latency sample and are counted as untracked. Nothing
// is lost: completions stay exact and samples + untracked = completions.
TEST(ExporterVariants, CollidingRequestsLoseOnlyTheirLatencySampleAndAreCounted) {
  ExporterProcess e({"--bpf.inflight-entries=2"});
  ASSERT_TRUE(e.started()) << e.log();
  Samples s0 = e.scrape();
  RunResult r = run_command({workload(), "timeout", "32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Samples s1 = e.scrape();
  auto d = [&](const std::string& k) { return value(s1, k) - value(s0, k); };
  const std::string untracked = series("io_uring_exporter_latency_untracked_total");
  EXPECT_EQ(d(op("io_uring_sqes_submitted_total", "timeout")), 32);
  EXPECT_EQ(d(res("timeout", "ETIME")), 32);
  EXPECT_EQ(d(lat_count("timeout")), 2);
  EXPECT_EQ(d(untracked), 30);
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
