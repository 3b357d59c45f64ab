// bench_floor_attach: attaches the empty programs of floor.bpf.c (the bare attach floor) and
// holds them until SIGTERM or SIGINT.
//
//   bench_floor_attach [--only TP[,TP...]]
//
// Programs whose tracepoint the running kernel lacks are skipped (and said so). --only keeps
// just the named tracepoints, e.g. --only io_uring_submit_req,io_uring_complete. Prints
// "ready" on stdout once every program is attached.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>
#include <signal.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "floor_bpf.skel.h"

namespace {

int print_libbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  return std::vfprintf(stderr, fmt, args);
}

std::set<std::string> split(const std::string& csv) {
  std::set<std::string> out;
  std::stringstream ss(csv);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.insert(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) {
      only = split(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_floor_attach [--only TP[,TP...]]\n");
      return 2;
    }
  }
  libbpf_set_print(print_libbpf);

  // Signals are taken by sigwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    std::fprintf(stderr, "bench_floor_attach: cannot load kernel BTF: %s\n", std::strerror(errno));
    return 1;
  }
  struct floor_bpf* skel = floor_bpf__open();
  if (!skel) {
    std::fprintf(stderr, "bench_floor_attach: open: %s\n", std::strerror(errno));
    return 1;
  }
  std::vector<std::string> kept;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    std::string tp = bpf_program__section_name(prog);
    tp = tp.substr(tp.find('/') + 1);
    bool wanted = only.empty() || only.count(tp);
    bool present = btf__find_by_name_kind(vmlinux, ("btf_trace_" + tp).c_str(), BTF_KIND_TYPEDEF) > 0;
    if (!wanted || !present) {
      bpf_program__set_autoload(prog, false);
      if (wanted) std::fprintf(stderr, "bench_floor_attach: skipping %s: not in this kernel\n", tp.c_str());
      continue;
    }
    kept.push_back(tp);
  }
  btf__free(vmlinux);

  int err = floor_bpf__load(skel);
  if (err) {
    std::fprintf(stderr, "bench_floor_attach: load: %s\n", std::strerror(-err));
    floor_bpf__destroy(skel);
    return 1;
  }
  err = floor_bpf__attach(skel);
  if (err) {
    std::fprintf(stderr, "bench_floor_attach: attach: %s\n", std::strerror(-err));
    floor_bpf__destroy(skel);
    return 1;
  }
  std::printf("floor: %zu empty tp_btf programs attached:", kept.size());
  for (const auto& tp : kept) std::printf(" %s", tp.c_str());
  std::printf("\nready\n");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  floor_bpf__destroy(skel);
  return 0;
}
