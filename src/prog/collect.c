// SPDX-License-Identifier: BSD-2-Clause
/* The prog collector: what every loaded BPF program costs, sampled each interval (the model of
 * top/top.c: a bpf_prog iterator pass, else BPF_OBJ_GET_INFO_BY_FD per program, with run-time
 * stats on while it runs). `ebee top` drives it; its rows are top's batch snapshots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/capability.h>
#include "core/collector.h"
#include "core/priv.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "prog/collect.h"
#include "top/top.h"

/* Counters come from one bpf_prog iterator pass per interval, else from one
 * BPF_OBJ_GET_INFO_BY_FD per program: nothing to load then, only run-time stats to hold. */
static const struct ebee_hook prog_hooks[] = {
	{ "program counters", { { "ebee_prog_iter", KIND_ITER }, { "", KIND_BPF_STATS } } },
};

/* ---- rows: the batch snapshot ---------------------------------------------------------------------------- */

enum { B_TS, B_SAMPLE, B_ID, B_TYPE, B_NAME, B_OWNER, B_RUNS_S, B_NS, B_NS_TOTAL, B_CPU, B_CPU_ALL,
       B_RUNS, B_RUNTIME, B_OWNERS, B_ATTACH, B_COLLECTOR, B__N };

static const struct out_col batch_cols[B__N] = {
	[B_TS]       = { "ts", "TIME", OUT_STR, 0 },
	[B_SAMPLE]   = { "sample", "SAMPLE", OUT_U64, 0 },
	[B_ID]       = { "id", "ID", OUT_U64, 6 },
	[B_TYPE]     = { "type", "TYPE", OUT_STR, -13 },
	[B_NAME]     = { "name", "NAME", OUT_STR, -16 },
	[B_OWNER]    = { "owner", "OWNER", OUT_STR, -18 },
	[B_RUNS_S]   = { "runs_per_s", "RUNS/s", OUT_F64, 10, 0 },
	[B_NS]       = { "ns_per_run", "NS/RUN", OUT_F64, 8, 0 },
	[B_NS_TOTAL] = { "ns_per_run_total", "NS/RUN*", OUT_F64, 8, 0 },
	[B_CPU]      = { "cpu_pct", "CPU%", OUT_F64, 7, 2 },
	[B_CPU_ALL]  = { "cpu_pct_machine", "CPU%ALL", OUT_F64, 7, 3 },
	[B_RUNS]     = { "run_cnt", "RUNS", OUT_U64, 0 },
	[B_RUNTIME]  = { "run_time_ns", "RUN_NS", OUT_U64, 0 },
	[B_OWNERS]   = { "owners", "OWNERS", OUT_RAW, 0 },
	[B_ATTACH]   = { "attach", "ATTACH", OUT_STR, -30 },
	[B_COLLECTOR] = { "collector", "COLLECTOR", OUT_STR, 0 },   /* JSON: ebee's own programs */
};

/* The collector's state: the model, and what the batch printer keeps between intervals. */
struct prog_run {
	const struct top_cfg *cfg;
	struct top_model m;
	struct top_filter f;
	enum top_sort key;
	int *idx;
	int idx_cap;
	unsigned long long printed;   /* tables printed */
	unsigned shown_sample;        /* m.samples when the last table was printed */
	uint64_t programs;            /* programs read, over every sample */
};

static int batch_print(struct prog_run *b, struct out *o, unsigned long long limit)
{
	struct top_model *m = &b->m;
	char ts[40], st[160], owner[40], type[40];
	int n;

	if (b->idx_cap < m->n) {
		int *v = realloc(b->idx, sizeof(*v) * m->n);
		if (!v)
			return -ENOMEM;
		b->idx = v;
		b->idx_cap = m->n;
	}
	n = top_order(m, &b->f, b->key, b->cfg->asc, b->idx);
	ebee_fmt_time(ebee_realtime_ns(), ts, sizeof(ts));
	if (o->fmt == OUT_TABLE) {
		out_sep(o, "--- %.19s  %d programs (%d shown, +%d -%d)  %s; NS/RUN* = since load; stats "
			"bookkeeping adds a little to every run ---", ts, m->n, n, m->appeared, m->vanished,
			ps_stats_describe(&m->stats, st, sizeof(st)));
		out_header(o);
	}
	for (int i = 0; i < n && (!limit || (unsigned long long)i < limit); i++) {
		const struct top_row *r = &m->rows[b->idx[i]];

		out_str(o, B_TS, ts);
		out_u64(o, B_SAMPLE, b->printed + 1);
		out_u64(o, B_ID, r->p.id);
		out_str(o, B_TYPE, ps_type_name(r->p.type, type, sizeof(type)));
		out_str(o, B_NAME, r->p.name);
		if (r->p.owner_pid) {
			snprintf(owner, sizeof(owner), "%u/%s", r->p.owner_pid, r->p.owner_comm);
			out_str(o, B_OWNER, owner);
			if (o->fmt == OUT_JSON) {
				char oj[OUT_CELL];
				ps_owners_json(r->p.owners, oj, sizeof(oj));
				out_raw(o, B_OWNERS, oj);
			}
		}
		if (r->have_rate) {
			out_f64(o, B_RUNS_S, r->runs_s);
			out_f64(o, B_NS, r->ns_run);
			out_f64(o, B_CPU, r->cpu);
			out_f64(o, B_CPU_ALL, r->cpu_all);
		}
		out_f64(o, B_NS_TOTAL, r->ns_total);
		out_u64(o, B_RUNS, r->p.run_cnt);
		out_u64(o, B_RUNTIME, r->p.run_time_ns);
		if (r->p.attach[0])
			out_str(o, B_ATTACH, r->p.attach);
		if (prog_collector_of(&r->p))
			out_str(o, B_COLLECTOR, prog_collector_of(&r->p));
		out_row(o);
	}
	if (o->f)
		fflush(o->f);
	b->printed++;
	return 0;
}

static int prog_open(struct collector *c)
{
	const struct top_cfg *cfg = c->cfg;
	struct prog_run *r = c->priv;
	int err;

	r->cfg = cfg;
	top_model_init(&r->m);
	r->key = SORT_CPU;
	if (cfg->sort && top_sort_parse(cfg->sort, &r->key)) {
		ebee_err("invalid --sort '%s' (id, type, name, owner, attach, runs, ns, ns_total, cpu)", cfg->sort);
		return -EINVAL;
	}
	r->f.type = cfg->type;
	r->f.name = cfg->name;
	r->f.owner = cfg->owner;
	if ((err = ps_stats_on(&r->m.stats, cfg->keep_stats)))
		return err;
	if (!cfg->no_iter && ebee_have(KIND_ITER) && (err = ps_iter_open(&r->m.iter)))
		ebee_info("bpf_prog iterator not available (%s): reading programs one by one", strerror(-err));
	else if (r->m.iter)
		ebee_info("reading counters through a bpf_prog iterator (one pass per interval)%s",
			  ps_iter_has_owners(r->m.iter) ? ", owners through a task_file iterator" : "");
	c->chosen[0] = r->m.iter ? 0 : 1;
	return 0;
}

static int prog_start(struct collector *c, struct ebee_loop *l)
{
	struct prog_run *r = c->priv;
	int err;

	(void)l;
	err = top_sample(&r->m);   /* the base the first interval is measured against */
	r->shown_sample = r->m.samples;
	r->programs += r->m.n;
	return err;
}

/* A sample per interval; none after stop (the last table was the last interval's). */
static int prog_refresh(struct collector *c)
{
	struct prog_run *r = c->priv;
	int err;

	if (c->stopped)
		return 0;
	if ((err = top_sample(&r->m)))
		return err;
	if (!r->m.iter)
		c->chosen[0] = 1;   /* the iterator failed and was dropped */
	r->programs += r->m.n;
	c->cnt.events = r->programs;
	return 0;
}

static void prog_rows(struct collector *c, struct out *o)
{
	struct prog_run *r = c->priv;

	if (r->shown_sample == r->m.samples)
		return;
	if (o->cols != batch_cols)
		out_init(o, o->f, o->fmt, batch_cols, B__N);
	if (batch_print(r, o, r->cfg->limit))
		ebee_err("cannot print the program table: %s", strerror(ENOMEM));
	r->shown_sample = r->m.samples;
	if (r->cfg->count && r->printed >= r->cfg->count && c->loop)
		loop_stop(c->loop);
}

static void prog_summary(struct collector *c, struct jw *w)
{
	const struct prog_run *r = c->priv;

	jw_ku64(w, "programs", (uint64_t)r->m.n);
	jw_ku64(w, "samples", r->m.samples);
}

static void prog_close(struct collector *c)
{
	struct prog_run *r = c->priv;

	free(r->idx);
	ps_stats_off(&r->m.stats);
	top_model_free(&r->m);
	ps_cleanup();
}

/* The daemon's /api/prog: the last sample's programs, most costly first (--sort), top N. */
static void prog_api(struct collector *c, struct jw *w, size_t top)
{
	struct prog_run *r = c->priv;
	struct out *o = malloc(sizeof(*o));
	char st[160];

	jw_ku64(w, "programs", (uint64_t)r->m.n);
	jw_ku64(w, "samples", r->m.samples);
	jw_kstr(w, "stats", ps_stats_describe(&r->m.stats, st, sizeof(st)));
	jw_key(w, "rows");
	jw_arr_begin(w);
	if (o) {
		unsigned long long printed = r->printed;

		out_init_jw(o, w, batch_cols, B__N);
		if (batch_print(r, o, top))
			ebee_err("cannot render the program table: %s", strerror(ENOMEM));
		r->printed = printed;   /* an API read is not one of the CLI's tables */
		free(o);
	}
	jw_arr_end(w);
}

/* Per collector (ebee's own programs by their prefix; "other" for the rest): bounded labels
 * however many programs are loaded. */
static void prog_metrics(struct collector *c, struct prom *p)
{
	const struct prog_run *r = c->priv;
	enum { NC = 32 };
	const char *names[NC + 1];
	uint64_t runs[NC + 1] = { 0 }, ns[NC + 1] = { 0 }, progs[NC + 1] = { 0 };
	int n = 0;

	for (const struct collector_desc *const *d = ebee_collectors; *d && n < NC; d++)
		names[n++] = (*d)->name;
	names[n] = "other";
	for (int i = 0; i < r->m.n; i++) {
		const struct top_row *row = &r->m.rows[i];
		const char *who = prog_collector_of(&row->p);
		int k = n;

		for (int j = 0; who && j < n; j++)
			if (!strcmp(names[j], who))
				k = j;
		runs[k] += row->p.run_cnt;
		ns[k] += row->p.run_time_ns;
		progs[k]++;
	}
	prom_family(p, "ebee_bpf_programs", "gauge",
		    "BPF programs loaded on the host, by the ebee collector that owns them (other: not ebee's).");
	for (int k = 0; k <= n; k++) {
		struct prom_label l = { "owner", names[k] };

		prom_u64(p, "ebee_bpf_programs", &l, 1, progs[k]);
	}
	prom_family(p, "ebee_bpf_program_runs_total", "counter",
		    "Runs of the loaded BPF programs (run_cnt; counted while BPF stats are on).");
	for (int k = 0; k <= n; k++) {
		struct prom_label l = { "owner", names[k] };

		prom_u64(p, "ebee_bpf_program_runs_total", &l, 1, runs[k]);
	}
	prom_family(p, "ebee_bpf_program_run_seconds_total", "counter",
		    "Time spent in the loaded BPF programs (run_time_ns; while BPF stats are on).");
	for (int k = 0; k <= n; k++) {
		struct prom_label l = { "owner", names[k] };

		prom_f64(p, "ebee_bpf_program_run_seconds_total", &l, 1, ns[k] / 1e9);
	}
}

const char *prog_collector_of(const struct ps_prog *p)
{
	const struct collector_desc *d = collector_of_prog(p->name);

	/* The name says which collector; an owner, when known, must be ebee (another tool may
	 * name a program "tcp_..." too). */
	if (!d || (p->owners[0] && !strstr(p->owners, "/ebee")))
		return NULL;
	return d->name;
}

struct top_model *prog_model(struct collector *c)
{
	return &((struct prog_run *)c->priv)->m;
}

enum top_sort prog_sort_key(const struct collector *c)
{
	return ((const struct prog_run *)c->priv)->key;
}

const struct top_cfg top_cfg_default = { .interval = 1.0 };

const struct collector_desc prog_collector = {
	.name = "prog",
	.what = "BPF program profiling",
	.hooks = prog_hooks,
	.nhooks = ARRAY_SIZE(prog_hooks),
	.prog_prefix = "ebee_prog_",
	/* every program by id (GET_NEXT_ID, GET_FD_BY_ID), owners from any /proc/PID/fdinfo */
	.caps_run = COLLECTOR_CAPS(EBEE_CAP(CAP_SYS_ADMIN) | EBEE_CAP(CAP_SYS_PTRACE) |
				   EBEE_CAP(CAP_DAC_READ_SEARCH)),
	.priv_size = sizeof(struct prog_run),
	.cfg_size = sizeof(struct top_cfg),
	.cfg_default = &top_cfg_default,
	.opts = top_opts,
	.api = prog_api,
	.metrics = prog_metrics,
	.open = prog_open,
	.start = prog_start,
	.refresh = prog_refresh,
	.rows = prog_rows,
	.summary = prog_summary,
	.close = prog_close,
};
