// SPDX-License-Identifier: BSD-2-Clause
/* Queries, alerts and exports of a graph. Tables and JSON rows through the output layer
 * (core/out.h), JSON documents through core/json.h; DOT and GraphML are their own text
 * formats, written with their own escaping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ebee.h"
#include "core/json.h"
#include "core/out.h"
#include "graph/graph_int.h"

static uint64_t real_ns(const struct graph *g, uint64_t mono)
{
	return g->real_off ? mono + g->real_off : ebee_ktime_to_real(mono);
}

static const char *when(const struct graph *g, uint64_t mono, char *buf, size_t len)
{
	return ebee_fmt_time(real_ns(g, mono), buf, len);
}

static const char *nid(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "n%u", id);
	return buf;
}

/* ---- alerts ---- */

static const char *const rule_tags[GR__MAX][4] = {
	[GR_SCAN] = { "network", "mitre_discovery", "T1046", NULL },
	[GR_DROPPER] = { "process", "mitre_execution", "T1105", NULL },
	[GR_SELFDEL] = { "process", "mitre_defense_evasion", "T1070.004", NULL },
	[GR_KILL] = { "process", "mitre_defense_evasion", "T1562.001", NULL },
	[GR_FLOOD] = { "network", "mitre_impact", "T1498", NULL },
	[GR_PERSIST] = { "filesystem", "mitre_persistence", "T1053.003", NULL },
};

const char *graph_alert_line(const struct graph *g, const struct galert *a, char *buf,
			     size_t len)
{
	uint64_t r = real_ns(g, a->time_ns);
	time_t sec = (time_t)(r / 1000000000ull);
	struct tm tm;
	size_t o;

	/* Falco's text line: "HH:MM:SS.nnnnnnnnn: Priority output" */
	localtime_r(&sec, &tm);
	o = strftime(buf, len, "%H:%M:%S", &tm);
	snprintf(buf + o, len - o, ".%09llu: %s %s: %s (alert=g%u%s)",
		 (unsigned long long)(r % 1000000000ull), graph_rule_priority(a->rule),
		 graph_rule_name(a->rule), a->text, a->id, a->incomplete ? " incomplete" : "");
	return buf;
}

void graph_edge_json(const struct graph *g, uint32_t id, struct jw *w, bool full)
{
	const struct gedge *e = graph_edge(g, id);
	char b[48];

	jw_obj_begin(w);
	snprintf(b, sizeof(b), "e%u", id);
	jw_kstr(w, "id", b);
	if (e) {
		jw_kstr(w, "type", graph_edge_type_name(e->type));
		jw_kstr(w, "source", nid(e->src, b, sizeof(b)));
		jw_kstr(w, "target", nid(e->dst, b, sizeof(b)));
		jw_ku64(w, "count", e->count);
		if (e->fails)
			jw_ku64(w, "fails", e->fails);
		if (e->type == GE_SIGNALLED)
			jw_ku64(w, "signal", e->aux);
		if (full) {
			jw_kstr(w, "key", graph_edge_type_name(e->type));
			jw_kstr(w, "first", when(g, e->first_ns, b, sizeof(b)));
			jw_kstr(w, "last", when(g, e->last_ns, b, sizeof(b)));
		}
	}
	jw_obj_end(w);
}

void graph_node_json(const struct graph *g, uint32_t id, struct jw *w)
{
	static const char *const fl[] = { "net", "exited", "netwrite", "xset", "executed",
					  "deleted", "pinned", "lineage_head" };
	const struct gnode *n = graph_node(g, id);
	char b[48];

	jw_obj_begin(w);
	jw_kstr(w, "id", nid(id, b, sizeof(b)));
	if (n) {
		jw_kstr(w, "type", graph_node_type_name(n->type));
		jw_kstr(w, "label", graph_label(g, id));
		if (n->type == GN_PROC) {
			const struct gproc *p = graph_proc(g, id);

			jw_ku64(w, "pid", p->pid);
			jw_ku64(w, "ppid", n->aux);
			jw_ku64(w, "uid", p->uid);
			jw_kstr(w, "comm", graph_comm(g, id));
			jw_ku64(w, "start_ns", p->start_ns);
			if (p->lineage != GNONE)
				jw_kstr(w, "lineage", nid(p->lineage, b, sizeof(b)));
		} else if (n->type == GN_REMOTE || n->type == GN_PORT) {
			jw_ku64(w, "port", n->aux);
		}
		if (n->type == GN_FILE && n->writer != GNONE)
			jw_kstr(w, "writer", nid(n->writer, b, sizeof(b)));
		jw_kstr(w, "first", when(g, n->first_ns, b, sizeof(b)));
		jw_kstr(w, "last", when(g, n->last_ns, b, sizeof(b)));
		jw_key(w, "flags");
		jw_arr_begin(w);
		for (size_t i = 0; i < ARRAY_SIZE(fl); i++)
			if (n->flags & (1u << i))
				jw_str(w, fl[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

void graph_alert_members(const struct graph *g, const struct galert *a, const char *hostname,
			 struct jw *w)
{
	const struct gproc *p = graph_proc(g, a->proc);
	char line[GRAPH_ALERT_TEXT + 128], b[64];
	uint64_t r = real_ns(g, a->time_ns);
	time_t sec = (time_t)(r / 1000000000ull);
	struct tm tm;

	jw_kstr(w, "hostname", hostname);
	jw_kstr(w, "output", graph_alert_line(g, a, line, sizeof(line)));
	jw_key(w, "output_fields");
	jw_obj_begin(w);
	snprintf(b, sizeof(b), "g%u", a->id);
	jw_kstr(w, "graph.alert_id", b);
	jw_kbool(w, "graph.incomplete", a->incomplete);
	if (p) {
		jw_ku64(w, "proc.pid", p->pid);
		jw_kstr(w, "proc.exe", graph_label(g, a->proc));
		jw_kstr(w, "proc.comm", graph_comm(g, a->proc));
		jw_kstr(w, "graph.proc", nid(a->proc, b, sizeof(b)));
		if (p->lineage != GNONE)
			jw_kstr(w, "graph.lineage", nid(p->lineage, b, sizeof(b)));
	}
	jw_key(w, "graph.nodes");
	jw_arr_begin(w);
	for (int i = 0; i < a->nnodes; i++)
		graph_node_json(g, a->nodes[i], w);
	jw_arr_end(w);
	jw_key(w, "graph.edges");
	jw_arr_begin(w);
	for (int i = 0; i < a->nedges; i++)
		graph_edge_json(g, a->edges[i], w, false);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_kstr(w, "priority", graph_rule_priority(a->rule));
	jw_kstr(w, "rule", graph_rule_name(a->rule));
	jw_kstr(w, "source", "graph");
	jw_key(w, "tags");
	jw_arr_begin(w);
	for (int i = 0; i < 4 && rule_tags[a->rule][i]; i++)
		jw_str(w, rule_tags[a->rule][i]);
	jw_arr_end(w);
	/* Falco: RFC 3339 UTC with nanoseconds */
	gmtime_r(&sec, &tm);
	strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(b, sizeof(b), "%s.%09lluZ", line, (unsigned long long)(r % 1000000000ull));
	jw_kstr(w, "time", b);
}

void graph_alert_json(const struct graph *g, const struct galert *a, const char *hostname,
		      struct jw *w)
{
	jw_obj_begin(w);
	graph_alert_members(g, a, hostname, w);
	jw_obj_end(w);
}

/* ---- rows ---- */

enum { C_REL, C_NODE, C_TYPE, C_PID, C_LABEL, C_EDGE, C_COUNT, C_N1, C_N2, C_OTHER, C__N };
static const struct out_col cols[C__N] = {
	[C_REL] = { "relation", "RELATION", OUT_STR, -10 },
	[C_NODE] = { "node", "NODE", OUT_STR, -7 },
	[C_TYPE] = { "type", "TYPE", OUT_STR, -9 },
	[C_PID] = { "pid", "PID", OUT_U64, 7 },
	[C_LABEL] = { "label", "LABEL", OUT_STR, -40 },
	[C_EDGE] = { "edge", "EDGE", OUT_STR, -13 },
	[C_COUNT] = { "count", "COUNT", OUT_U64, 7 },
	[C_N1] = { "endpoints", "ENDPOINTS", OUT_U64, 9 },
	[C_N2] = { "addresses", "ADDRESSES", OUT_U64, 9 },
	[C_OTHER] = { "other", "OTHER", OUT_STR, -1 },
};

static void row_node(const struct graph *g, struct out *o, uint32_t id)
{
	const struct gnode *n = graph_node(g, id);
	char b[32];

	out_str(o, C_NODE, nid(id, b, sizeof(b)));
	if (!n)
		return;
	out_str(o, C_TYPE, graph_node_type_name(n->type));
	if (n->type == GN_PROC)
		out_u64(o, C_PID, graph_proc(g, id)->pid);
	out_str(o, C_LABEL, graph_label(g, id));
}

static void other_text(const struct graph *g, uint32_t id, char *b, size_t len)
{
	graph_node_text(g, id, b, len);
}

static int bad_node(const char *ref)
{
	ebee_err("unknown node '%s' (n<ID>, proc:PID, file:PATH, remote:ADDR:PORT, ...)", ref);
	return -EINVAL;
}

static int q_lineage(const struct graph *g, struct out *o, const char *arg)
{
	char ref[64], b[GRAPH_LABEL_LEN + 64];
	uint32_t self, anc[32], nanc = 0, *queue;
	uint32_t qh = 0, qt = 0, cap = 4096;

	snprintf(ref, sizeof(ref), "proc:%s", arg);
	self = graph_node_ref(g, ref);
	if (self == GNONE)
		return bad_node(ref);
	for (uint32_t p = graph_proc(g, self)->parent; graph_proc(g, p) && nanc < 32;
	     p = graph_proc(g, p)->parent)
		anc[nanc++] = p;
	for (uint32_t i = nanc; i-- > 0;) {
		out_str(o, C_REL, "ancestor");
		row_node(g, o, anc[i]);
		out_row(o);
	}
	out_str(o, C_REL, "self");
	row_node(g, o, self);
	out_row(o);
	queue = malloc(cap * sizeof(*queue));
	if (!queue)
		return -ENOMEM;
	queue[qt++] = self;
	/* descendants breadth first; a spawn graph is a tree, the bound keeps a bad file short */
	while (qh < qt) {
		uint32_t n = queue[qh++];

		for (uint32_t e = g->n[n].out; e != GNONE; e = g->e[e].next_out) {
			if (g->e[e].type != GE_SPAWNED || qt >= cap)
				continue;
			queue[qt++] = g->e[e].dst;
			out_str(o, C_REL, "descendant");
			row_node(g, o, g->e[e].dst);
			other_text(g, n, b, sizeof(b));
			out_fmt(o, C_OTHER, "spawned by %s", b);
			out_row(o);
		}
	}
	free(queue);
	return 0;
}

static int q_who_wrote(const struct graph *g, struct out *o, const char *arg)
{
	char ref[GRAPH_LABEL_LEN + 8];
	uint32_t f;

	snprintf(ref, sizeof(ref), "file:%s", arg);
	f = graph_node_ref(g, ref);
	if (f == GNONE)
		return bad_node(ref);
	for (uint32_t e = g->n[f].in; e != GNONE; e = g->e[e].next_in) {
		int t = g->e[e].type;

		if (t != GE_WROTE && t != GE_CREATED && t != GE_CHMOD_X && t != GE_DELETED)
			continue;
		row_node(g, o, g->e[e].src);
		out_str(o, C_EDGE, graph_edge_type_name(t));
		out_u64(o, C_COUNT, g->e[e].count);
		out_row(o);
	}
	return 0;
}

struct talker {
	uint32_t node;
	uint64_t connects, endpoints, addrs;
};

static int cmp_talker(const void *a, const void *b)
{
	const struct talker *x = a, *y = b;

	if (x->endpoints != y->endpoints)
		return x->endpoints < y->endpoints ? 1 : -1;
	return x->connects < y->connects ? 1 : x->connects > y->connects ? -1 : 0;
}

static int cmp_talker_conn(const void *a, const void *b)
{
	const struct talker *x = a, *y = b;

	return x->connects < y->connects ? 1 : x->connects > y->connects ? -1 : 0;
}

/* Processes with their connect counts, distinct endpoints and distinct addresses. */
static int talkers(const struct graph *g, struct out *o, uint64_t min, uint64_t top,
		   bool by_connects)
{
	struct talker *t = calloc(g->ncap, sizeof(*t));
	uint32_t n = 0;

	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->ncap; i++) {
		struct talker x = { .node = i };

		if (g->n[i].type != GN_PROC)
			continue;
		for (uint32_t e = g->n[i].out; e != GNONE; e = g->e[e].next_out) {
			const char *lab = graph_label(g, g->e[e].dst), *c = strrchr(lab, ':');
			bool seen = false;

			if (g->e[e].type != GE_CONNECTED)
				continue;
			x.connects += g->e[e].count;
			x.endpoints++;
			/* distinct addresses: an earlier edge with the same text before the port */
			for (uint32_t f = g->n[i].out; f != e && c; f = g->e[f].next_out) {
				const char *l2 = graph_label(g, g->e[f].dst), *c2 = strrchr(l2, ':');

				if (g->e[f].type == GE_CONNECTED && c2 && c2 - l2 == c - lab &&
				    !strncmp(l2, lab, (size_t)(c - lab))) {
					seen = true;
					break;
				}
			}
			x.addrs += !seen;
		}
		if (x.endpoints && x.endpoints >= min)
			t[n++] = x;
	}
	qsort(t, n, sizeof(*t), by_connects ? cmp_talker_conn : cmp_talker);
	for (uint32_t i = 0; i < n && (!top || i < top); i++) {
		row_node(g, o, t[i].node);
		out_u64(o, C_COUNT, t[i].connects);
		out_u64(o, C_N1, t[i].endpoints);
		out_u64(o, C_N2, t[i].addrs);
		out_row(o);
	}
	free(t);
	return 0;
}

static int q_path(const struct graph *g, struct out *o, const char *from, const char *to)
{
	uint32_t a = graph_node_ref(g, from), b = graph_node_ref(g, to);
	uint32_t *prev_e, *queue, qh = 0, qt = 0;
	char t[GRAPH_LABEL_LEN + 64];
	int err = 0;

	if (a == GNONE)
		return bad_node(from);
	if (b == GNONE)
		return bad_node(to);
	prev_e = malloc(g->ncap * sizeof(*prev_e));
	queue = malloc(g->ncap * sizeof(*queue));
	if (!prev_e || !queue) {
		err = -ENOMEM;
		goto out;
	}
	memset(prev_e, 0xff, g->ncap * sizeof(*prev_e));
	/* breadth first over edges in both directions: the shortest chain that relates them */
	queue[qt++] = a;
	prev_e[a] = GNONE - 1;
	while (qh < qt && prev_e[b] == GNONE) {
		uint32_t n = queue[qh++];

		for (int dir = 0; dir < 2; dir++)
			for (uint32_t e = dir ? g->n[n].in : g->n[n].out; e != GNONE;
			     e = dir ? g->e[e].next_in : g->e[e].next_out) {
				uint32_t m = dir ? g->e[e].src : g->e[e].dst;

				if (prev_e[m] != GNONE)
					continue;
				prev_e[m] = e;
				queue[qt++] = m;
			}
	}
	if (prev_e[b] == GNONE) {
		ebee_err("no path from '%s' to '%s'", from, to);
		err = -EINVAL;
		goto out;
	}
	/* walk back from b, then print from a: reuse the queue as the stack */
	qt = 0;
	for (uint32_t n = b; n != a;) {
		uint32_t e = prev_e[n];

		queue[qt++] = e;
		n = g->e[e].src == n ? g->e[e].dst : g->e[e].src;
	}
	while (qt-- > 0) {
		const struct gedge *e = &g->e[queue[qt]];

		row_node(g, o, e->src);
		out_str(o, C_EDGE, graph_edge_type_name(e->type));
		out_u64(o, C_COUNT, e->count);
		other_text(g, e->dst, t, sizeof(t));
		out_str(o, C_OTHER, t);
		out_row(o);
	}
out:
	free(prev_e);
	free(queue);
	return err;
}

static int q_neighbours(const struct graph *g, struct out *o, const char *ref)
{
	uint32_t n = graph_node_ref(g, ref);

	if (n == GNONE)
		return bad_node(ref);
	for (int dir = 0; dir < 2; dir++)
		for (uint32_t e = dir ? g->n[n].in : g->n[n].out; e != GNONE;
		     e = dir ? g->e[e].next_in : g->e[e].next_out) {
			out_str(o, C_REL, dir ? "in" : "out");
			row_node(g, o, dir ? g->e[e].src : g->e[e].dst);
			out_str(o, C_EDGE, graph_edge_type_name(g->e[e].type));
			out_u64(o, C_COUNT, g->e[e].count);
			out_row(o);
		}
	return 0;
}

static int q_exec_dropped(const struct graph *g, struct out *o)
{
	char t[GRAPH_LABEL_LEN + 64];

	for (uint32_t f = 0; f < g->ncap; f++) {
		if (g->n[f].type != GN_FILE || !(g->n[f].flags & GNF_EXEC))
			continue;
		for (uint32_t x = g->n[f].in; x != GNONE; x = g->e[x].next_in) {
			if (g->e[x].type != GE_EXECUTED)
				continue;
			for (uint32_t w = g->n[f].in; w != GNONE; w = g->e[w].next_in) {
				uint32_t wr = g->e[w].src, ex = g->e[x].src;

				if ((g->e[w].type != GE_WROTE && g->e[w].type != GE_CREATED) ||
				    wr == ex)
					continue;
				row_node(g, o, ex);
				out_str(o, C_EDGE, "executed");
				other_text(g, wr, t, sizeof(t));
				out_fmt(o, C_OTHER, "%s written by %s", graph_label(g, f), t);
				out_row(o);
			}
		}
	}
	return 0;
}

/* The query's columns, then its header. */
static void show(struct out *o, const int *c)
{
	for (; *c >= 0; c++)
		out_hide(o, *c, false);
	out_header(o);
}

static int num_arg(const char *s, uint64_t *v, const char *what)
{
	char *end;

	errno = 0;
	*v = s ? strtoull(s, &end, 10) : 0;
	if (!s || errno || *end || !*s) {
		ebee_err("invalid %s '%s' (a number)", what, s ? s : "");
		return -EINVAL;
	}
	return 0;
}

int graph_query(const struct graph *g, const char *q, FILE *f, bool json)
{
	char buf[1024], ref[1100], *w[8] = { 0 }, *save = NULL;
	int nw = 0, err;
	uint64_t v = 0;
	struct out o;

	snprintf(buf, sizeof(buf), "%s", q);
	for (char *t = strtok_r(buf, " \t", &save); t && nw < 8; t = strtok_r(NULL, " \t", &save))
		w[nw++] = t;
	out_init(&o, f, json ? OUT_JSON : OUT_TABLE, cols, C__N);
	for (int c = 0; c < C__N; c++)
		out_hide(&o, c, true);
#define SHOW(...) show(&o, (const int[]){ __VA_ARGS__, -1 })
	if (!nw) {
		ebee_err("empty query (lineage, who-wrote, fanout, path, neighbours, top-talkers, "
			 "exec-dropped)");
		return -EINVAL;
	}
	if (!strcmp(w[0], "lineage") && nw == 2) {
		if ((err = num_arg(w[1], &v, "pid")))
			return err;
		snprintf(ref, sizeof(ref), "proc:%s", w[1]);
		if (graph_node_ref(g, ref) == GNONE)
			return bad_node(ref);
		SHOW(C_REL, C_NODE, C_PID, C_LABEL, C_OTHER);
		return q_lineage(g, &o, w[1]);
	}
	if (!strcmp(w[0], "who-wrote") && nw == 2) {
		snprintf(ref, sizeof(ref), "file:%s", w[1]);
		if (graph_node_ref(g, ref) == GNONE)
			return bad_node(ref);
		SHOW(C_NODE, C_PID, C_LABEL, C_EDGE, C_COUNT);
		return q_who_wrote(g, &o, w[1]);
	}
	if (!strcmp(w[0], "fanout") && (nw == 1 || (nw == 3 && !strcmp(w[1], "--min")))) {
		if (nw == 3 && (err = num_arg(w[2], &v, "minimum")))
			return err;
		SHOW(C_NODE, C_PID, C_LABEL, C_COUNT, C_N1, C_N2);
		return talkers(g, &o, nw == 3 ? v : 1, 0, false);
	}
	if (!strcmp(w[0], "top-talkers") && (nw == 1 || (nw == 3 && !strcmp(w[1], "--top")))) {
		if (nw == 3 && (err = num_arg(w[2], &v, "count")))
			return err;
		SHOW(C_NODE, C_PID, C_LABEL, C_COUNT, C_N1, C_N2);
		return talkers(g, &o, 1, nw == 3 ? v : 10, true);
	}
	if (!strcmp(w[0], "path") && nw == 3) {
		if (graph_node_ref(g, w[1]) == GNONE)
			return bad_node(w[1]);
		if (graph_node_ref(g, w[2]) == GNONE)
			return bad_node(w[2]);
		SHOW(C_NODE, C_PID, C_LABEL, C_EDGE, C_COUNT, C_OTHER);
		return q_path(g, &o, w[1], w[2]);
	}
	if ((!strcmp(w[0], "neighbours") || !strcmp(w[0], "neighbors")) && nw == 2) {
		if (graph_node_ref(g, w[1]) == GNONE)
			return bad_node(w[1]);
		SHOW(C_REL, C_NODE, C_TYPE, C_PID, C_LABEL, C_EDGE, C_COUNT);
		return q_neighbours(g, &o, w[1]);
	}
	if (!strcmp(w[0], "exec-dropped") && nw == 1) {
		SHOW(C_NODE, C_PID, C_LABEL, C_EDGE, C_OTHER);
		return q_exec_dropped(g, &o);
	}
#undef SHOW
	ebee_err("unknown query '%s' (lineage PID, who-wrote PATH, fanout [--min N], path FROM TO, "
		 "neighbours NODE, top-talkers [--top N], exec-dropped)", q);
	return -EINVAL;
}

int graph_show_alert(const struct graph *g, const char *id, FILE *f, bool json)
{
	char *end, line[GRAPH_ALERT_TEXT + 128], t[GRAPH_LABEL_LEN + 64];
	unsigned long v = id[0] == 'g' ? strtoul(id + 1, &end, 10) : 0;
	const struct galert *a = v && !*end && v <= UINT32_MAX ? graph_alert(g, (uint32_t)v) : NULL;
	struct jw w;

	if (!a) {
		ebee_err("unknown alert '%s' (this graph has %u: g1...)", id, g->nalerts);
		return -EINVAL;
	}
	if (json) {
		jw_init_file(&w, f);
		graph_alert_json(g, a, "", &w);
		jw_finish(&w);
		fputc('\n', f);
		return 0;
	}
	fprintf(f, "%s\n", graph_alert_line(g, a, line, sizeof(line)));
	for (int i = 0; i < a->nnodes; i++)
		fprintf(f, "  node %s\n", graph_node_text(g, a->nodes[i], t, sizeof(t)));
	for (int i = 0; i < a->nedges; i++) {
		const struct gedge *e = graph_edge(g, a->edges[i]);

		if (!e)
			continue;
		fprintf(f, "  edge e%u n%u -%s-> n%u x%llu\n", a->edges[i], e->src,
			graph_edge_type_name(e->type), e->dst, (unsigned long long)e->count);
	}
	return 0;
}

/* ---- export ---- */

static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fputc('?', f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void xml_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c < 0x20 && c != '\t')
			fputc('?', f);   /* not allowed in XML 1.0 */
		else
			fputc(c, f);
	}
}

int graph_export(const struct graph *g, FILE *f, enum graph_fmt fmt)
{
	char b[64];

	if (fmt == GF_JSON) {
		struct jw w;

		/* NetworkX node-link: nx.node_link_graph(json.load(f), edges="links") */
		jw_init_file(&w, f);
		jw_obj_begin(&w);
		jw_kbool(&w, "directed", true);
		jw_kbool(&w, "multigraph", true);
		jw_key(&w, "graph");
		jw_obj_begin(&w);
		jw_kstr(&w, "generator", "ebee graph");
		jw_ku64(&w, "events", g->st.events);
		jw_ku64(&w, "lost", g->st.lost);
		jw_kbool(&w, "incomplete", g->st.lost > 0);
		jw_obj_end(&w);
		jw_key(&w, "nodes");
		jw_arr_begin(&w);
		for (uint32_t i = 0; i < g->ncap; i++)
			if (g->n[i].type)
				graph_node_json(g, i, &w);
		jw_arr_end(&w);
		jw_key(&w, "links");
		jw_arr_begin(&w);
		for (uint32_t i = 0; i < g->ecap; i++)
			if (g->e[i].type)
				graph_edge_json(g, i, &w, true);
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_finish(&w);
		fputc('\n', f);
		return 0;
	}
	if (fmt == GF_DOT) {
		static const char *const shape[GN__MAX] = {
			[GN_PROC] = "box", [GN_FILE] = "note", [GN_REMOTE] = "ellipse",
			[GN_PORT] = "circle", [GN_USER] = "house", [GN_CONTAINER] = "folder" };

		fputs("digraph ebee {\n", f);
		for (uint32_t i = 0; i < g->ncap; i++) {
			const struct gnode *n = &g->n[i];

			if (!n->type)
				continue;
			fprintf(f, "  n%u [shape=%s, type=%s, label=", i, shape[n->type],
				graph_node_type_name(n->type));
			if (n->type == GN_PROC)
				snprintf(b, sizeof(b), " (%u)", graph_proc(g, i)->pid);
			else
				b[0] = 0;
			{
				char l[GRAPH_LABEL_LEN + 32];

				snprintf(l, sizeof(l), "%s%s", graph_label(g, i), b);
				dot_str(f, l);
			}
			fputs("];\n", f);
		}
		for (uint32_t i = 0; i < g->ecap; i++) {
			const struct gedge *e = &g->e[i];

			if (e->type)
				fprintf(f, "  n%u -> n%u [label=\"%s x%llu\", type=%s, count=%llu];\n",
					e->src, e->dst, graph_edge_type_name(e->type),
					(unsigned long long)e->count, graph_edge_type_name(e->type),
					(unsigned long long)e->count);
		}
		fputs("}\n", f);
		return 0;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
	      "  <key id=\"type\" for=\"node\" attr.name=\"type\" attr.type=\"string\"/>\n"
	      "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n"
	      "  <key id=\"pid\" for=\"node\" attr.name=\"pid\" attr.type=\"long\"/>\n"
	      "  <key id=\"comm\" for=\"node\" attr.name=\"comm\" attr.type=\"string\"/>\n"
	      "  <key id=\"etype\" for=\"edge\" attr.name=\"type\" attr.type=\"string\"/>\n"
	      "  <key id=\"count\" for=\"edge\" attr.name=\"count\" attr.type=\"long\"/>\n"
	      "  <key id=\"first\" for=\"edge\" attr.name=\"first\" attr.type=\"string\"/>\n"
	      "  <key id=\"last\" for=\"edge\" attr.name=\"last\" attr.type=\"string\"/>\n"
	      "  <graph id=\"ebee\" edgedefault=\"directed\">\n", f);
	for (uint32_t i = 0; i < g->ncap; i++) {
		const struct gnode *n = &g->n[i];

		if (!n->type)
			continue;
		fprintf(f, "    <node id=\"n%u\"><data key=\"type\">%s</data><data key=\"label\">", i,
			graph_node_type_name(n->type));
		xml_str(f, graph_label(g, i));
		fputs("</data>", f);
		if (n->type == GN_PROC) {
			fprintf(f, "<data key=\"pid\">%u</data><data key=\"comm\">",
				graph_proc(g, i)->pid);
			xml_str(f, graph_comm(g, i));
			fputs("</data>", f);
		}
		fputs("</node>\n", f);
	}
	for (uint32_t i = 0; i < g->ecap; i++) {
		const struct gedge *e = &g->e[i];
		char t2[64];

		if (!e->type)
			continue;
		fprintf(f, "    <edge id=\"e%u\" source=\"n%u\" target=\"n%u\"><data key=\"etype\">%s"
			"</data><data key=\"count\">%llu</data><data key=\"first\">%s</data>"
			"<data key=\"last\">%s</data></edge>\n", i, e->src, e->dst,
			graph_edge_type_name(e->type), (unsigned long long)e->count,
			when(g, e->first_ns, b, sizeof(b)), when(g, e->last_ns, t2, sizeof(t2)));
	}
	fputs("  </graph>\n</graphml>\n", f);
	return 0;
}
