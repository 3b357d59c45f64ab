#include "map_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <unordered_set>

namespace iouring {
namespace {
constexpr int kKernelENOTSUPP = 524;  // kernel-internal errno for unsupported map commands
}  // namespace

std::string_view map_name(MapId id) {
  switch (id) {
    case MapId::ops_stats: return "ops_stats";
    case MapId::ops_globals: return "ops_globals";
    case MapId::ring_stats: return "ring_stats";
    case MapId::uring_cmd_stats: return "uring_cmd_stats";
    case MapId::hook_stats: return "hook_stats";
    case MapId::audit_stats: return "audit_stats";
    case MapId::setup_stats: return "setup_stats";
    case MapId::register_stats: return "register_stats";
    case MapId::workload_stats: return "workload_stats";
    case MapId::kCount: break;
  }
  return "unknown";
}

BpfMapReader::BpfMapReader() : ncpus_(libbpf_num_possible_cpus()) { fds_.fill(-1); }

int BpfMapReader::read_percpu_sum(MapId id, std::span<uint64_t> out, size_t value_words) {
  int fd = fds_[static_cast<size_t>(id)];
  if (fd < 0) return -EBADF;
  if (ncpus_ <= 0) return ncpus_ == 0 ? -EINVAL : ncpus_;
  if (value_words == 0 || out.size() % value_words != 0) return -EINVAL;
  const uint32_t entries = out.size() / value_words;
  const size_t per_entry = value_words * ncpus_;

  std::lock_guard lock(mu_);
  scratch_.resize(per_entry * entries);
  keys_.resize(entries);

  // One batch syscall for the whole array (5.7+); per-key lookups where batching is missing.
  uint32_t count = entries, out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  int err = bpf_map_lookup_batch(fd, nullptr, &out_batch, keys_.data(), scratch_.data(), &count,
                                 &opts);
  if (err != 0 && errno == ENOENT) err = 0;  // ENOENT: the batch reached the array's end
  if (err != 0) {
    if (errno != EINVAL && errno != ENOTSUP && errno != kKernelENOTSUPP) return -errno;
    count = entries;
    for (uint32_t k = 0; k < entries; ++k) {
      keys_[k] = k;
      if (bpf_map_lookup_elem(fd, &k, scratch_.data() + per_entry * k) != 0) return -errno;
    }
  }
  std::fill(out.begin(), out.end(), 0);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t key = keys_[i];
    if (key >= entries) continue;
    const uint64_t* cpu_values = scratch_.data() + per_entry * i;
    uint64_t* dst = out.data() + value_words * key;
    for (int c = 0; c < ncpus_; ++c)
      for (size_t w = 0; w < value_words; ++w) dst[w] += cpu_values[c * value_words + w];
  }
  return 0;
}

int BpfMapReader::read_percpu_hash_sum(
    MapId id, size_t value_words,
    const std::function<void(uint64_t, std::span<const uint64_t>)>& fn) {
  int fd = fds_[static_cast<size_t>(id)];
  if (fd < 0) return -EBADF;
  if (ncpus_ <= 0) return -EINVAL;
  std::lock_guard lock(mu_);
  scratch_.resize(value_words * ncpus_);
  std::vector<uint64_t> sum(value_words);
  uint64_t key = 0, next = 0;
  const uint64_t* prev = nullptr;
  // Plain iteration: entries are bounded by the attribution budget. A key deleted while we walk
  // restarts from the beginning in the kernel; the visited set keeps each key reported once.
  std::unordered_set<uint64_t> seen;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(fd, &key, scratch_.data()) != 0) {
      if (errno == ENOENT) continue;
      return -errno;
    }
    if (!seen.insert(key).second) continue;
    std::fill(sum.begin(), sum.end(), 0);
    for (int c = 0; c < ncpus_; ++c)
      for (size_t w = 0; w < value_words; ++w) sum[w] += scratch_[c * value_words + w];
    fn(key, sum);
  }
  return errno == ENOENT ? 0 : -errno;
}

int BpfMapReader::delete_key(MapId id, uint64_t key) {
  int fd = fds_[static_cast<size_t>(id)];
  if (fd < 0) return -EBADF;
  return bpf_map_delete_elem(fd, &key) == 0 ? 0 : -errno;
}

}  // namespace iouring
