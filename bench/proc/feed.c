// SPDX-License-Identifier: BSD-2-Clause
/* The process table's feed cost and memory, alone: an exec storm of synthetic processes (pids
 * above pid_max, so that no /proc read answers) through proctab_new(4096), as the events
 * collector feeds it: fork (the parent holds 4 fds), exec, 3 opens and a close, exit, a reap
 * every 1000 processes (the 1 s timer). Prints ns per process and the resident memory the
 * table took (VmRSS after - before). Built against any tree's objects by run.sh, so main's
 * table and a branch's compare in one run.
 * usage: feed N same|distinct   (distinct: every process its own cmdline and one file) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc/proc.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 200000;
	int distinct = argc > 2 && !strcmp(argv[2], "distinct");
	const uint32_t base = 5000000;   /* above pid_max (4194304 at most) */
	const uint64_t sec = 1000000000ull;
	char args[64], file[64];
	long rss0 = rss_kb();
	struct proctab *pt = proctab_new(0);
	uint64_t ts = sec, lookups = 0;
	double t0, t1;

	if (!pt)
		return 1;
	proc_on_exec(pt, base, 1, "/bin/sh", "sh\0-c\0storm", 12, 0, 0, ts);
	fd_on_open(pt, base, 0, "/dev/null");
	fd_on_open(pt, base, 1, "pipe:[1234]");
	fd_on_open(pt, base, 2, "pipe:[1234]");
	fd_on_open(pt, base, 10, "/home/u/storm.sh");
	t0 = now_s();
	for (unsigned i = 1; i <= n; i++) {
		uint32_t pid = base + 1 + i % 60000;
		size_t alen;

		ts += 20000;   /* 50 000 processes a second: the grace period holds 250 000 */
		proc_on_fork(pt, base, pid, ts, ts);
		if (distinct) {
			alen = (size_t)snprintf(args, sizeof(args), "worker%c--id=%u", 0, i) + 1;
			snprintf(file, sizeof(file), "/var/tmp/job.%u", i);
		} else {
			alen = (size_t)snprintf(args, sizeof(args), "true") + 1;
			snprintf(file, sizeof(file), "/etc/ld.so.cache");
		}
		proc_on_exec(pt, pid, ts, "/usr/bin/true", args, alen, 1000, 0, ts);
		fd_on_open(pt, pid, 3, "/etc/ld.so.cache");
		fd_on_close(pt, pid, 3);
		fd_on_open(pt, pid, 3, "/lib/x86_64-linux-gnu/libc.so.6");
		fd_on_open(pt, pid, 4, file);
		lookups += proc_lookup(pt, pid)->exe[0] == '/';
		proc_on_exit(pt, pid, ts);
		if (i % 1000 == 0)
			proc_reap(pt, ts);
	}
	t1 = now_s();
	{
		struct proctab_stats st;
		long rss1 = rss_kb();

		proctab_stats(pt, &st);
		printf("%s %u processes: %.0f ns each, table resident %.1f MB (entries %llu, fds %llu, "
		       "evicted %llu)\n", distinct ? "distinct" : "same", n, (t1 - t0) * 1e9 / n,
		       (rss1 - rss0) / 1024.0, (unsigned long long)st.entries,
		       (unsigned long long)st.fds, (unsigned long long)st.evicted);
	}
	proctab_free(pt);
	return lookups != n;
}
