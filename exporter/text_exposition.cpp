#include "text_exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace iouring {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// The longest number written: "-1.234567890123456e-308" (%.16g) is 23 characters, an int64 or
// uint64 at most 20.
constexpr size_t kMaxNumber = 24;
// TextSerializer prints doubles with the stream precision max_digits10 - 1, i.e. %.16g.
constexpr int kPrecision = std::numeric_limits<double>::max_digits10 - 1;
// Below this, an integral double prints as its integer digits under %.16g (no exponent), so
// the cheaper integer conversion gives the same text. Counters are integral.
constexpr double kPlainIntegerLimit = 1e15;

struct Number {
  char text[kMaxNumber];
  size_t len = 0;
  std::string_view view() const { return {text, len}; }
  void set(std::string_view s) {
    std::memcpy(text, s.data(), s.size());
    len = s.size();
  }
};

Number format_double(double v) {
  Number n;
  if (std::isnan(v)) {
    n.set("Nan");  // sic: prometheus-cpp's spelling
  } else if (std::isinf(v)) {
    n.set(v < 0 ? "-Inf" : "+Inf");
  } else if (v > -kPlainIntegerLimit && v < kPlainIntegerLimit && !(v == 0 && std::signbit(v)) &&
             v == static_cast<double>(static_cast<int64_t>(v))) {
    n.len = static_cast<size_t>(
        std::to_chars(n.text, n.text + kMaxNumber, static_cast<int64_t>(v)).ptr - n.text);
  } else {
    n.len = static_cast<size_t>(
        std::to_chars(n.text, n.text + kMaxNumber, v, std::chars_format::general, kPrecision).ptr -
        n.text);
  }
  return n;
}

template <class Int>
void put_integer(std::string& out, Int v) {
  char buf[kMaxNumber];
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

void put_double(std::string& out, double v) { out.append(format_double(v).view()); }

void put_label_value(std::string& out, std::string_view v) {
  size_t plain_from = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(v.substr(plain_from, i - plain_from));
    out += '\\';
    out += c == '\n' ? 'n' : c;
    plain_from = i + 1;
  }
  out.append(v.substr(plain_from));
}

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Summary: return "summary";
    case MetricType::Untyped: return "untyped";
    case MetricType::Histogram: return "histogram";
  }
  return {};  // not a MetricType: TextSerializer writes neither TYPE nor series for it
}

// Histograms of one exporter share their bucket bounds: each bound is formatted once per call
// and reused while the next histogram's bound at the same position has the same bits.
class BoundCache {
 public:
  std::string_view get(size_t i, double bound) {
    if (i >= entries_.size()) entries_.resize(i + 1);
    Entry& e = entries_[i];
    if (!e.valid || std::memcmp(&e.bound, &bound, sizeof(bound)) != 0) {
      e.bound = bound;
      e.text = format_double(bound);
      e.valid = true;
    }
    return e.text.view();
  }

 private:
  struct Entry {
    double bound = 0;
    Number text;
    bool valid = false;
  };
  std::vector<Entry> entries_;
};

// The lines of one metric. They all carry its label set: escaped once, where the first line
// writes it, and copied from there for the others (a histogram series has ~30 lines).
class SeriesWriter {
 public:
  SeriesWriter(std::string& out, const MetricFamily& f, const ClientMetric& m)
      : out_(out), family_(f), metric_(m) {}

  // `<name><suffix>{<labels>[,<extra_name>="<extra_value>"]} `; no braces without labels.
  void head(std::string_view suffix, std::string_view extra_name = {},
            std::string_view extra_value = {}) {
    out_.append(family_.name);
    out_.append(suffix);
    if (metric_.label.empty() && extra_name.empty()) {
      out_ += ' ';
      return;
    }
    out_ += '{';
    if (!metric_.label.empty()) {
      if (labels_len_ == 0) {
        labels_at_ = out_.size();
        put_labels();
        labels_len_ = out_.size() - labels_at_;
      } else {
        out_.append(out_, labels_at_, labels_len_);  // std::string::append copes with itself
      }
      if (!extra_name.empty()) out_ += ',';
    }
    if (!extra_name.empty()) {
      out_.append(extra_name);
      out_ += "=\"";
      out_.append(extra_value);
      out_ += '"';
    }
    out_ += "} ";
  }

  void tail() {
    if (metric_.timestamp_ms != 0) {
      out_ += ' ';
      put_integer(out_, metric_.timestamp_ms);
    }
    out_ += '\n';
  }

 private:
  void put_labels() {
    bool first = true;
    for (const auto& l : metric_.label) {
      if (!first) out_ += ',';
      first = false;
      out_.append(l.name);
      out_ += "=\"";
      put_label_value(out_, l.value);
      out_ += '"';
    }
  }

  std::string& out_;
  const MetricFamily& family_;
  const ClientMetric& metric_;
  size_t labels_at_ = 0;
  size_t labels_len_ = 0;  // never 0 once written: a label is at least `=""`
};

// The _count and _sum lines that histograms and summaries both start with.
void put_count_and_sum(std::string& out, SeriesWriter& s, uint64_t count, double sum) {
  s.head("_count");
  put_integer(out, count);
  s.tail();
  s.head("_sum");
  put_double(out, sum);
  s.tail();
}

void put_histogram(std::string& out, const MetricFamily& f, const ClientMetric& m,
                   BoundCache& bounds) {
  const auto& h = m.histogram;
  SeriesWriter s(out, f, m);
  put_count_and_sum(out, s, h.sample_count, h.sample_sum);
  double last = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < h.bucket.size(); ++i) {
    const auto& b = h.bucket[i];
    s.head("_bucket", "le", bounds.get(i, b.upper_bound));
    put_integer(out, b.cumulative_count);
    s.tail();
    last = b.upper_bound;
  }
  // Buckets are cumulative, so the implicit +Inf one holds every sample.
  if (last != std::numeric_limits<double>::infinity()) {
    s.head("_bucket", "le", "+Inf");
    put_integer(out, h.sample_count);
    s.tail();
  }
}

void put_summary(std::string& out, const MetricFamily& f, const ClientMetric& m) {
  const auto& sum = m.summary;
  SeriesWriter s(out, f, m);
  put_count_and_sum(out, s, sum.sample_count, sum.sample_sum);
  for (const auto& q : sum.quantile) {
    s.head("", "quantile", format_double(q.quantile).view());
    put_double(out, q.value);
    s.tail();
  }
}

void put_single(std::string& out, const MetricFamily& f, const ClientMetric& m, double value) {
  SeriesWriter s(out, f, m);
  s.head("");
  put_double(out, value);
  s.tail();
}

void put_family(std::string& out, const MetricFamily& f, BoundCache& bounds) {
  if (!f.help.empty()) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += f.help;
    out += '\n';
  }
  const std::string_view type = type_name(f.type);
  if (type.empty()) return;
  out += "# TYPE ";
  out += f.name;
  out += ' ';
  out += type;
  out += '\n';
  for (const auto& m : f.metric) {
    switch (f.type) {
      case MetricType::Counter: put_single(out, f, m, m.counter.value); break;
      case MetricType::Gauge: put_single(out, f, m, m.gauge.value); break;
      case MetricType::Untyped: put_single(out, f, m, m.untyped.value); break;
      case MetricType::Summary: put_summary(out, f, m); break;
      case MetricType::Histogram: put_histogram(out, f, m, bounds); break;
    }
  }
}

// Bytes one line of `m` can take beyond its extra label: name, the longest suffix, labels (as
// they are: escaping is rare), the value and the timestamp.
size_t line_bound(const MetricFamily& f, const ClientMetric& m) {
  size_t n = f.name.size() + sizeof("_bucket{} ") + kMaxNumber + 1;
  for (const auto& l : m.label) n += l.name.size() + l.value.size() + sizeof(",=\"\"");
  if (m.timestamp_ms != 0) n += 1 + kMaxNumber;
  return n;
}

}  // namespace

size_t text_exposition_size_hint(const std::vector<MetricFamily>& families) {
  constexpr size_t extra_label = sizeof(",quantile=\"\"") + kMaxNumber;
  size_t n = 0;
  for (const auto& f : families) {
    n += 2 * f.name.size() + f.help.size() + sizeof("# HELP  \n# TYPE  histogram\n");
    for (const auto& m : f.metric) {
      const size_t line = line_bound(f, m);
      switch (f.type) {
        case MetricType::Histogram:
          n += 2 * line + (m.histogram.bucket.size() + 1) * (line + extra_label);
          break;
        case MetricType::Summary:
          n += 2 * line + m.summary.quantile.size() * (line + extra_label);
          break;
        default: n += line; break;
      }
    }
  }
  return n;
}

void append_text_exposition(std::string& out, const std::vector<MetricFamily>& families) {
  // One allocation: on a VM every page of a regrown buffer can cost a page fault.
  out.reserve(out.size() + text_exposition_size_hint(families));
  BoundCache bounds;
  for (const auto& f : families) put_family(out, f, bounds);
}

std::string text_exposition(const std::vector<MetricFamily>& families) {
  std::string out;
  append_text_exposition(out, families);
  return out;
}

}  // namespace iouring
