// iou_vm_helper: the io_uring requests the VM kernel matrix (tests/vm/matrix.sh) needs beyond
// tests/workload/iou_workload: ring setups expected to fail, requests under a registered
// personality, and IORING_OP_URING_CMD NVMe passthrough. Every CQE and every setup result is
// checked against --expect, so the matrix can assert exact metric deltas; exit status 1 if any
// result differs.
//
//   iou_vm_helper [--comm NAME] [--expect RESULT] MODE [COUNT] [DEVICE]
//     --comm NAME      prctl(PR_SET_NAME) first (tests/vm/deny_lsm.bpf.c denies marked tasks).
//     --expect RESULT  ok (default), EPERM or EACCES: the result of each setup or CQE.
//   modes:
//     setup            one plain ring setup (io_uring_setup; uring_allowed LSM hook on 7.x).
//     sqpoll-setup     one IORING_SETUP_SQPOLL ring setup (uring_sqpoll LSM hook).
//     personality N    register the caller's creds as a personality, then N NOPs carrying it,
//                      one submission each (uring_override_creds LSM hook, at request init).
//     uring-cmd N DEV  N NVMe passthrough reads (NVME_URING_CMD_IO, 4 KiB at LBA 0, nsid 1) on
//                      the NVMe generic char device DEV (/dev/ngXnY), SQE128 + CQE32 ring
//                      (uring_cmd LSM hook).
#include <fcntl.h>
#include <liburing.h>
#include <linux/nvme_ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int g_expect = 0;  // 0 or a negative errno

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "iou_vm_helper: %s: %s\n", what, std::strerror(err < 0 ? -err : err));
  std::exit(1);
}

const char* result_name(int res) {
  if (res >= 0) return "ok";
  switch (-res) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOENT: return "ENOENT";
    default: return "other";
  }
}

// Compares a result (>= 0 success, < 0 -errno) with --expect; returns false and says so if off.
bool check(int res, const char* what) {
  bool ok = g_expect == 0 ? res >= 0 : res == g_expect;
  if (!ok)
    std::fprintf(stderr, "iou_vm_helper: %s: result %d (%s), expected %s\n", what, res,
                 res < 0 ? std::strerror(-res) : "success", result_name(g_expect));
  return ok;
}

int setup_ring(unsigned flags, io_uring* ring) {
  io_uring_params p{};
  p.flags = flags;
  if (flags & IORING_SETUP_SQPOLL) p.sq_thread_idle = 100;
  return io_uring_queue_init_params(8, ring, &p);
}

int mode_setup(unsigned flags, const char* what) {
  io_uring ring{};
  int ret = setup_ring(flags, &ring);
  if (ret >= 0) io_uring_queue_exit(&ring);
  return check(ret, what) ? 0 : 1;
}

int reap_one(io_uring* ring) {
  io_uring_cqe* cqe = nullptr;
  int ret = io_uring_wait_cqe(ring, &cqe);
  if (ret < 0) die("io_uring_wait_cqe", ret);
  int res = cqe->res;
  io_uring_cqe_seen(ring, cqe);
  return res;
}

int mode_personality(long n) {
  io_uring ring{};
  int ret = setup_ring(0, &ring);
  if (ret < 0) die("io_uring_queue_init", ret);
  int id = io_uring_register_personality(&ring);
  if (id <= 0) die("io_uring_register_personality", id < 0 ? id : EINVAL);
  int bad = 0;
  // One SQE per submission: a request failing at init ends the kernel's batch.
  for (long i = 0; i < n; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    sqe->personality = static_cast<__u16>(id);
    ret = io_uring_submit(&ring);
    if (ret < 0) die("io_uring_submit", ret);
    bad += !check(reap_one(&ring), "personality nop");
  }
  io_uring_queue_exit(&ring);
  return bad ? 1 : 0;
}

int mode_uring_cmd(long n, const char* dev) {
  int fd = open(dev, O_RDONLY);
  if (fd < 0) die(dev, errno);
  io_uring ring{};
  int ret = setup_ring(IORING_SETUP_SQE128 | IORING_SETUP_CQE32, &ring);
  if (ret < 0) die("io_uring_queue_init (SQE128|CQE32)", ret);
  alignas(4096) static unsigned char buf[4096];
  int bad = 0;
  for (long i = 0; i < n; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    std::memset(sqe, 0, 128);
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = fd;
    sqe->cmd_op = NVME_URING_CMD_IO;
    auto* cmd = reinterpret_cast<nvme_uring_cmd*>(sqe->cmd);
    cmd->opcode = 0x02;  // NVMe Read
    cmd->nsid = 1;
    cmd->addr = reinterpret_cast<__u64>(buf);
    cmd->data_len = sizeof(buf);
    cmd->cdw10 = 0;                          // starting LBA, low
    cmd->cdw11 = 0;                          // starting LBA, high
    cmd->cdw12 = sizeof(buf) / 512 - 1;      // blocks - 1 (QEMU's default LBA size is 512)
    ret = io_uring_submit(&ring);
    if (ret < 0) die("io_uring_submit", ret);
    bad += !check(reap_one(&ring), "uring_cmd");
  }
  io_uring_queue_exit(&ring);
  close(fd);
  return bad ? 1 : 0;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: iou_vm_helper [--comm NAME] [--expect ok|EPERM|EACCES] "
               "setup|sqpoll-setup|personality N|uring-cmd N DEVICE\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t i = 0;
  for (; i + 1 < args.size() && args[i].rfind("--", 0) == 0; i += 2) {
    const std::string& v = args[i + 1];
    if (args[i] == "--comm") {
      if (prctl(PR_SET_NAME, v.c_str()) != 0) die("prctl(PR_SET_NAME)", errno);
    } else if (args[i] == "--expect") {
      if (v == "ok") g_expect = 0;
      else if (v == "EPERM") g_expect = -EPERM;
      else if (v == "EACCES") g_expect = -EACCES;
      else usage();
    } else {
      usage();
    }
  }
  if (i >= args.size()) usage();
  const std::string mode = args[i];
  long n = i + 1 < args.size() ? std::strtol(args[i + 1].c_str(), nullptr, 10) : 0;
  if (mode == "setup") return mode_setup(0, "setup");
  if (mode == "sqpoll-setup") return mode_setup(IORING_SETUP_SQPOLL, "sqpoll setup");
  if (mode == "personality" && n > 0) return mode_personality(n);
  if (mode == "uring-cmd" && n > 0 && i + 2 < args.size()) return mode_uring_cmd(n, args[i + 2].c_str());
  usage();
}
