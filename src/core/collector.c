// SPDX-License-Identifier: BSD-2-Clause
/* The collector lifecycle, the registry lookups and the one closing summary (collector.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/collector.h"
#include "core/field.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "core/priv.h"

const struct collector_desc *collector_find(const char *name)
{
	for (const struct collector_desc *const *d = ebee_collectors; *d; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
}

const struct collector_desc *collector_of_prog(const char *prog_name)
{
	for (const struct collector_desc *const *d = ebee_collectors; *d; d++)
		if ((*d)->prog_prefix && !strncmp(prog_name, (*d)->prog_prefix, strlen((*d)->prog_prefix)))
			return *d;
	return NULL;
}

struct collector *collector_new(const struct collector_desc *d, const void *cfg)
{
	struct collector *c;

	if (d->nhooks > COLLECTOR_MAX_HOOKS) {
		ebee_err("internal: collector '%s' has %d hooks, more than %d", d->name, d->nhooks,
			 COLLECTOR_MAX_HOOKS);
		return NULL;
	}
	/* One allocation: the collector, then its cfg copy, then its private state. */
	c = calloc(1, sizeof(*c) + d->cfg_size + d->priv_size + 16);
	if (!c) {
		ebee_err("cannot allocate the '%s' collector: %s", d->name, strerror(errno));
		return NULL;
	}
	c->desc = d;
	c->cfg = (char *)(c + 1);
	c->priv = (char *)c->cfg + ((d->cfg_size + 15) & ~(size_t)15);
	if (cfg && d->cfg_size)
		memcpy(c->cfg, cfg, d->cfg_size);
	for (int i = 0; i < COLLECTOR_MAX_HOOKS; i++)
		c->chosen[i] = -1;
	return c;
}

int collector_open(struct collector *c)
{
	int err = c->desc->open ? c->desc->open(c) : -EOPNOTSUPP;

	c->opened = true;   /* even when it failed: close undoes a half-open */
	if (err)
		collector_set_health(c, COLLECTOR_FAILED, "open failed: %s", strerror(-err));
	return err;
}

int collector_start(struct collector *c, struct ebee_loop *l)
{
	int err;

	c->loop = l;
	c->start_ns = ebee_now_ns();
	err = c->desc->start(c, l);
	c->started = true;
	if (err)
		collector_set_health(c, COLLECTOR_FAILED, "start failed: %s", strerror(-err));
	return err;
}

int collector_refresh(struct collector *c)
{
	return c->desc->refresh ? c->desc->refresh(c) : 0;
}

void collector_stop(struct collector *c)
{
	if (!c->started || c->stopped)
		return;
	if (c->desc->stop)
		c->desc->stop(c);
	c->stopped = true;
	c->stop_ns = ebee_now_ns();
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	collector_stop(c);
	if (c->opened && c->desc->close)
		c->desc->close(c);
	free(c);
}

int collector_choose(struct collector *c, struct bpf_object *obj)
{
	return ebee_choose(obj, c->desc->hooks, c->desc->nhooks, c->chosen);
}

int collector_kind(const struct collector *c, int hook)
{
	if (hook < 0 || hook >= c->desc->nhooks || c->chosen[hook] < 0)
		return -1;
	return c->desc->hooks[hook].v[c->chosen[hook]].kind;
}

/* Runs the kernel skipped for a chosen program: it does not run a BPF program that would nest
 * in one already running on the CPU (a softirq interrupting one; for plain tracepoints, any
 * other tracing program) and counts each skip in the program's info. */
uint64_t collector_prog_misses(const struct collector *c, struct bpf_object *obj)
{
	uint64_t sum = 0;

	for (int h = 0; h < c->desc->nhooks; h++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		struct bpf_program *p;
		int fd;

		if (c->chosen[h] < 0)
			continue;
		p = bpf_object__find_program_by_name(obj, c->desc->hooks[h].v[c->chosen[h]].prog);
		fd = p ? bpf_program__fd(p) : -1;
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}

int collector_drop_privileges(struct collector *const *cs, int n, const char *who)
{
	uint64_t keep = 0;

	for (int i = 0; i < n; i++) {
		if (!cs[i]->desc->caps_run) {
			ebee_info("%s: capabilities kept: collector '%s' does not declare what it needs",
				  who, cs[i]->desc->name);
			return 0;
		}
		keep |= cs[i]->desc->caps_run;
	}
	return ebee_drop_privileges(keep & ~(1ULL << 63), who);
}

int collector_subscribe(struct collector *c, collector_event_fn fn, void *arg)
{
	if (c->nsubs == COLLECTOR_MAX_SUBS)
		return -ENOSPC;
	c->subs[c->nsubs++] = (struct collector_sub){ fn, arg };
	return 0;
}

void collector_emit(struct collector *c, const struct ebee_event_hdr *ev)
{
	for (int i = 0; i < c->nsubs; i++)
		c->subs[i].fn(c->subs[i].arg, ev);
}

void collector_event_json(struct collector *c, struct jw *w, const struct ebee_event_hdr *ev)
{
	if (c->desc->event_json)
		c->desc->event_json(c, w, ev);
	else
		event_json(w, ev);
}

void collector_set_health(struct collector *c, enum collector_health h, const char *fmt, ...)
{
	va_list ap;

	c->health = h;
	va_start(ap, fmt);
	vsnprintf(c->health_detail, sizeof(c->health_detail), fmt, ap);
	va_end(ap);
}

static double duration_s(const struct collector *c)
{
	uint64_t end = c->stop_ns ? c->stop_ns : ebee_now_ns();

	return c->start_ns ? (double)(end - c->start_ns) / 1e9 : 0;
}

void collector_summary(struct collector *c, const struct ebee_ctx *ctx)
{
	const struct collector_counters *n = &c->cnt;
	struct jw w;

	if (ctx && ctx->json) {
		jw_init_file(&w, stdout);
		jw_obj_begin(&w);
		jw_kstr(&w, "type", "summary");
		jw_kstr(&w, "collector", c->desc->name);
		jw_ku64(&w, "events", n->events);
		jw_ku64(&w, "lost", n->lost);
		jw_ku64(&w, "missed", n->missed);
		jw_kf64(&w, "duration_s", duration_s(c));
		if (c->desc->summary)
			c->desc->summary(c, &w);
		jw_obj_end(&w);
		jw_finish(&w);
		fputc('\n', stdout);
		fflush(stdout);
	}
	fflush(stdout);   /* the rows first, then any warning about them */
	if (n->lost)
		ebee_warn("lost %llu events (%s)", (unsigned long long)n->lost,
			  c->lost_why ? c->lost_why : "ring buffer full");
	if (n->missed)
		ebee_warn("missed %llu program runs (the kernel skips a BPF program nested in another)",
			  (unsigned long long)n->missed);
	if (!n->lost && !n->missed)
		ebee_info("%s: %llu events in %.1f s, none lost or missed", c->desc->name,
			  (unsigned long long)n->events, duration_s(c));
}

static int cli_tick(struct ebee_loop *l, void *arg)
{
	struct collector *c = arg;
	int err;

	(void)l;
	err = collector_refresh(c);
	if (!err && c->desc->rows)
		c->desc->rows(c, c->out);
	if (c->out)
		fflush(c->out->f);
	return err;
}

int collector_run_cli(const struct collector_desc *d, const void *cfg, struct ebee_loop *loop,
		      double interval_s, double duration_s, const struct ebee_ctx *ctx,
		      struct out *o)
{
	struct ebee_loop *own = loop ? NULL : (loop = loop_new());
	struct collector *c = loop ? collector_new(d, cfg) : NULL;
	int err;

	if (!c) {
		loop_free(own);
		return -ENOMEM;
	}
	c->out = o;
	c->ctx = ctx;
	err = collector_open(c);
	if (err)
		goto out;
	if (loop_stopping(loop))   /* Ctrl-C during the load: nothing to report */
		goto out;
	err = collector_start(c, loop);
	if (err)
		goto out;
	/* Attached: a collector that declares what it still needs runs with that alone. */
	if (d->caps_run)
		collector_drop_privileges(&c, 1, d->name);
	/* The duration counts from now, not from before the load. */
	if ((interval_s > 0 && (err = loop_set_tick(loop, interval_s, cli_tick, c))) ||
	    (err = loop_set_duration(loop, duration_s))) {
		ebee_err("cannot set up the loop's timers: %s", strerror(-err));
		goto out;
	}
	err = loop_run(loop);
	if (err > 0)
		err = 0;
	/* Detach first, so that the last rows and the counters are final and exact: what the
	 * programs wrote between the loop's last drain and the detach is read before the summary. */
	collector_stop(c);
	if (!err)
		err = loop_drain(loop);
	if (!err)
		err = collector_refresh(c);
	if (!err && d->rows)
		d->rows(c, o);
	collector_summary(c, ctx);
out:
	collector_free(c);
	loop_free(own);
	return err;
}
