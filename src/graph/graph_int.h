/* SPDX-License-Identifier: BSD-2-Clause */
/* The graph's private layout, shared by the files of src/graph only. */
#ifndef EBEE_GRAPH_INT_H
#define EBEE_GRAPH_INT_H

#include "graph/graph.h"

struct gslot {
	uint64_t key;
	uint32_t idx;              /* the entry (key 0 = an empty slot) */
	uint32_t pad;
};

/* Open addressing, linear probing, backward-shift deletion (no tombstones). At most half
 * full: it starts small and doubles as entries come, up to max_slots (2 per entry of the
 * table's bound), since hashed keys touch every page of a table from the first few thousand
 * on — a full-size index would be resident at once. */
struct gindex {
	struct gslot *s;
	uint32_t mask;
	uint32_t used;
	uint32_t max_slots;
};

/* Per process (pid) state of the ingestion: which node is its current image. */
struct gpid {
	uint32_t pid;              /* 0 = empty */
	uint32_t node;             /* its node, GNONE until it did something (lazy) */
	uint32_t tmpl;             /* a fork child not yet materialised: its parent's node */
	uint32_t pad;
	uint64_t start_ns;
};

/* Detection windows: distinct (lineage, address), (lineage, port), (lineage, victim) and
 * counts per (lineage, endpoint). An entry belongs to the window it was made in (win). */
struct gwin {
	uint64_t key;
	uint64_t win;
	uint32_t count;
	uint32_t pad;
};

/* bind(fd) -> port, until listen(fd) says it is a listening port. */
struct gbind {
	uint32_t pid;
	int32_t fd;
	uint16_t port, family;
	uint8_t addr[16];
};

#define GRAPH_PIDS   32768
#define GRAPH_WIN    65536
#define GRAPH_BINDS  1024
#define GRAPH_SAMPLE 32

struct graph {
	struct gnode *n;
	struct gedge *e;
	uint32_t ncap, ecap, nused, eused;
	uint32_t nfree, efree;     /* free lists threaded through .out / .next_out */
	uint32_t nnext, enext;     /* never used yet from here on (high-water marks) */
	uint32_t nhand, ehand;     /* round-robin eviction sample start */
	struct gindex nidx, eidx;
	struct gpid *pids;         /* pmask + 1 (up to GRAPH_PIDS), open addressing by pid */
	uint32_t npids, pmask;
	struct gwin *win;          /* GRAPH_WIN */
	struct gbind binds[GRAPH_BINDS];
	struct galert alerts[GRAPH_MAX_ALERTS];
	uint32_t nalerts, next_alert;
	struct graph_rules rules;
	struct graph_stats st;
	graph_alert_fn on_alert;
	void *on_alert_arg;
	uint64_t real_off;         /* loaded graphs: the saver's monotonic-to-real offset */
};

uint64_t graph_hash(const void *p, size_t n, uint64_t seed);
void graph_node_unlink_all(struct graph *g, uint32_t id);

#endif
