// Reading the BPF maps at scrape time. Collectors see a MapSource; the real backend reads
// per-CPU maps through libbpf, tests plug in a fake MapReader (the loader seam).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace iouring {

enum class MapId : uint8_t {
  ops_stats,
  ops_globals,
  ring_stats,
  uring_cmd_stats,
  hook_stats,
  audit_stats,
  setup_stats,
  register_stats,
  workload_stats,
  kCount
};
std::string_view map_name(MapId id);

class MapReader {
 public:
  virtual ~MapReader() = default;
  // Fills `out` (entries x value_words) with each entry's value summed over all CPUs.
  // Returns 0 or -errno.
  virtual int read_percpu_sum(MapId id, std::span<uint64_t> out, size_t value_words) = 0;
  // Calls fn(key, value summed over CPUs) for every entry of a per-CPU hash keyed by uint64.
  // Returns 0 or -errno.
  virtual int read_percpu_hash_sum(
      MapId id, size_t value_words,
      const std::function<void(uint64_t key, std::span<const uint64_t> value)>& fn) = 0;
  virtual int delete_key(MapId id, uint64_t key) = 0;
};

// Summing reader for maps created by libbpf (fds looked up once, at start-up).
class BpfMapReader final : public MapReader {
 public:
  BpfMapReader();
  void set_fd(MapId id, int fd) { fds_[static_cast<size_t>(id)] = fd; }
  int read_percpu_sum(MapId id, std::span<uint64_t> out, size_t value_words) override;
  int read_percpu_hash_sum(
      MapId id, size_t value_words,
      const std::function<void(uint64_t, std::span<const uint64_t>)>& fn) override;
  int delete_key(MapId id, uint64_t key) override;

 private:
  std::array<int, static_cast<size_t>(MapId::kCount)> fds_;
  int ncpus_;
  std::mutex mu_;                   // guards scratch_
  std::vector<uint64_t> scratch_;   // all CPUs' values of one batch
  std::vector<uint32_t> keys_;
};

// What collectors use: typed reads plus a count of failed reads per map.
class MapSource {
 public:
  explicit MapSource(MapReader& reader) : reader_(reader) {}

  // Reads a per-CPU array of `n` entries of T (a struct of only uint64_t), summed over CPUs.
  template <class T>
  bool read(MapId id, std::vector<T>& out, size_t n) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % sizeof(uint64_t) == 0);
    out.assign(n, T{});
    std::span<uint64_t> words(reinterpret_cast<uint64_t*>(out.data()), n * sizeof(T) / 8);
    int err = reader_.read_percpu_sum(id, words, sizeof(T) / 8);
    if (err != 0) {
      errors_[static_cast<size_t>(id)].fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  // Entries of a per-CPU hash keyed by uint64 with values T (structs of uint64_t), summed.
  template <class T>
  bool read_hash(MapId id, std::vector<std::pair<uint64_t, T>>& out) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % sizeof(uint64_t) == 0);
    out.clear();
    int err = reader_.read_percpu_hash_sum(id, sizeof(T) / 8,
                                           [&](uint64_t key, std::span<const uint64_t> v) {
                                             T t;
                                             std::memcpy(&t, v.data(), sizeof(T));
                                             out.emplace_back(key, t);
                                           });
    if (err != 0) errors_[static_cast<size_t>(id)].fetch_add(1, std::memory_order_relaxed);
    return err == 0;
  }
  bool remove(MapId id, uint64_t key) { return reader_.delete_key(id, key) == 0; }

  uint64_t read_errors(MapId id) const {
    return errors_[static_cast<size_t>(id)].load(std::memory_order_relaxed);
  }

 private:
  MapReader& reader_;
  std::array<std::atomic<uint64_t>, static_cast<size_t>(MapId::kCount)> errors_{};
};

}  // namespace iouring
