// SPDX-License-Identifier: GPL-2.0
/*
 * Request data path: SQEs submitted, CQEs by result class, submit->complete latency, io-wq punts
 * and requests failed at init, per opcode. Counters live in per-CPU arrays and are only ever
 * incremented; the exporter sums the CPUs at scrape time.
 *
 * Tracepoint programs run with preemption disabled and the kernel skips (and counts as
 * recursion misses) a program re-entered on the same CPU, so plain increments of per-CPU values
 * are exact. Each variant below exists in a tp_btf flavour (typed arguments, direct loads) and a
 * raw_tp flavour (CO-RE probe reads); the loader keeps one per tracepoint, chosen from the
 * running kernel's BTF prototype.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <stdbool.h>

#include "abi.h"
#include "kernel_types.h"
#include "histogram.bpf.h"

/* Set by the loader before load. */
const volatile bool track_latency = true;
/* REQ_F_CREDS in this kernel (found in its BTF by the loader), 0 = do not count personalities. */
const volatile __u64 req_creds_mask = 0;
/* REQ_F_CQE_SKIP (IOSQE_CQE_SKIP_SUCCESS), 0 = unknown: such a request posts no CQE on success,
 * so it gets no in-flight entry that nothing would release. */
const volatile __u64 req_cqe_skip_mask = 0;
/* Keep submit timestamps/cgroups per request: false where the completion tracepoint names no
 * request (5.10), since nothing could ever remove the entries. */
const volatile bool use_inflight = true;
/* Entries of ops_inflight - 1 (the loader sizes it to a power of two). */
const volatile __u32 inflight_mask = 0;
/* Count submissions by tasks with an audit context (when the audit hooks are probed). */
const volatile bool count_audit_eligible = false;
/* Per-workload (cgroup) accounting; off = no extra work on the hot path. */
const volatile bool attribute_workloads = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOU_OP_SLOTS);
	__type(key, __u32);
	__type(value, struct iou_op_stats);
} ops_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iou_op_globals);
} ops_globals SEC(".maps");

/*
 * Requests in flight (submit time, cgroup, opcode slot), in a table indexed by a hash of the
 * request's address, resized (or shrunk to 1) by the loader. An ARRAY lookup is inlined by the
 * verifier: no helper call, bucket lock or free list, which made the HASH this replaced cost
 * 3-4x as much per request (bench/README.md).
 *
 * Each address may use either entry of one pair (2-way). A submit that finds both entries held
 * by other requests in flight records nothing: that request completes without a latency sample
 * (counted in latency_untracked). Whether a request loses does not depend on how long it then
 * takes, so the histogram stays unbiased. An entry is taken over only when it holds this same
 * address (a recycled request whose CQE overflowed and so never completed) or is older than
 * IOU_INFLIGHT_STALE_NS.
 *
 * Entries are claimed and released with atomic compare-and-swap on `req`, so a completion never
 * reads an entry that a submit is filling in: a submit swaps `req` to IOU_INFLIGHT_BUSY, fills in
 * the entry, then publishes its address; a completion reads the entry and keeps what it read
 * only if `req` still holds its address when it swaps in 0.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct iou_inflight);
} ops_inflight SEC(".maps");

/* Past this age an entry is taken as left behind (its request will never complete through the
 * tracepoint). About 137 s: beyond the histogram's last finite bucket (68.7 s), so a request that
 * really runs that long loses at most a +Inf sample. Without latency, entries are aged in jiffies
 * (no clock read; tracing programs may not use the coarse clock): 137 s at HZ=1000, longer at
 * lower HZ. */
#define IOU_INFLIGHT_STALE_NS (1ULL << 37)
#define IOU_INFLIGHT_STALE_JIFFIES 137000ULL

/* An entry's time stamp: the submit time in ns when latency is tracked, else jiffies. */
static __always_inline __u64 inflight_now(void)
{
	return track_latency ? bpf_ktime_get_ns() : bpf_jiffies64();
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOU_CMD_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} uring_cmd_stats SEC(".maps");

/* Sized by the loader to the attribution budget + 1 (the overflow key, inserted before attach). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct iou_workload_stats);
} workload_stats SEC(".maps");

/* Cgroups already counted as dropped, so each is counted once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} workload_dropped SEC(".maps");

/* A zeroed value to insert from (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iou_workload_stats);
} workload_zero SEC(".maps");

static __always_inline struct iou_op_globals *globals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ops_globals, &zero);
}

/* The workload's counters, created on first use; the overflow workload when the table is full. */
static __always_inline struct iou_workload_stats *workload_of(__u64 cgroup_id)
{
	struct iou_workload_stats *w = bpf_map_lookup_elem(&workload_stats, &cgroup_id);
	struct iou_op_globals *g;
	__u64 overflow = IOU_WORKLOAD_OVERFLOW;
	__u32 zero = 0;
	__u8 one = 1;

	if (w)
		return w;
	w = bpf_map_lookup_elem(&workload_zero, &zero);
	if (w && bpf_map_update_elem(&workload_stats, &cgroup_id, w, BPF_NOEXIST) != -7 /* E2BIG */) {
		w = bpf_map_lookup_elem(&workload_stats, &cgroup_id);
		if (w)
			return w;
	}
	g = globals();
	if (g) {
		g->workload_dropped_events++;
		if (bpf_map_update_elem(&workload_dropped, &cgroup_id, &one, BPF_NOEXIST) == 0)
			g->workload_dropped_series++;
	}
	return bpf_map_lookup_elem(&workload_stats, &overflow);
}

/* The first entry of a request address's pair. The verifier lets a (privileged) program turn a
 * pointer into a number only by a 32-bit register copy, written out here because the compiler
 * would truncate with shifts, which are refused on pointers. Those low 32 bits carry the
 * address's entropy (io_kiocb objects come from one slab); Fibonacci hashing spreads them. */
static __always_inline __u32 inflight_index(__u64 req)
{
	__u32 low;

	asm volatile("%[low] = %[req]" : [low] "=w"(low) : [req] "w"((__u32)req));
	return (__u32)(((__u64)low * 0x9E3779B97F4A7C15ULL) >> 32) & inflight_mask & ~1U;
}

/* Takes entry `idx` for request `req` (submitted at `now`): free, left by this same address, or
 * stale. Returns the entry, marked busy, or NULL. */
static __always_inline struct iou_inflight *inflight_claim(__u32 idx, __u64 req, __u64 now)
{
	struct iou_inflight *e = bpf_map_lookup_elem(&ops_inflight, &idx);
	__u64 cur;

	if (!e)
		return NULL;
	cur = e->req;
	if (cur == IOU_INFLIGHT_BUSY)
		return NULL;
	if (cur && cur != req &&
	    now - e->start_ns < (track_latency ? IOU_INFLIGHT_STALE_NS : IOU_INFLIGHT_STALE_JIFFIES))
		return NULL;
	return __sync_val_compare_and_swap(&e->req, cur, IOU_INFLIGHT_BUSY) == cur ? e : NULL;
}

/* Releases entry `idx` if it holds request `req`, copying it to *out first. */
static __always_inline bool inflight_take(__u32 idx, __u64 req, struct iou_inflight *out)
{
	struct iou_inflight *e = bpf_map_lookup_elem(&ops_inflight, &idx);

	if (!e || e->req != req)
		return false;
	/* Read first, then release: what was read is this request's only if the entry still named
	 * it when swapped to free (a submit taking it over swaps it to busy before writing). */
	out->start_ns = e->start_ns;
	out->cgroup_id = e->cgroup_id;
	out->op_slot = e->op_slot;
	return __sync_val_compare_and_swap(&e->req, req, 0) == req;
}

static __always_inline __u32 op_slot(__u32 opcode)
{
	return opcode < IOU_OP_UNKNOWN ? opcode : IOU_OP_UNKNOWN;
}

static __always_inline struct iou_op_stats *stats_of(__u32 slot)
{
	return bpf_map_lookup_elem(&ops_stats, &slot);
}

static __always_inline __u32 cmd_op_slot(__u32 cmd_op)
{
	switch (cmd_op) {
#define IOU_X(name, op, label) case op: return IOU_CMD_##name;
	IOU_CMD_OPS(IOU_X)
#undef IOU_X
	}
	return IOU_CMD_OTHER;
}

/* IORING_OP_URING_CMD: which command, on what kind of file. Counted at completion: the file is
 * only assigned when the request is issued. */
static __always_inline void count_uring_cmd(struct io_kiocb *req)
{
	struct io_uring_cmd *cmd = (void *)req;
	unsigned short mode = BPF_CORE_READ(cmd, file, f_inode, i_mode) & IOU_S_IFMT;
	__u32 target = mode == IOU_S_IFCHR    ? IOU_TARGET_CHAR
		       : mode == IOU_S_IFBLK  ? IOU_TARGET_BLOCK
		       : mode == IOU_S_IFSOCK ? IOU_TARGET_SOCKET
					      : IOU_TARGET_OTHER;
	__u32 key = cmd_op_slot(BPF_CORE_READ(cmd, cmd_op)) * IOU_CMD_TARGET_COUNT + target;
	__u64 *n;

	asm volatile("" : "+r"(key));
	n = bpf_map_lookup_elem(&uring_cmd_stats, &key);
	if (n)
		(*n)++;
}

static __always_inline bool has_audit_context(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	if (!bpf_core_field_exists(t->audit_context))
		return false;
	return BPF_CORE_READ(t, audit_context) != NULL;
}

/* `record`: keep an in-flight entry. A constant per program: false for the programs of kernels
 * (5.10) that refuse the atomic instructions the table uses. */
static __always_inline void on_submit(struct io_kiocb *req, __u32 opcode, const bool record)
{
	__u32 slot = op_slot(opcode);
	struct iou_op_stats *s = stats_of(slot);
	struct iou_workload_stats *w;
	__u64 key = (__u64)req;
	__u64 cgroup_id = 0, flags = 0;

	if (!s)
		return;
	s->submitted++;
	if (attribute_workloads) {
		cgroup_id = bpf_get_current_cgroup_id();
		w = workload_of(cgroup_id);
		if (w && slot < IOU_OP_SLOTS)
			w->submitted[slot]++;
	}
	if (req_creds_mask || req_cqe_skip_mask)
		flags = BPF_CORE_READ_BITFIELD_PROBED(req, flags);
	if (flags & req_creds_mask)
		s->personality++;
	if (count_audit_eligible && has_audit_context())
		s->audit_eligible++;

	if (record && use_inflight && !(flags & req_cqe_skip_mask)) {
		__u64 now = inflight_now();
		__u32 idx = inflight_index(key);
		struct iou_inflight *e = inflight_claim(idx, key, now);

		if (!e)
			e = inflight_claim(idx | 1, key, now);
		if (e) {
			e->start_ns = now;
			e->cgroup_id = cgroup_id;
			e->op_slot = slot;
			__sync_lock_test_and_set(&e->req, key); /* publish (a full barrier) */
		}
	}
}

static __always_inline void on_complete(struct io_kiocb *req, __s32 res, __u32 cflags)
{
	struct iou_workload_stats *w = NULL;
	struct iou_inflight in = {};
	struct iou_op_stats *s;
	__u64 key = (__u64)req;
	__u64 delta;
	__u32 cls, slot, idx, b = 0;
	bool tracked = false;

	if (!req) {
		/* Posted without a request: multishot follow-ups (F_MORE) and aux CQEs. */
		struct iou_op_globals *g = globals();

		if (g) {
			if (cflags & IOU_CQE_F_MORE)
				g->multishot_cqes++;
			else
				g->aux_cqes++;
		}
		return;
	}
	if (cflags & IOU_CQE_F_MORE) {
		/* Not the request's last CQE: its in-flight entry stays for the last one. */
		s = stats_of(op_slot(BPF_CORE_READ(req, opcode)));
		if (s)
			s->more_cqes++;
		return;
	}
	if (use_inflight) {
		idx = inflight_index(key);
		tracked = inflight_take(idx, key, &in) || inflight_take(idx | 1, key, &in);
	}
	slot = tracked ? in.op_slot : op_slot(BPF_CORE_READ(req, opcode));
	s = stats_of(slot);
	if (!s)
		return;
	if (slot == IOU_OP_URING_CMD)
		count_uring_cmd(req);
	cls = iou_result_class(res);
	/* Keep the compiler from folding the bound check into the switch: the verifier needs it. */
	asm volatile("" : "+r"(cls));
	if (cls >= IOU_RES_COUNT)
		return;
	s->completed[cls]++;
	if (attribute_workloads)
		w = workload_of(tracked ? in.cgroup_id : bpf_get_current_cgroup_id());
	if (w)
		w->completed[cls]++;
	if (!track_latency)
		return;
	if (!tracked) {
		s->latency_untracked++;
		return;
	}
	delta = bpf_ktime_get_ns() - in.start_ns;
	b = iou_latency_bucket(delta);
	asm volatile("" : "+r"(b));
	if (b < IOU_LAT_BUCKETS) {
		s->latency[b]++;
		if (w)
			w->latency[b]++;
	}
	s->latency_sum_ns += delta;
	if (w)
		w->latency_sum_ns += delta;
}

static __always_inline void on_punt(__u32 opcode)
{
	struct iou_op_stats *s = stats_of(op_slot(opcode));

	if (s)
		s->async_punts++;
}

static __always_inline void on_failed_init(const void *req, __u32 opcode)
{
	struct iou_op_stats *s = stats_of(op_slot(opcode));
	__u64 key = (__u64)req;

	if (s)
		s->failed_init++;
	/* Never submitted: a stale entry at this address (a recycled request whose CQE was skipped
	 * or overflowed) must not lend its opcode and start time to this completion. */
	if (use_inflight) {
		struct iou_inflight stale;
		__u32 idx = inflight_index(key);

		if (!inflight_take(idx, key, &stale))
			inflight_take(idx | 1, key, &stale);
	}
}

/* --- submit: io_uring_submit_req(req) since 6.3; io_uring_submit_sqe(req, force_nonblock) before */

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(submit_req_btf, struct io_kiocb *req)
{
	on_submit(req, req->opcode, true);
	return 0;
}

SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(submit_req_raw, struct io_kiocb *req)
{
	on_submit(req, BPF_CORE_READ(req, opcode), true);
	return 0;
}

SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(submit_sqe_btf, struct io_kiocb *req, bool force_nonblock)
{
	on_submit(req, req->opcode, true);
	return 0;
}

SEC("raw_tp/io_uring_submit_sqe")
int BPF_PROG(submit_sqe_raw, struct io_kiocb *req, bool force_nonblock)
{
	on_submit(req, BPF_CORE_READ(req, opcode), true);
	return 0;
}

/* 5.10 .. 5.17: io_uring_submit_sqe(ctx, req, opcode, user_data, flags, force_nonblock, sq_thread) */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(submit_sqe_legacy_btf, void *ctx_, struct io_kiocb *req, __u8 opcode)
{
	on_submit(req, opcode, false);
	return 0;
}

SEC("raw_tp/io_uring_submit_sqe")
int BPF_PROG(submit_sqe_legacy_raw, void *ctx_, struct io_kiocb *req, __u8 opcode)
{
	on_submit(req, opcode, false);
	return 0;
}

/* --- complete: (ctx, req, cqe) on newer kernels; (ctx, req, user_data, res, cflags, extra1,
 * extra2) on 6.1-era kernels. req is an untyped pointer in both, hence the CO-RE read. */

SEC("tp_btf/io_uring_complete")
int BPF_PROG(complete_cqe_btf, void *ctx_, struct io_kiocb *req, struct io_uring_cqe *cqe)
{
	on_complete(req, cqe->res, cqe->flags);
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(complete_cqe_raw, void *ctx_, struct io_kiocb *req, struct io_uring_cqe *cqe)
{
	on_complete(req, BPF_CORE_READ(cqe, res), BPF_CORE_READ(cqe, flags));
	return 0;
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(complete_res_btf, void *ctx_, struct io_kiocb *req, __u64 user_data, int res,
	     unsigned int cflags)
{
	on_complete(req, res, cflags);
	return 0;
}

SEC("raw_tp/io_uring_complete")
int BPF_PROG(complete_res_raw, void *ctx_, struct io_kiocb *req, __u64 user_data, int res,
	     unsigned int cflags)
{
	on_complete(req, res, cflags);
	return 0;
}

/* 5.10: io_uring_complete(ctx, user_data, res, cflags) names no request: results are counted
 * under the unknown opcode, without latency. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(complete_legacy_btf, void *ctx_, __u64 user_data, long res, unsigned int cflags)
{
	struct iou_op_stats *s = stats_of(IOU_OP_UNKNOWN);
	__u32 cls = iou_result_class((__s32)res);

	if (!s)
		return 0;
	if (cflags & IOU_CQE_F_MORE) {
		s->more_cqes++;
		return 0;
	}
	asm volatile("" : "+r"(cls));
	if (cls < IOU_RES_COUNT)
		s->completed[cls]++;
	return 0;
}

/* --- io-wq punts: io_uring_queue_async_work(req, rw) */

SEC("tp_btf/io_uring_queue_async_work")
int BPF_PROG(punt_btf, struct io_kiocb *req, int rw)
{
	on_punt(req->opcode);
	return 0;
}

SEC("raw_tp/io_uring_queue_async_work")
int BPF_PROG(punt_raw, struct io_kiocb *req, int rw)
{
	on_punt(BPF_CORE_READ(req, opcode));
	return 0;
}

/* 5.10: io_uring_queue_async_work(ctx, rw, req, work, flags) */
SEC("tp_btf/io_uring_queue_async_work")
int BPF_PROG(punt_legacy_btf, void *ctx_, int rw, struct io_kiocb *req)
{
	on_punt(BPF_CORE_READ(req, opcode));
	return 0;
}

/* --- rings created per workload: io_uring_create(fd, ctx, sq_entries, cq_entries, flags). The
 * node-wide ring counters live in rings.bpf.c; this program only attributes. */
static __always_inline void on_create_workload(__u32 flags)
{
	struct iou_workload_stats *w = workload_of(bpf_get_current_cgroup_id());

	if (!w)
		return;
	w->rings_created++;
	if (flags & 2 /* IORING_SETUP_SQPOLL */)
		w->sqpoll_rings++;
}

SEC("tp_btf/io_uring_create")
int BPF_PROG(create_workload_btf, int fd, void *ctx_, __u32 sq, __u32 cq, __u32 flags)
{
	on_create_workload(flags);
	return 0;
}

SEC("raw_tp/io_uring_create")
int BPF_PROG(create_workload_raw, int fd, void *ctx_, __u32 sq, __u32 cq, __u32 flags)
{
	on_create_workload(flags);
	return 0;
}

/* --- requests failed at init: io_uring_req_failed(sqe, req, error). The SQE's opcode is used:
 * the kernel resets req->opcode to 0 for opcodes it does not know. */

SEC("tp_btf/io_uring_req_failed")
int BPF_PROG(failed_btf, const struct io_uring_sqe *sqe, struct io_kiocb *req, int error)
{
	on_failed_init(req, sqe->opcode);
	return 0;
}

SEC("raw_tp/io_uring_req_failed")
int BPF_PROG(failed_raw, const struct io_uring_sqe *sqe, struct io_kiocb *req, int error)
{
	on_failed_init(req, BPF_CORE_READ(sqe, opcode));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
