// The table of probes: each named signal source and the BPF program variants that can provide
// it, in order of preference. The loader keeps the first variant the running kernel supports.
#pragma once

#include <span>
#include <string_view>

namespace iouring {

enum class ProgKind { tp_btf, raw_tp, tracepoint, fentry, fexit, lsm };
std::string_view prog_kind_name(ProgKind kind);
// Inverse of prog_kind_name; false for unknown names.
bool parse_prog_kind(std::string_view name, ProgKind& out);

struct ProbeVariant {
  std::string_view program;  // BPF program name in the skeleton
  ProgKind kind;
  std::string_view target;   // tracepoint (tp_btf/raw_tp: name; tracepoint: "category/name") or function
  int nargs;                 // tracepoint arguments the program expects (tp_btf/raw_tp), else -1
};

struct ProbeSpec {
  std::string_view name;       // probe label value, e.g. "submit"
  std::string_view collector;  // collector that owns it; disabling the collector drops the probe
  std::span<const ProbeVariant> variants;
};

std::span<const ProbeSpec> probe_table();

}  // namespace iouring
