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
  template <class T>
  void set_hash(MapId id, const std::map<uint64_t, T>& entries) {
    auto& h = hashes_[id];
    h.clear();
    for (const auto& [k, v] : entries) {
      std::vector<uint64_t> words(sizeof(T) / 8);
      std::memcpy(words.data(), &v, sizeof(T));
      h[k] = std::move(words);
    }
  }
  bool has_key(MapId id, uint64_t key) { return hashes_[id].count(key) > 0; }

  int read_percpu_hash_sum(
      MapId id, size_t,
      const std::function<void(uint64_t, std::span<const uint64_t>)>& fn) override {
    if (failing_[id]) return -EIO;
    for (const auto& [k, v] : hashes_[id]) fn(k, v);
    return 0;
  }
  int delete_key(MapId id, uint64_t key) override {
    return hashes_[id].erase(key) ? 0 : -ENOENT;
  }

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
  std::map<MapId, std::map<uint64_t, std::vector<uint64_t>>> hashes_;
};

}  // namespace iouring::test
