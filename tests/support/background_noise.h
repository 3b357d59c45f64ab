// Another io_uring user on the host, to prove the integration tests immune to one: a process in
// a cgroup of its own that runs short iou_workload bursts (a new ring each: NOPs mostly, now and
// then SQPOLL, timeouts, requests failed at init, multishot CQEs, CQ overflow) with random
// pauses, from start until stopped. Test-only: tests/workload/iou_noise.cpp runs it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "test_cgroup.h"

namespace iouring::test {

// Pause before each burst, uniform in [min_gap_ms, max_gap_ms]. The default is a neighbour
// using io_uring about once a second: the longest window of the suite (a fresh exporter filling
// its attribution budget, 0.2 s) still finds a clean one within a few attempts.
struct NoiseProfile {
  int min_gap_ms = 50;
  int max_gap_ms = 2000;
};

// "1" (the default profile) or "MIN-MAX" (milliseconds); nullopt for anything else.
std::optional<NoiseProfile> parse_noise_profile(const std::string& text);

class BackgroundNoise {
 public:
  explicit BackgroundNoise(NoiseProfile profile);
  ~BackgroundNoise() { stop(); }
  BackgroundNoise(const BackgroundNoise&) = delete;
  BackgroundNoise& operator=(const BackgroundNoise&) = delete;

  bool running() const { return pid_ > 0; }
  const std::string& why() const { return why_; }  // when not running
  const std::string& cgroup() const { return cgroup_.path(); }

  struct Summary {
    long bursts = 0, failed = 0;  // workload runs; failed ones (e.g. io_uring disabled)
    double seconds = 0;
    std::string text() const;
  };
  // Stops the noise process (and the burst it runs) and removes its cgroup.
  Summary stop();

 private:
  TestCgroup cgroup_{"iou-noise"};
  std::string why_;
  pid_t pid_ = -1;
  int stats_fd_ = -1;  // the noise process writes its Summary here when it stops
  Summary summary_;
};

}  // namespace iouring::test
