/* SPDX-License-Identifier: BSD-2-Clause */
/* The behaviour graph (ebee graph): nodes and edges built from the event stream (src/events,
 * through the collector interface) and the process table (src/proc), detections that look at
 * relationships over time instead of one event at a time, queries, save/load and export.
 *
 * Store: fixed arrays allocated once at graph_new (nodes, edges, and the process part of
 * proc nodes), each with an open-addressing index keyed by a 64-bit hash of the identity (type
 * + text, or src/dst/type/signal for an edge); adjacency as doubly linked out/in lists
 * threaded through the edges, so unlinking is O(1). A node's text is in a string store shared
 * by every node with that text (a program's path: its file node and all its processes).
 * Nothing is allocated per event.
 *
 * Bound (graph_mem_bytes says exactly): per node 56 bytes, its process part 56 (as many as
 * nodes, in case every node is a process), 64 of string store and 24 of index; per edge 56
 * and 24 of index; the detection window table and the pid map. With the defaults (65536
 * nodes, 131072 edges) that is about 28 MB, the daemon's (docs/serve.md) a quarter of it.
 * Resident is what is used: the tables fill from the start (freed entries are reused first),
 * the indexes and the pid map start at 1024 slots and double as entries come, and the string
 * store is compacted and its tail given back as its texts are freed (graph_int.h).
 * When a table is full the oldest entry of a sample of 32 taken round-robin is aged out —
 * leaves first (a node with at most one edge: a file read once, an endpoint seen once), never
 * a node or edge an alert refers to — and counted per type (dropped_nodes/dropped_edges). */
#ifndef EBEE_GRAPH_H
#define EBEE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GNONE UINT32_MAX
#define GRAPH_LABEL_LEN 120         /* the longest text, NUL included (longer ones are cut) */
#define GRAPH_COMM_LEN 16
#define GRAPH_MAX_ALERTS 256
#define GRAPH_ALERT_NODES 16
#define GRAPH_ALERT_EDGES 16
#define GRAPH_ALERT_TEXT 256
#define GRAPH_DEFAULT_NODES 65536
#define GRAPH_DEFAULT_EDGES 131072

enum gnode_type {
	GN_PROC = 1,    /* one per exec identity: pid + start time + exe */
	GN_FILE,        /* a path (an executable once something executed it) */
	GN_REMOTE,      /* address:port connected to; address alone for accepted peers */
	GN_PORT,        /* a local listening port */
	GN_USER,
	GN_CONTAINER,
	GN__MAX
};

enum gedge_type {
	GE_SPAWNED = 1, GE_EXECUTED, GE_READ, GE_WROTE, GE_CREATED, GE_DELETED, GE_CHMOD_X,
	GE_CONNECTED, GE_ACCEPTED, GE_LISTENED, GE_SIGNALLED, GE_PTRACED, GE_MODULE,
	GE_RAN_AS, GE_IN_CONTAINER,
	GE_SENT,        /* datagrams (sendto/sendmsg, or send on a connected datagram socket) */
	GE__MAX
};

/* gnode.flags */
enum {
	GNF_NET      = 1 << 0,   /* proc: connected or accepted (lineage head: any of its procs) */
	GNF_EXITED   = 1 << 1,
	GNF_NETWRITE = 1 << 2,   /* file: last written by a process that had a network connection */
	GNF_XSET     = 1 << 3,   /* file: made executable (chmod +x, or created with x bits) */
	GNF_EXEC     = 1 << 4,   /* file: executed */
	GNF_DELETED  = 1 << 5,
	GNF_PIN      = 1 << 6,   /* referenced by an alert: never aged out */
	GNF_HEAD     = 1 << 7,   /* proc: heads a lineage (an exec, or a process seen first) */
};
#define GNF_SAVED (GNF_NET | GNF_EXITED | GNF_NETWRITE | GNF_XSET | GNF_EXEC | GNF_DELETED | \
		   GNF_PIN | GNF_HEAD)

/* 56 bytes: what every node has. A process's own state is its struct gproc (graph_proc), its
 * text and comm are in the string store (graph_label, graph_comm). */
struct gnode {
	uint64_t key;              /* identity hash (graph_node_key) */
	uint64_t first_ns, last_ns;/* CLOCK_MONOTONIC, like the events' time_ns */
	uint32_t out, in;          /* first out/in edge, GNONE */
	uint32_t deg;              /* edges in + out */
	uint32_t aux;              /* remote/port: port; user: uid; proc: ppid */
	uint32_t label;            /* proc: exe; file: path; remote: addr:port; user: name */
	union {
		uint32_t proc;     /* proc: its struct gproc */
		uint32_t writer;   /* file: the process that last wrote it, GNONE */
	};
	uint16_t flags;            /* GNF_* */
	uint8_t type;              /* enum gnode_type, 0 = free slot */
	uint8_t alerted;           /* lineage head: rules already fired (bit per rule) */
};

/* A process node's own part (56 bytes, procs only). */
struct gproc {
	uint64_t start_ns;         /* start, ns since boot */
	/* lineage head: the detection window (tumbling, graph_rules.window_ns), and the lost
	 * counter when the graph first saw the lineage: its alerts are incomplete past it */
	uint64_t win_start, win_lost;
	uint32_t pid, uid;
	uint32_t parent;           /* the node that spawned it, GNONE = unknown */
	uint32_t lineage;          /* the head of its lineage (itself for a head) */
	uint32_t comm;             /* in the string store */
	uint32_t win_addrs, win_ports, win_kills;
};

/* 56 bytes. Its identity hash is not kept: it is made again from the ends' keys, the type and
 * aux when the edge goes (edge_key, store.c). */
struct gedge {
	uint64_t first_ns, last_ns;
	uint64_t count;            /* how many events made it */
	uint32_t src, dst;
	uint32_t next_out, prev_out, next_in, prev_in;
	uint32_t fails;            /* of count, attempts that failed (connect refused, ...) */
	uint16_t aux;              /* signalled: the signal (65535: any larger number) */
	uint8_t type;              /* enum gedge_type, 0 = free */
	uint8_t pin;
};

enum grule {
	GR_SCAN, GR_DROPPER, GR_SELFDEL, GR_KILL, GR_FLOOD, GR_PERSIST, GR__MAX
};

struct galert {
	uint32_t id;               /* shown as "g<id>" */
	uint8_t rule;              /* enum grule */
	uint8_t incomplete;        /* events were lost during the lineage's life in the graph */
	uint16_t nnodes, nedges;
	uint64_t time_ns;
	uint32_t proc;             /* the process that made it fire */
	uint32_t nodes[GRAPH_ALERT_NODES];
	uint32_t edges[GRAPH_ALERT_EDGES];
	char text[GRAPH_ALERT_TEXT];
};

struct graph_rules {
	uint64_t window_ns;        /* scan/flood/kill windows per lineage (default 60 s) */
	uint32_t scan_addrs;       /* distinct addresses in a window (default 100) */
	uint32_t scan_ports;       /* distinct ports in a window (default 100) */
	uint32_t flood;            /* connections/packets to one endpoint in a window (1000) */
	uint32_t kills;            /* distinct non-descendant processes killed in a window (2) */
};

struct graph_limits {
	uint32_t max_nodes, max_edges;   /* 0 = the defaults */
	uint32_t max_text;               /* string store bytes, 0 = 64 per node */
};

struct graph_stats {
	uint64_t events, ignored;
	uint64_t lost;                      /* events the kernel lost (set by the runner) */
	uint64_t dropped_nodes[GN__MAX];    /* aged out, per node type */
	uint64_t dropped_edges[GE__MAX];
	uint64_t dropped_edge_events;       /* sum of the counts of the edges aged out */
	uint64_t alerts, alerts_unstored;   /* fired; fired past GRAPH_MAX_ALERTS */
	uint64_t pid_full;                  /* pid map full: a process's state not kept */
	uint64_t win_approx;                /* window table full: a distinct count may be high */
	uint64_t str_full;                  /* string store full of live texts: a node not made */
};

struct graph;
struct proctab;
struct ebee_event_hdr;

typedef void (*graph_alert_fn)(void *arg, const struct graph *g, const struct galert *a);

struct graph *graph_new(const struct graph_limits *lim, const struct graph_rules *rules);
void graph_free(struct graph *g);
size_t graph_mem_bytes(const struct graph *g);
void graph_on_alert(struct graph *g, graph_alert_fn fn, void *arg);

/* One event (struct ebee_event_hdr first; the layouts of events/events.h). pt may be NULL
 * (a replayed stream): processes older than the stream are then known by pid and comm only. */
void graph_ingest(struct graph *g, const struct ebee_event_hdr *h, struct proctab *pt);

/* ---- the store ---- */
uint64_t graph_node_key(int type, const char *text, uint32_t pid, uint64_t start_ns);
uint32_t graph_node_find(const struct graph *g, uint64_t key);
/* Finds or makes a node; GNONE only when the table is full of pinned nodes. */
uint32_t graph_node_get(struct graph *g, int type, const char *label, uint64_t key, uint64_t ts);
uint32_t graph_edge_add(struct graph *g, uint32_t src, uint32_t dst, int type, uint32_t aux,
			uint64_t ts, bool failed);
const struct gnode *graph_node(const struct graph *g, uint32_t id);   /* NULL if free */
/* A node's text ("" for a free slot); a process's comm ("" for other nodes). Valid until the
 * graph changes (the string store moves texts when it compacts). */
const char *graph_label(const struct graph *g, uint32_t id);
const char *graph_comm(const struct graph *g, uint32_t id);
/* A proc node's process part, NULL for other nodes. */
const struct gproc *graph_proc(const struct graph *g, uint32_t id);
const struct gedge *graph_edge(const struct graph *g, uint32_t id);
uint32_t graph_nnodes_cap(const struct graph *g);
uint32_t graph_nedges_cap(const struct graph *g);
uint32_t graph_nnodes(const struct graph *g);
uint32_t graph_nedges(const struct graph *g);
const struct graph_stats *graph_stats(const struct graph *g);
struct graph_stats *graph_stats_mut(struct graph *g);
const struct galert *graph_alert(const struct graph *g, uint32_t id);  /* by alert id */
uint32_t graph_nalerts(const struct graph *g);
const struct galert *graph_alert_at(const struct graph *g, uint32_t i);
/* Stores an alert (pinning its nodes and edges) and calls the alert callback. */
void graph_alert_fire(struct graph *g, struct galert *a);

const char *graph_node_type_name(int t);
const char *graph_edge_type_name(int t);
const char *graph_rule_name(int r);
const char *graph_rule_priority(int r);
/* A node reference as users type it: "n42", "proc:PID" (its latest image), "file:PATH",
 * "remote:ADDR:PORT", "port:ADDR:PORT", "user:NAME", "container:ID". GNONE if unknown. */
uint32_t graph_node_ref(const struct graph *g, const char *ref);
/* "n42 proc /usr/bin/curl (1234)" style one-line description. */
const char *graph_node_text(const struct graph *g, uint32_t id, char *buf, size_t len);

/* ---- files (graph_file.c) ---- */
#define GRAPH_FILE_VERSION 1
/* Writes the graph; 0 or -errno (message printed). */
int graph_save(const struct graph *g, const char *path);
/* Parses a saved graph from memory. NULL + one error line in err (for "ebee: ..."), never a
 * crash on any input. check_sum=false skips the checksum (the fuzzer reaches the parser). */
struct graph *graph_load_buf(const uint8_t *buf, size_t len, bool check_sum, char *err,
			     size_t errlen);
struct graph *graph_load(const char *path);   /* NULL after printing the error */
/* The monotonic-to-real offset the file was saved with (0 for a live graph: the clock's). */
uint64_t graph_real_offset(const struct graph *g);
void graph_set_real_offset(struct graph *g, uint64_t off);

/* ---- export and queries (graph_query.c) ---- */
enum graph_fmt { GF_JSON, GF_DOT, GF_GRAPHML };
int graph_export(const struct graph *g, FILE *f, enum graph_fmt fmt);
struct ebee_ctx;
/* Runs a query ("lineage PID", "who-wrote PATH", ...) printing a table or JSON rows. -EINVAL
 * after one error line for an unknown query or node. */
int graph_query(const struct graph *g, const char *q, FILE *f, bool json);
/* An alert and its subgraph. */
int graph_show_alert(const struct graph *g, const char *id, FILE *f, bool json);
/* The Falco-compatible JSON alert (one object, no newline) into w. */
struct jw;
void graph_alert_json(const struct graph *g, const struct galert *a, const char *hostname,
		      struct jw *w);
/* A node or edge as one JSON object (ids "n42"/"e7", type, label, attributes); full adds
 * an edge's first/last times. */
void graph_node_json(const struct graph *g, uint32_t id, struct jw *w);
void graph_edge_json(const struct graph *g, uint32_t id, struct jw *w, bool full);
/* The same as members of the open object w (the daemon's event stream). */
void graph_alert_members(const struct graph *g, const struct galert *a, const char *hostname,
			 struct jw *w);
/* Falco's text line "HH:MM:SS.nnnnnnnnn: Priority text". */
const char *graph_alert_line(const struct graph *g, const struct galert *a, char *buf,
			     size_t len);

#endif
