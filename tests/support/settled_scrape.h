// A scrape whose series relate to each other exactly, on a host where other processes may use
// io_uring during it.
//
// The exporter reads its maps one after another while it renders a scrape: an io_uring event
// between two reads shows in one map and not yet in the other, so relations between metrics
// (node totals equal the sum over workloads) hold only in a scrape that no activity overlapped.
// Two consecutive scrapes that agree on every watched series prove it for the second one: an
// event counted while either was read would make them differ.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "prom_text.h"

namespace iouring::test {

// Node-wide and per-workload SQEs submitted, requests completed and rings created.
std::vector<Selector> io_uring_activity_series();

// The second of two consecutive scrapes that agree on `watched` (each summed), trying up to
// `attempts` pairs (each retry logged); nullopt when none agreed.
std::optional<Samples> settled_scrape(const std::function<Samples()>& scrape,
                                      const std::vector<Selector>& watched =
                                          io_uring_activity_series(),
                                      int attempts = 5);

}  // namespace iouring::test
