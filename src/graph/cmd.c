// SPDX-License-Identifier: BSD-2-Clause
/* ebee graph run|query|export|show. `run` subscribes to the events collector (src/events)
 * and reads the process table it keeps; it is not a second event source. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/ebee.h"
#include "core/json.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "events/evtypes.h"
#include "graph/graph.h"
#include "proc/proc.h"

struct run_cfg {
	struct filter_opts filter;
	double duration;
	double window;
	const char *save;
	const char *record, *replay;
	unsigned long long max_nodes, max_edges;
	unsigned long long scan_min, flood_min;
	unsigned long long ring_size;
};

struct runner {
	struct graph *g;
	struct proctab *pt;
	FILE *out;                 /* stdout as it was (the collector's own is muted) */
	FILE *rec;                 /* --record */
	bool json;
	char hostname[256];
	int drops_fd;              /* the events collector's drop counter, found by name */
	uint64_t rec_bytes;
	uint64_t lost_read_ns;     /* when the drop counter was read last (event time) */
};

/* The types the graph is made of: what it ingests, nothing more is loaded. */
static const char *const graph_types[] = {
	"exec", "fork", "exit", "open", "unlink", "rename", "chmod", "link", "symlink", "mkdir",
	"connect", "accept", "bind", "listen", "sendto", "kill", "ptrace", "module",
};

static void print_alert(void *arg, const struct graph *g, const struct galert *a)
{
	struct runner *r = arg;
	char line[GRAPH_ALERT_TEXT + 128];

	if (r->json) {
		struct jw w;

		jw_init_file(&w, r->out);
		graph_alert_json(g, a, r->hostname, &w);
		jw_finish(&w);
		fputc('\n', r->out);
	} else {
		fprintf(r->out, "%s\n", graph_alert_line(g, a, line, sizeof(line)));
	}
	fflush(r->out);
}

static void read_lost(struct runner *r);

static void on_event(void *arg, const struct ebee_event_hdr *h)
{
	struct runner *r = arg;

	if (r->rec && fwrite(h, h->size, 1, r->rec) == 1)
		r->rec_bytes += h->size;
	/* every 100 ms of event time, so that a window's alerts know of its losses: the base's
	 * loop has one tick, which the collector's start took (no loop_add_timer there yet) */
	if (h->time_ns - r->lost_read_ns > 100000000ull) {
		r->lost_read_ns = h->time_ns;
		read_lost(r);
	}
	graph_ingest(r->g, h, r->pt);
}

/* The collector does not export its lost counter to subscribers (its summary prints it):
 * it is read from the collector's drop map, found among our own fds by name. */
static int find_drops_map(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d)) && found < 0) {
		int fd = atoi(de->d_name);
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		char link[64], p[64];
		ssize_t n;

		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n = readlink(p, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strcmp(link, "anon_inode:bpf-map") || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if (!strcmp(info.name, "events_drops"))
			found = fd;
	}
	closedir(d);
	return found;
}

static void read_lost(struct runner *r)
{
	if (r->drops_fd >= 0)
		graph_stats_mut(r->g)->lost = ebee_percpu_sum(r->drops_fd, 0);
}

static void summary(struct runner *r, double secs, uint64_t missed)
{
	const struct graph_stats *st = graph_stats(r->g);
	uint64_t dn = 0, de = 0;
	struct jw w;

	for (int i = 0; i < GN__MAX; i++)
		dn += st->dropped_nodes[i];
	for (int i = 0; i < GE__MAX; i++)
		de += st->dropped_edges[i];
	if (!r->json) {
		if (st->lost)
			ebee_warn("%llu events lost (ring buffer full): the graph is incomplete",
				  (unsigned long long)st->lost);
		if (dn || de)
			ebee_warn("memory bound reached: %llu nodes and %llu edges aged out "
				  "(%llu events in them)", (unsigned long long)dn,
				  (unsigned long long)de, (unsigned long long)st->dropped_edge_events);
		ebee_info("%llu events, %u nodes, %u edges, %llu alerts",
			  (unsigned long long)st->events, graph_nnodes(r->g), graph_nedges(r->g),
			  (unsigned long long)st->alerts);
		return;
	}
	jw_init_file(&w, r->out);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "summary");
	jw_kstr(&w, "collector", "graph");
	jw_ku64(&w, "events", st->events);
	jw_ku64(&w, "lost", st->lost);
	jw_ku64(&w, "missed", missed);
	jw_kf64(&w, "duration_s", secs);
	jw_ku64(&w, "nodes", graph_nnodes(r->g));
	jw_ku64(&w, "edges", graph_nedges(r->g));
	jw_ku64(&w, "max_nodes", graph_nnodes_cap(r->g));
	jw_ku64(&w, "max_edges", graph_nedges_cap(r->g));
	jw_ku64(&w, "mem_bytes", graph_mem_bytes(r->g));
	jw_ku64(&w, "alerts", st->alerts);
	jw_ku64(&w, "dropped_nodes", dn);
	jw_ku64(&w, "dropped_edges", de);
	jw_ku64(&w, "dropped_edge_events", st->dropped_edge_events);
	jw_kbool(&w, "incomplete", st->lost > 0);
	jw_obj_end(&w);
	jw_finish(&w);
	fputc('\n', r->out);
}

/* A recorded stream: "EBEEEVS1" then the records as the ring buffer gave them. */
static const char rec_magic[8] = "EBEEEVS1";

static int replay(struct runner *r, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, off = 8, n = 0;
	int err = 0;
	uint64_t t0;
	long sz;

	if (!f) {
		ebee_err("cannot open '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	/* read whole first: the rate measured is the graph's, not the disk's */
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || sz > (1l << 30) || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)sz + 1)) || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
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
		graph_ingest(r->g, h, NULL);
		off += h->size;
		n++;
	}
	if (off != len) {
		ebee_err("invalid recorded stream '%s': record %zu is cut or has a bad size", path, n);
		err = -EINVAL;
	} else {
		double s = (ebee_now_ns() - t0) / 1e9;

		ebee_info("replayed %zu events in %.3f s: %.0f events/s", n, s, s > 0 ? n / s : 0);
		summary(r, s, 0);
	}
out:
	free(buf);
	fclose(f);
	return err;
}

static int run_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct run_cfg *cfg = vcfg;
	struct graph_limits lim = { (uint32_t)cfg->max_nodes, (uint32_t)cfg->max_edges };
	struct graph_rules rules = { .window_ns = (uint64_t)(cfg->window * 1e9),
				     .scan_addrs = (uint32_t)cfg->scan_min,
				     .scan_ports = (uint32_t)cfg->scan_min,
				     .flood = (uint32_t)cfg->flood_min };
	struct ev_opts eo = { .mode = EVM_EVENTS, .filter = cfg->filter,
			      .ring_size = cfg->ring_size };
	struct collector c = { .desc = &events_collector, .cfg = &eo };
	struct runner r = { .json = ctx->json, .drops_fd = -1 };
	struct ebee_loop *l = NULL;
	int err = 0, saved = -1, null = -1;

	r.g = graph_new(&lim, &rules);
	if (!r.g)
		return -errno;
	gethostname(r.hostname, sizeof(r.hostname) - 1);
	graph_on_alert(r.g, print_alert, &r);
	if (cfg->replay) {
		r.out = stdout;
		err = replay(&r, cfg->replay);
		goto save;
	}
	if (cfg->record) {
		r.rec = fopen(cfg->record, "wb");
		if (!r.rec || fwrite(rec_magic, 8, 1, r.rec) != 1) {
			ebee_err("cannot write '%s': %s", cfg->record, strerror(errno));
			err = -EINVAL;
			goto out;
		}
	}
	ev_register_all();
	for (size_t i = 0; i < ARRAY_SIZE(graph_types); i++)
		eo.types.v[eo.types.n++] = graph_types[i];
	c.priv = calloc(1, events_collector.priv_size);
	if (!c.priv) {
		err = -ENOMEM;
		goto out;
	}
	/* collector_subscribe (core/collector.c) is not on this branch's base yet: the same
	 * subscription, set in place */
	c.subs[0] = (struct collector_sub){ on_event, &r };
	c.nsubs = 1;
	/* The collector prints its own NDJSON in the generic mode and has no subscriber-only
	 * mode yet: alerts go to our copy of stdout, the collector's stdout to /dev/null. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || null < 0 || !(r.out = fdopen(saved, "w"))) {
		err = -errno;
		goto out;
	}
	saved = -1;
	dup2(null, STDOUT_FILENO);
	l = loop_new();
	if (!l) {
		err = -errno;
		goto out;
	}
	err = events_collector.open(&c);
	if (!err)
		err = events_collector.start(&c, l);
	if (!err) {
		uint64_t t0 = ebee_now_ns();

		r.pt = ev_proctab(&c);
		r.drops_fd = find_drops_map();
		if (cfg->duration)
			loop_set_duration(l, cfg->duration);
		ebee_info("graph: %zu MB bound (%u nodes, %u edges)", graph_mem_bytes(r.g) >> 20,
			  graph_nnodes_cap(r.g), graph_nedges_cap(r.g));
		err = loop_run(l);
		events_collector.stop(&c);
		read_lost(&r);
		/* missed: the collector keeps its skeleton private; 0 until it exports it */
		summary(&r, (ebee_now_ns() - t0) / 1e9, c.cnt.missed);
	}
save:
	if (!err && cfg->save && graph_save(r.g, cfg->save))
		err = -EIO;
out:
	if (c.priv)
		events_collector.close(&c);
	free(c.priv);
	if (r.rec && fclose(r.rec))
		ebee_warn("recording '%s' incomplete: %s", cfg->record, strerror(errno));
	fflush(stdout);
	if (r.out && r.out != stdout) {
		fflush(r.out);
		dup2(fileno(r.out), STDOUT_FILENO);
		fclose(r.out);
	}
	if (null >= 0)
		close(null);
	if (saved >= 0)
		close(saved);
	loop_free(l);
	graph_free(r.g);
	return err;
}

/* ---- commands on a saved graph ---- */

struct file_cfg {
	int format;
};

static const char *const formats[] = { "json", "dot", "graphml", NULL };

static int query_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct graph *g = graph_load(argv[0]);
	char q[1024] = "";
	size_t used = 0;
	int err;

	if (!g)
		return -EINVAL;
	/* 'lineage 42' or lineage 42: the words after FILE are the query */
	for (int i = 1; i < argc && used < sizeof(q); i++)
		used += snprintf(q + used, sizeof(q) - used, "%s%s", i > 1 ? " " : "", argv[i]);
	err = graph_query(g, q, stdout, ctx->json);
	graph_free(g);
	return err;
}

static int export_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct file_cfg *cfg = vcfg;
	struct graph *g = graph_load(argv[0]);
	int err;

	if (!g)
		return -EINVAL;
	err = graph_export(g, stdout, (enum graph_fmt)cfg->format);
	graph_free(g);
	return err;
}

static int show_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct graph *g = graph_load(argv[0]);
	int err;

	if (!g)
		return -EINVAL;
	err = graph_show_alert(g, argv[1], stdout, ctx->json);
	graph_free(g);
	return err;
}

#define OFF(m) offsetof(struct run_cfg, m)
static const struct opt run_opts[] = {
	{ "duration", 'd', OPT_SECONDS, OFF(duration), "SECONDS", "stop after this long", NULL,
	  0, 1e9 },
	{ "save", 's', OPT_STR, OFF(save), "FILE", "write the graph to FILE at the end" },
	{ "max-nodes", 0, OPT_UINT, OFF(max_nodes), "N", "node table size (the memory bound)",
	  "65536", 16, 1 << 24 },
	{ "max-edges", 0, OPT_UINT, OFF(max_edges), "N", "edge table size (the memory bound)",
	  "131072", 16, 1 << 26 },
	{ "window", 'w', OPT_SECONDS, OFF(window), "SECONDS",
	  "detection window per lineage (scan, flood, kills)", "60", 0.1, 86400 },
	{ "scan-min", 0, OPT_UINT, OFF(scan_min), "N",
	  "Network scan: distinct addresses (or ports) in a window", "100", 2, 1 << 30 },
	{ "flood-min", 0, OPT_UINT, OFF(flood_min), "N",
	  "Flood: connections/packets to one endpoint in a window", "1000", 2, 1 << 30 },
	{ "ring-size", 0, OPT_SIZE, OFF(ring_size), "SIZE",
	  "the events' ring buffer (power of two, >= 4K)", "4M" },
	{ "record", 0, OPT_STR, OFF(record), "FILE",
	  "also write the raw event stream to FILE (for --replay and bench/graph)" },
	{ "replay", 0, OPT_STR, OFF(replay), "FILE",
	  "build the graph from a recorded stream instead of tracing" },
	EBEE_FILTER_OPTS(struct run_cfg, filter),
	OPT_END,
};
#undef OFF

static const struct opt export_opts[] = {
	{ "format", 'f', OPT_ENUM, offsetof(struct file_cfg, format), "FORMAT",
	  "json, dot (Graphviz) or graphml (Gephi, NetworkX)", "json", .names = formats },
	OPT_END,
};

static const struct opt_doc run_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Builds the behaviour graph live from process, file and network events: processes\n"
		"(one node per exec identity), files, remote endpoints, listening ports, users and\n"
		"containers, with edges spawned/executed/read/wrote/created/deleted/chmod_x/\n"
		"connected/accepted/listened/signalled/ptraced/loaded_module (counts, first and\n"
		"last time). Prints detections as they fire (Falco-compatible JSON with --json,\n"
		"\"source\":\"graph\"): Network scan, Dropper executed, Self-deleting executable,\n"
		"Processes killed by name, Flood, Persistence write. Memory is bounded by\n"
		"--max-nodes/--max-edges (about 33 MB by default); the oldest leaves are aged out\n"
		"first and the summary counts what was dropped.",
	.examples = "  ebee graph run --duration 60 --save /tmp/g.ebg\n"
		    "  ebee graph run --json --pid 1234 --children",
};
static const struct opt_doc query_doc = {
	.synopsis = "FILE 'QUERY'",
	.description =
		"Queries a saved graph: lineage PID | who-wrote PATH | fanout [--min N] |\n"
		"path FROM TO | neighbours NODE | top-talkers [--top N] | exec-dropped.\n"
		"A NODE is n42, proc:PID, file:PATH, remote:ADDR:PORT, port:ADDR:PORT, user:UID\n"
		"or container:ID.",
	.examples = "  ebee graph query /tmp/g.ebg 'lineage 1234'\n"
		    "  ebee graph query --json /tmp/g.ebg 'fanout --min 100'",
};
static const struct opt_doc export_doc = {
	.synopsis = "FILE [--format json|dot|graphml]",
	.description = "Writes a saved graph's nodes and edges with their attributes to stdout.",
	.examples = "  ebee graph export /tmp/g.ebg --format dot | dot -Tsvg > g.svg",
};
static const struct opt_doc show_doc = {
	.synopsis = "FILE ALERT-ID",
	.description = "An alert of a saved graph (g1, g2, ...) and the subgraph that made it fire.",
	.examples = "  ebee graph show /tmp/g.ebg g1",
};

static const struct ebee_cmd graph_run_cmd = {
	.name = "run", .summary = "build the graph live and print detections",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS, .run = run_run, .opts = run_opts,
	.cfg_size = sizeof(struct run_cfg), .doc = &run_doc, .max_pos = 0,
};
static const struct ebee_cmd graph_query_cmd = {
	.name = "query", .summary = "query a saved graph", .run = query_run,
	.cfg_size = sizeof(struct file_cfg), .doc = &query_doc, .min_pos = 2, .max_pos = -1,
};
static const struct ebee_cmd graph_export_cmd = {
	.name = "export", .summary = "export a saved graph as json, dot or graphml",
	.run = export_run, .opts = export_opts, .cfg_size = sizeof(struct file_cfg),
	.doc = &export_doc, .min_pos = 1, .max_pos = 1,
};
static const struct ebee_cmd graph_show_cmd = {
	.name = "show", .summary = "an alert and its subgraph", .run = show_run,
	.cfg_size = sizeof(struct file_cfg), .doc = &show_doc, .min_pos = 2, .max_pos = 2,
};

static const struct ebee_cmd *const graph_subs[] = {
	&graph_run_cmd, &graph_query_cmd, &graph_export_cmd, &graph_show_cmd, NULL,
};

static const struct opt_doc graph_doc = {
	.synopsis = "run|query|export|show ...",
	.description = "A behaviour knowledge graph from syscalls, and detections over it.",
};

const struct ebee_cmd graph_cmd = {
	.name = "graph", .summary = "behaviour graph from syscalls: run, query, export, show",
	.doc = &graph_doc, .sub = graph_subs,
};
