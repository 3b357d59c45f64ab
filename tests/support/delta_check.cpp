#include "delta_check.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <random>
#include <thread>

namespace iouring::test {
namespace {

DeltaCheckStats g_stats;

// Counter deltas are whole numbers: "+100", "-2".
std::string signed_count(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%+.0f", v);
  return buf;
}

double delta(const Window& w, const Selector& sel) {
  return sum(w.after, sel) - sum(w.before, sel);
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

const DeltaCheckStats& delta_check_stats() { return g_stats; }

std::string WindowJudgement::summary() const {
  std::string s = verdict == Verdict::pass ? "pass" : verdict == Verdict::retry ? "retry" : "fail";
  if (!failure.empty()) s += ": " + failure;
  if (!mismatches.empty()) s += "; mismatched: " + joined(mismatches);
  s += foreign.empty() ? "; no foreign io_uring activity"
                       : "; foreign io_uring activity: " + joined(foreign);
  return s;
}

WindowJudgement judge_window(const Window& w, const std::vector<Expectation>& node,
                             const std::vector<Expectation>& own,
                             const std::vector<ActivityProbe>& probes) {
  WindowJudgement j;
  std::vector<std::string> impossible;
  for (const auto& p : probes) {
    double n = delta(w, p.node);
    double mine = p.own ? delta(w, *p.own) : p.own_known;
    std::string of = p.own ? " (" + p.own->text() + ")" : " (known)";
    std::string line =
        p.what + ": node " + signed_count(n) + ", this test " + signed_count(mine) + of;
    if (n > mine) j.foreign.push_back(line);
    if (n < mine) impossible.push_back(line);
  }
  std::vector<std::string> own_missed;
  for (const auto& e : own) {
    double got = delta(w, e.series);
    if (got != e.delta)
      own_missed.push_back(e.series.text() + " " + signed_count(got) + ", want " +
                           signed_count(e.delta));
  }
  for (const auto& e : node) {
    double got = delta(w, e.series);
    if (got != e.delta)
      j.mismatches.push_back(e.series.text() + " " + signed_count(got) + ", want " +
                             signed_count(e.delta));
  }
  if (!own_missed.empty()) {
    j.failure = "the test's own series missed (other processes cannot change them): " +
                joined(own_missed);
  } else if (!impossible.empty()) {
    j.failure = "node-wide counts rose less than the test's own activity (other processes can "
                "only add): " + joined(impossible);
  } else if (!node.empty() && !j.foreign.empty()) {
    // Matching or not, node-wide deltas prove nothing while somebody else was counted too.
    j.verdict = Verdict::retry;
    return j;
  } else if (!j.mismatches.empty()) {
    j.failure = "node-wide mismatch in a window without foreign io_uring activity";
  } else {
    j.verdict = Verdict::pass;
    return j;
  }
  j.verdict = Verdict::fail;
  return j;
}

DeltaCheck::DeltaCheck(Scrape scrape, std::string cgroup)
    : scrape_(std::move(scrape)), cgroup_(std::move(cgroup)) {
  auto mine = [&](const char* name) { return Selector{name, {{"cgroup", cgroup_}}}; };
  probes_.push_back({"SQEs submitted", {"io_uring_sqes_submitted_total", {}},
                     mine("io_uring_workload_sqes_submitted_total")});
  probes_.push_back({"requests completed", {"io_uring_completions_total", {}},
                     mine("io_uring_workload_completions_total")});
  probes_.push_back({"rings created", {"io_uring_rings_created_total", {}},
                     mine("io_uring_workload_rings_created_total")});
}

DeltaCheck::DeltaCheck(Scrape scrape) : scrape_(std::move(scrape)) {}

DeltaCheck& DeltaCheck::node(Selector series, double delta) {
  node_.push_back({std::move(series), delta});
  return *this;
}

DeltaCheck& DeltaCheck::own(Selector series, double delta) {
  series.labels["cgroup"] = cgroup_;
  own_.push_back({std::move(series), delta});
  return *this;
}

DeltaCheck& DeltaCheck::known(const std::string& what, Selector series, double own) {
  probes_.push_back({what, std::move(series), std::nullopt, own});
  return *this;
}

DeltaCheck& DeltaCheck::attempts(int n) {
  attempts_ = n < 1 ? 1 : n;
  return *this;
}

DeltaCheck& DeltaCheck::pause(std::chrono::milliseconds base) {
  pause_ = base;
  return *this;
}

CheckResult DeltaCheck::run(const std::function<void()>& work) const {
  return run_windows([&] {
    Window w;
    w.before = scrape_();
    work();
    w.after = scrape_();
    return w;
  });
}

CheckResult DeltaCheck::run_windows(const std::function<Window()>& measure) const {
  CheckResult r;
  std::string log;
  std::minstd_rand jitter(std::random_device{}());
  ++g_stats.checks;
  for (r.attempts = 1; r.attempts <= attempts_; ++r.attempts) {
    const std::string attempt =
        "attempt " + std::to_string(r.attempts) + "/" + std::to_string(attempts_);
    auto started = std::chrono::steady_clock::now();
    try {
      r.last = measure();
    } catch (const std::exception& e) {
      ++g_stats.failures;
      r.report = attempt + " could not measure: " + e.what() + log;
      return r;
    }
    ++g_stats.windows;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    WindowJudgement j = judge_window(r.last, node_, own_, probes_);
    log += "\n  " + attempt + " (" + std::to_string(ms.count()) + " ms): " + j.summary();
    if (j.verdict == Verdict::pass) {
      r.passed = true;
      r.report = "passed at " + attempt + log;
      return r;
    }
    if (j.verdict == Verdict::fail) {
      ++g_stats.failures;
      r.report = "FAILED at " + attempt + ": " + j.failure + log;
      return r;
    }
    ++g_stats.retries;
    std::fprintf(stderr, "[delta-check] %s (%lld ms): %s; trying again\n", attempt.c_str(),
                 static_cast<long long>(ms.count()), j.summary().c_str());
    if (r.attempts < attempts_) {
      auto base = pause_ * r.attempts;
      auto spread = std::uniform_int_distribution<long>(0, pause_.count())(jitter);
      std::this_thread::sleep_for(base + std::chrono::milliseconds(spread));
    }
  }
  r.attempts = attempts_;
  ++g_stats.failures;
  r.report = "FAILED: foreign io_uring activity in all " + std::to_string(attempts_) +
             " windows, so the node-wide deltas could not be checked exactly: another io_uring "
             "user is busy on this host" +
             (log.find("(known)") != std::string::npos
                  ? " (or a count the test knows by construction was over-counted)"
                  : "") +
             log;
  return r;
}

}  // namespace iouring::test
