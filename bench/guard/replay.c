// SPDX-License-Identifier: BSD-2-Clause
/* User-space evaluation cost of ebee guard: a synthetic replay of open and exec events
 * (a realistic mix: most match no rule) through the rules indexed by event type, as
 * `guard run` does, on one core. Prints events/s and ns/event. Usage: replay [RULES.yaml] [N] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard/fields.h"
#include "guard/gevent.h"
#include "guard/rules.h"

static struct proc tree[4];

static const struct proc *anc(void *arg, uint32_t pid, int n)
{
	return n >= 0 && n < 4 ? &tree[n] : NULL;
}

static void mk(struct proc *p, uint32_t pid, const char *comm, const char *exe)
{
	p->pid = pid;
	p->ppid = pid - 1;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	p->cmdline_len = snprintf(p->cmdline, sizeof(p->cmdline), "%s", comm) + 1;
	snprintf(p->container_id, sizeof(p->container_id), "host");
}

int main(int argc, char **argv)
{
	char err[1024];
	const char *file = argc > 1 ? argv[1] : "src/guard/default_rules.yaml";
	long n = argc > 2 ? atol(argv[2]) : 2000000;
	struct guard_ruleset *rs = guard_rules_load(&file, 1, &guard_fields, err, sizeof(err));
	if (!rs) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const struct guard_rule **by[256] = { 0 };
	int nby[256] = { 0 };
	for (int i = 0; i < rs->nrules; i++) {
		const struct guard_rule *r = rs->rules[i];
		if (r->status != RS_EVALUABLE && r->status != RS_DEGRADED)
			continue;
		for (int t = 0; t < guard_evtype_count() && t < 256; t++)
			if (cond_kparts_live_evtype(&r->kp, t) && guard_evtype_source(t)) {
				by[t] = realloc(by[t], (nby[t] + 1) * sizeof(*by[t]));
				by[t][nby[t]++] = r;
			}
	}
	mk(&tree[0], 400, "make", "/usr/bin/make");
	mk(&tree[1], 399, "bash", "/usr/bin/bash");
	mk(&tree[2], 398, "sshd", "/usr/sbin/sshd");
	mk(&tree[3], 1, "systemd", "/usr/lib/systemd/systemd");
	static const struct guard_procs procs = { anc, NULL, NULL };
	struct ebee_event_hdr h = { .pid = 400, .tid = 400, .type = EV_OPEN, .comm = "make" };
	static const char *const paths[] = { "/usr/include/stdio.h", "/tmp/cc1.o", "/etc/ld.so.cache",
					     "/usr/lib/x86_64-linux-gnu/libc.so.6", "/home/u/src/a.c" };
	int s_open = guard_evtype_index("openat"), s_exec = guard_evtype_index("execve");
	uint64_t alerts = 0, evals = 0;
	struct cond_memo memo;
	cond_memo_init(&memo, rs->share);
	struct timespec a, b, ca, cb;
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	for (long i = 0; i < n; i++) {
		struct gevent g = { .hdr = &h, .procs = &procs, .num = i + 1, .fd = -1,
				    .extra_done = true };
		if (i % 10 == 0) {     /* one exec for nine opens */
			g.sc = s_exec;
			g.path = "/usr/bin/cc";
		} else {
			g.sc = s_open;
			g.res = 3;
			g.flags = i % 3 ? O_RDONLY : O_WRONLY | O_CREAT;
			g.path = paths[i % 5];
			g.typechar = 'f';
		}
		cond_memo_next(&memo);
		for (int k = 0; k < nby[g.sc]; k++) {
			evals++;
			alerts += cond_eval_memo(by[g.sc][k]->cond, &g, &memo);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	/* CPU time too: on a loaded machine the wall clock counts other processes' turns */
	double cs = (cb.tv_sec - ca.tv_sec) + (cb.tv_nsec - ca.tv_nsec) / 1e9;
	printf("rules %s: %d rules, %ld events in %.3f s: %.0f events/s, %.0f ns/event, "
	       "%.2f rule evaluations/event, %llu alerts; CPU %.3f s: %.0f events/s, %.0f ns/event; "
	       "%d distinct checks\n",
	       file, rs->nrules, n, s, n / s, s * 1e9 / n, (double)evals / n,
	       (unsigned long long)alerts, cs, n / cs, cs * 1e9 / n, cond_share_slots(rs->share));
	cond_memo_fini(&memo);
	guard_rules_free(rs);
	return 0;
}
