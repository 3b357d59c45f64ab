#include "uring_names.h"

#include <gtest/gtest.h>
#include <liburing.h>

#include <cctype>
#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "bpf/abi.h"

namespace iouring {
namespace {

// abi.h hard-codes errno numbers for the BPF side: they must be the C library's.
TEST(ResultTable, ErrnoNumbersMatchLibc) {
  struct Row {
    int err;
    std::string_view label;
  };
  constexpr Row kRows[] = {
#define IOU_X(name, err, label) {err, label},
      IOU_RESULTS(IOU_X)
#undef IOU_X
  };
  const std::map<std::string_view, int> libc = {
      {"EPERM", EPERM},   {"EACCES", EACCES}, {"ENOENT", ENOENT}, {"EAGAIN", EAGAIN},
      {"ECANCELED", ECANCELED}, {"ETIME", ETIME}, {"EINTR", EINTR}, {"EINVAL", EINVAL},
      {"EBADF", EBADF},   {"ENOMEM", ENOMEM}, {"EIO", EIO}};
  size_t checked = 0;
  for (const Row& r : kRows) {
    if (r.label == "ok" || r.label == "other") continue;
    ASSERT_TRUE(libc.count(r.label)) << r.label;
    EXPECT_EQ(r.err, libc.at(r.label)) << r.label;
    ++checked;
  }
  EXPECT_EQ(checked, libc.size());
}

TEST(OpcodeNames, MatchUapiNumbers) {
  EXPECT_EQ(opcode_slot("nop"), IORING_OP_NOP);
  EXPECT_EQ(opcode_slot("readv"), IORING_OP_READV);
  EXPECT_EQ(opcode_slot("timeout"), IORING_OP_TIMEOUT);
  EXPECT_EQ(opcode_slot("openat"), IORING_OP_OPENAT);
  EXPECT_EQ(opcode_slot("read"), IORING_OP_READ);
  EXPECT_EQ(opcode_slot("write"), IORING_OP_WRITE);
  EXPECT_EQ(opcode_slot("msg_ring"), IORING_OP_MSG_RING);
  EXPECT_EQ(opcode_slot("uring_cmd"), IORING_OP_URING_CMD);
  EXPECT_EQ(opcode_slot("sendmsg_zc"), IORING_OP_SENDMSG_ZC);
  EXPECT_EQ(opcode_slot("pipe"), 62);  // 6.18
}

TEST(OpcodeNames, LowerCaseUniqueAndBounded) {
  std::set<std::string_view> seen;
  for (uint32_t i = 0; i < named_opcode_count(); ++i) {
    std::string_view n = opcode_name(i);
    ASSERT_FALSE(n.empty());
    for (char c : n) EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) || std::isdigit(c) || c == '_') << n;
    EXPECT_TRUE(seen.insert(n).second) << "duplicate " << n;
    EXPECT_EQ(opcode_slot(n), static_cast<int>(i));
  }
  EXPECT_LT(named_opcode_count(), static_cast<uint32_t>(IOU_OP_UNKNOWN));
  EXPECT_EQ(opcode_name(named_opcode_count()), "unknown");
  EXPECT_EQ(opcode_name(IOU_OP_UNKNOWN), "unknown");
  EXPECT_EQ(opcode_name(255), "unknown");
  EXPECT_EQ(opcode_slot("unknown"), IOU_OP_UNKNOWN);
  EXPECT_EQ(opcode_slot("no_such_op"), -1);
}

TEST(ResultNames, TableAndDenials) {
  EXPECT_EQ(result_name(IOU_RES_OK), "ok");
  EXPECT_EQ(result_name(IOU_RES_EPERM), "EPERM");
  EXPECT_EQ(result_name(IOU_RES_EACCES), "EACCES");
  EXPECT_EQ(result_name(IOU_RES_ETIME), "ETIME");
  EXPECT_EQ(result_name(IOU_RES_OTHER), "other");
  EXPECT_EQ(result_name(IOU_RES_COUNT + 5), "other");
  std::set<std::string_view> seen;
  for (uint32_t r = 0; r < IOU_RES_COUNT; ++r) EXPECT_TRUE(seen.insert(result_name(r)).second);
  EXPECT_EQ(seen.size(), 13u);
  int denials = 0;
  for (uint32_t r = 0; r < IOU_RES_COUNT; ++r) denials += result_is_denial(r);
  EXPECT_EQ(denials, 2);
  EXPECT_TRUE(result_is_denial(IOU_RES_EPERM));
  EXPECT_TRUE(result_is_denial(IOU_RES_EACCES));
}

TEST(SetupFlagNames, MatchUapiBits) {
  auto bit = [](unsigned flag) { return static_cast<uint32_t>(__builtin_ctz(flag)); };
  EXPECT_EQ(setup_flag_name(bit(IORING_SETUP_IOPOLL)), "iopoll");
  EXPECT_EQ(setup_flag_name(bit(IORING_SETUP_SQPOLL)), "sqpoll");
  EXPECT_EQ(setup_flag_name(bit(IORING_SETUP_CQSIZE)), "cqsize");
  EXPECT_EQ(setup_flag_name(bit(IORING_SETUP_SQE128)), "sqe128");
  EXPECT_EQ(setup_flag_name(bit(IORING_SETUP_SINGLE_ISSUER)), "single_issuer");
  EXPECT_EQ(setup_flag_name(bit(IORING_SETUP_DEFER_TASKRUN)), "defer_taskrun");
  EXPECT_EQ(setup_flag_name(31), "");
}

}  // namespace
}  // namespace iouring
