// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* The syscall hooks' own cost, without the events programs' work: each program returns at
 * once (or after testing the syscall number), so what a loop of syscalls pays with one of
 * them attached is the hook mechanism alone. Driven by hookcost.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* the number the sys_exit programs test for (user space sets it before each attach: one no
 * syscall has, or openat) */
long want_nr = 0;
__u64 hits = 0;

/* a per-syscall exit tracepoint: perf_syscall_exit builds its record, then runs the program */
SEC("tracepoint/syscalls/sys_exit_openat")
int tp_exit_openat(void *ctx)
{
	return 0;
}

/* the same at entry (its record copies the six arguments) */
SEC("tracepoint/syscalls/sys_enter_openat")
int tp_enter_openat(void *ctx)
{
	return 0;
}

/* the raw sys_exit with BTF arguments: a direct call with the registers, on every syscall */
SEC("tp_btf/sys_exit")
int BPF_PROG(btf_exit, struct pt_regs *regs, long ret)
{
	if (regs->orig_ax != want_nr)
		return 0;
	hits++;
	return 0;
}

/* the same as a raw_tp: untyped arguments, the number read with a probe read */
SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	if (BPF_CORE_READ(regs, orig_ax) != want_nr)
		return 0;
	hits++;
	return 0;
}

/* raw_syscalls' perf tracepoint: a record per syscall, then the program */
SEC("tracepoint/raw_syscalls/sys_exit")
int rawsys_exit(void *ctx)
{
	return 0;
}
