#include "collectors/security_collector.h"

#include <string>

#include "bpf/abi.h"
#include "collectors/op_slots.h"
#include "metric_families.h"
#include "uring_names.h"

namespace iouring {

bool SecurityCollector::collect(std::vector<prometheus::MetricFamily>& out) {
  bool ok = collect_hooks(out);
  ok = collect_audit(out) && ok;
  ok = collect_refusals(out) && ok;
  ok = collect_misuse(out) && ok;
  return ok;
}

bool SecurityCollector::collect_hooks(std::vector<prometheus::MetricFamily>& out) {
  std::vector<iou_hook_stats> hooks;
  if (!maps_.read(MapId::hook_stats, hooks, IOU_HOOK_COUNT)) return false;
  auto calls = counter_family("io_uring_lsm_hook_calls_total",
                              "Calls of an io_uring LSM hook (security_uring_*), by hook.");
  auto denials = counter_family(
      "io_uring_lsm_hook_denials_total",
      "LSM hook calls that refused the operation (combined verdict of all LSMs), by hook and errno.");
  auto latency = histogram_family("io_uring_lsm_hook_latency_seconds",
                                  "Time spent in an io_uring LSM hook, by hook.");
  for (uint32_t h = 0; h < IOU_HOOK_COUNT; ++h) {
    const std::string hook(hook_name(h));
    const auto& s = hooks[h];
    if (attached_("hook_" + hook)) {
      uint64_t n = s.lsm_calls;
      for (uint64_t v : s.verdict) n += v;
      add_counter(calls, {{"hook", hook}}, n);
      for (uint32_t r = 0; r < IOU_RES_COUNT; ++r)
        if (r != IOU_RES_OK && (s.verdict[r] != 0 || result_is_denial(r)))
          add_counter(denials, {{"hook", hook}, {"errno", std::string(result_name(r))}},
                      s.verdict[r]);
    }
    if (attached_("hook_" + hook + "_latency") && attached_("hook_" + hook))
      add_latency_histogram(latency, {{"hook", hook}}, s.latency, s.latency_sum_ns);
  }
  for (auto* f : {&calls, &denials, &latency})
    if (!f->metric.empty()) out.push_back(std::move(*f));
  return true;
}

bool SecurityCollector::collect_audit(std::vector<prometheus::MetricFamily>& out) {
  if (!attached_("audit_entry")) return true;
  std::vector<iou_audit_stats> audit;
  std::vector<iou_op_stats> ops;
  if (!maps_.read(MapId::audit_stats, audit, IOU_OP_SLOTS) ||
      !maps_.read(MapId::ops_stats, ops, IOU_OP_SLOTS))
    return false;
  fold_unnamed_op_slots(audit);
  fold_unnamed_op_slots(ops);
  auto calls = counter_family("io_uring_audit_calls_total",
                              "Calls of the io_uring audit hook __audit_uring_entry, by opcode.");
  auto latency = histogram_family(
      "io_uring_audit_latency_seconds",
      "Time spent in the io_uring audit hooks, by opcode and phase (entry, exit).");
  auto gap = counter_family(
      "io_uring_audit_unaudited_ops_total",
      "Requests submitted by audited tasks that never passed the audit hook (opcodes the kernel "
      "marks audit_skip), by opcode.");
  const bool entry_lat = attached_("audit_entry_latency");
  const bool exit_lat = attached_("audit_exit") && attached_("audit_exit_latency");
  for (uint32_t slot = 0; slot < IOU_OP_SLOTS; ++slot) {
    const auto& a = audit[slot];
    const uint64_t eligible = ops[slot].audit_eligible;
    if (a.entry_calls == 0 && eligible == 0) continue;
    const std::string op(opcode_name(slot));
    add_counter(calls, {{"op", op}}, a.entry_calls);
    if (entry_lat)
      add_latency_histogram(latency, {{"op", op}, {"phase", "entry"}}, a.entry_latency,
                            a.entry_latency_sum_ns);
    if (exit_lat)
      add_latency_histogram(latency, {{"op", op}, {"phase", "exit"}}, a.exit_latency,
                            a.exit_latency_sum_ns);
    // Requests re-issued after -EAGAIN pass the hook twice: keep the counter monotonic.
    uint64_t g = eligible > a.entry_calls ? eligible - a.entry_calls : 0;
    uint64_t& last = unaudited_[slot];
    last = std::max(last, g);
    add_counter(gap, {{"op", op}}, last);
  }
  out.push_back(std::move(calls));
  if (entry_lat || exit_lat) out.push_back(std::move(latency));
  out.push_back(std::move(gap));
  return true;
}

bool SecurityCollector::collect_refusals(std::vector<prometheus::MetricFamily>& out) {
  bool ok = true;
  if (attached_("setup_exit")) {
    std::vector<iou_setup_stats> setup;
    if (maps_.read(MapId::setup_stats, setup, 1)) {
      auto calls = counter_family("io_uring_setup_calls_total", "io_uring_setup system calls.");
      add_counter(calls, {}, setup[0].calls);
      out.push_back(std::move(calls));
      auto refusals = counter_family(
          "io_uring_setup_refusals_total",
          "io_uring_setup calls refused, by reason: disabled (kernel.io_uring_disabled=2), "
          "not_permitted (=1 and caller not in kernel.io_uring_group), lsm, other errors.");
      for (uint32_t r = 0; r < IOU_SETUP_REASON_COUNT; ++r)
        add_counter(refusals, {{"reason", std::string(setup_reason_name(r))}}, setup[0].refusals[r]);
      out.push_back(std::move(refusals));
    } else {
      ok = false;
    }
  }
  if (attached_("register_enter") && attached_("register_exit")) {
    std::vector<iou_register_stats> reg;
    if (maps_.read(MapId::register_stats, reg, IOU_REG_SLOTS)) {
      auto calls = counter_family("io_uring_register_calls_total",
                                  "io_uring_register system calls, by register opcode.");
      auto refusals = counter_family("io_uring_register_refusals_total",
                                     "io_uring_register calls that failed, by register opcode "
                                     "and errno (EACCES: refused by ring restrictions).");
      auto personalities = counter_family("io_uring_personalities_registered_total",
                                          "Credentials registered as io_uring personalities.");
      auto restrictions = counter_family("io_uring_restrictions_registered_total",
                                         "Restriction sets registered on rings.");
      for (uint32_t slot = 0; slot < IOU_REG_SLOTS; ++slot) {
        const auto& r = reg[slot];
        uint64_t total = 0;
        for (uint64_t v : r.result) total += v;
        if (total == 0) continue;
        const std::string op(register_opcode_name(slot));
        add_counter(calls, {{"opcode", op}}, total);
        for (uint32_t c = 0; c < IOU_RES_COUNT; ++c)
          if (c != IOU_RES_OK && r.result[c] != 0)
            add_counter(refusals, {{"opcode", op}, {"errno", std::string(result_name(c))}},
                        r.result[c]);
      }
      add_counter(personalities, {}, reg[register_opcode_slot("register_personality")].result[IOU_RES_OK]);
      add_counter(restrictions, {}, reg[register_opcode_slot("register_restrictions")].result[IOU_RES_OK]);
      for (auto* f : {&calls, &refusals, &personalities, &restrictions}) out.push_back(std::move(*f));
    } else {
      ok = false;
    }
  }
  return ok;
}

bool SecurityCollector::collect_misuse(std::vector<prometheus::MetricFamily>& out) {
  if (!attached_("submit")) return true;
  std::vector<iou_op_stats> ops;
  std::vector<uint64_t> cmds;
  if (!maps_.read(MapId::ops_stats, ops, IOU_OP_SLOTS) ||
      !maps_.read(MapId::uring_cmd_stats, cmds, IOU_CMD_SLOTS))
    return false;
  fold_unnamed_op_slots(ops);
  auto personality = counter_family(
      "io_uring_personality_requests_total",
      "Requests submitted under a registered personality (credential override), by opcode.");
  for (uint32_t slot = 0; slot < IOU_OP_SLOTS; ++slot)
    if (ops[slot].personality != 0)
      add_counter(personality, {{"op", std::string(opcode_name(slot))}}, ops[slot].personality);
  out.push_back(std::move(personality));
  auto cmd = counter_family("io_uring_uring_cmd_requests_total",
                            "IORING_OP_URING_CMD passthrough requests completed, by command and target "
                            "file kind (char: e.g. NVMe generic device, block, socket, other).");
  for (uint32_t op = 0; op < IOU_CMD_OP_COUNT; ++op)
    for (uint32_t t = 0; t < IOU_CMD_TARGET_COUNT; ++t)
      if (uint64_t n = cmds[op * static_cast<uint32_t>(IOU_CMD_TARGET_COUNT) + t])
        add_counter(cmd, {{"cmd_op", std::string(cmd_op_name(op))}, {"target", std::string(cmd_target_name(t))}}, n);
  out.push_back(std::move(cmd));
  return true;
}

}  // namespace iouring
