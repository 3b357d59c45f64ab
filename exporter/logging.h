// Logging set-up: spdlog to stderr, libbpf's messages routed into it.
#pragma once

#include <string>

namespace iouring {

// level: debug, info, warn, error. libbpf output appears at debug level.
void setup_logging(const std::string& level);

}  // namespace iouring
