// What the running kernel offers, read from its BTF: tracepoint prototypes and functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct btf;

namespace iouring {

class KernelBtf {
 public:
  // Loads /sys/kernel/btf/vmlinux (or the path given). nullptr and a one-line error if absent.
  static std::unique_ptr<KernelBtf> load(std::string* error, const char* path = nullptr);
  ~KernelBtf();
  KernelBtf(const KernelBtf&) = delete;
  KernelBtf& operator=(const KernelBtf&) = delete;

  // Number of arguments of tracepoint `name` (from its btf_trace_<name> typedef), -1 if the
  // kernel has no such tracepoint.
  int tracepoint_args(std::string_view name) const;
  // Whether the kernel has a function `name` (fentry/fexit/lsm target).
  bool has_function(std::string_view name) const;
  // Value of enumerator `name` in any enum of the kernel (anonymous ones included).
  std::optional<long long> enum_value(std::string_view name) const;

 private:
  explicit KernelBtf(struct btf* btf) : btf_(btf) {}
  struct btf* btf_;
};

}  // namespace iouring
