/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* The filter block as the kernel sees it (a rodata constant named ebee_filter). */
#ifndef EBEE_FILTER_K_H
#define EBEE_FILTER_K_H

#define EBEE_FILTER_CGROUPS 8

struct ebee_filter_k {
	__u32 pid;              /* tgid; 0 = any */
	__u32 uid;
	__u8 pid_on;
	__u8 children;          /* pid matches through the follow map (fork adds children) */
	__u8 uid_on;
	__u8 comm_on;
	__u8 ncgroups;          /* cgroup array slots in use (--cgroup, --container) */
	__u8 pad[3];
	char comm[16];
};

#endif
