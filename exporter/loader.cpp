#include "loader.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "bpf/abi.h"
#include "iouring_bpf.skel.h"

namespace iouring {
namespace {

// Bits of struct io_kiocb's flags the programs test, from the running kernel's BTF (0 = absent).
struct ReqFlagMasks {
  uint64_t creds = 0;     // REQ_F_CREDS: the request runs with a registered personality
  uint64_t cqe_skip = 0;  // REQ_F_CQE_SKIP: no CQE on success, so no completion to wait for
};

struct Candidate {
  std::vector<const ProbeVariant*> variants;  // supported by this kernel, in preference order
  size_t next = 0;                            // the one currently chosen
  const ProbeVariant* chosen() const { return next < variants.size() ? variants[next] : nullptr; }
};

bool tracefs_event_exists(std::string_view category_name) {
  for (const char* root : {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"}) {
    std::error_code ec;
    if (std::filesystem::exists(std::string(root) + std::string(category_name) + "/id", ec))
      return true;
  }
  return false;
}

bool kernel_supports(const KernelBtf& btf, const ProbeVariant& v) {
  switch (v.kind) {
    case ProgKind::tp_btf:
    case ProgKind::raw_tp: return btf.tracepoint_args(v.target) == v.nargs;
    case ProgKind::tracepoint: return tracefs_event_exists(v.target);
    case ProgKind::fentry:
    case ProgKind::fexit: return btf.has_function(v.target);
    case ProgKind::lsm: return btf.has_function("bpf_lsm_" + std::string(v.target));
  }
  return false;
}

std::string missing_reason(const KernelBtf& btf, const ProbeSpec& spec) {
  const ProbeVariant& first = spec.variants.front();
  switch (first.kind) {
    case ProgKind::tp_btf:
    case ProgKind::raw_tp: {
      int n = btf.tracepoint_args(first.target);
      if (n < 0) return "tracepoint " + std::string(first.target) + " not in this kernel";
      return "tracepoint " + std::string(first.target) + " has an unsupported prototype (" +
             std::to_string(n) + " arguments)";
    }
    case ProgKind::tracepoint:
      return "tracepoint " + std::string(first.target) +
             " not found in tracefs (mount it: mount -t tracefs nodev /sys/kernel/tracing)";
    case ProgKind::lsm: return "LSM hook " + std::string(first.target) + " not in this kernel";
    default: return "function " + std::string(first.target) + " not in this kernel";
  }
}

// Applies start-up options and keeps only the chosen programs.
void configure(struct iouring_bpf* skel, const LoaderOptions& opts,
               const std::vector<const ProbeVariant*>& chosen, const ReqFlagMasks& req_flags) {
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
  for (const ProbeVariant* v : chosen) {
    if (!v) continue;
    struct bpf_program* p = bpf_object__find_program_by_name(skel->obj, std::string(v->program).c_str());
    if (p) bpf_program__set_autoload(p, true);
  }
  // The in-flight table is only used when a completion program that names the request runs
  // (otherwise: 5.10's request-less tracepoint, or no completion probe, nothing would ever match
  // or remove its entries) and the submit program records requests (the programs for the
  // 5.10-5.17 io_uring_submit_sqe prototype do not: 5.10 refuses the BPF atomics the table uses).
  const bool complete_names_request =
      std::any_of(chosen.begin(), chosen.end(),
                  [](const ProbeVariant* v) {
                    return v && v->target == "io_uring_complete" && v->program != "complete_legacy_btf";
                  }) &&
      std::none_of(chosen.begin(), chosen.end(), [](const ProbeVariant* v) {
        return v && v->program.find("submit_sqe_legacy") != std::string_view::npos;
      });
  skel->rodata->track_latency = opts.track_latency && complete_names_request;
  skel->rodata->use_inflight =
      (opts.track_latency || opts.workload_budget > 0) && complete_names_request;
  skel->rodata->req_creds_mask = req_flags.creds;
  skel->rodata->req_cqe_skip_mask = req_flags.cqe_skip;
  skel->rodata->count_audit_eligible = std::any_of(
      chosen.begin(), chosen.end(),
      [](const ProbeVariant* v) { return v && v->target == "__audit_uring_entry"; });
  const bool attribute = opts.workload_budget > 0;
  skel->rodata->attribute_workloads = attribute;
  // A power of two of entries (at least one pair), indexed by the top bits of a hash (ops.bpf.c).
  const uint32_t inflight =
      skel->rodata->use_inflight ? inflight_table_size(std::max<uint32_t>(opts.inflight_entries, 2)) : 1;
  bpf_map__set_max_entries(skel->maps.ops_inflight, inflight);
  skel->rodata->inflight_mask = inflight - 1;
  bpf_map__set_max_entries(skel->maps.workload_stats, attribute ? opts.workload_budget + 1 : 1);
  if (!attribute) bpf_map__set_max_entries(skel->maps.workload_dropped, 1);
}

struct iouring_bpf* open_object(const LoaderOptions& opts) {
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (!opts.btf_path.empty()) open_opts.btf_custom_path = opts.btf_path.c_str();
  return iouring_bpf__open_opts(&open_opts);
}

// Loads a fresh copy of the object holding only `chosen`; returns 0 or -errno.
int try_load(const LoaderOptions& opts, const std::vector<const ProbeVariant*>& chosen,
             const ReqFlagMasks& req_flags) {
  struct iouring_bpf* skel = open_object(opts);
  if (!skel) return -errno;
  configure(skel, opts, chosen, req_flags);
  int err = iouring_bpf__load(skel);
  iouring_bpf__destroy(skel);
  return err;
}

std::string errno_text(int err) {
  err = err < 0 ? -err : err;
  return std::string(strerrorname_np(err) ? strerrorname_np(err) : "E?") + " (" +
         std::strerror(err) + ")";
}

// What pinned state must be to be reused: the ABI, every map's layout, and what the programs
// do (the BPF object itself, its rodata = the start-up options, the variant chosen per probe).
PinRecord expected_record(struct iouring_bpf* skel,
                          const std::vector<const ProbeVariant*>& chosen) {
  PinRecord r;
  r.abi_version = IOU_ABI_VERSION;
  Fingerprint layout;
  layout.add(abi_struct_hash());
  struct bpf_map* map;
  bpf_object__for_each_map(map, skel->obj) {
    if (bpf_map__is_internal(map)) continue;
    layout.add(std::string_view(bpf_map__name(map))).add(bpf_map__type(map));
    layout.add(bpf_map__key_size(map)).add(bpf_map__value_size(map));
    layout.add(bpf_map__max_entries(map)).add(bpf_map__map_flags(map));
  }
  r.layout_hash = layout.value();
  Fingerprint programs;
  size_t size = 0;
  const void* elf = iouring_bpf__elf_bytes(&size);
  programs.add_bytes(elf, size);
  if (const void* rodata = bpf_map__initial_value(skel->maps.rodata, &size))
    programs.add_bytes(rodata, size);
  auto specs = probe_table();
  for (size_t i = 0; i < specs.size() && i < chosen.size(); ++i)
    programs.add(specs[i].name).add(chosen[i] ? chosen[i]->program : std::string_view("-"));
  r.program_hash = programs.value();
  return r;
}

}  // namespace

uint32_t inflight_table_size(uint32_t requested) {
  uint32_t n = 1;
  while (n < requested && n < (1u << 24)) n <<= 1;
  return n;
}

std::string_view probe_state_name(ProbeState state) {
  switch (state) {
    case ProbeState::attached: return "attached";
    case ProbeState::missing: return "missing";
    case ProbeState::refused: return "refused";
    case ProbeState::failed: return "failed";
    case ProbeState::disabled: return "disabled";
  }
  return "unknown";
}

size_t Loader::attached_count() const {
  size_t n = 0;
  for (const auto& s : status_) n += s.state == ProbeState::attached;
  return n;
}

int Loader::map_fd(MapId id) const {
  switch (id) {
    case MapId::ops_stats: return bpf_map__fd(skel_->maps.ops_stats);
    case MapId::ops_globals: return bpf_map__fd(skel_->maps.ops_globals);
    case MapId::ring_stats: return bpf_map__fd(skel_->maps.ring_stats);
    case MapId::uring_cmd_stats: return bpf_map__fd(skel_->maps.uring_cmd_stats);
    case MapId::hook_stats: return bpf_map__fd(skel_->maps.hook_stats);
    case MapId::audit_stats: return bpf_map__fd(skel_->maps.audit_stats);
    case MapId::setup_stats: return bpf_map__fd(skel_->maps.setup_stats);
    case MapId::register_stats: return bpf_map__fd(skel_->maps.register_stats);
    case MapId::workload_stats: return bpf_map__fd(skel_->maps.workload_stats);
    case MapId::kCount: break;
  }
  return -1;
}

bool Loader::latency_tracked() const { return skel_ && skel_->rodata->track_latency; }

bool Loader::attached(std::string_view probe) const {
  for (const auto& s : status_)
    if (s.spec->name == probe) return s.state == ProbeState::attached;
  return false;
}

bool Loader::write_posture(int io_uring_disabled) {
  iou_posture p{};
  p.io_uring_disabled = io_uring_disabled;
  uint32_t zero = 0;
  return bpf_map__update_elem(skel_->maps.posture, &zero, sizeof(zero), &p, sizeof(p), BPF_ANY) == 0;
}

Loader::~Loader() {
  // Pinned links stay attached (and pinned maps stay) after this: only the fds are closed.
  for (auto* l : links_) bpf_link__destroy(l);
  for (int fd : pinned_prog_fds_) close(fd);
  if (skel_) iouring_bpf__destroy(skel_);
}

std::string Loader::pin_path() const { return pins_ ? pins_->path() : std::string(); }

void Loader::prepare_pins(const LoaderOptions& opts, const std::vector<const ProbeVariant*>& chosen,
                          std::vector<bool>& keep_link) {
  if (opts.pin_path.empty()) return;
  std::string why;
  pins_ = PinDir::open(opts.pin_path, why);
  if (!pins_) {
    spdlog::warn("BPF state not pinned, counters restart with the exporter: {}", why);
    return;
  }
  const std::string& dir = pins_->path();
  const PinRecord ours = pin_record_ = expected_record(skel_, chosen);
  PinRecord pinned;
  std::string mismatch;
  bool present = false;
  switch (pins_->read_record(pinned, why)) {
    case PinDir::RecordState::absent:
      if (!pins_->empty()) mismatch = "it is incomplete: an exporter stopped while creating it";
      break;
    case PinDir::RecordState::unreadable: mismatch = why; break;
    case PinDir::RecordState::present:
      present = true;
      mismatch = record_mismatch(pinned, ours);
      break;
  }
  std::vector<std::pair<struct bpf_map*, int>> maps;
  if (present && mismatch.empty()) {
    struct bpf_map* map;
    bpf_object__for_each_map(map, skel_->obj) {
      if (bpf_map__is_internal(map)) continue;
      int fd = pins_->get(std::string("maps/") + bpf_map__name(map));
      if (fd < 0) {
        mismatch = std::string("pinned map ") + bpf_map__name(map) + " is missing";
        break;
      }
      maps.emplace_back(map, fd);
      mismatch = pinned_map_mismatch(fd, map);
      if (!mismatch.empty()) break;
    }
  }
  if (present && mismatch.empty()) {
    for (auto& [map, fd] : maps) {
      if (int err = bpf_map__reuse_fd(map, fd); err != 0 && mismatch.empty())
        mismatch = std::string("cannot reuse pinned map ") + bpf_map__name(map) + ": " +
                   errno_text(err);
    }
  }
  for (auto& [map, fd] : maps) close(fd);
  if (present && mismatch.empty()) {
    reusing_ = true;
    // Alone, this exporter may attach (and pin) probes the pinned state lacks; never while
    // another exporter shares the state: its unpinned links may still be attached.
    installing_ = pins_->exclusive();
    auto specs = probe_table();
    for (size_t i = 0; i < specs.size(); ++i) {
      if (!chosen[i] || !pins_->exists("links/" + std::string(specs[i].name))) continue;
      keep_link[i] = true;
      if (auto* p = bpf_object__find_program_by_name(skel_->obj,
                                                     std::string(chosen[i]->program).c_str()))
        bpf_program__set_autoload(p, false);
    }
    spdlog::info("reusing the BPF state pinned in {}: counters continue", dir);
    return;
  }
  if (!mismatch.empty() && !pins_->exclusive()) {
    spdlog::warn("pinned BPF state in {} does not match this exporter ({}) and another exporter "
                 "uses it: running unpinned, counters start from zero and end with this process "
                 "(stop the other exporter, or remove the state with --bpf.uninstall or rm -r {}, "
                 "then restart)",
                 dir, mismatch, dir);
    pins_.reset();
    return;
  }
  if (!mismatch.empty())
    spdlog::warn("pinned BPF state in {} does not match this exporter ({}) and no exporter uses "
                 "it: replacing it, counters restart from zero",
                 dir, mismatch);
  if (int err = pins_->clear(); err != 0) {
    spdlog::warn("cannot clear {}: {}; running unpinned", dir, errno_text(err));
    pins_.reset();
    return;
  }
  installing_ = true;
}

bool Loader::pin_maps() {
  if (!pins_ || !installing_ || reusing_) return true;
  struct bpf_map* map;
  bpf_object__for_each_map(map, skel_->obj) {
    if (bpf_map__is_internal(map)) continue;
    if (int err = pins_->pin(bpf_map__fd(map), std::string("maps/") + bpf_map__name(map));
        err != 0) {
      spdlog::warn("cannot pin map {} in {}: {}; running unpinned", bpf_map__name(map),
                   pins_->path(), errno_text(err));
      pins_->clear();
      pins_.reset();
      installing_ = false;
      return false;
    }
  }
  return true;
}

void Loader::pin_probe(const ProbeStatus& st, struct bpf_link* link, int prog_fd) {
  if (!pins_ || !installing_) return;
  const std::string name(st.spec->name);
  // A link that cannot be pinned ends with this process, like an unpinned exporter's: the next
  // exporter attaches the probe again, so it is never attached twice.
  if (int err = pins_->pin(bpf_link__fd(link), "links/" + name); err != 0) {
    spdlog::debug("probe {}: link not pinned: {}", name, errno_text(err));
    return;
  }
  if (int err = pins_->pin(prog_fd, "progs/" + name); err != 0)
    spdlog::debug("probe {}: program not pinned: {}", name, errno_text(err));
}

void Loader::finish_pins() {
  if (!pins_) return;
  if (installing_ && !reusing_) {
    if (int err = pins_->write_record(pin_record_); err != 0) {
      spdlog::warn("cannot pin the abi record in {}: {}; running unpinned", pins_->path(),
                   errno_text(err));
      pins_->clear();
      pins_.reset();
      return;
    }
    spdlog::info("BPF state pinned in {}: counters continue across restarts (remove it with "
                 "--bpf.uninstall)",
                 pins_->path());
  }
  pins_->share();
}

std::unique_ptr<Loader> Loader::load(const KernelBtf& btf, const LoaderOptions& opts,
                                     std::string* error) {
  std::unique_ptr<Loader> self(new Loader());
  auto specs = probe_table();
  std::vector<Candidate> cand(specs.size());
  self->status_.resize(specs.size());

  for (size_t i = 0; i < specs.size(); ++i) {
    ProbeStatus& st = self->status_[i];
    st.spec = &specs[i];
    if (!opts.collector_enabled(specs[i].collector)) {
      st.state = ProbeState::disabled;
      st.reason = "collector " + std::string(specs[i].collector) + " disabled by flag";
      continue;
    }
    bool supported_but_disabled = false;
    for (const ProbeVariant& v : specs[i].variants) {
      if (!kernel_supports(btf, v)) continue;
      bool disabled = std::find(opts.disabled_kinds.begin(), opts.disabled_kinds.end(), v.kind) !=
                      opts.disabled_kinds.end();
      if (disabled)
        supported_but_disabled = true;
      else
        cand[i].variants.push_back(&v);
    }
    if (cand[i].variants.empty()) {
      st.state = supported_but_disabled ? ProbeState::disabled : ProbeState::missing;
      st.reason = supported_but_disabled ? "every variant's program type disabled by flag"
                                         : missing_reason(btf, specs[i]);
    }
  }
  // Personality use and CQE skipping are read from req->flags; the bits move between kernels.
  ReqFlagMasks req_flags;
  auto req_flag = [&](std::string_view bit_name) -> uint64_t {
    auto bit = btf.enum_value(bit_name);
    return bit && *bit >= 0 && *bit < 64 ? uint64_t{1} << *bit : 0;
  };
  req_flags.creds = req_flag("REQ_F_CREDS_BIT");
  req_flags.cqe_skip = req_flag("REQ_F_CQE_SKIP_BIT");
  auto chosen = [&] {
    std::vector<const ProbeVariant*> out;
    for (const auto& c : cand) out.push_back(c.chosen());
    return out;
  };

  // Common case: everything chosen loads at once. Otherwise find, probe by probe, the first
  // variant the kernel accepts (e.g. fentry refused -> next variant, or the probe is refused).
  if (try_load(opts, chosen(), req_flags) != 0) {
    for (size_t i = 0; i < specs.size(); ++i) {
      while (const ProbeVariant* v = cand[i].chosen()) {
        int err = try_load(opts, {v}, req_flags);
        if (err == 0) break;
        ProbeStatus& st = self->status_[i];
        st.variant = v;
        st.err = -err;
        st.state = err == -EPERM ? ProbeState::refused : ProbeState::failed;
        if (!st.reason.empty()) st.reason += "; ";
        st.reason += std::string(prog_kind_name(v->kind)) + "/" + std::string(v->target) + " " +
                     (err == -EPERM ? "refused by the kernel" : "rejected by the verifier") +
                     ": " + errno_text(err);
        cand[i].next++;
      }
    }
  }

  self->skel_ = open_object(opts);
  if (!self->skel_) {
    *error = "cannot open the BPF object: " + errno_text(errno);
    return nullptr;
  }
  configure(self->skel_, opts, chosen(), req_flags);
  std::vector<bool> keep_link(specs.size(), false);
  self->prepare_pins(opts, chosen(), keep_link);
  if (int err = iouring_bpf__load(self->skel_); err != 0) {
    *error = "cannot load the BPF programs: " + errno_text(err) +
             " (run as root, or with CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE; --log.level=debug "
             "shows the verifier log)";
    return nullptr;
  }

  // The overflow workload must exist before any event can need it.
  if (opts.workload_budget > 0) {
    int ncpus = libbpf_num_possible_cpus();
    std::vector<iou_workload_stats> zero(ncpus > 0 ? ncpus : 1);
    __u64 key = IOU_WORKLOAD_OVERFLOW;
    if (bpf_map__update_elem(self->skel_->maps.workload_stats, &key, sizeof(key), zero.data(),
                             zero.size() * sizeof(zero[0]), BPF_NOEXIST) != 0 &&
        !(self->reusing_ && errno == EEXIST)) {
      *error = "cannot create the overflow workload entry: " + errno_text(errno);
      return nullptr;
    }
  }

  self->pin_maps();
  for (size_t i = 0; i < specs.size(); ++i) {
    const ProbeVariant* v = cand[i].chosen();
    if (!v) continue;
    ProbeStatus& st = self->status_[i];
    st.variant = v;
    if (keep_link[i]) {
      // Attached by an earlier exporter, counting into the same pinned maps: attaching this
      // process's copy too would count every event twice.
      st.state = ProbeState::attached;
      st.err = 0;
      st.reason.clear();
      int fd = self->pins_->get("progs/" + std::string(specs[i].name));
      st.prog_fd = fd >= 0 ? fd : -1;
      if (fd >= 0) self->pinned_prog_fds_.push_back(fd);
      self->reused_links_++;
      continue;
    }
    if (self->reusing_ && !self->installing_) {
      st.state = ProbeState::failed;
      st.err = 0;
      st.reason = "not attached: the exporter sharing " + self->pins_->path() +
                  " has not pinned it (restart the exporters one at a time to attach it)";
      continue;
    }
    struct bpf_program* p =
        bpf_object__find_program_by_name(self->skel_->obj, std::string(v->program).c_str());
    struct bpf_link* link = p ? bpf_program__attach(p) : nullptr;
    if (!link) {
      int err = p ? errno : ENOENT;
      st.state = err == EPERM ? ProbeState::refused : ProbeState::failed;
      st.err = err;
      st.reason = "attaching " + std::string(prog_kind_name(v->kind)) + "/" +
                  std::string(v->target) + " failed: " + errno_text(err);
      continue;
    }
    self->links_.push_back(link);
    st.state = ProbeState::attached;
    st.err = 0;
    st.reason.clear();
    st.prog_fd = bpf_program__fd(p);
    self->pin_probe(st, link, st.prog_fd);
  }
  if (self->attached_count() > 0) self->finish_pins();

  for (size_t i = 0; i < self->status_.size(); ++i) {
    const ProbeStatus& st = self->status_[i];
    if (st.state == ProbeState::attached)
      spdlog::info("probe {}: attached {}/{}{}", st.spec->name, prog_kind_name(st.variant->kind),
                   st.variant->target, keep_link[i] ? " (kept attached by its pinned link)" : "");
    else
      spdlog::warn("probe {}: {}: {}", st.spec->name, probe_state_name(st.state), st.reason);
  }
  if (self->attached_count() == 0) {
    if (self->pins_ && self->installing_ && !self->reusing_) self->pins_->clear();
    *error = "no probe could be attached (see the probe lines above); the kernel needs the "
             "io_uring tracepoints (5.10+) and BPF tracing support";
    return nullptr;
  }
  return self;
}

}  // namespace iouring
