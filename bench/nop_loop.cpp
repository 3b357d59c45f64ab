// bench_nop_loop: the cheapest io_uring request there is, in a tight loop, so the cost of
// observing io_uring (tracepoint programs, the exporter, bpftrace) is as visible as it can be.
//
//   bench_nop_loop [--batch B] [--cpu C] [--warmup W] OPS
//
// Each round prepares B IORING_OP_NOP SQEs, submits them and waits for all B in one
// io_uring_submit_and_wait(), then reaps every CQE (each must have res 0). Prints one line:
//   nop_loop ops=OPS batch=B ns_per_op=X cpu_ns_per_op=Y
// X is CLOCK_MONOTONIC time over the OPS operations after W warm-up operations; Y the same
// interval in this thread's CPU time (CLOCK_THREAD_CPUTIME_ID). NOPs complete inline in the
// submitting task, so Y includes every tracepoint program they trigger, and unlike X it does
// not grow when other tasks take the CPU away (useful on a shared, noisy machine).
#include <liburing.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "bench_nop_loop: %s: %s\n", what, std::strerror(err < 0 ? -err : err));
  std::exit(1);
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: bench_nop_loop [--batch B] [--cpu C] [--warmup W] OPS\n");
  std::exit(2);
}

long parse_long(const char* text, long min) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min) usage();
  return v;
}

double now_ns(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Runs `ops` NOPs (rounded up to whole batches); returns how many ran.
long run(io_uring& ring, long ops, unsigned batch) {
  long done = 0;
  while (done < ops) {
    for (unsigned i = 0; i < batch; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (!sqe) die("io_uring_get_sqe", EBUSY);
      io_uring_prep_nop(sqe);
    }
    int ret = io_uring_submit_and_wait(&ring, batch);
    if (ret < 0) die("io_uring_submit_and_wait", ret);
    if (static_cast<unsigned>(ret) != batch) die("short submit", EAGAIN);
    unsigned seen = 0;
    unsigned head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      if (cqe->res != 0) die("NOP completed with an error", cqe->res);
      ++seen;
    }
    if (seen != batch) die("missing CQEs", EAGAIN);
    io_uring_cq_advance(&ring, seen);
    done += batch;
  }
  return done;
}

}  // namespace

int main(int argc, char** argv) {
  long batch = 32, cpu = -1, warmup = 100000, ops = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--batch" && i + 1 < argc) {
      batch = parse_long(argv[++i], 1);
    } else if (a == "--cpu" && i + 1 < argc) {
      cpu = parse_long(argv[++i], 0);
    } else if (a == "--warmup" && i + 1 < argc) {
      warmup = parse_long(argv[++i], 0);
    } else if (ops < 0 && !a.empty() && a[0] != '-') {
      ops = parse_long(a.c_str(), 1);
    } else {
      usage();
    }
  }
  if (ops < 0 || batch > 4096) usage();

  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<int>(cpu), &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) die("sched_setaffinity", errno);
  }

  io_uring ring{};
  int ret = io_uring_queue_init(static_cast<unsigned>(batch), &ring, 0);
  if (ret < 0) die("io_uring_queue_init", ret);

  if (warmup > 0) run(ring, warmup, static_cast<unsigned>(batch));
  const double start = now_ns();
  const double cpu_start = now_ns(CLOCK_THREAD_CPUTIME_ID);
  const long done = run(ring, ops, static_cast<unsigned>(batch));
  const double cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  const double elapsed = now_ns() - start;
  io_uring_queue_exit(&ring);

  std::printf("nop_loop ops=%ld batch=%ld ns_per_op=%.2f cpu_ns_per_op=%.2f\n", done, batch,
              elapsed / static_cast<double>(done), cpu_ns / static_cast<double>(done));
  return 0;
}
