#include "scraper.h"

#include <chrono>
#include <string>

#include "metric_families.h"
#include "text_exposition.h"

namespace iouring {

std::vector<prometheus::MetricFamily> Scraper::Collect() const {
  using Clock = std::chrono::steady_clock;
  std::lock_guard lock(mu_);
  std::vector<prometheus::MetricFamily> out;
  auto duration = gauge_family("io_uring_exporter_collector_duration_seconds",
                               "Time a collector took during this scrape.");
  auto success = gauge_family("io_uring_exporter_collector_success",
                              "1 if the collector read all its sources during this scrape.");
  const auto scrape_start = Clock::now();
  for (const auto& c : collectors_) {
    const auto start = Clock::now();
    bool ok = c->collect(out);
    std::chrono::duration<double> took = Clock::now() - start;
    add_gauge(duration, {{"collector", std::string(c->name())}}, took.count());
    add_gauge(success, {{"collector", std::string(c->name())}}, ok ? 1 : 0);
  }
  out.push_back(std::move(duration));
  out.push_back(std::move(success));
  auto total = gauge_family("io_uring_exporter_scrape_duration_seconds",
                            "Time spent reading all BPF maps and building this scrape's metrics.");
  std::chrono::duration<double> took = Clock::now() - scrape_start;
  add_gauge(total, {}, took.count());
  out.push_back(std::move(total));
  return out;
}

// The bytes prometheus::TextSerializer would write, without going through an std::ostream: at
// 10k series that was most of a scrape (bench/README.md).
std::string Scraper::render() const { return text_exposition(Collect()); }

}  // namespace iouring
