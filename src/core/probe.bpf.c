// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* Tiny programs whose only purpose is to be loaded and attached once, to learn what this kernel
 * allows (core/load.c). Each is loaded on its own with the others' autoload off. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} probe_rb SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_tp(void *ctx) { return 0; }

SEC("raw_tp/sys_enter")
int probe_raw_tp(void *ctx) { return 0; }

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf, struct pt_regs *regs, long id) { return 0; }

SEC("kprobe/vfs_read")
int probe_kprobe(void *ctx) { return 0; }

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry) { return 0; }

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file) { return 0; }

SEC("uprobe")
int probe_uprobe(void *ctx) { return 0; }

SEC("tc")
int probe_tc(struct __sk_buff *skb) { return -1; /* TC_ACT_UNSPEC / TCX_NEXT: pass on */ }

SEC("xdp")
int probe_xdp(struct xdp_md *ctx) { return 2; /* XDP_PASS */ }

SEC("cgroup_skb/ingress")
int probe_cgroup_skb(struct __sk_buff *skb) { return 1; }

SEC("cgroup/connect4")
int probe_sock_addr(struct bpf_sock_addr *ctx) { return 1; }

SEC("perf_event")
int probe_perf_event(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_ringbuf(void *ctx)
{
	bpf_ringbuf_output(&probe_rb, &ctx, sizeof(ctx), BPF_RB_NO_WAKEUP);
	return 0;
}

/* What events.bpf.c does at each syscall exit: the caller's saved user registers through a
 * BTF pointer, read with plain loads. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_task_pt_regs(void *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return PT_REGS_PARM1_SYSCALL(regs) == 0;
}

SEC("iter/bpf_prog")
int probe_iter(struct bpf_iter__bpf_prog *ctx) { return 0; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
