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

// The labels of a series key built by series() or parse_prom_text().
std::map<std::string, std::string> labels_of(std::string_view key);

// Series of one metric whose labels include `labels` (other labels take any value).
struct Selector {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string text() const { return series(name, labels); }
};
bool matches(const Selector& sel, std::string_view key);

// Sum over the series a selector matches, 0 when none does.
double sum(const Samples& s, const Selector& sel);

}  // namespace iouring::test
