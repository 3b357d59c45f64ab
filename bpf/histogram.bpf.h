/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by the BPF programs: log2 latency buckets (layout in abi.h; BPF has no clz
 * instruction) and result classes. */
#ifndef IOU_HISTOGRAM_BPF_H
#define IOU_HISTOGRAM_BPF_H

#include "abi.h"

/* Index of the highest set bit plus one (0 for 0). */
static __always_inline __u32 iou_fls64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { v >>= 1; r += 1; }
	return r + (__u32)v;
}

/* Smallest i with ns <= 2^(IOU_LAT_MIN_SHIFT + i); the last bucket is +Inf. */
static __always_inline __u32 iou_latency_bucket(__u64 ns)
{
	__u32 log2_up;

	if (ns <= (1ULL << IOU_LAT_MIN_SHIFT))
		return 0;
	log2_up = iou_fls64(ns - 1); /* ceil(log2(ns)) for ns >= 2 */
	log2_up -= IOU_LAT_MIN_SHIFT;
	return log2_up < IOU_LAT_BUCKETS - 1 ? log2_up : IOU_LAT_BUCKETS - 1;
}


/* Result class of a CQE res / hook return value, per the IOU_RESULTS table. Callers re-check the
 * bound behind a compiler barrier: the verifier needs it, and the switch lets the compiler drop it. */
static __always_inline __u32 iou_result_class(long ret)
{
	if (ret >= 0)
		return IOU_RES_OK;
	switch (-ret) {
#define IOU_X(name, err, label) case err: return IOU_RES_##name;
	IOU_RESULTS(IOU_X)
#undef IOU_X
	default:
		return IOU_RES_OTHER;
	}
}

#endif /* IOU_HISTOGRAM_BPF_H */
