// iou_workload: io_uring workloads with known counts, for the integration and VM tests and the
// benchmarks. Each scenario checks every CQE it reaps, so a test can trust that exactly the
// printed number of operations happened with the printed result; it exits non-zero otherwise.
//
//   iou_workload [--uid UID] SCENARIO COUNT [ARG]
#include <fcntl.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "iou_workload: %s: %s\n", what, std::strerror(err < 0 ? -err : err));
  std::exit(1);
}

struct Ring {
  io_uring ring{};
  explicit Ring(unsigned entries = 64, unsigned flags = 0, unsigned cq_entries = 0) {
    io_uring_params p{};
    p.flags = flags;
    if (cq_entries) {
      p.flags |= IORING_SETUP_CQSIZE;
      p.cq_entries = cq_entries;
    }
    if (flags & IORING_SETUP_SQPOLL) p.sq_thread_idle = 1000;
    int ret = io_uring_queue_init_params(entries, &ring, &p);
    if (ret < 0) die("io_uring_queue_init", ret);
  }
  ~Ring() { io_uring_queue_exit(&ring); }
  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    if (!s) die("io_uring_get_sqe", EBUSY);
    return s;
  }
  void submit() {
    int ret = io_uring_submit(&ring);
    if (ret < 0) die("io_uring_submit", ret);
  }
  // Waits for one CQE, returns (res, flags).
  std::pair<int, unsigned> reap() {
    io_uring_cqe* cqe = nullptr;
    int ret = io_uring_wait_cqe(&ring, &cqe);
    if (ret < 0) die("io_uring_wait_cqe", ret);
    std::pair<int, unsigned> r{cqe->res, cqe->flags};
    io_uring_cqe_seen(&ring, cqe);
    return r;
  }
};

void expect(int res, int want, const char* scenario) {
  if (res != want) {
    std::fprintf(stderr, "iou_workload: %s: CQE res %d, expected %d\n", scenario, res, want);
    std::exit(1);
  }
}

// Runs `count` operations in batches of up to 32, each prepared by `prep` and checked by `check`.
void batched(Ring& r, long count, const std::function<void(io_uring_sqe*)>& prep,
             const std::function<void(int)>& check) {
  for (long done = 0; done < count;) {
    long batch = std::min<long>(32, count - done);
    for (long i = 0; i < batch; ++i) prep(r.sqe());
    r.submit();
    for (long i = 0; i < batch; ++i) check(r.reap().first);
    done += batch;
  }
}

int scenario_nop(long n, const char*) {
  Ring r;
  batched(r, n, [](io_uring_sqe* s) { io_uring_prep_nop(s); }, [](int res) { expect(res, 0, "nop"); });
  return 0;
}

int scenario_read(long n, const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path, errno);
  static char buf[4096];
  Ring r;
  batched(r, n, [&](io_uring_sqe* s) { io_uring_prep_read(s, fd, buf, sizeof(buf), 0); },
          [](int res) { expect(res, 4096, "read"); });
  close(fd);
  return 0;
}

// Reads forced to io-wq with IOSQE_ASYNC: one punt each.
int scenario_punt(long n, const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path, errno);
  static char buf[4096];
  Ring r;
  batched(r, n,
          [&](io_uring_sqe* s) {
            io_uring_prep_read(s, fd, buf, sizeof(buf), 0);
            s->flags |= IOSQE_ASYNC;
          },
          [](int res) { expect(res, 4096, "punt"); });
  close(fd);
  return 0;
}

int scenario_openat(long n, const char* path, int want) {
  Ring r;
  batched(r, n, [&](io_uring_sqe* s) { io_uring_prep_openat(s, AT_FDCWD, path, O_RDONLY, 0); },
          [&](int res) {
            if (want == 0) {
              if (res < 0) expect(res, 0, "openat");
              close(res);
            } else {
              expect(res, want, "openat");
            }
          });
  return 0;
}

int scenario_timeout(long n, const char*) {
  Ring r;
  __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 1000000};
  batched(r, n, [&](io_uring_sqe* s) { io_uring_prep_timeout(s, &ts, 0, 0); },
          [](int res) { expect(res, -ETIME, "timeout"); });
  return 0;
}

int scenario_sqpoll(long n, const char*) {
  Ring r(64, IORING_SETUP_SQPOLL);
  batched(r, n, [](io_uring_sqe* s) { io_uring_prep_nop(s); }, [](int res) { expect(res, 0, "sqpoll"); });
  return 0;
}

// One multishot timeout firing `n` times: n CQEs, the last without IORING_CQE_F_MORE.
int scenario_multishot(long n, const char*) {
  constexpr unsigned kTimeoutMultishot = 1U << 6;  // IORING_TIMEOUT_MULTISHOT (6.4+)
  Ring r;
  __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 1000000};
  io_uring_prep_timeout(r.sqe(), &ts, static_cast<unsigned>(n), kTimeoutMultishot);
  r.submit();
  for (long i = 0; i < n; ++i) {
    auto [res, flags] = r.reap();
    expect(res, -ETIME, "multishot");
    bool more = flags & IORING_CQE_F_MORE;
    if (more != (i + 1 < n)) {
      std::fprintf(stderr, "iou_workload: multishot: CQE %ld F_MORE=%d\n", i, more);
      return 1;
    }
  }
  return 0;
}

// SQEs with an invalid flag bit fail in io_init_req: io_uring_req_failed, CQE -EINVAL.
// Submitted one at a time: the kernel stops a batch at the first SQE that fails.
int scenario_fail(long n, const char*) {
  Ring r;
  for (long i = 0; i < n; ++i) {
    io_uring_sqe* s = r.sqe();
    io_uring_prep_nop(s);
    s->flags = 0x80;  // no IOSQE_* flag uses bit 7
    r.submit();
    expect(r.reap().first, -EINVAL, "fail");
  }
  return 0;
}

// Fills a CQ of 8 entries with n > 8 NOPs without reaping: n - 8 CQEs overflow.
int scenario_overflow(long n, const char*) {
  Ring r(4, 0, 8);
  if (n <= 8 || n > 64) die("overflow count must be 9..64", EINVAL);
  for (long i = 0; i < n; ++i) {
    io_uring_prep_nop(r.sqe());
    if (i % 4 == 3 || i == n - 1) r.submit();
  }
  for (long i = 0; i < n; ++i) expect(r.reap().first, 0, "overflow");
  return 0;
}

// Registers a personality (the caller's credentials) and runs n NOPs under it.
int scenario_personality(long n, const char*) {
  Ring r;
  int id = io_uring_register_personality(&r.ring);
  if (id < 0) die("io_uring_register_personality", id);
  batched(r, n,
          [id](io_uring_sqe* s) {
            io_uring_prep_nop(s);
            s->personality = static_cast<__u16>(id);
          },
          [](int res) { expect(res, 0, "personality"); });
  return 0;
}

// n io_uring_register calls with an opcode no kernel defines: each fails with EINVAL.
int scenario_register_invalid(long n, const char*) {
  Ring r;
  for (long i = 0; i < n; ++i) {
    int ret = static_cast<int>(syscall(__NR_io_uring_register, r.ring.ring_fd, 200, nullptr, 0));
    if (ret != -1 || errno != EINVAL) die("io_uring_register(200) should fail with EINVAL", errno);
  }
  return 0;
}

// A ring whose restrictions allow only IORING_REGISTER_PERSONALITY: one restriction set
// registered, then n IORING_REGISTER_PROBE calls refused with EACCES.
int scenario_restricted(long n, const char*) {
  Ring r(8, IORING_SETUP_R_DISABLED);
  io_uring_restriction res{};
  res.opcode = IORING_RESTRICTION_REGISTER_OP;
  res.register_op = IORING_REGISTER_PERSONALITY;
  // Raw syscalls: Debian's liburing 2.3 does not export these two helpers.
  if (syscall(__NR_io_uring_register, r.ring.ring_fd, IORING_REGISTER_RESTRICTIONS, &res, 1) < 0)
    die("IORING_REGISTER_RESTRICTIONS", errno);
  if (syscall(__NR_io_uring_register, r.ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
    die("IORING_REGISTER_ENABLE_RINGS", errno);
  for (long i = 0; i < n; ++i) {
    io_uring_probe* p = io_uring_get_probe_ring(&r.ring);
    if (p) die("IORING_REGISTER_PROBE should be refused by the restrictions", 0);
  }
  return 0;
}

// n IORING_OP_URING_CMD SOCKET_URING_OP_SIOCINQ on a UDP socket (6.7+): each returns 0 bytes.
int scenario_uring_cmd_socket(long n, const char*) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket", errno);
  Ring r;
  batched(r, n,
          [fd](io_uring_sqe* s) {
            io_uring_prep_rw(IORING_OP_URING_CMD, s, fd, nullptr, 0, 0);
            s->cmd_op = 0;  // SOCKET_URING_OP_SIOCINQ
          },
          [](int res) { expect(res, 0, "uring-cmd-socket"); });
  close(fd);
  return 0;
}

// Moves itself into DIR/0 .. DIR/(n-1) (cgroup v2 directories) in turn and runs 2 NOPs on a
// fresh ring in each; returns to its first cgroup at the end.
int scenario_cgroup_hop(long n, const char* dir) {
  auto move_to = [](const std::string& cg) {
    FILE* f = std::fopen((cg + "/cgroup.procs").c_str(), "w");
    if (!f || std::fprintf(f, "0\n") < 0 || std::fclose(f) != 0) die(cg.c_str(), errno);
  };
  char self[4096] = {};
  FILE* f = std::fopen("/proc/self/cgroup", "r");
  std::string home;
  while (f && std::fgets(self, sizeof(self), f))
    if (std::strncmp(self, "0::", 3) == 0) home = std::string(self + 3, std::strcspn(self + 3, "\n"));
  if (f) std::fclose(f);
  for (long i = 0; i < n; ++i) {
    move_to(std::string(dir) + "/" + std::to_string(i));
    Ring r(4);
    batched(r, 2, [](io_uring_sqe* s) { io_uring_prep_nop(s); }, [](int res) { expect(res, 0, "hop"); });
  }
  // dir is <cgroup2 mount>/<relative path>; go back to where we started.
  std::string d(dir);
  std::string mount = d.substr(0, d.find("/iou-"));
  if (!home.empty()) move_to(mount + (home == "/" ? "" : home));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  long uid = -1;
  if (args.size() >= 2 && args[0] == "--uid") {
    uid = std::strtol(args[1].c_str(), nullptr, 10);
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() < 2) {
    std::fprintf(stderr,
                 "usage: iou_workload [--uid UID] SCENARIO COUNT [ARG]\n"
                 "scenarios: nop, read FILE, punt FILE, openat FILE, openat-enoent PATH, "
                 "openat-eacces FILE, timeout, sqpoll, multishot, fail, overflow, personality, "
                 "register-invalid, restricted, uring-cmd-socket\n");
    return 2;
  }
  if (uid >= 0 && (setgid(static_cast<gid_t>(uid)) != 0 || setuid(static_cast<uid_t>(uid)) != 0))
    die("setuid", errno);
  long n = std::strtol(args[1].c_str(), nullptr, 10);
  const char* arg = args.size() > 2 ? args[2].c_str() : nullptr;
  const std::string& s = args[0];
  auto need_arg = [&] {
    if (!arg) die("this scenario needs a path argument", EINVAL);
  };
  if (s == "nop") return scenario_nop(n, arg);
  if (s == "read") return need_arg(), scenario_read(n, arg);
  if (s == "punt") return need_arg(), scenario_punt(n, arg);
  if (s == "openat") return need_arg(), scenario_openat(n, arg, 0);
  if (s == "openat-enoent") return need_arg(), scenario_openat(n, arg, -ENOENT);
  if (s == "openat-eacces") return need_arg(), scenario_openat(n, arg, -EACCES);
  if (s == "timeout") return scenario_timeout(n, arg);
  if (s == "sqpoll") return scenario_sqpoll(n, arg);
  if (s == "multishot") return scenario_multishot(n, arg);
  if (s == "fail") return scenario_fail(n, arg);
  if (s == "overflow") return scenario_overflow(n, arg);
  if (s == "personality") return scenario_personality(n, arg);
  if (s == "register-invalid") return scenario_register_invalid(n, arg);
  if (s == "restricted") return scenario_restricted(n, arg);
  if (s == "uring-cmd-socket") return scenario_uring_cmd_socket(n, arg);
  if (s == "cgroup-hop") return need_arg(), scenario_cgroup_hop(n, arg);
  std::fprintf(stderr, "iou_workload: unknown scenario %s\n", s.c_str());
  return 2;
}
