// Runs the real exporter binary and workloads as child processes, for root integration tests.
#pragma once

#include <sys/types.h>

#include <csignal>

#include <string>
#include <vector>

#include "prom_text.h"

namespace iouring::test {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

// Runs a command to completion (optionally as `uid`), with a timeout in seconds.
RunResult run_command(const std::vector<std::string>& argv, int timeout_s = 120, int uid = -1);

// A free TCP port on 127.0.0.1.
int free_port();

class ExporterProcess {
 public:
  // Starts the exporter with `--web.listen-address=127.0.0.1:<free port>` plus `args`, and waits
  // until /healthz answers. started() is false if it exited first; log() tells why.
  explicit ExporterProcess(std::vector<std::string> args, int timeout_s = 30);
  ~ExporterProcess();
  bool started() const { return started_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;
  std::string scrape_text(const std::string& path = "/metrics") const;
  Samples scrape() const { return parse_prom_text(scrape_text()); }
  // Sends `sig` and returns the exit code (128 + the signal when killed by it); the exit code it
  // already had when it has exited.
  int stop(int sig = SIGTERM);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool started_ = false;
  int exit_code_ = -1;
  std::string log_path_;
};

}  // namespace iouring::test
