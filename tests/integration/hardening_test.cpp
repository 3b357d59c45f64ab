// Root integration tests of production hardening on the running kernel, with the real binary:
//  - least privilege: every capability set of every exporter thread is empty after start-up
//    (or holds exactly --runtime.keep-capabilities), no_new_privs is set, and scrapes stay exact;
//  - restart continuity through pinned maps and links: counts continue exactly across SIGTERM
//    and SIGKILL, events between two exporters are counted once, two exporters sharing the pins
//    do not double count, incompatible pinned state is replaced (or left alone while in use),
//    and --bpf.uninstall detaches and removes everything.
// Counts are read per workload (a private cgroup v2 per test), so other io_uring users on the
// host do not disturb the exact deltas. Every test pins under its own /sys/fs/bpf directory and
// removes it.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config.h"
#include "pinning.h"
#include "privileges.h"
#include "support/exporter_process.h"
#include "support/prom_text.h"
#include "support/test_cgroup.h"

namespace iouring::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// The exporter as a child process we can signal and inspect (/proc/<pid>).
using Exporter = ExporterProcess;

// Field of /proc/<pid>/task/<tid>/status for every thread.
std::vector<std::string> thread_fields(pid_t pid, const std::string& key) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::stringstream ss(slurp(t.path() / "status"));
    for (std::string line; std::getline(ss, line);)
      if (line.rfind(key + ":", 0) == 0) {
        std::string v = line.substr(key.size() + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        out.push_back(v);
      }
  }
  return out;
}

std::string hex16(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Link ids behind the pins of `dir`/links, to tell whether the programs are still attached.
std::vector<uint32_t> pinned_link_ids(const std::string& dir) {
  std::vector<uint32_t> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/links", ec)) {
    int fd = bpf_obj_get(e.path().c_str());
    if (fd < 0) continue;
    struct bpf_link_info info = {};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.push_back(info.id);
    close(fd);
  }
  return ids;
}

bool link_alive(uint32_t id) {
  int fd = bpf_link_get_fd_by_id(id);
  if (fd < 0) return false;
  close(fd);
  return true;
}

class Hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cgroup2_mount().empty())
      GTEST_SKIP() << "no cgroup v2 hierarchy: per-workload counts unavailable";
    cgroup_ = std::make_unique<TestCgroup>("iou-hard");
    ASSERT_TRUE(cgroup_->ok()) << cgroup_->why();
    static int n = 0;
    pin_ = "/sys/fs/bpf/iou_hard_" + std::to_string(getpid()) + "_" + std::to_string(++n);
  }
  void TearDown() override {
    if (!pin_.empty()) {
      run_command({IOU_EXPORTER_BIN, "--bpf.pin-path=" + pin_, "--bpf.uninstall"});
      fs::remove_all(pin_);
    }
    cgroup_.reset();
  }

  // Flags every exporter of a test shares (a restart with other flags is another test).
  std::vector<std::string> args(std::vector<std::string> extra = {}, bool pinned = true) const {
    std::vector<std::string> a = {"--attribution.granularity=cgroup",
                                  pinned ? "--bpf.pin-path=" + pin_ : "--no-bpf.pin"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  // `n` NOPs from a process in this test's cgroup.
  void nops(long n) { ASSERT_NO_THROW(cgroup_->run_ok({"nop", std::to_string(n)})); }
  std::string submitted() const {
    return series("io_uring_workload_sqes_submitted_total",
                  {{"cgroup", cgroup_->path()}, {"op", "nop"}});
  }
  std::string completed() const {
    return series("io_uring_workload_completions_total",
                  {{"cgroup", cgroup_->path()}, {"result", "ok"}});
  }
  // Submissions and completions of this test's NOPs, as one exporter sees them.
  void expect_nops(const Exporter& e, double want, const char* when) {
    Samples s = e.scrape();
    EXPECT_EQ(value(s, submitted()), want) << when << "\n" << e.log();
    EXPECT_EQ(value(s, completed()), want) << when;
  }

  void restart_continues(int sig);

  std::unique_ptr<TestCgroup> cgroup_;
  std::string pin_;
};

// --- flags (no root needed)

Config parsed(std::vector<const char*> argv, ParseStatus want = ParseStatus::run) {
  argv.insert(argv.begin(), "io_uring_exporter");
  Config c;
  ParseResult r = parse_config(static_cast<int>(argv.size()), argv.data(), c);
  EXPECT_EQ(r.status, want) << r.message;
  return c;
}

TEST(HardeningFlags, PinPathDefaultsAndDisables) {
  EXPECT_EQ(parsed({}).bpf_pin_path, "");  // off by default: nothing outlives a casual run
  EXPECT_EQ(parsed({"--bpf.pin"}).bpf_pin_path, kDefaultPinPath);
  EXPECT_EQ(parsed({"--bpf.uninstall"}).bpf_pin_path, kDefaultPinPath);
  EXPECT_EQ(parsed({"--bpf.pin-path=/sys/fs/bpf/x"}).bpf_pin_path, "/sys/fs/bpf/x");
  // An empty value disables pinning (CLI11 must not fall back to the default, nor take the
  // next argument as the value).
  Config c = parsed({"--bpf.pin-path=", "--log.level=debug"});
  EXPECT_EQ(c.bpf_pin_path, "");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(parsed({"--no-bpf.pin"}).bpf_pin_path, "");
  EXPECT_TRUE(parsed({"--bpf.uninstall"}).bpf_uninstall);
  parsed({"--bpf.pin-path=", "--bpf.uninstall"}, ParseStatus::exit_failure);
}

TEST(HardeningFlags, KeepCapabilities) {
  EXPECT_EQ(parsed({}).keep_capabilities, 0u);
  EXPECT_EQ(parsed({"--runtime.keep-capabilities=CAP_AUDIT_CONTROL,cap_net_bind_service"})
                .keep_capabilities,
            (uint64_t{1} << 30) | (uint64_t{1} << 10));
  parsed({"--runtime.keep-capabilities=CAP_WHATEVER"}, ParseStatus::exit_failure);
}

TEST(HardeningFlags, RecordMismatchNamesTheDifference) {
  PinRecord ours;
  ours.abi_version = 2;
  ours.layout_hash = 1;
  ours.program_hash = 1;
  EXPECT_EQ(record_mismatch(ours, ours), "");
  PinRecord other = ours;
  other.abi_version = 1;
  EXPECT_NE(record_mismatch(other, ours).find("ABI version 1, this exporter has 2"),
            std::string::npos);
  other = ours;
  other.program_hash = 2;
  EXPECT_NE(record_mismatch(other, ours).find("start-up options"), std::string::npos);
  other = ours;
  other.magic = 0;
  EXPECT_NE(record_mismatch(other, ours).find("not an io_uring_exporter record"),
            std::string::npos);
}

// --- least privilege

TEST_F(Hardening, DropsEveryCapabilityAndStillCountsExactly) {
  Exporter e(args({}, false));
  ASSERT_TRUE(e.started()) << e.log();
  // Every thread (the HTTP workers and the posture refresher too): nothing left.
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    auto values = thread_fields(e.pid(), set);
    ASSERT_FALSE(values.empty()) << set;
    for (const auto& v : values) EXPECT_EQ(v, hex16(0)) << set;
  }
  for (const auto& v : thread_fields(e.pid(), "NoNewPrivs")) EXPECT_EQ(v, "1");
  EXPECT_GT(thread_fields(e.pid(), "CapEff").size(), 1u) << "threads start after the drop";

  // Map reads through the fds opened while privileged need no capability: still exact.
  nops(1000);
  expect_nops(e, 1000, "after the drop");
  Samples s = e.scrape();
  EXPECT_EQ(value(s, series("io_uring_workload_completion_latency_seconds_count",
                            {{"cgroup", cgroup_->path()}})),
            1000);
  // Program info (recursion misses) needs none either; nor the posture files.
  EXPECT_TRUE(s.count(series("io_uring_exporter_bpf_recursion_misses_total",
                             {{"probe", "submit"}})));
  EXPECT_TRUE(s.count(series("io_uring_bpf_lsm_active")));
  // The audit status is the one read at start-up (AUDIT_GET needs CAP_AUDIT_CONTROL).
  EXPECT_TRUE(s.count(series("io_uring_audit_enabled")));
  for (const char* map : {"ops_stats", "workload_stats"})
    EXPECT_EQ(value(s, series("io_uring_exporter_map_read_errors_total", {{"map", map}})), 0)
        << map;
  EXPECT_NE(e.log().find("capabilities dropped (kept: none), no_new_privs set"), std::string::npos)
      << e.log();
  EXPECT_EQ(e.stop(), 0) << e.log();
}

TEST_F(Hardening, KeepsOnlyTheNamedCapabilities) {
  Exporter e(args({"--runtime.keep-capabilities=CAP_AUDIT_CONTROL"}, false));
  ASSERT_TRUE(e.started()) << e.log();
  const std::string audit = hex16(uint64_t{1} << kCapAuditControl);
  for (const auto& v : thread_fields(e.pid(), "CapEff")) EXPECT_EQ(v, audit);
  for (const auto& v : thread_fields(e.pid(), "CapPrm")) EXPECT_EQ(v, audit);
  for (const auto& v : thread_fields(e.pid(), "CapBnd")) EXPECT_EQ(v, audit);
  for (const auto& v : thread_fields(e.pid(), "CapInh")) EXPECT_EQ(v, hex16(0));
  for (const auto& v : thread_fields(e.pid(), "CapAmb")) EXPECT_EQ(v, hex16(0));
  for (const auto& v : thread_fields(e.pid(), "NoNewPrivs")) EXPECT_EQ(v, "1");
  EXPECT_TRUE(e.scrape().count(series("io_uring_audit_enabled")));
  nops(10);
  expect_nops(e, 10, "keeping CAP_AUDIT_CONTROL");
}

TEST_F(Hardening, RefusesUnknownCapabilityNames) {
  RunResult r = run_command({IOU_EXPORTER_BIN, "--runtime.keep-capabilities=CAP_BPF,CAP_NOPE"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown capability 'CAP_NOPE'"), std::string::npos) << r.output;
  uint64_t mask = 0;
  std::string why;
  ASSERT_TRUE(parse_capability_list({"cap_bpf", "PERFMON", "CAP_AUDIT_CONTROL"}, mask, why));
  EXPECT_EQ(mask, (uint64_t{1} << 39) | (uint64_t{1} << 38) | (uint64_t{1} << 30));
  EXPECT_EQ(capability_list(mask), "CAP_AUDIT_CONTROL,CAP_PERFMON,CAP_BPF");
}

// --- restart continuity

// 300 NOPs while the first exporter runs, 200 while none runs (the pinned links keep counting),
// 100 under the second: every NOP exactly once.
void Hardening::restart_continues(int sig) {
  {
    Exporter a(args());
    ASSERT_TRUE(a.started()) << a.log();
    EXPECT_NE(a.log().find("BPF state pinned in"), std::string::npos) << a.log();
    nops(300);
    expect_nops(a, 300, "first exporter");
    EXPECT_EQ(a.stop(sig), sig == SIGTERM ? 0 : 128 + sig) << a.log();
  }
  nops(200);  // no exporter runs
  Exporter b(args());
  ASSERT_TRUE(b.started()) << b.log();
  EXPECT_NE(b.log().find("reusing the BPF state pinned in"), std::string::npos) << b.log();
  EXPECT_NE(b.log().find("(kept attached by its pinned link)"), std::string::npos) << b.log();
  EXPECT_EQ(count_lines_with(b.log(), "does not match"), 0u) << b.log();
  expect_nops(b, 500, "second exporter, before its own work");
  nops(100);
  expect_nops(b, 600, "second exporter");
  EXPECT_EQ(b.stop(), 0);
}

TEST_F(Hardening, RestartAfterSigtermContinuesExactly) { restart_continues(SIGTERM); }

TEST_F(Hardening, RestartAfterSigkillContinuesExactly) { restart_continues(SIGKILL); }

TEST_F(Hardening, TwoExportersSharingPinsDoNotDoubleCount) {
  Exporter a(args());
  ASSERT_TRUE(a.started()) << a.log();
  Exporter b(args());
  ASSERT_TRUE(b.started()) << b.log();
  EXPECT_NE(b.log().find("reusing the BPF state pinned in"), std::string::npos) << b.log();
  nops(250);
  expect_nops(a, 250, "first of two");
  expect_nops(b, 250, "second of two");
  EXPECT_EQ(a.stop(), 0);
  nops(50);
  expect_nops(b, 300, "second, alone");
}

// Writes an abi record of another ABI version, as an older or newer exporter would have.
void write_foreign_record(const std::string& dir, uint64_t abi_version) {
  unlink((dir + "/abi").c_str());
  PinRecord rec;
  rec.abi_version = abi_version;
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "iou_pin_abi", 4, sizeof(rec), 1, nullptr);
  ASSERT_GE(fd, 0);
  uint32_t zero = 0;
  ASSERT_EQ(bpf_map_update_elem(fd, &zero, &rec, BPF_ANY), 0);
  ASSERT_EQ(bpf_obj_pin(fd, (dir + "/abi").c_str()), 0);
  close(fd);
}

TEST_F(Hardening, AbiMismatchStartsFreshWithOneWarning) {
  {
    Exporter a(args());
    ASSERT_TRUE(a.started()) << a.log();
    nops(100);
    expect_nops(a, 100, "before the mismatch");
  }  // SIGKILL: the pins stay
  auto old_links = pinned_link_ids(pin_);
  ASSERT_FALSE(old_links.empty());
  write_foreign_record(pin_, 999);

  Exporter b(args());
  ASSERT_TRUE(b.started()) << b.log();
  const std::string log = b.log();
  EXPECT_EQ(count_lines_with(log, "does not match this exporter"), 1u) << log;
  EXPECT_NE(log.find("ABI version 999"), std::string::npos) << log;
  // The old state is gone (its programs detached), nothing from it is mixed into the new counts.
  for (uint32_t id : old_links) EXPECT_FALSE(link_alive(id)) << "link " << id;
  nops(40);
  expect_nops(b, 40, "fresh after the mismatch");
  EXPECT_EQ(b.stop(), 0) << b.log();

  // The replacement is a valid pinned state: the next restart continues from it.
  Exporter c(args());
  ASSERT_TRUE(c.started()) << c.log();
  EXPECT_EQ(count_lines_with(c.log(), "does not match"), 0u) << c.log();
  nops(2);
  expect_nops(c, 42, "restart after the replacement");
}

TEST_F(Hardening, OtherFlagsWhileInUseRunUnpinnedAndLeaveThePins) {
  Exporter a(args());
  ASSERT_TRUE(a.started()) << a.log();
  auto links = pinned_link_ids(pin_);
  // Other start-up options change what the programs do: never mixed with the running state.
  Exporter b(args({"--no-collector.ops.latency"}));
  ASSERT_TRUE(b.started()) << b.log();
  const std::string log = b.log();
  EXPECT_EQ(count_lines_with(log, "does not match this exporter"), 1u) << log;
  EXPECT_NE(log.find("another exporter uses it: running unpinned"), std::string::npos) << log;
  EXPECT_NE(log.find("--bpf.uninstall"), std::string::npos) << log;
  nops(70);
  expect_nops(a, 70, "pinned exporter");
  expect_nops(b, 70, "unpinned exporter with other flags");
  EXPECT_EQ(pinned_link_ids(pin_), links) << "the running exporter's pins were replaced";
  EXPECT_EQ(b.stop(), 0);
  nops(5);
  expect_nops(a, 75, "pinned exporter after the other stopped");
}

TEST_F(Hardening, UninstallDetachesAndRemovesThePins) {
  {
    Exporter a(args());
    ASSERT_TRUE(a.started()) << a.log();
    EXPECT_EQ(a.stop(), 0);
  }
  auto links = pinned_link_ids(pin_);
  ASSERT_FALSE(links.empty());
  for (uint32_t id : links) EXPECT_TRUE(link_alive(id)) << "pinned link " << id << " detached";
  RunResult r = run_command({IOU_EXPORTER_BIN, "--bpf.pin-path=" + pin_, "--bpf.uninstall"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("removed"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(pin_));
  for (uint32_t id : links) EXPECT_FALSE(link_alive(id)) << "link " << id << " still attached";
  // Nothing left to remove is not an error.
  r = run_command({IOU_EXPORTER_BIN, "--bpf.pin-path=" + pin_, "--bpf.uninstall"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // A path outside bpffs is never removed.
  char tmpl[] = "/tmp/iou_hard_notbpf_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/keep") << "x";
  r = run_command({IOU_EXPORTER_BIN, "--bpf.pin-path=" + dir, "--bpf.uninstall"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir + "/keep"));
  fs::remove_all(dir);
}

TEST_F(Hardening, NeverUsesAForeignDirectory) {
  // Another tool's directory: the exporter runs unpinned and touches nothing in it.
  ASSERT_EQ(mkdir(pin_.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((pin_ + "/theirs").c_str(), 0700), 0);
  {
    Exporter e(args());
    ASSERT_TRUE(e.started()) << e.log();
    EXPECT_EQ(count_lines_with(e.log(), "theirs, which is not the exporter's"), 1u) << e.log();
    nops(3);
    expect_nops(e, 3, "unpinned beside a foreign directory");
  }
  EXPECT_TRUE(fs::exists(pin_ + "/theirs"));
  EXPECT_FALSE(fs::exists(pin_ + "/maps"));
  // The bpffs mount itself is never used, emptied, nor has its mode changed.
  struct stat before {}, after {};
  ASSERT_EQ(stat("/sys/fs/bpf", &before), 0);
  {
    Exporter e({"--attribution.granularity=cgroup", "--bpf.pin-path=/sys/fs/bpf/"});
    ASSERT_TRUE(e.started()) << e.log();
    EXPECT_EQ(count_lines_with(e.log(), "root of a bpf filesystem"), 1u) << e.log();
  }
  RunResult r = run_command({IOU_EXPORTER_BIN, "--bpf.pin-path=/sys/fs/bpf/", "--bpf.uninstall"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("root of a bpf filesystem"), std::string::npos) << r.output;
  ASSERT_EQ(stat("/sys/fs/bpf", &after), 0);
  EXPECT_EQ(after.st_mode, before.st_mode);
}

TEST_F(Hardening, IncompleteStateIsReplaced) {
  {
    Exporter a(args());
    ASSERT_TRUE(a.started()) << a.log();
    nops(9);
  }
  // As if killed while installing: pins but no abi record (it is written last).
  ASSERT_EQ(unlink((pin_ + "/abi").c_str()), 0);
  auto old_links = pinned_link_ids(pin_);
  Exporter b(args());
  ASSERT_TRUE(b.started()) << b.log();
  EXPECT_EQ(count_lines_with(b.log(), "it is incomplete"), 1u) << b.log();
  for (uint32_t id : old_links) EXPECT_FALSE(link_alive(id)) << "link " << id;
  nops(4);
  expect_nops(b, 4, "after replacing an incomplete state");
}

}  // namespace
}  // namespace iouring::test
