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

#define IOU_ABI_VERSION 1

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
	__u64 latency_untracked;          /* in-flight table full at submit: no latency sample */
};

/* ops_globals: PERCPU_ARRAY[1]. */
struct iou_op_globals {
	__u64 aux_cqes;                   /* CQEs posted without a request, final (msg_ring, ...) */
	__u64 multishot_cqes;             /* CQEs posted without a request, flagged F_MORE */
};

/* ops_inflight: HASH keyed by the kernel's request address, only when latency is tracked. */
struct iou_inflight {
	__u64 start_ns;
	__u32 op_slot;
	__u32 pad;
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

#endif /* IOU_ABI_H */
