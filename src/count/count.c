// SPDX-License-Identifier: BSD-2-Clause
/* ebee count: syscall counters per uid / pid / comm / cgroup / syscall, kept in the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/cmd.h"
#include "core/collector.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "core/syscalls.h"
#include "core/cgroup.h"
#include "count/count.h"
#include "count/parse.h"
#include "count/count.skel.h"

static const struct ebee_hook count_hooks[] = { {
	.name = "raw_syscalls:sys_enter",
	.v = { { "count_tp_btf", KIND_TP_BTF }, { "count_raw_tp", KIND_RAW_TP },
	       { "count_tp", KIND_TRACEPOINT } },
} };

struct count_cfg {
	struct opt_list by, syscalls;
	bool all;
	unsigned long long pid;
	const char *uid, *comm, *cgroup;
	double interval, duration;
	unsigned long long top, max_entries;
};

static const struct count_cfg defaults = {
	.top = 20,
	.max_entries = 16384,
};

/* What the options resolve to: the kernel's rodata, and how rows print. */
struct count_plan {
	__u32 parts;
	bool all;
	__u8 want[COUNT_MAX_SYSCALLS];
	__u32 pid;
	bool uid_on;
	__u32 uid;
	char comm[COUNT_COMM_LEN];
	bool comm_on;
	int cgroup_fd;
};

size_t count_key_size(__u32 parts)
{
	if (parts & COUNT_BY_COMM)
		return sizeof(struct count_key);
	if (parts & COUNT_BY_CGROUP)
		return COUNT_KEY_CGROUP;
	return parts & COUNT_BY_PID ? COUNT_KEY_PID : COUNT_KEY_UID_SYSCALL;
}

static const struct {
	const char *name;
	__u32 part;
} by_names[] = {
	{ "uid", COUNT_BY_UID }, { "pid", COUNT_BY_PID }, { "comm", COUNT_BY_COMM },
	{ "cgroup", COUNT_BY_CGROUP }, { "syscall", COUNT_BY_SYSCALL },
};

/* The clone family: the classic "who is forking" question. */
static const char *const default_syscalls[] = { "clone", "clone3", "fork", "vfork" };

int count_parse_by(const struct opt_list *l, __u32 *parts)
{
	*parts = 0;
	for (int i = 0; i < l->n; i++) {
		size_t j;

		for (j = 0; j < ARRAY_SIZE(by_names); j++)
			if (!strcmp(l->v[i], by_names[j].name))
				break;
		if (j == ARRAY_SIZE(by_names)) {
			ebee_err("unknown key '%s' for --by: use uid, pid, comm, cgroup or syscall", l->v[i]);
			return -EINVAL;
		}
		*parts |= by_names[j].part;
	}
	if (!*parts)
		*parts = COUNT_BY_UID;
	return 0;
}

int count_parse_syscalls(const struct opt_list *l, __u8 *want)
{
	for (int i = 0; i < l->n; i++) {
		int nr = syscall_nr(l->v[i]);
		const char *hint;

		if (nr < 0) {
			hint = syscall_suggest(l->v[i]);
			if (hint)
				ebee_err("unknown syscall '%s' (did you mean '%s'?)", l->v[i], hint);
			else
				ebee_err("unknown syscall '%s' (names as in /usr/include/asm/unistd_64.h, e.g. openat)",
					 l->v[i]);
			return -EINVAL;
		}
		if (nr >= COUNT_MAX_SYSCALLS) {
			ebee_err("syscall '%s' has number %d, above what ebee counts", l->v[i], nr);
			return -EINVAL;
		}
		want[nr] = 1;
	}
	return 0;
}

/* A user name or number; it must exist, so a typo does not silently count nothing. */
int count_parse_uid(const char *s, __u32 *uid)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s && !*end && !errno && v <= 0xfffffffful) {
		pw = getpwuid(v);
		if (!pw) {
			ebee_err("uid '%s' does not exist (no passwd entry)", s);
			return -EINVAL;
		}
	} else {
		pw = getpwnam(s);
		if (!pw) {
			ebee_err("user '%s' does not exist", s);
			return -EINVAL;
		}
	}
	*uid = pw->pw_uid;
	return 0;
}

static int plan(const struct count_cfg *c, struct count_plan *p)
{
	struct opt_list def = { 0 };
	char proc[32];
	uint64_t id;
	int err;

	memset(p, 0, sizeof(*p));
	p->cgroup_fd = -1;
	err = count_parse_by(&c->by, &p->parts);
	if (err)
		return err;
	if (c->all && c->syscalls.n) {
		ebee_err("--all and --syscall exclude each other");
		return -EINVAL;
	}
	p->all = c->all;
	if (!p->all) {
		if (!c->syscalls.n) {
			for (size_t i = 0; i < ARRAY_SIZE(default_syscalls); i++)
				def.v[def.n++] = default_syscalls[i];
		}
		err = count_parse_syscalls(c->syscalls.n ? &c->syscalls : &def, p->want);
		if (err)
			return err;
	}
	if (c->pid) {
		snprintf(proc, sizeof(proc), "/proc/%llu", c->pid);
		if (c->pid > 0x7fffffff || access(proc, F_OK)) {
			ebee_err("process '%llu' not found", c->pid);
			return -EINVAL;
		}
		p->pid = c->pid;
	}
	if (c->uid) {
		err = count_parse_uid(c->uid, &p->uid);
		if (err)
			return err;
		p->uid_on = true;
	}
	if (c->comm) {
		if (strlen(c->comm) >= COUNT_COMM_LEN) {
			ebee_err("comm '%s' is longer than the kernel's %d characters", c->comm, COUNT_COMM_LEN - 1);
			return -EINVAL;
		}
		strcpy(p->comm, c->comm);
		p->comm_on = true;
	}
	if (c->cgroup) {
		err = ebee_cgroup_id(c->cgroup, &id);
		if (err)
			return -EINVAL;
		p->cgroup_fd = open(c->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->cgroup_fd < 0) {
			ebee_err("cannot open cgroup '%s': %s", c->cgroup, strerror(errno));
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- reading and printing ---- */

struct row {
	struct count_key key;
	uint64_t total;   /* since start */
	uint64_t shown;   /* what the last table already reported */
};

enum { C_UID, C_USER, C_PID, C_COMM, C_CGID, C_CGROUP, C_SYSCALL, C_COUNT, C_TS, C__N };

static const struct out_col cols[C__N] = {
	[C_UID]     = { "uid", "UID", OUT_U64, 7 },
	[C_USER]    = { "user", "USER", OUT_STR, -12 },
	[C_PID]     = { "pid", "PID", OUT_U64, 7 },
	[C_COMM]    = { "comm", "COMM", OUT_STR, -16 },
	[C_CGID]    = { "cgroup_id", "CGID", OUT_U64, 0 },
	[C_CGROUP]  = { "cgroup", "CGROUP", OUT_STR, -32 },
	[C_SYSCALL] = { "syscall", "SYSCALL", OUT_STR, -16 },
	[C_COUNT]   = { "count", "COUNT", OUT_U64, 12 },
	[C_TS]      = { "ts", "TIME", OUT_STR, 0 },
};

struct counter {
	const struct count_cfg *cfg;
	const struct count_plan *plan;
	struct count_bpf *skel;
	struct out out;
	struct row *rows;
	size_t nrows, cap;
	uint64_t *vals;          /* one per CPU, reused */
	int ncpus;
	uint64_t drops_seen;
	struct cgroup_names cg;
};

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct count_key));
}

/* Rows [0, sorted) are sorted by key; keys new in this scan are appended after them (each key
 * comes once per scan) and the whole array is sorted once when the scan ends. */
static struct row *find_or_add(struct counter *c, const struct count_key *k, size_t sorted)
{
	struct row *r = bsearch(k, c->rows, sorted, sizeof(*r), key_cmp);

	if (r || c->nrows == c->cap)
		return r;
	r = &c->rows[c->nrows++];
	memset(r, 0, sizeof(*r));
	r->key = *k;
	return r;
}

static uint64_t sum(const struct counter *c)
{
	uint64_t s = 0;

	for (int i = 0; i < c->ncpus; i++)
		s += c->vals[i];
	return s;
}

/* Totals are cumulative in the kernel (nothing is deleted, so no increment is ever lost between a
 * read and a delete); intervals print the difference to the previous read. */
static int collect(struct counter *c)
{
	struct count_key k, next, *prev = NULL;
	size_t sorted = c->nrows;
	int fd;

	if (c->plan->parts == COUNT_BY_SYSCALL) {
		fd = bpf_map__fd(c->skel->maps.by_syscall);
		for (__u32 nr = 0; nr < COUNT_MAX_SYSCALLS; nr++) {
			struct row *r;

			if (bpf_map_lookup_elem(fd, &nr, c->vals) || !sum(c))
				continue;
			memset(&k, 0, sizeof(k));
			k.syscall = nr;
			r = find_or_add(c, &k, sorted);
			if (r)
				r->total = sum(c);
		}
		goto out;
	}
	fd = bpf_map__fd(c->skel->maps.counts);
	/* The kernel writes key_size bytes: the tail of a shrunk key stays zero. */
	memset(&next, 0, sizeof(next));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct row *r;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, c->vals))
			continue;
		r = find_or_add(c, &k, sorted);
		if (r)
			r->total = sum(c);
	}
out:
	if (c->nrows != sorted)
		qsort(c->rows, c->nrows, sizeof(*c->rows), key_cmp);
	return 0;
}

static int by_delta(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	uint64_t dx = x->total - x->shown, dy = y->total - y->shown;

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return key_cmp(&x->key, &y->key);
}

static void print_row(struct counter *c, const struct row *r, uint64_t n, const char *ts)
{
	const struct count_key *k = &r->key;
	__u32 parts = c->plan->parts;
	struct passwd *pw;
	const char *name;

	if (parts & COUNT_BY_UID) {
		out_u64(&c->out, C_UID, k->uid);
		pw = getpwuid(k->uid);
		if (pw)
			out_str(&c->out, C_USER, pw->pw_name);
	}
	if (parts & COUNT_BY_PID)
		out_u64(&c->out, C_PID, k->pid);
	if (parts & COUNT_BY_COMM)
		out_strn(&c->out, C_COMM, k->comm, sizeof(k->comm));
	if (parts & COUNT_BY_CGROUP) {
		out_u64(&c->out, C_CGID, k->cgroup);
		out_str(&c->out, C_CGROUP, cgroup_name(&c->cg, k->cgroup));
	}
	if (parts & COUNT_BY_SYSCALL) {
		name = syscall_name(k->syscall);
		if (name)
			out_str(&c->out, C_SYSCALL, name);
		else
			out_fmt(&c->out, C_SYSCALL, "%u", k->syscall);
	}
	out_u64(&c->out, C_COUNT, n);
	out_str(&c->out, C_TS, ts);
	out_row(&c->out);
}

static void report_drops(struct counter *c)
{
	uint64_t d = ebee_percpu_sum(bpf_map__fd(c->skel->maps.drops), 0);

	if (d > c->drops_seen) {
		ebee_warn("%llu syscalls not counted: the counter map is full (%zu keys); raise --max-entries",
			  (unsigned long long)(d - c->drops_seen), c->cap);
		c->drops_seen = d;
	}
}

static int print_table(struct counter *c)
{
	const struct row **order;
	char ts[40];
	size_t n = 0, shown = 0;

	collect(c);
	order = malloc(c->nrows * sizeof(*order) + 1);   /* once per table, not per event */
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < c->nrows; i++)
		if (c->rows[i].total > c->rows[i].shown)
			order[n++] = &c->rows[i];
	qsort(order, n, sizeof(*order), by_delta);
	ebee_fmt_time(ebee_realtime_ns(), ts, sizeof(ts));
	if (c->cfg->interval > 0)
		out_sep(&c->out, "%s%s", c->out.header_done ? "\n" : "", ts);
	out_header(&c->out);
	for (size_t i = 0; i < n && (!c->cfg->top || shown < c->cfg->top); i++, shown++)
		print_row(c, order[i], order[i]->total - order[i]->shown, ts);
	for (size_t i = 0; i < c->nrows; i++)
		c->rows[i].shown = c->rows[i].total;
	free(order);
	report_drops(c);
	fflush(c->out.f);
	return 0;
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	return print_table(arg);
}

static void configure(struct count_bpf *s, const struct count_plan *p, const struct count_cfg *c)
{
	s->rodata->key_parts = p->parts;
	s->rodata->by_syscall_only = p->parts == COUNT_BY_SYSCALL;
	s->rodata->all_syscalls = p->all;
	memcpy((void *)s->rodata->want, p->want, sizeof(p->want));
	s->rodata->filter_pid = p->pid;
	s->rodata->filter_uid_on = p->uid_on;
	s->rodata->filter_uid = p->uid;
	s->rodata->filter_comm_on = p->comm_on;
	memcpy((void *)s->rodata->filter_comm, p->comm, sizeof(p->comm));
	s->rodata->filter_cgroup_on = p->cgroup_fd >= 0;
	bpf_map__set_max_entries(s->maps.counts, p->parts == COUNT_BY_SYSCALL ? 1 : c->max_entries);
	bpf_map__set_key_size(s->maps.counts, count_key_size(p->parts));
}

static int count_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	const struct count_cfg *cfg = cfgp;
	int chosen[ARRAY_SIZE(count_hooks)];
	struct counter c = { .cfg = cfg };
	struct count_plan p = { .cgroup_fd = -1 };
	struct ebee_loop *loop = NULL;
	struct count_bpf *skel = NULL;
	__u32 zero = 0;
	int err;

	err = plan(cfg, &p);
	if (err)
		goto out;
	c.plan = &p;
	loop = loop_new();
	if (!loop) {
		err = -ENOMEM;
		goto out;
	}
	skel = count_bpf__open();
	if (!skel) {
		err = ebee_load_err("count", -errno);
		goto out;
	}
	c.skel = skel;
	configure(skel, &p, cfg);
	err = ebee_choose(skel->obj, count_hooks, ARRAY_SIZE(count_hooks), chosen);
	if (err)
		goto out;
	err = count_bpf__load(skel);
	if (err) {
		err = ebee_load_err("count", err);
		goto out;
	}
	if (p.cgroup_fd >= 0 &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.cgroup_filter), &zero, &p.cgroup_fd, BPF_ANY)) {
		err = -errno;
		ebee_err("cannot set the cgroup filter '%s': %s", cfg->cgroup, strerror(-err));
		goto out;
	}
	/* Buffers sized once from the map size: nothing is allocated per syscall or per key. */
	c.ncpus = ebee_ncpus();
	c.cap = p.parts == COUNT_BY_SYSCALL ? COUNT_MAX_SYSCALLS : cfg->max_entries;
	c.rows = calloc(c.cap, sizeof(*c.rows));
	c.vals = calloc(c.ncpus, sizeof(*c.vals));
	if (!c.rows || !c.vals) {
		err = -ENOMEM;
		goto out;
	}
	out_init(&c.out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, cols, C__N);
	for (size_t i = 0; i < ARRAY_SIZE(by_names); i++)
		if (!(p.parts & by_names[i].part)) {
			static const int col_of[] = { C_UID, C_PID, C_COMM, C_CGROUP, C_SYSCALL };

			out_hide(&c.out, col_of[i], true);
			if (col_of[i] == C_UID)
				out_hide(&c.out, C_USER, true);
			if (col_of[i] == C_CGROUP)
				out_hide(&c.out, C_CGID, true);
		}
	cgroup_names_init(&c.cg);
	err = count_bpf__attach(skel);
	if (err) {
		ebee_err("cannot attach the count programs: %s", strerror(-err));
		goto out;
	}
	ebee_info("counting %s syscalls; Ctrl-C to stop", p.all ? "all" : "the selected");
	if (cfg->interval > 0 && (err = loop_set_tick(loop, cfg->interval, on_tick, &c)))
		goto out;
	if ((err = loop_set_duration(loop, cfg->duration)))
		goto out;
	err = loop_run(loop);
	/* Detach first so the last table is final and exact, then print it. */
	count_bpf__detach(skel);
	if (!err)
		err = print_table(&c);
out:
	cgroup_names_free(&c.cg);
	free(c.rows);
	free(c.vals);
	count_bpf__destroy(skel);
	if (p.cgroup_fd >= 0)
		close(p.cgroup_fd);
	loop_free(loop);
	return err;
}

static const struct opt count_opts[] = {
	{ "by", 'b', OPT_LIST, offsetof(struct count_cfg, by), "KEYS",
	  "count per uid, pid, comm, cgroup and/or syscall, comma-separated", "uid" },
	{ "syscall", 's', OPT_LIST, offsetof(struct count_cfg, syscalls), "NAMES",
	  "syscalls to count, as the kernel names them", "clone,clone3,fork,vfork" },
	{ "all", 'a', OPT_FLAG, offsetof(struct count_cfg, all), NULL, "count every syscall" },
	{ "pid", 'p', OPT_UINT, offsetof(struct count_cfg, pid), "PID", "only this process", NULL, 1, 4194304 },
	{ "uid", 'u', OPT_STR, offsetof(struct count_cfg, uid), "USER", "only this user (name or uid)" },
	{ "comm", 'c', OPT_STR, offsetof(struct count_cfg, comm), "NAME", "only threads with this comm" },
	{ "cgroup", 'g', OPT_STR, offsetof(struct count_cfg, cgroup), "PATH",
	  "only tasks in this cgroup v2 directory or below it" },
	{ "interval", 'i', OPT_SECONDS, offsetof(struct count_cfg, interval), "SECONDS",
	  "print a table every SECONDS (counts of that interval); 0 prints once at the end", "0", 0, 86400 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct count_cfg, duration), "SECONDS",
	  "stop after SECONDS; 0 runs until Ctrl-C", "0", 0, 31536000 },
	{ "top", 't', OPT_UINT, offsetof(struct count_cfg, top), "N", "rows per table, 0 for all", "20", 0, 1000000 },
	{ "max-entries", 0, OPT_UINT, offsetof(struct count_cfg, max_entries), "N",
	  "distinct keys the kernel map holds; more are counted as drops", "16384", 16, 4194304 },
	OPT_END
};

static const struct opt_doc count_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Counts syscalls in the kernel, per key, without sending an event per syscall to user\n"
		"space: a per-CPU hash map on raw_syscalls:sys_enter (tp_btf, raw_tp or tracepoint,\n"
		"whichever this kernel allows). Filters are applied in the kernel before anything\n"
		"is counted. Counts are exact: nothing is deleted from the map while running.\n"
		"Syscall names are the kernel's (those syscount prints). A call is counted when it\n"
		"enters, so a fork is counted once, not once per returning task.",
	.examples =
		"  ebee count                          who calls clone/fork, per uid, until Ctrl-C\n"
		"  ebee count --by uid,syscall -i 1    every second, per uid and syscall\n"
		"  ebee count --all --by syscall -d 5  every syscall for 5 seconds\n"
		"  ebee count --all --by comm --cgroup /sys/fs/cgroup/unified/system.slice\n"
		"  ebee count -s openat,read --pid 1234 --json",
};

const struct ebee_cmd count_cmd = {
	.name = "count",
	.summary = "count syscalls per uid, pid, comm, cgroup or syscall, in the kernel",
	.req = REQ_BPF | REQ_BTF,
	.run = count_run,
	.opts = count_opts,
	.cfg_size = sizeof(struct count_cfg),
	.cfg_default = &defaults,
	.doc = &count_doc,
	.min_pos = 0,
	.max_pos = 0,
};

const struct collector_desc count_collector = {
	.name = "count",
	.what = "syscall counters",
	.hooks = count_hooks,
	.nhooks = ARRAY_SIZE(count_hooks),
	.prog_prefix = "count_",
};
