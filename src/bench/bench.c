// SPDX-License-Identifier: BSD-2-Clause
/* `ebee bench`: what BPF programs cost on a workload, like ebpfbench.
 *
 * Programs are either already loaded (--prog ID|NAME, e.g. a peer such as execsnoop while it
 * runs) or loaded for the traced runs by an ebee feature (--feature 'count --syscall getppid'):
 * ebee runs its own binary (/proc/self/exe) with that command, waits until the process holds
 * BPF programs, and measures the programs that process holds — generic over features. With a
 * feature, runs alternate baseline (nothing loaded) and traced, so the workload's slowdown is
 * measured in the same session. The workload is built in (--workload, --n ops) or a command
 * (after --). Stats are on while bench runs (BPF_ENABLE_STATS fd). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "commands.h"
#include "core/loop.h"
#include "core/out.h"
#include "prog/progstat.h"

#define BENCH_MAX_RUNS  100
#define BENCH_MAX_PROGS 64
#define FEATURE_MAX_ARGS 32

extern char **environ;

struct bench_cfg {
	struct opt_list prog;
	const char *feature;
	const char *workload;
	unsigned long long n;
	unsigned long long runs;
	double ready_timeout;
	bool keep_stats;
};

static const struct bench_cfg bench_default = { .workload = "syscall", .runs = 5, .ready_timeout = 20 };

enum wl { WL_EXEC, WL_OPEN, WL_CONNECT, WL_SYSCALL, WL_CMD };
static const char *const wl_names[] = { "exec", "open", "connect", "syscall", "command" };
static const unsigned long long wl_default_n[] = { 500, 50000, 5000, 500000, 1 };

/* Per program (by id with --prog; by type+name with --feature, whose ids change every run). */
struct bprog {
	uint32_t id, type;
	char name[PS_NAME_LEN];
	uint64_t runs, ns;             /* totals over the traced runs */
	double nsrun[BENCH_MAX_RUNS];  /* ns/run of each traced run where it ran */
	int nr;
	uint64_t before_runs, before_ns;
	bool present;                  /* in this run */
};

struct bench {
	struct bench_cfg *cfg;
	struct ebee_loop *l;
	enum wl wl;
	char **cmd;                    /* WL_CMD argv */
	unsigned long long n;
	char tmpfile[64];
	int lfd;                       /* WL_CONNECT listener */
	struct sockaddr_in addr;
	struct bprog p[BENCH_MAX_PROGS];
	int np;
	double base[BENCH_MAX_RUNS], traced[BENCH_MAX_RUNS];   /* ns per op */
	int nbase, ntraced;
	pid_t child;
	char feat_buf[512];
	char *feat_argv[FEATURE_MAX_ARGS + 2];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- workloads ------------------------------------------------------------------------ */

/* A child gets the default signal mask back (the loop blocks SIGINT for its signalfd). */
static void spawn_attr(posix_spawnattr_t *a)
{
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_init(a);
	posix_spawnattr_setsigmask(a, &none);
	posix_spawnattr_setflags(a, POSIX_SPAWN_SETSIGMASK);
}

static int wl_setup(struct bench *b)
{
	if (b->wl == WL_OPEN) {
		snprintf(b->tmpfile, sizeof(b->tmpfile), "/tmp/ebee_bench_open.XXXXXX");
		int fd = mkstemp(b->tmpfile);
		if (fd < 0) {
			b->tmpfile[0] = '\0';
			ebee_err("cannot create the open workload's file: %s", strerror(errno));
			return -errno;
		}
		close(fd);
	} else if (b->wl == WL_CONNECT) {
		socklen_t len = sizeof(b->addr);
		b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&b->addr, 0, sizeof(b->addr));
		b->addr.sin_family = AF_INET;
		b->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (b->lfd < 0 || bind(b->lfd, (void *)&b->addr, sizeof(b->addr)) ||
		    listen(b->lfd, 128) || getsockname(b->lfd, (void *)&b->addr, &len)) {
			int err = -errno;
			ebee_err("cannot listen on 127.0.0.1 for the connect workload: %s", strerror(errno));
			return err;
		}
	}
	return 0;
}

static void wl_cleanup(struct bench *b)
{
	if (b->tmpfile[0])
		unlink(b->tmpfile);
	if (b->lfd >= 0)
		close(b->lfd);
}

/* Runs the workload once; returns ns per op (> 0) or -errno. */
static double wl_run(struct bench *b)
{
	uint64_t t0 = mono_ns();
	posix_spawnattr_t a;
	char *true_argv[] = { "true", NULL };
	int st, err = 0;
	pid_t pid;

	switch (b->wl) {
	case WL_SYSCALL:
		for (unsigned long long i = 0; i < b->n; i++)
			syscall(SYS_getppid);
		break;
	case WL_OPEN:
		for (unsigned long long i = 0; i < b->n; i++) {
			int fd = open(b->tmpfile, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			close(fd);
		}
		break;
	case WL_CONNECT:
		for (unsigned long long i = 0; i < b->n; i++) {
			int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;
			if (c < 0)
				return -errno;
			if (connect(c, (void *)&b->addr, sizeof(b->addr)) || (s = accept(b->lfd, NULL, NULL)) < 0) {
				err = -errno;
				close(c);
				return err;
			}
			close(c);
			close(s);
		}
		break;
	case WL_EXEC:
		spawn_attr(&a);
		for (unsigned long long i = 0; i < b->n && !err; i++) {
			err = -posix_spawn(&pid, "/bin/true", NULL, &a, true_argv, environ);
			if (!err && waitpid(pid, &st, 0) < 0)
				err = -errno;
		}
		posix_spawnattr_destroy(&a);
		if (err)
			return err;
		break;
	case WL_CMD:
		spawn_attr(&a);
		err = -posix_spawnp(&pid, b->cmd[0], NULL, &a, b->cmd, environ);
		posix_spawnattr_destroy(&a);
		if (err) {
			ebee_err("cannot run workload '%s': %s", b->cmd[0], strerror(-err));
			return err;
		}
		if (waitpid(pid, &st, 0) < 0)
			return -errno;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			if (WIFEXITED(st))
				ebee_err("workload '%s' failed: exit status %d", b->cmd[0], WEXITSTATUS(st));
			else
				ebee_err("workload '%s' failed: killed by signal %d", b->cmd[0], WTERMSIG(st));
			return -ECHILD;
		}
		break;
	}
	return (double)(mono_ns() - t0) / (double)b->n;
}

/* ---- the feature process -------------------------------------------------------------- */

static int split_feature(struct bench *b)
{
	char *save = NULL;
	int n = 0;

	snprintf(b->feat_buf, sizeof(b->feat_buf), "%s", b->cfg->feature);
	b->feat_argv[n++] = "ebee";
	for (char *t = strtok_r(b->feat_buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n > FEATURE_MAX_ARGS) {
			ebee_err("too many words in --feature '%s'", b->cfg->feature);
			return -EINVAL;
		}
		b->feat_argv[n++] = t;
	}
	b->feat_argv[n] = NULL;
	if (n == 1) {
		ebee_err("empty --feature");
		return -EINVAL;
	}
	if (!strcmp(b->feat_argv[1], "bench") || !strcmp(b->feat_argv[1], "top")) {
		ebee_err("--feature '%s' cannot be benchmarked (it loads no programs of its own)",
			 b->feat_argv[1]);
		return -EINVAL;
	}
	return 0;
}

/* Program ids a process holds (fds on programs). */
static int pid_prog_ids(pid_t pid, uint32_t *ids, int max)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d)) && n < max) {
		struct ps_fdinfo fi = { 0 };
		if (de->d_name[0] == '.')
			continue;
		/* fds on programs and on links both name the program (prog_id); maps do not */
		if (ps_read_fdinfo(pid, atoi(de->d_name), &fi) == 0 && fi.prog_id) {
			bool dup = false;
			for (int i = 0; i < n; i++)
				dup |= ids[i] == fi.prog_id;
			if (!dup)
				ids[n++] = fi.prog_id;
		}
	}
	closedir(d);
	return n;
}

static void stop_child(struct bench *b)
{
	int st;

	if (b->child <= 0)
		return;
	kill(b->child, SIGINT);
	for (int i = 0; i < 200; i++) {           /* 10 s */
		if (waitpid(b->child, &st, WNOHANG) == b->child) {
			b->child = 0;
			return;
		}
		usleep(50000);
	}
	ebee_warn("feature '%s' did not exit 10s after SIGINT: killing it", b->cfg->feature);
	kill(b->child, SIGKILL);
	waitpid(b->child, &st, 0);
	b->child = 0;
}

/* Starts the feature and waits until the set of programs it holds is stable. */
static int start_child(struct bench *b, uint32_t *ids, int *nids)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	uint64_t deadline = mono_ns() + (uint64_t)(b->cfg->ready_timeout * 1e9), stable_since = 0;
	int err, last = -1, st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	spawn_attr(&a);
	err = -posix_spawn(&b->child, "/proc/self/exe", &fa, &a, b->feat_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	if (err) {
		b->child = 0;
		ebee_err("cannot start 'ebee %s': %s", b->cfg->feature, strerror(-err));
		return err;
	}
	while (mono_ns() < deadline) {
		if (waitpid(b->child, &st, WNOHANG) == b->child) {
			b->child = 0;
			ebee_err("feature 'ebee %s' exited (status %d) before loading its programs", b->cfg->feature,
				 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			return -ECHILD;
		}
		if (loop_stopping(b->l))
			return -EINTR;
		int n = pid_prog_ids(b->child, ids, BENCH_MAX_PROGS);
		if (n > 0 && n == last) {
			if (!stable_since)
				stable_since = mono_ns();
			else if (mono_ns() - stable_since > 300000000ull) {   /* attached by now */
				*nids = n;
				return 0;
			}
		} else {
			stable_since = 0;
		}
		last = n;
		usleep(20000);
	}
	ebee_err("feature 'ebee %s' loaded no BPF programs in %.0fs", b->cfg->feature, b->cfg->ready_timeout);
	stop_child(b);
	return -ETIMEDOUT;
}

/* ---- measuring ------------------------------------------------------------------------ */

static struct bprog *prog_slot(struct bench *b, const struct ps_prog *p, bool by_name)
{
	for (int i = 0; i < b->np; i++)
		if (by_name ? b->p[i].type == p->type && !strcmp(b->p[i].name, p->name) : b->p[i].id == p->id)
			return &b->p[i];
	if (b->np == BENCH_MAX_PROGS)
		return NULL;
	struct bprog *s = &b->p[b->np++];
	memset(s, 0, sizeof(*s));
	s->id = p->id;
	s->type = p->type;
	memcpy(s->name, p->name, sizeof(s->name));
	return s;
}

/* One traced run over the programs ids[]: counters before, workload, counters after. */
static int traced_run(struct bench *b, const uint32_t *ids, int nids, bool by_name)
{
	struct bprog *slot[BENCH_MAX_PROGS] = { 0 };
	struct ps_prog p;
	double ns_op;
	int alive = 0;

	for (int i = 0; i < nids; i++) {
		if (ps_read_id(ids[i], &p, 0))
			continue;
		if (!(slot[i] = prog_slot(b, &p, by_name)))
			continue;
		slot[i]->id = p.id;
		slot[i]->before_runs = p.run_cnt;
		slot[i]->before_ns = p.run_time_ns;
	}
	ns_op = wl_run(b);
	if (ns_op < 0)
		return (int)ns_op;
	b->traced[b->ntraced++] = ns_op;
	for (int i = 0; i < nids; i++) {
		if (!slot[i])
			continue;
		if (ps_read_id(ids[i], &p, 0)) {
			ebee_warn("BPF program %u vanished during the run", ids[i]);
			continue;
		}
		alive++;
		uint64_t dr = p.run_cnt - slot[i]->before_runs, dn = p.run_time_ns - slot[i]->before_ns;
		slot[i]->runs += dr;
		slot[i]->ns += dn;
		if (dr && slot[i]->nr < BENCH_MAX_RUNS)
			slot[i]->nsrun[slot[i]->nr++] = (double)dn / dr;
	}
	if (!alive) {
		ebee_err("every benchmarked program vanished");
		return -ENOENT;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- output --------------------------------------------------------------------------- */

enum { P_KIND, P_ID, P_TYPE, P_NAME, P_RUNS, P_NS, P_MED, P_MIN, P_MAX, P_PER_OP, P__N };
static const struct out_col prog_cols[P__N] = {
	[P_KIND]   = { "kind", "KIND", OUT_STR, 0 },
	[P_ID]     = { "id", "ID", OUT_U64, 6 },
	[P_TYPE]   = { "type", "TYPE", OUT_STR, -13 },
	[P_NAME]   = { "name", "NAME", OUT_STR, -16 },
	[P_RUNS]   = { "d_run_cnt", "RUNS", OUT_U64, 11 },
	[P_NS]     = { "d_run_time_ns", "RUN_NS", OUT_U64, 13 },
	[P_MED]    = { "ns_per_run_median", "NS/RUN", OUT_F64, 8, 1 },
	[P_MIN]    = { "ns_per_run_min", "MIN", OUT_F64, 8, 1 },
	[P_MAX]    = { "ns_per_run_max", "MAX", OUT_F64, 8, 1 },
	[P_PER_OP] = { "runs_per_op", "RUNS/OP", OUT_F64, 9, 3 },
};

enum { W_KIND, W_WL, W_N, W_RUNS, W_BASE, W_TRACED, W_SLOW, W_COST, W__N };
static const struct out_col sum_cols[W__N] = {
	[W_KIND]   = { "kind", "KIND", OUT_STR, 0 },
	[W_WL]     = { "workload", "WORKLOAD", OUT_STR, -10 },
	[W_N]      = { "n", "OPS/RUN", OUT_U64, 8 },
	[W_RUNS]   = { "runs", "RUNS", OUT_U64, 5 },
	[W_BASE]   = { "baseline_ns_per_op", "BASE_NS/OP", OUT_F64, 11, 1 },
	[W_TRACED] = { "traced_ns_per_op", "TRACED_NS/OP", OUT_F64, 13, 1 },
	[W_SLOW]   = { "slowdown", "SLOWDOWN", OUT_F64, 9, 3 },
	[W_COST]   = { "bpf_ns_per_op", "BPF_NS/OP", OUT_F64, 10, 1 },
};

static void report(struct ebee_ctx *ctx, struct bench *b)
{
	enum out_fmt fmt = ctx->json ? OUT_JSON : OUT_TABLE;
	double ops = (double)b->n * b->ntraced, bpf_ns = 0;
	char t[40];
	struct out o;

	out_init(&o, stdout, fmt, prog_cols, P__N);
	out_header(&o);
	for (int i = 0; i < b->np; i++) {
		struct bprog *p = &b->p[i];
		double mn = INFINITY, mx = 0;
		for (int k = 0; k < p->nr; k++) {
			mn = p->nsrun[k] < mn ? p->nsrun[k] : mn;
			mx = p->nsrun[k] > mx ? p->nsrun[k] : mx;
		}
		out_str(&o, P_KIND, "program");
		out_u64(&o, P_ID, p->id);
		out_str(&o, P_TYPE, ps_type_name(p->type, t, sizeof(t)));
		out_str(&o, P_NAME, p->name);
		out_u64(&o, P_RUNS, p->runs);
		out_u64(&o, P_NS, p->ns);
		if (p->nr) {
			out_f64(&o, P_MED, median(p->nsrun, p->nr));
			out_f64(&o, P_MIN, mn);
			out_f64(&o, P_MAX, mx);
		}
		out_f64(&o, P_PER_OP, ops > 0 ? p->runs / ops : 0);
		out_row(&o);
		bpf_ns += p->ns;
	}
	if (fmt == OUT_TABLE)
		fputc('\n', stdout);
	out_init(&o, stdout, fmt, sum_cols, W__N);
	out_header(&o);
	out_str(&o, W_KIND, "workload");
	out_str(&o, W_WL, b->wl == WL_CMD ? b->cmd[0] : wl_names[b->wl]);
	out_u64(&o, W_N, b->n);
	out_u64(&o, W_RUNS, b->ntraced);
	double tr = median(b->traced, b->ntraced);
	if (b->nbase) {
		double base = median(b->base, b->nbase);
		out_f64(&o, W_BASE, base);
		out_f64(&o, W_SLOW, tr / base);
	}
	out_f64(&o, W_TRACED, tr);
	out_f64(&o, W_COST, ops > 0 ? bpf_ns / ops : 0);
	out_row(&o);
}

/* ---- command -------------------------------------------------------------------------- */

static int bench_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct bench_cfg *cfg = cfgp;
	struct bench *b = calloc(1, sizeof(*b));
	struct ps_stats st = { .fd = -1, .sysctl_prev = -1 };
	uint32_t ids[BENCH_MAX_PROGS];
	int nids = 0, err = 0;

	if (!b)
		return -ENOMEM;
	b->cfg = cfg;
	b->lfd = -1;
	if (!cfg->prog.n == !cfg->feature) {
		ebee_err("name the programs: --prog ID|NAME (already loaded) or --feature 'CMD ARGS' (loaded by ebee)");
		err = -EINVAL;
		goto out;
	}
	if (argc > 0) {
		/* positional arguments are not NULL-terminated at argc */
		b->wl = WL_CMD;
		b->cmd = calloc(argc + 1, sizeof(*b->cmd));
		if (!b->cmd) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(b->cmd, argv, sizeof(*argv) * argc);
	} else {
		for (b->wl = 0; b->wl < WL_CMD && strcmp(wl_names[b->wl], cfg->workload); b->wl++)
			;
		if (b->wl == WL_CMD) {
			ebee_err("unknown workload '%s' (exec, open, connect, syscall, or a command after --)",
				 cfg->workload);
			err = -EINVAL;
			goto out;
		}
	}
	b->n = b->wl == WL_CMD ? 1 : cfg->n ? cfg->n : wl_default_n[b->wl];
	if (cfg->feature && (err = split_feature(b)))
		goto out;
	for (int i = 0; i < cfg->prog.n; i++) {
		int n = ps_resolve(cfg->prog.v[i], ids + nids, BENCH_MAX_PROGS - nids);
		if (n < 0) {
			err = n;
			goto out;
		}
		nids += n;
	}
	b->l = loop_new();   /* Ctrl-C between runs: checked with loop_stopping */
	if (!b->l) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = ps_stats_on(&st, cfg->keep_stats)) || (err = wl_setup(b)))
		goto out;
	/* warm-up of a built-in workload: page cache, first exec, socket paths (a command may have
	 * side effects: it runs only as often as asked) */
	if (b->wl != WL_CMD) {
		double ns = wl_run(b);
		if (ns < 0) {
			err = (int)ns;
			ebee_err("workload '%s' failed: %s", wl_names[b->wl], strerror(-err));
			goto out;
		}
	}
	for (unsigned long long r = 0; r < cfg->runs && !err; r++) {
		if (loop_stopping(b->l)) {
			err = -EINTR;
			break;
		}
		if (cfg->feature) {
			/* alternate baseline and traced, baseline first */
			double ns = wl_run(b);
			if (ns < 0) {
				err = (int)ns;
				break;
			}
			b->base[b->nbase++] = ns;
			if ((err = start_child(b, ids, &nids)))
				break;
			ebee_dbg("run %llu: 'ebee %s' (pid %d) holds %d programs", r + 1, cfg->feature, b->child, nids);
			err = traced_run(b, ids, nids, true);
			stop_child(b);
		} else {
			err = traced_run(b, ids, nids, false);
		}
	}
	if (err == -EINTR)
		ebee_info("interrupted: reporting the %d complete runs", b->ntraced);
	if (b->ntraced && (!err || err == -EINTR)) {
		report(ctx, b);
		err = 0;
	} else if (err && err != -ECHILD && err != -ENOENT && err != -ETIMEDOUT) {
		ebee_err("benchmark failed: %s", strerror(-err));
	}
out:
	stop_child(b);
	wl_cleanup(b);
	ps_stats_off(&st);
	loop_free(b->l);
	free(b->cmd);
	free(b);
	return err;
}

static const struct opt bench_opts[] = {
	{ "prog", 'p', OPT_LIST, offsetof(struct bench_cfg, prog), "ID|NAME",
	  "already loaded programs to measure (repeatable; a name means every program with it)" },
	{ "feature", 'f', OPT_STR, offsetof(struct bench_cfg, feature), "'CMD ARGS'",
	  "an ebee command that loads programs, run for each traced run (e.g. 'count --syscall getppid')" },
	{ "workload", 'w', OPT_STR, offsetof(struct bench_cfg, workload), "W",
	  "built-in workload: exec, open, connect or syscall (a command after -- replaces it)", "syscall" },
	{ "n", 'n', OPT_UINT, offsetof(struct bench_cfg, n), "N",
	  "operations per run (default per workload: exec 500, open 50000, connect 5000, syscall 500000)",
	  NULL, 1, 1e9 },
	{ "runs", 'r', OPT_UINT, offsetof(struct bench_cfg, runs), "R",
	  "traced runs (with --feature each follows a baseline run)", "5", 1, BENCH_MAX_RUNS },
	{ "ready-timeout", 0, OPT_SECONDS, offsetof(struct bench_cfg, ready_timeout), "SECONDS",
	  "how long a --feature may take to load its programs", "20", 1, 600 },
	{ "keep-stats", 0, OPT_FLAG, offsetof(struct bench_cfg, keep_stats), NULL,
	  "set kernel.bpf_stats_enabled=1 and leave it on at exit" },
	OPT_END,
};

static const struct opt_doc bench_doc = {
	.synopsis = "(--prog ID|NAME... | --feature 'CMD ARGS') [OPTIONS] [-- COMMAND ARGS]",
	.description =
		"Measures BPF programs on a workload: per program Δrun_cnt, Δrun_time_ns, ns per run\n"
		"(median, min, max over the runs) and runs per workload op; and the workload's time per\n"
		"op. With --feature, ebee runs itself with that command for each traced run, measures\n"
		"the programs that process holds, stops it, and alternates with baseline runs where\n"
		"nothing is loaded: SLOWDOWN is the traced/baseline ratio of the medians. With --prog the\n"
		"programs stay loaded (e.g. a peer's), so there is no baseline. The workload is built in\n"
		"(syscall: getppid; open: open+close a temp file; exec: posix_spawn /bin/true;\n"
		"connect: TCP connect+accept+close on 127.0.0.1) or a command after -- (one op per run,\n"
		"a failing command is an error).",
	.examples =
		"  ebee bench --feature 'count --syscall getppid' --workload syscall\n"
		"  ebee bench --prog execsnoop --workload exec --n 1000   # while execsnoop runs\n"
		"  ebee bench --prog 42 -- make -j2",
};

const struct ebee_cmd bench_cmd = {
	.name = "bench", .summary = "measure BPF programs on a workload (like ebpfbench)",
	.req = REQ_BPF, .run = bench_run, .opts = bench_opts, .cfg_size = sizeof(struct bench_cfg),
	.cfg_default = &bench_default, .doc = &bench_doc, .min_pos = 0, .max_pos = -1,
};
