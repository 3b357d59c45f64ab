#include "http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>

#include <cerrno>
#include <cstring>

#include "basic_auth.h"
#include "web_config.h"

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

HttpServer::HttpServer(const Config& cfg, std::function<std::string()> render_metrics,
                       const WebConfig* web)
    : cfg_(cfg) {
  if (web && web->tls_enabled()) {
    // Called once, right here; a failure leaves the server invalid and bind() reports it.
    server_ = std::make_unique<httplib::SSLServer>(
        [this, tls = web->tls](SSL_CTX& ctx) {
          return configure_ssl_ctx(&ctx, tls, tls_error_, [](bool warning, const std::string& m) {
            if (warning)
              spdlog::warn("{}", m);
            else
              spdlog::info("{}", m);
          });
        });
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto& s = *server_;
  // More connection threads than --web.max-requests: a few slow or idle clients (TLS handshakes,
  // keep-alive) must not starve everyone, and /healthz and the 503 below must still be answered
  // while max-requests scrapes render. Scrapes beyond the limit get 503 at once (as promhttp's
  // MaxRequestsInFlight does) instead of waiting in a queue.
  const int workers = 2 * cfg.max_requests + 4;
  s.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_idle_interval(0, 0);
  // Keep-alive connections each hold a worker thread: bound how long one client can keep it.
  s.set_keep_alive_max_count(10);
  s.set_keep_alive_timeout(2);
  // Remember the listening socket: cpp-httplib listens with a backlog of 5 (compiled into
  // Debian's library), which overflows under many new connections; bind() raises it.
  s.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd_ = sock;
  });
  s.set_payload_max_length(64 * 1024);

  s.Get(cfg.telemetry_path, [render = std::move(render_metrics), limit = cfg.max_requests,
                              inflight = std::make_shared<std::atomic<int>>(0)](
                                 const httplib::Request&, httplib::Response& res) {
    if (inflight->fetch_add(1) >= limit) {
      inflight->fetch_sub(1);
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content("503 Service Unavailable: more than --web.max-requests=" +
                          std::to_string(limit) + " scrapes at once\n",
                      "text/plain; charset=utf-8");
      return;
    }
    struct Release {
      std::atomic<int>& n;
      ~Release() { n.fetch_sub(1); }
    } release{*inflight};
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
  if (web) install_web_config(*web);
}

void HttpServer::install_web_config(const WebConfig& web) {
  using HandlerResponse = httplib::Server::HandlerResponse;
  if (web.auth_enabled()) auth_ = std::make_unique<BasicAuthenticator>(web.basic_auth_users);
  if (web.rate_limited())
    limiter_ = std::make_unique<RequestRateLimiter>(web.rate_limit_interval_ns,
                                                    web.rate_limit_burst);
  // Rate limit, then credentials, on every path but /healthz (kubelet probes carry none).
  const bool open_healthz = cfg_.telemetry_path != "/healthz";
  server_->set_pre_routing_handler([this, open_healthz](const httplib::Request& req,
                                                        httplib::Response& res) {
    if (open_healthz && req.path == "/healthz") return HandlerResponse::Unhandled;
    if (limiter_ && !limiter_->allow()) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content("429 Too Many Requests (rate_limit of --web.config.file)\n",
                      "text/plain; charset=utf-8");
      return HandlerResponse::Handled;
    }
    if (auth_ && !auth_->verify_header(req.get_header_value("Authorization"))) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"io_uring_exporter\", charset=\"UTF-8\"");
      res.set_content("401 Unauthorized\n", "text/plain; charset=utf-8");
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  });
  // Configured headers go on every response and replace the built-in defaults of the same name.
  if (!web.headers.empty())
    server_->set_post_routing_handler(
        [headers = web.headers](const httplib::Request&, httplib::Response& res) {
          for (const auto& [name, value] : headers) {
            res.headers.erase(name);
            res.set_header(name, value);
          }
        });
}

HttpServer::~HttpServer() = default;

bool HttpServer::bind(std::string& error) {
  const std::string host = cfg_.listen.host.empty() ? "0.0.0.0" : cfg_.listen.host;
  if (!server_->is_valid()) {
    error = "--web.config.file: cannot set up TLS: " + tls_error_;
    return false;
  }
  errno = 0;
  if (!server_->bind_to_port(host, cfg_.listen.port)) {
    int err = errno;
    error = "cannot listen on " + cfg_.listen_address + ": " +
            (err ? std::strerror(err) : "address unavailable") +
            " (is another exporter running? choose another --web.listen-address)";
    return false;
  }
  if (listen_fd_ >= 0) ::listen(listen_fd_, SOMAXCONN);
  port_ = cfg_.listen.port;
  return true;
}

void HttpServer::serve() { server_->listen_after_bind(); }

void HttpServer::stop() { server_->stop(); }

}  // namespace iouring
