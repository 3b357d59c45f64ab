// Minimal reader of the Prometheus text format for tests: series -> value.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace iouring::test {

// Key: metric name followed by its labels sorted by name, e.g. `x_total{a="1",b="2"}`.
using Samples = std::map<std::string, double>;

Samples parse_prom_text(std::string_view text);

// Builds the key for a metric and labels given in any order.
std::string series(std::string_view name, std::map<std::string, std::string> labels = {});

// Value of a series, 0 when absent (counters start at zero).
double value(const Samples& s, const std::string& key);

}  // namespace iouring::test
