// HTTP front: the metrics endpoint, a landing page and a health check (cpp-httplib).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config.h"

namespace httplib {
class Server;
}

namespace iouring {

struct WebConfig;
class BasicAuthenticator;
class RequestRateLimiter;

class HttpServer {
 public:
  // `web` (optional, from --web.config.file; must outlive the server) adds TLS, basic auth,
  // configured response headers and the rate limit. /healthz stays open without credentials
  // (and outside the rate limit) for kubelet probes; every other path needs them.
  HttpServer(const Config& cfg, std::function<std::string()> render_metrics,
             const WebConfig* web = nullptr);
  ~HttpServer();
  // Binds the listen address. false and a one-line error (naming the fix) on failure.
  bool bind(std::string& error);
  // Serves until stop() is called (from any thread).
  void serve();
  void stop();
  int port() const { return port_; }

 private:
  void install_web_config(const WebConfig& web);

  const Config& cfg_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::string tls_error_;  // set when the TLS context could not be built
  std::unique_ptr<BasicAuthenticator> auth_;
  std::unique_ptr<RequestRateLimiter> limiter_;
};

}  // namespace iouring
