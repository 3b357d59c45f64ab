// SPDX-License-Identifier: GPL-2.0
/*
 * Security signals: the io_uring LSM hooks (calls, verdicts, latency), the audit hooks (calls per
 * opcode, latency), and refusals of io_uring_setup / io_uring_register seen at syscall exit.
 *
 * Each hook has independent programs: fexit sees the combined verdict of all active LSMs;
 * fentry only stamps the start time for the latency; an lsm/ program is the fallback where
 * fexit is refused (it counts calls but cannot see other LSMs' verdicts, and runs only when
 * "bpf" is an active LSM). Kernels without a hook simply lack that probe.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <stdbool.h>

#include "abi.h"
#include "kernel_types.h"
#include "histogram.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOU_HOOK_COUNT);
	__type(key, __u32);
	__type(value, struct iou_hook_stats);
} hook_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOU_OP_SLOTS);
	__type(key, __u32);
	__type(value, struct iou_audit_stats);
} audit_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iou_setup_stats);
} setup_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOU_REG_SLOTS);
	__type(key, __u32);
	__type(value, struct iou_register_stats);
} register_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iou_posture);
} posture SEC(".maps");

/* Per-thread state between a hook's fentry and fexit, and between syscall enter and exit:
 * key = (tid << 8) | slot. Small: only threads inside these rare paths have entries. */
enum {
	SLOT_HOOK = 0,          /* + enum iou_hook: start time */
	SLOT_AUDIT_ENTRY = 8,   /* start time of __audit_uring_entry */
	SLOT_AUDIT_EXIT = 9,    /* start time of __audit_uring_exit */
	SLOT_AUDIT_OP = 10,     /* opcode of the thread's last __audit_uring_entry */
	SLOT_REGISTER_OP = 11,  /* io_uring_register opcode, enter -> exit */
	SLOT_SETUP_LSM = 12,    /* an LSM refused this thread's io_uring_setup */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} thread_state SEC(".maps");

static __always_inline __u64 state_key(__u32 slot)
{
	return ((bpf_get_current_pid_tgid() & 0xffffffffULL) << 8) | slot;
}

static __always_inline void state_put(__u32 slot, __u64 v)
{
	__u64 k = state_key(slot);

	bpf_map_update_elem(&thread_state, &k, &v, BPF_ANY);
}

/* Returns the value and removes it; 0 when absent. */
static __always_inline __u64 state_take(__u32 slot)
{
	__u64 k = state_key(slot);
	__u64 *v = bpf_map_lookup_elem(&thread_state, &k);
	__u64 out = 0;

	if (v) {
		out = *v;
		bpf_map_delete_elem(&thread_state, &k);
	}
	return out;
}

static __always_inline __u64 state_get(__u32 slot)
{
	__u64 k = state_key(slot);
	__u64 *v = bpf_map_lookup_elem(&thread_state, &k);

	return v ? *v : 0;
}

static __always_inline void record_latency(__u64 *buckets, __u64 *sum, __u64 start)
{
	__u64 delta;
	__u32 b;

	if (!start)
		return;
	delta = bpf_ktime_get_ns() - start;
	b = iou_latency_bucket(delta);
	asm volatile("" : "+r"(b));
	if (b < IOU_LAT_BUCKETS)
		buckets[b]++;
	*sum += delta;
}

/* ---- LSM hooks ---- */

static __always_inline void hook_enter(__u32 hook)
{
	state_put(SLOT_HOOK + hook, bpf_ktime_get_ns());
}

static __always_inline void hook_exit(__u32 hook, int ret)
{
	struct iou_hook_stats *s = bpf_map_lookup_elem(&hook_stats, &hook);
	__u32 cls = iou_result_class(ret);

	if (!s)
		return;
	asm volatile("" : "+r"(cls));
	if (cls < IOU_RES_COUNT)
		s->verdict[cls]++;
	record_latency(s->latency, &s->latency_sum_ns, state_take(SLOT_HOOK + hook));
	if (ret && (hook == IOU_HOOK_ALLOWED || hook == IOU_HOOK_SQPOLL))
		state_put(SLOT_SETUP_LSM, 1);
}

static __always_inline void hook_lsm_call(__u32 hook)
{
	struct iou_hook_stats *s = bpf_map_lookup_elem(&hook_stats, &hook);

	if (s)
		s->lsm_calls++;
}

#define IOU_HOOK_PROGS(fn, lsm_name, hook, ...)                                  \
	SEC("fentry/" #fn)                                                        \
	int BPF_PROG(fn##_enter) { hook_enter(hook); return 0; }                  \
	SEC("fexit/" #fn)                                                         \
	int BPF_PROG(fn##_exit, ##__VA_ARGS__, int ret) { hook_exit(hook, ret); return 0; } \
	SEC("lsm/" #lsm_name)                                                     \
	int BPF_PROG(lsm_name##_lsm, ##__VA_ARGS__, int ret) { hook_lsm_call(hook); return ret; }

IOU_HOOK_PROGS(security_uring_override_creds, uring_override_creds, IOU_HOOK_OVERRIDE_CREDS,
	       const struct cred *new)
IOU_HOOK_PROGS(security_uring_sqpoll, uring_sqpoll, IOU_HOOK_SQPOLL)
IOU_HOOK_PROGS(security_uring_cmd, uring_cmd, IOU_HOOK_CMD, struct io_uring_cmd *ioucmd)
IOU_HOOK_PROGS(security_uring_allowed, uring_allowed, IOU_HOOK_ALLOWED)

/* ---- audit hooks: __audit_uring_entry(u8 op), __audit_uring_exit(int success, long code) ---- */

static __always_inline struct iou_audit_stats *audit_of(__u32 op)
{
	__u32 slot = op < IOU_OP_UNKNOWN ? op : IOU_OP_UNKNOWN;

	return bpf_map_lookup_elem(&audit_stats, &slot);
}

SEC("fentry/__audit_uring_entry")
int BPF_PROG(audit_entry_enter, __u8 op)
{
	state_put(SLOT_AUDIT_ENTRY, bpf_ktime_get_ns());
	return 0;
}

/* SQPOLL threads call audit_uring_entry(IORING_OP_NOP) once when they start (6.1+, the
 * CVE-2024-41001 fix); NOP itself is audit_skip everywhere, so op 0 is never a request. */
#define AUDIT_OP_IGNORED 0x100

SEC("fexit/__audit_uring_entry")
int BPF_PROG(audit_entry_exit, __u8 op)
{
	struct iou_audit_stats *s;

	if (op == 0) {
		state_take(SLOT_AUDIT_ENTRY);
		state_put(SLOT_AUDIT_OP, AUDIT_OP_IGNORED);
		return 0;
	}
	s = audit_of(op);
	state_put(SLOT_AUDIT_OP, op);
	if (!s)
		return 0;
	s->entry_calls++;
	record_latency(s->entry_latency, &s->entry_latency_sum_ns, state_take(SLOT_AUDIT_ENTRY));
	return 0;
}

SEC("fentry/__audit_uring_exit")
int BPF_PROG(audit_exit_enter, int success, long code)
{
	state_put(SLOT_AUDIT_EXIT, bpf_ktime_get_ns());
	return 0;
}

SEC("fexit/__audit_uring_exit")
int BPF_PROG(audit_exit_exit, int success, long code)
{
	__u64 op = state_get(SLOT_AUDIT_OP);
	struct iou_audit_stats *s;

	if (op == AUDIT_OP_IGNORED) {
		state_take(SLOT_AUDIT_EXIT);
		return 0;
	}
	s = audit_of((__u32)op);
	if (!s)
		return 0;
	s->exit_calls++;
	record_latency(s->exit_latency, &s->exit_latency_sum_ns, state_take(SLOT_AUDIT_EXIT));
	return 0;
}

/* ---- syscall refusals (classic syscall tracepoints: only these two syscalls pay) ---- */

struct syscall_enter_args {
	__u64 pad;
	long nr;
	unsigned long args[6];
};

struct syscall_exit_args {
	__u64 pad;
	long nr;
	long ret;
};

static __always_inline __u32 setup_reason(long ret)
{
	__u32 zero = 0;
	struct iou_posture *p;

	if (ret != -1 /* EPERM */ && ret != -13 /* EACCES */)
		return IOU_SETUP_OTHER;
	if (state_take(SLOT_SETUP_LSM))
		return IOU_SETUP_LSM;
	p = bpf_map_lookup_elem(&posture, &zero);
	if (p && p->io_uring_disabled == 2)
		return IOU_SETUP_DISABLED;
	if (p && p->io_uring_disabled == 1)
		return IOU_SETUP_NOT_PERMITTED;
	return IOU_SETUP_LSM; /* sysctl allows: only an LSM (uring_allowed / uring_sqpoll) refuses */
}

SEC("tracepoint/syscalls/sys_exit_io_uring_setup")
int setup_exit(struct syscall_exit_args *ctx)
{
	__u32 zero = 0;
	struct iou_setup_stats *s = bpf_map_lookup_elem(&setup_stats, &zero);
	long ret = ctx->ret;

	if (!s)
		return 0;
	s->calls++;
	if (ret < 0) {
		__u32 r = setup_reason(ret);

		asm volatile("" : "+r"(r));
		if (r < IOU_SETUP_REASON_COUNT)
			s->refusals[r]++;
	} else {
		state_take(SLOT_SETUP_LSM); /* should be absent; never leave a stale mark behind */
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_io_uring_register")
int register_enter(struct syscall_enter_args *ctx)
{
	/* IORING_REGISTER_USE_REGISTERED_RING (bit 31) is a flag, not part of the opcode. */
	state_put(SLOT_REGISTER_OP, (ctx->args[1] & 0x7fffffffUL) | (1ULL << 32));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_uring_register")
int register_exit(struct syscall_exit_args *ctx)
{
	__u64 v = state_take(SLOT_REGISTER_OP);
	__u32 op, cls;
	struct iou_register_stats *s;

	if (!v)
		return 0; /* entered before we attached */
	op = (__u32)v < IOU_REG_UNKNOWN ? (__u32)v : IOU_REG_UNKNOWN;
	s = bpf_map_lookup_elem(&register_stats, &op);
	if (!s)
		return 0;
	cls = iou_result_class(ctx->ret);
	asm volatile("" : "+r"(cls));
	if (cls < IOU_RES_COUNT)
		s->result[cls]++;
	return 0;
}
