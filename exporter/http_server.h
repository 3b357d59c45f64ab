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

class HttpServer {
 public:
  HttpServer(const Config& cfg, std::function<std::string()> render_metrics);
  ~HttpServer();
  // Binds the listen address. false and a one-line error (naming the fix) on failure.
  bool bind(std::string& error);
  // Serves until stop() is called (from any thread).
  void serve();
  void stop();
  int port() const { return port_; }

 private:
  const Config& cfg_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace iouring
