// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the process table: synthetic event sequences (pids above pid_max, so that no
 * lazy /proc read can answer for them) and real processes this test starts, checked against
 * /proc. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "core/ebee.h"
#include "core/load.h"
#include "proc/proc.h"
#include "proc/strs.h"

#define SEC 1000000000ull

static uint32_t base;   /* first synthetic pid: above pid_max, never in /proc */

static int setup(void **state)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	unsigned int max = 4194304;

	if (f) {
		if (fscanf(f, "%u", &max) != 1)
			max = 4194304;
		fclose(f);
	}
	base = max + 100;
	return 0;
}

static void exec_argv(struct proctab *pt, uint32_t pid, uint64_t start, const char *exe,
		      const char *args, size_t len, uint64_t ts)
{
	proc_on_exec(pt, pid, start, exe, args, len, 1000, 0, ts);
}

static void test_fork_exec_exit(void **state)
{
	struct proctab *pt = proctab_new(64);
	uint32_t r = base, c = base + 1;
	const struct proc *p;
	struct proctab_stats st;

	assert_non_null(pt);
	exec_argv(pt, r, 1 * SEC, "/bin/bash", "bash\0-l", 8, 10);
	p = proc_lookup(pt, r);
	assert_non_null(p);
	assert_string_equal(p->comm, "bash");
	assert_string_equal(p->exe, "/bin/bash");
	assert_int_equal(p->argc, 2);
	assert_int_equal(p->cmdline_len, 8);
	assert_memory_equal(p->cmdline, "bash\0-l", 8);
	assert_int_equal(p->origin, PROC_FROM_EXEC);
	fd_on_open(pt, r, 3, "/etc/passwd");

	proc_on_fork(pt, r, c, 2 * SEC, 20);
	p = proc_lookup(pt, c);
	assert_non_null(p);
	assert_int_equal(p->ppid, r);
	assert_string_equal(p->comm, "bash");        /* inherited until exec */
	assert_int_equal(p->uid, 1000);
	assert_false(p->exited);
	assert_string_equal(fd_lookup(pt, c, 3), "/etc/passwd");   /* fork copies fds */

	exec_argv(pt, c, 2 * SEC, "/usr/bin/ls", "ls\0-la\0/tmp\0", 12, 30);
	p = proc_lookup(pt, c);
	assert_string_equal(p->comm, "ls");
	assert_int_equal(p->argc, 3);
	assert_int_equal(p->ppid, r);
	assert_int_equal(proctab_size(pt), 2);

	proc_on_exit(pt, c, 40);
	p = proc_lookup(pt, c);
	assert_non_null(p);                            /* still resolves in the grace period */
	assert_true(p->exited);
	assert_int_equal(p->exit_ts, 40);
	proc_on_fork(pt, c, c, 2 * SEC, 41);           /* a thread: ignored */
	proctab_stats(pt, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.exited, 1);
	assert_int_equal(st.fds, 2);
	proctab_free(pt);
}

static void test_ancestry(void **state)
{
	struct proctab *pt = proctab_new(64);
	uint32_t a = base, b = base + 1, c = base + 2, d = base + 3;

	exec_argv(pt, a, 1 * SEC, "/sbin/init", "init", 5, 1);
	proc_on_fork(pt, a, b, 2 * SEC, 2);
	proc_on_fork(pt, b, c, 3 * SEC, 3);
	proc_on_fork(pt, c, d, 4 * SEC, 4);
	assert_int_equal(proc_ancestor(pt, d, 0)->pid, d);
	assert_int_equal(proc_ancestor(pt, d, 1)->pid, c);
	assert_int_equal(proc_ancestor(pt, d, 2)->pid, b);
	assert_int_equal(proc_ancestor(pt, d, 3)->pid, a);
	assert_null(proc_ancestor(pt, d, 4));          /* a's parent is unknown (0) */
	/* b exits and its pid is reused by a later process: d's grandparent is gone, not it */
	proc_on_exit(pt, b, 5);
	proc_reap(pt, 5 + PROC_GRACE_NS);
	assert_null(proc_lookup(pt, b));
	exec_argv(pt, b, 9 * SEC, "/bin/true", "true", 5, 6);
	assert_int_equal(proc_ancestor(pt, d, 1)->pid, c);
	assert_null(proc_ancestor(pt, d, 2));
	assert_null(proc_ancestor(pt, base + 50, 1));   /* unknown pid */
	proctab_free(pt);
}

static void test_pid_reuse(void **state)
{
	struct proctab *pt = proctab_new(64);
	uint32_t par = base, x = base + 1;
	const struct proc *p;
	struct proctab_stats st;
	uint32_t gen;

	exec_argv(pt, par, 1 * SEC, "/bin/sh", "sh", 3, 1);
	proc_on_fork(pt, par, x, 2 * SEC, 2);
	exec_argv(pt, x, 2 * SEC, "/usr/bin/old", "old", 4, 3);
	fd_on_open(pt, x, 5, "/var/old.log");
	gen = proc_lookup(pt, x)->gen;

	/* a multi-threaded exec (de_thread) keeps pid and start: same process, same identity */
	exec_argv(pt, x, 2 * SEC + 1000, "/usr/bin/new", "new", 4, 4);
	p = proc_lookup(pt, x);
	assert_int_equal(p->gen, gen);
	assert_string_equal(p->exe, "/usr/bin/new");
	assert_string_equal(fd_lookup(pt, x, 5), "/var/old.log");

	/* the exit was lost and the pid came back with another start: a new process */
	proc_on_fork(pt, par, x, 7 * SEC, 5);
	p = proc_lookup(pt, x);
	assert_int_not_equal(p->gen, gen);
	assert_int_equal(p->start_ns, 7 * SEC);
	assert_string_equal(p->exe, "/bin/sh");         /* the parent's, not the old process's */
	assert_null(fd_lookup(pt, x, 5));               /* the old process's fds went with it */
	gen = p->gen;
	/* and again through an exec whose start differs */
	exec_argv(pt, x, 8 * SEC, "/usr/bin/third", "third", 6, 6);
	p = proc_lookup(pt, x);
	assert_int_not_equal(p->gen, gen);
	assert_string_equal(p->comm, "third");
	proctab_stats(pt, &st);
	assert_int_equal(st.replaced, 2);
	assert_int_equal(proctab_size(pt), 2);
	/* start times from /proc are in ticks: the same start at another granularity matches */
	assert_true(proc_same_start(2 * SEC, 2 * SEC + 1234));
	assert_false(proc_same_start(2 * SEC, 3 * SEC));
	assert_true(proc_same_start(0, 3 * SEC));
	proctab_free(pt);
}

static void test_reap_grace(void **state)
{
	struct proctab *pt = proctab_new(64);
	struct proctab_stats st;

	exec_argv(pt, base, 1 * SEC, "/bin/sh", "sh", 3, 1);
	for (uint32_t i = 1; i <= 10; i++) {
		proc_on_fork(pt, base, base + i, (1 + i) * SEC, i * SEC);
		fd_on_open(pt, base + i, 7, "/tmp/x");
		proc_on_exit(pt, base + i, 10 * SEC + i);
	}
	proc_reap(pt, 10 * SEC + 1 + PROC_GRACE_NS - 1);
	assert_int_equal(proctab_size(pt), 11);        /* the first is 1 ns short of the grace */
	proc_reap(pt, 10 * SEC + 4 + PROC_GRACE_NS);
	assert_int_equal(proctab_size(pt), 7);
	assert_null(proc_lookup(pt, base + 4));
	assert_non_null(proc_lookup(pt, base + 5));
	proc_reap(pt, 100 * SEC);
	proctab_stats(pt, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.reaped, 10);
	assert_int_equal(st.exited, 0);
	assert_int_equal(st.fds, 0);                   /* their fds went with them */
	assert_int_equal(st.evicted, 0);
	proctab_free(pt);
}

static int sum_fds(const struct proc *p, void *arg)
{
	*(uint64_t *)arg += p->nfds;
	return 0;
}

/* 50 000 short-lived processes through a table of 1000: reaped by the timer, and evicted when
 * exits come faster than the grace period lets them go. */
static void test_bound_50k(void **state)
{
	const size_t max = 1000;
	struct proctab *pt = proctab_new(max);
	struct proctab_stats st;
	uint64_t ts = 1 * SEC;
	size_t peak = 0;

	exec_argv(pt, base, 1, "/bin/sh", "sh", 3, ts);
	for (uint32_t i = 1; i <= 50000; i++) {
		uint32_t pid = base + 1 + (i % 30000);   /* pids wrap: reuse as on a busy host */

		ts += 200000;   /* 0.2 ms: 5000 exits per second, 25 000 per grace period */
		proc_on_fork(pt, base, pid, ts, ts);
		exec_argv(pt, pid, ts, "/bin/true", "true", 5, ts);
		fd_on_open(pt, pid, 1, "/dev/null");
		proc_on_exit(pt, pid, ts);
		if (i % 5000 == 0)
			proc_reap(pt, ts);
		if (proctab_size(pt) > peak)
			peak = proctab_size(pt);
	}
	proctab_stats(pt, &st);
	assert_true(peak <= max);
	assert_int_equal(st.entries, max);
	assert_true(st.evicted > 0);
	assert_true(st.fds <= st.fds_max);
	{
		uint64_t nfds = 0;

		proctab_foreach(pt, sum_fds, &nfds);
		assert_int_equal(nfds, st.fds);
	}
	/* the long-lived parent survives: exited entries are evicted first */
	assert_non_null(proc_lookup(pt, base));
	assert_false(proc_lookup(pt, base)->exited);
	/* the most recent one still resolves */
	assert_non_null(proc_lookup(pt, base + 1 + (50000 % 30000)));
	/* everything that left was counted */
	assert_int_equal(st.entries + st.reaped + st.evicted, 50001 - st.replaced);
	proc_reap(pt, ts + PROC_GRACE_NS);
	assert_int_equal(proctab_size(pt), 1);
	proctab_free(pt);
}

/* Random execs, exits and reaps against a model: the pid hash's deletions (backward shift)
 * must never lose or invent an entry. */
static void test_hash_model(void **state)
{
	enum { RANGE = 700 };
	struct proctab *pt = proctab_new(1024);
	static uint64_t exited_at[RANGE];   /* 0 = absent, 1 = live, else exit ts */
	uint64_t ts = SEC;

	srand(42);
	memset(exited_at, 0, sizeof(exited_at));
	for (int op = 0; op < 40000; op++) {
		uint32_t k = (uint32_t)rand() % RANGE;
		int what = rand() % 10;

		ts += 1000000;   /* 1 ms */
		if (what < 5 && exited_at[k] != 1) {
			exec_argv(pt, base + k, ts, "/bin/x", "x", 2, ts);
			exited_at[k] = 1;
		} else if (what < 9 && exited_at[k] == 1) {
			proc_on_exit(pt, base + k, ts);
			exited_at[k] = ts;
		} else if (what == 9) {
			proc_reap(pt, ts);
			for (int j = 0; j < RANGE; j++)
				if (exited_at[j] > 1 && exited_at[j] + PROC_GRACE_NS <= ts)
					exited_at[j] = 0;
		}
		for (int c = 0; c < (op % 4000 ? 4 : RANGE); c++) {
			uint32_t j = op % 4000 ? (uint32_t)rand() % RANGE : (uint32_t)c;
			const struct proc *p = proc_lookup(pt, base + j);

			if (!exited_at[j]) {
				assert_null(p);
				continue;
			}
			assert_non_null(p);
			assert_int_equal(p->pid, base + j);
			assert_int_equal(p->exited, exited_at[j] > 1);
		}
	}
	proctab_free(pt);
}

static void test_fd_table(void **state)
{
	struct proctab *pt = proctab_new(16);
	struct proctab_stats st;
	char longp[400];

	exec_argv(pt, base, 1 * SEC, "/bin/sh", "sh", 3, 1);
	fd_on_open(pt, base, 3, "socket:tcp 127.0.0.1:80");
	fd_on_dup(pt, base, 3, 10);
	assert_string_equal(fd_lookup(pt, base, 10), "socket:tcp 127.0.0.1:80");
	fd_on_close(pt, base, 3);
	assert_null(fd_lookup(pt, base, 3));
	assert_string_equal(fd_lookup(pt, base, 10), "socket:tcp 127.0.0.1:80");
	fd_on_open(pt, base, 10, "/etc/hosts");        /* fd number reused */
	assert_string_equal(fd_lookup(pt, base, 10), "/etc/hosts");
	fd_on_dup(pt, base, 99, 11);                   /* unknown source: nothing invented */
	assert_null(fd_lookup(pt, base, 11));
	fd_on_open(pt, base, -2, "/nope");             /* a failed open */
	fd_on_open(pt, base + 77, 3, "/x");            /* an unknown process */
	assert_null(fd_lookup(pt, base + 77, 3));

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	fd_on_open(pt, base, 4, longp);
	assert_int_equal(strlen(fd_lookup(pt, base, 4)), PROC_FD_PATH_LEN - 1);
	assert_string_equal(fd_lookup(pt, base, 4) + PROC_FD_PATH_LEN - 4, "...");

	/* per process: the 64 most recent */
	for (int fd = 100; fd < 200; fd++)
		fd_on_open(pt, base, fd, "/tmp/f");
	assert_int_equal(proc_lookup(pt, base)->nfds, PROC_FDS_PER_PROC);
	assert_null(fd_lookup(pt, base, 100));
	assert_non_null(fd_lookup(pt, base, 199));
	assert_non_null(fd_lookup(pt, base, 136));
	assert_null(fd_lookup(pt, base, 135));
	/* in all: 16 entries * PROC_FDS_AVG (forks copy the parent's 64, then 40 more each) */
	for (uint32_t i = 1; i < 16; i++) {
		proc_on_fork(pt, base, base + i, (1 + i) * SEC, 2);
		for (int fd = 0; fd < 40; fd++)
			fd_on_open(pt, base + i, fd, "/tmp/g");
	}
	proctab_stats(pt, &st);
	assert_int_equal(st.fds_max, 16 * PROC_FDS_AVG);
	assert_int_equal(st.fds, st.fds_max);
	assert_true(st.fds_evicted > 0);
	assert_non_null(fd_lookup(pt, base + 15, 39));
	assert_true(proc_lookup(pt, base + 15)->nfds <= PROC_FDS_PER_PROC);
	proctab_free(pt);
}

static void test_truncation(void **state)
{
	struct proctab *pt = proctab_new(8);
	char exe[400], args[1000];
	const struct proc *p;

	memset(exe, 'e', sizeof(exe));
	exe[0] = '/';
	exe[sizeof(exe) - 1] = '\0';
	for (size_t i = 0; i < sizeof(args); i++)
		args[i] = i % 10 == 9 ? '\0' : 'x';        /* 100 args of 9 bytes */
	proc_on_exec(pt, base, SEC, exe, args, sizeof(args), 0, 0, 1);
	p = proc_lookup(pt, base);
	assert_true(p->trunc & PROC_TRUNC_EXE);
	assert_int_equal(strlen(p->exe), PROC_EXE_LEN - 1);
	assert_true(p->trunc & PROC_TRUNC_CMDLINE);
	assert_int_equal(p->argc, 100);
	assert_int_equal(p->cmdline_len, PROC_CMDLINE_LEN);
	assert_int_equal(p->cmdline[PROC_CMDLINE_LEN - 1], '\0');
	assert_int_equal(strlen(p->comm), PROC_COMM_LEN - 1);
	/* an exec with 0 args and a short exe clears the marks */
	proc_on_exec(pt, base, SEC, "/bin/x", "", 0, 0, 0, 2);
	assert_int_equal(p->trunc, 0);
	assert_int_equal(p->argc, 0);
	assert_int_equal(p->cmdline_len, 0);
	proctab_free(pt);
}

/* ---- the text store ---------------------------------------------------------------------- */

static void test_strs_intern_free(void **state)
{
	struct strs s;
	const char *a, *b, *c, *d, *big;
	char huge[STRS_MAX_LEN + 2];

	assert_int_equal(strs_init(&s, 1 << 20, 64), 0);
	a = strs_get(&s, "/usr/bin/true", 13);
	b = strs_get(&s, "/usr/bin/true!", 13);        /* the same 13 bytes */
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_string_equal(a, "/usr/bin/true");
	assert_int_equal(s.n, 1);
	c = strs_get(&s, "a\0b\0", 4);                   /* NULs inside: a cmdline */
	assert_memory_equal(c, "a\0b\0", 5);
	assert_ptr_not_equal(strs_get(&s, "a\0b", 3), c); /* another length, another text */
	assert_int_equal(s.n, 3);
	assert_ptr_equal(strs_dup(&s, a, 13), a);        /* a stored text: a reference more */
	assert_ptr_equal(strs_ref(&s, a), a);
	assert_string_equal(strs_get(&s, "", 0), "");
	assert_ptr_equal(strs_ref(&s, ""), "");          /* outside the store: nothing to count */
	strs_put(&s, "");
	strs_put(&s, NULL);
	/* four references to a: the fourth put frees it, and its slot is the next one taken */
	for (int i = 0; i < 3; i++) {
		strs_put(&s, a);
		assert_int_equal(s.n, 3);
		assert_ptr_equal(strs_get(&s, "/usr/bin/true", 13), a);
		strs_put(&s, a);
	}
	strs_put(&s, a);
	assert_int_equal(s.n, 2);
	assert_string_equal(a, "/usr/bin/true");         /* a stale pointer still reads a text */
	d = strs_get(&s, "/usr/bin/false", 14);         /* same class: the freed slot */
	assert_ptr_equal(d, a);
	assert_string_equal(a, "/usr/bin/false");
	assert_ptr_not_equal(strs_get(&s, "/usr/bin/true", 13), d);   /* not found any more */
	/* dup of a stale pointer: a copy in a slot of its own, the free list left intact */
	{
		const char *e = strs_get(&s, "/tmp/stale-x", 12), *f, *g;
		uint64_t n = s.n;

		strs_put(&s, e);
		f = strs_dup(&s, e, 12);
		assert_string_equal(f, "/tmp/stale-x");
		assert_int_equal(s.n, n);
		g = strs_get(&s, "/tmp/other-y", 12);    /* takes a slot, never f's */
		assert_ptr_not_equal(g, f);
		assert_string_equal(f, "/tmp/stale-x");
		assert_ptr_equal(strs_get(&s, "/tmp/stale-x", 12), f);   /* f is interned */
	}
	/* too long for any class: refused, not cut (callers cut) */
	memset(huge, 'x', sizeof(huge));
	assert_null(strs_get(&s, huge, STRS_MAX_LEN + 1));
	big = strs_get(&s, huge, STRS_MAX_LEN);
	assert_non_null(big);
	assert_int_equal(strlen(big), STRS_MAX_LEN);
	assert_int_equal(s.full, 0);
	strs_fini(&s);
	strs_fini(&s);                                   /* finished twice: fine */
}

static void test_strs_full(void **state)
{
	struct strs s;
	char t[300];
	const char *got[1000];
	int n = 0, small = 0;

	/* the least there is: a page per class */
	assert_int_equal(strs_init(&s, 1, 16), 0);
	assert_int_equal(s.cap, 9 * 4096);
	memset(t, 'p', sizeof(t));
	for (; n < 1000; n++) {
		snprintf(t, sizeof(t), "%04d", n);
		t[4] = 'p';
		if (!(got[n] = strs_get(&s, t, 250)))
			break;
	}
	/* 250 bytes: 288-byte slots, 14 a page, 9 pages */
	assert_int_equal(n, 9 * 14);
	assert_int_equal(s.full, 1);
	assert_null(strs_get(&s, "short", 5));          /* every page is given out: none for 48 */
	assert_int_equal(s.full, 2);
	assert_non_null(strs_get(&s, got[0], 250));     /* a stored text is still found */
	strs_put(&s, got[0]);
	/* freed slots of a bigger class take smaller texts */
	strs_put(&s, got[5]);
	assert_non_null(strs_get(&s, "short", 5));
	assert_null(strs_get(&s, "short2", 6));
	for (int i = 6; i < n; i++)
		strs_put(&s, got[i]);
	for (; small < 1000 && strs_get(&s, t, small % 2 ? 100 : 20); small++)
		t[0] = (char)('A' + small % 50), t[1] = (char)('A' + small / 50);
	assert_int_equal(small, n - 6);                  /* every freed slot reused, then full */
	assert_int_equal(s.bytes, (uint64_t)(n - 6 + 5 + 1) * 288);
	strs_fini(&s);
}

/* Texts in the table: shared by the processes that have them, gone with the last of them. */
static void test_texts_shared(void **state)
{
	struct proctab *pt = proctab_new(4096);
	struct proctab_stats st, st0;
	const struct proc *p, *q;

	exec_argv(pt, base, SEC, "/bin/sh", "sh\0-c\0loop", 11, 1);
	fd_on_open(pt, base, 1, "/dev/null");
	proctab_stats(pt, &st0);
	assert_int_equal(st0.texts, 3);                  /* exe, cmdline, the fd */
	assert_true(st0.text_max >= 4096 * PROC_TEXT_PER_PROC);
	/* an exec storm of one program: 3000 processes, two texts more in all */
	for (uint32_t i = 1; i <= 3000; i++) {
		proc_on_fork(pt, base, base + i, (1 + i) * SEC, 2);
		exec_argv(pt, base + i, (1 + i) * SEC, "/bin/true", "true", 5, 3);
		fd_on_open(pt, base + i, 3, "/lib/x86_64-linux-gnu/libc.so.6");
		fd_on_close(pt, base + i, 3);
		fd_on_open(pt, base + i, 3, "/etc/ld.so.cache");
	}
	proctab_stats(pt, &st);
	assert_int_equal(st.entries, 3001);
	assert_int_equal(st.texts, 3 + 3);              /* + exe, cmdline, ld.so.cache */
	assert_int_equal(st.text_full, 0);
	p = proc_lookup(pt, base + 1);
	q = proc_lookup(pt, base + 3000);
	assert_ptr_equal(p->exe, q->exe);
	assert_ptr_equal(p->cmdline, q->cmdline);
	assert_ptr_equal(fd_lookup(pt, base + 1, 1), fd_lookup(pt, base, 1));   /* fork's copy */
	assert_ptr_equal(fd_lookup(pt, base + 1, 3), fd_lookup(pt, base + 2999, 3));
	/* dup: the same text; closing both drops it */
	fd_on_open(pt, base, 7, "socket:tcp 127.0.0.1:80");
	fd_on_dup(pt, base, 7, 8);
	assert_ptr_equal(fd_lookup(pt, base, 7), fd_lookup(pt, base, 8));
	proctab_stats(pt, &st);
	assert_int_equal(st.texts, 7);
	fd_on_close(pt, base, 7);
	assert_string_equal(fd_lookup(pt, base, 8), "socket:tcp 127.0.0.1:80");
	fd_on_close(pt, base, 8);
	/* pid reuse: the new process's texts replace the old one's */
	exec_argv(pt, base + 1, 9000 * SEC, "/usr/bin/other", "other", 6, 4);
	p = proc_lookup(pt, base + 1);
	assert_string_equal(p->exe, "/usr/bin/other");
	assert_null(fd_lookup(pt, base + 1, 3));
	proctab_stats(pt, &st);
	assert_int_equal(st.texts, 6 + 2);
	/* all of the storm gone: back to the parent's texts */
	for (uint32_t i = 1; i <= 3000; i++)
		proc_on_exit(pt, base + i, 5);
	proc_reap(pt, 5 + PROC_GRACE_NS);
	proctab_stats(pt, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.texts, st0.texts);
	assert_int_equal(st.text_bytes, st0.text_bytes);
	proctab_free(pt);
}

/* A full store: the texts that do not fit are dropped and said to be (trunc bits, text_full,
 * an fd not recorded); freeing makes room again. */
static void test_texts_full(void **state)
{
	struct proctab *pt = proctab_new(16);   /* the least store: 36 KB */
	struct proctab_stats st;
	const struct proc *p;
	char path[220];
	int fd, kept = 0;

	memset(path, 'q', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	/* two processes of 64 distinct 219-byte fd paths: 128 texts of 288 bytes, more than the
	 * 8 pages left after the first (exe and cmdline) hold */
	for (uint32_t k = 0; k < 2; k++) {
		exec_argv(pt, base + k, SEC, "/bin/sh", "sh", 3, 1);
		for (fd = 0; fd < PROC_FDS_PER_PROC; fd++) {
			snprintf(path + 1, 6, "%d%04d", k, fd);
			path[6] = 'q';
			fd_on_open(pt, base + k, fd, path);
			kept += fd_lookup(pt, base + k, fd) != NULL;
		}
	}
	proctab_stats(pt, &st);
	assert_int_equal(st.text_max, 9 * 4096);
	assert_int_equal(kept, 8 * 14);
	assert_int_equal(st.text_full, 2 * PROC_FDS_PER_PROC - kept);
	assert_int_equal(st.fds, kept);
	assert_int_equal(proc_lookup(pt, base + 1)->nfds, kept - PROC_FDS_PER_PROC);
	/* an exec into a new long exe: kept as "" with the trunc bit */
	exec_argv(pt, base, SEC, path, "x\0", 2, 2);
	p = proc_lookup(pt, base);
	assert_string_equal(p->exe, "");
	assert_true(p->trunc & PROC_TRUNC_EXE);
	assert_int_equal(p->cmdline_len, 2);             /* short texts: their class had room */
	/* room again */
	for (fd = 0; fd < PROC_FDS_PER_PROC; fd++)
		fd_on_close(pt, base, fd);
	exec_argv(pt, base, SEC, path, "x\0", 2, 3);
	p = proc_lookup(pt, base);
	assert_string_equal(p->exe, path);
	assert_false(p->trunc & PROC_TRUNC_EXE);
	proctab_free(pt);
}

/* ---- real processes ---------------------------------------------------------------------- */

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static bool cmdline_ready(pid_t pid)
{
	char path[64], buf[8];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0;
}

static void wait_exec(pid_t pid, const char *exe)
{
	char path[64], link[256];

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	for (int i = 0; i < 500; i++) {
		ssize_t n = readlink(path, link, sizeof(link) - 1);

		if (n > 0) {
			link[n] = '\0';
			/* /proc/PID/exe switches to the new file in the middle of exec, before the new
			 * argument area exists: until cmdline has bytes, the exec is not done. */
			if (!strcmp(link, exe) && cmdline_ready(pid))
				return;
		}
		usleep(2000);
	}
	fail_msg("child %d never exec'd %s", pid, exe);
}

static void *thread_main(void *arg)
{
	pid_t *tid = arg;

	__atomic_store_n(tid, gettid(), __ATOMIC_RELEASE);
	while (__atomic_load_n(tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

static void test_real_seed_and_lazy(void **state)
{
	struct proctab *pt = proctab_new(0);
	char *const argv[] = { "/bin/sleep", "30", NULL };
	char exe[256], path[64];
	const struct proc *p, *self;
	struct proctab_stats st;
	pid_t kids[3];
	ssize_t n;
	int fd, seeded;

	assert_non_null(pt);
	seeded = proctab_seed(pt);
	assert_true(seeded > 1);
	self = proc_lookup(pt, (uint32_t)getpid());
	assert_non_null(self);
	assert_int_equal(self->origin, PROC_FROM_SEED);
	assert_int_equal(self->ppid, getppid());
	assert_int_equal(self->uid, getuid());
	assert_int_equal(self->euid, geteuid());
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(self->exe, exe);
	assert_string_equal(proc_cwd(pt, (uint32_t)getpid()), getcwd(path, sizeof(path)) ? path : "?");
	assert_true(self->container_id[0] != '\0');
	if (ebee_cgroup2_path())
		assert_true(self->cgroup_id != 0);
	assert_non_null(proc_lookup(pt, 1));
	assert_int_equal(proc_ancestor(pt, (uint32_t)getpid(), 1)->pid, getppid());

	/* children started after the seed: found by the lazy read, checked against /proc */
	for (int i = 0; i < 3; i++)
		kids[i] = spawn(argv);
	for (int i = 0; i < 3; i++) {
		struct proc direct;
		struct proc_text direct_text;

		wait_exec(kids[i], "/usr/bin/sleep");
		p = proc_lookup(pt, (uint32_t)kids[i]);
		assert_non_null(p);
		assert_int_equal(p->origin, PROC_FROM_LAZY);
		assert_int_equal(p->ppid, getpid());
		assert_string_equal(p->exe, "/usr/bin/sleep");
		assert_string_equal(p->comm, "sleep");
		assert_int_equal(p->argc, 2);
		assert_memory_equal(p->cmdline, "/bin/sleep\0" "30", 14);
		assert_true(procfs_read((uint32_t)kids[i], &direct, &direct_text));
		assert_int_equal(p->start_ns, direct.start_ns);
		assert_true(p->start_ns >= self->start_ns);
		assert_int_equal(proc_ancestor(pt, (uint32_t)kids[i], 1)->pid, getpid());
		assert_int_equal(proc_ancestor(pt, (uint32_t)kids[i], 2)->pid, getppid());
	}
	/* a thread id answers in /proc but is not a process */
	{
		pthread_t th;
		pid_t tid = -1;

		assert_int_equal(pthread_create(&th, NULL, thread_main, &tid), 0);
		while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE) || tid == -1)
			usleep(1000);
		assert_null(proc_lookup(pt, (uint32_t)tid));
		__atomic_store_n(&tid, 0, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	/* an fd older than the table: read lazily from /proc/PID/fd, then known */
	fd = open("/etc/hostname", O_RDONLY);
	assert_true(fd >= 0);
	assert_string_equal(fd_lookup(pt, (uint32_t)getpid(), fd), "/etc/hostname");
	close(fd);
	assert_string_equal(fd_lookup(pt, (uint32_t)getpid(), fd), "/etc/hostname");   /* no close event fed */
	fd_on_close(pt, (uint32_t)getpid(), fd);
	assert_null(fd_lookup(pt, (uint32_t)getpid(), fd));
	proctab_stats(pt, &st);
	assert_int_equal(st.fds_lazy, 1);
	assert_int_equal(st.lazy_seeded, 3);

	for (int i = 0; i < 3; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	/* a dead pid: not invented, and the miss is remembered (no second /proc read) */
	proctab_stats(pt, &st);
	assert_null(proc_lookup(pt, base + 5));
	assert_null(proc_lookup(pt, base + 5));
	{
		struct proctab_stats st2;

		proctab_stats(pt, &st2);
		assert_int_equal(st2.lazy_misses, st.lazy_misses + 1);
	}
	proctab_free(pt);
}

/* What test_real_container_and_cwd made, undone even when an assertion fails. */
static pid_t ckid = -1;
static char ccg[512];

static int container_teardown(void **state)
{
	if (ckid > 0) {
		kill(ckid, SIGKILL);
		waitpid(ckid, NULL, 0);
	}
	ckid = -1;
	if (ccg[0])
		rmdir(ccg);
	ccg[0] = '\0';
	return 0;
}

/* A child in a cgroup named like a docker scope shows its container id; a deleted cwd is
 * marked as the kernel marks it. */
static void test_real_container_and_cwd(void **state)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *root = ebee_cgroup2_path();
	char *cg = ccg, procs[600], dir[] = "/tmp/ebee-proc-XXXXXX", buf[16];
	struct proctab *pt = proctab_new(64);
	const struct proc *p;
	int pipefd[2], fd;
	struct stat st;
	pid_t kid;

	if (!root || geteuid()) {
		proctab_free(pt);
		skip();
	}
	snprintf(cg, sizeof(ccg), "%s/docker-%s.scope", root, id);
	if (mkdir(cg, 0755) && errno != EEXIST) {
		ccg[0] = '\0';
		proctab_free(pt);
		skip();
	}
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(pipefd), 0);
	ckid = kid = fork();
	if (kid == 0) {
		char c;

		close(pipefd[1]);
		if (chdir(dir) || rmdir(dir))
			_exit(1);
		if (read(pipefd[0], &c, 1) < 0)   /* until the parent has looked */
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	fd = open(procs, O_WRONLY);
	assert_true(fd >= 0);
	snprintf(buf, sizeof(buf), "%d", kid);
	assert_true(write(fd, buf, strlen(buf)) > 0);
	close(fd);
	for (int i = 0; i < 500 && !stat(dir, &st); i++)
		usleep(2000);   /* the child's rmdir */
	p = proc_lookup(pt, (uint32_t)kid);
	assert_non_null(p);
	assert_string_equal(p->container_id, "0123456789ab");
	assert_true(strstr(p->cgroup, "docker-0123456789abcdef") != NULL);
	assert_true(!stat(cg, &st) && p->cgroup_id == st.st_ino);
	assert_true(strlen(p->cwd) > 10);
	assert_string_equal(p->cwd + strlen(p->cwd) - 10, " (deleted)");

	/* an exec event that names another cgroup id moves the process out of the container */
	if (!stat(root, &st)) {
		proc_on_exec(pt, (uint32_t)kid, p->start_ns, "/bin/true", "true", 5, 0, st.st_ino, 1);
		p = proc_lookup(pt, (uint32_t)kid);
		assert_string_equal(p->cgroup, "/");
		assert_string_equal(p->container_id, "host");
	}
	close(pipefd[1]);
	waitpid(kid, NULL, 0);
	ckid = -1;
	assert_int_equal(rmdir(cg), 0);
	ccg[0] = '\0';
	proctab_free(pt);
}

/* The one fd walk shared by tcp and prog: finds an fd this test holds. */
static int find_fd(struct procfs_fd *f, void *arg)
{
	int *want = arg;

	if (f->pid == (uint32_t)getpid() && f->fd == want[0] && !strcmp(f->link, "/etc/hostname")) {
		want[1] = !strcmp(procfs_walk_comm(f), "test_proc");
		return 1;
	}
	return 0;
}

static void test_walk_fds(void **state)
{
	int want[2] = { open("/etc/hostname", O_RDONLY), -1 };

	assert_true(want[0] >= 0);
	assert_true(procfs_walk_fds(false, find_fd, want) > 0);
	assert_int_equal(want[1], 1);
	want[1] = -1;
	procfs_walk_fds(true, find_fd, want);
	assert_int_equal(want[1], -1);   /* skip_self */
	close(want[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_exec_exit),
		cmocka_unit_test(test_ancestry),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_reap_grace),
		cmocka_unit_test(test_bound_50k),
		cmocka_unit_test(test_hash_model),
		cmocka_unit_test(test_fd_table),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_strs_intern_free),
		cmocka_unit_test(test_strs_full),
		cmocka_unit_test(test_texts_shared),
		cmocka_unit_test(test_texts_full),
		cmocka_unit_test(test_real_seed_and_lazy),
		cmocka_unit_test_teardown(test_real_container_and_cwd, container_teardown),
		cmocka_unit_test(test_walk_fds),
	};

	return cmocka_run_group_tests_name("proc", tests, setup, NULL);
}
