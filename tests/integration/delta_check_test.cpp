// DeltaCheck on the running kernel with the real exporter: foreign io_uring activity injected
// into a window (NOPs from a second cgroup) is seen and retried, a window without it passes, and
// a deliberately wrong expectation fails, both in a clean window and when every window is
// disturbed. (The decisions themselves are unit-tested in tests/unit/delta_check_test.cpp.)
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "support/delta_check.h"
#include "support/exporter_process.h"
#include "support/test_cgroup.h"

namespace iouring::test {
namespace {

class DeltaCheckOnHost : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exporter_ = std::make_unique<ExporterProcess>(
        std::vector<std::string>{"--attribution.granularity=cgroup"});
  }
  static void TearDownTestSuite() { exporter_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(exporter_->started()) << exporter_->log();
    if (cgroup2_mount().empty())
      GTEST_SKIP() << "no cgroup v2 hierarchy: per-workload counts unavailable";
    mine_ = std::make_unique<TestCgroup>("iou-dc-mine");
    theirs_ = std::make_unique<TestCgroup>("iou-dc-theirs");
    ASSERT_TRUE(mine_->ok()) << mine_->why();
    ASSERT_TRUE(theirs_->ok()) << theirs_->why();
  }
  void TearDown() override {
    mine_.reset();
    theirs_.reset();
  }

  // 100 NOPs of the test's own, `want` expected node-wide.
  DeltaCheck nops(double want) const {
    DeltaCheck c([] { return exporter_->scrape(); }, mine_->path());
    c.node({"io_uring_sqes_submitted_total", {{"op", "nop"}}}, want)
        .own({"io_uring_workload_sqes_submitted_total", {{"op", "nop"}}}, 100)
        .pause(std::chrono::milliseconds(20));
    return c;
  }

  static std::unique_ptr<ExporterProcess> exporter_;
  std::unique_ptr<TestCgroup> mine_, theirs_;
};
std::unique_ptr<ExporterProcess> DeltaCheckOnHost::exporter_;

TEST_F(DeltaCheckOnHost, ForeignNopsInTheFirstWindowAreRetried) {
  int attempt = 0;
  CheckResult r = nops(100).run([&] {
    mine_->run_ok({"nop", "100"});
    if (++attempt == 1) theirs_->run_ok({"nop", "7"});
  });
  EXPECT_TRUE(r.passed) << r.report;
  EXPECT_GE(r.attempts, 2) << r.report;
  // The first window was retried, naming what it saw beyond the test's own 100 NOPs and ring.
  size_t first = r.report.find("attempt 1/5");
  ASSERT_NE(first, std::string::npos) << r.report;
  std::string line = r.report.substr(first, r.report.find('\n', first) - first);
  EXPECT_NE(line.find(" ms): retry; "), std::string::npos) << line;
  EXPECT_NE(line.find("foreign io_uring activity: SQEs submitted: node +"), std::string::npos)
      << line;
  EXPECT_NE(line.find(", this test +100 "), std::string::npos) << line;
}

TEST_F(DeltaCheckOnHost, WrongExpectationFailsInACleanWindow) {
  CheckResult r = nops(101).run([&] { mine_->run_ok({"nop", "100"}); });
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.report.find("node-wide mismatch in a window without foreign io_uring activity"),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("+100, want +101"), std::string::npos) << r.report;
}

TEST_F(DeltaCheckOnHost, ForeignNopsInEveryWindowFail) {
  // Even foreign NOPs that exactly make up a wrong expectation never pass it.
  CheckResult r = nops(101).run([&] {
    mine_->run_ok({"nop", "100"});
    theirs_->run_ok({"nop", "1"});
  });
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.attempts, 5);
  EXPECT_NE(r.report.find("foreign io_uring activity in all 5 windows"), std::string::npos)
      << r.report;
}

}  // namespace
}  // namespace iouring::test
