// SPDX-License-Identifier: BSD-2-Clause
/* The graph store: fixed node and edge tables, their hash indexes, the string store, O(1)
 * adjacency unlinking, bounded aging, alerts. See graph.h for the bound. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/ebee.h"
#include "graph/graph_int.h"

/* the sizes graph.h's bound is made of */
_Static_assert(sizeof(struct gnode) == 56, "gnode");
_Static_assert(sizeof(struct gproc) == 56, "gproc");
_Static_assert(sizeof(struct gedge) == 56, "gedge");
_Static_assert(sizeof(struct gslot) == 12, "gslot");

static const char *const node_names[GN__MAX] = {
	[GN_PROC] = "proc", [GN_FILE] = "file", [GN_REMOTE] = "remote", [GN_PORT] = "port",
	[GN_USER] = "user", [GN_CONTAINER] = "container",
};
static const char *const edge_names[GE__MAX] = {
	[GE_SPAWNED] = "spawned", [GE_EXECUTED] = "executed", [GE_READ] = "read",
	[GE_WROTE] = "wrote", [GE_CREATED] = "created", [GE_DELETED] = "deleted",
	[GE_CHMOD_X] = "chmod_x", [GE_CONNECTED] = "connected", [GE_ACCEPTED] = "accepted",
	[GE_LISTENED] = "listened", [GE_SIGNALLED] = "signalled", [GE_PTRACED] = "ptraced",
	[GE_MODULE] = "loaded_module", [GE_RAN_AS] = "ran_as", [GE_IN_CONTAINER] = "in_container",
	[GE_SENT] = "sent",
};
/* Falco's rule names and priorities */
static const char *const rule_names[GR__MAX] = {
	[GR_SCAN] = "Network scan", [GR_DROPPER] = "Dropper executed",
	[GR_SELFDEL] = "Self-deleting executable", [GR_KILL] = "Processes killed by name",
	[GR_FLOOD] = "Flood", [GR_PERSIST] = "Persistence write",
};
static const char *const rule_prios[GR__MAX] = {
	[GR_SCAN] = "Warning", [GR_DROPPER] = "Critical", [GR_SELFDEL] = "Error",
	[GR_KILL] = "Warning", [GR_FLOOD] = "Critical", [GR_PERSIST] = "Error",
};

const char *graph_node_type_name(int t)
{
	return t > 0 && t < GN__MAX ? node_names[t] : "?";
}

const char *graph_edge_type_name(int t)
{
	return t > 0 && t < GE__MAX ? edge_names[t] : "?";
}

const char *graph_rule_name(int r)
{
	return r >= 0 && r < GR__MAX ? rule_names[r] : "?";
}

const char *graph_rule_priority(int r)
{
	return r >= 0 && r < GR__MAX ? rule_prios[r] : "?";
}

/* FNV-1a, 64 bit: identities and the file checksum */
uint64_t graph_hash(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = seed ^ 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t graph_node_key(int type, const char *text, uint32_t pid, uint64_t start_ns)
{
	uint64_t h = graph_hash(text, strlen(text), (uint64_t)type * 0x9e3779b97f4a7c15ull);

	if (type == GN_PROC) {
		/* start at /proc's tick granularity (10 ms), so a seeded process and its events
		 * agree on the identity */
		uint64_t id[2] = { pid, start_ns / 10000000ull };

		h = graph_hash(id, sizeof(id), h);
	}
	return h ? h : 1;
}

/* ---- index ---- */

#define GIDX_MIN_SLOTS 1024

/* Slots start zeroed (calloc; key 0 = empty: every identity key is non-zero, graph_node_key,
 * graph_edge_add), GIDX_MIN_SLOTS of them; max_slots is the bound's size (graph_mem_bytes). */
static int idx_alloc(struct gindex *x, uint32_t n)
{
	x->s = calloc(n, sizeof(*x->s));
	if (!x->s)
		return -ENOMEM;
	x->mask = n - 1;
	x->used = 0;
	return 0;
}

static uint32_t idx_slots_for(uint32_t entries)
{
	uint32_t n = 16;

	while (n < entries * 2)
		n <<= 1;
	return n;
}

static int idx_init(struct gindex *x, uint32_t entries)
{
	x->max_slots = idx_slots_for(entries);
	return idx_alloc(x, x->max_slots < GIDX_MIN_SLOTS ? x->max_slots : GIDX_MIN_SLOTS);
}

static void idx_put(struct gindex *x, uint64_t key, uint32_t v);

/* Doubles the index and moves every slot over; false when no memory (it stays as it is,
 * half full or less, and the caller's table does not take the entry). */
static bool idx_grow(struct gindex *x)
{
	struct gindex old = *x;

	if (idx_alloc(x, (old.mask + 1) * 2)) {
		*x = old;
		return false;
	}
	for (uint32_t i = 0; i <= old.mask; i++)
		if (old.s[i].key)
			idx_put(x, old.s[i].key, old.s[i].idx);
	free(old.s);
	return true;
}

/* Room for one more entry of a table of cap entries (a full table evicts one first),
 * keeping the index at most half full. */
static bool idx_reserve(struct gindex *x, uint32_t cap)
{
	uint32_t need = x->used < cap ? x->used + 1 : x->used;

	return need * 2 <= x->mask + 1 || (x->mask + 1 < x->max_slots && idx_grow(x));
}

static uint32_t idx_find(const struct gindex *x, uint64_t key)
{
	for (uint32_t i = (uint32_t)key & x->mask;; i = (i + 1) & x->mask) {
		if (!x->s[i].key)
			return GNONE;
		if (x->s[i].key == key)
			return x->s[i].idx;
	}
}

static void idx_put(struct gindex *x, uint64_t key, uint32_t v)
{
	uint32_t i = (uint32_t)key & x->mask;

	/* at most half full: idx_reserve before every new entry */
	while (x->s[i].key)
		i = (i + 1) & x->mask;
	x->s[i].key = key;
	x->s[i].idx = v;
	x->used++;
}

static void idx_del(struct gindex *x, uint64_t key)
{
	uint32_t i = (uint32_t)key & x->mask, j;

	while (x->s[i].key && x->s[i].key != key)
		i = (i + 1) & x->mask;
	if (!x->s[i].key)
		return;
	/* backward shift: move later members of the cluster into the hole when their home
	 * slot is not between the hole and them */
	for (j = (i + 1) & x->mask; x->s[j].key; j = (j + 1) & x->mask) {
		uint32_t home = (uint32_t)x->s[j].key & x->mask;

		if (((j - home) & x->mask) >= ((j - i) & x->mask)) {
			x->s[i] = x->s[j];
			i = j;
		}
	}
	x->s[i].key = 0;
	x->used--;
}

/* ---- string store (graph_int.h) ---- */

/* dead bytes tolerated before a compaction, whatever the live ones */
#define STR_SLACK (64u << 10)

static uint32_t str_size(size_t len)
{
	return (uint32_t)((sizeof(struct gstr) + len + 1 + 7) & ~(size_t)7);
}

static struct gstr *str_rec(const struct graph *g, uint32_t ref)
{
	return (struct gstr *)(g->str.a + ref);
}

static uint64_t str_key(const char *s, size_t len)
{
	return graph_hash(s, len, 0x5f3759df) | 1;
}

static int str_init(struct gstrs *t, uint32_t nodes, uint32_t bytes)
{
	uint64_t cap = bytes ? bytes : (uint64_t)nodes * GRAPH_STR_PER_NODE;

	if (cap > (UINT32_MAX & ~7u))
		cap = UINT32_MAX & ~7u;
	t->a = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->a == MAP_FAILED) {
		t->a = NULL;
		return -ENOMEM;
	}
	t->cap = (uint32_t)cap;
	/* the empty text at 0: one reference that is never dropped (the mapping is zeroed) */
	((struct gstr *)t->a)->refs = 1;
	t->end = t->live = t->resident = str_size(0);
	/* distinct texts: at most one per node, mostly far fewer (one path, many processes) */
	return idx_init(&t->idx, nodes);
}

/* Slides the live records to the front, rewrites every reference (labels, comms, the index)
 * through the old records' headers, and gives the pages past the new end back. */
static void str_compact(struct graph *g)
{
	struct gstrs *t = &g->str;
	uint32_t off, to = 0, size;
	long pg = sysconf(_SC_PAGESIZE);
	uint32_t from;

	/* 1: each live record's new offset, in its header (live ones find their size again by
	 * their text's length) */
	for (off = 0; off < t->end; off += size) {
		struct gstr *r = str_rec(g, off);

		size = str_size(r->len);
		if (r->refs) {
			r->len = to;
			to += size;
		}
	}
	/* 2: the references */
	for (uint32_t i = 0; i < g->nnext; i++) {
		struct gnode *n = &g->n[i];

		if (!n->type)
			continue;
		n->label = str_rec(g, n->label)->len;
		if (n->type == GN_PROC)
			g->p[n->proc].comm = str_rec(g, g->p[n->proc].comm)->len;
	}
	for (uint32_t i = 0; i <= t->idx.mask; i++)
		if (t->idx.s[i].key)
			t->idx.s[i].idx = str_rec(g, t->idx.s[i].idx)->len;
	/* 3: the moves, in order: a record moves down over dead ones and its own place only */
	for (off = 0; off < t->end; off += size) {
		struct gstr *r = str_rec(g, off);
		uint32_t dst;
		size_t len;

		if (!r->refs) {
			size = str_size(r->len);
			continue;
		}
		dst = r->len;
		len = strlen(r->s);
		size = str_size(len);
		memmove(t->a + dst, r, size);
		str_rec(g, dst)->len = (uint32_t)len;
	}
	t->end = t->live = to;
	t->compactions++;
	/* the pages past the end back to the kernel (zeros when used again) */
	from = (uint32_t)(((uint64_t)to + (uint64_t)pg - 1) & ~((uint64_t)pg - 1));
	if (t->resident > from)
		madvise(t->a + from, t->resident - from, MADV_DONTNEED);
	t->resident = to;
}

/* A reference to text s (cut at GRAPH_LABEL_LEN - 1 bytes): the one stored, or a new record;
 * GNONE when the store is full of live texts. */
static uint32_t str_get(struct graph *g, const char *s)
{
	struct gstrs *t = &g->str;
	char buf[GRAPH_LABEL_LEN];
	size_t len = strnlen(s, GRAPH_LABEL_LEN - 1);
	uint32_t ref, need = str_size(len), dead;
	uint64_t key;
	struct gstr *r;

	if (!len)
		return 0;
	/* a copy: s may be a text of the store itself, which a compaction moves */
	memcpy(buf, s, len);
	buf[len] = 0;
	key = str_key(buf, len);
	ref = idx_find(&t->idx, key);
	if (ref != GNONE && !strcmp(graph_str(g, ref), buf)) {
		str_rec(g, ref)->refs++;
		return ref;
	}
	dead = t->end - t->live;
	if ((dead > t->live / 2 && dead >= STR_SLACK) || (t->cap - t->end < need && dead >= need))
		str_compact(g);
	if (t->cap - t->end < need)
		return GNONE;
	r = str_rec(g, t->end);
	r->refs = 1;
	r->len = (uint32_t)len;
	memcpy(r->s, buf, len + 1);
	/* indexed unless the index is at its bound or the hash is another text's (then it is
	 * stored unshared) */
	if (idx_find(&t->idx, key) == GNONE && t->idx.used < t->idx.max_slots / 2 &&
	    idx_reserve(&t->idx, t->idx.max_slots / 2))
		idx_put(&t->idx, key, t->end);
	ref = t->end;
	t->end += need;
	t->live += need;
	if (t->end > t->resident)
		t->resident = t->end;
	return ref;
}

static void str_put(struct graph *g, uint32_t ref)
{
	struct gstr *r = str_rec(g, ref);
	uint64_t key;

	if (!ref || --r->refs)
		return;
	g->str.live -= str_size(r->len);
	key = str_key(r->s, r->len);
	if (idx_find(&g->str.idx, key) == ref)
		idx_del(&g->str.idx, key);
}

/* ---- life ---- */

struct graph *graph_new(const struct graph_limits *lim, const struct graph_rules *rules)
{
	struct graph *g = calloc(1, sizeof(*g));
	uint32_t nc = lim && lim->max_nodes ? lim->max_nodes : GRAPH_DEFAULT_NODES;
	uint32_t ec = lim && lim->max_edges ? lim->max_edges : GRAPH_DEFAULT_EDGES;

	if (!g)
		return NULL;
	if (nc < 16)
		nc = 16;
	if (ec < 16)
		ec = 16;
	g->ncap = nc;
	g->ecap = ec;
	g->n = calloc(nc, sizeof(*g->n));
	g->e = calloc(ec, sizeof(*g->e));
	g->p = calloc(nc, sizeof(*g->p));
	g->pmask = 1023;
	g->pids = calloc(g->pmask + 1, sizeof(*g->pids));
	/* distinct (lineage, address|port|victim|endpoint) of the live windows: hashed, so
	 * resident once a few thousand are used; as many as nodes */
	for (g->wmask = GRAPH_WIN_MIN - 1; g->wmask < GRAPH_WIN - 1 && g->wmask + 1 < nc;)
		g->wmask = g->wmask * 2 + 1;
	g->win = calloc(g->wmask + 1, sizeof(*g->win));
	if (!g->n || !g->e || !g->p || !g->pids || !g->win || idx_init(&g->nidx, nc) ||
	    idx_init(&g->eidx, ec) || str_init(&g->str, nc, lim ? lim->max_text : 0)) {
		graph_free(g);
		errno = ENOMEM;
		return NULL;
	}
	/* a fresh graph fills 0, 1, 2... from the high-water marks (no free list to build: the
	 * tables' pages are touched only as the graph grows); freed entries are reused first */
	g->nfree = GNONE;
	g->efree = GNONE;
	g->pfree = GNONE;
	if (rules)
		g->rules = *rules;
	if (!g->rules.window_ns)
		g->rules.window_ns = 60ull * 1000000000ull;
	if (!g->rules.scan_addrs)
		g->rules.scan_addrs = 100;
	if (!g->rules.scan_ports)
		g->rules.scan_ports = 100;
	if (!g->rules.flood)
		g->rules.flood = 1000;
	if (!g->rules.kills)
		g->rules.kills = 2;
	return g;
}

void graph_free(struct graph *g)
{
	if (!g)
		return;
	free(g->n);
	free(g->e);
	free(g->p);
	free(g->pids);
	free(g->win);
	free(g->nidx.s);
	free(g->eidx.s);
	free(g->str.idx.s);
	if (g->str.a)
		munmap(g->str.a, g->str.cap);
	free(g);
}

size_t graph_mem_bytes(const struct graph *g)
{
	return sizeof(*g) + (size_t)g->ncap * (sizeof(struct gnode) + sizeof(struct gproc)) +
	       (size_t)g->ecap * sizeof(struct gedge) + g->str.cap +
	       ((size_t)g->nidx.max_slots + g->eidx.max_slots + g->str.idx.max_slots) *
	       sizeof(struct gslot) + GRAPH_PIDS * sizeof(struct gpid) +
	       (g->wmask + 1) * sizeof(struct gwin);
}

void graph_on_alert(struct graph *g, graph_alert_fn fn, void *arg)
{
	g->on_alert = fn;
	g->on_alert_arg = arg;
}

/* ---- edges ---- */

static uint64_t edge_key(const struct graph *g, uint32_t src, uint32_t dst, int type,
			 uint32_t aux)
{
	uint64_t kv[3] = { ((uint64_t)src << 32) | dst, (uint64_t)type, aux };

	/* keys of node slots: a recycled slot has a new identity, hence the node keys */
	kv[0] ^= g->n[src].key * 31 + g->n[dst].key;
	return graph_hash(kv, sizeof(kv), 0) | 1;
}

static void edge_remove(struct graph *g, uint32_t id)
{
	struct gedge *e = &g->e[id];
	struct gnode *s = &g->n[e->src], *d = &g->n[e->dst];

	if (e->prev_out != GNONE)
		g->e[e->prev_out].next_out = e->next_out;
	else
		s->out = e->next_out;
	if (e->next_out != GNONE)
		g->e[e->next_out].prev_out = e->prev_out;
	if (e->prev_in != GNONE)
		g->e[e->prev_in].next_in = e->next_in;
	else
		d->in = e->next_in;
	if (e->next_in != GNONE)
		g->e[e->next_in].prev_in = e->prev_in;
	s->deg--;
	d->deg--;
	idx_del(&g->eidx, edge_key(g, e->src, e->dst, e->type, e->aux));
	memset(e, 0, sizeof(*e));
	e->next_out = g->efree;
	g->efree = id;
	g->eused--;
}

static bool edge_evict(struct graph *g)
{
	uint32_t best = GNONE;

	for (uint32_t k = 0; k < g->ecap && k < GRAPH_SAMPLE * 8; k++) {
		uint32_t i = g->ehand;
		const struct gedge *e = &g->e[i];

		g->ehand = (g->ehand + 1) % g->ecap;
		if (!e->type || e->pin)
			continue;
		if (best == GNONE || e->last_ns < g->e[best].last_ns)
			best = i;
		if (k >= GRAPH_SAMPLE && best != GNONE)
			break;
	}
	if (best == GNONE)
		return false;
	g->st.dropped_edges[g->e[best].type]++;
	g->st.dropped_edge_events += g->e[best].count;
	edge_remove(g, best);
	return true;
}

uint32_t graph_edge_add(struct graph *g, uint32_t src, uint32_t dst, int type, uint32_t aux,
			uint64_t ts, bool failed)
{
	uint64_t key;
	uint32_t id;
	struct gedge *e;

	if (src == GNONE || dst == GNONE || !g->n[src].type || !g->n[dst].type)
		return GNONE;
	if (aux > UINT16_MAX)
		aux = UINT16_MAX;   /* signals are below 65: larger numbers are one value */
	key = edge_key(g, src, dst, type, aux);
	id = idx_find(&g->eidx, key);
	if (id == GNONE) {
		if (!idx_reserve(&g->eidx, g->ecap))
			return GNONE;
		if (g->efree == GNONE && g->enext < g->ecap) {
			id = g->enext++;
			e = &g->e[id];
		} else {
			if (g->efree == GNONE && !edge_evict(g))
				return GNONE;
			id = g->efree;
			e = &g->e[id];
			g->efree = e->next_out;
		}
		memset(e, 0, sizeof(*e));
		e->src = src;
		e->dst = dst;
		e->type = (uint8_t)type;
		e->aux = (uint16_t)aux;
		e->first_ns = ts;
		e->prev_out = e->prev_in = GNONE;
		e->next_out = g->n[src].out;
		if (e->next_out != GNONE)
			g->e[e->next_out].prev_out = id;
		g->n[src].out = id;
		e->next_in = g->n[dst].in;
		if (e->next_in != GNONE)
			g->e[e->next_in].prev_in = id;
		g->n[dst].in = id;
		g->n[src].deg++;
		g->n[dst].deg++;
		idx_put(&g->eidx, key, id);
		g->eused++;
	}
	e = &g->e[id];
	e->count++;
	e->fails += failed;
	if (ts > e->last_ns)
		e->last_ns = ts;
	if (ts > g->n[src].last_ns)
		g->n[src].last_ns = ts;
	if (ts > g->n[dst].last_ns)
		g->n[dst].last_ns = ts;
	return id;
}

/* ---- nodes ---- */

void graph_node_unlink_all(struct graph *g, uint32_t id)
{
	while (g->n[id].out != GNONE)
		edge_remove(g, g->n[id].out);
	while (g->n[id].in != GNONE)
		edge_remove(g, g->n[id].in);
}

static bool node_evict(struct graph *g)
{
	uint32_t best = GNONE;
	bool best_leaf = false;

	for (uint32_t k = 0; k < g->ncap && k < GRAPH_SAMPLE * 8; k++) {
		uint32_t i = g->nhand;
		const struct gnode *n = &g->n[i];
		bool leaf;

		g->nhand = (g->nhand + 1) % g->ncap;
		/* live processes and lineage heads carry detection state: they go last */
		if (!n->type || n->flags & GNF_PIN)
			continue;
		leaf = n->deg <= 1 && n->type != GN_PROC;
		if (best == GNONE || (leaf && !best_leaf) ||
		    (leaf == best_leaf && n->last_ns < g->n[best].last_ns)) {
			best = i;
			best_leaf = leaf;
		}
		if (k >= GRAPH_SAMPLE && best != GNONE)
			break;
	}
	if (best == GNONE)
		return false;
	g->st.dropped_nodes[g->n[best].type]++;
	/* its edges go with it, counted as dropped like edges aged out on their own */
	for (uint32_t e = g->n[best].out; e != GNONE; e = g->e[e].next_out) {
		g->st.dropped_edges[g->e[e].type]++;
		g->st.dropped_edge_events += g->e[e].count;
	}
	for (uint32_t e = g->n[best].in; e != GNONE; e = g->e[e].next_in) {
		g->st.dropped_edges[g->e[e].type]++;
		g->st.dropped_edge_events += g->e[e].count;
	}
	graph_node_unlink_all(g, best);
	idx_del(&g->nidx, g->n[best].key);
	str_put(g, g->n[best].label);
	if (g->n[best].type == GN_PROC) {
		struct gproc *p = gproc_of(g, best);

		str_put(g, p->comm);
		p->parent = g->pfree;
		g->pfree = g->n[best].proc;
	}
	memset(&g->n[best], 0, sizeof(g->n[best]));
	g->n[best].out = g->nfree;
	g->nfree = best;
	g->nused--;
	return true;
}

uint32_t graph_node_find(const struct graph *g, uint64_t key)
{
	return idx_find(&g->nidx, key);
}

uint32_t graph_node_get(struct graph *g, int type, const char *label, uint64_t key, uint64_t ts)
{
	uint32_t id = idx_find(&g->nidx, key), lab;
	struct gnode *n;

	if (id != GNONE) {
		if (ts > g->n[id].last_ns)
			g->n[id].last_ns = ts;
		return id;
	}
	if (!idx_reserve(&g->nidx, g->ncap))
		return GNONE;
	/* its text first: a store full of live texts (long unshared paths) ages nodes out */
	for (int k = 0; (lab = str_get(g, label)) == GNONE; k++)
		if (k == GRAPH_SAMPLE || !node_evict(g)) {
			g->st.str_full++;
			return GNONE;
		}
	if (g->nfree == GNONE && g->nnext < g->ncap) {
		id = g->nnext++;
		n = &g->n[id];
	} else {
		if (g->nfree == GNONE && !node_evict(g)) {
			str_put(g, lab);
			return GNONE;
		}
		id = g->nfree;
		n = &g->n[id];
		g->nfree = n->out;
	}
	/* as many process parts as nodes, so there is always one (checked all the same: a part
	 * lost would be a bug, not a reason to write past the table) */
	if (type == GN_PROC && g->pfree == GNONE && g->pnext >= g->ncap) {
		memset(n, 0, sizeof(*n));
		n->out = g->nfree;
		g->nfree = id;
		str_put(g, lab);
		return GNONE;
	}
	memset(n, 0, sizeof(*n));
	n->key = key;
	n->type = (uint8_t)type;
	n->first_ns = n->last_ns = ts;
	n->out = n->in = GNONE;
	n->label = lab;
	if (type == GN_PROC) {
		/* as many process parts as nodes: there is always one */
		uint32_t p = g->pfree;

		if (p != GNONE)
			g->pfree = g->p[p].parent;
		else
			p = g->pnext++;
		g->p[p] = (struct gproc){ .parent = GNONE, .lineage = GNONE };
		n->proc = p;
	} else {
		n->writer = GNONE;
	}
	idx_put(&g->nidx, key, id);
	g->nused++;
	return id;
}

const struct gnode *graph_node(const struct graph *g, uint32_t id)
{
	return id < g->ncap && g->n[id].type ? &g->n[id] : NULL;
}

const char *graph_label(const struct graph *g, uint32_t id)
{
	const struct gnode *n = graph_node(g, id);

	return n ? graph_str(g, n->label) : "";
}

const struct gproc *graph_proc(const struct graph *g, uint32_t id)
{
	const struct gnode *n = graph_node(g, id);

	return n && n->type == GN_PROC ? &g->p[n->proc] : NULL;
}

const char *graph_comm(const struct graph *g, uint32_t id)
{
	const struct gproc *p = graph_proc(g, id);

	return p ? graph_str(g, p->comm) : "";
}

void graph_set_comm(struct graph *g, uint32_t id, const char *c)
{
	char b[GRAPH_COMM_LEN + 1];
	struct gproc *p = gproc_of(g, id);
	uint32_t ref;

	snprintf(b, sizeof(b), "%.*s", GRAPH_COMM_LEN, c);
	ref = str_get(g, b);
	if (ref == GNONE) {
		g->st.str_full++;
		return;
	}
	str_put(g, p->comm);
	p->comm = ref;
}

const struct gedge *graph_edge(const struct graph *g, uint32_t id)
{
	return id < g->ecap && g->e[id].type ? &g->e[id] : NULL;
}

uint32_t graph_nnodes_cap(const struct graph *g) { return g->ncap; }
uint32_t graph_nedges_cap(const struct graph *g) { return g->ecap; }
uint32_t graph_nnodes(const struct graph *g) { return g->nused; }
uint32_t graph_nedges(const struct graph *g) { return g->eused; }
const struct graph_stats *graph_stats(const struct graph *g) { return &g->st; }
struct graph_stats *graph_stats_mut(struct graph *g) { return &g->st; }
uint64_t graph_real_offset(const struct graph *g) { return g->real_off; }
void graph_set_real_offset(struct graph *g, uint64_t off) { g->real_off = off; }
uint32_t graph_nalerts(const struct graph *g) { return g->nalerts; }

const struct galert *graph_alert_at(const struct graph *g, uint32_t i)
{
	return i < g->nalerts ? &g->alerts[i] : NULL;
}

const struct galert *graph_alert(const struct graph *g, uint32_t id)
{
	for (uint32_t i = 0; i < g->nalerts; i++)
		if (g->alerts[i].id == id)
			return &g->alerts[i];
	return NULL;
}

void graph_alert_fire(struct graph *g, struct galert *a)
{
	a->id = ++g->next_alert;
	g->st.alerts++;
	if (g->nalerts < GRAPH_MAX_ALERTS) {
		/* pinned: `graph show` must find the subgraph however long the run */
		for (int i = 0; i < a->nnodes; i++)
			if (graph_node(g, a->nodes[i]))
				g->n[a->nodes[i]].flags |= GNF_PIN;
		for (int i = 0; i < a->nedges; i++)
			if (graph_edge(g, a->edges[i]))
				g->e[a->edges[i]].pin = 1;
		g->alerts[g->nalerts++] = *a;
	} else {
		g->st.alerts_unstored++;
	}
	if (g->on_alert)
		g->on_alert(g->on_alert_arg, g, a);
}

/* ---- references and text ---- */

uint32_t graph_node_ref(const struct graph *g, const char *ref)
{
	const char *colon = strchr(ref, ':');
	char *end;

	if (ref[0] == 'n' && ref[1] >= '0' && ref[1] <= '9') {
		unsigned long v = strtoul(ref + 1, &end, 10);

		return !*end && v < g->ncap && g->n[v].type ? (uint32_t)v : GNONE;
	}
	if (!colon)
		return GNONE;
	for (int t = 1; t < GN__MAX; t++) {
		size_t l = strlen(node_names[t]);

		if ((size_t)(colon - ref) != l || strncmp(ref, node_names[t], l))
			continue;
		if (t == GN_PROC) {
			/* a pid: its most recent image */
			unsigned long pid = strtoul(colon + 1, &end, 10);
			uint32_t best = GNONE;

			if (*end || !colon[1])
				return GNONE;
			for (uint32_t i = 0; i < g->ncap; i++)
				if (g->n[i].type == GN_PROC && g->p[g->n[i].proc].pid == pid &&
				    (best == GNONE || g->n[i].first_ns >= g->n[best].first_ns))
					best = i;
			return best;
		}
		return idx_find(&g->nidx, graph_node_key(t, colon + 1, 0, 0));
	}
	return GNONE;
}

const char *graph_node_text(const struct graph *g, uint32_t id, char *buf, size_t len)
{
	const struct gnode *n = graph_node(g, id);

	if (!n)
		snprintf(buf, len, "n%u (gone)", id);
	else if (n->type == GN_PROC)
		snprintf(buf, len, "n%u proc %s (%u)", id, graph_str(g, n->label),
			 g->p[n->proc].pid);
	else
		snprintf(buf, len, "n%u %s %s", id, node_names[n->type], graph_str(g, n->label));
	return buf;
}
