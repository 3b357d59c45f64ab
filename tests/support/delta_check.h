// Exact deltas of node-wide io_uring counters between two scrapes, on a host where other
// processes may use io_uring at the same time.
//
// A check lists the deltas it expects and how to tell the test's own io_uring activity from
// anybody else's: activity probes compare a node-wide counter with the test's own share of it,
// measured (the test cgroup's io_uring_workload_* series) or known by construction (what the
// workload is known to do). Other processes can only add to a node-wide counter, so in each
// window:
//  - an expectation on the test's own series fails, or a node-wide probe rose less than the
//    test's own share: fail at once (no other process can cause either);
//  - some probe saw more than the test's own activity (foreign activity) and the check has
//    node-wide expectations: log why and try again with a new window, up to `attempts` windows
//    (node-wide deltas prove nothing in such a window, even when they match); when every window
//    had foreign activity the check fails, naming it. It never skips;
//  - otherwise (a clean window) every expectation must hold: pass, or fail at once.
// A check passes only when all its exact expectations held in one window that had no foreign
// activity (checks with only own expectations need no clean window: others cannot touch them).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "prom_text.h"

namespace iouring::test {

// A node-wide counter and the test's own share of it in a window.
struct ActivityProbe {
  std::string what;             // for messages, e.g. "SQEs submitted"
  Selector node;                // summed over the series it matches
  std::optional<Selector> own;  // measured: the test cgroup's series
  double own_known = 0;         // otherwise known by construction
};

// `series` (summed over the series it matches) must rise by exactly `delta`.
struct Expectation {
  Selector series;
  double delta;
};

struct Window {
  Samples before, after;
};

enum class Verdict { pass, retry, fail };

struct WindowJudgement {
  Verdict verdict = Verdict::fail;
  std::vector<std::string> foreign;     // probes that saw more than the test's own activity
  std::vector<std::string> mismatches;  // expectations that did not hold
  std::string failure;                  // why the window fails the check (verdict fail)
  std::string summary() const;
};

// The decision for one window (pure: unit-tested without root). `own` expectations are on the
// test's own series, `node` ones on node-wide series.
WindowJudgement judge_window(const Window& w, const std::vector<Expectation>& node,
                             const std::vector<Expectation>& own,
                             const std::vector<ActivityProbe>& probes);

struct CheckResult {
  bool passed = false;
  int attempts = 0;
  std::string report;  // why it failed, then every window's judgement
  Window last;         // the last window measured
};

// Counts over the process, for a summary line at the end of a test run.
struct DeltaCheckStats {
  int checks = 0, windows = 0, retries = 0, failures = 0;
};
const DeltaCheckStats& delta_check_stats();

class DeltaCheck {
 public:
  using Scrape = std::function<Samples()>;

  // Probes SQEs submitted, requests completed and rings created node-wide against the same
  // counts of the test's cgroup (`cgroup`: its path, the exporter's cgroup label), so the
  // exporter must run with attribution on (any granularity: non-Kubernetes cgroups keep their
  // path as label by default).
  DeltaCheck(Scrape scrape, std::string cgroup);
  // No test cgroup: the test's own activity is declared with known() only.
  explicit DeltaCheck(Scrape scrape);

  // The node-wide series rise by exactly `delta`.
  DeltaCheck& node(Selector series, double delta);
  // The test cgroup's series (`series` plus its cgroup label) rise by exactly `delta`.
  DeltaCheck& own(Selector series, double delta);
  // One more probe: the node-wide series rise by `own` when nobody else is active (the test
  // knows its own count by construction). The default probes cover every counter another
  // process moves only by submitting, completing or creating a ring in the window; declare the
  // others a check asserts (CQEs posted without a request, setup and register calls, ...).
  DeltaCheck& known(const std::string& what, Selector series, double own);
  DeltaCheck& attempts(int n);
  // Base pause before attempt k+1 is k times this, plus up to this much at random.
  DeltaCheck& pause(std::chrono::milliseconds base);

  // Runs `work` between two scrapes until a window passes or the check fails. `work` throws
  // (WorkloadFailed, any std::exception) to fail the check at once.
  CheckResult run(const std::function<void()>& work) const;
  // Same, where each attempt measures its own window (e.g. a fresh exporter whose counters
  // start at zero, so `before` is empty).
  CheckResult run_windows(const std::function<Window()>& measure) const;

 private:
  Scrape scrape_;
  std::string cgroup_;
  std::vector<Expectation> node_, own_;
  std::vector<ActivityProbe> probes_;
  int attempts_ = 5;
  std::chrono::milliseconds pause_{100};
};

}  // namespace iouring::test
