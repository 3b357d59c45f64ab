// bench_ladder_attach: attaches one pair of programs of ladder.bpf.c (submit + complete) and
// holds them until SIGTERM or SIGINT, then prints how many latency samples the pair took and
// how many requests it lost.
//
//   bench_ladder_attach ktime|hash|array
//
// Prints "ready" on stdout once attached. See ladder.bpf.c for what each body does.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ladder_bpf.skel.h"

namespace {

int print_libbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  return std::vfprintf(stderr, fmt, args);
}

struct Result {
  __u64 sum_ns, samples, lost;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string body = argc == 2 ? argv[1] : "";
  if (body != "ktime" && body != "hash" && body != "array") {
    std::fprintf(stderr, "usage: bench_ladder_attach ktime|hash|array\n");
    return 2;
  }
  libbpf_set_print(print_libbpf);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  struct ladder_bpf* skel = ladder_bpf__open();
  if (!skel) {
    std::fprintf(stderr, "bench_ladder_attach: open: %s\n", std::strerror(errno));
    return 1;
  }
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    std::string name = bpf_program__name(prog);
    bpf_program__set_autoload(prog, name.rfind(body + "_", 0) == 0);
  }
  int err = ladder_bpf__load(skel);
  if (!err) err = ladder_bpf__attach(skel);
  if (err) {
    std::fprintf(stderr, "bench_ladder_attach: load/attach %s: %s\n", body.c_str(), std::strerror(-err));
    ladder_bpf__destroy(skel);
    return 1;
  }
  std::printf("ladder: %s_submit and %s_complete attached\nready\n", body.c_str(), body.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);

  int ncpus = libbpf_num_possible_cpus();
  std::vector<Result> per_cpu(ncpus > 0 ? ncpus : 1);
  __u32 zero = 0;
  Result total{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.results), &zero, per_cpu.data()) == 0) {
    for (const Result& r : per_cpu) {
      total.samples += r.samples;
      total.lost += r.lost;
    }
  }
  std::printf("ladder %s: %llu latency samples, %llu requests lost\n", body.c_str(),
              static_cast<unsigned long long>(total.samples), static_cast<unsigned long long>(total.lost));
  ladder_bpf__destroy(skel);
  return 0;
}
