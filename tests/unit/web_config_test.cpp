// --web.config.file: parser, file checks, bcrypt verification and its cache, and the HTTP server
// with TLS + basic auth in-process (no root, no BPF).
#include "web_config.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "basic_auth.h"
#include "config.h"
#include "http_server.h"
#include "support/exporter_process.h"

namespace iouring {
namespace {

namespace fs = std::filesystem;

// "fakepassword" hashed by htpasswd -nBC 10 (the decoy hash of the Prometheus exporter-toolkit).
constexpr const char* kHtpasswdHash =
    "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

// ---------------------------------------------------------------- fixtures

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/iou_webcfg_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key new_key() { return Key(EVP_EC_gen("P-256")); }

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key`, signed by (issuer, issuer_key), or self-signed when issuer is null.
Cert new_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
              const char* san = nullptr, const char* eku = nullptr) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (san) add_ext(cert.get(), signer, NID_subject_alt_name, san);
  if (eku) add_ext(cert.get(), signer, NID_ext_key_usage, eku);
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem(EVP_PKEY* key, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (passphrase)
    PEM_write_bio_PrivateKey(bio, key, EVP_aes_256_cbc(),
                             reinterpret_cast<const unsigned char*>(passphrase),
                             static_cast<int>(std::strlen(passphrase)), nullptr, nullptr);
  else
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

// A CA, a server certificate (localhost, 127.0.0.1) and a client certificate, as PEM files.
struct Pki {
  TempDir dir;
  Key ca_key = new_key(), server_key = new_key(), client_key = new_key(), other_key = new_key();
  Cert ca = new_cert(ca_key.get(), "test CA", nullptr, nullptr, true);
  Cert server = new_cert(server_key.get(), "localhost", ca.get(), ca_key.get(), false,
                         "DNS:localhost,IP:127.0.0.1", "serverAuth");
  Cert client = new_cert(client_key.get(), "scraper", ca.get(), ca_key.get(), false,
                         "DNS:prometheus.example,URI:spiffe://cluster/prometheus", "clientAuth");
  std::string ca_file = dir.write("certs/ca.pem", pem(ca.get()));
  std::string cert_file = dir.write("certs/server.pem", pem(server.get()));
  std::string key_file = dir.write("certs/server.key", pem(server_key.get()));
  std::string client_cert_file = dir.write("certs/client.pem", pem(client.get()));
  std::string client_key_file = dir.write("certs/client.key", pem(client_key.get()));
};

bool parse(const std::string& yaml, WebConfig& out, std::string& error,
           const std::string& base = "/etc/exporter") {
  return parse_web_config(yaml, base, out, error);
}

// The error for `yaml`, which must be rejected with a single line.
std::string parse_error(const std::string& yaml) {
  WebConfig cfg;
  std::string error;
  EXPECT_FALSE(parse(yaml, cfg, error)) << yaml;
  EXPECT_FALSE(error.empty()) << yaml;
  for (unsigned char c : error) EXPECT_GE(c, 0x20) << error;  // one printable line
  return error;
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

// ---------------------------------------------------------------- parsing

TEST(WebConfigParse, EmptyFileMeansNoTlsNoAuth) {
  for (const char* yaml : {"", "\n", "# only a comment\n", "---\n", "{}"}) {
    WebConfig cfg;
    std::string error;
    ASSERT_TRUE(parse(yaml, cfg, error)) << yaml << ": " << error;
    EXPECT_FALSE(cfg.tls_enabled());
    EXPECT_FALSE(cfg.auth_enabled());
    EXPECT_FALSE(cfg.rate_limited());
    EXPECT_TRUE(cfg.headers.empty());
  }
}

TEST(WebConfigParse, FullConfigAndDefaults) {
  const std::string yaml = std::string(R"(
tls_server_config:
  cert_file: server.pem
  key_file: /abs/server.key
  client_ca_file: ../ca/ca.pem
  client_auth_type: RequireAndVerifyClientCert
  client_allowed_sans: [prometheus.example, "spiffe://cluster/prometheus"]
  min_version: TLS13
  cipher_suites:
    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: sameorigin
    x-content-type-options: nosniff
    Strict-Transport-Security: max-age=31536000; includeSubDomains
    Content-Security-Policy: ""
basic_auth_users:
  alice: ')") + kHtpasswdHash + R"('
  bob@example: )" + kHtpasswdHash + R"(
rate_limit:
  interval: 100ms
  burst: 20
)";
  WebConfig cfg;
  std::string error;
  ASSERT_TRUE(parse(yaml, cfg, error, "/etc/exporter/web")) << error;
  const TlsServerConfig& t = cfg.tls;
  EXPECT_TRUE(cfg.tls_enabled());
  EXPECT_EQ(t.cert_file, "/etc/exporter/web/server.pem");  // relative: the config's directory
  EXPECT_EQ(t.key_file, "/abs/server.key");                // absolute: as is
  EXPECT_EQ(t.client_ca_file, "/etc/exporter/ca/ca.pem");   // normalised
  EXPECT_EQ(t.client_auth_type, ClientAuthType::require_and_verify_client_cert);
  EXPECT_EQ(t.client_allowed_sans,
            (std::vector<std::string>{"prometheus.example", "spiffe://cluster/prometheus"}));
  EXPECT_EQ(t.min_version, kTls13);
  EXPECT_EQ(t.max_version, kTls13);  // default
  EXPECT_EQ(t.cipher_suites,
            (std::vector<std::string>{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"}));
  EXPECT_FALSE(t.prefer_server_cipher_suites);
  EXPECT_EQ(t.curve_preferences, (std::vector<std::string>{"X25519", "P-256"}));
  EXPECT_FALSE(cfg.http2);
  // Canonical names, blank values dropped ("unset if blank").
  EXPECT_EQ(cfg.headers, (std::vector<std::pair<std::string, std::string>>{
                             {"X-Frame-Options", "sameorigin"},
                             {"X-Content-Type-Options", "nosniff"},
                             {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}}));
  EXPECT_EQ(cfg.basic_auth_users.size(), 2u);
  EXPECT_EQ(cfg.basic_auth_users.at("bob@example"), kHtpasswdHash);
  EXPECT_EQ(cfg.rate_limit_interval_ns, 100'000'000);
  EXPECT_EQ(cfg.rate_limit_burst, 20);
  EXPECT_TRUE(cfg.warnings.empty()) << cfg.warnings.front();
}

TEST(WebConfigParse, DefaultTlsSettings) {
  WebConfig cfg;
  std::string error;
  ASSERT_TRUE(parse("tls_server_config:\n  cert: inline\n  key: inline\n", cfg, error)) << error;
  EXPECT_EQ(cfg.tls.min_version, kTls12);
  EXPECT_EQ(cfg.tls.max_version, kTls13);
  EXPECT_TRUE(cfg.tls.prefer_server_cipher_suites);
  EXPECT_EQ(cfg.tls.client_auth_type, ClientAuthType::no_client_cert);
  EXPECT_EQ(cfg.tls.cert, "inline");
  EXPECT_TRUE(cfg.tls.cert_file.empty());
  EXPECT_TRUE(cfg.http2);
}

TEST(WebConfigParse, RelativePathsWithoutBaseStayRelative) {
  WebConfig cfg;
  std::string error;
  ASSERT_TRUE(parse("tls_server_config: {cert_file: a/c.pem, key_file: ./k.pem}", cfg, error, ""))
      << error;
  EXPECT_EQ(cfg.tls.cert_file, "a/c.pem");
  EXPECT_EQ(cfg.tls.key_file, "./k.pem");
}

TEST(WebConfigParse, ClientAuthTypes) {
  const std::pair<const char*, ClientAuthType> cases[] = {
      {"NoClientCert", ClientAuthType::no_client_cert},
      {"RequestClientCert", ClientAuthType::request_client_cert},
      {"RequireAnyClientCert", ClientAuthType::require_any_client_cert},
      {"RequireClientCert", ClientAuthType::require_any_client_cert},
      {"VerifyClientCertIfGiven", ClientAuthType::verify_client_cert_if_given},
      {"RequireAndVerifyClientCert", ClientAuthType::require_and_verify_client_cert},
  };
  for (const auto& [name, type] : cases) {
    const bool needs_ca = type == ClientAuthType::verify_client_cert_if_given ||
                          type == ClientAuthType::require_and_verify_client_cert;
    const bool allows_ca = type != ClientAuthType::no_client_cert;
    std::string yaml = std::string("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                                   "  client_auth_type: ") + name + "\n" +
                       (needs_ca || allows_ca ? "  client_ca_file: ca\n" : "");
    WebConfig cfg;
    std::string error;
    ASSERT_TRUE(parse(yaml, cfg, error)) << name << ": " << error;
    EXPECT_EQ(cfg.tls.client_auth_type, type) << name;
  }
}

TEST(WebConfigParse, WarningsForAcceptedButIneffectiveSettings) {
  WebConfig cfg;
  std::string error;
  ASSERT_TRUE(parse(R"(
tls_server_config:
  cert_file: c
  key_file: k
  min_version: TLS10
  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
http_server_config:
  http2: true
)",
                    cfg, error))
      << error;
  ASSERT_EQ(cfg.warnings.size(), 3u);
  EXPECT_HAS(cfg.warnings[0], "TLS_AES_128_GCM_SHA256 ignored: TLS 1.3 suites");
  EXPECT_HAS(cfg.warnings[1], "min_version TLS10");
  EXPECT_HAS(cfg.warnings[2], "http2");
  EXPECT_EQ(cfg.tls.cipher_suites, std::vector<std::string>{"ECDHE-RSA-AES128-GCM-SHA256"});

  WebConfig plain;
  ASSERT_TRUE(parse(std::string("basic_auth_users: {u: '") + kHtpasswdHash + "'}", plain, error));
  ASSERT_EQ(plain.warnings.size(), 1u);
  EXPECT_HAS(plain.warnings[0], "clear text");
}

TEST(WebConfigParse, SyntaxErrorsNameTheLine) {
  EXPECT_HAS(parse_error("tls_server_config:\n  cert_file: [unclosed\n"), "invalid YAML at line");
  EXPECT_HAS(parse_error("a: b\n\tc: d\n"), "invalid YAML");
  EXPECT_HAS(parse_error("- just\n- a list\n"), "the top level of the file must be a mapping");
  EXPECT_HAS(parse_error("plain scalar"), "must be a mapping");
  // yaml-cpp quotes the offending raw byte; it is escaped (found by the fuzzer).
  EXPECT_HAS(parse_error("x: \"\\\r\"\n"), "unknown escape character: \\x0d");
}

TEST(WebConfigParse, UnknownKeysAreRejectedWithSuggestions) {
  std::string e = parse_error("tls_server_config:\n  cert_fil: x\n");
  EXPECT_HAS(e, "unknown key \"tls_server_config.cert_fil\" (line 2)");
  EXPECT_HAS(e, "did you mean \"cert_file\"?");
  EXPECT_HAS(e, "valid keys in tls_server_config: cert_file, key_file");

  e = parse_error("tls_config:\n  cert_file: x\n");
  EXPECT_HAS(e, "unknown key \"tls_config\" (line 1)");
  EXPECT_HAS(e, "valid keys: tls_server_config, http_server_config, basic_auth_users, rate_limit");

  EXPECT_HAS(parse_error("http_server_config: {http3: true}"),
             "unknown key \"http_server_config.http3\"");
  EXPECT_HAS(parse_error("rate_limit: {interval: 1s, burst: 1, jitter: 1}"),
             "unknown key \"rate_limit.jitter\"");
  // Far from every valid key: no suggestion.
  EXPECT_EQ(parse_error("zzzzzzzzzzzz: 1").find("did you mean"), std::string::npos);
}

TEST(WebConfigParse, DuplicateKeys) {
  EXPECT_HAS(parse_error("tls_server_config:\n  cert_file: a\n  cert_file: b\n  key_file: k\n"),
             "duplicate key \"tls_server_config.cert_file\" (line 3): keep only one");
  EXPECT_HAS(parse_error("http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                         "    x-frame-options: deny\n"),
             "duplicate header");
}

TEST(WebConfigParse, WrongTypes) {
  EXPECT_HAS(parse_error("tls_server_config: [a, b]"),
             "\"tls_server_config\" must be a mapping of keys to values (line 1)");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: [a], key_file: k}"),
             "tls_server_config.cert_file must be a string");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, client_allowed_sans: a}"),
             "tls_server_config.client_allowed_sans must be a list of strings");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, "
                         "prefer_server_cipher_suites: maybe}"),
             "tls_server_config.prefer_server_cipher_suites must be true or false");
  EXPECT_HAS(parse_error("http_server_config: {headers: [a]}"),
             "http_server_config.headers must be a mapping");
  EXPECT_HAS(parse_error("basic_auth_users: [alice]"), "basic_auth_users must be a mapping");
  EXPECT_HAS(parse_error("basic_auth_users: {alice: [x]}"),
             "basic_auth_users.alice must be a bcrypt hash string");
  EXPECT_HAS(parse_error("{[1, 2]: x}"), "keys in the top level of the file must be strings");
}

TEST(WebConfigParse, TlsVersions) {
  for (const char* v : {"TLS10", "TLS11", "TLS12", "TLS13"}) {
    WebConfig cfg;
    std::string error;
    EXPECT_TRUE(parse(std::string("tls_server_config: {cert_file: c, key_file: k, min_version: ") +
                          v + "}",
                      cfg, error))
        << v << ": " << error;
  }
  std::string e = parse_error("tls_server_config: {cert_file: c, key_file: k, min_version: TLS14}");
  EXPECT_HAS(e, "tls_server_config.min_version: \"TLS14\" is not a TLS version (line 1)");
  EXPECT_HAS(e, "use TLS10, TLS11, TLS12 or TLS13");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, min_version: '1.3'}"),
             "tls_server_config.min_version: \"1.3\" is not a TLS version");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, max_version: tls13}"),
             "tls_server_config.max_version: \"tls13\" is not a TLS version");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, min_version: TLS13, "
                         "max_version: TLS12}"),
             "tls_server_config.min_version (TLS13) is above max_version (TLS12): lower "
             "min_version or raise max_version");
}

TEST(WebConfigParse, TlsConsistency) {
  EXPECT_HAS(parse_error("tls_server_config: {key_file: k}"),
             "tls_server_config.cert_file is missing: set it to the server certificate");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c}"),
             "tls_server_config.key_file is missing");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, cert: x, key_file: k}"),
             "tls_server_config.cert_file and tls_server_config.cert are both set: keep only one");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, client_ca_file: ca}"),
             "tls_server_config.client_ca_file is set but client_auth_type is NoClientCert: set "
             "tls_server_config.client_auth_type to RequireAndVerifyClientCert");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, "
                         "client_auth_type: RequireAndVerifyClientCert}"),
             "client_auth_type RequireAndVerifyClientCert needs a CA to verify client "
             "certificates with: set tls_server_config.client_ca_file");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, client_ca_file: ca, "
                         "client_auth_type: VerifyClientCertIfGiven, client_allowed_sans: [a]}"),
             "client_allowed_sans needs tls_server_config.client_auth_type "
             "RequireAndVerifyClientCert");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, "
                         "client_auth_type: Sometimes}"),
             "tls_server_config.client_auth_type: \"Sometimes\" is not a client auth type");
  // TLS tuning without a certificate would silently serve plain HTTP: refused.
  EXPECT_HAS(parse_error("tls_server_config: {min_version: TLS13}"),
             "tls_server_config.min_version is set but TLS is off: add "
             "tls_server_config.cert_file and tls_server_config.key_file");
  EXPECT_HAS(parse_error("tls_server_config:\n  cipher_suites: [TLS_NOPE]\n  cert_file: c\n"
                         "  key_file: k\n"),
             "tls_server_config.cipher_suites: unknown cipher suite \"TLS_NOPE\"");
  EXPECT_HAS(parse_error("tls_server_config: {cert_file: c, key_file: k, "
                         "curve_preferences: [CurveP999]}"),
             "tls_server_config.curve_preferences: unknown curve \"CurveP999\"");
}

TEST(WebConfigParse, Headers) {
  std::string e = parse_error("http_server_config: {headers: {Server: nginx}}");
  EXPECT_HAS(e, "http_server_config.headers: header \"Server\" can not be configured");
  EXPECT_HAS(e, "allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options");
  EXPECT_HAS(parse_error("http_server_config: {headers: {X-Frame-Options: allow}}"),
             "http_server_config.headers.X-Frame-Options: invalid value \"allow\" (line 1) "
             "(expected one of: deny, sameorigin)");
  EXPECT_HAS(parse_error("http_server_config: {headers: {X-Content-Type-Options: sniff}}"),
             "expected one of: nosniff");
  EXPECT_HAS(parse_error("http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\n"
                         "Set-Cookie: x\"\n"),
             "http_server_config.headers.Content-Security-Policy contains a control character");
}

TEST(WebConfigParse, BasicAuthUsers) {
  // Each message names the user, says what is wrong and how to make a hash, and never echoes
  // the value (it may be a plain-text password).
  std::string e = parse_error("basic_auth_users:\n  alice: hunter2\n");
  EXPECT_HAS(e, "basic_auth_users.alice is not a bcrypt hash (line 2)");
  EXPECT_HAS(e, "htpasswd -nBC 10");
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  EXPECT_HAS(parse_error("basic_auth_users: {alice: '$1$abc$defghijklmnopqrstuvwx'}"),
             "does not start with $2y$, $2b$ or $2a$");
  EXPECT_HAS(parse_error("basic_auth_users: {alice: '$2y$10$short'}"), "exactly 60 characters");
  EXPECT_HAS(parse_error("basic_auth_users: {\"a:b\": x}"),
             "basic_auth_users: user name \"a:b\" (line 1) contains ':'");
  EXPECT_HAS(parse_error("basic_auth_users: {\"new\\nline\": x}"),
             "basic_auth_users.\"new\\x0aline\" is not a bcrypt hash");
}

TEST(WebConfigParse, RateLimit) {
  EXPECT_HAS(parse_error("rate_limit: {interval: 1s}"),
             "rate_limit.burst must be at least 1 when rate_limit.interval is set (it is missing)");
  EXPECT_HAS(parse_error("rate_limit: {interval: soon, burst: 1}"),
             "rate_limit.interval must be a duration such as 100ms, 1s or 1m");
  EXPECT_HAS(parse_error("rate_limit: {interval: 1s, burst: -1}"),
             "rate_limit.burst must be a whole number of requests");
  WebConfig cfg;
  std::string error;
  ASSERT_TRUE(parse("rate_limit: {interval: 0, burst: 0}", cfg, error)) << error;
  EXPECT_FALSE(cfg.rate_limited());
}

TEST(WebConfigParse, GoDurations) {
  std::int64_t ns = -1;
  EXPECT_TRUE(parse_go_duration("0", ns));
  EXPECT_EQ(ns, 0);
  EXPECT_TRUE(parse_go_duration("1m30s", ns));
  EXPECT_EQ(ns, 90'000'000'000);
  EXPECT_TRUE(parse_go_duration("1.5h", ns));
  EXPECT_EQ(ns, 5'400'000'000'000);
  EXPECT_TRUE(parse_go_duration("250ms", ns));
  EXPECT_EQ(ns, 250'000'000);
  EXPECT_TRUE(parse_go_duration("10us", ns));
  EXPECT_EQ(ns, 10'000);
  for (const char* bad : {"", "1", "s", "-1s", "1x", "1s2", "9999999999999h", ".s"})
    EXPECT_FALSE(parse_go_duration(bad, ns)) << bad;
}

// ---------------------------------------------------------------- files

TEST(WebConfigLoad, ValidFilesAndRelativePaths) {
  Pki pki;
  // Paths relative to the config file's directory, not to the working directory.
  std::string path = pki.dir.write("conf/web.yml", R"(
tls_server_config:
  cert_file: ../certs/server.pem
  key_file: ../certs/server.key
  client_ca_file: ../certs/ca.pem
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
)");
  WebConfig cfg;
  std::string error;
  ASSERT_TRUE(load_web_config(path, cfg, error)) << error;
  EXPECT_EQ(cfg.path, path);
  EXPECT_EQ(cfg.tls.cert_file, pki.cert_file);
  EXPECT_EQ(cfg.tls.client_ca_file, pki.ca_file);
}

TEST(WebConfigLoad, InlinePem) {
  Pki pki;
  std::string yaml = "tls_server_config:\n  cert: |\n";
  auto indent = [](const std::string& text) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      out += "    " + text.substr(start, end - start) + "\n";
      start = end == std::string::npos ? text.size() : end + 1;
    }
    return out;
  };
  yaml += indent(pem(pki.server.get())) + "  key: |\n" + indent(pem(pki.server_key.get()));
  std::string path = pki.dir.write("inline.yml", yaml);
  WebConfig cfg;
  std::string error;
  EXPECT_TRUE(load_web_config(path, cfg, error)) << error;
}

TEST(WebConfigLoad, FileErrorsNameTheKeyAndTheFix) {
  Pki pki;
  auto load_error = [&](const std::string& yaml) {
    std::string path = pki.dir.write("web.yml", yaml);
    WebConfig cfg;
    std::string error;
    EXPECT_FALSE(load_web_config(path, cfg, error)) << yaml;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.rfind("--web.config.file=" + path + ": ", 0), 0u) << error;
    return error;
  };
  // Missing files, resolved against the config's directory.
  std::string e = load_error("tls_server_config: {cert_file: nope.pem, key_file: certs/server.key}");
  EXPECT_HAS(e, "tls_server_config.cert_file: cannot read " + (pki.dir.path / "nope.pem").string() +
                    ": No such file or directory (check the path; relative paths are resolved "
                    "against the config file's directory)");
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: missing.key}");
  EXPECT_HAS(e, "tls_server_config.key_file: cannot read");
  // Unreadable key: a directory (works as root too), and mode 000 when not root.
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: certs}");
  EXPECT_HAS(e, "tls_server_config.key_file: cannot read " + (pki.dir.path / "certs").string() +
                    ": Is a directory (point it at a file, not a directory)");
  if (geteuid() != 0) {
    chmod(pki.key_file.c_str(), 0);
    e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: certs/server.key}");
    EXPECT_HAS(e, "Permission denied (make it readable by the user the exporter runs as)");
    chmod(pki.key_file.c_str(), 0600);
  }
  // Wrong contents.
  pki.dir.write("garbage.pem", "not a pem\n");
  e = load_error("tls_server_config: {cert_file: garbage.pem, key_file: certs/server.key}");
  EXPECT_HAS(e, "tls_server_config.cert_file (" + (pki.dir.path / "garbage.pem").string() +
                    ") holds no PEM certificate");
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: garbage.pem}");
  EXPECT_HAS(e, "holds no readable PEM private key");
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: certs/server.pem}");
  EXPECT_HAS(e, "tls_server_config.key_file (" + pki.cert_file + ") holds no readable PEM");
  pki.dir.write("other.key", pem(pki.other_key.get()));
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: other.key}");
  EXPECT_HAS(e, "does not match the certificate's public key: use the key the certificate was "
                "issued for");
  pki.dir.write("encrypted.key", pem(pki.server_key.get(), "passphrase"));
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: encrypted.key}");
  EXPECT_HAS(e, "is an encrypted private key: decrypt it");
  e = load_error("tls_server_config: {cert_file: certs/server.pem, key_file: certs/server.key, "
                 "client_auth_type: RequireAndVerifyClientCert, client_ca_file: garbage.pem}");
  EXPECT_HAS(e, "tls_server_config.client_ca_file (" + (pki.dir.path / "garbage.pem").string() +
                    ") holds no PEM certificate");
  // Parse errors carry the same prefix.
  e = load_error("basic_auth_users: {alice: plaintext}");
  EXPECT_HAS(e, "basic_auth_users.alice is not a bcrypt hash");

  // The config file itself.
  WebConfig cfg;
  std::string error;
  EXPECT_FALSE(load_web_config((pki.dir.path / "absent.yml").string(), cfg, error));
  EXPECT_HAS(error, "--web.config.file: cannot read " + (pki.dir.path / "absent.yml").string() +
                        ": No such file or directory (check the --web.config.file path)");
}

// ---------------------------------------------------------------- bcrypt and basic auth

TEST(BasicAuth, BcryptHashFormat) {
  EXPECT_TRUE(is_bcrypt_hash(kHtpasswdHash));
  std::string why;
  for (const char* bad :
       {"", "$2y$", "$2x$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi",
        "$2y$1$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi0",
        "$2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi",
        "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeS!",
        "$6$salt$hash", "fakepassword"}) {
    EXPECT_FALSE(is_bcrypt_hash(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(BasicAuth, VerifiesHtpasswdAndGeneratedHashes) {
  // A hash made by htpasswd ($2y$, cost 10) and one made with crypt_gensalt_rn + crypt_r ($2b$).
  std::string generated = bcrypt_hash("s3cret", 4);
  ASSERT_TRUE(is_bcrypt_hash(generated)) << generated;
  EXPECT_EQ(generated.rfind("$2b$04$", 0), 0u);
  BasicAuthenticator auth({{"alice", kHtpasswdHash}, {"bob", generated}});
  EXPECT_TRUE(auth.verify("alice", "fakepassword"));
  EXPECT_TRUE(auth.verify("bob", "s3cret"));
  EXPECT_FALSE(auth.verify("alice", "s3cret"));
  EXPECT_FALSE(auth.verify("bob", "fakepassword"));
  EXPECT_FALSE(auth.verify("bob", "s3cre"));
  EXPECT_FALSE(auth.verify("bob", "s3cret "));
  EXPECT_FALSE(auth.verify("carol", "s3cret"));
  EXPECT_FALSE(auth.verify("", ""));
  EXPECT_FALSE(auth.verify("bob", std::string("s3cret\0x", 8)));  // no truncation at NUL
}

TEST(BasicAuth, CachesOnlySuccessesAndIsBounded) {
  const std::string h1 = bcrypt_hash("one", 4), h2 = bcrypt_hash("two", 4),
                    h3 = bcrypt_hash("three", 4);
  BasicAuthenticator auth({{"u1", h1}, {"u2", h2}, {"u3", h3}}, 2);
  EXPECT_TRUE(auth.verify("u1", "one"));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  EXPECT_TRUE(auth.verify("u1", "one"));  // cached: no second bcrypt
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  EXPECT_EQ(auth.cache_hits(), 1u);
  // Failures are never cached: each costs a bcrypt run, also for unknown users.
  EXPECT_FALSE(auth.verify("u1", "wrong"));
  EXPECT_FALSE(auth.verify("u1", "wrong"));
  EXPECT_FALSE(auth.verify("nobody", "one"));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);
  // The cached entry is for that exact password only.
  EXPECT_FALSE(auth.verify("u2", "one"));
  EXPECT_EQ(auth.bcrypt_runs(), 5u);
  // Capacity 2: u1, u2, u3 -> u1 is evicted and needs bcrypt again.
  EXPECT_TRUE(auth.verify("u2", "two"));
  EXPECT_TRUE(auth.verify("u3", "three"));
  EXPECT_EQ(auth.bcrypt_runs(), 7u);
  EXPECT_TRUE(auth.verify("u3", "three"));
  EXPECT_EQ(auth.bcrypt_runs(), 7u);
  EXPECT_TRUE(auth.verify("u1", "one"));
  EXPECT_EQ(auth.bcrypt_runs(), 8u);
}

TEST(BasicAuth, ConcurrentVerification) {
  const std::string h = bcrypt_hash("pw", 4);
  BasicAuthenticator auth(std::map<std::string, std::string>{{"u", h}});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, bad{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < 20; ++j) {
        if (auth.verify("u", "pw")) ++ok;
        if (!auth.verify("u", (i + j) % 2 ? "px" : "")) ++bad;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
  EXPECT_EQ(bad.load(), 160);
}

TEST(BasicAuth, AuthorizationHeader) {
  std::string user, password;
  ASSERT_TRUE(parse_basic_authorization("Basic YWxpY2U6czNjcjN0", user, password));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "s3cr3t");
  ASSERT_TRUE(parse_basic_authorization("basic   YTpiOmM=", user, password));  // "a:b:c"
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "b:c");
  ASSERT_TRUE(parse_basic_authorization("BASIC Og==", user, password));  // ":"
  EXPECT_EQ(user, "");
  EXPECT_EQ(password, "");
  for (const char* bad : {"", "Basic", "Basic ", "Bearer YWxpY2U6czNjcjN0", "BasicYWxpY2U6czNjcjN0",
                          "Basic YWxpY2U", "Basic YWxpY2U=czNjcjN0", "Basic !!!!",
                          "Basic YWxpY2U="})  // no colon
    EXPECT_FALSE(parse_basic_authorization(bad, user, password)) << bad;
  BasicAuthenticator auth(std::map<std::string, std::string>{{"alice", kHtpasswdHash}});
  EXPECT_TRUE(auth.verify_header("Basic YWxpY2U6ZmFrZXBhc3N3b3Jk"));  // alice:fakepassword
  EXPECT_FALSE(auth.verify_header("Basic YWxpY2U6ZmFrZXBhc3N3b3JF"));
  EXPECT_FALSE(auth.verify_header(""));
}

TEST(RateLimit, TokenBucket) {
  RequestRateLimiter limiter(1'000'000'000, 2);  // 1/s, burst 2
  EXPECT_TRUE(limiter.allow(0));
  EXPECT_TRUE(limiter.allow(0));
  EXPECT_FALSE(limiter.allow(0));
  EXPECT_FALSE(limiter.allow(500'000'000));
  EXPECT_TRUE(limiter.allow(1'000'000'000));
  EXPECT_FALSE(limiter.allow(1'000'000'000));
  EXPECT_TRUE(limiter.allow(10'000'000'000));  // refilled, capped at the burst
  EXPECT_TRUE(limiter.allow(10'000'000'000));
  EXPECT_FALSE(limiter.allow(10'000'000'000));
}

// ---------------------------------------------------------------- the server, in-process

struct RunningServer {
  Config cfg;
  WebConfig web;
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  std::string bind_error;

  explicit RunningServer(WebConfig w, int max_requests = 8,
                         std::function<std::string()> render = [] { return "metric 1\n"; })
      : web(std::move(w)) {
    cfg.listen.host = "127.0.0.1";
    cfg.listen.port = test::free_port();
    cfg.listen_address = "127.0.0.1:" + std::to_string(cfg.listen.port);
    cfg.max_requests = max_requests;
    server = std::make_unique<HttpServer>(cfg, std::move(render), &web);
    if (server->bind(bind_error)) thread = std::thread([this] { server->serve(); });
  }
  ~RunningServer() {
    if (thread.joinable()) {
      server->stop();
      thread.join();
    }
  }
};

TEST(WebServer, TlsBasicAuthAndHeaders) {
  Pki pki;
  std::string path = pki.dir.write("web.yml", std::string(R"(
tls_server_config:
  cert_file: certs/server.pem
  key_file: certs/server.key
http_server_config:
  headers:
    X-Frame-Options: sameorigin
    Strict-Transport-Security: max-age=60
basic_auth_users:
  alice: ')") + kHtpasswdHash + "'\n");
  WebConfig web;
  std::string error;
  ASSERT_TRUE(load_web_config(path, web, error)) << error;
  RunningServer s(std::move(web));
  ASSERT_TRUE(s.thread.joinable()) << s.bind_error;

  httplib::SSLClient client("127.0.0.1", s.cfg.listen.port);
  client.set_ca_cert_path(pki.ca_file.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);

  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate").rfind("Basic", 0), 0u);
  // Configured headers replace the built-in ones and reach every response, 401 included.
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "sameorigin");
  EXPECT_EQ(res->get_header_value_count("X-Frame-Options"), 1u);
  EXPECT_EQ(res->get_header_value("Strict-Transport-Security"), "max-age=60");

  client.set_basic_auth("alice", "wrong");
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  client.set_basic_auth("alice", "fakepassword");
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "metric 1\n");
  EXPECT_EQ(res->get_header_value("Strict-Transport-Security"), "max-age=60");
  res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "sameorigin");
  res = client.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  // /healthz needs no credentials (kubelet probes); everything else does.
  httplib::SSLClient anonymous("127.0.0.1", s.cfg.listen.port);
  anonymous.enable_server_certificate_verification(false);
  res = anonymous.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
  res = anonymous.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  // Plain HTTP to the TLS port gets nowhere.
  httplib::Client plain("127.0.0.1", s.cfg.listen.port);
  plain.set_read_timeout(5);
  res = plain.Get("/healthz");
  EXPECT_TRUE(!res || res->status != 200);
}

// The subject CN of the certificate a TLS server on 127.0.0.1:port presents ("" on failure).
std::string served_cn(int port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  BIO* bio = BIO_new_ssl_connect(ctx);
  std::string cn;
  BIO_set_conn_hostname(bio, ("127.0.0.1:" + std::to_string(port)).c_str());
  if (BIO_do_handshake(bio) == 1) {
    SSL* ssl = nullptr;
    BIO_get_ssl(bio, &ssl);
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
      char buf[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof(buf));
      cn = buf;
      X509_free(peer);
    }
  }
  BIO_free_all(bio);
  SSL_CTX_free(ctx);
  return cn;
}

TEST(WebServer, RenewedCertificateIsServedWithoutRestart) {
  Pki pki;
  std::string path = pki.dir.write(
      "web.yml", "tls_server_config: {cert_file: certs/server.pem, key_file: certs/server.key}\n");
  WebConfig web;
  std::string error;
  ASSERT_TRUE(load_web_config(path, web, error)) << error;
  RunningServer s(std::move(web));
  ASSERT_TRUE(s.thread.joinable()) << s.bind_error;
  EXPECT_EQ(served_cn(s.cfg.listen.port), "localhost");

  // Renewal the way Kubernetes and certbot do it: new files renamed into place.
  auto replace = [&](const std::string& file, const std::string& text) {
    std::string tmp = pki.dir.write("renew.tmp", text);
    ASSERT_EQ(std::rename(tmp.c_str(), file.c_str()), 0);
  };
  Key key = new_key();
  Cert renewed = new_cert(key.get(), "renewed", pki.ca.get(), pki.ca_key.get(), false,
                          "DNS:localhost", "serverAuth");
  replace(pki.key_file, pem(key.get()));
  replace(pki.cert_file, pem(renewed.get()));
  EXPECT_EQ(served_cn(s.cfg.listen.port), "renewed");

  // A broken renewal (garbage, or a key that does not match) keeps the last good pair.
  replace(pki.cert_file, "garbage");
  EXPECT_EQ(served_cn(s.cfg.listen.port), "renewed");
  replace(pki.cert_file, pem(pki.server.get()));  // old cert, new key: mismatch
  EXPECT_EQ(served_cn(s.cfg.listen.port), "renewed");
  replace(pki.key_file, pem(pki.server_key.get()));  // pair complete again
  EXPECT_EQ(served_cn(s.cfg.listen.port), "localhost");
}

TEST(WebServer, RateLimitSparesHealthz) {
  WebConfig web;
  std::string error;
  ASSERT_TRUE(parse_web_config("rate_limit: {interval: 1h, burst: 2}", "", web, error)) << error;
  RunningServer s(std::move(web));
  ASSERT_TRUE(s.thread.joinable()) << s.bind_error;
  httplib::Client client("127.0.0.1", s.cfg.listen.port);
  EXPECT_EQ(client.Get("/metrics")->status, 200);
  EXPECT_EQ(client.Get("/metrics")->status, 200);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(client.Get("/healthz")->status, 200);
}

TEST(WebServer, OverLimitScrapesGet503AndHealthzStaysUp) {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  int rendering = 0;
  RunningServer s(WebConfig{}, 1, [&] {
    std::unique_lock lock(m);
    ++rendering;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return std::string("metric 1\n");
  });
  ASSERT_TRUE(s.thread.joinable()) << s.bind_error;
  const int port = s.cfg.listen.port;
  // Idle connections (a slow or malicious client) must not block the others.
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    idle.push_back(fd);
  }
  std::thread first([port] {
    httplib::Client c("127.0.0.1", port);
    auto res = c.Get("/metrics");
    EXPECT_TRUE(res && res->status == 200);
  });
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return rendering == 1; }));
  }
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(3);
  const auto t0 = std::chrono::steady_clock::now();
  auto res = c.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_NE(res->body.find("--web.max-requests=1"), std::string::npos) << res->body;
  res = c.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  first.join();
  res = c.Get("/metrics");  // the slot is free again
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  for (int fd : idle) close(fd);
}

}  // namespace
}  // namespace iouring
