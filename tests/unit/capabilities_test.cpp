#include "capabilities.h"

#include <gtest/gtest.h>

namespace iouring {
namespace {

constexpr const char* kRoot =
    "Name:\tx\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";

TEST(Capabilities, ParsesProcStatus) {
  auto c = parse_proc_status_caps(kRoot);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->effective, 0x1ffffffffffULL);
  EXPECT_EQ(missing_bpf_capabilities(*c), "");
}

TEST(Capabilities, NamesWhatIsMissing) {
  CapabilitySets none;
  std::string why = missing_bpf_capabilities(none);
  EXPECT_NE(why.find("CAP_BPF, CAP_PERFMON"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);
  CapabilitySets bpf_only;
  bpf_only.effective = 1ULL << kCapBpf;
  why = missing_bpf_capabilities(bpf_only);
  EXPECT_NE(why.find("CAP_PERFMON"), std::string::npos);
  EXPECT_EQ(why.find("CAP_BPF,"), std::string::npos);
  CapabilitySets both;
  both.effective = (1ULL << kCapBpf) | (1ULL << kCapPerfmon);
  EXPECT_EQ(missing_bpf_capabilities(both), "");
}

TEST(Capabilities, RejectsMalformed) {
  EXPECT_FALSE(parse_proc_status_caps(""));
  EXPECT_FALSE(parse_proc_status_caps("CapEff:\tzz\nCapPrm:\t0\nCapBnd:\t0\n"));
  EXPECT_FALSE(parse_proc_status_caps("CapEff:\t00000000000000000000\nCapPrm:\t0\nCapBnd:\t0\n"));
  EXPECT_FALSE(parse_proc_status_caps("XCapEff:\t0\nCapPrm:\t0\nCapBnd:\t0\n"));
}

}  // namespace
}  // namespace iouring
