#include "test_cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "cgroup_resolver.h"

namespace iouring::test {
namespace {

std::string join(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

bool setup_refused(const RunResult& r) {
  return r.exit_code != 0 &&
         r.output.find("io_uring_queue_init: Operation not permitted") != std::string::npos;
}

}  // namespace

std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  return find_cgroup2_mount(ss.str()).value_or("");
}

RunResult run_in_cgroup(const std::string& dir, const std::vector<std::string>& args, int uid,
                        int timeout_s) {
  // The shell moves itself, then becomes the workload (which drops to `uid` itself).
  std::string cmd = "echo $$ > " + dir + "/cgroup.procs && exec " IOU_WORKLOAD_BIN;
  if (uid >= 0) cmd += " --uid " + std::to_string(uid);
  for (const auto& a : args) cmd += " " + a;
  return run_command({"/bin/sh", "-c", cmd}, timeout_s);
}

TestCgroup::TestCgroup(const std::string& prefix) {
  mount_ = cgroup2_mount();
  if (mount_.empty()) {
    why_ = "no cgroup v2 hierarchy: per-workload counts unavailable";
    return;
  }
  static std::atomic<int> n{0};
  std::string path = "/" + prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++n);
  if (mkdir((mount_ + path).c_str(), 0755) != 0) {
    why_ = "cannot create " + mount_ + path + ": " + std::strerror(errno);
    return;
  }
  path_ = path;
}

TestCgroup::~TestCgroup() { remove(); }

bool TestCgroup::remove() {
  if (path_.empty()) return true;
  // SQPOLL threads and io-wq workers leave the cgroup shortly after their process exited.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (rmdir(dir().c_str()) != 0) {
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline) return errno == ENOENT;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  path_.clear();
  return true;
}

RunResult TestCgroup::run(const std::vector<std::string>& args, int uid) const {
  return run_in_cgroup(dir(), args, uid);
}

void TestCgroup::run_ok(const std::vector<std::string>& args, int uid) const {
  RunResult r = run(args, uid);
  for (int i = 0; i < 300 && setup_refused(r); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    r = run(args, uid);
  }
  if (r.exit_code != 0)
    throw WorkloadFailed("iou_workload " + join(args) + " in " + path_ + " exited " +
                         std::to_string(r.exit_code) + ": " + r.output);
}

void TestCgroup::run_refused(const std::vector<std::string>& args, int uid) const {
  RunResult r = run(args, uid);
  if (r.exit_code == 0 || r.output.find("io_uring_queue_init") == std::string::npos)
    throw WorkloadFailed("iou_workload " + join(args) + " in " + path_ +
                         " should have been refused a ring, exited " +
                         std::to_string(r.exit_code) + ": " + r.output);
}

}  // namespace iouring::test
