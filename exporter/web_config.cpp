#include "web_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "basic_auth.h"

namespace iouring {
namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;   // a web config is a few hundred bytes
constexpr std::size_t kMaxPemBytes = 16 << 20;     // CA bundles can be a few hundred KiB
constexpr const char* kHtpasswdHint = "generate one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'";

// ---------------------------------------------------------------- small helpers

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (lower(a.substr(i - 1, 1)) == lower(b.substr(j - 1, 1)) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A printable, bounded rendering of user-supplied text for error messages.
std::string quote(std::string_view s) {
  std::string out = "\"";
  std::size_t n = 0;
  for (unsigned char c : s) {
    if (++n > 64) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A user-chosen name as part of a dotted key: as is when plain, quoted otherwise.
std::string key_part(std::string_view s) {
  const bool plain = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == '@';
  });
  return plain ? std::string(s) : quote(s);
}

// Errors are one line of printable text, whatever the input (yaml-cpp quotes raw characters).
std::string printable_line(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string at_line(const YAML::Node& n) {
  try {
    YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) return "";
    return " (line " + std::to_string(m.line + 1) + ")";
  } catch (...) {
    return "";
  }
}

// Reads a whole file; on failure `error` is "cannot read PATH: reason (fix)".
bool read_file(const std::string& path, std::size_t limit, std::string& out, std::string& error) {
  auto fail = [&](int err) {
    std::string fix;
    switch (err) {
      case ENOENT:
      case ENOTDIR:
        fix = " (check the path; relative paths are resolved against the config file's directory)";
        break;
      case EACCES:
      case EPERM:
        fix = " (make it readable by the user the exporter runs as)";
        break;
      case EISDIR:
        fix = " (point it at a file, not a directory)";
        break;
      case EFBIG:
        fix = " (the file is too large)";
        break;
      default:
        break;
    }
    error = "cannot read " + path + ": " + std::strerror(err) + fix;
    return false;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail(EISDIR);
  }
  out.clear();
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fail(err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return fail(EFBIG);
    }
  }
  ::close(fd);
  return true;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

// ---------------------------------------------------------------- YAML walking

struct KeySpec {
  std::string_view name;
  std::function<bool(const YAML::Node& value, const std::string& key, std::string& error)> parse;
};

// Walks a mapping: every key must be a unique string from `specs`; each value goes to its parser.
// A null node (an empty section) is an empty mapping.
bool walk_map(const YAML::Node& node, const std::string& prefix, const std::vector<KeySpec>& specs,
              std::string& error) {
  const std::string what = prefix.empty() ? "the top level of the file" : quote(prefix);
  if (!node || node.IsNull()) return true;
  if (!node.IsMap()) {
    error = what + " must be a mapping of keys to values" + at_line(node);
    return false;
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node k = it->first;  // a copy: it-> yields a temporary proxy
    if (!k.IsScalar()) {
      error = "keys in " + what + " must be strings" + at_line(k);
      return false;
    }
    const std::string name = k.Scalar();
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const KeySpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      std::vector<std::string> valid;
      std::string best;
      std::size_t best_d = SIZE_MAX;
      for (const auto& s : specs) {
        valid.emplace_back(s.name);
        std::size_t d = name.size() > 64 ? SIZE_MAX : edit_distance(name, s.name);
        if (d < best_d) best_d = d, best = s.name;
      }
      error = "unknown key " + quote(full) + at_line(k);
      if (best_d <= std::max<std::size_t>(2, name.size() / 3))
        error += ": did you mean " + quote(best) + "?";
      error += " (valid keys" + std::string(prefix.empty() ? "" : " in " + prefix) + ": " +
               join(valid, ", ") + ")";
      return false;
    }
    if (!seen.insert(name).second) {
      error = "duplicate key " + quote(full) + at_line(k) + ": keep only one";
      return false;
    }
    if (!spec->parse(it->second, full, error)) return false;
  }
  return true;
}

bool get_string(const YAML::Node& v, const std::string& key, std::string& out, std::string& error) {
  if (!v || v.IsNull()) {
    out.clear();
    return true;
  }
  if (!v.IsScalar()) {
    error = key + " must be a string" + at_line(v);
    return false;
  }
  out = v.Scalar();
  return true;
}

bool get_bool(const YAML::Node& v, const std::string& key, bool& out, std::string& error) {
  if (v && v.IsScalar() && YAML::convert<bool>::decode(v, out)) return true;
  error = key + " must be true or false" + at_line(v);
  return false;
}

bool get_string_list(const YAML::Node& v, const std::string& key, std::vector<std::string>& out,
                     std::string& error) {
  out.clear();
  if (!v || v.IsNull()) return true;
  if (!v.IsSequence()) {
    error = key + " must be a list of strings" + at_line(v) + " (e.g. [a, b] or one '- a' per line)";
    return false;
  }
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      error = key + " must be a list of strings" + at_line(item);
      return false;
    }
    out.push_back(item.Scalar());
  }
  return true;
}

// ---------------------------------------------------------------- value tables

struct NamedVersion {
  std::string_view name;
  int version;
};
constexpr std::array<NamedVersion, 4> kVersions{{
    {"TLS10", kTls10}, {"TLS11", kTls11}, {"TLS12", kTls12}, {"TLS13", kTls13}}};

std::string_view version_name(int v) {
  for (const auto& nv : kVersions)
    if (nv.version == v) return nv.name;
  return "?";
}

struct NamedAuth {
  std::string_view name;
  ClientAuthType type;
};
constexpr std::array<NamedAuth, 6> kClientAuth{{
    {"NoClientCert", ClientAuthType::no_client_cert},
    {"RequestClientCert", ClientAuthType::request_client_cert},
    {"RequireAnyClientCert", ClientAuthType::require_any_client_cert},
    {"RequireClientCert", ClientAuthType::require_any_client_cert},  // old exporter-toolkit name
    {"VerifyClientCertIfGiven", ClientAuthType::verify_client_cert_if_given},
    {"RequireAndVerifyClientCert", ClientAuthType::require_and_verify_client_cert},
}};

std::string_view client_auth_name(ClientAuthType t) {
  for (const auto& na : kClientAuth)
    if (na.type == t) return na.name;
  return "?";
}

// Go crypto/tls cipher suite names -> OpenSSL names. "" = a TLS 1.3 suite: those are always
// enabled and not configurable, in Go as in OpenSSL's cipher list.
struct CipherName {
  std::string_view go;
  std::string_view openssl;
};
constexpr std::array<CipherName, 21> kCiphers{{
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
}};

struct CurveName {
  std::string_view go;
  std::string_view openssl;
};
constexpr std::array<CurveName, 4> kCurves{{
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}}};

// The response headers exporter-toolkit lets a config set, and the values it allows ({} = any).
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;
};
const std::vector<AllowedHeader>& allowed_headers() {
  static const std::vector<AllowedHeader> headers{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return headers;
}

// ---------------------------------------------------------------- sections

bool parse_tls(const YAML::Node& node, const std::string& base_dir, WebConfig& out,
               std::string& error) {
  TlsServerConfig& t = out.tls;
  std::vector<std::string> tuning_keys;  // settings that only mean something with TLS on
  auto str = [&](std::string TlsServerConfig::*field) {
    return [&t, field](const YAML::Node& v, const std::string& key, std::string& err) {
      return get_string(v, key, t.*field, err);
    };
  };
  auto version = [&](int TlsServerConfig::*field) {
    return [&t, &tuning_keys, field](const YAML::Node& v, const std::string& key,
                                     std::string& err) {
      std::string s;
      if (!get_string(v, key, s, err)) return false;
      for (const auto& nv : kVersions) {
        if (nv.name == s) {
          t.*field = nv.version;
          tuning_keys.push_back(key);
          return true;
        }
      }
      err = key + ": " + quote(s) + " is not a TLS version" + at_line(v) +
            " (use TLS10, TLS11, TLS12 or TLS13)";
      return false;
    };
  };
  std::vector<KeySpec> specs{
      {"cert_file", str(&TlsServerConfig::cert_file)},
      {"key_file", str(&TlsServerConfig::key_file)},
      {"client_ca_file", str(&TlsServerConfig::client_ca_file)},
      {"cert", str(&TlsServerConfig::cert)},
      {"key", str(&TlsServerConfig::key)},
      {"client_ca", str(&TlsServerConfig::client_ca)},
      {"client_auth_type",
       [&t](const YAML::Node& v, const std::string& key, std::string& err) {
         std::string s;
         if (!get_string(v, key, s, err)) return false;
         if (s.empty()) return true;
         for (const auto& na : kClientAuth) {
           if (na.name == s) {
             t.client_auth_type = na.type;
             return true;
           }
         }
         err = key + ": " + quote(s) + " is not a client auth type" + at_line(v) +
               " (use NoClientCert, RequestClientCert, RequireAnyClientCert, "
               "VerifyClientCertIfGiven or RequireAndVerifyClientCert)";
         return false;
       }},
      {"client_allowed_sans",
       [&t](const YAML::Node& v, const std::string& key, std::string& err) {
         return get_string_list(v, key, t.client_allowed_sans, err);
       }},
      {"min_version", version(&TlsServerConfig::min_version)},
      {"max_version", version(&TlsServerConfig::max_version)},
      {"cipher_suites",
       [&t, &out, &tuning_keys](const YAML::Node& v, const std::string& key, std::string& err) {
         std::vector<std::string> names;
         if (!get_string_list(v, key, names, err)) return false;
         std::vector<std::string> tls13;
         for (const auto& n : names) {
           auto c = std::find_if(kCiphers.begin(), kCiphers.end(),
                                 [&](const CipherName& cn) { return cn.go == n; });
           if (c == kCiphers.end()) {
             err = key + ": unknown cipher suite " + quote(n) + at_line(v) +
                   " (use Go crypto/tls names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)";
             return false;
           }
           if (c->openssl.empty()) {
             tls13.push_back(n);
           } else if (std::find(t.cipher_suites.begin(), t.cipher_suites.end(), c->openssl) ==
                      t.cipher_suites.end()) {
             t.cipher_suites.emplace_back(c->openssl);
           }
         }
         if (!tls13.empty())
           out.warnings.push_back(key + ": " + join(tls13, ", ") +
                                  " ignored: TLS 1.3 suites are not configurable (as in Go)");
         if (!names.empty()) tuning_keys.push_back(key);
         return true;
       }},
      {"prefer_server_cipher_suites",
       [&t](const YAML::Node& v, const std::string& key, std::string& err) {
         return get_bool(v, key, t.prefer_server_cipher_suites, err);
       }},
      {"curve_preferences",
       [&t, &tuning_keys](const YAML::Node& v, const std::string& key, std::string& err) {
         std::vector<std::string> names;
         if (!get_string_list(v, key, names, err)) return false;
         for (const auto& n : names) {
           auto c = std::find_if(kCurves.begin(), kCurves.end(),
                                 [&](const CurveName& cn) { return cn.go == n; });
           if (c == kCurves.end()) {
             err = key + ": unknown curve " + quote(n) + at_line(v) +
                   " (use CurveP256, CurveP384, CurveP521 or X25519)";
             return false;
           }
           t.curve_preferences.emplace_back(c->openssl);
         }
         if (!names.empty()) tuning_keys.push_back(key);
         return true;
       }},
  };
  if (!walk_map(node, "tls_server_config", specs, error)) return false;

  const std::string p = "tls_server_config.";
  if (!t.cert_file.empty() && !t.cert.empty()) {
    error = p + "cert_file and " + p + "cert are both set: keep only one";
    return false;
  }
  if (!t.key_file.empty() && !t.key.empty()) {
    error = p + "key_file and " + p + "key are both set: keep only one";
    return false;
  }
  if (!t.client_ca_file.empty() && !t.client_ca.empty()) {
    error = p + "client_ca_file and " + p + "client_ca are both set: keep only one";
    return false;
  }
  t.cert_file = resolve(base_dir, t.cert_file);
  t.key_file = resolve(base_dir, t.key_file);
  t.client_ca_file = resolve(base_dir, t.client_ca_file);

  if (!t.enabled()) {
    // exporter-toolkit would silently serve plain HTTP here; a TLS setting without a
    // certificate is far more likely a mistake than an intent.
    if (!tuning_keys.empty() || !t.client_allowed_sans.empty()) {
      error = (tuning_keys.empty() ? p + "client_allowed_sans" : tuning_keys.front()) +
              " is set but TLS is off: add " + p + "cert_file and " + p +
              "key_file (or remove the TLS settings)";
      return false;
    }
    return true;
  }
  if (t.cert_file.empty() && t.cert.empty()) {
    error = p + "cert_file is missing: set it to the server certificate (PEM), or give the "
                "certificate inline as " + p + "cert";
    return false;
  }
  if (t.key_file.empty() && t.key.empty()) {
    error = p + "key_file is missing: set it to the server's private key (PEM), or give the "
                "key inline as " + p + "key";
    return false;
  }
  if (t.min_version > t.max_version) {
    error = p + "min_version (" + std::string(version_name(t.min_version)) +
            ") is above max_version (" + std::string(version_name(t.max_version)) +
            "): lower min_version or raise max_version";
    return false;
  }
  const bool has_ca = !t.client_ca_file.empty() || !t.client_ca.empty();
  const auto auth = t.client_auth_type;
  if (has_ca && auth == ClientAuthType::no_client_cert) {
    error = p + "client_ca_file is set but client_auth_type is NoClientCert: set " + p +
            "client_auth_type to RequireAndVerifyClientCert (or remove the client CA)";
    return false;
  }
  if (!has_ca && (auth == ClientAuthType::verify_client_cert_if_given ||
                  auth == ClientAuthType::require_and_verify_client_cert)) {
    error = p + "client_auth_type " + std::string(client_auth_name(auth)) +
            " needs a CA to verify client certificates with: set " + p + "client_ca_file";
    return false;
  }
  if (!t.client_allowed_sans.empty() && auth != ClientAuthType::require_any_client_cert &&
      auth != ClientAuthType::require_and_verify_client_cert) {
    error = p + "client_allowed_sans needs " + p +
            "client_auth_type RequireAndVerifyClientCert (or RequireAnyClientCert): otherwise "
            "clients need not send a certificate to match";
    return false;
  }
  if (t.min_version < kTls12)
    out.warnings.push_back(p + "min_version " + std::string(version_name(t.min_version)) +
                           ": TLS 1.0 and 1.1 are deprecated and refused by OpenSSL's default "
                           "security level; use TLS12 or TLS13");
  return true;
}

bool parse_http(const YAML::Node& node, WebConfig& out, std::string& error) {
  std::vector<KeySpec> specs{
      {"http2",
       [&out](const YAML::Node& v, const std::string& key, std::string& err) {
         if (!get_bool(v, key, out.http2, err)) return false;
         if (out.http2)
           out.warnings.push_back(key + ": HTTP/2 is not supported by this exporter; serving "
                                        "HTTP/1.1 (clients fall back automatically)");
         return true;
       }},
      {"headers",
       [&out](const YAML::Node& v, const std::string& key, std::string& err) {
         if (!v || v.IsNull()) return true;
         if (!v.IsMap()) {
           err = key + " must be a mapping of header names to values" + at_line(v);
           return false;
         }
         std::set<std::string> seen;
         for (auto it = v.begin(); it != v.end(); ++it) {
           if (!it->first.IsScalar()) {
             err = "header names in " + key + " must be strings" + at_line(it->first);
             return false;
           }
           const std::string name = it->first.Scalar();
           const auto& allowed = allowed_headers();
           auto h = std::find_if(allowed.begin(), allowed.end(),
                                 [&](const AllowedHeader& a) { return iequals(a.name, name); });
           if (h == allowed.end()) {
             std::vector<std::string> names;
             for (const auto& a : allowed) names.emplace_back(a.name);
             err = key + ": header " + quote(name) + " can not be configured" +
                   at_line(it->first) + " (allowed: " + join(names, ", ") + ")";
             return false;
           }
           const std::string full = key + "." + std::string(h->name);
           if (!seen.insert(lower(name)).second) {
             err = "duplicate header " + quote(full) + at_line(it->first) + ": keep only one";
             return false;
           }
           std::string value;
           if (!get_string(it->second, full, value, err)) return false;
           for (unsigned char c : value) {
             if ((c < 0x20 && c != '\t') || c == 0x7f) {
               err = full + " contains a control character" + at_line(it->second) +
                     ": header values must be a single line";
               return false;
             }
           }
           if (value.empty()) continue;  // "unset if blank"
           if (!h->values.empty() &&
               std::none_of(h->values.begin(), h->values.end(),
                            [&](std::string_view a) { return iequals(a, value); })) {
             std::vector<std::string> vals(h->values.begin(), h->values.end());
             err = full + ": invalid value " + quote(value) + at_line(it->second) +
                   " (expected one of: " + join(vals, ", ") + ")";
             return false;
           }
           out.headers.emplace_back(std::string(h->name), value);
         }
         return true;
       }},
  };
  return walk_map(node, "http_server_config", specs, error);
}

bool parse_users(const YAML::Node& node, WebConfig& out, std::string& error) {
  const std::string key = "basic_auth_users";
  if (!node || node.IsNull()) return true;
  if (!node.IsMap()) {
    error = key + " must be a mapping of user names to bcrypt hashes" + at_line(node);
    return false;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      error = "user names in " + key + " must be strings" + at_line(it->first);
      return false;
    }
    const std::string user = it->first.Scalar();
    const std::string full = key + "." + key_part(user);
    if (user.find(':') != std::string::npos) {
      error = key + ": user name " + quote(user) + at_line(it->first) +
              " contains ':', which basic auth cannot carry: rename the user";
      return false;
    }
    std::string hash;
    if (!it->second.IsScalar()) {
      error = full + " must be a bcrypt hash string" + at_line(it->second) + "; " + kHtpasswdHint;
      return false;
    }
    hash = it->second.Scalar();
    std::string why;
    // The value is never echoed: it may be a plain-text password put there by mistake.
    if (!is_bcrypt_hash(hash, &why)) {
      error = full + " is not a bcrypt hash" + at_line(it->second) + " (" + why + "); " +
              kHtpasswdHint;
      return false;
    }
    if (!out.basic_auth_users.emplace(user, hash).second) {
      error = "duplicate user " + quote(full) + at_line(it->first) + ": keep only one";
      return false;
    }
  }
  return true;
}

bool parse_rate_limit(const YAML::Node& node, WebConfig& out, std::string& error) {
  bool have_burst = false;
  std::vector<KeySpec> specs{
      {"interval",
       [&out](const YAML::Node& v, const std::string& key, std::string& err) {
         std::string s;
         if (get_string(v, key, s, err) && !s.empty() &&
             parse_go_duration(s, out.rate_limit_interval_ns))
           return true;
         err = key + " must be a duration such as 100ms, 1s or 1m" + at_line(v) +
               " (0 disables the rate limit)";
         return false;
       }},
      {"burst",
       [&out, &have_burst](const YAML::Node& v, const std::string& key, std::string& err) {
         int b = 0;
         if (v && v.IsScalar() && YAML::convert<int>::decode(v, b) && b >= 0) {
           out.rate_limit_burst = b;
           have_burst = true;
           return true;
         }
         err = key + " must be a whole number of requests, 0 or more" + at_line(v);
         return false;
       }},
  };
  if (!walk_map(node, "rate_limit", specs, error)) return false;
  if (out.rate_limit_interval_ns > 0 && out.rate_limit_burst < 1) {
    error = std::string("rate_limit.burst must be at least 1 when rate_limit.interval is set") +
            (have_burst ? "" : " (it is missing)") + ": with 0 every request would be refused";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- OpenSSL

std::string openssl_reason() {
  unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e) {
    const char* r = ERR_reason_error_string(e);
    out = r ? r : "error " + std::to_string(e);
  }
  ERR_clear_error();
  return out.empty() ? "unknown OpenSSL error" : out;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

int no_password(char*, int, int, void*) { return -1; }  // never prompt on the terminal

// The PEM text of a file or inline setting; `name` is how errors refer to it.
bool pem_source(const std::string& file, const std::string& inline_pem, const std::string& key,
                std::string& pem, std::string& name, std::string& error) {
  if (!file.empty()) {
    name = "tls_server_config." + key + "_file (" + file + ")";
    std::string why;
    if (!read_file(file, kMaxPemBytes, pem, why)) {
      error = "tls_server_config." + key + "_file: " + why;
      return false;
    }
  } else {
    name = "tls_server_config." + key;
    pem = inline_pem;
  }
  return true;
}

std::vector<X509Ptr> read_certs(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr))
    certs.emplace_back(x);
  ERR_clear_error();  // the loop always ends on "no start line"
  return certs;
}

int san_ex_index() {
  static int index = CRYPTO_get_ex_new_index(
      CRYPTO_EX_INDEX_SSL_CTX, 0, nullptr, nullptr, nullptr,
      [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::vector<std::string>*>(ptr);
      });
  return index;
}

bool san_allowed(X509* cert, const std::vector<std::string>& allowed) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return false;
  bool ok = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !ok; ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    std::string value;
    if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) {
      const ASN1_IA5STRING* s = g->d.ia5;
      value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                   static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = g->d.ip;
      char buf[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(s);
      if ((len == 4 && inet_ntop(AF_INET, ASN1_STRING_get0_data(s), buf, sizeof(buf))) ||
          (len == 16 && inet_ntop(AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof(buf))))
        value = buf;
    }
    if (!value.empty() && std::find(allowed.begin(), allowed.end(), value) != allowed.end())
      ok = true;
  }
  GENERAL_NAMES_free(names);
  return ok;
}

// Client certificate checks beyond OpenSSL's chain verification: the "any certificate" modes
// accept an unverifiable chain, and client_allowed_sans filters the leaf.
template <bool kVerifyChain>
int verify_client(int preverify_ok, X509_STORE_CTX* store) {
  if (kVerifyChain && !preverify_ok) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (!ssl) return kVerifyChain ? preverify_ok : 1;
  auto* sans = static_cast<const std::vector<std::string>*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), san_ex_index()));
  if (!sans || sans->empty()) return 1;
  if (san_allowed(X509_STORE_CTX_get_current_cert(store), *sans)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

struct ServerCert {
  X509Ptr leaf;
  PkeyPtr key;
  ChainPtr chain;
};

// The server certificate (with any intermediates after it) and its key, checked to match.
bool load_server_cert(const TlsServerConfig& t, ServerCert& out, std::string& error) {
  std::string pem, name;
  if (!pem_source(t.cert_file, t.cert, "cert", pem, name, error)) return false;
  std::vector<X509Ptr> certs = read_certs(pem);
  if (certs.empty()) {
    error = name + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----): point it "
                   "at the server certificate";
    return false;
  }
  if (!pem_source(t.key_file, t.key, "key", pem, name, error)) return false;
  PkeyPtr key;
  {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  }
  if (!key) {
    const bool encrypted = pem.find("ENCRYPTED") != std::string::npos;
    const std::string reason = openssl_reason();
    error = encrypted ? name + " is an encrypted private key: decrypt it (openssl pkey -in KEY "
                               "-out KEY.plain) and point key_file at the result"
                      : name + " holds no readable PEM private key (" + reason +
                            "): point it at the key of cert_file";
    return false;
  }
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    ERR_clear_error();
    error = name + " does not match the certificate's public key: use the key the certificate "
                   "was issued for";
    return false;
  }
  ChainPtr chain(sk_X509_new_null());
  for (std::size_t i = 1; i < certs.size(); ++i) {
    X509_up_ref(certs[i].get());
    sk_X509_push(chain.get(), certs[i].get());
  }
  out.leaf = std::move(certs.front());
  out.key = std::move(key);
  out.chain = std::move(chain);
  return true;
}

// Identity of a file's current contents, for the reloader: (device, inode, size, mtime).
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileId&) const = default;
};

FileId file_id(const std::string& path) {
  struct stat st {};
  FileId id;
  if (::stat(path.c_str(), &st) == 0) {
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    id.size = st.st_size;
    id.mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  return id;
}

struct CertReloader {
  TlsServerConfig tls;
  std::mutex mutex;
  ServerCert current;
  FileId cert_id, key_id;
  std::function<void(bool warning, const std::string&)> warn;
};

int reloader_ex_index() {
  static int index = CRYPTO_get_ex_new_index(
      CRYPTO_EX_INDEX_SSL_CTX, 0, nullptr, nullptr, nullptr,
      [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<CertReloader*>(ptr);
      });
  return index;
}

// SSL_CTX_set_cert_cb: before each handshake, reload cert_file/key_file if either changed (a
// bad or half-written pair keeps the previous one, with one warning per change).
int reload_cert(SSL* ssl, void* arg) {
  auto* r = static_cast<CertReloader*>(arg);
  std::lock_guard lock(r->mutex);
  const FileId cert_id = file_id(r->tls.cert_file), key_id = file_id(r->tls.key_file);
  if (!(cert_id == r->cert_id) || !(key_id == r->key_id)) {
    r->cert_id = cert_id;
    r->key_id = key_id;
    ServerCert fresh;
    std::string error;
    if (load_server_cert(r->tls, fresh, error)) {
      r->current = std::move(fresh);
      if (r->warn) r->warn(false, "reloaded the TLS certificate from " + r->tls.cert_file);
    } else if (r->warn) {
      r->warn(true, "keeping the previous TLS certificate: " + printable_line(error));
    }
    ERR_clear_error();
  }
  return SSL_use_cert_and_key(ssl, r->current.leaf.get(), r->current.key.get(),
                              r->current.chain.get(), 1) == 1
             ? 1
             : 0;
}

}  // namespace

bool TlsServerConfig::enabled() const {
  return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty() || !cert.empty() ||
         !key.empty() || !client_ca.empty() || client_auth_type != ClientAuthType::no_client_cert;
}

RequestRateLimiter::RequestRateLimiter(std::int64_t interval_ns, int burst)
    : interval_ns_(interval_ns), burst_(burst), tokens_(burst) {}

bool RequestRateLimiter::allow(std::int64_t now_ns) {
  if (now_ns < 0)
    now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  std::lock_guard lock(mutex_);
  if (interval_ns_ <= 0) return true;
  if (last_ns_ >= 0 && now_ns > last_ns_)
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) /
                                             static_cast<double>(interval_ns_));
  if (last_ns_ < 0 || now_ns > last_ns_) last_ns_ = now_ns;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool parse_go_duration(std::string_view text, std::int64_t& ns) {
  if (text == "0") {
    ns = 0;
    return true;
  }
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  struct Unit {
    std::string_view name;
    long double ns;
  };
  static constexpr std::array<Unit, 8> kUnits{{{"ns", 1},
                                               {"us", 1e3},
                                               {"\xc2\xb5s", 1e3},  // micro sign
                                               {"\xce\xbcs", 1e3},  // Greek mu
                                               {"ms", 1e6},
                                               {"s", 1e9},
                                               {"m", 60e9},
                                               {"h", 3600e9}}};
  long double total = 0;
  while (!text.empty()) {
    long double value = 0;
    bool digits = false;
    while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
      value = value * 10 + (text.front() - '0');
      digits = true;
      text.remove_prefix(1);
    }
    if (!text.empty() && text.front() == '.') {
      text.remove_prefix(1);
      long double scale = 0.1L;
      while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
        value += (text.front() - '0') * scale;
        scale /= 10;
        digits = true;
        text.remove_prefix(1);
      }
    }
    if (!digits) return false;
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      // Longest match: "ms" before "m", "ns" before... (no unit is a prefix of a longer one
      // except "m" of "ms").
      if (text.substr(0, u.name.size()) == u.name &&
          (!unit || u.name.size() > unit->name.size()))
        unit = &u;
    }
    if (!unit) return false;
    text.remove_prefix(unit->name.size());
    total += value * unit->ns;
    if (total > static_cast<long double>(INT64_MAX)) return false;
  }
  ns = static_cast<std::int64_t>(total);
  return true;
}

namespace {

bool parse_web_config_impl(std::string_view yaml, const std::string& base_dir, WebConfig& out,
                           std::string& error) {
  out = WebConfig{};
  if (yaml.size() > kMaxConfigBytes) {
    error = "the file is larger than 1 MiB: is it the right file?";
    return false;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    error = "invalid YAML";
    if (!e.mark.is_null()) error += " at line " + std::to_string(e.mark.line + 1) + ", column " +
                                    std::to_string(e.mark.column + 1);
    error += ": " + printable_line(e.msg);
    return false;
  } catch (const std::exception& e) {
    error = "invalid YAML: " + printable_line(e.what());
    return false;
  }
  try {
    std::vector<KeySpec> specs{
        {"tls_server_config",
         [&](const YAML::Node& v, const std::string&, std::string& err) {
           return parse_tls(v, base_dir, out, err);
         }},
        {"http_server_config",
         [&](const YAML::Node& v, const std::string&, std::string& err) {
           return parse_http(v, out, err);
         }},
        {"basic_auth_users",
         [&](const YAML::Node& v, const std::string&, std::string& err) {
           return parse_users(v, out, err);
         }},
        {"rate_limit",
         [&](const YAML::Node& v, const std::string&, std::string& err) {
           return parse_rate_limit(v, out, err);
         }},
    };
    if (!root.IsNull() && root.IsScalar() && root.Scalar().empty()) return true;
    if (!walk_map(root, "", specs, error)) return false;
  } catch (const YAML::Exception& e) {
    error = "invalid web config: " + printable_line(e.msg);
    return false;
  }
  if (out.auth_enabled() && !out.tls_enabled())
    out.warnings.push_back(
        "basic_auth_users without tls_server_config: passwords cross the network in clear text; "
        "add tls_server_config.cert_file and key_file");
  return true;
}

bool configure_ssl_ctx_impl(SSL_CTX* ctx, const TlsServerConfig& t, std::string& error,
                            std::function<void(bool warning, const std::string&)> warn) {
  ERR_clear_error();
  const std::string p = "tls_server_config.";
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (t.prefer_server_cipher_suites)
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  else
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_min_proto_version(ctx, t.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, t.max_version) != 1) {
    error = p + "min_version/max_version: OpenSSL refused the range (" + openssl_reason() + ")";
    return false;
  }
  if (!t.cipher_suites.empty() &&
      SSL_CTX_set_cipher_list(ctx, join(t.cipher_suites, ":").c_str()) != 1) {
    error = p + "cipher_suites: none of the listed suites is available in this OpenSSL (" +
            openssl_reason() + "): list other suites or remove cipher_suites";
    return false;
  }
  if (!t.curve_preferences.empty() &&
      SSL_CTX_set1_groups_list(ctx, join(t.curve_preferences, ":").c_str()) != 1) {
    error = p + "curve_preferences: OpenSSL refused the list (" + openssl_reason() + ")";
    return false;
  }

  ServerCert sc;
  if (!load_server_cert(t, sc, error)) return false;
  if (SSL_CTX_use_cert_and_key(ctx, sc.leaf.get(), sc.key.get(), sc.chain.get(), 1) != 1) {
    error = p + "cert_file/key_file: OpenSSL refused the certificate (" + openssl_reason() +
            "): a stronger key or signature may be needed";
    return false;
  }
  if (!t.cert_file.empty() && !t.key_file.empty()) {
    // Renewed certificates (cert-manager, certbot, a Kubernetes secret update) are picked up at
    // the next handshake, as exporter-toolkit does, without a restart.
    auto* reloader = new CertReloader;
    reloader->tls = t;
    reloader->current = std::move(sc);
    reloader->cert_id = file_id(t.cert_file);
    reloader->key_id = file_id(t.key_file);
    reloader->warn = std::move(warn);
    if (SSL_CTX_set_ex_data(ctx, reloader_ex_index(), reloader) != 1) {
      delete reloader;
      error = p + "cert_file: cannot attach the certificate reloader to the TLS context";
      return false;
    }
    SSL_CTX_set_cert_cb(ctx, reload_cert, reloader);
  }
  std::string pem, name;

  // Client certificates.
  const bool has_ca = !t.client_ca_file.empty() || !t.client_ca.empty();
  if (has_ca) {
    if (!pem_source(t.client_ca_file, t.client_ca, "client_ca", pem, name, error)) return false;
    std::vector<X509Ptr> cas = read_certs(pem);
    if (cas.empty()) {
      error = name + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----): point it "
                     "at the CA that signs client certificates";
      return false;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (auto& ca : cas) {
      X509_STORE_add_cert(store, ca.get());  // duplicates are fine
      SSL_CTX_add_client_CA(ctx, ca.get());
    }
    ERR_clear_error();
  }
  if (!t.client_allowed_sans.empty()) {
    auto* sans = new std::vector<std::string>(t.client_allowed_sans);
    auto* old = static_cast<std::vector<std::string>*>(SSL_CTX_get_ex_data(ctx, san_ex_index()));
    if (SSL_CTX_set_ex_data(ctx, san_ex_index(), sans) != 1) {
      delete sans;
      error = p + "client_allowed_sans: cannot attach to the TLS context";
      return false;
    }
    delete old;
  }
  switch (t.client_auth_type) {
    case ClientAuthType::no_client_cert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuthType::request_client_cert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_client<false>);
      break;
    case ClientAuthType::require_any_client_cert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         verify_client<false>);
      break;
    case ClientAuthType::verify_client_cert_if_given:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_client<true>);
      break;
    case ClientAuthType::require_and_verify_client_cert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         verify_client<true>);
      break;
  }
  static const unsigned char kSessionContext[] = "io_uring_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  return true;
}

bool load_web_config_impl(const std::string& path, WebConfig& out, std::string& error) {
  const std::string prefix = "--web.config.file=" + path + ": ";
  std::string text, why;
  if (!read_file(path, kMaxConfigBytes, text, why)) {
    // read_file's hint talks about the config directory; for the file itself, the flag matters.
    if (auto pos = why.find(" (check the path"); pos != std::string::npos)
      why = why.substr(0, pos) + " (check the --web.config.file path)";
    error = "--web.config.file: " + why;
    return false;
  }
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  const std::string base_dir = ec ? std::filesystem::path(path).parent_path().string()
                                  : abs.lexically_normal().parent_path().string();
  if (!parse_web_config_impl(text, base_dir, out, error)) {
    error = prefix + error;
    return false;
  }
  out.path = path;
  if (out.tls_enabled()) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
      error = prefix + "cannot create a TLS context (" + openssl_reason() + ")";
      return false;
    }
    const bool ok = configure_ssl_ctx_impl(ctx, out.tls, error, {});
    SSL_CTX_free(ctx);
    if (!ok) {
      error = prefix + error;
      return false;
    }
  }
  return true;
}

}  // namespace

// Every error leaves here as one printable line, whatever bytes the file or paths held.
bool parse_web_config(std::string_view yaml, const std::string& base_dir, WebConfig& out,
                      std::string& error) {
  const bool ok = parse_web_config_impl(yaml, base_dir, out, error);
  if (!ok) error = printable_line(error);
  return ok;
}

bool configure_ssl_ctx(SSL_CTX* ctx, const TlsServerConfig& tls, std::string& error,
                       std::function<void(bool warning, const std::string&)> log) {
  const bool ok = configure_ssl_ctx_impl(ctx, tls, error, std::move(log));
  if (!ok) error = printable_line(error);
  return ok;
}

bool load_web_config(const std::string& path, WebConfig& out, std::string& error) {
  const bool ok = load_web_config_impl(path, out, error);
  if (!ok) error = printable_line(error);
  return ok;
}

}  // namespace iouring
