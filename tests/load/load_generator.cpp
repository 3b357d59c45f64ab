// load_generator: as many io_uring NOPs per second as this machine can do, for the load test.
//
//   load_generator [--threads T] [--seconds D] [--batch B]
//
// T threads (default 2), each with its own ring, run for D seconds (default 60). Each round
// prepares B (default 32) IORING_OP_NOP SQEs tagged with a per-thread sequence number, submits
// them and waits for all B in one io_uring_submit_and_wait(), then reaps every CQE: each must
// have res 0 and carry a tag of this round, and the round must yield exactly B distinct CQEs.
// Any mismatch (short submit, missing/duplicate/foreign CQE, error result) exits 1.
//
// On success prints, on stdout, one line per thread and then one summary line:
//   thread=I ops=N
//   load_generator threads=T batch=B seconds=S ops=N ok=N ops_per_sec=X cpu_seconds=C
//                  ops_per_cpu_sec=Y
// `ops` is the exact number of NOP SQEs submitted (and accepted by the kernel); `ok` the number
// of CQEs reaped with res 0. On success they are equal, and the exporter must have counted
// exactly that many io_uring_sqes_submitted_total{op="nop"} and completions{result="ok"}.
// C is this process's CPU time (user + system: NOPs and the BPF programs they trigger run in
// the submitting task), so Y, ops per CPU second, hardly depends on what else the host runs.
#include <liburing.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "load_generator: %s: %s\n", what, std::strerror(err < 0 ? -err : err));
  std::exit(1);
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: load_generator [--threads T] [--seconds D] [--batch B]\n");
  std::exit(2);
}

long parse_long(const char* text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) usage();
  return v;
}

std::atomic<bool> g_stop{false};

struct ThreadResult {
  uint64_t submitted = 0;
  uint64_t ok = 0;
};

void init_ring(io_uring& ring, unsigned entries) {
  // SINGLE_ISSUER + COOP_TASKRUN are small wins for a one-thread ring; fall back to plain
  // rings on kernels that refuse them.
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  int ret = io_uring_queue_init_params(entries, &ring, &p);
  if (ret == -EINVAL) {
    p = io_uring_params{};
    ret = io_uring_queue_init_params(entries, &ring, &p);
  }
  if (ret < 0) die("io_uring_queue_init", ret);
}

void worker(unsigned batch, ThreadResult& out) {
  io_uring ring{};
  init_ring(ring, batch);
  std::vector<uint8_t> seen(batch);
  uint64_t seq = 0;  // user_data of the next SQE
  while (!g_stop.load(std::memory_order_relaxed)) {
    const uint64_t first = seq;
    for (unsigned i = 0; i < batch; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (!sqe) die("io_uring_get_sqe", EBUSY);
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, seq++);
    }
    int ret = io_uring_submit_and_wait(&ring, batch);
    if (ret < 0) die("io_uring_submit_and_wait", ret);
    if (static_cast<unsigned>(ret) != batch) die("short submit", EAGAIN);
    out.submitted += batch;
    std::fill(seen.begin(), seen.end(), 0);
    unsigned n = 0;
    unsigned head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      if (cqe->res != 0) die("NOP completed with an error", cqe->res);
      const uint64_t tag = cqe->user_data;
      if (tag < first || tag >= first + batch) die("CQE of another round", EPROTO);
      if (seen[tag - first]++) die("duplicate CQE", EPROTO);
      ++n;
    }
    if (n != batch) die("missing CQEs", EPROTO);
    io_uring_cq_advance(&ring, n);
    out.ok += n;
  }
  // Nothing may be left over: every SQE submitted was reaped above.
  if (io_uring_cq_ready(&ring) != 0) die("unexpected extra CQEs", EPROTO);
  io_uring_queue_exit(&ring);
}

}  // namespace

int main(int argc, char** argv) {
  long threads = 2, seconds = 60, batch = 32;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      threads = parse_long(argv[++i], 1, 256);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = parse_long(argv[++i], 1, 86400);
    } else if (a == "--batch" && i + 1 < argc) {
      batch = parse_long(argv[++i], 1, 4096);
    } else {
      usage();
    }
  }

  std::vector<ThreadResult> results(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (long t = 0; t < threads; ++t)
    pool.emplace_back(worker, static_cast<unsigned>(batch), std::ref(results[static_cast<size_t>(t)]));
  std::this_thread::sleep_until(start + std::chrono::seconds(seconds));
  g_stop.store(true);
  for (auto& th : pool) th.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  uint64_t total = 0, ok = 0;
  for (size_t t = 0; t < results.size(); ++t) {
    std::printf("thread=%zu ops=%llu\n", t, static_cast<unsigned long long>(results[t].submitted));
    total += results[t].submitted;
    ok += results[t].ok;
  }
  if (ok != total) {
    std::fprintf(stderr, "load_generator: %llu submitted but %llu completed ok\n",
                 static_cast<unsigned long long>(total), static_cast<unsigned long long>(ok));
    return 1;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "load_generator threads=%ld batch=%ld seconds=%.3f ops=%llu ok=%llu ops_per_sec=%.0f "
      "cpu_seconds=%.2f ops_per_cpu_sec=%.0f\n",
      threads, batch, elapsed, static_cast<unsigned long long>(total),
      static_cast<unsigned long long>(ok), static_cast<double>(total) / elapsed, cpu,
      cpu > 0 ? static_cast<double>(total) / cpu : 0.0);
  return 0;
}
