#include "collectors/rings_collector.h"

#include <string>

#include "bpf/abi.h"
#include "metric_families.h"
#include "uring_names.h"

namespace iouring {

bool RingsCollector::collect(std::vector<prometheus::MetricFamily>& out) {
  std::vector<iou_ring_stats> v;
  if (!maps_.read(MapId::ring_stats, v, 1)) return false;
  const iou_ring_stats& s = v[0];

  auto created = counter_family("io_uring_rings_created_total", "io_uring instances created.");
  add_counter(created, {}, s.rings_created);
  out.push_back(std::move(created));

  auto flags = counter_family("io_uring_rings_created_by_flag_total",
                              "io_uring instances created with an IORING_SETUP_* flag, by flag.");
  for (uint32_t bit = 0; bit < IOU_SETUP_FLAG_BITS; ++bit) {
    std::string_view name = setup_flag_name(bit);
    if (!name.empty())
      add_counter(flags, {{"flag", std::string(name)}}, s.setup_flags[bit]);
    else if (s.setup_flags[bit] != 0)
      add_counter(flags, {{"flag", "bit" + std::to_string(bit)}}, s.setup_flags[bit]);
  }
  out.push_back(std::move(flags));

  auto overflow = counter_family("io_uring_cq_overflows_total",
                                 "CQEs that did not fit the completion ring and were queued on "
                                 "the overflow list.");
  add_counter(overflow, {}, s.cq_overflows);
  out.push_back(std::move(overflow));
  auto dropped = counter_family("io_uring_cqes_dropped_total",
                                "CQEs lost because the CQ ring was full and no overflow entry "
                                "could be allocated.");
  add_counter(dropped, {}, s.cqes_dropped);
  out.push_back(std::move(dropped));
  auto short_writes = counter_family("io_uring_short_writes_total",
                                     "Writes that completed with fewer bytes than requested.");
  add_counter(short_writes, {}, s.short_writes);
  out.push_back(std::move(short_writes));
  return true;
}

}  // namespace iouring
