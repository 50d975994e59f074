/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Types shared by count.bpf.c and count.c: fixed-width, explicit padding. */
#ifndef EBEE_COUNT_H
#define EBEE_COUNT_H

#define COUNT_MAX_SYSCALLS 1024
#define COUNT_COMM_LEN 16

/* Which parts of the key the kernel fills (--by). */
enum count_key_part {
	COUNT_BY_UID     = 1 << 0,
	COUNT_BY_PID     = 1 << 1,
	COUNT_BY_COMM    = 1 << 2,
	COUNT_BY_CGROUP  = 1 << 3,
	COUNT_BY_SYSCALL = 1 << 4,
};

struct count_key {
	__u64 cgroup;                 /* cgroup v2 id */
	__u32 uid;
	__u32 pid;                    /* tgid: the process, as ps shows it */
	__u32 syscall;
	__u32 pad;
	char comm[COUNT_COMM_LEN];
};

#endif
