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

/* The map's key size is cut to the parts in use (8, 16, 24 or 40 bytes, set before load): the
 * kernel hashes key_size bytes, so --by uid does not pay for hashing an empty comm. */
struct count_key {
	__u32 uid;
	__u32 syscall;
	__u32 pid;                    /* tgid: the process, as ps shows it */
	__u32 pad;
	__u64 cgroup;                 /* cgroup v2 id */
	char comm[COUNT_COMM_LEN];
};
#define COUNT_KEY_UID_SYSCALL 8       /* uid, syscall */
#define COUNT_KEY_PID 16              /* + pid */
#define COUNT_KEY_CGROUP 24           /* + cgroup */

#endif
