// DeltaCheck's decisions without root or a kernel: windows over a fake host whose counters the
// test moves by hand (the test's own NOPs in its cgroup, a foreign user's NOPs elsewhere).
// Shows that foreign activity is retried, that only a clean window passes, that a wrong
// expectation fails in a clean window and after every attempt, and that the test's own series
// and impossible counts fail at once.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "support/delta_check.h"
#include "support/prom_text.h"

namespace iouring::test {
namespace {

constexpr const char* kMine = "/iou-it-1-1";
constexpr const char* kTheirs = "/system.slice/bench.service";

// Node-wide and per-cgroup counters as the exporter would show them (pod granularity labels).
class FakeHost {
 public:
  // `n` NOPs on one new ring from `cgroup`.
  void nops(const std::string& cgroup, double n) {
    add(series("io_uring_sqes_submitted_total", {{"op", "nop"}}), n);
    add(series("io_uring_completions_total", {{"op", "nop"}, {"result", "ok"}}), n);
    add(series("io_uring_rings_created_total"), 1);
    add(workload("io_uring_workload_sqes_submitted_total", cgroup, {{"op", "nop"}}), n);
    add(workload("io_uring_workload_completions_total", cgroup, {{"result", "ok"}}), n);
    add(workload("io_uring_workload_rings_created_total", cgroup, {}), 1);
  }
  void add(const std::string& key, double n) { samples_[key] += n; }
  Samples scrape() const { return samples_; }

 private:
  static std::string workload(const char* name, const std::string& cgroup,
                              std::map<std::string, std::string> labels) {
    labels["cgroup"] = cgroup;
    labels["pod_uid"] = "";
    return series(name, labels);
  }
  Samples samples_;
};

// Node-wide and own NOP submissions expected (the test's cgroup runs 100 in each window).
DeltaCheck nop_check(FakeHost& host, double want_node, double want_own = 100) {
  DeltaCheck c([&host] { return host.scrape(); }, kMine);
  c.node({"io_uring_sqes_submitted_total", {{"op", "nop"}}}, want_node)
      .own({"io_uring_workload_sqes_submitted_total", {{"op", "nop"}}}, want_own)
      .pause(std::chrono::milliseconds(0));
  return c;
}

TEST(PromTextSelector, SumsSeriesWhoseLabelsInclude) {
  Samples s = parse_prom_text(
      "a_total{op=\"nop\",result=\"ok\"} 3\n"
      "a_total{op=\"nop\",result=\"EINVAL\"} 4\n"
      "a_total{op=\"read\",result=\"ok\"} 5\n"
      "a_total_more{op=\"nop\"} 100\n"
      "a_bucket{op=\"nop\"} 100\n"
      "b_total 7\n");
  EXPECT_EQ(sum(s, {"a_total", {}}), 12);
  EXPECT_EQ(sum(s, {"a_total", {{"op", "nop"}}}), 7);
  EXPECT_EQ(sum(s, {"a_total", {{"op", "nop"}, {"result", "ok"}}}), 3);
  EXPECT_EQ(sum(s, {"a_total", {{"op", "write"}}}), 0);
  EXPECT_EQ(sum(s, {"b_total", {}}), 7);
  EXPECT_EQ(sum(s, {"b_total", {{"x", "y"}}}), 0);
  EXPECT_EQ(sum(s, {"c_total", {}}), 0);
  EXPECT_EQ(labels_of("a_total{op=\"nop\",result=\"ok\"}"),
            (std::map<std::string, std::string>{{"op", "nop"}, {"result", "ok"}}));
  EXPECT_TRUE(labels_of("b_total").empty());
}

TEST(JudgeWindow, CleanWindowThatMatchesPasses) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 100);
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}}};
  std::vector<Expectation> node = {{{"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 100}};
  WindowJudgement j = judge_window(w, node, {}, probes);
  EXPECT_EQ(j.verdict, Verdict::pass) << j.summary();
  EXPECT_TRUE(j.foreign.empty());
}

TEST(JudgeWindow, WrongExpectationInCleanWindowFails) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 100);
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}}};
  WindowJudgement j =
      judge_window(w, {{{"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 101}}, {}, probes);
  EXPECT_EQ(j.verdict, Verdict::fail);
  EXPECT_NE(j.failure.find("without foreign"), std::string::npos) << j.summary();
  ASSERT_EQ(j.mismatches.size(), 1u);
  EXPECT_NE(j.mismatches[0].find("+100, want +101"), std::string::npos) << j.mismatches[0];
}

TEST(JudgeWindow, MismatchWithForeignActivityIsRetried) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 100);
  host.nops(kTheirs, 30);
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}}};
  WindowJudgement j =
      judge_window(w, {{{"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 100}}, {}, probes);
  EXPECT_EQ(j.verdict, Verdict::retry);
  ASSERT_EQ(j.foreign.size(), 1u);
  EXPECT_NE(j.foreign[0].find("node +130, this test +100"), std::string::npos) << j.foreign[0];
}

TEST(JudgeWindow, ForeignActivityIsRetriedEvenWhenTheExpectationsHold) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 100);
  host.add(series("io_uring_sqes_submitted_total", {{"op", "read"}}), 5);  // foreign reads
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}}};
  WindowJudgement j =
      judge_window(w, {{{"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 100}}, {}, probes);
  EXPECT_EQ(j.verdict, Verdict::retry) << j.summary();
  EXPECT_TRUE(j.mismatches.empty());
  EXPECT_EQ(j.foreign.size(), 1u);
}

TEST(JudgeWindow, OwnExpectationsAloneNeedNoCleanWindow) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 100);
  host.nops(kTheirs, 30);
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}}};
  std::vector<Expectation> own = {
      {{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}, {"op", "nop"}}}, 100}};
  WindowJudgement j = judge_window(w, {}, own, probes);
  EXPECT_EQ(j.verdict, Verdict::pass) << j.summary();
}

TEST(JudgeWindow, OwnSeriesMismatchFailsEvenWithForeignActivity) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 99);
  host.nops(kTheirs, 1);
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}}};
  WindowJudgement j = judge_window(
      w, {{{"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 100}},
      {{{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}, {"op", "nop"}}}, 100}},
      probes);
  EXPECT_EQ(j.verdict, Verdict::fail);
  EXPECT_NE(j.failure.find("own series"), std::string::npos) << j.summary();
}

TEST(JudgeWindow, NodeBelowTheTestsOwnShareFails) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.nops(kMine, 100);
  host.add(series("io_uring_sqes_submitted_total", {{"op", "nop"}}), -1);  // a node-wide loss
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
       Selector{"io_uring_workload_sqes_submitted_total", {{"cgroup", kMine}}}},
      {"setup calls", {"io_uring_setup_calls_total", {}}, std::nullopt, 1}};
  WindowJudgement j = judge_window(w, {}, {}, probes);
  EXPECT_EQ(j.verdict, Verdict::fail);
  EXPECT_NE(j.failure.find("SQEs submitted: node +99, this test +100"), std::string::npos)
      << j.failure;
  EXPECT_NE(j.failure.find("setup calls: node +0, this test +1 (known)"), std::string::npos)
      << j.failure;
}

TEST(JudgeWindow, KnownCountAboveIsForeignActivity) {
  FakeHost host;
  Window w{host.scrape(), {}};
  host.add(series("io_uring_setup_calls_total"), 7);
  host.add(series("io_uring_setup_refusals_total", {{"reason", "disabled"}}), 4);
  w.after = host.scrape();
  std::vector<ActivityProbe> probes = {
      {"setup calls", {"io_uring_setup_calls_total", {}}, std::nullopt, 6}};
  WindowJudgement j = judge_window(
      w, {{{"io_uring_setup_refusals_total", {{"reason", "disabled"}}}, 3}}, {}, probes);
  EXPECT_EQ(j.verdict, Verdict::retry) << j.summary();
}

// --- the retry loop

TEST(DeltaCheckLoop, ForeignActivityInTheFirstWindowIsRetried) {
  FakeHost host;
  int attempt = 0;
  DeltaCheckStats before = delta_check_stats();
  CheckResult r = nop_check(host, 100).run([&] {
    host.nops(kMine, 100);
    if (++attempt == 1) host.nops(kTheirs, 7);
  });
  EXPECT_TRUE(r.passed) << r.report;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.report.find("attempt 1/5 ("), std::string::npos) << r.report;
  EXPECT_NE(r.report.find(" ms): retry"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("node +107, this test +100"), std::string::npos) << r.report;
  EXPECT_EQ(delta_check_stats().retries, before.retries + 1);
  EXPECT_EQ(delta_check_stats().windows, before.windows + 2);
}

TEST(DeltaCheckLoop, ForeignActivityInEveryWindowFails) {
  FakeHost host;
  CheckResult r = nop_check(host, 100).run([&] {
    host.nops(kMine, 100);
    host.nops(kTheirs, 1);
  });
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.attempts, 5);
  EXPECT_NE(r.report.find("foreign io_uring activity in all 5 windows"), std::string::npos)
      << r.report;
}

TEST(DeltaCheckLoop, WrongExpectationFailsAtTheFirstCleanWindow) {
  FakeHost host;
  int attempt = 0;
  CheckResult r = nop_check(host, 1000).run([&] {
    host.nops(kMine, 100);
    if (++attempt < 3) host.nops(kTheirs, 900);  // foreign NOPs filling the gap: retried
  });
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_NE(r.report.find("FAILED at attempt 3/5: node-wide mismatch in a window without "
                          "foreign io_uring activity"),
            std::string::npos)
      << r.report;
}

TEST(DeltaCheckLoop, ForeignActivityNeverMakesAWrongExpectationPass) {
  // Foreign NOPs making up exactly the missing 1: the test's own series must hold in every
  // window, and they do not.
  FakeHost host;
  CheckResult r = nop_check(host, 101, 101).run([&] {
    host.nops(kMine, 100);
    host.nops(kTheirs, 1);
  });
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.report.find("own series missed"), std::string::npos) << r.report;
}

TEST(DeltaCheckLoop, WorkloadFailureFailsAtOnce) {
  FakeHost host;
  CheckResult r =
      nop_check(host, 100).run([] { throw std::runtime_error("iou_workload exited 1"); });
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.report.find("could not measure: iou_workload exited 1"), std::string::npos)
      << r.report;
}

TEST(DeltaCheckLoop, FreshWindowsPerAttempt) {
  // run_windows: each attempt brings its own scrapes (a fresh exporter: `before` empty).
  int attempt = 0;
  DeltaCheck c([] { return Samples{}; });
  c.known("SQEs submitted", {"io_uring_sqes_submitted_total", {}}, 10)
      .node({"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 10)
      .pause(std::chrono::milliseconds(0));
  CheckResult r = c.run_windows([&] {
    FakeHost fresh;
    fresh.nops(kMine, 10);
    if (++attempt == 1) fresh.nops(kTheirs, 2);
    return Window{{}, fresh.scrape()};
  });
  EXPECT_TRUE(r.passed) << r.report;
  EXPECT_EQ(r.attempts, 2);
}

}  // namespace
}  // namespace iouring::test
