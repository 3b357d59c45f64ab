// bench_opcode_spray: submits one SQE of every opcode number from 0 to MAX (default 70) plus
// one far beyond the kernel's table (200), each with fd -1, null pointers and zero lengths, so
// each fails fast (EBADF, EFAULT, EINVAL, ...) or is a harmless no-op. Its only purpose is to
// give a running exporter as many op labels as a real host could ever show before bench/run.sh
// times an HTTP GET of /metrics.
//
//   bench_opcode_spray [--max MAX] [--repeat R]
//
// SQEs go one at a time (the kernel stops a batch at the first SQE that fails at init); a
// request still pending after 200 ms is left for io_uring_queue_exit() to cancel.
#include <liburing.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  int max_op = 70, repeat = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--max" && i + 1 < argc) {
      max_op = std::atoi(argv[++i]);
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: bench_opcode_spray [--max MAX] [--repeat R]\n");
      return 2;
    }
  }
  io_uring ring{};
  int ret = io_uring_queue_init(8, &ring, 0);
  if (ret < 0) {
    std::fprintf(stderr, "bench_opcode_spray: io_uring_queue_init: %s\n", std::strerror(-ret));
    return 1;
  }
  int submitted = 0, reaped = 0;
  for (int r = 0; r < repeat; ++r) {
    for (int op = 0; op <= max_op + 1; ++op) {
      const int opcode = op <= max_op ? op : 200;
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (!sqe) break;
      io_uring_prep_rw(opcode, sqe, -1, nullptr, 0, 0);
      sqe->user_data = static_cast<__u64>(opcode);
      if (io_uring_submit(&ring) < 0) continue;
      ++submitted;
      __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 200'000'000};
      io_uring_cqe* cqe = nullptr;
      while (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) {
        ++reaped;
        io_uring_cqe_seen(&ring, cqe);
        ts = {.tv_sec = 0, .tv_nsec = 0};
      }
    }
  }
  io_uring_queue_exit(&ring);
  std::printf("opcode_spray: %d SQEs (opcodes 0..%d and 200, x%d), %d CQEs reaped\n", submitted,
              max_op, repeat, reaped);
  return 0;
}
