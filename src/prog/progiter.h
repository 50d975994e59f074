/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* One record per loaded program, written by the bpf_prog iterator (progiter.bpf.c): what
 * `ebee top` needs each interval, read in one pass instead of three syscalls per program. */
#ifndef EBEE_PROGITER_H
#define EBEE_PROGITER_H

#define PROGITER_MAX_CPUS 1024

struct progiter_rec {
	__u32 id;
	__u32 type;
	__u64 load_time;        /* CLOCK_BOOTTIME ns, as bpf_prog_info.load_time */
	__u64 run_cnt;
	__u64 run_time_ns;
	__u64 misses;
};

enum { PROGITER_PROG = 0, PROGITER_LINK = 1, PROGITER_PERF = 2 };

/* One record per fd on a program or a link, from the task_file iterator: who holds what. */
struct progiter_owner {
	__u32 pid;              /* tgid */
	__u32 fd;
	__u32 prog_id;
	__u32 is_link;          /* PROGITER_PROG, PROGITER_LINK or PROGITER_PERF (prog_id 0) */
	char comm[16];
};

#endif
