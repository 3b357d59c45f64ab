#include "config.h"

#include <gtest/gtest.h>

#include <vector>

namespace iouring {
namespace {

ParseResult parse(std::vector<const char*> args, Config& cfg) {
  args.insert(args.begin(), "io_uring_exporter");
  return parse_config(static_cast<int>(args.size()), args.data(), cfg);
}

TEST(Config, Defaults) {
  Config cfg;
  ASSERT_EQ(parse({}, cfg).status, ParseStatus::run);
  EXPECT_EQ(cfg.listen.port, 9773);
  EXPECT_EQ(cfg.listen.host, "");
  EXPECT_EQ(cfg.telemetry_path, "/metrics");
  EXPECT_TRUE(cfg.collectors.at("ops"));
  EXPECT_TRUE(cfg.ops_latency);
}

TEST(Config, FlagsAndNegations) {
  Config cfg;
  auto r = parse({"--web.listen-address=127.0.0.1:9100", "--web.telemetry-path=/m",
                  "--no-collector.rings", "--no-collector.ops.latency", "--log.level=debug",
                  "--bpf.inflight-entries", "1024"},
                 cfg);
  ASSERT_EQ(r.status, ParseStatus::run) << r.message;
  EXPECT_EQ(cfg.listen.host, "127.0.0.1");
  EXPECT_EQ(cfg.listen.port, 9100);
  EXPECT_EQ(cfg.telemetry_path, "/m");
  EXPECT_FALSE(cfg.collectors.at("rings"));
  EXPECT_TRUE(cfg.collectors.at("ops"));
  EXPECT_FALSE(cfg.ops_latency);
  EXPECT_EQ(cfg.inflight_entries, 1024u);
  EXPECT_EQ(cfg.log_level, "debug");
}

TEST(Config, ListenAddressForms) {
  ListenAddress a;
  std::string why;
  EXPECT_TRUE(parse_listen_address(":80", a, why));
  EXPECT_EQ(a.host, "");
  EXPECT_TRUE(parse_listen_address("[::1]:9773", a, why));
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9773);
  for (const char* bad : {"9773", "host:", "host:0", "host:65536", "host:12x", "::1:80", "[::1:80",
                          "[]:80"}) {
    EXPECT_FALSE(parse_listen_address(bad, a, why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(Config, ErrorsAreOneLineWithUsage) {
  Config cfg;
  auto r = parse({"--no-such-flag"}, cfg);
  EXPECT_EQ(r.status, ParseStatus::exit_failure);
  EXPECT_EQ(r.message.rfind("error: ", 0), 0u);
  EXPECT_NE(r.message.find("--no-such-flag"), std::string::npos);
  EXPECT_NE(r.message.find("--web.listen-address"), std::string::npos);  // usage follows

  Config c2;
  r = parse({"--web.listen-address=nonsense"}, c2);
  EXPECT_EQ(r.status, ParseStatus::exit_failure);
  EXPECT_EQ(r.message.find('\n'), std::string::npos) << r.message;

  Config c3;
  EXPECT_EQ(parse({"--web.telemetry-path=metrics"}, c3).status, ParseStatus::exit_failure);
  Config c4;
  EXPECT_EQ(parse({"--log.level=verbose"}, c4).status, ParseStatus::exit_failure);
  Config c5;
  EXPECT_EQ(parse({"--bpf.inflight-entries=0"}, c5).status, ParseStatus::exit_failure);
}

TEST(Config, HelpAndVersion) {
  Config cfg;
  auto r = parse({"--help"}, cfg);
  EXPECT_EQ(r.status, ParseStatus::exit_success);
  EXPECT_NE(r.message.find("--collector.ops"), std::string::npos);
  Config c2;
  r = parse({"--version"}, c2);
  EXPECT_EQ(r.status, ParseStatus::exit_success);
  EXPECT_NE(r.message.find("io_uring_exporter"), std::string::npos);
}

}  // namespace
}  // namespace iouring
