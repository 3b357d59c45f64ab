// Opens, loads and attaches the BPF object, one probe at a time: each probe gets the first
// program variant the running kernel supports; a probe the kernel lacks or refuses is reported,
// not fatal (unless nothing attaches at all).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_btf.h"
#include "map_source.h"
#include "pinning.h"
#include "probes.h"

struct iouring_bpf;
struct bpf_link;

namespace iouring {

enum class ProbeState { attached, missing, refused, failed, disabled };
std::string_view probe_state_name(ProbeState state);

struct ProbeStatus {
  const ProbeSpec* spec = nullptr;
  const ProbeVariant* variant = nullptr;  // the one attached, or the last one tried
  ProbeState state = ProbeState::missing;
  int err = 0;          // errno of the refusal or failure
  std::string reason;   // one line, for the log
  int prog_fd = -1;     // attached program, for run-time statistics
};

// Entries of the direct-mapped in-flight table for a requested capacity: the next power of two.
uint32_t inflight_table_size(uint32_t requested);

struct LoaderOptions {
  bool track_latency = true;
  uint32_t inflight_entries = 65536;  // rounded up to a power of two (inflight_table_size)
  uint32_t workload_budget = 0;                   // cgroups tracked per workload; 0 = attribution off
  std::string btf_path;                           // custom kernel BTF for CO-RE, "" = running kernel
  std::string pin_path;                           // bpffs directory for restart continuity, "" = off
  std::vector<ProgKind> disabled_kinds;           // program types never to use
  std::function<bool(std::string_view collector)> collector_enabled = [](std::string_view) {
    return true;
  };
};

class Loader {
 public:
  // nullptr and a one-line error when the object cannot be loaded or nothing attached.
  static std::unique_ptr<Loader> load(const KernelBtf& btf, const LoaderOptions& opts,
                                      std::string* error);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  std::span<const ProbeStatus> probes() const { return status_; }
  size_t attached_count() const;
  bool attached(std::string_view probe) const;
  // Whether submit->complete latency is measured (not on kernels whose completion names no request).
  bool latency_tracked() const;
  int map_fd(MapId id) const;
  // Publishes the io_uring_disabled sysctl to the setup refusal classifier.
  bool write_posture(int io_uring_disabled);
  // The pin directory in use ("" = unpinned) and how many probes were kept attached by links
  // pinned by an earlier exporter (see pinning.h).
  std::string pin_path() const;
  size_t reused_links() const { return reused_links_; }

 private:
  Loader() = default;
  // Decides what to do with the pinned state (reuse, install, or run unpinned) before load;
  // marks the probes whose pinned links are kept.
  void prepare_pins(const LoaderOptions& opts, const std::vector<const ProbeVariant*>& chosen,
                    std::vector<bool>& keep_link);
  bool pin_maps();
  void pin_probe(const ProbeStatus& st, struct bpf_link* link, int prog_fd);
  void finish_pins();

  struct iouring_bpf* skel_ = nullptr;
  std::vector<struct bpf_link*> links_;
  std::vector<ProbeStatus> status_;
  std::unique_ptr<PinDir> pins_;   // held (locked) for the exporter's lifetime
  bool installing_ = false;        // this process creates the pinned state
  bool reusing_ = false;           // maps come from the pinned state
  size_t reused_links_ = 0;
  PinRecord pin_record_;           // what this exporter's pinned state is
  std::vector<int> pinned_prog_fds_;  // programs behind kept links
};

}  // namespace iouring
