// SPDX-License-Identifier: GPL-2.0
/*
 * The bare attach floor: empty tp_btf programs on every tracepoint the exporter attaches to
 * (bpf/ops.bpf.c and bpf/rings.bpf.c). What they cost is the price of running *any* BPF program
 * there: the trampoline into the program, its prologue and return. Whatever the exporter costs
 * above this is what its own program bodies (map lookups, the in-flight hash, ...) add.
 *
 * Before 6.3 the submit tracepoint is io_uring_submit_sqe; bench_floor_attach loads only the
 * programs whose tracepoint the running kernel has.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/io_uring_submit_req")
int floor_submit_req(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_submit_sqe")
int floor_submit_sqe(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_complete")
int floor_complete(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_queue_async_work")
int floor_queue_async_work(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_req_failed")
int floor_req_failed(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_create")
int floor_create(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_cqe_overflow")
int floor_cqe_overflow(void *ctx)
{
	return 0;
}

SEC("tp_btf/io_uring_short_write")
int floor_short_write(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
