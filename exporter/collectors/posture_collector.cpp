#include "collectors/posture_collector.h"

#include <algorithm>

#include "metric_families.h"

namespace iouring {

bool PostureCollector::collect(std::vector<prometheus::MetricFamily>& out) {
  Posture p = read_();
  bool ok = true;
  if (p.io_uring_disabled) {
    auto f = gauge_family("io_uring_disabled_sysctl",
                          "kernel.io_uring_disabled: 0 io_uring allowed, 1 only for "
                          "kernel.io_uring_group or CAP_SYS_ADMIN, 2 disabled for everyone.");
    add_gauge(f, {}, *p.io_uring_disabled);
    out.push_back(std::move(f));
  }
  if (p.io_uring_group) {
    auto f = gauge_family("io_uring_group_sysctl",
                          "kernel.io_uring_group: the group allowed to use io_uring when "
                          "io_uring_disabled is 1 (-1: none).");
    add_gauge(f, {}, static_cast<double>(*p.io_uring_group));
    out.push_back(std::move(f));
  }
  if (p.lsms) {
    auto f = gauge_family("io_uring_lsm_active",
                          "Linux security modules active on this node (1 per module).");
    for (const auto& l : *p.lsms) add_gauge(f, {{"lsm", l}}, 1);
    out.push_back(std::move(f));
    auto bpf = gauge_family("io_uring_bpf_lsm_active",
                            "1 if the BPF LSM is active, so BPF LSM programs can run.");
    add_gauge(bpf, {}, std::count(p.lsms->begin(), p.lsms->end(), "bpf") ? 1 : 0);
    out.push_back(std::move(bpf));
  } else {
    ok = false;  // securityfs not mounted at /sys/kernel/security
  }
  if (p.audit_enabled) {
    auto f = gauge_family("io_uring_audit_enabled",
                          "1 if kernel audit is enabled, so the io_uring audit hooks run.");
    add_gauge(f, {}, *p.audit_enabled ? 1 : 0);
    out.push_back(std::move(f));
  } else {
    ok = false;
  }
  auto info = gauge_family("io_uring_kernel_info", "Running kernel release; the value is 1.");
  add_gauge(info, {{"release", p.kernel_release}}, 1);
  out.push_back(std::move(info));
  return ok;
}

}  // namespace iouring
