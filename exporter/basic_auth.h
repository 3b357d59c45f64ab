// HTTP basic authentication against bcrypt hashes (the basic_auth_users of --web.config.file).
//
// bcrypt is deliberately slow (~70 ms at cost 10), so successful verifications are remembered in
// a small, bounded in-memory cache, as the Prometheus exporter-toolkit does. The cache holds
// keyed digests (HMAC-SHA256 with a per-process random key) of (user, configured hash, supplied
// password), never the passwords themselves, and is searched in constant time. Failed attempts
// are never cached; their bcrypt runs are serialised so a password-guessing client cannot take
// more than one core, and cached (legitimate) credentials are answered without waiting for it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct crypt_data;

namespace iouring {

// True if `hash` is a bcrypt hash crypt_r(3) can verify: "$2a$", "$2b$" or "$2y$", a two-digit
// cost from 04 to 31, "$", then 53 characters of bcrypt's base64 (60 characters in all).
// Otherwise false, and `why` (if given) says what is wrong in a few words.
bool is_bcrypt_hash(std::string_view hash, std::string* why = nullptr);

// A fresh bcrypt ("$2b$") hash of `password` at `cost` (4..31), or "" on failure. For tests and
// tooling; the exporter itself only verifies.
std::string bcrypt_hash(std::string_view password, int cost);

// Decodes an Authorization header value of the form "Basic base64(user:password)" (scheme
// case-insensitive, standard base64 with padding). false if it is anything else.
bool parse_basic_authorization(std::string_view header, std::string& user, std::string& password);

class BasicAuthenticator {
 public:
  static constexpr std::size_t kDefaultCacheEntries = 256;

  // `users` maps user names to bcrypt hashes (checked with is_bcrypt_hash beforehand).
  explicit BasicAuthenticator(std::map<std::string, std::string> users,
                              std::size_t cache_entries = kDefaultCacheEntries);
  ~BasicAuthenticator();
  BasicAuthenticator(const BasicAuthenticator&) = delete;
  BasicAuthenticator& operator=(const BasicAuthenticator&) = delete;

  // True if `user` exists and `password` matches its hash. Unknown users still cost one bcrypt
  // run (against a throw-away hash of the same cost) so timing does not reveal which users exist.
  bool verify(std::string_view user, std::string_view password);

  // verify() on the credentials of an Authorization header value; false if absent or malformed.
  bool verify_header(std::string_view authorization);

  // Counters for tests and debugging.
  std::uint64_t bcrypt_runs() const;
  std::uint64_t cache_hits() const;

 private:
  using Digest = std::array<unsigned char, 32>;
  Digest digest(std::string_view user, std::string_view hash, std::string_view password) const;
  bool cached(const Digest& d);
  void remember(const Digest& d);

  std::map<std::string, std::string> users_;
  std::string decoy_setting_;            // bcrypt setting used for unknown users
  std::array<unsigned char, 32> key_{};  // HMAC key for cache digests, random per process

  mutable std::mutex cache_mutex_;
  std::vector<Digest> cache_;      // successful verifications, FIFO-replaced
  std::vector<bool> cache_used_;
  std::size_t cache_next_ = 0;
  std::uint64_t cache_hits_ = 0;

  mutable std::mutex bcrypt_mutex_;  // one bcrypt at a time: it is CPU-bound by design
  std::unique_ptr<crypt_data> crypt_;
  std::uint64_t bcrypt_runs_ = 0;
};

}  // namespace iouring
