#include "exporter_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace iouring::test {
namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path, int uid) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (uid >= 0 && (setgid(uid) != 0 || setuid(uid) != 0)) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_path(const char* tag) {
  char buf[] = "/tmp/iou_test_XXXXXX";
  int fd = mkstemp(buf);
  if (fd >= 0) close(fd);
  return std::string(buf) + "." + tag;
}

}  // namespace

RunResult run_command(const std::vector<std::string>& argv, int timeout_s, int uid) {
  std::string out = temp_path("out");
  pid_t pid = spawn(argv, out, uid);
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.output = slurp(out) + "\n[killed after timeout]";
      unlink(out.c_str());
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = slurp(out);
  unlink(out.c_str());
  return r;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

ExporterProcess::ExporterProcess(std::vector<std::string> args, int timeout_s) {
  port_ = free_port();
  log_path_ = temp_path("log");
  std::vector<std::string> argv = {IOU_EXPORTER_BIN,
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
  // Unpinned unless a test asks: pinned state at the default path would be shared by exporters.
  if (std::none_of(args.begin(), args.end(),
                   [](const std::string& a) { return a.find("bpf.pin") != std::string::npos; }))
    argv.push_back("--bpf.pin-path=");
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = spawn(argv, log_path_, -1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(0, 200000);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return;
    }
    if (auto res = cli.Get("/healthz"); res && res->status == 200) {
      started_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ExporterProcess::~ExporterProcess() {
  stop();
  unlink(log_path_.c_str());
}

std::string ExporterProcess::log() const { return slurp(log_path_); }

std::string ExporterProcess::scrape_text(const std::string& path) const {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_read_timeout(10, 0);
  auto res = cli.Get(path);
  if (!res || res->status != 200)
    throw std::runtime_error("scrape of " + path + " failed: " +
                             (res ? std::to_string(res->status) : httplib::to_string(res.error())));
  return res->body;
}

int ExporterProcess::stop(int sig) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

}  // namespace iouring::test
