#include "cgroup_path.h"

#include <algorithm>
#include <utility>

namespace iouring {
namespace {

using Runtime = WorkloadIdentity::Runtime;

constexpr std::size_t kUidLength = 36;
constexpr std::size_t kContainerIdLength = 64;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_container_id(std::string_view s) {
  return s.size() == kContainerIdLength && std::all_of(s.begin(), s.end(), is_lower_hex);
}

// 8-4-4-4-12 lower-case hex with `sep` ('-' cgroupfs, '_' systemd) between groups.
bool is_pod_uid(std::string_view s, char sep) {
  if (s.size() != kUidLength) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool separator = i == 8 || i == 13 || i == 18 || i == 23;
    if (separator ? s[i] != sep : !is_lower_hex(s[i])) return false;
  }
  return true;
}

bool strip_prefix(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

struct Pod {
  std::string_view uid;  // validated, separator not yet canonical
  std::string_view qos;
};

struct Container {
  Runtime runtime;
  std::string_view id;  // validated; empty for crio conmon (pod-level)
};

// "[<prefix>-]kubepods[-burstable|-besteffort]-pod<uid with _>.slice"
std::optional<Pod> match_systemd_pod(std::string_view c) {
  if (!strip_suffix(c, ".slice") || c.size() < kUidLength) return std::nullopt;
  const std::string_view uid = c.substr(c.size() - kUidLength);
  c.remove_suffix(kUidLength);
  if (!is_pod_uid(uid, '_') || !strip_suffix(c, "-pod")) return std::nullopt;
  std::string_view qos = "guaranteed";
  if (strip_suffix(c, "-burstable")) {
    qos = "burstable";
  } else if (strip_suffix(c, "-besteffort")) {
    qos = "besteffort";
  }
  if (!strip_suffix(c, "kubepods")) return std::nullopt;
  // Anything before "kubepods" must be a whole parent slice name ("kubelet-").
  if (!c.empty() && (c.size() < 2 || c.back() != '-')) return std::nullopt;
  return Pod{uid, qos};
}

// "pod<uid with ->"
std::optional<Pod> match_cgroupfs_pod(std::string_view c, std::string_view qos) {
  if (!strip_prefix(c, "pod") || !is_pod_uid(c, '-')) return std::nullopt;
  return Pod{c, qos};
}

struct IdPrefix {
  std::string_view prefix;
  Runtime runtime;
  bool is_container;  // false: runtime helper cgroup (conmon), pod-level
};

std::optional<Container> match_prefixed_id(std::string_view c, auto const& prefixes) {
  for (const IdPrefix& p : prefixes) {
    std::string_view id = c;
    if (strip_prefix(id, p.prefix) && is_container_id(id)) {
      return Container{p.runtime, p.is_container ? id : std::string_view{}};
    }
  }
  return std::nullopt;
}

// "cri-containerd-<id>.scope", "crio-<id>.scope", "docker-<id>.scope",
// "crio-conmon-<id>.scope"
std::optional<Container> match_systemd_container(std::string_view c) {
  static constexpr IdPrefix kPrefixes[] = {
      {"cri-containerd-", Runtime::containerd, true},
      {"crio-conmon-", Runtime::crio, false},
      {"crio-", Runtime::crio, true},
      {"docker-", Runtime::docker, true},
  };
  if (!strip_suffix(c, ".scope")) return std::nullopt;
  return match_prefixed_id(c, kPrefixes);
}

// "<id>" (containerd, docker), "crio-<id>", "crio-conmon-<id>"
std::optional<Container> match_cgroupfs_container(std::string_view c) {
  static constexpr IdPrefix kPrefixes[] = {
      {"", Runtime::unknown, true},
      {"crio-conmon-", Runtime::crio, false},
      {"crio-", Runtime::crio, true},
  };
  return match_prefixed_id(c, kPrefixes);
}

// "<systemd pod slice>:<runtime>:<id>", the runc systemd cgroupsPath seen
// when the runtime nests pods under its own unit (e.g. containerd.service).
std::optional<std::pair<Pod, Container>> match_nested(std::string_view c) {
  static constexpr IdPrefix kPrefixes[] = {
      {"cri-containerd:", Runtime::containerd, true},
      {"crio:", Runtime::crio, true},
      {"docker:", Runtime::docker, true},
  };
  const std::size_t colon = c.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto pod = match_systemd_pod(c.substr(0, colon));
  if (!pod) return std::nullopt;
  const auto container = match_prefixed_id(c.substr(colon + 1), kPrefixes);
  if (!container) return std::nullopt;
  return std::pair{*pod, *container};
}

// Pops the next non-empty '/'-separated component off the front of `rest`.
bool next_component(std::string_view& rest, std::string_view& component) {
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    component = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (!component.empty()) return true;
  }
  return false;
}

// Absolute, bounded, no control bytes (incl. NUL), no "." / ".." components.
bool is_well_formed(std::string_view path) {
  if (path.empty() || path.size() > kMaxCgroupPathLength || path.front() != '/') return false;
  const bool has_control = std::any_of(path.begin(), path.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u < 0x20 || u == 0x7f;
  });
  if (has_control) return false;
  std::string_view c;
  while (next_component(path, c)) {
    if (c == "." || c == "..") return false;
  }
  return true;
}

// Left-to-right state machine over path components.
class Matcher {
 public:
  // Returns false when the path must be rejected.
  bool feed(std::string_view c) {
    switch (state_) {
      case State::search: return search(c);
      case State::cgroupfs_root:
        if (c == "burstable" || c == "besteffort") {
          qos_ = c;
          state_ = State::cgroupfs_qos;
          return true;
        }
        qos_ = "guaranteed";
        [[fallthrough]];
      case State::cgroupfs_qos:
        if ((pod_ = match_cgroupfs_pod(c, qos_))) {
          state_ = State::cgroupfs_pod;
          return true;
        }
        state_ = State::search;
        return search(c);
      case State::systemd_pod: return set_container(match_systemd_container(c));
      case State::cgroupfs_pod: return set_container(match_cgroupfs_container(c));
      case State::docker_root:
        state_ = State::search;
        if (is_container_id(c)) {
          docker_id_ = c;
          return true;
        }
        return search(c);
      case State::done: return true;
    }
    return false;
  }

  bool done() const { return state_ == State::done; }

  std::optional<WorkloadIdentity> finish() const {
    WorkloadIdentity id;
    if (pod_) {
      id.is_kubepods = true;
      id.qos = pod_->qos;
      id.pod_uid = pod_->uid;
      std::replace(id.pod_uid.begin(), id.pod_uid.end(), '_', '-');
      if (container_) {
        id.runtime = container_->runtime;
        id.container_id = container_->id;
      }
      return id;
    }
    if (!docker_id_.empty()) {
      id.runtime = Runtime::docker;
      id.container_id = docker_id_;
      return id;
    }
    return std::nullopt;
  }

 private:
  enum class State { search, cgroupfs_root, cgroupfs_qos, systemd_pod, cgroupfs_pod, docker_root, done };

  bool search(std::string_view c) {
    if (auto nested = match_nested(c)) {
      pod_ = nested->first;
      container_ = nested->second;
      state_ = State::done;
    } else if ((pod_ = match_systemd_pod(c))) {
      state_ = State::systemd_pod;
    } else if (c == "kubepods") {
      state_ = State::cgroupfs_root;
    } else if (docker_id_.empty()) {
      // Docker outside Kubernetes; kept as a fallback because a kubelet may
      // run nested inside it (kind), in which case the pod wins.
      if (c == "docker") {
        state_ = State::docker_root;
      } else if (auto ct = match_systemd_container(c); ct && ct->runtime == Runtime::docker) {
        docker_id_ = ct->id;
      }
    }
    return true;
  }

  bool set_container(std::optional<Container> container) {
    if (!container) return false;  // unknown or malformed child of a pod
    container_ = container;
    state_ = State::done;
    return true;
  }

  State state_ = State::search;
  std::string_view qos_;
  std::string_view docker_id_;
  std::optional<Pod> pod_;
  std::optional<Container> container_;
};

}  // namespace

std::optional<WorkloadIdentity> parse_cgroup_path(std::string_view path) {
  if (!is_well_formed(path)) return std::nullopt;
  Matcher matcher;
  std::string_view component;
  while (!matcher.done() && next_component(path, component)) {
    if (!matcher.feed(component)) return std::nullopt;
  }
  return matcher.finish();
}

std::string_view runtime_name(WorkloadIdentity::Runtime runtime) noexcept {
  switch (runtime) {
    case Runtime::containerd: return "containerd";
    case Runtime::crio: return "crio";
    case Runtime::docker: return "docker";
    case Runtime::unknown: break;
  }
  return "unknown";
}

}  // namespace iouring
