// SPDX-License-Identifier: BSD-2-Clause
/* What a syscall costs under each syscall hook, on this kernel: a loop of open+close of one
 * file, and a loop of getppid (a syscall no hook traces: what every other syscall of the
 * machine pays), pinned to one CPU and timed in the thread's CPU time, with nothing attached,
 * with one do-nothing program on each kind of hook (hookcost.bpf.c), and under commands given
 * as "cmd:..." (ebee as it is). The configurations are interleaved in every repetition (the
 * order rotates) and the table gives the median and spread of the repetitions.
 *   hookcost [-n N] [-r REPS] [-c CPU] [-s SETTLE_S] CONFIG...
 *   CONFIG: none tp tp_enter btf btf_open raw rawsys cmd:COMMAND */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "hookcost.skel.h"

#define MAXCFG 16
#define MAXREP 64

struct cfg {
	const char *name;
	double oc[MAXREP], pp[MAXREP];   /* ns per open+close, per getppid (CPU time) */
};

static double now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void loops(const char *path, long n, double *oc, double *pp)
{
	double t;

	for (long i = 0; i < n / 20; i++)   /* warm the caches and the hook */
		close(open(path, O_RDONLY));
	t = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);

		if (fd < 0) {
			perror("hookcost: open");
			exit(1);
		}
		close(fd);
	}
	*oc = (now_ns(CLOCK_THREAD_CPUTIME_ID) - t) / n;
	t = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	*pp = (now_ns(CLOCK_THREAD_CPUTIME_ID) - t) / n;
}

static struct bpf_program *prog_of(struct hookcost_bpf *sk, const char *name)
{
	if (!strcmp(name, "tp"))
		return sk->progs.tp_exit_openat;
	if (!strcmp(name, "tp_enter"))
		return sk->progs.tp_enter_openat;
	if (!strcmp(name, "btf") || !strcmp(name, "btf_open"))
		return sk->progs.btf_exit;
	if (!strcmp(name, "raw"))
		return sk->progs.raw_exit;
	if (!strcmp(name, "rawsys"))
		return sk->progs.rawsys_exit;
	return NULL;
}

static pid_t start_cmd(const char *cmd, double settle)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		setpgid(0, 0);
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	usleep((useconds_t)(settle * 1e6));
	if (waitpid(pid, &st, WNOHANG) == pid) {
		fprintf(stderr, "hookcost: '%s' exited before the loop\n", cmd);
		return -1;
	}
	return pid;
}

static void stop_cmd(pid_t pid)
{
	int st;

	kill(pid, SIGINT);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n, double *lo, double *hi)
{
	double s[MAXREP];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp);
	*lo = s[0];
	*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long n = 200000;
	int reps = 8, cpu = 1, opt, ncfg = 0;
	double settle = 3;
	struct cfg cfgs[MAXCFG] = {};
	char path[] = "/tmp/hookcost_XXXXXX";
	struct hookcost_bpf *sk;
	cpu_set_t set;
	int fd;

	while ((opt = getopt(argc, argv, "n:r:c:s:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 's': settle = atof(optarg); break;
		default:
			fprintf(stderr, "usage: hookcost [-n N] [-r REPS] [-c CPU] [-s SETTLE] CONFIG...\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAXREP || n < 1000 || optind >= argc || argc - optind > MAXCFG) {
		fprintf(stderr, "hookcost: 1-%d repetitions, N >= 1000, 1-%d configurations\n",
			MAXREP, MAXCFG);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		cfgs[ncfg++].name = argv[i];
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("hookcost: sched_setaffinity");
		return 1;
	}
	fd = mkstemp(path);
	if (fd < 0) {
		perror("hookcost: mkstemp");
		return 1;
	}
	close(fd);
	sk = hookcost_bpf__open_and_load();
	if (!sk) {
		fprintf(stderr, "hookcost: cannot load hookcost.bpf.o: %s\n", strerror(errno));
		unlink(path);
		return 1;
	}
	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < ncfg; k++) {
			struct cfg *c = &cfgs[(k + r) % ncfg];   /* a rotating order */
			struct bpf_program *p = prog_of(sk, c->name);
			struct bpf_link *l = NULL;
			pid_t pid = 0;

			sk->bss->want_nr = strcmp(c->name, "btf_open") ? -2 : SYS_openat;
			if (p && !(l = bpf_program__attach(p))) {
				fprintf(stderr, "hookcost: cannot attach '%s': %s\n", c->name,
					strerror(errno));
				goto out;
			}
			if (!strncmp(c->name, "cmd:", 4) && (pid = start_cmd(c->name + 4, settle)) < 0)
				goto out;
			if (!p && !pid && strcmp(c->name, "none")) {
				fprintf(stderr, "hookcost: unknown configuration '%s'\n", c->name);
				goto out;
			}
			loops(path, n, &c->oc[r], &c->pp[r]);
			bpf_link__destroy(l);
			if (pid)
				stop_cmd(pid);
		}
	}
	printf("%-40s %24s %8s %24s %8s\n", "hook (cpu ns per op, median [min-max])", "open+close",
	       "+ns", "getppid", "+ns");
	double b_oc = 0, b_pp = 0, lo, hi, lo2, hi2;

	for (int k = 0; k < ncfg; k++)
		if (!strcmp(cfgs[k].name, "none")) {
			b_oc = median(cfgs[k].oc, reps, &lo, &hi);
			b_pp = median(cfgs[k].pp, reps, &lo, &hi);
		}
	for (int k = 0; k < ncfg; k++) {
		double oc = median(cfgs[k].oc, reps, &lo, &hi);
		double pp = median(cfgs[k].pp, reps, &lo2, &hi2);

		printf("%-40.40s %8.0f [%6.0f-%6.0f] %+8.0f %8.0f [%6.0f-%6.0f] %+8.0f\n",
		       cfgs[k].name, oc, lo, hi, b_oc ? oc - b_oc : 0, pp, lo2, hi2,
		       b_pp ? pp - b_pp : 0);
	}
	hookcost_bpf__destroy(sk);
	unlink(path);
	return 0;
out:
	hookcost_bpf__destroy(sk);
	unlink(path);
	return 1;
}
