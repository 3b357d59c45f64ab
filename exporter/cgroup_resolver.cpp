#include "cgroup_resolver.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace iouring {

std::optional<std::string> find_cgroup2_mount(std::string_view text) {
  // mountinfo: id parent major:minor root mount-point options [optional...] - fstype source ...
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::string_view after = line.substr(dash + 3);
    if (after.substr(0, after.find(' ')) != "cgroup2") continue;
    // mount point: 5th field
    std::string_view f = line;
    for (int i = 0; i < 4; ++i) {
      size_t sp = f.find(' ');
      if (sp == std::string_view::npos) return std::nullopt;
      f.remove_prefix(sp + 1);
    }
    std::string_view mnt = f.substr(0, f.find(' '));
    if (mnt.empty() || mnt.front() != '/' || mnt.size() > 4096) continue;
    return std::string(mnt);
  }
  return std::nullopt;
}

CgroupResolver::CgroupResolver(std::string root) : root_(std::move(root)) {
  if (root_.empty()) {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream ss;
    ss << in.rdbuf();
    root_ = find_cgroup2_mount(ss.str()).value_or("");
  }
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::optional<std::string> CgroupResolver::lookup(uint64_t id) const {
  auto it = paths_.find(id);
  if (it == paths_.end()) return std::nullopt;
  return it->second;
}

size_t CgroupResolver::rescan() {
  namespace fs = std::filesystem;
  std::unordered_map<uint64_t, std::string> found;
  if (root_.empty()) return 0;
  struct stat st;
  if (stat(root_.c_str(), &st) == 0) found[st.st_ino] = "/";
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) {
      it.disable_recursion_pending();
      continue;
    }
    const std::string p = it->path().string();
    if (stat(p.c_str(), &st) == 0) found[st.st_ino] = p.substr(root_.size());
  }
  paths_ = std::move(found);
  return paths_.size();
}

}  // namespace iouring
