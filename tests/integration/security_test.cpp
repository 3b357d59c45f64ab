// Root integration tests of the security signals on the running kernel: setup refusals by
// reason (kernel.io_uring_disabled, restored afterwards), register refusals, personalities,
// uring_cmd, posture gauges, and honest absence of hooks the kernel refuses to probe.
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "support/delta_check.h"
#include "support/exporter_process.h"
#include "support/prom_text.h"
#include "support/test_cgroup.h"

namespace iouring::test {
namespace {

const char* kDisabled = "/proc/sys/kernel/io_uring_disabled";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Sets kernel.io_uring_disabled for the lifetime of the guard, then restores it.
class SysctlGuard {
 public:
  SysctlGuard() : saved_(read_file(kDisabled)) {}
  ~SysctlGuard() { set(saved_); }
  void set(const std::string& v) {
    std::ofstream(kDisabled) << v << "\n";
    // The exporter publishes the sysctl to its BPF classifier once a second.
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  }

 private:
  std::string saved_;
};

// One exporter (default flags) for the suite; each test runs its workloads in a fresh cgroup
// and checks node-wide deltas with DeltaCheck (retried while other io_uring users are active).
class Security : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { exporter_ = std::make_unique<ExporterProcess>(std::vector<std::string>{}); }
  static void TearDownTestSuite() { exporter_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(exporter_->started()) << exporter_->log();
    if (cgroup2_mount().empty())
      GTEST_SKIP() << "no cgroup v2 hierarchy: per-workload counts unavailable";
    cgroup_ = std::make_unique<TestCgroup>("iou-sec");
    ASSERT_TRUE(cgroup_->ok()) << cgroup_->why();
  }
  void TearDown() override { cgroup_.reset(); }

  DeltaCheck delta_check() const {
    return DeltaCheck([] { return exporter_->scrape(); }, cgroup_->path());
  }

  static std::unique_ptr<ExporterProcess> exporter_;
  std::unique_ptr<TestCgroup> cgroup_;
};
std::unique_ptr<ExporterProcess> Security::exporter_;

Selector refusal(const char* reason) {
  return {"io_uring_setup_refusals_total", {{"reason", reason}}};
}
const Selector kSetupCalls{"io_uring_setup_calls_total", {}};
const Selector kRings{"io_uring_rings_created_total", {}};
const Selector kOwnRings{"io_uring_workload_rings_created_total", {}};
const Selector kRegisterCalls{"io_uring_register_calls_total", {}};

// Setups refused by the sysctl create no ring and submit nothing: a setup call is the only trace
// another process's refused attempt leaves, so setup calls are a probe known by construction
// (each iou_workload run calls io_uring_setup once). The sysctl is set outside the windows (the
// exporter needs a second to see it), so each window holds only the workload runs.
TEST_F(Security, SetupRefusalsByReason) {
  if (access(kDisabled, W_OK) != 0) GTEST_SKIP() << "kernel without kernel.io_uring_disabled";
  SysctlGuard guard;
  const TestCgroup& cg = *cgroup_;

  guard.set("2");  // disabled for everyone, root included
  DeltaCheck disabled = delta_check();
  disabled.known("setup calls", kSetupCalls, 3)
      .node(refusal("disabled"), 3)
      .node(refusal("not_permitted"), 0)
      .node(refusal("lsm"), 0)
      .node(refusal("other"), 0)
      .node(kSetupCalls, 3)
      .node(kRings, 0)
      .own(kOwnRings, 0);
  CheckResult r = disabled.run([&] {
    cg.run_refused({"nop", "1"});
    cg.run_refused({"nop", "1"});
    cg.run_refused({"nop", "1"}, 65534);
  });
  EXPECT_TRUE(r.passed) << "kernel.io_uring_disabled=2: " << r.report;

  guard.set("1");  // only root (CAP_SYS_ADMIN) or kernel.io_uring_group
  DeltaCheck restricted = delta_check();
  restricted.known("setup calls", kSetupCalls, 2)
      .node(refusal("disabled"), 0)
      .node(refusal("not_permitted"), 1)
      .node(refusal("lsm"), 0)
      .node(refusal("other"), 0)
      .node(kSetupCalls, 2)
      .node(kRings, 1)
      .own(kOwnRings, 1);
  r = restricted.run([&] {
    cg.run_ok({"nop", "1"});
    cg.run_refused({"nop", "1"}, 65534);
  });
  EXPECT_TRUE(r.passed) << "kernel.io_uring_disabled=1: " << r.report;

  guard.set("0");
  DeltaCheck enabled = delta_check();
  enabled.known("setup calls", kSetupCalls, 1)
      .node(refusal("disabled"), 0)
      .node(refusal("not_permitted"), 0)
      .node(kSetupCalls, 1)
      .node(kRings, 1)
      .own(kOwnRings, 1);
  r = enabled.run([&] { cg.run_ok({"nop", "1"}, 65534); });
  EXPECT_TRUE(r.passed) << "kernel.io_uring_disabled=0: " << r.report;
  EXPECT_EQ(value(r.last.after, series("io_uring_disabled_sysctl")),
            std::stod(read_file(kDisabled)));
}

// Register calls on an existing ring need no new ring nor request: a probe known by
// construction (register-invalid: 4 calls; restricted: restrictions, enable, 3 probes).
TEST_F(Security, RegisterRefusalsAndRestrictions) {
  DeltaCheck c = delta_check();
  c.known("register calls", kRegisterCalls, 9)
      .node({"io_uring_register_refusals_total", {{"opcode", "unknown"}, {"errno", "EINVAL"}}}, 4)
      .node({"io_uring_register_calls_total", {{"opcode", "unknown"}}}, 4)
      .node({"io_uring_restrictions_registered_total", {}}, 1)
      .node({"io_uring_register_calls_total", {{"opcode", "register_enable_rings"}}}, 1)
      .node({"io_uring_register_refusals_total",
             {{"opcode", "register_probe"}, {"errno", "EACCES"}}},
            3)
      .own(kOwnRings, 2);
  CheckResult r = c.run([&] {
    cgroup_->run_ok({"register-invalid", "4"});
    cgroup_->run_ok({"restricted", "3"});
  });
  EXPECT_TRUE(r.passed) << r.report;
}

TEST_F(Security, PersonalityUse) {
  DeltaCheck c = delta_check();
  c.known("register calls", kRegisterCalls, 1)
      .node({"io_uring_personalities_registered_total", {}}, 1)
      .node({"io_uring_personality_requests_total", {{"op", "nop"}}}, 25)
      .node({"io_uring_sqes_submitted_total", {{"op", "nop"}}}, 25)
      .own({"io_uring_workload_sqes_submitted_total", {{"op", "nop"}}}, 25);
  CheckResult r = c.run([&] { cgroup_->run_ok({"personality", "25"}); });
  EXPECT_TRUE(r.passed) << r.report;
}

TEST_F(Security, UringCmdOnSocket) {
  // Kernels before 6.7 refuse the command: the workload fails, and the test skips.
  RunResult probe = cgroup_->run({"uring-cmd-socket", "1"});
  if (probe.exit_code != 0) GTEST_SKIP() << "kernel without socket uring_cmd (6.7+)";
  DeltaCheck c = delta_check();
  c.node({"io_uring_uring_cmd_requests_total",
          {{"cmd_op", "socket_siocinq"}, {"target", "socket"}}},
         9)
      .node({"io_uring_sqes_submitted_total", {{"op", "uring_cmd"}}}, 9)
      .own({"io_uring_workload_sqes_submitted_total", {{"op", "uring_cmd"}}}, 9)
      .own({"io_uring_workload_completions_total", {{"result", "ok"}}}, 9);
  CheckResult r = c.run([&] { cgroup_->run_ok({"uring-cmd-socket", "9"}); });
  EXPECT_TRUE(r.passed) << r.report;
}

TEST_F(Security, PostureGauges) {
  Samples s = exporter_->scrape();
  utsname u{};
  uname(&u);
  EXPECT_EQ(value(s, series("io_uring_kernel_info", {{"release", u.release}})), 1);
  std::string lsms = read_file("/sys/kernel/security/lsm");
  if (lsms.empty()) GTEST_SKIP() << "securityfs not mounted";
  std::stringstream ss(lsms);
  std::string name;
  int n = 0;
  while (std::getline(ss, name, ',')) {
    EXPECT_EQ(value(s, series("io_uring_lsm_active", {{"lsm", name}})), 1) << name;
    ++n;
  }
  int found = 0;
  for (const auto& [k, v] : s) found += k.rfind("io_uring_lsm_active{", 0) == 0;
  EXPECT_EQ(found, n);
  EXPECT_EQ(value(s, series("io_uring_bpf_lsm_active")),
            lsms.find("bpf") != std::string::npos ? 1 : 0);
  EXPECT_TRUE(s.count(series("io_uring_audit_enabled")));
}

// Where the kernel refuses fentry/fexit/lsm (as this CI host does) the hook metrics must be
// absent rather than zero, and the probes reported with their state.
TEST_F(Security, RefusedHooksAreReportedNotZero) {
  Samples s = exporter_->scrape();
  for (const char* hook : {"override_creds", "sqpoll", "cmd"}) {
    std::string attached_key;
    double attached = -1;
    for (const auto& [k, v] : s)
      if (k.rfind("io_uring_exporter_probe_attached{", 0) == 0 &&
          k.find("probe=\"hook_" + std::string(hook) + "\"") != std::string::npos) {
        attached_key = k;
        attached = v;
      }
    ASSERT_FALSE(attached_key.empty()) << hook;
    bool has_metric = s.count(series("io_uring_lsm_hook_calls_total", {{"hook", hook}})) > 0;
    EXPECT_EQ(has_metric, attached == 1) << attached_key;
    if (attached == 0) {
      EXPECT_EQ(attached_key.find("state=\"attached\""), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace iouring::test
