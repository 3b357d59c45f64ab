#include "collectors/workload_collector.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "cgroup_path.h"
#include "collectors/op_slots.h"
#include "metric_families.h"
#include "uring_names.h"

namespace iouring {
namespace {

constexpr const char* kOverflow = "_overflow";  // cgroups beyond the budget
constexpr const char* kGone = "_gone";          // cgroups that no longer exist

void add_into(iou_workload_stats& dst, const iou_workload_stats& src) {
  auto* d = reinterpret_cast<uint64_t*>(&dst);
  const auto* s = reinterpret_cast<const uint64_t*>(&src);
  for (size_t i = 0; i < sizeof(dst) / 8; ++i) d[i] += s[i];
}

}  // namespace

bool parse_granularity(std::string_view text, Granularity& out) {
  if (text == "none") out = Granularity::none;
  else if (text == "cgroup") out = Granularity::cgroup;
  else if (text == "container") out = Granularity::container;
  else if (text == "pod") out = Granularity::pod;
  else return false;
  return true;
}

std::vector<std::string> WorkloadCollector::label_names() const {
  switch (opts_.granularity) {
    case Granularity::pod: return {"pod_uid", "cgroup"};
    case Granularity::container: return {"pod_uid", "container_id", "cgroup"};
    default: return {"cgroup"};
  }
}

// Label values for a cgroup: its pod/container identity, else its path (or "" when unknown
// cgroups are not labelled). `path` null: the overflow or gone pseudo-workloads.
WorkloadCollector::LabelValues WorkloadCollector::labels_for(uint64_t id,
                                                             const std::string* path) const {
  const bool pseudo = path == nullptr;
  const std::string special = id == IOU_WORKLOAD_OVERFLOW ? kOverflow : kGone;
  if (opts_.granularity == Granularity::cgroup) return {pseudo ? special : *path};
  std::optional<WorkloadIdentity> who;
  if (!pseudo) who = parse_cgroup_path(*path);
  std::string cgroup = pseudo ? special : (who || !opts_.label_unknown_cgroups) ? "" : *path;
  std::string pod = who ? who->pod_uid : "";
  if (opts_.granularity == Granularity::pod) return {pod, cgroup};
  return {pod, who ? who->container_id : "", cgroup};
}

bool WorkloadCollector::collect(std::vector<prometheus::MetricFamily>& out) {
  std::vector<std::pair<uint64_t, iou_workload_stats>> entries;
  std::vector<iou_op_globals> globals;
  bool ok = maps_.read_hash(MapId::workload_stats, entries);
  ok = maps_.read(MapId::ops_globals, globals, 1) && ok;

  // Resolve ids; walk the hierarchy again only when some id is new to us.
  bool rescanned = false;
  std::map<LabelValues, iou_workload_stats> series;
  size_t live = 0;
  for (auto& [id, stats] : entries) {
    if (id == IOU_WORKLOAD_OVERFLOW) {
      add_into(series[labels_for(id, nullptr)], stats);
      continue;
    }
    auto path = resolver_.lookup(id);
    if (!path && !rescanned) {
      resolver_.rescan();
      rescanned = true;
      path = resolver_.lookup(id);
    }
    if (!path) {
      // The cgroup is gone (or unreadable): keep its counts under "_gone" and free its entry so
      // live workloads keep their place in the budget.
      ++resolution_failures_;  // removed below, so each id is counted once
      add_into(gone_, stats);
      maps_.remove(MapId::workload_stats, id);
      continue;
    }
    add_into(series[labels_for(id, &*path)], stats);
    ++live;
  }
  static const iou_workload_stats kZero{};
  if (std::memcmp(&gone_, &kZero, sizeof(gone_)) != 0)
    add_into(series[labels_for(~0ULL, nullptr)], gone_);

  const auto names = label_names();
  auto labels = [&](const LabelValues& v) {
    Labels l;
    for (size_t i = 0; i < names.size(); ++i) l.push_back({names[i], v[i]});
    return l;
  };
  auto submitted = counter_family("io_uring_workload_sqes_submitted_total",
                                  "SQEs submitted by a workload, by opcode.");
  auto completed = counter_family("io_uring_workload_completions_total",
                                  "Requests of a workload completed, by result.");
  auto denials = counter_family("io_uring_workload_denials_total",
                                "Requests of a workload completed with EPERM or EACCES.");
  auto latency = histogram_family("io_uring_workload_completion_latency_seconds",
                                  "Submit to final CQE time of a workload's requests.");
  auto rings = counter_family("io_uring_workload_rings_created_total",
                              "io_uring instances created by a workload.");
  auto sqpoll = counter_family("io_uring_workload_sqpoll_rings_created_total",
                               "SQPOLL io_uring instances (a kernel thread polls the ring) "
                               "created by a workload.");
  for (const auto& [values, s] : series) {
    const Labels base = labels(values);
    uint64_t submitted_by_op[IOU_OP_SLOTS];
    std::copy(std::begin(s.submitted), std::end(s.submitted), submitted_by_op);
    fold_unnamed_op_slots(submitted_by_op, IOU_OP_SLOTS);
    for (uint32_t op = 0; op < IOU_OP_SLOTS; ++op) {
      if (submitted_by_op[op] == 0) continue;
      Labels l = base;
      l.push_back({"op", std::string(opcode_name(op))});
      add_counter(submitted, std::move(l), submitted_by_op[op]);
    }
    uint64_t denied = 0;
    for (uint32_t r = 0; r < IOU_RES_COUNT; ++r) {
      if (result_is_denial(r)) denied += s.completed[r];
      if (s.completed[r] == 0 && r != IOU_RES_OK) continue;
      Labels l = base;
      l.push_back({"result", std::string(result_name(r))});
      add_counter(completed, std::move(l), s.completed[r]);
    }
    add_counter(denials, base, denied);
    if (opts_.latency) add_latency_histogram(latency, base, s.latency, s.latency_sum_ns);
    add_counter(rings, base, s.rings_created);
    add_counter(sqpoll, base, s.sqpoll_rings);
  }
  out.push_back(std::move(submitted));
  out.push_back(std::move(completed));
  out.push_back(std::move(denials));
  if (opts_.latency) out.push_back(std::move(latency));
  out.push_back(std::move(rings));
  out.push_back(std::move(sqpoll));

  auto dropped = counter_family(
      "io_uring_exporter_attribution_dropped_series_total",
      "cgroups whose io_uring use could not get their own series because the attribution "
      "budget (--attribution.max-cgroups) was full; their counts go to cgroup=\"_overflow\".");
  auto dropped_events = counter_family(
      "io_uring_exporter_attribution_dropped_events_total",
      "Events attributed to the overflow workload because the budget was full.");
  if (!globals.empty()) {
    add_counter(dropped, {}, globals[0].workload_dropped_series);
    add_counter(dropped_events, {}, globals[0].workload_dropped_events);
  }
  out.push_back(std::move(dropped));
  out.push_back(std::move(dropped_events));
  auto failures = counter_family(
      "io_uring_exporter_cgroup_resolution_failures_total",
      "cgroup ids that could not be resolved to a path (the cgroup exited before a scrape); "
      "their counts go to cgroup=\"_gone\".");
  add_counter(failures, {}, resolution_failures_);
  out.push_back(std::move(failures));
  auto tracked = gauge_family("io_uring_exporter_attribution_cgroups",
                              "cgroups currently holding an entry in the attribution table (overflow excluded).");
  add_gauge(tracked, {}, static_cast<double>(live));
  out.push_back(std::move(tracked));
  auto budget = gauge_family("io_uring_exporter_attribution_budget_cgroups",
                             "Capacity of the attribution table (--attribution.max-cgroups).");
  add_gauge(budget, {}, opts_.budget);
  out.push_back(std::move(budget));
  return ok;
}

}  // namespace iouring
