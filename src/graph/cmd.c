// SPDX-License-Identifier: BSD-2-Clause
/* ebee graph run|query|export|show. `run` is the graph collector (collect.c), which
 * subscribes to the events collector (src/events) and reads the process table it keeps; it is
 * not a second event source. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/ebee.h"
#include "core/out.h"
#include "events/evtypes.h"
#include "graph/collect.h"
#include "graph/graph.h"

/* `run` is the graph collector (collect.c) run as a CLI command: alerts on stdout as they fire,
 * the summary at the end; --replay builds the same collector's graph from a recorded stream. */
static int run_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct graph_cfg *cfg = vcfg;
	struct out o;

	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
	return collector_run_cli(&graph_collector, cfg, NULL, 0, cfg->replay ? 0 : cfg->duration,
				 ctx, &o);
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

#define OFF(m) offsetof(struct graph_cfg, m)
const struct opt graph_run_opts[] = {
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
	EV_MODULE_OPT(struct graph_cfg, module_attempts),
	EBEE_FILTER_OPTS(struct graph_cfg, filter),
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
		"connected/accepted/sent/listened/signalled/ptraced/loaded_module (counts, first\n"
		"and last time). Prints detections as they fire (Falco-compatible JSON with --json,\n"
		"\"source\":\"graph\"): Network scan, Dropper executed, Self-deleting executable,\n"
		"Processes killed by name, Flood, Persistence write. Memory is bounded by\n"
		"--max-nodes/--max-edges (about 28 MB by default); the oldest leaves are aged out\n"
		"first and the summary counts what was dropped. The same collector runs in the\n"
		"daemon: ebee serve --collectors graph (/api/graph, /metrics, the page's panel).",
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
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS, .run = run_run, .opts = graph_run_opts,
	.cfg_size = sizeof(struct graph_cfg), .doc = &run_doc, .max_pos = 0,
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
