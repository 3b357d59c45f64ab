// SPDX-License-Identifier: GPL-2.0
/*
 * Ring life: rings created (and with which IORING_SETUP_* flags), CQ overflows, CQEs lost to
 * overflow, short writes. These tracepoints have carried the same leading arguments since 5.x.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iou_ring_stats);
} ring_stats SEC(".maps");

static __always_inline struct iou_ring_stats *ring_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ring_stats, &zero);
}

static __always_inline void on_create(__u32 flags)
{
	struct iou_ring_stats *s = ring_stats_get();

	if (!s)
		return;
	s->rings_created++;
#pragma unroll
	for (int i = 0; i < IOU_SETUP_FLAG_BITS; i++)
		if (flags & (1U << i))
			s->setup_flags[i]++;
}

static __always_inline void on_overflow(const void *ocqe)
{
	struct iou_ring_stats *s = ring_stats_get();

	if (!s)
		return;
	if (ocqe)
		s->cq_overflows++;
	else
		s->cqes_dropped++;
}

static __always_inline void on_short_write(void)
{
	struct iou_ring_stats *s = ring_stats_get();

	if (s)
		s->short_writes++;
}

/* io_uring_create(fd, ctx, sq_entries, cq_entries, flags) */
SEC("tp_btf/io_uring_create")
int BPF_PROG(create_btf, int fd, void *ctx_, __u32 sq_entries, __u32 cq_entries, __u32 flags)
{
	on_create(flags);
	return 0;
}

SEC("raw_tp/io_uring_create")
int BPF_PROG(create_raw, int fd, void *ctx_, __u32 sq_entries, __u32 cq_entries, __u32 flags)
{
	on_create(flags);
	return 0;
}

/* io_uring_cqe_overflow(ctx, user_data, res, cflags, ocqe): ocqe NULL means the CQE was lost. */
SEC("tp_btf/io_uring_cqe_overflow")
int BPF_PROG(overflow_btf, void *ctx_, __u64 user_data, __s32 res, __u32 cflags, void *ocqe)
{
	on_overflow(ocqe);
	return 0;
}

SEC("raw_tp/io_uring_cqe_overflow")
int BPF_PROG(overflow_raw, void *ctx_, __u64 user_data, __s32 res, __u32 cflags, void *ocqe)
{
	on_overflow(ocqe);
	return 0;
}

/* io_uring_short_write(ctx, fpos, wanted, got) */
SEC("tp_btf/io_uring_short_write")
int BPF_PROG(short_write_btf, void *ctx_)
{
	on_short_write();
	return 0;
}

SEC("raw_tp/io_uring_short_write")
int BPF_PROG(short_write_raw, void *ctx_)
{
	on_short_write();
	return 0;
}
