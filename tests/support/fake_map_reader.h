// A MapReader backed by plain memory, so collectors are tested without BPF or root.
#pragma once

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "map_source.h"

namespace iouring::test {

class FakeMapReader final : public MapReader {
 public:
  template <class T>
  void set(MapId id, const std::vector<T>& values) {
    auto& words = maps_[id];
    words.resize(values.size() * sizeof(T) / 8);
    std::memcpy(words.data(), values.data(), values.size() * sizeof(T));
  }
  void fail(MapId id) { failing_[id] = true; }

  int read_percpu_sum(MapId id, std::span<uint64_t> out, size_t) override {
    if (failing_[id]) return -EIO;
    auto it = maps_.find(id);
    if (it == maps_.end() || it->second.size() != out.size()) return -ENOENT;
    std::copy(it->second.begin(), it->second.end(), out.begin());
    return 0;
  }

 private:
  std::map<MapId, std::vector<uint64_t>> maps_;
  std::map<MapId, bool> failing_;
};

}  // namespace iouring::test
