/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map keys and values shared by the BPF programs in bpf/ and the exporter (exporter/).
 * Fixed-width types only, no pointers, every value a whole number of __u64 so per-CPU values
 * need no padding and can be summed word by word in user space.
 *
 * Changing a layout changes IOU_ABI_VERSION: the exporter refuses pinned maps of another version.
 */
#ifndef IOU_ABI_H
#define IOU_ABI_H

#include <linux/types.h>

#define IOU_ABI_VERSION 3

/* Opcodes 0..IOU_OP_SLOTS-2 are counted under their own number; anything larger lands in the
 * last slot, exported as op="unknown". The names live in exporter/uring_names.cpp. */
#define IOU_OP_SLOTS 72
#define IOU_OP_UNKNOWN (IOU_OP_SLOTS - 1)

/* Latency histogram: bucket i counts samples with ns <= 2^(IOU_LAT_MIN_SHIFT + i), i.e. upper
 * bounds 1.024 us .. 68.7 s (log2, rounded up so every bucket is a Prometheus `le`); the last
 * bucket is +Inf. Buckets are NOT cumulative in the map. */
#define IOU_LAT_MIN_SHIFT 10
#define IOU_LAT_BUCKETS 28

/* The one table of completion result classes: X(name, errno, label). BPF turns it into a
 * switch, the exporter into label values. errno values are the asm-generic ones (x86, arm64). */
#define IOU_RESULTS(X)               \
	X(OK, 0, "ok")               \
	X(EPERM, 1, "EPERM")         \
	X(EACCES, 13, "EACCES")      \
	X(ENOENT, 2, "ENOENT")       \
	X(EAGAIN, 11, "EAGAIN")      \
	X(ECANCELED, 125, "ECANCELED") \
	X(ETIME, 62, "ETIME")        \
	X(EINTR, 4, "EINTR")         \
	X(EINVAL, 22, "EINVAL")      \
	X(EBADF, 9, "EBADF")         \
	X(ENOMEM, 12, "ENOMEM")      \
	X(EIO, 5, "EIO")             \
	X(OTHER, -1, "other")

enum iou_result {
#define IOU_X(name, err, label) IOU_RES_##name,
	IOU_RESULTS(IOU_X)
#undef IOU_X
	IOU_RES_COUNT
};

/* ops_stats: PERCPU_ARRAY[IOU_OP_SLOTS], index = opcode slot. */
struct iou_op_stats {
	__u64 submitted;                  /* SQEs submitted */
	__u64 completed[IOU_RES_COUNT];   /* request-ending CQEs by result class */
	__u64 more_cqes;                  /* CQEs flagged IORING_CQE_F_MORE (multishot, not final) */
	__u64 async_punts;                /* requests queued to io-wq */
	__u64 failed_init;                /* requests failed before issue (io_uring_req_failed) */
	__u64 latency[IOU_LAT_BUCKETS];   /* submit -> final CQE, non-cumulative buckets */
	__u64 latency_sum_ns;
	__u64 latency_untracked;          /* completed without an in-flight entry: no latency sample */
	__u64 audit_eligible;             /* submitted by a task with an audit context */
	__u64 personality;                /* submitted with a registered personality (creds override) */
};

/* ops_globals: PERCPU_ARRAY[1]. */
struct iou_op_globals {
	__u64 workload_dropped_series;    /* cgroups that found the workload table full */
	__u64 workload_dropped_events;    /* events counted under the overflow workload */
	__u64 aux_cqes;                   /* CQEs posted without a request, final (msg_ring, ...) */
	__u64 multishot_cqes;             /* CQEs posted without a request, flagged F_MORE */
};

/* ops_inflight: direct-mapped ARRAY indexed by a hash of the kernel's request address (a power of
 * two of entries), used when latency or attribution is on. `req` is the owner's address, 0 when
 * the entry is free and IOU_INFLIGHT_BUSY while a submit fills it in. */
#define IOU_INFLIGHT_BUSY 1ULL
struct iou_inflight {
	__u64 req;
	__u64 start_ns;
	__u64 cgroup_id;                  /* submitter's cgroup (v2), carried to the completion */
	__u32 op_slot;
	__u32 pad;
};

/* workload_stats: PERCPU_HASH keyed by cgroup v2 id, sized to the attribution budget. Key 0 is
 * the overflow workload: events of cgroups that did not fit land there, so the sum over all
 * workloads stays equal to the node totals. */
#define IOU_WORKLOAD_OVERFLOW 0ULL
struct iou_workload_stats {
	__u64 submitted[IOU_OP_SLOTS];
	__u64 completed[IOU_RES_COUNT];   /* request-ending CQEs by result class */
	__u64 latency[IOU_LAT_BUCKETS];
	__u64 latency_sum_ns;
	__u64 rings_created;
	__u64 sqpoll_rings;
};

#define IOU_SETUP_FLAG_BITS 32

/* ring_stats: PERCPU_ARRAY[1]. */
struct iou_ring_stats {
	__u64 rings_created;
	__u64 setup_flags[IOU_SETUP_FLAG_BITS]; /* rings created with IORING_SETUP bit i set */
	__u64 cq_overflows;                     /* CQEs that went to the overflow list */
	__u64 cqes_dropped;                     /* overflow entry could not be allocated: CQE lost */
	__u64 short_writes;
};

/* ---- security signals (bpf/security.bpf.c) ---- */

/* The io_uring LSM hooks: X(name, label). */
#define IOU_HOOKS(X)                       \
	X(OVERRIDE_CREDS, "override_creds") \
	X(SQPOLL, "sqpoll")                 \
	X(CMD, "cmd")                       \
	X(ALLOWED, "allowed")

enum iou_hook {
#define IOU_X(name, label) IOU_HOOK_##name,
	IOU_HOOKS(IOU_X)
#undef IOU_X
	IOU_HOOK_COUNT
};

/* hook_stats: PERCPU_ARRAY[IOU_HOOK_COUNT]. */
struct iou_hook_stats {
	__u64 verdict[IOU_RES_COUNT];     /* fexit: combined verdict of all LSMs, by result class */
	__u64 lsm_calls;                  /* lsm program variant: calls (no verdict visible) */
	__u64 latency[IOU_LAT_BUCKETS];   /* fentry -> fexit */
	__u64 latency_sum_ns;
};

/* audit_stats: PERCPU_ARRAY[IOU_OP_SLOTS], by the opcode passed to __audit_uring_entry. */
struct iou_audit_stats {
	__u64 entry_calls;
	__u64 exit_calls;
	__u64 entry_latency[IOU_LAT_BUCKETS];
	__u64 entry_latency_sum_ns;
	__u64 exit_latency[IOU_LAT_BUCKETS];
	__u64 exit_latency_sum_ns;
};

/* io_uring_setup refusal reasons: X(name, label). */
#define IOU_SETUP_REASONS(X)            \
	X(DISABLED, "disabled")         \
	X(NOT_PERMITTED, "not_permitted") \
	X(LSM, "lsm")                   \
	X(OTHER, "other")

enum iou_setup_reason {
#define IOU_X(name, label) IOU_SETUP_##name,
	IOU_SETUP_REASONS(IOU_X)
#undef IOU_X
	IOU_SETUP_REASON_COUNT
};

/* setup_stats: PERCPU_ARRAY[1]. */
struct iou_setup_stats {
	__u64 calls;
	__u64 refusals[IOU_SETUP_REASON_COUNT];
};

/* register_stats: PERCPU_ARRAY[IOU_REG_SLOTS], by IORING_REGISTER_* opcode. */
#define IOU_REG_SLOTS 48
#define IOU_REG_UNKNOWN (IOU_REG_SLOTS - 1)
struct iou_register_stats {
	__u64 result[IOU_RES_COUNT];
};

/* IORING_OP_URING_CMD command ops: X(name, cmd_op, label); the rest count as "other". */
#define IOU_CMD_OPS(X)                                  \
	X(SOCK_SIOCINQ, 0, "socket_siocinq")            \
	X(SOCK_SIOCOUTQ, 1, "socket_siocoutq")          \
	X(SOCK_GETSOCKOPT, 2, "socket_getsockopt")      \
	X(SOCK_SETSOCKOPT, 3, "socket_setsockopt")      \
	X(SOCK_TX_TIMESTAMP, 4, "socket_tx_timestamp")  \
	X(BLOCK_DISCARD, 0x1200, "block_discard")       \
	X(NVME_IO, 0xC0484E80, "nvme_io")               \
	X(NVME_IO_VEC, 0xC0484E81, "nvme_io_vec")       \
	X(NVME_ADMIN, 0xC0484E82, "nvme_admin")         \
	X(NVME_ADMIN_VEC, 0xC0484E83, "nvme_admin_vec") \
	X(OTHER, 0xFFFFFFFF, "other")

enum iou_cmd_op {
#define IOU_X(name, op, label) IOU_CMD_##name,
	IOU_CMD_OPS(IOU_X)
#undef IOU_X
	IOU_CMD_OP_COUNT
};

/* The file a uring_cmd targets: X(name, label). */
#define IOU_CMD_TARGETS(X) \
	X(CHAR, "char")    \
	X(BLOCK, "block")  \
	X(SOCKET, "socket") \
	X(OTHER, "other")

enum iou_cmd_target {
#define IOU_X(name, label) IOU_TARGET_##name,
	IOU_CMD_TARGETS(IOU_X)
#undef IOU_X
	IOU_CMD_TARGET_COUNT
};

/* uring_cmd_stats: PERCPU_ARRAY[IOU_CMD_OP_COUNT * IOU_CMD_TARGET_COUNT] of __u64,
 * index = cmd_op * IOU_CMD_TARGET_COUNT + target. */
#define IOU_CMD_SLOTS ((int)IOU_CMD_OP_COUNT * (int)IOU_CMD_TARGET_COUNT)

/* posture: ARRAY[1], written by the exporter (sysctls change rarely; refreshed every second),
 * read by the setup refusal classifier. */
struct iou_posture {
	__s32 io_uring_disabled;          /* kernel.io_uring_disabled, -1 if the kernel lacks it */
	__s32 pad;
};

#endif /* IOU_ABI_H */
