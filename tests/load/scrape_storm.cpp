// scrape_storm: N concurrent HTTP clients scraping the exporter in a loop, for the load test.
//
//   scrape_storm --port P [--host H] [--clients N] [--seconds D] [--path /metrics]
//                [--timeout S] [--keep-alive] [--expect TEXT] [--allow-503]
//
// N threads (default 100) each scrape http://H:P/path (default 127.0.0.1, /metrics) back to back
// for D seconds (default 60), a new connection per scrape unless --keep-alive. Every scrape is
// timed from the start of the request (connect included) to the end of the body, and classified:
//   ok        200 with a body containing TEXT (default "io_uring_sqes_submitted_total")
//   rejected  503 (the exporter's --web.max-requests load shedding)
//   failed    anything else: connect/read/write errors, timeouts (S seconds, default 30, for
//             connect and for read), other statuses, a 200 without TEXT
// Prints on stdout one summary line (latencies in milliseconds, over ok scrapes):
//   scrape_storm clients=N seconds=D scrapes=… ok=… rejected=… failed=… p50_ms=… p99_ms=…
//                max_ms=… rejected_p99_ms=… min_client_ok=…
// and on stderr one line per failure reason. Exits 1 if any scrape failed, or (unless
// --allow-503) any was rejected, or no scrape succeeded.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: scrape_storm --port P [--host H] [--clients N] [--seconds D] [--path P]\n"
               "                    [--timeout S] [--keep-alive] [--expect TEXT] [--allow-503]\n");
  std::exit(2);
}

long parse_long(const char* text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) usage();
  return v;
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  long clients = 100;
  long seconds = 60;
  std::string path = "/metrics";
  long timeout = 30;
  bool keep_alive = false;
  std::string expect = "io_uring_sqes_submitted_total";
  bool allow_503 = false;
};

struct ClientResult {
  std::vector<double> ok_ms;
  std::vector<double> rejected_ms;
  std::map<std::string, long> failures;  // reason -> count
};

void client(const Options& o, std::chrono::steady_clock::time_point deadline, ClientResult& out) {
  using clock = std::chrono::steady_clock;
  auto make = [&o] {
    auto cli = std::make_unique<httplib::Client>(o.host, o.port);
    cli->set_connection_timeout(o.timeout, 0);
    cli->set_read_timeout(o.timeout, 0);
    cli->set_write_timeout(o.timeout, 0);
    cli->set_keep_alive(o.keep_alive);
    return cli;
  };
  auto cli = make();
  while (clock::now() < deadline) {
    if (!o.keep_alive) cli = make();
    const auto t0 = clock::now();
    auto res = cli->Get(o.path);
    const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (!res) {
      out.failures["error: " + httplib::to_string(res.error())]++;
      if (o.keep_alive) cli = make();
      continue;
    }
    if (res->status == 200 && res->body.find(o.expect) != std::string::npos) {
      out.ok_ms.push_back(ms);
    } else if (res->status == 503) {
      out.rejected_ms.push_back(ms);
    } else if (res->status == 200) {
      out.failures["200 without \"" + o.expect + "\""]++;
    } else {
      out.failures["status " + std::to_string(res->status)]++;
    }
  }
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--port") o.port = static_cast<int>(parse_long(next(), 1, 65535));
    else if (a == "--host") o.host = next();
    else if (a == "--clients") o.clients = parse_long(next(), 1, 10000);
    else if (a == "--seconds") o.seconds = parse_long(next(), 1, 86400);
    else if (a == "--path") o.path = next();
    else if (a == "--timeout") o.timeout = parse_long(next(), 1, 3600);
    else if (a == "--keep-alive") o.keep_alive = true;
    else if (a == "--expect") o.expect = next();
    else if (a == "--allow-503") o.allow_503 = true;
    else usage();
  }
  if (o.port == 0) usage();

  std::vector<ClientResult> results(static_cast<size_t>(o.clients));
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(o.seconds);
  for (auto& r : results) threads.emplace_back(client, std::cref(o), deadline, std::ref(r));
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<double> ok, rejected;
  std::map<std::string, long> failures;
  long failed = 0;
  size_t min_client_ok = SIZE_MAX;
  for (const auto& r : results) {
    ok.insert(ok.end(), r.ok_ms.begin(), r.ok_ms.end());
    rejected.insert(rejected.end(), r.rejected_ms.begin(), r.rejected_ms.end());
    min_client_ok = std::min(min_client_ok, r.ok_ms.size());
    for (const auto& [why, n] : r.failures) {
      failures[why] += n;
      failed += n;
    }
  }
  const long scrapes = static_cast<long>(ok.size() + rejected.size()) + failed;
  for (const auto& [why, n] : failures) std::fprintf(stderr, "scrape_storm: failed: %s x%ld\n", why.c_str(), n);
  std::printf(
      "scrape_storm clients=%ld seconds=%.1f scrapes=%ld ok=%zu rejected=%zu failed=%ld "
      "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f rejected_p99_ms=%.2f min_client_ok=%zu "
      "scrapes_per_sec=%.1f\n",
      o.clients, elapsed, scrapes, ok.size(), rejected.size(), failed, percentile(ok, 0.50),
      percentile(ok, 0.99), ok.empty() ? 0.0 : *std::max_element(ok.begin(), ok.end()),
      percentile(rejected, 0.99), min_client_ok, static_cast<double>(scrapes) / elapsed);
  std::fflush(stdout);
  if (failed > 0 || ok.empty() || (!o.allow_503 && !rejected.empty())) return 1;
  return 0;
}
