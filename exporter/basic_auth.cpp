#include "basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace iouring {
namespace {

bool is_bcrypt_base64(char c) {
  return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with mandatory padding; false on anything else.
bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad) return false;  // data after '='
      v[j] = base64_value(c);
      if (v[j] < 0) return false;
    }
    const unsigned bits = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) |
                          unsigned(v[3]);
    out.push_back(static_cast<char>((bits >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((bits >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(bits & 0xff));
  }
  return true;
}

int bcrypt_cost(std::string_view hash) { return (hash[4] - '0') * 10 + (hash[5] - '0'); }

}  // namespace

bool is_bcrypt_hash(std::string_view hash, std::string* why) {
  auto fail = [why](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  if (hash.size() < 4 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y'))
    return fail("it does not start with $2y$, $2b$ or $2a$");
  if (hash.size() != 60) return fail("a bcrypt hash is exactly 60 characters long");
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$')
    return fail("the cost after the prefix must be two digits followed by '$'");
  const int cost = bcrypt_cost(hash);
  if (cost < 4 || cost > 31) return fail("the cost must be between 04 and 31");
  if (!std::all_of(hash.begin() + 7, hash.end(), is_bcrypt_base64))
    return fail("the salt and hash contain characters outside bcrypt's base64 alphabet");
  return true;
}

std::string bcrypt_hash(std::string_view password, int cost) {
  if (cost < 4 || cost > 31 || password.find('\0') != std::string_view::npos) return {};
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                        sizeof(setting)))
    return {};
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  OPENSSL_cleanse(pw.data(), pw.size());
  if (!out || out[0] == '*') return {};
  std::string result(out);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return result;
}

bool parse_basic_authorization(std::string_view header, std::string& user, std::string& password) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  constexpr std::string_view kScheme = "basic";
  if (header.size() <= kScheme.size() || (header[kScheme.size()] != ' '))
    return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return false;
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  std::string decoded;
  if (token.empty() || !base64_decode(token, decoded)) return false;
  auto colon = decoded.find(':');
  if (colon == std::string::npos) {
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return false;
  }
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return true;
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users,
                                       std::size_t cache_entries)
    : users_(std::move(users)),
      cache_(std::max<std::size_t>(cache_entries, 1)),
      cache_used_(cache_.size(), false),
      crypt_(std::make_unique<crypt_data>()) {
  std::memset(crypt_.get(), 0, sizeof(crypt_data));
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
    throw std::runtime_error("cannot get random bytes for the basic auth cache key");
  // Unknown users are checked against a random setting of the highest configured cost, so a
  // miss takes as long as a wrong password for a real user.
  int cost = 10;
  for (const auto& [user, hash] : users_)
    if (is_bcrypt_hash(hash)) cost = std::max(cost, bcrypt_cost(hash));
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting,
                       sizeof(setting)))
    decoy_setting_ = setting;
}

BasicAuthenticator::~BasicAuthenticator() {
  OPENSSL_cleanse(key_.data(), key_.size());
  if (crypt_) OPENSSL_cleanse(crypt_.get(), sizeof(crypt_data));
}

BasicAuthenticator::Digest BasicAuthenticator::digest(std::string_view user, std::string_view hash,
                                                      std::string_view password) const {
  // Length-prefixed fields, so ("ab", "c") and ("a", "bc") differ.
  std::string buf;
  buf.reserve(24 + user.size() + hash.size() + password.size());
  for (std::string_view field : {user, hash, password}) {
    const std::uint64_t n = field.size();
    buf.append(reinterpret_cast<const char*>(&n), sizeof(n));
    buf.append(field);
  }
  Digest d{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), d.data(), &len);
  OPENSSL_cleanse(buf.data(), buf.size());
  return d;
}

bool BasicAuthenticator::cached(const Digest& d) {
  std::lock_guard lock(cache_mutex_);
  // Every slot is compared, with CRYPTO_memcmp, whatever matches: the time taken does not depend
  // on where (or whether) the digest is found.
  int found = 0;
  for (std::size_t i = 0; i < cache_.size(); ++i)
    found |= static_cast<int>(cache_used_[i]) & (CRYPTO_memcmp(cache_[i].data(), d.data(), d.size()) == 0);
  if (found) ++cache_hits_;
  return found != 0;
}

void BasicAuthenticator::remember(const Digest& d) {
  std::lock_guard lock(cache_mutex_);
  for (std::size_t i = 0; i < cache_.size(); ++i)
    if (cache_used_[i] && CRYPTO_memcmp(cache_[i].data(), d.data(), d.size()) == 0) return;
  cache_[cache_next_] = d;
  cache_used_[cache_next_] = true;
  cache_next_ = (cache_next_ + 1) % cache_.size();
}

bool BasicAuthenticator::verify(std::string_view user, std::string_view password) {
  // crypt_r takes C strings: a NUL would silently truncate the password.
  if (password.find('\0') != std::string_view::npos) return false;
  auto it = users_.find(std::string(user));
  const bool known = it != users_.end();
  const std::string& hash = known ? it->second : decoy_setting_;
  if (hash.empty()) return false;

  const Digest d = digest(user, hash, password);
  const bool hit = cached(d);  // looked up for unknown users too, to keep timing uniform
  if (known && hit) return true;

  bool ok = false;
  {
    std::lock_guard lock(bcrypt_mutex_);
    ++bcrypt_runs_;
    std::string pw(password);
    const char* out = crypt_r(pw.c_str(), hash.c_str(), crypt_.get());
    OPENSSL_cleanse(pw.data(), pw.size());
    ok = known && out != nullptr && out[0] != '*' && std::strlen(out) == hash.size() &&
         CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  }
  if (ok) remember(d);
  return ok;
}

bool BasicAuthenticator::verify_header(std::string_view authorization) {
  std::string user, password;
  if (!parse_basic_authorization(authorization, user, password)) return false;
  const bool ok = verify(user, password);
  OPENSSL_cleanse(password.data(), password.size());
  return ok;
}

std::uint64_t BasicAuthenticator::bcrypt_runs() const {
  std::lock_guard lock(bcrypt_mutex_);
  return bcrypt_runs_;
}

std::uint64_t BasicAuthenticator::cache_hits() const {
  std::lock_guard lock(cache_mutex_);
  return cache_hits_;
}

}  // namespace iouring
