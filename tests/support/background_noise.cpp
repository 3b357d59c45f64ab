#include "background_noise.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

namespace iouring::test {
namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

// One burst: a fresh ring doing a little of everything the tests count, NOPs most of the time.
std::vector<std::string> pick_burst(std::minstd_rand& rng) {
  int dice = std::uniform_int_distribution<int>(0, 99)(rng);
  std::string n = std::to_string(std::uniform_int_distribution<int>(1, 64)(rng));
  if (dice < 60) return {"nop", n};
  if (dice < 70) return {"sqpoll", n};
  if (dice < 80) return {"timeout", "2"};
  if (dice < 88) return {"fail", "2"};
  if (dice < 94) return {"multishot", "3"};
  return {"overflow", "10"};
}

int run_burst(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv = {const_cast<char*>(IOU_WORKLOAD_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// The noise process: bursts until SIGTERM, then its summary on `stats_fd`.
[[noreturn]] void noise_loop(const std::string& cgroup_dir, NoiseProfile profile, int stats_fd) {
  setpgid(0, 0);  // one group with its bursts: stopped together
  struct sigaction sa {};
  sa.sa_handler = on_term;  // no SA_RESTART: sleeps and waits end early
  sigaction(SIGTERM, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the caller may block SIGTERM (iou_noise does)
  FILE* procs = std::fopen((cgroup_dir + "/cgroup.procs").c_str(), "w");
  if (!procs || std::fprintf(procs, "0\n") < 0 || std::fclose(procs) != 0) _exit(3);
  std::minstd_rand rng(static_cast<unsigned>(getpid() ^ time(nullptr)));
  std::uniform_int_distribution<int> gap(profile.min_gap_ms, profile.max_gap_ms);
  auto start = std::chrono::steady_clock::now();
  long bursts = 0, failed = 0;
  while (!g_stop) {
    int ms = gap(rng);
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
    if (g_stop) break;
    ++bursts;
    failed += run_burst(pick_burst(rng)) != 0;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  dprintf(stats_fd, "%ld %ld %.3f\n", bursts, failed, seconds);
  _exit(0);
}

}  // namespace

std::optional<NoiseProfile> parse_noise_profile(const std::string& text) {
  if (text == "1") return NoiseProfile{};
  int lo = 0, hi = 0;
  char end = 0;
  if (std::sscanf(text.c_str(), "%d-%d%c", &lo, &hi, &end) != 2 || lo < 0 || hi < lo)
    return std::nullopt;
  return NoiseProfile{lo, hi};
}

std::string BackgroundNoise::Summary::text() const {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%ld bursts (%ld failed) in %.1f s", bursts, failed, seconds);
  return buf;
}

BackgroundNoise::BackgroundNoise(NoiseProfile profile) {
  if (!cgroup_.ok()) {
    why_ = cgroup_.why();
    return;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    why_ = "pipe2 failed";
    return;
  }
  pid_t pid = fork();
  if (pid == 0) noise_loop(cgroup_.dir(), profile, fds[1]);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    why_ = "fork failed";
    return;
  }
  setpgid(pid, pid);  // also from here: stop() may signal the group before the child ran
  pid_ = pid;
  stats_fd_ = fds[0];
}

BackgroundNoise::Summary BackgroundNoise::stop() {
  if (pid_ <= 0) return summary_;
  kill(-pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  char buf[128] = {};
  ssize_t n = read(stats_fd_, buf, sizeof(buf) - 1);
  close(stats_fd_);
  stats_fd_ = -1;
  if (n > 0) std::sscanf(buf, "%ld %ld %lf", &summary_.bursts, &summary_.failed, &summary_.seconds);
  cgroup_.remove();
  return summary_;
}

}  // namespace iouring::test
