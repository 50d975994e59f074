/* SPDX-License-Identifier: BSD-2-Clause */
/* The graph's private layout, shared by the files of src/graph only. */
#ifndef EBEE_GRAPH_INT_H
#define EBEE_GRAPH_INT_H

#include "graph/graph.h"

/* 12 bytes (packed): two slots per entry of three tables, a fifth of the bound */
struct gslot {
	uint64_t key;
	uint32_t idx;              /* the entry (key 0 = an empty slot) */
} __attribute__((packed));

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

/* The string store: each distinct text once (node labels, process comms), reference counted,
 * as records of an 8-byte header and the NUL-terminated text (8-byte aligned) appended to one
 * arena (its own mapping) of GRAPH_STR_PER_NODE bytes per node; a reference is the record's
 * offset (0: the empty text, never freed). An index by the text's hash finds a text already
 * stored. Freed records stay until the dead bytes pass half the live ones (or the arena's end
 * is reached): then the live ones are slid to the front, every reference is rewritten through
 * the records' headers, and the pages past the new end are given back (MADV_DONTNEED), so at
 * most about 1.5 times the live texts are resident. Full of live texts, a new node evicts
 * others (graph_node_get) until its text fits. */
struct gstr {
	uint32_t refs;
	uint32_t len;              /* strlen; during compaction, the record's new offset */
	char s[];
};

struct gstrs {
	char *a;
	uint32_t cap;              /* bytes: the bound */
	uint32_t end;              /* the first byte after the last record */
	uint32_t live;             /* bytes of records referenced */
	uint32_t resident;         /* the first byte never touched since the last release */
	uint32_t compactions;
	struct gindex idx;         /* hash of the text -> offset */
};

#define GRAPH_STR_PER_NODE 64
#define GRAPH_PIDS   32768
/* the window table: a slot per node (a power of two), within these */
#define GRAPH_WIN_MIN 4096
#define GRAPH_WIN    65536
#define GRAPH_BINDS  1024
#define GRAPH_SAMPLE 32

struct graph {
	struct gnode *n;
	struct gedge *e;
	struct gproc *p;           /* ncap: every node could be a process */
	uint32_t ncap, ecap, nused, eused;
	uint32_t nfree, efree, pfree;  /* free lists threaded through .out / .next_out / .parent */
	uint32_t nnext, enext, pnext;  /* never used yet from here on (high-water marks) */
	uint32_t nhand, ehand;     /* round-robin eviction sample start */
	struct gindex nidx, eidx;
	struct gstrs str;
	struct gpid *pids;         /* pmask + 1 (up to GRAPH_PIDS), open addressing by pid */
	uint32_t npids, pmask;
	struct gproc scratch;      /* gproc_of a stale id */
	struct gwin *win;          /* wmask + 1 */
	uint32_t wmask;
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

/* A stored text by reference. */
static inline const char *graph_str(const struct graph *g, uint32_t ref)
{
	return ((const struct gstr *)(g->str.a + ref))->s;
}

/* The process part of proc node id. Making a node can age out the one an event is using and
 * give its slot to another type: such a stale id gets a scratch part, not a wild index (its
 * reads and writes then go nowhere, as they went to the reused node before). */
static inline struct gproc *gproc_of(struct graph *g, uint32_t id)
{
	return g->n[id].type == GN_PROC ? &g->p[g->n[id].proc] : &g->scratch;
}

/* A process's comm (at most GRAPH_COMM_LEN bytes of c): kept only if the store has room. */
void graph_set_comm(struct graph *g, uint32_t id, const char *c);

#endif
