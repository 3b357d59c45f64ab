#include "posture.h"

#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace iouring {
namespace {

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string s(4096, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

}  // namespace

std::optional<long> parse_sysctl_long(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::vector<std::string>> parse_lsm_list(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.remove_suffix(1);
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view name = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    if (name.empty() || name.size() > 32 || out.size() >= 16) return std::nullopt;
    for (char c : name)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return std::nullopt;
    out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::optional<bool> query_audit_enabled() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return errno == EPROTONOSUPPORT ? std::optional<bool>(false) : std::nullopt;
  timeval tv{.tv_sec = 1, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct {
    nlmsghdr h;
    char pad[16];
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(0);
  req.h.nlmsg_type = AUDIT_GET;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 1;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::optional<bool> result;
  if (sendto(fd, &req, req.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) >= 0) {
    alignas(nlmsghdr) char buf[8192];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); n > 0 && NLMSG_OK(h, static_cast<unsigned>(n));
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == AUDIT_GET && h->nlmsg_len >= NLMSG_LENGTH(sizeof(uint32_t) * 2)) {
        audit_status st{};
        std::memcpy(&st, NLMSG_DATA(h),
                    std::min<size_t>(sizeof(st), h->nlmsg_len - NLMSG_LENGTH(0)));
        result = st.enabled != 0;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) break;  // EPERM without CAP_AUDIT_CONTROL
    }
  }
  close(fd);
  return result;
}

Posture read_posture(const PosturePaths& paths) {
  Posture p;
  if (auto t = read_small_file(paths.proc_sys_kernel + "/io_uring_disabled"))
    if (auto v = parse_sysctl_long(*t)) p.io_uring_disabled = static_cast<int>(*v);
  if (auto t = read_small_file(paths.proc_sys_kernel + "/io_uring_group"))
    p.io_uring_group = parse_sysctl_long(*t);
  if (auto t = read_small_file(paths.lsm_list)) p.lsms = parse_lsm_list(*t);
  p.audit_enabled = query_audit_enabled();
  utsname u{};
  if (uname(&u) == 0) p.kernel_release = u.release;
  return p;
}

}  // namespace iouring
