// --web.config.file: TLS, client certificates, basic auth and extra response headers, in the
// Prometheus exporter-toolkit web-config format (the file node_exporter and Prometheus read).
//
//   tls_server_config:
//     cert_file / key_file        PEM server certificate (chain) and key; or inline cert / key
//     client_auth_type            NoClientCert (default), RequestClientCert, RequireAnyClientCert,
//                                 VerifyClientCertIfGiven, RequireAndVerifyClientCert
//     client_ca_file / client_ca  PEM CA bundle for client certificates
//     client_allowed_sans         client certificate must carry one of these SANs
//     min_version / max_version   TLS10, TLS11, TLS12 (default min), TLS13 (default max)
//     cipher_suites               Go names for TLS <= 1.2 suites, mapped to OpenSSL's
//     prefer_server_cipher_suites default true
//     curve_preferences           CurveP256, CurveP384, CurveP521, X25519
//   http_server_config:
//     http2                       accepted; HTTP/2 is not served (a warning if true is set)
//     headers                     Content-Security-Policy, X-Frame-Options,
//                                 X-Content-Type-Options, X-XSS-Protection,
//                                 Strict-Transport-Security
//   basic_auth_users:             user: bcrypt hash ($2y$/$2b$/$2a$)
//   rate_limit: {interval, burst} token bucket for incoming requests (429 when empty)
//
// Behaviour (and where it differs from exporter-toolkit):
//  * Unknown keys, duplicate keys, wrong types and bad values are start-up errors: one line naming
//    the key and the fix, exit 1. Certificates, keys and CAs are loaded at start-up the way the
//    server will load them (missing/unreadable files, non-PEM data, encrypted keys, a key that
//    does not match the certificate). Hash values are never echoed (they may be passwords).
//  * Relative file names are resolved against the directory of the config file.
//  * The file is read once. cert_file/key_file are re-read at the next TLS handshake after either
//    changes (renewals need no restart; a bad pair keeps the previous one, with a warning);
//    client CAs, users and headers need a restart.
//  * Stricter than exporter-toolkit: TLS settings without cert/key are an error (toolkit silently
//    serves plain HTTP); Verify* client auth types need a client CA (toolkit would fall back to
//    the system roots); rate_limit.burst must be >= 1 when an interval is set.
//  * cipher_suites takes Go names and maps them to OpenSSL's; TLS 1.3 suite names are accepted
//    and ignored with a warning (Go ignores them too). HTTP/2 is not served: http2 is accepted,
//    true draws a warning, clients negotiate HTTP/1.1.
//  * Basic auth protects every path except /healthz (kubelet probes carry no credentials):
//    401 with WWW-Authenticate: Basic. Successful checks are cached (bounded, keyed digests, no
//    passwords); see basic_auth.h. rate_limit answers 429 and also spares /healthz.
//  * Configured headers go on every response (401/404/429/503 included) and replace the built-in
//    security headers of the same name; a blank value leaves the header unset/default.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace iouring {

enum class ClientAuthType {
  no_client_cert,
  request_client_cert,
  require_any_client_cert,
  verify_client_cert_if_given,
  require_and_verify_client_cert,
};

// Protocol versions, with OpenSSL's (and the TLS wire) numbering.
inline constexpr int kTls10 = 0x0301;
inline constexpr int kTls11 = 0x0302;
inline constexpr int kTls12 = 0x0303;
inline constexpr int kTls13 = 0x0304;

struct TlsServerConfig {
  std::string cert_file;       // absolute or relative to the working directory once resolved
  std::string key_file;
  std::string client_ca_file;
  std::string cert;            // inline PEM, instead of cert_file
  std::string key;             // inline PEM, instead of key_file
  std::string client_ca;       // inline PEM, instead of client_ca_file
  ClientAuthType client_auth_type = ClientAuthType::no_client_cert;
  std::vector<std::string> client_allowed_sans;
  int min_version = kTls12;
  int max_version = kTls13;
  std::vector<std::string> cipher_suites;      // OpenSSL names of the TLS <= 1.2 suites
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> curve_preferences;  // OpenSSL group names

  // TLS is on as soon as any certificate, key, CA or client auth setting is present.
  bool enabled() const;
};

struct WebConfig {
  std::string path;  // the file this came from; "" when no --web.config.file was given
  TlsServerConfig tls;
  bool http2 = true;
  std::vector<std::pair<std::string, std::string>> headers;  // canonical name, non-empty value
  std::map<std::string, std::string> basic_auth_users;        // user -> bcrypt hash
  std::int64_t rate_limit_interval_ns = 0;                    // 0 = no rate limit
  int rate_limit_burst = 0;
  std::vector<std::string> warnings;  // accepted but worth a log line (e.g. http2, TLS 1.0)

  bool tls_enabled() const { return tls.enabled(); }
  bool auth_enabled() const { return !basic_auth_users.empty(); }
  bool rate_limited() const { return rate_limit_interval_ns > 0; }
};

// Parses a web config document. Relative file names are resolved against `base_dir`. Reads no
// files: certificates and keys are checked by load_web_config. On failure returns false and one
// line naming the offending key and how to fix it.
bool parse_web_config(std::string_view yaml, const std::string& base_dir, WebConfig& out,
                      std::string& error);

// Reads and parses `path`, then loads every certificate, key and CA it names the way the server
// will (so a config that loads here will serve). Errors are one line, prefixed with
// "--web.config.file=<path>: ".
bool load_web_config(const std::string& path, WebConfig& out, std::string& error);

// Sets up an OpenSSL server context from `tls`: protocol versions, ciphers, curves, certificate
// and key, client CA and verification mode. false and a one-line error on failure.
// With cert_file and key_file, the pair is re-read at the next handshake after either file
// changes; `log` (optional) hears about reloads and about bad pairs, which keep the old one.
bool configure_ssl_ctx(SSL_CTX* ctx, const TlsServerConfig& tls, std::string& error,
                       std::function<void(bool warning, const std::string&)> log = {});

// The rate_limit token bucket (golang.org/x/time/rate semantics: one token per interval, at
// most `burst` stored, starting full). Thread-safe.
class RequestRateLimiter {
 public:
  RequestRateLimiter(std::int64_t interval_ns, int burst);
  // Takes a token if one is available; `now_ns` is a monotonic clock (for tests), -1 = now.
  bool allow(std::int64_t now_ns = -1);

 private:
  std::mutex mutex_;
  const std::int64_t interval_ns_;
  const double burst_;
  double tokens_;
  std::int64_t last_ns_ = -1;
};

// Go duration syntax as used by the exporter-toolkit ("1s", "250ms", "1m30s", "0").
bool parse_go_duration(std::string_view text, std::int64_t& ns);

}  // namespace iouring
