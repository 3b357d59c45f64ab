// Per-opcode map slots as label values. The BPF programs count opcodes 0..IOU_OP_UNKNOWN-1 under
// their own number, but only the opcodes in the name table (uring_names.cpp) have a label of
// their own: the slots between the last named opcode and IOU_OP_UNKNOWN (opcodes of kernels newer
// than the table) are exported as op="unknown", like the unknown slot itself. Folding them into
// that slot before building series keeps each label value once per metric.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "bpf/abi.h"
#include "uring_names.h"

namespace iouring {

// Adds every unnamed slot into slots[IOU_OP_UNKNOWN] and clears it. T is a map value made of
// __u64 words only (bpf/abi.h), summed word by word like per-CPU values.
template <typename T>
void fold_unnamed_op_slots(T* slots, size_t count) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % sizeof(uint64_t) == 0,
                "a map value of whole __u64 words");
  constexpr size_t kWords = sizeof(T) / sizeof(uint64_t);
  if (count <= IOU_OP_UNKNOWN) return;
  for (uint32_t slot = named_opcode_count(); slot < IOU_OP_UNKNOWN; ++slot) {
    uint64_t from[kWords], into[kWords];
    std::memcpy(from, &slots[slot], sizeof(T));
    std::memcpy(into, &slots[IOU_OP_UNKNOWN], sizeof(T));
    for (size_t i = 0; i < kWords; ++i) into[i] += from[i];
    std::memcpy(&slots[IOU_OP_UNKNOWN], into, sizeof(T));
    slots[slot] = T{};
  }
}

template <typename T>
void fold_unnamed_op_slots(std::vector<T>& slots) {
  fold_unnamed_op_slots(slots.data(), slots.size());
}

}  // namespace iouring
