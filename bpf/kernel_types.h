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
	__u64 flags; /* io_req_flags_t: u32 before 6.10, u64 since; read with size relocation */
	struct io_ring_ctx *ctx;
};

struct inode {
	unsigned short i_mode;
};

struct file {
	struct inode *f_inode;
};

/* Overlays the start of struct io_kiocb for IORING_OP_URING_CMD requests. */
struct io_uring_cmd {
	struct file *file;
	__u32 cmd_op;
};

struct audit_context;

struct task_struct {
	struct audit_context *audit_context; /* CONFIG_AUDITSYSCALL only */
};

struct cred;

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
#define IOU_OP_URING_CMD 46
#define IOU_S_IFMT 00170000
#define IOU_S_IFSOCK 0140000
#define IOU_S_IFBLK 0060000
#define IOU_S_IFCHR 0020000

#endif /* IOU_KERNEL_TYPES_H */
