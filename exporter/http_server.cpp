#include "http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace iouring {
namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

void security_headers(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

std::string landing_page(const std::string& metrics_path) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>io_uring exporter</title>"
         "</head><body><h1>io_uring exporter</h1><p>Prometheus metrics for Linux io_uring, "
         "aggregated in the kernel by eBPF.</p><ul><li><a href=\"" +
         metrics_path + "\">Metrics</a></li><li><a href=\"/healthz\">Health</a></li></ul>"
         "</body></html>\n";
}

}  // namespace

HttpServer::HttpServer(const Config& cfg, std::function<std::string()> render_metrics)
    : cfg_(cfg), server_(std::make_unique<httplib::Server>()) {
  auto& s = *server_;
  const int workers = cfg.max_requests;
  s.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_idle_interval(0, 0);
  s.set_keep_alive_max_count(100);
  s.set_payload_max_length(64 * 1024);

  s.Get(cfg.telemetry_path, [render = std::move(render_metrics)](const httplib::Request&,
                                                                  httplib::Response& res) {
    res.set_content(render(), kMetricsContentType);
  });
  s.Get("/", [page = landing_page(cfg.telemetry_path)](const httplib::Request&,
                                                        httplib::Response& res) {
    security_headers(res);
    res.set_content(page, "text/html; charset=utf-8");
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    security_headers(res);
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    security_headers(res);
    if (res.body.empty())
      res.set_content(std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
  });
}

HttpServer::~HttpServer() = default;

bool HttpServer::bind(std::string& error) {
  const std::string host = cfg_.listen.host.empty() ? "0.0.0.0" : cfg_.listen.host;
  errno = 0;
  if (!server_->bind_to_port(host, cfg_.listen.port)) {
    int err = errno;
    error = "cannot listen on " + cfg_.listen_address + ": " +
            (err ? std::strerror(err) : "address unavailable") +
            " (is another exporter running? choose another --web.listen-address)";
    return false;
  }
  port_ = cfg_.listen.port;
  return true;
}

void HttpServer::serve() { server_->listen_after_bind(); }

void HttpServer::stop() { server_->stop(); }

}  // namespace iouring
