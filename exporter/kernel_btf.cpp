#include "kernel_btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

namespace iouring {

std::unique_ptr<KernelBtf> KernelBtf::load(std::string* error, const char* path) {
  struct btf* b = path ? btf__parse(path, nullptr) : btf__load_vmlinux_btf();
  if (!b) {
    int err = errno;
    *error = std::string("cannot read kernel BTF") + (path ? std::string(" from ") + path : "") +
             ": " + std::strerror(err) +
             " (the kernel needs CONFIG_DEBUG_INFO_BTF=y, /sys/kernel/btf/vmlinux; "
             "Debian/Ubuntu/RHEL kernels since 5.8 have it)";
    return nullptr;
  }
  return std::unique_ptr<KernelBtf>(new KernelBtf(b));
}

KernelBtf::~KernelBtf() { btf__free(btf_); }

int KernelBtf::tracepoint_args(std::string_view name) const {
  std::string type_name = "btf_trace_" + std::string(name);
  int id = btf__find_by_name_kind(btf_, type_name.c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  const struct btf_type* t = btf__type_by_id(btf_, id);
  t = t ? btf__type_by_id(btf_, t->type) : nullptr;   // pointer
  t = t && btf_is_ptr(t) ? btf__type_by_id(btf_, t->type) : nullptr;  // func proto
  if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1) return -1;
  return static_cast<int>(btf_vlen(t)) - 1;  // first argument is the tracepoint's __data
}

std::optional<long long> KernelBtf::enum_value(std::string_view name) const {
  const __u32 n = btf__type_cnt(btf_);
  for (__u32 id = 1; id < n; ++id) {
    const struct btf_type* t = btf__type_by_id(btf_, id);
    if (btf_is_enum(t)) {
      const struct btf_enum* e = btf_enum(t);
      for (__u16 i = 0; i < btf_vlen(t); ++i, ++e)
        if (name == btf__name_by_offset(btf_, e->name_off)) return e->val;
    } else if (btf_is_enum64(t)) {
      const struct btf_enum64* e = btf_enum64(t);
      for (__u16 i = 0; i < btf_vlen(t); ++i, ++e)
        if (name == btf__name_by_offset(btf_, e->name_off))
          return static_cast<long long>(btf_enum64_value(e));
    }
  }
  return std::nullopt;
}

bool KernelBtf::has_function(std::string_view name) const {
  return btf__find_by_name_kind(btf_, std::string(name).c_str(), BTF_KIND_FUNC) >= 0;
}

}  // namespace iouring
