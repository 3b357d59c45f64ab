// iou_vm_deny_lsm: loads tests/vm/deny_lsm.bpf.c, attaches the LSM programs whose hook this
// kernel has (bpf_lsm_<hook> in its BTF), pins the links under PIN_DIR so they outlive this
// process, prints one "hook NAME attached|missing" line per hook and exits.
//
//   iou_vm_deny_lsm [PIN_DIR]     (default /sys/fs/bpf/iou_deny; rm -r it to detach)
//
// Exit status: 0 if at least one hook is attached, 1 otherwise (e.g. 5.10: no io_uring hooks).
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "iou_vm_deny.skel.h"

int main(int argc, char** argv) {
  const std::string pin_dir = argc > 1 ? argv[1] : "/sys/fs/bpf/iou_deny";
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    std::fprintf(stderr, "iou_vm_deny_lsm: cannot load the kernel BTF: %s\n", std::strerror(errno));
    return 1;
  }
  struct iou_vm_deny* skel = iou_vm_deny__open();
  if (!skel) {
    std::fprintf(stderr, "iou_vm_deny_lsm: cannot open the BPF object: %s\n", std::strerror(errno));
    return 1;
  }
  struct Hook {
    const char* name;
    struct bpf_program* prog;
    bool present;
  } hooks[] = {{"uring_sqpoll", skel->progs.deny_sqpoll, false},
               {"uring_override_creds", skel->progs.deny_override_creds, false},
               {"uring_cmd", skel->progs.deny_cmd, false},
               {"uring_allowed", skel->progs.deny_allowed, false}};
  int present = 0;
  for (auto& h : hooks) {
    h.present = btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + std::string(h.name)).c_str(),
                                       BTF_KIND_FUNC) > 0;
    bpf_program__set_autoload(h.prog, h.present);
    present += h.present;
  }
  btf__free(vmlinux);
  if (present == 0) {
    for (auto& h : hooks) std::printf("hook %s missing\n", h.name);
    iou_vm_deny__destroy(skel);
    return 1;
  }
  if (int err = iou_vm_deny__load(skel); err != 0) {
    std::fprintf(stderr, "iou_vm_deny_lsm: load failed: %s\n", std::strerror(-err));
    iou_vm_deny__destroy(skel);
    return 1;
  }
  mkdir(pin_dir.c_str(), 0700);
  int attached = 0;
  for (auto& h : hooks) {
    if (!h.present) {
      std::printf("hook %s missing\n", h.name);
      continue;
    }
    struct bpf_link* link = bpf_program__attach_lsm(h.prog);
    if (!link) {
      std::fprintf(stderr, "iou_vm_deny_lsm: attach lsm/%s: %s\n", h.name, std::strerror(errno));
      continue;
    }
    std::string pin = pin_dir + "/" + h.name;
    if (int err = bpf_link__pin(link, pin.c_str()); err != 0) {
      std::fprintf(stderr, "iou_vm_deny_lsm: pin %s: %s\n", pin.c_str(), std::strerror(-err));
      bpf_link__destroy(link);
      continue;
    }
    bpf_link__disconnect(link);  // the pin keeps the link; closing our fd must not detach it
    bpf_link__destroy(link);
    std::printf("hook %s attached\n", h.name);
    ++attached;
  }
  iou_vm_deny__destroy(skel);
  return attached > 0 ? 0 : 1;
}
