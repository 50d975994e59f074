// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* Syscall counters aggregated in the kernel: nothing crosses to user space per syscall. One body,
 * three attach variants (tp_btf, raw_tp, tracepoint), chosen by probing (core/load.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "count.h"

/* Filters and key layout, set before load: checked first, cheapest first. */
const volatile __u32 key_parts = COUNT_BY_UID;
const volatile __u8 all_syscalls = 0;
const volatile __u8 by_syscall_only = 0;     /* key is the syscall alone: use the array */
const volatile __u8 want[COUNT_MAX_SYSCALLS] = {};
const volatile __u32 filter_pid = 0;
const volatile __u8 filter_uid_on = 0;
const volatile __u32 filter_uid = 0;
const volatile __u8 filter_comm_on = 0;
const volatile char filter_comm[COUNT_COMM_LEN] = {};
const volatile __u8 filter_cgroup_on = 0;

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

/* --cgroup: the directory's fd; bpf_current_task_under_cgroup also matches descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < COUNT_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

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
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (filter_pid && tgid != filter_pid)
		return 0;
	if (filter_uid_on || (key_parts & COUNT_BY_UID)) {
		uid = current_uid(btf);
		if (filter_uid_on && uid != filter_uid)
			return 0;
	}
	if (filter_comm_on || (key_parts & COUNT_BY_COMM)) {
		bpf_get_current_comm(key.comm, sizeof(key.comm));
		if (filter_comm_on && !comm_matches(key.comm))
			return 0;
		if (!(key_parts & COUNT_BY_COMM))
			__builtin_memset(key.comm, 0, sizeof(key.comm));
	}
	if (filter_cgroup_on && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return 0;

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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
