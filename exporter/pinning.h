// Restart continuity: the exporter pins its BPF maps, programs and links under --bpf.pin-path
// (bpffs), so counters continue and the programs stay attached while the exporter restarts,
// crashes or is killed.
//
//   <pin>/abi              ARRAY[1] of PinRecord: what the pinned state is (written last)
//   <pin>/maps/<map>       every map of the BPF object (not .rodata)
//   <pin>/links/<probe>    the attachment of each probe
//   <pin>/progs/<probe>    the program behind each link (for its run-time statistics)
//
// A restarted exporter whose PinRecord is identical (same ABI version, same map layout, same
// BPF object, same start-up options and program variant per probe) reuses the maps and does
// NOT attach those probes again: the pinned links keep the previous programs attached, counting
// into the same maps, so nothing is counted twice and nothing is lost between two exporters.
// Programs are never swapped under a running link: tracing links cannot be updated in place,
// and attaching the new program before (or after) detaching the old one would count events of
// that window twice (or not at all).
//
// Every running exporter holds a flock on the directory: shared while it runs, exclusive while
// it installs. Pinned state that does not match is replaced (one warning; counters restart from
// zero) when no other exporter holds the directory, else left alone and this exporter runs
// unpinned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct bpf_map;

namespace iouring {

inline constexpr const char* kDefaultPinPath = "/sys/fs/bpf/io_uring_exporter";

// FNV-1a, 64 bits: stable across builds and hosts.
class Fingerprint {
 public:
  Fingerprint& add_bytes(const void* data, size_t size);
  Fingerprint& add(uint64_t v) { return add_bytes(&v, sizeof(v)); }
  Fingerprint& add(std::string_view s) { return add(s.size()).add_bytes(s.data(), s.size()); }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 14695981039346656037ULL;
};

inline constexpr uint64_t kPinMagic = 0x4e49505845554f49ULL;  // "IOUEXPIN"

// The value of the pinned `abi` map.
struct PinRecord {
  uint64_t magic = kPinMagic;
  uint64_t abi_version = 0;   // IOU_ABI_VERSION
  uint64_t layout_hash = 0;   // abi.h value sizes; every map's type, key/value size, entries
  uint64_t program_hash = 0;  // BPF object, its rodata (start-up options), variant per probe
};

// sizeof of every value struct in bpf/abi.h and its slot counts.
uint64_t abi_struct_hash();

// Why a pinned record cannot be reused by an exporter that expects `ours` ("" = it can).
std::string record_mismatch(const PinRecord& pinned, const PinRecord& ours);

// Why a pinned map cannot stand in for `map` (type, key/value size, entries, flags); "" = it can.
std::string pinned_map_mismatch(int fd, const struct bpf_map* map);

class PinDir {
 public:
  // Opens `path` (creating it, mode 0700; it must be on a bpf filesystem) and locks it:
  // exclusively when no other exporter holds it, else shared (waiting at most `wait_s` for an
  // installing exporter). nullptr and a one-line reason naming the fix when it cannot be used.
  static std::unique_ptr<PinDir> open(const std::string& path, std::string& why, int wait_s = 30);
  ~PinDir();
  PinDir(const PinDir&) = delete;
  PinDir& operator=(const PinDir&) = delete;

  const std::string& path() const { return path_; }
  bool exclusive() const { return exclusive_; }
  // Exclusive -> shared, once the installation is complete.
  void share();

  enum class RecordState { absent, present, unreadable };
  RecordState read_record(PinRecord& out, std::string& why) const;
  // No pin at all (an empty or new directory).
  bool empty() const;

  // A new fd of the object pinned at `rel` ("maps/ops_stats"), or -errno.
  int get(const std::string& rel) const;
  bool exists(const std::string& rel) const;
  // Pins `fd` at `rel`, creating its directory. 0 or -errno.
  int pin(int fd, const std::string& rel);
  // Creates the abi map holding `rec` and pins it: the last step of an installation.
  int write_record(const PinRecord& rec);
  // Removes every pin (abi first, so an interrupted removal reads as incomplete). 0 or -errno.
  int clear();

 private:
  PinDir() = default;
  std::string path_;
  int dir_fd_ = -1;
  bool exclusive_ = false;
};

// --bpf.uninstall: removes every pin and the directory; programs detach once no exporter still
// holds their links. false and a one-line error; `message` says what was done.
bool uninstall_pins(const std::string& path, std::string& message);

}  // namespace iouring
