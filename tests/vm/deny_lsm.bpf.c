// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only BPF LSM for the VM kernel matrix (tests/vm/matrix.sh): denies the io_uring LSM hooks
 * to tasks whose comm is a marker name, and lets everything else through. The marked task sets
 * its comm itself (tests/vm/iou_vm_helper --comm NAME).
 *
 *   comm "iou_denied": uring_sqpoll -EPERM, uring_override_creds -EACCES, uring_cmd -EPERM
 *   comm "iou_noring": uring_allowed -EPERM (7.x: every io_uring_setup)
 *
 * Loaded by tests/vm/deny_lsm_loader.cpp, which skips the hooks a kernel lacks.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1
#define EACCES 13

struct cred;
struct io_uring_cmd;

/* Denials made, per hook: 0 sqpoll, 1 override_creds, 2 cmd, 3 allowed (read with bpftool). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} denials SEC(".maps");

static __always_inline int comm_is(const char *marker)
{
	char comm[16] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 11; i++) {   /* both markers are 10 characters + NUL */
		if (comm[i] != marker[i])
			return 0;
	}
	return 1;
}

static __always_inline int deny(__u32 slot, int err)
{
	__u64 *n = bpf_map_lookup_elem(&denials, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
	return -err;
}

SEC("lsm/uring_sqpoll")
int BPF_PROG(deny_sqpoll, int ret)
{
	if (ret)
		return ret;
	return comm_is("iou_denied") ? deny(0, EPERM) : 0;
}

SEC("lsm/uring_override_creds")
int BPF_PROG(deny_override_creds, const struct cred *new, int ret)
{
	if (ret)
		return ret;
	return comm_is("iou_denied") ? deny(1, EACCES) : 0;
}

SEC("lsm/uring_cmd")
int BPF_PROG(deny_cmd, struct io_uring_cmd *ioucmd, int ret)
{
	if (ret)
		return ret;
	return comm_is("iou_denied") ? deny(2, EPERM) : 0;
}

SEC("lsm/uring_allowed")
int BPF_PROG(deny_allowed, int ret)
{
	if (ret)
		return ret;
	return comm_is("iou_noring") ? deny(3, EPERM) : 0;
}

char LICENSE[] SEC("license") = "GPL";
