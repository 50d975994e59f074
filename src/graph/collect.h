/* SPDX-License-Identifier: BSD-2-Clause */
/* The graph as a collector (core/collector.h): `ebee graph run` and the daemon drive the same
 * object. It makes no event of its own: it subscribes to an events collector it owns
 * (collector_new + collector_subscribe) and reads the process table that one keeps. Its
 * detections are emitted as EV_GRAPH_ALERT records (struct graph_alert_ev), rendered as
 * Falco's alert JSON by its event_json. */
#ifndef EBEE_GRAPH_COLLECT_H
#define EBEE_GRAPH_COLLECT_H

#include <linux/types.h>
#include "core/event.h"
#include "core/filter.h"
#include "graph/graph.h"

struct graph_cfg {
	struct filter_opts filter;
	double duration;
	double window;
	const char *save;
	const char *record, *replay;
	unsigned long long max_nodes, max_edges;
	unsigned long long scan_min, flood_min;
	unsigned long long ring_size;
	bool module_attempts;          /* --module-attempts (events/evtypes.h) */
};

/* What collector_emit hands subscribers for each detection: the alert as it fired (the
 * nodes and edges it names are pinned in the graph while it is stored). */
struct graph_alert_ev {
	struct ebee_event_hdr hdr;     /* type EV_GRAPH_ALERT; pid/comm: the process it names */
	struct galert a;
};

extern const struct collector_desc graph_collector;
/* `ebee graph run`'s options (cmd.c), also what a daemon config may set for the collector. */
struct opt;
extern const struct opt graph_run_opts[];

struct collector;
/* --replay: builds the collector's graph from a recorded stream (no tracing); 0 or -EINVAL
 * after one error line. */
int graph_collector_replay(struct collector *c, const char *path);
/* The graph a collector holds (open done), for --save and tests. */
struct graph *graph_collector_graph(struct collector *c);

#endif
