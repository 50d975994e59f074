// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* Syscall counters aggregated in the kernel: nothing crosses to user space per syscall. One body,
 * three attach variants (tp_btf, raw_tp, tracepoint), chosen by probing (core/load.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "count.h"
#include "core/bpf/filter.bpf.h"

/* Filters and key layout, set before load: checked first, cheapest first. */
const volatile __u32 key_parts = COUNT_BY_UID;
const volatile __u8 all_syscalls = 0;
const volatile __u8 by_syscall_only = 0;     /* key is the syscall alone: use the array */
const volatile __u8 want[COUNT_MAX_SYSCALLS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	/* Sizes, not BTF types: user space shrinks key_size to the parts in use. */
	__uint(key_size, sizeof(struct count_key));
	__uint(value_size, sizeof(__u64));
} counts SEC(".maps");

/* --by syscall alone: an index instead of a hash, the cheapest possible update. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u64);
} by_syscall SEC(".maps");

/* Syscalls not counted because `counts` was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void bump(__u64 *v)
{
	*v += 1;   /* per-CPU value: a plain add, no atomic */
}

/* tp_btf can walk task->cred directly (plain loads); bpf_get_current_uid_gid() costs ~35 ns
 * more per call here. The other variants use the helper. Same value: the uid as seen from the
 * initial user namespace. */
static __always_inline __u32 current_uid(bool btf)
{
	if (btf) {
		struct task_struct *t = bpf_get_current_task_btf();

		return t->cred->uid.val;
	}
	return (__u32)bpf_get_current_uid_gid();
}

static __always_inline int count_syscall(long id, bool btf)
{
	struct count_key key = {};
	__u32 zero = 0, nr = id, tgid, uid = 0;
	__u64 one = 1, *v;

	if (id < 0 || id >= COUNT_MAX_SYSCALLS)
		return 0;
	if (!all_syscalls && !want[nr])
		return 0;
	/* The shared filter block: with no filter given its checks are rodata-false and the
	 * verifier drops them, so the unfiltered path costs what it did. */
	if (!ebee_filter_pass())
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (key_parts & COUNT_BY_UID)
		uid = current_uid(btf);
	if (key_parts & COUNT_BY_COMM)
		bpf_get_current_comm(key.comm, sizeof(key.comm));

	if (by_syscall_only) {
		v = bpf_map_lookup_elem(&by_syscall, &nr);
		if (v)
			bump(v);
		return 0;
	}
	if (key_parts & COUNT_BY_UID)
		key.uid = uid;
	if (key_parts & COUNT_BY_PID)
		key.pid = tgid;
	if (key_parts & COUNT_BY_CGROUP)
		key.cgroup = bpf_get_current_cgroup_id();
	if (key_parts & COUNT_BY_SYSCALL)
		key.syscall = nr;

	v = bpf_map_lookup_elem(&counts, &key);
	if (v) {
		bump(v);
		return 0;
	}
	/* First time for this key. Another CPU may insert it at the same moment: its own per-CPU
	 * slot is separate, so BPF_NOEXIST failing with EEXIST just means look up again. */
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&counts, &key);
		if (v)
			bump(v);
		else if ((v = bpf_map_lookup_elem(&drops, &zero)))
			bump(v);
	}
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(count_tp_btf, struct pt_regs *regs, long id)
{
	return count_syscall(id, true);
}

SEC("raw_tp/sys_enter")
int count_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	return count_syscall(ctx->args[1], false);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int count_tp(struct trace_event_raw_sys_enter *ctx)
{
	return count_syscall(ctx->id, false);
}

/* --pid --children: a process forked by a followed one is followed, until it exits. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(count_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	ebee_filter_fork(parent->tgid, child->tgid);
	return 0;
}

/* The tracepoint has thread ids: a new thread of a followed process (child != its tgid)
 * is followed under its tid too, harmless since no process has that id while it lives. */
SEC("tracepoint/sched/sched_process_fork")
int count_fork_tp(struct trace_event_raw_sched_process_fork *ctx)
{
	ebee_filter_fork(bpf_get_current_pid_tgid() >> 32, ctx->child_pid);
	return 0;
}

static __always_inline void process_exit(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)id == id >> 32)   /* the process, not one of its threads */
		ebee_filter_exit(id >> 32);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(count_exit_btf)
{
	process_exit();
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int count_exit_tp(void *ctx)
{
	process_exit();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
