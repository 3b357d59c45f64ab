#include "collectors/ops_collector.h"

#include <string>

#include "bpf/abi.h"
#include "collectors/op_slots.h"
#include "metric_families.h"
#include "uring_names.h"

namespace iouring {

bool OpsCollector::collect(std::vector<prometheus::MetricFamily>& out) {
  std::vector<iou_op_stats> ops;
  std::vector<iou_op_globals> globals;
  bool ok = true;

  if (maps_.read(MapId::ops_stats, ops, IOU_OP_SLOTS)) {
    fold_unnamed_op_slots(ops);
    auto submitted = counter_family("io_uring_sqes_submitted_total",
                                    "SQEs submitted to io_uring, by opcode.");
    auto completed = counter_family(
        "io_uring_completions_total",
        "Requests completed (their final CQE), by opcode and result: ok or the errno name.");
    auto denials = counter_family(
        "io_uring_denials_total",
        "Requests completed with EPERM or EACCES (denied by permissions, LSM or policy), by opcode.");
    auto more = counter_family(
        "io_uring_multishot_cqes_total",
        "CQEs flagged IORING_CQE_F_MORE (not the request's last), by opcode.");
    auto punts = counter_family("io_uring_async_punts_total",
                                "Requests punted to io-wq worker threads, by opcode.");
    auto failed = counter_family("io_uring_requests_failed_total",
                                 "Requests that failed before issue (bad SQE, init errors), by opcode.");
    auto latency = histogram_family(
        "io_uring_completion_latency_seconds",
        "Time from SQE submission to the request's final CQE, by opcode.");
    uint64_t untracked = 0;

    for (uint32_t slot = 0; slot < ops.size(); ++slot) {
      const iou_op_stats& s = ops[slot];
      uint64_t completed_sum = 0;
      for (uint64_t c : s.completed) completed_sum += c;
      untracked += s.latency_untracked;
      if (s.submitted + completed_sum + s.more_cqes + s.async_punts + s.failed_init == 0) continue;

      const std::string op(opcode_name(slot));
      add_counter(submitted, {{"op", op}}, s.submitted);
      uint64_t denied = 0;
      for (uint32_t r = 0; r < IOU_RES_COUNT; ++r) {
        if (result_is_denial(r)) denied += s.completed[r];
        if (s.completed[r] != 0 || r == IOU_RES_OK)
          add_counter(completed, {{"op", op}, {"result", std::string(result_name(r))}},
                      s.completed[r]);
      }
      add_counter(denials, {{"op", op}}, denied);
      add_counter(more, {{"op", op}}, s.more_cqes);
      add_counter(punts, {{"op", op}}, s.async_punts);
      add_counter(failed, {{"op", op}}, s.failed_init);
      if (latency_enabled_) add_latency_histogram(latency, {{"op", op}}, s.latency, s.latency_sum_ns);
    }
    out.push_back(std::move(submitted));
    out.push_back(std::move(completed));
    out.push_back(std::move(denials));
    out.push_back(std::move(more));
    out.push_back(std::move(punts));
    out.push_back(std::move(failed));
    if (latency_enabled_) {
      out.push_back(std::move(latency));
      auto lost = counter_family(
          "io_uring_exporter_latency_untracked_total",
          "Completions without a latency sample: both in-flight table entries their request "
          "could use were held by other requests in flight (raise --bpf.inflight-entries), or "
          "the request was submitted before the exporter attached.");
      add_counter(lost, {}, untracked);
      out.push_back(std::move(lost));
    }
  } else {
    ok = false;
  }

  if (maps_.read(MapId::ops_globals, globals, 1)) {
    auto f = counter_family(
        "io_uring_cqes_without_request_total",
        "CQEs posted without a request: multishot follow-ups (kind=multishot) and auxiliary "
        "CQEs such as msg_ring deliveries (kind=aux).");
    add_counter(f, {{"kind", "multishot"}}, globals[0].multishot_cqes);
    add_counter(f, {{"kind", "aux"}}, globals[0].aux_cqes);
    out.push_back(std::move(f));
  } else {
    ok = false;
  }
  return ok;
}

}  // namespace iouring
