// text_exposition must write exactly the bytes prometheus::TextSerializer writes: over a table of
// hand-built families covering every metric type and formatting corner, and over many random
// ones (fixed seed). A few cases also pin the expected text itself, so that a change of
// prometheus-cpp's format shows up here as a named difference, not only as a mismatch.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "text_exposition.h"

namespace iouring {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Families = std::vector<MetricFamily>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string serializer_text(const Families& families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return os.str();
}

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric& add(MetricFamily& f, std::vector<ClientMetric::Label> labels = {}) {
  auto& m = f.metric.emplace_back();
  m.label = std::move(labels);
  return m;
}

void add_value(MetricFamily& f, std::vector<ClientMetric::Label> labels, double v) {
  auto& m = add(f, std::move(labels));
  m.counter.value = v;
  m.gauge.value = v;
  m.untyped.value = v;
}

// Cumulative buckets from per-bucket counts.
void add_histogram(MetricFamily& f, std::vector<ClientMetric::Label> labels,
                   std::vector<double> bounds, std::vector<uint64_t> counts, double sum) {
  auto& h = add(f, std::move(labels)).histogram;
  uint64_t total = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    total += counts[i];
    h.bucket.push_back({total, bounds[i]});
  }
  h.sample_count = total;
  h.sample_sum = sum;
}

struct Case {
  const char* name;
  Families families;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto one = [&](const char* name, MetricFamily f) { out.push_back({name, {std::move(f)}}); };

  {
    auto f = family("requests_total", "Requests.", MetricType::Counter);
    add_value(f, {}, 0);
    add_value(f, {{"op", "read"}}, 42);
    add_value(f, {{"op", "write"}, {"result", "ok"}}, 123456789012345.0);
    one("counter", std::move(f));
  }
  {
    auto f = family("temperature", "A gauge.", MetricType::Gauge);
    add_value(f, {{"sensor", "a"}}, -3.5);
    add_value(f, {{"sensor", "b"}}, 0.1);
    add_value(f, {{"sensor", "c"}}, 1.0 / 3);
    add_value(f, {{"sensor", "d"}}, -0.0);
    one("gauge", std::move(f));
  }
  {
    auto f = family("thing_info", "Info-like gauge: constant 1, the data is in labels.",
                    MetricType::Gauge);
    add_value(f, {{"version", "0.1.0"}, {"revision", "abc123"}, {"libbpf_version", "v1.1"}}, 1);
    one("info-like gauge", std::move(f));
  }
  {
    auto f = family("untyped_thing", "Untyped.", MetricType::Untyped);
    add_value(f, {}, 7);
    add_value(f, {{"k", "v"}}, 2.5e-300);
    one("untyped", std::move(f));
  }
  {
    auto f = family("latency_seconds", "Histogram without +Inf bucket.", MetricType::Histogram);
    add_histogram(f, {{"op", "nop"}}, {1.024e-06, 2.048e-06, 0.5, 1, 68.719476736}, {1, 2, 3, 4, 5},
                  12.25);
    add_histogram(f, {}, {0.1, 1}, {0, 9}, 3);
    one("histogram, implicit +Inf", std::move(f));
  }
  {
    auto f = family("latency_seconds", "Histogram with an explicit +Inf bucket.",
                    MetricType::Histogram);
    add_histogram(f, {{"op", "read"}}, {0.001, 0.01, kInf}, {5, 0, 10}, 100);
    one("histogram, explicit +Inf", std::move(f));
  }
  {
    auto f = family("empty_histogram", "No buckets, no samples.", MetricType::Histogram);
    add(f, {{"a", "b"}});
    add(f);
    one("histogram without buckets", std::move(f));
  }
  {
    auto f = family("odd_histogram", "Bounds TextSerializer writes as doubles.",
                    MetricType::Histogram);
    add_histogram(f, {}, {-kInf, -0.0, 0, 1e-320, 1e21, kNaN}, {1, 1, 1, 1, 1, 1}, kNaN);
    add_histogram(f, {{"x", "y"}}, {1, kInf, 2}, {1, 2, 3}, -kInf);
    one("histogram with odd bounds", std::move(f));
  }
  {
    auto f = family("rpc_seconds", "Summary.", MetricType::Summary);
    auto& m = add(f, {{"service", "a"}});
    m.summary.sample_count = 18446744073709551615ULL;
    m.summary.sample_sum = 1e6;
    m.summary.quantile = {{0.5, 0.25}, {0.9, 1.5}, {0.99, kNaN}, {1, kInf}};
    auto& empty = add(f);
    empty.summary.sample_count = 0;
    one("summary", std::move(f));
  }
  {
    auto f = family("escapes_total", "Label values escape backslash, quote and newline.",
                    MetricType::Counter);
    add_value(f, {{"path", "C:\\dir\\file"}}, 1);
    add_value(f, {{"quote", "say \"hi\""}}, 2);
    add_value(f, {{"lines", "one\ntwo\n"}}, 3);
    add_value(f, {{"all", "\\\"\n\\n"}, {"empty", ""}, {"tab", "a\tb\r"}}, 4);
    add_value(f, {{"utf8", "p\xc3\xa4t\xc3\xa9 \xe2\x9c\x93"}}, 5);
    one("label value escaping", std::move(f));
  }
  {
    auto f = family("escapes_hist", "Escaped labels repeated on every bucket line.",
                    MetricType::Histogram);
    add_histogram(f, {{"a", "x\"y"}, {"b", "1\\2\n3"}}, {1, 2}, {1, 1}, 2);
    one("escaping in histogram lines", std::move(f));
  }
  {
    auto f = family("help_escapes", "Help with \\ backslash,\nnewline and \"quotes\".",
                    MetricType::Gauge);
    add_value(f, {}, 1);
    one("help text with backslash and newline", std::move(f));
  }
  {
    auto f = family("specials", "NaN and infinities.", MetricType::Gauge);
    add_value(f, {{"v", "nan"}}, kNaN);
    add_value(f, {{"v", "-nan"}}, -kNaN);
    add_value(f, {{"v", "+inf"}}, kInf);
    add_value(f, {{"v", "-inf"}}, -kInf);
    one("NaN, +Inf, -Inf", std::move(f));
  }
  {
    auto f = family("numbers", "Integers versus large doubles.", MetricType::Gauge);
    const double values[] = {
        0, -0.0, 1, -1, 10, 1e6, -1e6, 999999, 1234567, 1e14, 1e15 - 1, 1e15, 1e15 + 1,
        9007199254740991.0, 9007199254740992.0, 9007199254740993.0, 9999999999999998.0, 1e16,
        1e17, 12345678901234567890.0, 1.8446744073709552e19, 1e21, 1e100, 1.7976931348623157e308,
        -1e16, -9007199254740993.0, 0.5, 0.1, 0.3, 1e-5, 1e-4, 1.024e-06, 123.456, 2.0 / 3,
        1e-320, 2.2250738585072014e-308, 4.9406564584124654e-324, 68.719476736, 1e15 + 0.5,
        -123456789.125, 3.14159265358979323846};
    int i = 0;
    for (double v : values) add_value(f, {{"i", std::to_string(i++)}}, v);
    one("number formatting", std::move(f));
  }
  {
    auto f = family("stamped", "Timestamps are written when non-zero.", MetricType::Counter);
    add_value(f, {{"t", "zero"}}, 1);
    add_value(f, {{"t", "set"}}, 2);
    f.metric.back().timestamp_ms = 1700000000123;
    add_value(f, {}, 3);
    f.metric.back().timestamp_ms = -5;
    add_value(f, {{"t", "min"}}, 4);
    f.metric.back().timestamp_ms = std::numeric_limits<int64_t>::min();
    out.push_back({"timestamps", {std::move(f)}});
    auto h = family("stamped_hist", "On every line of a histogram and summary.",
                    MetricType::Histogram);
    add_histogram(h, {{"a", "b"}}, {1}, {3}, 4);
    h.metric.back().timestamp_ms = 42;
    auto s = family("stamped_summary", "", MetricType::Summary);
    auto& m = add(s);
    m.summary.quantile = {{0.5, 1}};
    m.timestamp_ms = 7;
    out.back().families.push_back(std::move(h));
    out.back().families.push_back(std::move(s));
  }
  {
    Families fs;
    fs.push_back(family("no_metrics_total", "A family without metrics.", MetricType::Counter));
    fs.push_back(family("no_help_total", "", MetricType::Counter));
    add_value(fs.back(), {}, 1);
    fs.push_back(family("no_help_no_metrics", "", MetricType::Histogram));
    fs.push_back(family("no_metrics_summary", "x", MetricType::Summary));
    out.push_back({"families without metrics or help", std::move(fs)});
  }
  {
    auto f = family("not_a_type", "An out-of-range MetricType.", static_cast<MetricType>(42));
    add_value(f, {}, 1);
    one("unknown metric type", std::move(f));
  }
  {
    auto f = family("weird", "Empty label names and NULs are written as they are.",
                    MetricType::Gauge);
    add_value(f, {{"", ""}}, 1);
    add_value(f, {{"a", std::string("x\0y", 3)}}, 2);
    one("degenerate labels", std::move(f));
  }
  out.push_back({"no families", {}});
  return out;
}

TEST(TextExposition, SameBytesAsTextSerializer) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(text_exposition(c.families), serializer_text(c.families));
  }
}

TEST(TextExposition, AllCasesAtOnce) {
  Families all;
  for (auto& c : cases())
    for (auto& f : c.families) all.push_back(std::move(f));
  EXPECT_EQ(text_exposition(all), serializer_text(all));
}

TEST(TextExposition, AppendKeepsWhatIsThere) {
  Families fs;
  fs.push_back(family("x_total", "X.", MetricType::Counter));
  add_value(fs.back(), {{"a", "b"}}, 3);
  std::string out = "prefix\n";
  append_text_exposition(out, fs);
  EXPECT_EQ(out, "prefix\n" + serializer_text(fs));
}

// The format itself, so a difference says what changed.
TEST(TextExposition, PinnedText) {
  Families fs;
  fs.push_back(family("g", "Help \\ raw\nline.", MetricType::Gauge));
  add_value(fs.back(), {{"l", "a\\b\"c\nd"}}, 1e6);
  add_value(fs.back(), {}, 1e16);
  add_value(fs.back(), {}, -0.0);
  add_value(fs.back(), {}, kNaN);
  add_value(fs.back(), {}, -kInf);
  add_value(fs.back(), {}, 0.1);
  add_value(fs.back(), {}, 1.0 / 3);
  fs.back().metric.back().timestamp_ms = 12;
  fs.push_back(family("h", "", MetricType::Histogram));
  add_histogram(fs.back(), {{"op", "nop"}}, {1.024e-06, 0.5}, {2, 3}, 0.25);
  fs.push_back(family("s", "S.", MetricType::Summary));
  auto& m = add(fs.back());
  m.summary.sample_count = 4;
  m.summary.sample_sum = 2;
  m.summary.quantile = {{0.5, 0.5}};
  const std::string want =
      "# HELP g Help \\ raw\nline.\n"
      "# TYPE g gauge\n"
      "g{l=\"a\\\\b\\\"c\\nd\"} 1000000\n"
      "g 1e+16\n"
      "g -0\n"
      "g Nan\n"
      "g -Inf\n"
      "g 0.1\n"
      "g 0.3333333333333333 12\n"
      "# TYPE h histogram\n"
      "h_count{op=\"nop\"} 5\n"
      "h_sum{op=\"nop\"} 0.25\n"
      "h_bucket{op=\"nop\",le=\"1.024e-06\"} 2\n"
      "h_bucket{op=\"nop\",le=\"0.5\"} 5\n"
      "h_bucket{op=\"nop\",le=\"+Inf\"} 5\n"
      "# HELP s S.\n"
      "# TYPE s summary\n"
      "s_count 4\n"
      "s_sum 2\n"
      "s{quantile=\"0.5\"} 0.5\n";
  EXPECT_EQ(serializer_text(fs), want) << "prometheus-cpp's format changed";
  EXPECT_EQ(text_exposition(fs), want);
}

// --- randomized: many random families, both writers, same bytes

class RandomFamilies {
 public:
  explicit RandomFamilies(uint64_t seed) : rng_(seed) {}

  Families families() {
    Families out(pick(0, 6));
    for (auto& f : out) f = family_();
    return out;
  }

 private:
  size_t pick(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string text(size_t max_len, bool specials) {
    static const std::string plain = "abcxyz_ABC0189:";
    static const std::string odd = "\\\"\n\t\r{}=, #\x7f\xc3\xa4";
    std::string s(pick(0, max_len), ' ');
    for (auto& c : s) {
      if (specials && chance(0.2)) {
        c = odd[pick(0, odd.size() - 1)];
      } else {
        c = plain[pick(0, plain.size() - 1)];
      }
    }
    if (specials && chance(0.02)) s += '\0';
    return s;
  }

  double number() {
    static const double specials[] = {0, -0.0, 1, -1, kNaN, kInf, -kInf, 1e15, 1e16, 1e15 - 1,
                                      9007199254740993.0, 4.9406564584124654e-324,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::min(), 0.1, 1e-5};
    switch (pick(0, 6)) {
      case 0: return specials[pick(0, std::size(specials) - 1)];
      case 1: return static_cast<double>(pick(0, 1000));
      case 2: return static_cast<double>(rng_() >> pick(0, 63)) * (chance(0.2) ? -1 : 1);
      case 3: return std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng_),
                                static_cast<int>(pick(0, 120)) - 60);
      case 4: {  // any bit pattern: denormals, huge exponents, NaN payloads
        uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        return d;
      }
      case 5: return std::round(std::uniform_real_distribution<double>(-1e17, 1e17)(rng_));
      default: return static_cast<double>(pick(0, 1'000'000)) / std::pow(10.0, pick(0, 9));
    }
  }

  uint64_t count() { return chance(0.1) ? rng_() : pick(0, 100'000); }

  MetricFamily family_() {
    static const MetricType types[] = {MetricType::Counter, MetricType::Gauge, MetricType::Summary,
                                       MetricType::Untyped, MetricType::Histogram};
    MetricFamily f;
    f.name = text(20, chance(0.05));
    f.help = chance(0.1) ? "" : text(40, chance(0.2));
    f.type = types[pick(0, std::size(types) - 1)];
    // Bounds shared by the family's histograms, as a real exporter's are (the writer caches
    // their text); sometimes changed per metric.
    std::vector<double> bounds(pick(0, 8));
    for (auto& b : bounds) b = number();
    if (chance(0.5)) std::sort(bounds.begin(), bounds.end());
    if (chance(0.3)) bounds.push_back(kInf);
    const size_t metrics = pick(0, 5);
    for (size_t i = 0; i < metrics; ++i) {
      auto& m = f.metric.emplace_back();
      m.label.resize(pick(0, 4));
      for (auto& l : m.label) {
        l.name = text(8, chance(0.05));
        l.value = text(24, chance(0.4));
      }
      m.counter.value = number();
      m.gauge.value = number();
      m.untyped.value = number();
      m.summary.sample_count = count();
      m.summary.sample_sum = number();
      m.summary.quantile.resize(pick(0, 4));
      for (auto& q : m.summary.quantile) q = {number(), number()};
      m.histogram.sample_count = count();
      m.histogram.sample_sum = number();
      if (chance(0.2)) bounds.resize(pick(0, bounds.size()));
      if (chance(0.1) && !bounds.empty()) bounds[pick(0, bounds.size() - 1)] = number();
      for (double b : bounds) m.histogram.bucket.push_back({count(), b});
      if (chance(0.15)) m.timestamp_ms = static_cast<int64_t>(rng_());
    }
    return f;
  }

  std::mt19937_64 rng_;
};

TEST(TextExposition, RandomFamiliesSameBytesAsTextSerializer) {
  RandomFamilies gen(20261122);
  int mismatches = 0;
  for (int i = 0; i < 20000 && mismatches < 3; ++i) {
    const Families fs = gen.families();
    const std::string want = serializer_text(fs);
    const std::string got = text_exposition(fs);
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << "iteration " << i << "\n--- TextSerializer:\n" << want
                    << "\n--- text_exposition:\n" << got;
    }
  }
}

// Random doubles alone, one per line, where a formatting difference is easiest to read.
TEST(TextExposition, RandomNumbersSameAsTextSerializer) {
  std::mt19937_64 rng(7);
  MetricFamily f = family("n", "", MetricType::Gauge);
  for (int i = 0; i < 200000; ++i) {
    double v;
    const uint64_t bits = rng();
    const double mantissa = static_cast<double>(bits >> 11);  // 53 random bits
    const int shift = static_cast<int>(bits % 140);
    switch (i % 4) {
      case 0: std::memcpy(&v, &bits, sizeof(v)); break;  // any finite or special value
      case 1: v = static_cast<double>(static_cast<int64_t>(bits) >> (bits % 64)); break;
      case 2: v = std::ldexp(mantissa, shift - 100); break;
      default: v = std::round(std::ldexp(mantissa, -(shift % 16))); break;  // integers near 2^53
    }
    add_value(f, {}, v);
  }
  const Families fs{std::move(f)};
  const std::string want = serializer_text(fs);
  const std::string got = text_exposition(fs);
  ASSERT_EQ(got.size(), want.size());
  if (got != want) {
    size_t at = 0;
    while (got[at] == want[at]) ++at;
    const size_t line = want.rfind('\n', at) + 1;
    FAIL() << "first difference: TextSerializer '" << want.substr(line, want.find('\n', at) - line)
           << "' vs '" << got.substr(line, got.find('\n', at) - line) << "'";
  }
}

TEST(TextExposition, SizeHintCoversOutputWithoutEscapes) {
  RandomFamilies gen(99);
  for (int i = 0; i < 2000; ++i) {
    Families fs = gen.families();
    for (auto& f : fs)
      for (auto& m : f.metric)
        for (auto& l : m.label)
          std::erase_if(l.value, [](char c) { return c == '\\' || c == '"' || c == '\n'; });
    ASSERT_GE(text_exposition_size_hint(fs), text_exposition(fs).size()) << "iteration " << i;
  }
}

}  // namespace
}  // namespace iouring
