/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* The filter block (core/filter.h) checked in the kernel before anything is built or emitted:
 * cheapest checks first. An object that includes this declares the rodata constant and the two
 * maps; user space fills them (filter_load_maps). */
#ifndef EBEE_FILTER_BPF_H
#define EBEE_FILTER_BPF_H

#include "core/filter_k.h"

const volatile struct ebee_filter_k ebee_filter = {};

/* --cgroup / --container: directories whose tasks (and their descendants') pass. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, EBEE_FILTER_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} ebee_cgroups SEC(".maps");

/* --pid --children: tgids that pass; fork adds a child of a followed process
 * (ebee_filter_fork), exit removes it (ebee_filter_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} ebee_follow SEC(".maps");

static __always_inline bool ebee_comm_eq(const char *a, const volatile char *b)
{
	for (int i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			break;
	}
	return true;
}

/* True when the current task passes the filter. */
static __always_inline bool ebee_filter_pass(void)
{
	__u32 tgid;

	if (ebee_filter.pid_on) {
		tgid = bpf_get_current_pid_tgid() >> 32;
		if (ebee_filter.children) {
			if (!bpf_map_lookup_elem(&ebee_follow, &tgid))
				return false;
		} else if (tgid != ebee_filter.pid) {
			return false;
		}
	}
	if (ebee_filter.uid_on && (__u32)bpf_get_current_uid_gid() != ebee_filter.uid)
		return false;
	if (ebee_filter.comm_on) {
		char comm[16];

		bpf_get_current_comm(comm, sizeof(comm));
		if (!ebee_comm_eq(comm, ebee_filter.comm))
			return false;
	}
	if (ebee_filter.ncgroups) {
		bool in = false;

		for (__u32 i = 0; i < EBEE_FILTER_CGROUPS && i < ebee_filter.ncgroups; i++)
			if (bpf_current_task_under_cgroup(&ebee_cgroups, i) == 1) {
				in = true;
				break;
			}
		if (!in)
			return false;
	}
	return true;
}

/* From sched_process_fork: a new process of a followed one is followed too. Threads share the
 * tgid and need nothing. */
static __always_inline void ebee_filter_fork(__u32 parent_tgid, __u32 child_tgid)
{
	__u8 one = 1;

	if (!ebee_filter.children || parent_tgid == child_tgid)
		return;
	if (bpf_map_lookup_elem(&ebee_follow, &parent_tgid))
		bpf_map_update_elem(&ebee_follow, &child_tgid, &one, BPF_ANY);
}

static __always_inline void ebee_filter_exit(__u32 tgid)
{
	if (ebee_filter.children)
		bpf_map_delete_elem(&ebee_follow, &tgid);
}

#endif
