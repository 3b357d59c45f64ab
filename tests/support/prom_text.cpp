#include "prom_text.h"

#include <cstdlib>
#include <stdexcept>

namespace iouring::test {

std::string series(std::string_view name, std::map<std::string, std::string> labels) {
  std::string key(name);
  if (labels.empty()) return key;
  key += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) key += ',';
    first = false;
    key += k + "=\"" + v + "\"";
  }
  key += '}';
  return key;
}

namespace {

// `a="1",b="2"` (no escapes: the exporter's label values never contain quotes).
std::map<std::string, std::string> parse_labels(std::string_view text) {
  std::map<std::string, std::string> labels;
  size_t lp = 0;
  while (lp < text.size()) {
    size_t eq = text.find('=', lp);
    size_t q1 = text.find('"', eq);
    size_t q2 = text.find('"', q1 + 1);
    if (eq == std::string_view::npos || q1 == std::string_view::npos || q2 == std::string_view::npos)
      throw std::runtime_error("bad labels: " + std::string(text));
    labels[std::string(text.substr(lp, eq - lp))] = std::string(text.substr(q1 + 1, q2 - q1 - 1));
    lp = q2 + 1;
    if (lp < text.size() && text[lp] == ',') ++lp;
  }
  return labels;
}

}  // namespace

Samples parse_prom_text(std::string_view text) {
  Samples out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line.front() == '#') continue;
    std::string_view name, labels_text;
    size_t brace = line.find('{');
    size_t space;
    if (brace != std::string_view::npos) {
      size_t close = line.find('}', brace);
      if (close == std::string_view::npos) throw std::runtime_error("bad line: " + std::string(line));
      name = line.substr(0, brace);
      labels_text = line.substr(brace + 1, close - brace - 1);
      space = close + 1;
    } else {
      space = line.find(' ');
      name = line.substr(0, space);
    }
    std::map<std::string, std::string> labels = parse_labels(labels_text);
    std::string v(line.substr(space + 1));
    out[series(name, labels)] = v == "+Inf" ? 1e308 : std::strtod(v.c_str(), nullptr);
  }
  return out;
}

double value(const Samples& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? 0 : it->second;
}

std::map<std::string, std::string> labels_of(std::string_view key) {
  size_t brace = key.find('{');
  if (brace == std::string_view::npos || key.back() != '}') return {};
  return parse_labels(key.substr(brace + 1, key.size() - brace - 2));
}

bool matches(const Selector& sel, std::string_view key) {
  std::string_view name = key.substr(0, key.find('{'));
  if (name != sel.name) return false;
  if (sel.labels.empty()) return true;
  auto labels = labels_of(key);
  for (const auto& [k, v] : sel.labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

double sum(const Samples& s, const Selector& sel) {
  double total = 0;
  // Keys sort by name first: start at the first series of the metric.
  for (auto it = s.lower_bound(sel.name); it != s.end(); ++it) {
    if (it->first.compare(0, sel.name.size(), sel.name) != 0) break;
    if (matches(sel, it->first)) total += it->second;
  }
  return total;
}

}  // namespace iouring::test
