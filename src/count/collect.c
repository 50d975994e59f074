// SPDX-License-Identifier: BSD-2-Clause
/* The count collector: syscall counters per uid / pid / comm / cgroup / syscall, kept in the
 * kernel; user space reads the maps (refresh) and prints the deltas (rows). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include "core/collector.h"
#include "core/priv.h"
#include "core/filter.h"
#include "core/json.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "core/syscalls.h"
#include "core/cgroup.h"
#include "count/collect.h"
#include "count/count.h"
#include "count/parse.h"
#include "count/count.skel.h"

enum { HOOK_SYS_ENTER, HOOK_FORK, HOOK_EXIT };
static const struct ebee_hook count_hooks[] = {
	[HOOK_SYS_ENTER] = { "raw_syscalls:sys_enter", { { "count_tp_btf", KIND_TP_BTF },
		{ "count_raw_tp", KIND_RAW_TP }, { "count_tp", KIND_TRACEPOINT } } },
	/* --children only */
	[HOOK_FORK] = { "sched:sched_process_fork", { { "count_fork_btf", KIND_TP_BTF },
		{ "count_fork_tp", KIND_TRACEPOINT } } },
	[HOOK_EXIT] = { "sched:sched_process_exit", { { "count_exit_btf", KIND_TP_BTF },
		{ "count_exit_tp", KIND_TRACEPOINT } } },
};

/* What the options resolve to: the kernel's rodata, and how rows print. */
struct count_plan {
	__u32 parts;
	bool all;
	__u8 want[COUNT_MAX_SYSCALLS];
	struct filter filter;     /* resolved --pid/--children/--uid/--comm/--cgroup/--container */
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

static int plan(const struct count_cfg *c, struct count_plan *p)
{
	struct opt_list def = { 0 };
	int err;

	memset(p, 0, sizeof(*p));
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
	return filter_resolve(&p->filter, &c->filter);
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
	struct count_plan plan;
	struct count_bpf *skel;
	struct row *rows;
	size_t nrows, cap;
	uint64_t *vals;          /* one per CPU, reused */
	int ncpus;
	uint64_t drops_seen;
	bool cg_init;
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

	if (c->plan.parts == COUNT_BY_SYSCALL) {
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

static void print_row(struct counter *c, struct out *o, const struct row *r, uint64_t n,
		      const char *ts)
{
	const struct count_key *k = &r->key;
	__u32 parts = c->plan.parts;
	struct passwd *pw;
	const char *name;

	if (parts & COUNT_BY_UID) {
		out_u64(o, C_UID, k->uid);
		pw = getpwuid(k->uid);
		if (pw)
			out_str(o, C_USER, pw->pw_name);
	}
	if (parts & COUNT_BY_PID)
		out_u64(o, C_PID, k->pid);
	if (parts & COUNT_BY_COMM)
		out_strn(o, C_COMM, k->comm, sizeof(k->comm));
	if (parts & COUNT_BY_CGROUP) {
		out_u64(o, C_CGID, k->cgroup);
		out_str(o, C_CGROUP, cgroup_name(&c->cg, k->cgroup));
	}
	if (parts & COUNT_BY_SYSCALL) {
		name = syscall_name(k->syscall);
		if (name)
			out_str(o, C_SYSCALL, name);
		else
			out_fmt(o, C_SYSCALL, "%u", k->syscall);
	}
	out_u64(o, C_COUNT, n);
	out_str(o, C_TS, ts);
	out_row(o);
}

/* Columns once per output: the keys not asked for with --by are hidden. */
static void set_cols(struct counter *c, struct out *o)
{
	static const int col_of[] = { C_UID, C_PID, C_COMM, C_CGROUP, C_SYSCALL };

	if (o->cols == cols)
		return;
	out_init(o, o->f, o->fmt, cols, C__N);
	for (size_t i = 0; i < ARRAY_SIZE(by_names); i++)
		if (!(c->plan.parts & by_names[i].part)) {
			out_hide(o, col_of[i], true);
			if (col_of[i] == C_UID)
				out_hide(o, C_USER, true);
			if (col_of[i] == C_CGROUP)
				out_hide(o, C_CGID, true);
		}
}

/* The rows of the last interval (since the previous call): biggest first, --top of them. */
static void count_rows(struct collector *col, struct out *o)
{
	struct counter *c = col->priv;
	const struct row **order;
	char ts[40];
	size_t n = 0, shown = 0;

	set_cols(c, o);
	order = malloc(c->nrows * sizeof(*order) + 1);   /* once per table, not per event */
	if (!order) {
		ebee_err("cannot sort the count table: %s", strerror(ENOMEM));
		return;
	}
	for (size_t i = 0; i < c->nrows; i++)
		if (c->rows[i].total > c->rows[i].shown)
			order[n++] = &c->rows[i];
	qsort(order, n, sizeof(*order), by_delta);
	ebee_fmt_time(ebee_realtime_ns(), ts, sizeof(ts));
	if (c->cfg->interval > 0)
		out_sep(o, "%s%s", o->header_done ? "\n" : "", ts);
	out_header(o);
	for (size_t i = 0; i < n && (!c->cfg->top || shown < c->cfg->top); i++, shown++)
		print_row(c, o, order[i], order[i]->total - order[i]->shown, ts);
	for (size_t i = 0; i < c->nrows; i++)
		c->rows[i].shown = c->rows[i].total;
	free(order);
	/* While running, say so at once; the closing summary reports the total. */
	if (!col->stopped && col->cnt.lost > c->drops_seen)
		ebee_warn("%llu syscalls not counted: the counter map is full (%zu keys); raise --max-entries",
			  (unsigned long long)(col->cnt.lost - c->drops_seen), c->cap);
	c->drops_seen = col->cnt.lost;
	fflush(o->f);
}

static int count_refresh(struct collector *col)
{
	struct counter *c = col->priv;
	uint64_t events = 0;

	collect(c);
	for (size_t i = 0; i < c->nrows; i++)
		events += c->rows[i].total;
	col->cnt.events = events;
	col->cnt.lost = ebee_percpu_sum(bpf_map__fd(c->skel->maps.drops), 0);
	col->cnt.missed = collector_prog_misses(col, c->skel->obj);
	return 0;
}

static void configure(struct count_bpf *s, const struct count_plan *p, const struct count_cfg *c)
{
	s->rodata->key_parts = p->parts;
	s->rodata->by_syscall_only = p->parts == COUNT_BY_SYSCALL;
	s->rodata->all_syscalls = p->all;
	memcpy((void *)s->rodata->want, p->want, sizeof(p->want));
	memcpy((void *)&s->rodata->ebee_filter, &p->filter.k, sizeof(p->filter.k));
	if (!p->filter.k.children)   /* the follow map is preallocated: no room unless needed */
		bpf_map__set_max_entries(s->maps.ebee_follow, 1);
	bpf_map__set_max_entries(s->maps.counts, p->parts == COUNT_BY_SYSCALL ? 1 : c->max_entries);
	bpf_map__set_key_size(s->maps.counts, count_key_size(p->parts));
}

static int count_open(struct collector *col)
{
	struct counter *c = col->priv;
	const struct count_cfg *cfg = col->cfg;
	struct count_plan *p = &c->plan;
	int err;

	c->cfg = cfg;
	col->lost_why = "the counter map is full; raise --max-entries";
	err = plan(cfg, p);
	if (err)
		return err;
	c->skel = count_bpf__open();
	if (!c->skel)
		return ebee_load_err("count", -errno);
	configure(c->skel, p, cfg);
	err = collector_choose(col, c->skel->obj);
	if (err)
		return err;
	/* fork and exit are watched only to follow --children */
	if (!p->filter.k.children)
		for (int h = HOOK_FORK; h <= HOOK_EXIT; h++) {
			bpf_program__set_autoload(bpf_object__find_program_by_name(c->skel->obj,
				count_hooks[h].v[col->chosen[h]].prog), false);
			col->chosen[h] = -1;
		}
	err = count_bpf__load(c->skel);
	if (err)
		return ebee_load_err("count", err);
	err = filter_load_maps(&p->filter, c->skel->maps.ebee_cgroups, c->skel->maps.ebee_follow);
	if (err)
		return err;
	/* Buffers sized once from the map size: nothing is allocated per syscall or per key. */
	c->ncpus = ebee_ncpus();
	c->cap = p->parts == COUNT_BY_SYSCALL ? COUNT_MAX_SYSCALLS : cfg->max_entries;
	c->rows = calloc(c->cap, sizeof(*c->rows));
	c->vals = calloc(c->ncpus, sizeof(*c->vals));
	if (!c->rows || !c->vals)
		return -ENOMEM;
	cgroup_names_init(&c->cg);
	c->cg_init = true;
	return 0;
}

static int count_start(struct collector *col, struct ebee_loop *l)
{
	struct counter *c = col->priv;
	int err = count_bpf__attach(c->skel);

	(void)l;
	if (err) {
		ebee_err("cannot attach the count programs: %s", strerror(-err));
		return err;
	}
	ebee_info("counting %s syscalls; Ctrl-C to stop", c->plan.all ? "all" : "the selected");
	return 0;
}

static void count_stop(struct collector *col)
{
	struct counter *c = col->priv;

	count_bpf__detach(c->skel);
}

static void count_summary(struct collector *col, struct jw *w)
{
	const struct counter *c = col->priv;

	jw_ku64(w, "keys", c->nrows);
}

static void count_close(struct collector *col)
{
	struct counter *c = col->priv;

	if (c->cg_init)
		cgroup_names_free(&c->cg);
	free(c->rows);
	free(c->vals);
	count_bpf__destroy(c->skel);
	filter_free(&c->plan.filter);
}

const struct count_cfg count_cfg_default = {
	.top = 20,
	.max_entries = 16384,
};

const struct collector_desc count_collector = {
	.name = "count",
	.what = "syscall counters",
	.hooks = count_hooks,
	.nhooks = ARRAY_SIZE(count_hooks),
	.prog_prefix = "count_",
	.caps_run = COLLECTOR_CAPS(0),   /* map reads through fds it holds */
	.priv_size = sizeof(struct counter),
	.cfg_size = sizeof(struct count_cfg),
	.cfg_default = &count_cfg_default,
	.opts = count_opts,
	.open = count_open,
	.start = count_start,
	.refresh = count_refresh,
	.rows = count_rows,
	.summary = count_summary,
	.stop = count_stop,
	.close = count_close,
};

