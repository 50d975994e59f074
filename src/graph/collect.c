// SPDX-License-Identifier: BSD-2-Clause
/* The graph collector (graph/collect.h): an events collector of its own feeds the graph
 * through collector_subscribe; detections become EV_GRAPH_ALERT records for the daemon's
 * stream (collector_emit) and, in the CLI, lines on the command's output; /api/graph is the
 * graph of the most interesting lineages, bounded by ?top=N; /metrics has its sizes, the
 * detections per rule and what the bound aged out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/ebee.h"
#include "core/field.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "events/evtypes.h"
#include "graph/collect.h"
#include "graph/graph_int.h"

/* The types the graph is made of: what it ingests, nothing more is loaded. */
static const char *const graph_types[] = {
	"exec", "fork", "exit", "open", "unlink", "rename", "chmod", "link", "symlink", "mkdir",
	"connect", "accept", "bind", "listen", "sendto", "kill", "ptrace", "module",
};

struct graph_state {
	struct graph *g;
	struct collector *ev;      /* the events collector it subscribes to (NULL: --replay) */
	struct proctab *pt;
	FILE *rec;                 /* --record */
	uint64_t lost_read_ns;     /* when the drop counter was read last (event time) */
	uint64_t by_rule[GR__MAX];
	int replay_timer;
	int save_err;              /* --save failed: the run's result */
	char hostname[256];
};

/* A recorded stream: "EBEEEVS1" then the records as the ring buffer gave them. */
static const char rec_magic[8] = "EBEEEVS1";

/* ---- the alert record ---- */

static const char *rule_text(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", graph_rule_name((int)v));
	return buf;
}

static const char *prio_text(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", graph_rule_priority((int)v));
	return buf;
}

#define A(n, k, m, ...) FIELD(n, k, struct graph_alert_ev, m, __VA_ARGS__)
static const struct ebee_field alert_fields[] = {
	A("rule", FK_ENUM, a.rule, .decode = rule_text, .doc = "the detection's rule name"),
	A("priority", FK_ENUM, a.rule, .decode = prio_text, .doc = "its Falco priority"),
	A("graph.alert_id", FK_U32, a.id, .doc = "the alert's number (g<N> in show)"),
	A("graph.incomplete", FK_U8, a.incomplete, .doc = "events were lost in its window"),
	A("output", FK_STR, a.text, .doc = "what fired, in words"),
};
#undef A

static const struct ebee_event_desc alert_desc = {
	.type = EV_GRAPH_ALERT, .name = "graph_alert", .size = sizeof(struct graph_alert_ev),
	.fields = alert_fields, .nfields = ARRAY_SIZE(alert_fields),
	.doc = "a detection of the behaviour graph (Falco alert JSON with source graph)",
};

static void on_alert(void *arg, const struct graph *g, const struct galert *a)
{
	struct collector *c = arg;
	struct graph_state *s = c->priv;
	const struct gproc *p = graph_proc(g, a->proc);
	struct graph_alert_ev ev = { .a = *a };

	s->by_rule[a->rule]++;
	ev.hdr.type = EV_GRAPH_ALERT;
	ev.hdr.size = sizeof(ev);
	ev.hdr.time_ns = a->time_ns;
	if (p) {
		const char *comm = graph_comm(g, a->proc);

		ev.hdr.pid = ev.hdr.tid = p->pid;
		ev.hdr.uid = p->uid;
		ev.hdr.start_ns = p->start_ns;
		memcpy(ev.hdr.comm, comm, strnlen(comm, sizeof(ev.hdr.comm)));
	}
	if (c->out) {
		/* the CLI: each alert as it fires */
		char line[GRAPH_ALERT_TEXT + 128];

		if (c->ctx && c->ctx->json) {
			struct jw w;

			jw_init_file(&w, c->out->f);
			graph_alert_json(g, a, s->hostname, &w);
			jw_finish(&w);
			fputc('\n', c->out->f);
		} else {
			fprintf(c->out->f, "%s\n", graph_alert_line(g, a, line, sizeof(line)));
		}
		fflush(c->out->f);
	}
	collector_emit(c, &ev.hdr);
}

static void graph_event_json(struct collector *c, struct jw *w, const struct ebee_event_hdr *h)
{
	struct graph_state *s = c->priv;

	if (h->type == EV_GRAPH_ALERT && h->size >= sizeof(struct graph_alert_ev) && s->g)
		graph_alert_members(s->g, &((const struct graph_alert_ev *)h)->a, s->hostname, w);
	else
		event_json(w, h);
}

/* ---- feeding the graph ---- */

static void on_event(void *arg, const struct ebee_event_hdr *h)
{
	struct collector *c = arg;
	struct graph_state *s = c->priv;

	if (s->rec && fwrite(h, h->size, 1, s->rec) != 1) {
		ebee_warn("recording stopped: %s", strerror(errno));
		fclose(s->rec);
		s->rec = NULL;
	}
	/* every 100 ms of event time, so that a window's alerts know of its losses */
	if (h->time_ns - s->lost_read_ns > 100000000ull) {
		s->lost_read_ns = h->time_ns;
		graph_stats_mut(s->g)->lost = ev_lost(s->ev);
	}
	graph_ingest(s->g, h, s->pt);
}

static int graph_open(struct collector *c)
{
	struct graph_state *s = c->priv;
	const struct graph_cfg *cfg = c->cfg;
	struct graph_limits lim = { (uint32_t)cfg->max_nodes, (uint32_t)cfg->max_edges };
	struct graph_rules rules = { .window_ns = (uint64_t)(cfg->window * 1e9),
				     .scan_addrs = (uint32_t)cfg->scan_min,
				     .scan_ports = (uint32_t)cfg->scan_min,
				     .flood = (uint32_t)cfg->flood_min };
	/* a stream's sends are its connection's bytes, not packets: not even emitted */
	struct ev_opts eo = { .mode = EVM_EVENTS, .filter = cfg->filter,
			      .ring_size = cfg->ring_size, .dgram_sends = true,
			      .module_attempts = cfg->module_attempts };
	bool mods = cfg->module_attempts || !ev_mod_optin();
	int err;

	s->replay_timer = -1;
	event_register(&alert_desc);
	s->g = graph_new(&lim, &rules);
	if (!s->g) {
		ebee_err("cannot allocate the graph: %s", strerror(errno));
		return -ENOMEM;
	}
	gethostname(s->hostname, sizeof(s->hostname) - 1);
	graph_on_alert(s->g, on_alert, c);
	if (cfg->replay)
		return 0;
	if (cfg->record) {
		s->rec = fopen(cfg->record, "wb");
		if (!s->rec || fwrite(rec_magic, 8, 1, s->rec) != 1) {
			ebee_err("cannot write '%s': %s", cfg->record, strerror(errno));
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(graph_types); i++)
		if (mods || strcmp(graph_types[i], "module"))
			eo.types.v[eo.types.n++] = graph_types[i];
	if (!mods)
		ebee_info("graph: no loaded_module edges: " EV_MOD_WHY " (--module-attempts adds them)");
	s->ev = collector_new(&events_collector, &eo);
	if (!s->ev)
		return -ENOMEM;
	if ((err = collector_subscribe(s->ev, on_event, c)))
		return err;
	return collector_open(s->ev);
}

int graph_collector_replay(struct collector *c, const char *path)
{
	struct graph_state *s = c->priv;
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, off = 8, n = 0;
	int err = 0;
	struct timespec c0, c1;
	uint64_t t0;
	long sz;

	if (!f) {
		ebee_err("cannot open '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	/* read whole first: the rate measured is the graph's, not the disk's */
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || sz > (1l << 30) ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)sz + 1)) ||
	    fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		ebee_err("cannot read '%s': %s", path, strerror(errno ? errno : EIO));
		err = -EINVAL;
		goto out;
	}
	len = (size_t)sz;
	if (len < 8 || memcmp(buf, rec_magic, 8)) {
		ebee_err("invalid recorded stream '%s' (no EBEEEVS1 header)", path);
		err = -EINVAL;
		goto out;
	}
	t0 = ebee_now_ns();
	/* CPU time too: on a shared machine the wall rate says more of the load than of the code */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	while (off < len) {
		/* records are copied out: the file does not keep them aligned */
		static _Alignas(8) unsigned char rec[65536];
		struct ebee_event_hdr *h = (void *)rec;

		if (len - off < sizeof(*h))
			break;
		memcpy(h, buf + off, sizeof(*h));
		if (h->size < sizeof(*h) || h->size > len - off)
			break;
		memcpy(rec, buf + off, h->size);
		graph_ingest(s->g, h, NULL);
		off += h->size;
		n++;
	}
	if (off != len) {
		ebee_err("invalid recorded stream '%s': record %zu is cut or has a bad size", path, n);
		err = -EINVAL;
	} else {
		double secs = (ebee_now_ns() - t0) / 1e9, cpu;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		cpu = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
		ebee_info("replayed %zu events in %.3f s: %.0f events/s (%.3f s of CPU: %.0f events "
			  "per CPU second)", n, secs, secs > 0 ? n / secs : 0, cpu,
			  cpu > 0 ? n / cpu : 0);
	}
out:
	free(buf);
	fclose(f);
	return err;
}

/* --replay: the whole stream at the loop's first turn, then the loop ends. */
static int replay_tick(struct ebee_loop *l, void *arg)
{
	struct collector *c = arg;
	struct graph_state *s = c->priv;
	const struct graph_cfg *cfg = c->cfg;
	int err;

	loop_del_timer(l, s->replay_timer);
	s->replay_timer = -1;
	err = graph_collector_replay(c, cfg->replay);
	loop_stop(l);
	return err;
}

static int graph_start(struct collector *c, struct ebee_loop *l)
{
	struct graph_state *s = c->priv;
	int err;

	ebee_info("graph: %zu MB bound (%u nodes, %u edges)", graph_mem_bytes(s->g) >> 20,
		  graph_nnodes_cap(s->g), graph_nedges_cap(s->g));
	if (!s->ev) {
		s->replay_timer = loop_add_timer(l, 0.001, replay_tick, c);
		return s->replay_timer < 0 ? s->replay_timer : 0;
	}
	if ((err = collector_start(s->ev, l)))
		return err;
	s->pt = ev_proctab(s->ev);
	return 0;
}

static int graph_refresh(struct collector *c)
{
	struct graph_state *s = c->priv;
	struct graph_stats *st = graph_stats_mut(s->g);
	int err = s->save_err;

	s->save_err = 0;   /* reported once */
	if (s->ev) {
		collector_refresh(s->ev);   /* drains the ring into the graph first */
		st->lost = s->ev->cnt.lost;
		c->cnt.lost = s->ev->cnt.lost;
		c->cnt.missed = s->ev->cnt.missed;
		c->lost_why = s->ev->lost_why;
	}
	c->cnt.events = st->events;
	return err;
}

static void dropped(const struct graph *g, uint64_t *dn, uint64_t *de)
{
	const struct graph_stats *st = graph_stats(g);

	*dn = *de = 0;
	for (int i = 0; i < GN__MAX; i++)
		*dn += st->dropped_nodes[i];
	for (int i = 0; i < GE__MAX; i++)
		*de += st->dropped_edges[i];
}

/* Detached, the last records read: the graph is final, --save writes it. */
static void graph_stop(struct collector *c)
{
	struct graph_state *s = c->priv;
	const struct graph_cfg *cfg = c->cfg;
	uint64_t dn, de;

	if (s->ev) {
		collector_stop(s->ev);
		graph_refresh(c);
	}
	dropped(s->g, &dn, &de);
	if (c->ctx && !c->ctx->json && (dn || de))
		ebee_warn("memory bound reached: %llu nodes and %llu edges aged out "
			  "(%llu events in them)", (unsigned long long)dn, (unsigned long long)de,
			  (unsigned long long)graph_stats(s->g)->dropped_edge_events);
	if (c->ctx && !c->ctx->json)
		ebee_info("%llu events, %u nodes, %u edges, %llu alerts",
			  (unsigned long long)graph_stats(s->g)->events, graph_nnodes(s->g),
			  graph_nedges(s->g), (unsigned long long)graph_stats(s->g)->alerts);
	if (cfg->save && graph_save(s->g, cfg->save))
		s->save_err = -EIO;
}

static void graph_close(struct collector *c)
{
	struct graph_state *s = c->priv;

	if (c->loop && s->replay_timer >= 0)
		loop_del_timer(c->loop, s->replay_timer);
	collector_free(s->ev);
	if (s->rec && fclose(s->rec))
		ebee_warn("recording '%s' incomplete: %s", ((struct graph_cfg *)c->cfg)->record,
			  strerror(errno));
	graph_free(s->g);
}

static void graph_summary(struct collector *c, struct jw *w)
{
	struct graph_state *s = c->priv;
	const struct graph_stats *st = graph_stats(s->g);
	uint64_t dn, de;

	dropped(s->g, &dn, &de);
	jw_ku64(w, "nodes", graph_nnodes(s->g));
	jw_ku64(w, "edges", graph_nedges(s->g));
	jw_ku64(w, "max_nodes", graph_nnodes_cap(s->g));
	jw_ku64(w, "max_edges", graph_nedges_cap(s->g));
	jw_ku64(w, "mem_bytes", graph_mem_bytes(s->g));
	jw_ku64(w, "alerts", st->alerts);
	jw_ku64(w, "dropped_nodes", dn);
	jw_ku64(w, "dropped_edges", de);
	jw_ku64(w, "dropped_edge_events", st->dropped_edge_events);
	jw_kbool(w, "incomplete", st->lost > 0);
}

/* ---- metrics ---- */

static void graph_metrics(struct collector *c, struct prom *p)
{
	struct graph_state *s = c->priv;
	const struct graph *g = s->g;
	const struct graph_stats *st = graph_stats(g);
	uint64_t nt[GN__MAX] = { 0 }, et[GE__MAX] = { 0 };
	struct prom_label l;

	for (uint32_t i = 0; i < g->ncap; i++)
		nt[g->n[i].type]++;
	for (uint32_t i = 0; i < g->ecap; i++)
		et[g->e[i].type]++;
	prom_family(p, "ebee_graph_nodes", "gauge", "Nodes in the behaviour graph, by type.");
	for (int t = 1; t < GN__MAX; t++) {
		l = (struct prom_label){ "type", graph_node_type_name(t) };
		prom_u64(p, "ebee_graph_nodes", &l, 1, nt[t]);
	}
	prom_family(p, "ebee_graph_edges", "gauge", "Edges in the behaviour graph, by type.");
	for (int t = 1; t < GE__MAX; t++) {
		l = (struct prom_label){ "type", graph_edge_type_name(t) };
		prom_u64(p, "ebee_graph_edges", &l, 1, et[t]);
	}
	prom_family(p, "ebee_graph_nodes_capacity", "gauge", "Size of the node table (the bound).");
	prom_u64(p, "ebee_graph_nodes_capacity", NULL, 0, graph_nnodes_cap(g));
	prom_family(p, "ebee_graph_edges_capacity", "gauge", "Size of the edge table (the bound).");
	prom_u64(p, "ebee_graph_edges_capacity", NULL, 0, graph_nedges_cap(g));
	prom_family(p, "ebee_graph_memory_bytes", "gauge", "Memory the graph's tables take.");
	prom_u64(p, "ebee_graph_memory_bytes", NULL, 0, graph_mem_bytes(g));
	prom_family(p, "ebee_graph_detections_total", "counter", "Detections fired, by rule.");
	for (int r = 0; r < GR__MAX; r++) {
		l = (struct prom_label){ "rule", graph_rule_name(r) };
		prom_u64(p, "ebee_graph_detections_total", &l, 1, s->by_rule[r]);
	}
	prom_family(p, "ebee_graph_evicted_nodes_total", "counter",
		    "Nodes aged out by the memory bound, by type.");
	for (int t = 1; t < GN__MAX; t++) {
		l = (struct prom_label){ "type", graph_node_type_name(t) };
		prom_u64(p, "ebee_graph_evicted_nodes_total", &l, 1, st->dropped_nodes[t]);
	}
	prom_family(p, "ebee_graph_evicted_edges_total", "counter",
		    "Edges aged out by the memory bound, by type.");
	for (int t = 1; t < GE__MAX; t++) {
		l = (struct prom_label){ "type", graph_edge_type_name(t) };
		prom_u64(p, "ebee_graph_evicted_edges_total", &l, 1, st->dropped_edges[t]);
	}
	prom_family(p, "ebee_graph_events_total", "counter", "Events the graph ingested.");
	prom_u64(p, "ebee_graph_events_total", NULL, 0, st->events);
	prom_family(p, "ebee_graph_events_lost_total", "counter",
		    "Events the kernel could not queue (the graph is incomplete).");
	prom_u64(p, "ebee_graph_events_lost_total", NULL, 0, st->lost);
}

/* ---- /api/graph ---- */

/* A proc's lineage head, without the ingestion's repair of a head aged out. */
static uint32_t head_of(const struct graph *g, uint32_t id)
{
	uint32_t h = g->p[g->n[id].proc].lineage;

	return h < g->ncap && g->n[h].type == GN_PROC && g->n[h].flags & GNF_HEAD ? h : id;
}

struct lin {
	uint32_t head, procs, alerts, last_alert;
	uint64_t deg;
};

static int cmp_lin(const void *a, const void *b)
{
	const struct lin *x = a, *y = b;

	if (x->alerts != y->alerts)   /* alerted lineages first, the latest alert first */
		return !x->alerts ? 1 : !y->alerts ? -1 : x->last_alert < y->last_alert ? 1 : -1;
	return x->deg < y->deg ? 1 : x->deg > y->deg ? -1 : 0;
}

static void take(const struct graph *g, uint8_t *in, uint32_t id, uint32_t *n, uint32_t max)
{
	if (id < g->ncap && g->n[id].type && !in[id] && *n < max) {
		in[id] = 1;
		(*n)++;
	}
}

/* The graph of the most interesting lineages (alerted ones first, then the busiest), each
 * with its processes and their neighbours, up to top nodes; the edges between them. */
static void graph_api(struct collector *c, struct jw *w, size_t top)
{
	struct graph_state *s = c->priv;
	const struct graph *g = s->g;
	const struct graph_stats *st = graph_stats(g);
	uint32_t max = top ? (uint32_t)(top < g->ncap ? top : g->ncap) : g->ncap, n = 0, ne = 0;
	uint32_t *slot = calloc(g->ncap, sizeof(*slot));
	uint8_t *in = calloc(g->ncap, 1);
	struct lin *lins = calloc(g->ncap, sizeof(*lins));
	uint32_t nl = 0, shown = 0;
	uint64_t dn, de;
	char b[32];

	dropped(g, &dn, &de);
	jw_ku64(w, "nodes_total", graph_nnodes(g));
	jw_ku64(w, "edges_total", graph_nedges(g));
	jw_ku64(w, "max_nodes", graph_nnodes_cap(g));
	jw_ku64(w, "max_edges", graph_nedges_cap(g));
	jw_ku64(w, "mem_bytes", graph_mem_bytes(g));
	jw_ku64(w, "dropped_nodes", dn);
	jw_ku64(w, "dropped_edges", de);
	jw_kbool(w, "incomplete", st->lost > 0);
	jw_key(w, "detections");
	jw_obj_begin(w);
	for (int r = 0; r < GR__MAX; r++)
		jw_ku64(w, graph_rule_name(r), s->by_rule[r]);
	jw_obj_end(w);
	if (!slot || !in || !lins) {
		collector_set_health(c, COLLECTOR_DEGRADED, "out of memory rendering /api/graph");
		goto out;
	}
	/* lineages: one entry per head, in slot order */
	for (uint32_t i = 0; i < g->ncap; i++) {
		uint32_t h;

		if (g->n[i].type != GN_PROC)
			continue;
		h = head_of(g, i);
		if (!slot[h]) {
			slot[h] = ++nl;
			lins[nl - 1].head = h;
		}
		lins[slot[h] - 1].procs++;
		lins[slot[h] - 1].deg += g->n[i].deg;
	}
	for (uint32_t i = 0; i < graph_nalerts(g); i++) {
		const struct galert *a = graph_alert_at(g, i);
		const struct gnode *p = graph_node(g, a->proc);
		struct lin *li;

		if (!p || p->type != GN_PROC || !slot[head_of(g, a->proc)])
			continue;
		li = &lins[slot[head_of(g, a->proc)] - 1];
		li->alerts++;
		if (a->id > li->last_alert)
			li->last_alert = a->id;
	}
	qsort(lins, nl, sizeof(*lins), cmp_lin);
	/* the first lineage may take half the nodes, each next one an eighth, of what is left */
	for (uint32_t k = 0; k < nl && n < max; k++) {
		uint32_t share = n + (k ? (max - n) / 8 : (max - n) / 2), h = lins[k].head;

		if (share <= n)
			share = n + 1;
		if (share > max)
			share = max;
		for (uint32_t i = 0; i < g->ncap && n < share; i++)
			if (g->n[i].type == GN_PROC && head_of(g, i) == h)
				take(g, in, i, &n, share);
		for (uint32_t i = 0; i < g->ncap && n < share; i++) {
			if (g->n[i].type != GN_PROC || head_of(g, i) != h || !in[i])
				continue;
			for (uint32_t e = g->n[i].out; e != GNONE && n < share; e = g->e[e].next_out)
				take(g, in, g->e[e].dst, &n, share);
			for (uint32_t e = g->n[i].in; e != GNONE && n < share; e = g->e[e].next_in)
				take(g, in, g->e[e].src, &n, share);
		}
		shown = k + 1;
	}
	jw_key(w, "lineages");
	jw_arr_begin(w);
	for (uint32_t k = 0; k < shown; k++) {
		uint32_t h = lins[k].head;

		jw_obj_begin(w);
		snprintf(b, sizeof(b), "n%u", h);
		jw_kstr(w, "id", b);
		jw_ku64(w, "pid", graph_proc(g, h)->pid);
		jw_kstr(w, "label", graph_label(g, h));
		jw_kstr(w, "comm", graph_comm(g, h));
		jw_ku64(w, "procs", lins[k].procs);
		jw_ku64(w, "edges", lins[k].deg);
		jw_ku64(w, "alerts", lins[k].alerts);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "nodes");
	jw_arr_begin(w);
	for (uint32_t i = 0; i < g->ncap; i++)
		if (in[i])
			graph_node_json(g, i, w);
	jw_arr_end(w);
	jw_key(w, "edges");
	jw_arr_begin(w);
	for (uint32_t i = 0; i < g->ecap && ne < 4 * max; i++)
		if (g->e[i].type && in[g->e[i].src] && in[g->e[i].dst]) {
			graph_edge_json(g, i, w, true);
			ne++;
		}
	jw_arr_end(w);
out:
	/* the latest alerts, newest first, each with the subgraph it names */
	jw_key(w, "alerts");
	jw_arr_begin(w);
	for (uint32_t i = graph_nalerts(g), k = 0; i > 0 && k < max; i--, k++) {
		const struct galert *a = graph_alert_at(g, i - 1);

		jw_obj_begin(w);
		graph_alert_members(g, a, s->hostname, w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	free(slot);
	free(in);
	free(lins);
}

struct graph *graph_collector_graph(struct collector *c)
{
	return ((struct graph_state *)c->priv)->g;
}

/* Doctor: what the events collector needs beyond its hooks is what the graph needs. */
static bool graph_doctor(char *buf, size_t len)
{
	return events_collector.doctor ? events_collector.doctor(buf, len) : true;
}

/* The daemon's defaults (the CLI's are its options'): a 2 MB ring (the CLI keeps 4M;
 * bench/serve: the graph takes ~32 000 events/s of bench/graph's storm without a drop through
 * 1 MB, drained every 20 ms; its pages count twice in RSS, libbpf maps the data area twice for
 * records that wrap) and a quarter of the CLI's graph (docs/serve.md: the daemon's RSS with
 * every collector and its graph full stays near 40 MB). */
static const struct graph_cfg graph_default = {
	.window = 60, .scan_min = 100, .flood_min = 1000, .ring_size = 2 << 20,
	.max_nodes = 16384, .max_edges = 32768,
};

const struct collector_desc graph_collector = {
	.name = "graph",
	.what = "behaviour graph over the events collector's process, file and network events",
	/* its programs are the events collector's (prog attribution says "events") */
	.hooks = ev_hooks,
	.nhooks = EV_NHOOKS,
	.doctor = graph_doctor,
	.priv_size = sizeof(struct graph_state),
	.cfg_size = sizeof(struct graph_cfg),
	.cfg_default = &graph_default,
	.opts = graph_run_opts,   /* `ebee graph run`'s (cmd.c) */
	.open = graph_open,
	.start = graph_start,
	.refresh = graph_refresh,
	.metrics = graph_metrics,
	.summary = graph_summary,
	.stop = graph_stop,
	.close = graph_close,
	.api = graph_api,
	.event_json = graph_event_json,
};
