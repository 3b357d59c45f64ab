// Private cgroup v2 directories for root integration tests: a workload run inside one is told
// apart from every other io_uring user on the host by the exporter's per-workload counters
// (io_uring_workload_*{cgroup="<path>"}), which the node-wide counters are checked against.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "exporter_process.h"

namespace iouring::test {

// The cgroup v2 mount point (from /proc/self/mountinfo), "" when the host has none.
std::string cgroup2_mount();

// iou_workload ARGS... run as a process of the cgroup directory `dir` (absolute path), as `uid`
// when >= 0 (the move into the cgroup is done as root first).
RunResult run_in_cgroup(const std::string& dir, const std::vector<std::string>& args, int uid = -1,
                        int timeout_s = 60);

// A workload that did not do what the test needed; DeltaCheck reports it as the failure.
struct WorkloadFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A fresh cgroup directly below the cgroup2 mount, /<prefix>-<pid>-<n>, removed on destruction.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& prefix);
  ~TestCgroup();
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  // False without a cgroup v2 hierarchy or when the directory could not be made; why() says.
  bool ok() const { return !path_.empty(); }
  const std::string& why() const { return why_; }
  // Path relative to the mount: the exporter's `cgroup` label of this workload.
  const std::string& path() const { return path_; }
  std::string dir() const { return mount_ + path_; }

  RunResult run(const std::vector<std::string>& args, int uid = -1) const;
  // Runs and throws WorkloadFailed unless the workload exits 0. A ring refused with EPERM (some
  // other test on the host turned kernel.io_uring_disabled on for a moment) is tried again for
  // up to 30 s: a refused setup creates no ring and submits nothing, so counts stay exact.
  void run_ok(const std::vector<std::string>& args, int uid = -1) const;
  // Runs and throws WorkloadFailed if the workload succeeds (a setup the test expects refused).
  void run_refused(const std::vector<std::string>& args, int uid = -1) const;
  // Removes the directory now (the destructor does otherwise); false if it is still there.
  bool remove();

 private:
  std::string mount_, path_, why_;
};

}  // namespace iouring::test
