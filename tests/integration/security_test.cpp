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

#include "support/exporter_process.h"
#include "support/prom_text.h"

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

class Security : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { exporter_ = std::make_unique<ExporterProcess>(std::vector<std::string>{}); }
  static void TearDownTestSuite() { exporter_.reset(); }
  void SetUp() override { ASSERT_TRUE(exporter_->started()) << exporter_->log(); }

  static int workload(std::vector<std::string> args, int uid = -1) {
    args.insert(args.begin(), IOU_WORKLOAD_BIN);
    RunResult r = run_command(args, 60, uid);
    return r.exit_code;
  }
  static std::unique_ptr<ExporterProcess> exporter_;
};
std::unique_ptr<ExporterProcess> Security::exporter_;

std::string refusal(const char* reason) {
  return series("io_uring_setup_refusals_total", {{"reason", reason}});
}

TEST_F(Security, SetupRefusalsByReason) {
  if (access(kDisabled, W_OK) != 0) GTEST_SKIP() << "kernel without kernel.io_uring_disabled";
  SysctlGuard guard;
  Samples s0 = exporter_->scrape();

  guard.set("2");  // disabled for everyone, root included
  EXPECT_NE(workload({"nop", "1"}), 0);
  EXPECT_NE(workload({"nop", "1"}), 0);
  EXPECT_NE(workload({"nop", "1"}, 65534), 0);
  guard.set("1");  // only root (CAP_SYS_ADMIN) or kernel.io_uring_group
  EXPECT_EQ(workload({"nop", "1"}), 0);
  EXPECT_NE(workload({"nop", "1"}, 65534), 0);
  guard.set("0");
  EXPECT_EQ(workload({"nop", "1"}, 65534), 0);

  Samples s1 = exporter_->scrape();
  auto d = [&](const std::string& k) { return value(s1, k) - value(s0, k); };
  EXPECT_EQ(d(refusal("disabled")), 3);
  EXPECT_EQ(d(refusal("not_permitted")), 1);
  EXPECT_EQ(d(refusal("lsm")), 0);
  EXPECT_EQ(d(refusal("other")), 0);
  EXPECT_EQ(d(series("io_uring_setup_calls_total")), 6);
  EXPECT_EQ(d(series("io_uring_rings_created_total")), 2);
  EXPECT_EQ(value(s1, series("io_uring_disabled_sysctl")), std::stod(read_file(kDisabled)));
}

TEST_F(Security, RegisterRefusalsAndRestrictions) {
  Samples s0 = exporter_->scrape();
  ASSERT_EQ(workload({"register-invalid", "4"}), 0);
  ASSERT_EQ(workload({"restricted", "3"}), 0);
  Samples s1 = exporter_->scrape();
  auto d = [&](const std::string& k) { return value(s1, k) - value(s0, k); };
  EXPECT_EQ(d(series("io_uring_register_refusals_total", {{"opcode", "unknown"}, {"errno", "EINVAL"}})), 4);
  EXPECT_EQ(d(series("io_uring_register_calls_total", {{"opcode", "unknown"}})), 4);
  EXPECT_EQ(d(series("io_uring_restrictions_registered_total")), 1);
  EXPECT_EQ(d(series("io_uring_register_calls_total", {{"opcode", "register_enable_rings"}})), 1);
  EXPECT_EQ(d(series("io_uring_register_refusals_total",
                     {{"opcode", "register_probe"}, {"errno", "EACCES"}})),
            3);
}

TEST_F(Security, PersonalityUse) {
  Samples s0 = exporter_->scrape();
  ASSERT_EQ(workload({"personality", "25"}), 0);
  Samples s1 = exporter_->scrape();
  auto d = [&](const std::string& k) { return value(s1, k) - value(s0, k); };
  EXPECT_EQ(d(series("io_uring_personalities_registered_total")), 1);
  EXPECT_EQ(d(series("io_uring_personality_requests_total", {{"op", "nop"}})), 25);
  EXPECT_EQ(d(series("io_uring_sqes_submitted_total", {{"op", "nop"}})), 25);
}

TEST_F(Security, UringCmdOnSocket) {
  Samples s0 = exporter_->scrape();
  int rc = workload({"uring-cmd-socket", "9"});
  if (rc != 0) GTEST_SKIP() << "kernel without socket uring_cmd (6.7+)";
  Samples s1 = exporter_->scrape();
  EXPECT_EQ(value(s1, series("io_uring_uring_cmd_requests_total",
                             {{"cmd_op", "socket_siocinq"}, {"target", "socket"}})) -
                value(s0, series("io_uring_uring_cmd_requests_total",
                                 {{"cmd_op", "socket_siocinq"}, {"target", "socket"}})),
            9);
  EXPECT_EQ(value(s1, series("io_uring_sqes_submitted_total", {{"op", "uring_cmd"}})) -
                value(s0, series("io_uring_sqes_submitted_total", {{"op", "uring_cmd"}})),
            9);
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
