// iou_noise: another io_uring user on the host, for proving the integration tests immune to
// one. Runs BackgroundNoise (short iou_workload bursts from a cgroup v2 of its own, a random
// pause of MIN..MAX milliseconds before each) until SIGTERM or SIGINT, then prints what it did.
// Exits 1 if it could not start, or ran for more than three pauses without one burst that
// succeeded (noise that never ran proves nothing). tests/integration/run_with_noise.sh runs it.
//
//   iou_noise [MIN-MAX]        (default 50-2000)
#include <signal.h>

#include <cstdio>
#include <string>

#include "support/background_noise.h"

int main(int argc, char** argv) {
  using iouring::test::BackgroundNoise;
  auto profile = iouring::test::parse_noise_profile(argc > 1 ? argv[1] : "1");
  if (!profile) {
    std::fprintf(stderr, "usage: iou_noise [MIN-MAX]   (pause before each burst, milliseconds)\n");
    return 2;
  }
  // Wait for the stop signal synchronously; block it before the noise process is forked (which
  // resets its own handler).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  BackgroundNoise noise(*profile);
  if (!noise.running()) {
    std::fprintf(stderr, "[noise] cannot start: %s\n", noise.why().c_str());
    return 1;
  }
  std::fprintf(stderr, "[noise] io_uring bursts from cgroup %s, %d-%d ms apart\n",
               noise.cgroup().c_str(), profile->min_gap_ms, profile->max_gap_ms);
  int sig = 0;
  sigwait(&stop, &sig);
  BackgroundNoise::Summary sum = noise.stop();
  std::fprintf(stderr, "[noise] %s\n", sum.text().c_str());
  bool long_enough = sum.seconds * 1000 > 3.0 * profile->max_gap_ms;
  if (long_enough && sum.bursts == sum.failed) {
    std::fprintf(stderr, "[noise] no burst succeeded\n");
    return 1;
  }
  return 0;
}
