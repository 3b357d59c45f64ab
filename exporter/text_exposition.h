// The Prometheus text exposition format (0.0.4) written straight into a std::string.
//
// prometheus::TextSerializer writes through an std::ostream (a virtual call and locale-aware
// number formatting per token, a buffer grown by doubling and then copied); at 10k series that
// was most of a scrape. This writer reserves the size once and produces the same bytes, which
// tests/unit/text_exposition_test.cpp checks against TextSerializer for every kind of family
// prometheus-cpp can hold, quirks included (prometheus-cpp 1.0.1, Debian 12):
//   - doubles as printf("%.16g"): 1000000, 1e+16, 1.024e-06, 0.3333333333333333, -0; NaN is
//     spelled "Nan", infinities "+Inf"/"-Inf"; counts (_count, _bucket) as exact integers;
//   - label values escape backslash, double quote and newline; HELP text, metric and label
//     names are written as they are (TextSerializer does not escape HELP either);
//   - "# HELP" only for a non-empty help, "# TYPE" always, also for a family without metrics;
//   - a histogram gets a `le="+Inf"` bucket unless its last bucket already is +Inf;
//   - a timestamp only when timestamp_ms != 0.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace iouring {

// Appends `families` to `out`, reserving their approximate size first.
void append_text_exposition(std::string& out,
                            const std::vector<prometheus::MetricFamily>& families);

// `families` in the text format, as one string.
std::string text_exposition(const std::vector<prometheus::MetricFamily>& families);

// An estimate of the bytes `families` take, meant as a capacity to reserve: at least the exact
// size unless label values need escaping, and not far above it.
size_t text_exposition_size_hint(const std::vector<prometheus::MetricFamily>& families);

}  // namespace iouring
