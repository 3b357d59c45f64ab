// bench_prog_stats: where an observer's time goes. Turns on the kernel's BPF run-time statistics
// (BPF_ENABLE_STATS: on while this process holds the fd, off again when it exits), runs a
// command, and prints for each given BPF program how often it ran and how long each run took,
// per operation of the command.
//
//   bench_prog_stats (--ids ID[,ID...] | --pid PID) --ops N -- COMMAND [ARGS...]
//
// --pid takes the programs a process holds (from /proc/PID/fdinfo); a process that dropped its
// capabilities (the exporter does) is not dumpable and hides them, so bench/run.sh passes --ids.
//
// One line per program that ran:  prog NAME type TYPE runs_per_op R ns_per_run T ns_per_op R*T
// and a total. The statistics time the program body only (bpf_prog_run), not the tracepoint or
// trampoline dispatch around it: the attach floor is mostly that dispatch. Enabling them costs
// two clock reads per run, so this is a diagnosis, never part of the overhead measurement.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

struct Snap {
  std::string name, type;
  __u64 cnt = 0, ns = 0;
};

std::set<__u32> prog_ids_of(pid_t pid) {
  std::set<__u32> ids;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (!d) return ids;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("prog_id:", 0) == 0) ids.insert(static_cast<__u32>(std::strtoul(line.c_str() + 8, nullptr, 10)));
  }
  closedir(d);
  return ids;
}

std::map<__u32, Snap> snapshot(const std::set<__u32>& ids) {
  std::map<__u32, Snap> out;
  for (__u32 id : ids) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      const char* type = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(info.type));
      out[id] = {info.name, type ? type : "?", info.run_cnt, info.run_time_ns};
    }
    close(fd);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  pid_t pid = -1;
  std::set<__u32> ids;
  double ops = 0;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--pid" && i + 1 < argc) {
      pid = static_cast<pid_t>(std::atoi(argv[++i]));
    } else if (a == "--ids" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t pos = 0; pos < list.size();) {
        size_t end = list.find(',', pos);
        if (end == std::string::npos) end = list.size();
        if (end > pos) ids.insert(static_cast<__u32>(std::strtoul(list.substr(pos, end - pos).c_str(), nullptr, 10)));
        pos = end + 1;
      }
    } else if (a == "--ops" && i + 1 < argc) {
      ops = std::atof(argv[++i]);
    } else if (a == "--") {
      ++i;
      break;
    } else {
      break;
    }
  }
  if ((pid <= 0 && ids.empty()) || ops <= 0 || i >= argc) {
    std::fprintf(stderr, "usage: bench_prog_stats (--ids ID[,ID...] | --pid PID) --ops N -- COMMAND [ARGS...]\n");
    return 2;
  }
  int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (stats_fd < 0) {
    std::fprintf(stderr, "bench_prog_stats: BPF_ENABLE_STATS: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid > 0)
    for (__u32 id : prog_ids_of(pid)) ids.insert(id);
  auto before = snapshot(ids);

  pid_t child = fork();
  if (child == 0) {
    close(stats_fd);
    execvp(argv[i], argv + i);
    std::fprintf(stderr, "bench_prog_stats: %s: %s\n", argv[i], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_prog_stats: command failed\n");
    return 1;
  }
  auto after = snapshot(ids);
  close(stats_fd);

  double total = 0;
  for (const auto& [id, a] : after) {
    const Snap& b = before[id];
    __u64 cnt = a.cnt - b.cnt, ns = a.ns - b.ns;
    if (cnt == 0) continue;
    double per_run = static_cast<double>(ns) / static_cast<double>(cnt);
    double per_op = static_cast<double>(ns) / ops;
    total += per_op;
    std::printf("prog %s type %s runs_per_op %.3f ns_per_run %.1f ns_per_op %.1f\n", a.name.c_str(),
                a.type.c_str(), static_cast<double>(cnt) / ops, per_run, per_op);
  }
  std::printf("total ns_per_op %.1f (%zu programs)\n", total, ids.size());
  return 0;
}
