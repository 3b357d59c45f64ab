// At the end of a test process, one line on how many windows its DeltaCheck checks needed
// (windows disturbed by other io_uring users are retried: see support/delta_check.h), so a run
// beside another io_uring user (tests/integration/run_with_noise.sh) shows its retries.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/delta_check.h"

namespace iouring::test {
namespace {

class DeltaCheckSummary : public ::testing::Environment {
 public:
  void TearDown() override {
    const DeltaCheckStats& s = delta_check_stats();
    if (s.checks > 0)
      std::fprintf(stderr, "[delta-check] %d checks, %d windows, %d retried, %d failed\n",
                   s.checks, s.windows, s.retries, s.failures);
  }
};

[[maybe_unused]] ::testing::Environment* const kSummary =
    ::testing::AddGlobalTestEnvironment(new DeltaCheckSummary);

}  // namespace
}  // namespace iouring::test
