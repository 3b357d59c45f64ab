// Label values for everything the kernel numbers: opcodes, setup flags, result classes.
// Each name is tabled once, here (results: in bpf/abi.h, shared with the BPF side).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace iouring {

// Lower-case IORING_OP_* name of an opcode slot, "unknown" beyond the table.
std::string_view opcode_name(uint32_t slot);
// Number of opcodes the table names (the newest kernel's IORING_OP_LAST).
uint32_t named_opcode_count();
// Slot of a lower-case opcode name, or -1.
int opcode_slot(std::string_view name);

// Lower-case IORING_SETUP_* name of a setup flag bit, empty for bits no kernel defines.
std::string_view setup_flag_name(uint32_t bit);

// "ok", an errno name, or "other", for a result class of bpf/abi.h.
std::string_view result_name(uint32_t result_class);
// Result classes that count as a denial (EPERM, EACCES).
bool result_is_denial(uint32_t result_class);

// Lower-case IORING_REGISTER_* name without the prefix ("register_personality"), "unknown" beyond.
std::string_view register_opcode_name(uint32_t slot);
int register_opcode_slot(std::string_view name);

// Labels of the security tables in bpf/abi.h.
std::string_view hook_name(uint32_t hook);
std::string_view setup_reason_name(uint32_t reason);
std::string_view cmd_op_name(uint32_t cmd_op_slot);
std::string_view cmd_target_name(uint32_t target);

}  // namespace iouring
