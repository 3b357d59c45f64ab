/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal CO-RE views of the kernel types the programs read. Only the fields used are declared;
 * preserve_access_index makes libbpf relocate every access against the running kernel's BTF, so
 * no vmlinux.h is generated from the build host.
 */
#ifndef IOU_KERNEL_TYPES_H
#define IOU_KERNEL_TYPES_H

#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct io_ring_ctx {
	unsigned int flags;
};

struct io_kiocb {
	__u8 opcode;
	struct io_ring_ctx *ctx;
};

struct io_uring_sqe {
	__u8 opcode;
};

struct io_uring_cqe {
	__u64 user_data;
	__s32 res;
	__u32 flags;
};

#pragma clang attribute pop

/* uapi constants that are stable across kernels */
#define IOU_CQE_F_MORE (1U << 1)

#endif /* IOU_KERNEL_TYPES_H */
