// SPDX-License-Identifier: GPL-2.0
/*
 * A cost ladder for submit -> complete latency tracking, on the two tracepoints every request
 * fires (io_uring_submit_req, io_uring_complete). Each pair of programs does one step more than
 * the floor's empty programs, so `bench_prog_stats` can tell where exporter time goes:
 *
 *   ktime  bpf_ktime_get_ns() on submit and on complete, nothing stored
 *   hash   what bpf/ops.bpf.c does for latency: a HASH keyed by the request address, updated on
 *          submit, looked up and deleted on complete
 *   array  the alternative: a direct-mapped ARRAY indexed by a hash of the request address. An
 *          ARRAY lookup is inlined by the verifier (no helper call, no bucket lock, no free
 *          list); a collision overwrites the older request, which then gets no latency sample
 *          (counted in `lost`, as the exporter would count it in latency_untracked)
 *
 * bench_ladder_attach loads exactly one pair. Nothing here is the exporter's code.
 *
 * These are raw_tp programs: they run exactly like tp_btf ones (both through bpf_trace_run),
 * but their arguments are plain integers. With tp_btf the request is a trusted pointer, and the
 * verifier forbids arithmetic on it (and the 32-bit read of a spilled pointer), so hashing its
 * address would need a bpf_probe_read_kernel() of the context first.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define INFLIGHT_SLOTS 16384 /* the exporter's default --bpf.inflight-entries */

struct inflight {
	__u64 start_ns;
	__u32 op_slot;
	__u32 pad;
};

struct slot {
	__u64 req;
	__u64 start_ns;
};

struct result {
	__u64 sum_ns;  /* keeps the clock reads from being optimized away */
	__u64 samples;
	__u64 lost;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFLIGHT_SLOTS);
	__type(key, __u64);
	__type(value, struct inflight);
} hash_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INFLIGHT_SLOTS);
	__type(key, __u32);
	__type(value, struct slot);
} array_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct result);
} results SEC(".maps");

static __always_inline struct result *result_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&results, &zero);
}

/* Fibonacci hashing of the request address (its low 32 bits carry all the entropy: io_kiocb
 * objects come from one slab). */
static __always_inline __u32 slot_of(__u64 req)
{
	return ((__u32)req * 0x9E3779B1U) >> (32 - 14) & (INFLIGHT_SLOTS - 1);
}

/* --- ktime */

SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(ktime_submit, void *req)
{
	struct result *r = result_get();

	if (r)
		r->sum_ns += bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(ktime_complete, void *ctx_, void *req)
{
	struct result *r = result_get();

	if (r)
		r->sum_ns -= bpf_ktime_get_ns();
	return 0;
}

/* --- hash: the exporter's in-flight table */

SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(hash_submit, void *req)
{
	__u64 key = (__u64)req;
	struct inflight v = { .start_ns = bpf_ktime_get_ns() };
	struct result *r;

	if (bpf_map_update_elem(&hash_inflight, &key, &v, BPF_ANY)) {
		r = result_get();
		if (r)
			r->lost++;
	}
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(hash_complete, void *ctx_, void *req)
{
	__u64 key = (__u64)req;
	struct inflight *in = bpf_map_lookup_elem(&hash_inflight, &key);
	struct result *r;

	if (!in)
		return 0;
	r = result_get();
	if (r) {
		r->sum_ns += bpf_ktime_get_ns() - in->start_ns;
		r->samples++;
	}
	bpf_map_delete_elem(&hash_inflight, &key);
	return 0;
}

/* --- array: direct-mapped in-flight table */

SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(array_submit, void *req)
{
	__u32 idx = slot_of((__u64)req);
	struct slot *e = bpf_map_lookup_elem(&array_inflight, &idx);
	struct result *r;

	if (!e)
		return 0;
	if (e->req) {
		/* still in flight: that older request will get no sample */
		r = result_get();
		if (r)
			r->lost++;
	}
	e->start_ns = bpf_ktime_get_ns();
	e->req = (__u64)req;
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(array_complete, void *ctx_, void *req)
{
	__u32 idx = slot_of((__u64)req);
	struct slot *e = bpf_map_lookup_elem(&array_inflight, &idx);
	struct result *r;

	if (!e || e->req != (__u64)req)
		return 0;
	r = result_get();
	if (r) {
		r->sum_ns += bpf_ktime_get_ns() - e->start_ns;
		r->samples++;
	}
	e->req = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
