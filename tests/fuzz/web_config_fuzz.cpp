// libFuzzer target for the --web.config.file parser (iouring::parse_web_config) and the
// Authorization header / duration parsers it sits next to.
// Invariants: no crash, hang or UB; a rejection is one non-empty, bounded line; an accepted config
// is internally consistent (resolved paths absolute, headers from the allowed set with single-line
// values, users with bcrypt hashes, min_version <= max_version, TLS complete when on); parsing is
// deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exporter/basic_auth.h"
#include "exporter/web_config.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool one_line(const std::string& s) {
  return !s.empty() && s.size() < 4096 && s.find('\n') == std::string::npos &&
         s.find('\r') == std::string::npos;
}

bool absolute_or_empty(const std::string& path) { return path.empty() || path.front() == '/'; }

void check_config(const iouring::WebConfig& c) {
  const auto& t = c.tls;
  check(absolute_or_empty(t.cert_file) && absolute_or_empty(t.key_file) &&
        absolute_or_empty(t.client_ca_file));
  if (t.enabled()) {
    check(!t.cert_file.empty() || !t.cert.empty());
    check(!t.key_file.empty() || !t.key.empty());
    check(t.cert_file.empty() || t.cert.empty());
    check(t.min_version <= t.max_version);
    check(t.min_version >= iouring::kTls10 && t.max_version <= iouring::kTls13);
  }
  for (const auto& [name, value] : c.headers) {
    check(name == "Strict-Transport-Security" || name == "X-Content-Type-Options" ||
          name == "X-Frame-Options" || name == "X-XSS-Protection" ||
          name == "Content-Security-Policy");
    check(!value.empty());
    for (unsigned char ch : value) check(ch >= 0x20 || ch == '\t');
  }
  for (const auto& [user, hash] : c.basic_auth_users) {
    check(user.find(':') == std::string::npos);
    check(iouring::is_bcrypt_hash(hash));
  }
  check(c.rate_limit_interval_ns >= 0);
  check(c.rate_limit_interval_ns == 0 || c.rate_limit_burst >= 1);
  for (const auto& w : c.warnings) check(one_line(w));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  iouring::WebConfig a, b;
  std::string error_a, error_b;
  const bool ok_a = iouring::parse_web_config(text, "/fuzz/conf", a, error_a);
  const bool ok_b = iouring::parse_web_config(text, "/fuzz/conf", b, error_b);
  check(ok_a == ok_b && error_a == error_b);
  if (ok_a) {
    check_config(a);
    check(a.tls.cert_file == b.tls.cert_file && a.headers == b.headers &&
          a.basic_auth_users == b.basic_auth_users && a.warnings == b.warnings);
  } else {
    check(one_line(error_a));
  }

  std::string user, password;
  if (iouring::parse_basic_authorization(text, user, password))
    check(user.find(':') == std::string::npos);

  std::int64_t ns = 0;
  if (iouring::parse_go_duration(text, ns)) check(ns >= 0);
  return 0;
}
