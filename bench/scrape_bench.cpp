// bench_scrape: how long one /metrics rendering takes at high cardinality, without BPF or root:
// the real collectors and Scraper over a fake MapReader.
//
//   bench_scrape [--iterations N] [--warmup W] [--pods P] [--dump FILE]
//
// Node-wide: every opcode slot that has a name of its own, plus the "unknown" slot, gets every
// counter, every result class and every latency bucket non-zero; every ring setup-flag bit is
// set. That is the ceiling of the node-wide series count (the exporter never emits a zero result
// class other than ok, nor an opcode that never ran). The slots between the last named opcode
// and the unknown slot are left empty: the collector names all of them "unknown" too, so filling
// them would produce duplicate series (an invalid exposition), not more distinct ones.
// Per workload: P pods (default 180), each a kubelet-style cgroup directory in a temporary tree
// standing in for cgroup2 (a cgroup id is its directory's inode), each with 4 opcodes, 2 result
// classes, a latency histogram and ring counts: what the workloads collector shows for P busy
// pods. Together that is a bit over 10k series by default.
//
// Timed, each over N iterations after W warm-up ones, reported as p50/p99/max:
//   collect      Scraper::Collect() (building the MetricFamily objects)
//   render       Scraper::render(): Collect + text_exposition, one scrape's CPU cost
//   render via TextSerializer   Collect + prometheus::TextSerializer: what render() did before
//   render x K   K back-to-back renders, K = ceil(10000 / series): the cost of >= 10k series
// and, to show where a render's time goes, TextSerializer and text_exposition alone over one
// Collect()'s families (kept, so cache-warm); their bytes are checked equal. The two writers
// are timed in alternating blocks of 10 iterations, so that the load of a shared machine falls
// on both alike and their ratio holds within one run. Reading real per-CPU maps is not included
// (bench/run.sh times an HTTP GET of the running exporter for that).
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "bpf/abi.h"
#include "cgroup_resolver.h"
#include "collectors/exporter_collector.h"
#include "collectors/ops_collector.h"
#include "collectors/rings_collector.h"
#include "collectors/workload_collector.h"
#include "loader.h"
#include "probes.h"
#include "scraper.h"
#include "support/fake_map_reader.h"
#include "text_exposition.h"
#include "uring_names.h"

using namespace iouring;

namespace {

using Clock = std::chrono::steady_clock;

test::FakeMapReader full_maps() {
  test::FakeMapReader r;
  std::vector<iou_op_stats> ops(IOU_OP_SLOTS);
  std::vector<uint32_t> slots;
  for (uint32_t s = 0; s < named_opcode_count(); ++s) slots.push_back(s);
  slots.push_back(IOU_OP_UNKNOWN);
  uint64_t v = 1;
  for (uint32_t slot : slots) {
    iou_op_stats& s = ops[slot];
    s.submitted = 1'000'000 + v++;
    for (auto& c : s.completed) c = 1000 + v++;
    s.more_cqes = 10 + v++;
    s.async_punts = 100 + v++;
    s.failed_init = 1 + v++;
    for (auto& b : s.latency) b = 50 + v++;
    s.latency_sum_ns = 123'456'789'012ULL + v++;
    s.latency_untracked = 7;
  }
  r.set(MapId::ops_stats, ops);

  std::vector<iou_op_globals> g(1);
  g[0].aux_cqes = 12345;
  g[0].multishot_cqes = 67890;
  r.set(MapId::ops_globals, g);

  std::vector<iou_ring_stats> rings(1);
  rings[0].rings_created = 1000;
  for (auto& f : rings[0].setup_flags) f = 10 + v++;
  rings[0].cq_overflows = 42;
  rings[0].cqes_dropped = 3;
  rings[0].short_writes = 5;
  r.set(MapId::ring_stats, rings);
  return r;
}

// P pod cgroups under `root` (kubelet systemd naming), each with a busy workload entry.
void add_pods(test::FakeMapReader& r, const std::filesystem::path& root, int pods) {
  namespace fs = std::filesystem;
  std::map<uint64_t, iou_workload_stats> h;
  const int ops[] = {opcode_slot("read"), opcode_slot("write"), opcode_slot("nop"),
                     opcode_slot("openat")};
  for (int i = 0; i < pods; ++i) {
    char uid[40], cid[72];
    std::snprintf(uid, sizeof(uid), "%08x_4f50_6172_8394_%012x", i, i * 7919);
    std::snprintf(cid, sizeof(cid), "%064x", i + 1);
    fs::path dir = root / "kubepods.slice" / "kubepods-burstable.slice" /
                   ("kubepods-burstable-pod" + std::string(uid) + ".slice") /
                   ("cri-containerd-" + std::string(cid) + ".scope");
    fs::create_directories(dir);
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0) continue;
    iou_workload_stats s{};
    uint64_t v = 1000 + static_cast<uint64_t>(i);
    for (int op : ops)
      if (op >= 0) s.submitted[op] = v++;
    s.completed[IOU_RES_OK] = v++;
    s.completed[IOU_RES_EAGAIN] = v++;
    for (auto& b : s.latency) b = v++;
    s.latency_sum_ns = 987'654'321 + v;
    s.rings_created = 2;
    s.sqpoll_rings = 1;
    h[st.st_ino] = s;
  }
  r.set_hash(MapId::workload_stats, h);
}

struct Stats {
  double p50, p99, max;
};

Stats stats_of(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size()))) - 1;
    return us[std::min(i, us.size() - 1)];
  };
  return {at(0.50), at(0.99), us.back()};
}

template <class F>
Stats time_it(int iterations, int warmup, F&& f) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> us;
  us.reserve(static_cast<size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    auto start = Clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return stats_of(std::move(us));
}

// Times `a` and `b` in alternating blocks of kBlock iterations, so that drift in the machine's
// load hits both alike. Each block starts with one untimed call: TextSerializer's growing
// ostringstream leaves glibc's heap trimmed when it is freed, and the next call, whichever it
// is, page-faults that memory back in (expensive on a VM). A real exporter runs only one of the
// two, so neither should pay for the other's allocator state.
template <class A, class B>
std::pair<Stats, Stats> time_pair(int iterations, int warmup, A&& a, B&& b) {
  constexpr int kBlock = 10;
  for (int i = 0; i < warmup; ++i) {
    a();
    b();
  }
  std::vector<double> ua, ub;
  ua.reserve(static_cast<size_t>(iterations));
  ub.reserve(static_cast<size_t>(iterations));
  auto block = [](auto& f, std::vector<double>& into, int n) {
    f();
    for (int i = 0; i < n; ++i) {
      auto start = Clock::now();
      f();
      into.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  };
  for (int done = 0; done < iterations; done += kBlock) {
    const int n = std::min(kBlock, iterations - done);
    block(a, ua, n);
    block(b, ub, n);
  }
  return {stats_of(std::move(ua)), stats_of(std::move(ub))};
}

std::string serializer_text(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return os.str();
}

size_t count_series(const std::string& text) {
  size_t n = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos && text[pos] != '#') ++n;
    pos = end + 1;
  }
  return n;
}

void print_row(const char* what, const Stats& s) {
  std::printf("%-32s p50 %9.1f us   p99 %9.1f us   max %9.1f us\n", what, s.p50, s.p99, s.max);
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 2000, warmup = 50, pods = 180;
  std::string dump;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--warmup" && i + 1 < argc) {
      warmup = std::max(0, std::atoi(argv[++i]));
    } else if (a == "--pods" && i + 1 < argc) {
      pods = std::max(0, std::atoi(argv[++i]));
    } else if (a == "--dump" && i + 1 < argc) {
      dump = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_scrape [--iterations N] [--warmup W] [--pods P] [--dump FILE]\n");
      return 2;
    }
  }

  auto reader = full_maps();
  const std::filesystem::path cgroot =
      std::filesystem::temp_directory_path() / ("iou_scrape_cgroup." + std::to_string(getpid()));
  add_pods(reader, cgroot, pods);
  CgroupResolver resolver(cgroot.string());
  resolver.rescan();
  MapSource maps(reader);
  std::vector<ProbeStatus> probes;
  for (const ProbeSpec& spec : probe_table()) {
    ProbeStatus p;
    p.spec = &spec;
    p.variant = &spec.variants.front();
    p.state = ProbeState::attached;
    probes.push_back(p);
  }
  Scraper scraper;
  scraper.add(std::make_unique<OpsCollector>(maps, true));
  scraper.add(std::make_unique<RingsCollector>(maps));
  if (pods > 0) scraper.add(std::make_unique<WorkloadCollector>(maps, resolver, WorkloadOptions{}));
  scraper.add(std::make_unique<ExporterCollector>(maps, probes));

  const std::string text = scraper.render();
  const size_t series = count_series(text);
  if (!dump.empty()) std::ofstream(dump) << text;
  const int k = std::max<int>(1, static_cast<int>((10000 + series - 1) / series));

  size_t sink = 0;
  Stats collect = time_it(iterations, warmup, [&] { sink += scraper.Collect().size(); });
  auto render_with_serializer = [&] { sink += serializer_text(scraper.Collect()).size(); };
  auto [render, render_old] = time_pair(
      iterations, warmup, [&] { sink += scraper.render().size(); }, render_with_serializer);
  const auto families = scraper.Collect();
  const std::string reference = serializer_text(families);
  const bool same = text_exposition(families) == reference;
  if (!same && !dump.empty()) {
    std::ofstream(dump + ".serializer") << reference;
    std::ofstream(dump + ".text_exposition") << text_exposition(families);
  }
  auto [write, serialize] = time_pair(
      iterations, warmup, [&] { sink += text_exposition(families).size(); },
      [&] { sink += serializer_text(families).size(); });
  const int k_iterations = std::max(1, iterations / k), k_warmup = std::max(1, warmup / k);
  auto [render_k, render_k_old] = time_pair(
      k_iterations, k_warmup, [&] { for (int i = 0; i < k; ++i) sink += scraper.render().size(); },
      [&] { for (int i = 0; i < k; ++i) render_with_serializer(); });

  std::filesystem::remove_all(cgroot);
  std::printf("scrape_bench: %zu series (%zu bytes) per render (%d pods); %d iterations\n", series,
              text.size(), pods, iterations);
  print_row("collect", collect);
  print_row("render", render);
  print_row("render via TextSerializer", render_old);
  print_row(same ? "  text_exposition alone" : "  text_exposition (DIFFERS)", write);
  print_row("  TextSerializer alone", serialize);
  const std::string of_k =
      "render x " + std::to_string(k) + " (" + std::to_string(series * k) + " series)";
  print_row(of_k.c_str(), render_k);
  print_row("  via TextSerializer", render_k_old);
  // Per 10k series: the K back-to-back renders scaled down to 10000 series.
  const double per10k = 10000.0 / static_cast<double>(series * static_cast<size_t>(k)) / 1000.0;
  std::printf("per 10000 series: render p50 %.2f ms p99 %.2f ms; via TextSerializer p50 %.2f ms "
              "p99 %.2f ms; TextSerializer / render: p50 %.1fx p99 %.1fx\n",
              render_k.p50 * per10k, render_k.p99 * per10k, render_k_old.p50 * per10k,
              render_k_old.p99 * per10k, render_k_old.p50 / render_k.p50,
              render_k_old.p99 / render_k.p99);
  std::printf("output: %s bytes as TextSerializer\n", same ? "the same" : "NOT the same");
  std::printf("machine: series=%zu render_p50_us=%.1f render_p99_us=%.1f old_render_p50_us=%.1f "
              "old_render_p99_us=%.1f renderK=%d renderK_p50_us=%.1f renderK_p99_us=%.1f "
              "old_renderK_p50_us=%.1f old_renderK_p99_us=%.1f per10k_ms=%.3f old_per10k_ms=%.3f "
              "write_p50_us=%.1f serialize_p50_us=%.1f same=%d\n",
              series, render.p50, render.p99, render_old.p50, render_old.p99, k, render_k.p50,
              render_k.p99, render_k_old.p50, render_k_old.p99, render_k.p50 * per10k,
              render_k_old.p50 * per10k, write.p50, serialize.p50, same ? 1 : 0);
  return sink == 0 ? 1 : 0;
}
