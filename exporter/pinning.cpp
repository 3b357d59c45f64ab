#include "pinning.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "bpf/abi.h"

namespace iouring {
namespace fs = std::filesystem;
namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;
constexpr const char* kRecordName = "abi";
// Everything an exporter pins; nothing else in the directory is ever removed.
constexpr std::array<const char*, 4> kOwnedEntries = {"abi", "maps", "links", "progs"};

std::string errno_text(int err) {
  err = err < 0 ? -err : err;
  return std::string(strerrorname_np(err) ? strerrorname_np(err) : "E?") + " (" +
         std::strerror(err) + ")";
}

// Absolute, normal, without a trailing '/'.
fs::path normalized(const std::string& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.filename().empty() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

// statfs of `path`, or of its nearest existing ancestor.
bool on_bpffs(const std::string& path) {
  fs::path p = normalized(path);
  while (true) {
    struct statfs st {};
    if (statfs(p.c_str(), &st) == 0) return static_cast<long>(st.f_type) == kBpfFsMagic;
    if (errno != ENOENT || !p.has_parent_path() || p == p.parent_path()) return false;
    p = p.parent_path();
  }
}

// mkdir -p; only the directories created here get mode 0700 (existing ones, /sys/fs/bpf
// itself above all, keep theirs).
int mkdirs(const fs::path& dir) {
  fs::path cur;
  for (const auto& part : dir) {
    cur /= part;
    if (mkdir(cur.c_str(), 0700) == 0) {
      chmod(cur.c_str(), 0700);
    } else if (errno != EEXIST) {
      return -errno;
    }
  }
  return 0;
}

// Pins under one owned entry, recursively (directories are not counted).
size_t count_pins(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(p, ec))) return fs::exists(fs::symlink_status(p, ec));
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(p, ec))
    if (!e.is_directory(ec)) ++n;
  return n;
}

// Why `dir` cannot hold the exporter's pins ("" = it can): the pins need a directory of their
// own, never the bpffs mount itself nor another tool's directory (its entries would be removed
// along with the exporter's).
std::string foreign_dir(const fs::path& dir) {
  struct stat self {}, parent {};
  if (stat(dir.c_str(), &self) == 0 && stat(dir.parent_path().c_str(), &parent) == 0 &&
      (self.st_dev != parent.st_dev || dir == dir.parent_path()))
    return dir.string() + " is the root of a bpf filesystem: use a directory of its own (e.g. " +
           std::string(kDefaultPinPath) + ")";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (std::find(kOwnedEntries.begin(), kOwnedEntries.end(), name) == kOwnedEntries.end())
      return dir.string() + " holds " + name +
             ", which is not the exporter's: use a directory of its own";
  }
  return {};
}

// Removes the owned entries of `dir`, the record first. 0 or -errno.
int remove_owned(const fs::path& dir) {
  std::error_code ec;
  if (unlink((dir / kRecordName).c_str()) != 0 && errno != ENOENT) return -errno;
  for (const char* name : kOwnedEntries) {
    fs::remove_all(dir / name, ec);
    if (ec) return -ec.value();
  }
  return 0;
}

}  // namespace

Fingerprint& Fingerprint::add_bytes(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    h_ ^= p[i];
    h_ *= 1099511628211ULL;
  }
  return *this;
}

uint64_t abi_struct_hash() {
  Fingerprint f;
  f.add(sizeof(iou_op_stats)).add(sizeof(iou_op_globals)).add(sizeof(iou_inflight));
  f.add(sizeof(iou_workload_stats)).add(sizeof(iou_ring_stats)).add(sizeof(iou_hook_stats));
  f.add(sizeof(iou_audit_stats)).add(sizeof(iou_setup_stats)).add(sizeof(iou_register_stats));
  f.add(sizeof(iou_posture));
  f.add(IOU_OP_SLOTS).add(IOU_LAT_MIN_SHIFT).add(IOU_LAT_BUCKETS).add(IOU_SETUP_FLAG_BITS);
  f.add(IOU_REG_SLOTS).add(IOU_CMD_SLOTS).add(IOU_WORKLOAD_OVERFLOW);
  // The order of every label table is part of the layout: slot i means label i.
#define IOU_X(name, err, label) f.add(std::string_view(label)).add(static_cast<uint64_t>(err));
  IOU_RESULTS(IOU_X)
#undef IOU_X
#define IOU_X(name, label) f.add(std::string_view(label));
  IOU_HOOKS(IOU_X)
  IOU_SETUP_REASONS(IOU_X)
  IOU_CMD_TARGETS(IOU_X)
#undef IOU_X
#define IOU_X(name, op, label) f.add(std::string_view(label)).add(static_cast<uint64_t>(op));
  IOU_CMD_OPS(IOU_X)
#undef IOU_X
  return f.value();
}

std::string record_mismatch(const PinRecord& pinned, const PinRecord& ours) {
  if (pinned.magic != ours.magic) return "its abi record is not an io_uring_exporter record";
  if (pinned.abi_version != ours.abi_version)
    return "ABI version " + std::to_string(pinned.abi_version) + ", this exporter has " +
           std::to_string(ours.abi_version);
  if (pinned.layout_hash != ours.layout_hash)
    return "another map layout (other map sizes: --bpf.inflight-entries, "
           "--attribution.max-cgroups, or another exporter build)";
  if (pinned.program_hash != ours.program_hash)
    return "other BPF programs or start-up options (another exporter build, or other "
           "--collector.*, --attribution.*, --bpf.* flags)";
  return {};
}

std::string pinned_map_mismatch(int fd, const struct bpf_map* map) {
  struct bpf_map_info info = {};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
    return std::string("cannot read pinned map ") + bpf_map__name(map) + ": " + errno_text(errno);
  if (info.type != static_cast<__u32>(bpf_map__type(map)) ||
      info.key_size != bpf_map__key_size(map) || info.value_size != bpf_map__value_size(map) ||
      info.max_entries != bpf_map__max_entries(map) || info.map_flags != bpf_map__map_flags(map))
    return std::string("pinned map ") + bpf_map__name(map) + " has another layout";
  return {};
}

std::unique_ptr<PinDir> PinDir::open(const std::string& path, std::string& why, int wait_s) {
  if (!on_bpffs(path)) {
    why = path + " is not on a bpf filesystem (mount it: mount -t bpf bpf /sys/fs/bpf; or pass "
                 "--no-bpf.pin)";
    return nullptr;
  }
  std::unique_ptr<PinDir> self(new PinDir());
  self->path_ = normalized(path).string();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  while (true) {
    if (int err = mkdirs(self->path_); err != 0) {
      why = "cannot create " + self->path_ + ": " + errno_text(err);
      return nullptr;
    }
    int fd = ::open(self->path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      why = "cannot open " + self->path_ + ": " + errno_text(errno);
      return nullptr;
    }
    bool locked = false;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      self->exclusive_ = locked = true;
    } else {
      // Another exporter runs (shared) or installs (exclusive, for seconds): share it.
      while (!(locked = flock(fd, LOCK_SH | LOCK_NB) == 0) &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!locked) {
      close(fd);
      why = "another exporter has held " + self->path_ + " exclusively for " +
            std::to_string(wait_s) + " s";
      return nullptr;
    }
    if (std::string foreign = foreign_dir(self->path_); !foreign.empty()) {
      close(fd);
      why = foreign;
      return nullptr;
    }
    // --bpf.uninstall may have removed the directory between open and flock: lock the new one.
    struct stat by_fd {}, by_path {};
    if (fstat(fd, &by_fd) == 0 && stat(self->path_.c_str(), &by_path) == 0 &&
        by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev) {
      self->dir_fd_ = fd;
      return self;
    }
    close(fd);
    self->exclusive_ = false;
    if (std::chrono::steady_clock::now() >= deadline) {
      why = self->path_ + " keeps being removed while opening it";
      return nullptr;
    }
  }
}

PinDir::~PinDir() {
  if (dir_fd_ >= 0) close(dir_fd_);  // releases the lock
}

void PinDir::share() {
  if (exclusive_ && flock(dir_fd_, LOCK_SH) == 0) exclusive_ = false;
}

PinDir::RecordState PinDir::read_record(PinRecord& out, std::string& why) const {
  int fd = get(kRecordName);
  if (fd == -ENOENT) return RecordState::absent;
  if (fd < 0) {
    why = "cannot open its abi record: " + errno_text(fd);
    return RecordState::unreadable;
  }
  struct bpf_map_info info = {};
  __u32 len = sizeof(info);
  RecordState state = RecordState::unreadable;
  uint32_t zero = 0;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
    why = "cannot read its abi record: " + errno_text(errno);
  } else if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(uint32_t) ||
             info.value_size != sizeof(PinRecord) || info.max_entries < 1) {
    why = "its abi record has another layout (value of " + std::to_string(info.value_size) +
          " bytes, expected " + std::to_string(sizeof(PinRecord)) + ")";
  } else if (bpf_map_lookup_elem(fd, &zero, &out) != 0) {
    why = "cannot read its abi record: " + errno_text(errno);
  } else {
    state = RecordState::present;
  }
  close(fd);
  return state;
}

bool PinDir::empty() const {
  for (const char* name : kOwnedEntries)
    if (count_pins(fs::path(path_) / name) > 0) return false;
  return true;
}

int PinDir::get(const std::string& rel) const {
  int fd = bpf_obj_get((fs::path(path_) / rel).c_str());
  return fd >= 0 ? fd : -errno;
}

bool PinDir::exists(const std::string& rel) const {
  struct stat st {};
  return stat((fs::path(path_) / rel).c_str(), &st) == 0;
}

int PinDir::pin(int fd, const std::string& rel) {
  fs::path p = fs::path(path_) / rel;
  if (int err = mkdirs(p.parent_path()); err != 0) return err;
  return bpf_obj_pin(fd, p.c_str()) == 0 ? 0 : -errno;
}

int PinDir::write_record(const PinRecord& rec) {
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "iou_pin_abi", sizeof(uint32_t), sizeof(PinRecord), 1,
                          &opts);
  if (fd < 0) return -errno;
  uint32_t zero = 0;
  int err = 0;
  if (bpf_map_update_elem(fd, &zero, &rec, BPF_ANY) != 0) err = -errno;
  // Read-only from now on: the record only ever changes by replacing the whole directory.
  if (err == 0 && bpf_map_freeze(fd) != 0) err = -errno;
  if (err == 0) err = pin(fd, kRecordName);
  close(fd);
  return err;
}

int PinDir::clear() { return remove_owned(path_); }

bool uninstall_pins(const std::string& path, std::string& message) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    message = "nothing pinned at " + path;
    return true;
  }
  if (!on_bpffs(path)) {
    message = path + " is not on a bpf filesystem: not touching it";
    return false;
  }
  std::string foreign = foreign_dir(normalized(path));
  if (foreign.find("root of") != std::string::npos) {
    message = foreign + ": not touching it";
    return false;
  }
  // An exporter still running holds a shared lock: its programs stay attached until it exits.
  bool in_use = false;
  if (int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    in_use = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
  }
  size_t pins = 0;
  for (const char* name : kOwnedEntries) pins += count_pins(fs::path(path) / name);
  if (int err = remove_owned(path); err != 0) {
    message = "cannot remove the pins in " + path + ": " + errno_text(err);
    return false;
  }
  bool removed_dir = rmdir(path.c_str()) == 0;
  message = "removed " + std::to_string(pins) + " pins from " + path;
  if (!removed_dir) message += " (the directory holds other files: left in place)";
  if (in_use)
    message += "; an exporter still uses them: its programs stay attached until it exits";
  return true;
}

}  // namespace iouring
