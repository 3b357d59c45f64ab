// cgroup v2 id -> path, by walking the cgroup2 hierarchy (the id of a cgroup is the inode number
// of its directory). Paths are relative to the cgroup2 mount and start with '/'.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace iouring {

// Mount point of the cgroup2 hierarchy in a /proc/self/mountinfo text (/sys/fs/cgroup on a
// unified host, /sys/fs/cgroup/unified on a hybrid one), or nullopt.
std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo);

class CgroupResolver {
 public:
  // root: the cgroup2 mount; "" finds it in /proc/self/mountinfo.
  explicit CgroupResolver(std::string root = "");
  const std::string& root() const { return root_; }
  bool usable() const { return !root_.empty(); }

  // Path of a cgroup id from the cache, nullopt if unknown.
  std::optional<std::string> lookup(uint64_t id) const;
  // Walks the hierarchy again (replacing the cache). Returns the number of cgroups found.
  size_t rescan();

 private:
  std::string root_;
  std::unordered_map<uint64_t, std::string> paths_;
};

}  // namespace iouring
