#include "settled_scrape.h"

#include <chrono>
#include <cstdio>
#include <thread>

namespace iouring::test {

std::vector<Selector> io_uring_activity_series() {
  std::vector<Selector> out;
  for (const char* name :
       {"io_uring_sqes_submitted_total", "io_uring_workload_sqes_submitted_total",
        "io_uring_completions_total", "io_uring_workload_completions_total",
        "io_uring_rings_created_total", "io_uring_workload_rings_created_total"})
    out.push_back({name, {}});
  return out;
}

std::optional<Samples> settled_scrape(const std::function<Samples()>& scrape,
                                      const std::vector<Selector>& watched, int attempts) {
  Samples prev = scrape();
  for (int i = 1; i <= attempts; ++i) {
    Samples next = scrape();
    std::string moved;
    for (const auto& sel : watched)
      if (sum(prev, sel) != sum(next, sel)) moved += (moved.empty() ? "" : ", ") + sel.name;
    if (moved.empty()) return next;
    std::fprintf(stderr, "[settled-scrape] attempt %d/%d: io_uring activity between scrapes (%s); "
                 "scraping again\n", i, attempts, moved.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * i));
    prev = scrape();
  }
  return std::nullopt;
}

}  // namespace iouring::test
