// SPDX-License-Identifier: BSD-2-Clause
/* `ebee top`: live per-program cost. The model samples every program each interval (one
 * BPF_OBJ_GET_INFO_BY_FD per program; owners and attach points only when programs appear or
 * every TOP_REFRESH_TICKS intervals, since the /proc scan is the costly part), and either the
 * full-screen view (view.c) or the batch printer below shows it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "core/loop.h"
#include "core/out.h"
#include "top/top.h"
#include "prog/collect.h"

/* ---- model ---------------------------------------------------------------------------- */

int top_model_init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
	m->stats.fd = m->stats.sysctl_prev = -1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	m->ncpus = n > 0 ? (int)n : 1;
	return 0;
}

void top_model_free(struct top_model *m)
{
	if (!m)
		return;
	free(m->rows);
	free(m->old);
	ps_set_free(&m->set);
	ps_set_free(&m->prev_set);
	ps_iter_close(m->iter);
	m->iter = NULL;
	m->rows = m->old = NULL;
}

static const struct top_row *find_row(const struct top_row *v, int n, uint32_t id)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (v[mid].p.id == id)
			return &v[mid];
		if (v[mid].p.id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int top_sample(struct top_model *m)
{
	uint64_t now;
	int n, appeared = 0, kept = 0;
	struct top_row *tmp;

	struct ps_set t = m->prev_set;
	m->prev_set = m->set;
	m->set = t;
	n = -1;
	if (m->iter && (n = ps_iter_collect(m->iter, &m->set, &m->prev_set)) < 0) {
		ebee_warn("cannot read the bpf_prog iterator (%s): reading programs one by one", strerror(-n));
		ps_iter_close(m->iter);
		m->iter = NULL;
	}
	if (n < 0)
		n = ps_collect(&m->set, 0);
	if (n < 0)
		return n;
	now = m->set.taken_ns;
	m->elapsed_s = m->last_ns ? (now - m->last_ns) / 1e9 : 0;
	/* Previous rows become old; rows are rebuilt in id order. */
	tmp = m->old, m->old = m->rows, m->rows = tmp;
	m->old_n = m->n;
	if (m->cap < n) {
		struct top_row *a = realloc(m->rows, sizeof(*a) * n), *b;
		if (!a)
			return -ENOMEM;
		m->rows = a;
		b = realloc(m->old, sizeof(*b) * (n > m->old_n ? n : m->old_n));
		if (!b)
			return -ENOMEM;
		m->old = b;
		m->cap = n;
	}
	for (int i = 0; i < n; i++)
		if (!find_row(m->old, m->old_n, m->set.v[i].id))
			appeared++;
	/* The /proc scan for owners costs ~10-20 ms with a thousand fds on the machine: on a box
	 * where programs come and go all the time, new ones get their owner within
	 * TOP_RESCAN_MIN_NS rather than a scan per interval. */
	bool refresh = m->samples % TOP_REFRESH_TICKS == 0 ||
		       (appeared && now - m->scanned_ns >= TOP_RESCAN_MIN_NS);
	if (refresh) {
		ps_fill_attach(&m->set);
		if (!ps_iter_has_owners(m->iter) || ps_iter_owners(m->iter, &m->set))
			ps_fill_owners(&m->set);
		m->scanned_ns = now;
	}
	for (int i = 0; i < n; i++) {
		const struct ps_prog *p = &m->set.v[i];
		const struct top_row *o = find_row(m->old, m->old_n, p->id);
		struct top_row *r = &m->rows[i];

		if (o && o->p.load_time == p->load_time) {
			memcpy(r->h_cpu, o->h_cpu, sizeof(r->h_cpu));
			memcpy(r->h_ns, o->h_ns, sizeof(r->h_ns));
			r->h_n = o->h_n;
			r->h_pos = o->h_pos;
			r->p = *p;
			if (!refresh) {
				memcpy(r->p.attach, o->p.attach, sizeof(r->p.attach));
				memcpy(r->p.owners, o->p.owners, sizeof(r->p.owners));
				memcpy(r->p.owner_comm, o->p.owner_comm, sizeof(r->p.owner_comm));
				r->p.owner_pid = o->p.owner_pid;
			}
			/* counters only grow; a smaller value means another program got this id */
			r->have_rate = p->run_cnt >= o->p.run_cnt && p->run_time_ns >= o->p.run_time_ns;
			r->d_runs = r->have_rate ? p->run_cnt - o->p.run_cnt : 0;
			r->d_ns = r->have_rate ? p->run_time_ns - o->p.run_time_ns : 0;
			kept++;
		} else {
			r->p = *p;
			r->h_n = r->h_pos = 0;
			/* Loaded during the interval: everything it ran, it ran in it. On the first
			 * sample there is no interval yet. */
			r->have_rate = m->samples > 0;
			r->d_runs = r->have_rate ? p->run_cnt : 0;
			r->d_ns = r->have_rate ? p->run_time_ns : 0;
		}
		r->ns_total = p->run_cnt ? (double)p->run_time_ns / p->run_cnt : 0;
		if (r->have_rate && m->elapsed_s > 0) {
			r->runs_s = r->d_runs / m->elapsed_s;
			r->ns_run = r->d_runs ? (double)r->d_ns / r->d_runs : 0;
			r->cpu = r->d_ns / (m->elapsed_s * 1e9) * 100.0;
			r->cpu_all = r->cpu / m->ncpus;
			r->h_cpu[r->h_pos] = (float)r->cpu;
			r->h_ns[r->h_pos] = (float)r->ns_run;
			r->h_pos = (r->h_pos + 1) % TOP_HIST;
			if (r->h_n < TOP_HIST)
				r->h_n++;
		} else {
			r->have_rate = false;
			r->runs_s = r->ns_run = r->cpu = r->cpu_all = 0;
		}
	}
	m->n = n;
	m->appeared = m->samples ? appeared : 0;
	m->vanished = m->old_n - kept;
	if (!m->samples)
		m->vanished = 0;
	m->last_ns = now;
	m->samples++;
	return 0;
}

/* ---- filter and order ----------------------------------------------------------------- */

static bool has(const char *hay, const char *needle)
{
	return !needle || !*needle || strcasestr(hay, needle);
}

static bool owner_has(const struct top_row *r, const char *needle)
{
	return !needle || !*needle || strcasestr(r->p.owners, needle);
}

bool top_match(const struct top_row *r, const struct top_filter *f)
{
	char type[40] = "";

	if ((f->type && *f->type) || f->text[0])   /* a name only when a filter needs it */
		ps_type_name(r->p.type, type, sizeof(type));
	if (!has(type, f->type) || !has(r->p.name, f->name) || !owner_has(r, f->owner))
		return false;
	if (!f->text[0])
		return true;
	if (!strncmp(f->text, "type:", 5))
		return has(type, f->text + 5);
	if (!strncmp(f->text, "name:", 5))
		return has(r->p.name, f->text + 5);
	if (!strncmp(f->text, "owner:", 6))
		return owner_has(r, f->text + 6);
	char id[16];
	snprintf(id, sizeof(id), "%u", r->p.id);
	return has(type, f->text) || has(r->p.name, f->text) || owner_has(r, f->text) ||
	       has(r->p.attach, f->text) || !strcmp(id, f->text);
}

static const char *const sort_names[SORT__N] = {
	[SORT_ID] = "id", [SORT_TYPE] = "type", [SORT_NAME] = "name", [SORT_OWNER] = "owner",
	[SORT_ATTACH] = "attach", [SORT_RUNS] = "runs", [SORT_NS] = "ns", [SORT_NS_TOTAL] = "ns_total",
	[SORT_CPU] = "cpu",
};

const char *top_sort_name(enum top_sort k) { return k < SORT__N ? sort_names[k] : "?"; }

int top_sort_parse(const char *s, enum top_sort *k)
{
	for (int i = 0; i < SORT__N; i++)
		if (!strcmp(s, sort_names[i])) {
			*k = i;
			return 0;
		}
	return -EINVAL;
}

struct order_arg { const struct top_model *m; enum top_sort key; bool asc; };

static int cmp_d(double a, double b) { return a < b ? -1 : a > b; }

static int cmp_rows(const void *a, const void *b, void *argp)
{
	const struct order_arg *arg = argp;
	const struct top_row *x = &arg->m->rows[*(const int *)a], *y = &arg->m->rows[*(const int *)b];
	char tx[40], ty[40];
	int c = 0;

	switch (arg->key) {
	case SORT_ID: break;
	case SORT_TYPE:
		c = strcmp(ps_type_name(x->p.type, tx, sizeof(tx)), ps_type_name(y->p.type, ty, sizeof(ty)));
		break;
	case SORT_NAME: c = strcmp(x->p.name, y->p.name); break;
	case SORT_OWNER: c = strcmp(x->p.owners, y->p.owners); break;
	case SORT_ATTACH: c = strcmp(x->p.attach, y->p.attach); break;
	case SORT_RUNS: c = cmp_d(x->runs_s, y->runs_s); break;
	case SORT_NS: c = cmp_d(x->ns_run, y->ns_run); break;
	case SORT_NS_TOTAL: c = cmp_d(x->ns_total, y->ns_total); break;
	case SORT_CPU: c = cmp_d(x->cpu, y->cpu); break;
	default: break;
	}
	if (!c)
		c = x->p.id < y->p.id ? -1 : x->p.id > y->p.id;
	return arg->asc ? c : -c;
}

int top_order(const struct top_model *m, const struct top_filter *f, enum top_sort key, bool asc,
	      int *idx)
{
	struct order_arg arg = { m, key, asc };
	int n = 0;

	for (int i = 0; i < m->n; i++)
		if (top_match(&m->rows[i], f))
			idx[n++] = i;
	if (n > 1)
		qsort_r(idx, n, sizeof(*idx), cmp_rows, &arg);
	return n;
}

/* ---- command -------------------------------------------------------------------------- */

static int top_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct top_cfg *cfg = cfgp;
	struct ebee_loop *l = NULL;
	struct collector *c = NULL;
	struct out o;
	int err;

	if (!cfg->batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || ctx->json)) {
		if (!ctx->json)
			ebee_warn("not a terminal: printing batch snapshots instead of the full-screen view");
		cfg->batch = true;
	}
	l = loop_new();
	if (!l) {
		err = -errno ? -errno : -ENOMEM;
		ebee_err("cannot create the event loop: %s", strerror(-err));
		return err;
	}
	if (cfg->batch) {
		out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
		err = collector_run_cli(&prog_collector, cfg, l, cfg->interval, 0, ctx, &o);
		goto out;
	}
	/* The full-screen view reads the collector's model itself. */
	c = collector_new(&prog_collector, cfg);
	if (!c) {
		err = -ENOMEM;
		goto out;
	}
	err = collector_open(c);
	if (!err)
		err = collector_start(c, l);
	if (!err)
		err = top_view_run(ctx, cfg, prog_model(c), l, prog_sort_key(c));
out:
	collector_free(c);
	loop_free(l);
	return err;
}

const struct opt top_opts[] = {
	{ "interval", 'i', OPT_SECONDS, offsetof(struct top_cfg, interval), "SECONDS",
	  "sampling interval", "1", 0.05, 3600 },
	{ "batch", 'b', OPT_FLAG, offsetof(struct top_cfg, batch), NULL,
	  "print plain (or --json) snapshots instead of the full-screen view" },
	{ "count", 'n', OPT_UINT, offsetof(struct top_cfg, count), "N",
	  "stop after N intervals (0 = until Ctrl-C)", "0" },
	{ "sort", 's', OPT_STR, offsetof(struct top_cfg, sort), "COL",
	  "sort by id, type, name, owner, attach, runs, ns, ns_total or cpu", "cpu" },
	{ "asc", 0, OPT_FLAG, offsetof(struct top_cfg, asc), NULL, "ascending order" },
	{ "type", 't', OPT_STR, offsetof(struct top_cfg, type), "TYPE",
	  "only programs whose type contains TYPE" },
	{ "name", 0, OPT_STR, offsetof(struct top_cfg, name), "NAME",
	  "only programs whose name contains NAME" },
	{ "owner", 'o', OPT_STR, offsetof(struct top_cfg, owner), "PID|COMM",
	  "only programs held by a process matching PID or COMM" },
	{ "limit", 'l', OPT_UINT, offsetof(struct top_cfg, limit), "N",
	  "batch: print at most N programs per interval (0 = all)", "0" },
	{ "keep-stats", 0, OPT_FLAG, offsetof(struct top_cfg, keep_stats), NULL,
	  "set kernel.bpf_stats_enabled=1 and leave it on at exit" },
	{ "no-iter", 0, OPT_FLAG, offsetof(struct top_cfg, no_iter), NULL,
	  "read each program with BPF_OBJ_GET_INFO_BY_FD instead of one bpf_prog iterator pass" },
	OPT_END,
};

static const struct opt_doc top_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Live cost of every loaded BPF program, like bpftop: type, name, owner, attach point,\n"
		"runs/s, ns per run over the last interval and since load (NS/RUN*), CPU % of one CPU\n"
		"and of the whole machine. Stats are switched on while ebee runs (a BPF_ENABLE_STATS fd)\n"
		"unless they already are; the bookkeeping itself adds a little to every run.\n"
		"Keys: q quit, < > sort column, r reverse, / filter (type:X name:X owner:X or any\n"
		"text), p pause, up/down select, Enter history graph of the selected program, Esc back.\n"
		"Without a terminal (or with --batch / --json) snapshots are printed every interval.",
	.examples = "  ebee top\n  ebee top --batch --interval 2 --count 5 --sort runs\n"
		    "  ebee top -b -j -n 1 --type tracepoint",
};

const struct ebee_cmd top_cmd = {
	.name = "top", .summary = "live per-program BPF cost (full screen or --batch)",
	.req = REQ_BPF, .run = top_run, .opts = top_opts, .cfg_size = sizeof(struct top_cfg),
	.cfg_default = &top_cfg_default, .doc = &top_doc, .min_pos = 0, .max_pos = 0,
};
