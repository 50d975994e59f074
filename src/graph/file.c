// SPDX-License-Identifier: BSD-2-Clause
/* Saved graphs: a versioned little-endian binary format, checked field by field on load.
 *
 *   "EBEEGRPH" u32 version u32 flags(bit 0: events were lost)
 *   u64 real_offset (ns to add to the monotonic times for wall time)
 *   u64 events, lost, dropped_nodes, dropped_edges
 *   u32 nnodes, nedges, nalerts
 *   nnodes x { u8 type, u16 flags, u32 pid, aux, uid, parent, lineage, writer,
 *              u64 start, first, last, u8 label_len, label, u8 comm_len, comm }
 *   nedges x { u8 type, u32 src, dst, aux, fails, u64 count, first, last }
 *   nalerts x { u32 id, u8 rule, u8 incomplete, u64 time, u32 proc,
 *               u8 nn, u32 nodes[nn], u8 ne, u32 edges[ne], u16 text_len, text }
 *   u64 FNV-1a of everything before
 * Node and edge ids are renumbered densely on save; references are ids in the file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ebee.h"
#include "graph/graph_int.h"

static const char magic[8] = "EBEEGRPH";
#define MAX_FILE (1ull << 30)
#define FNV_BASIS 0xcbf29ce484222325ull

/* ---- writing ---- */

struct wbuf {
	FILE *f;
	uint64_t h;
	bool err;
};

static void wbytes(struct wbuf *w, const void *p, size_t n)
{
	/* FNV continued over the chunks: the same value as one graph_hash of the whole file */
	w->h = graph_hash(p, n, w->h ^ FNV_BASIS);
	if (n && fwrite(p, n, 1, w->f) != 1)
		w->err = true;
}

static void wle(struct wbuf *w, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wbytes(w, b, (size_t)n);
}

static void wstr(struct wbuf *w, const char *s, size_t max)
{
	size_t l = strnlen(s, max - 1);

	wle(w, l, 1);
	wbytes(w, s, l);
}

int graph_save(const struct graph *g, const char *path)
{
	uint32_t *nmap = malloc(g->ncap * sizeof(*nmap)), *emap = malloc(g->ecap * sizeof(*emap));
	uint32_t nn = 0, ne = 0;
	struct wbuf w = { .h = FNV_BASIS };
	uint64_t dn = 0, de = 0;
	int err = 0;

	if (!nmap || !emap) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < g->ncap; i++)
		nmap[i] = g->n[i].type ? nn++ : GNONE;
	for (uint32_t i = 0; i < g->ecap; i++)
		emap[i] = g->e[i].type ? ne++ : GNONE;
	for (int i = 0; i < GN__MAX; i++)
		dn += g->st.dropped_nodes[i];
	for (int i = 0; i < GE__MAX; i++)
		de += g->st.dropped_edges[i];
	w.f = fopen(path, "wb");
	if (!w.f) {
		err = -errno;
		ebee_err("cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	wbytes(&w, magic, 8);
	wle(&w, GRAPH_FILE_VERSION, 4);
	wle(&w, g->st.lost > 0, 4);
	wle(&w, g->real_off ? g->real_off : ebee_ktime_to_real(0), 8);
	wle(&w, g->st.events, 8);
	wle(&w, g->st.lost, 8);
	wle(&w, dn, 8);
	wle(&w, de, 8);
	wle(&w, nn, 4);
	wle(&w, ne, 4);
	wle(&w, g->nalerts, 4);
#define REF(x) ((x) < g->ncap ? nmap[x] : GNONE)
	for (uint32_t i = 0; i < g->ncap; i++) {
		const struct gnode *n = &g->n[i];
		/* what other nodes than processes do not have is saved as it reads on them */
		static const struct gproc none = { .parent = GNONE, .lineage = GNONE };
		const struct gproc *p = graph_proc(g, i) ? graph_proc(g, i) : &none;

		if (!n->type)
			continue;
		wle(&w, n->type, 1);
		wle(&w, n->flags & GNF_SAVED, 2);
		wle(&w, p->pid, 4);
		wle(&w, n->aux, 4);
		wle(&w, p->uid, 4);
		wle(&w, REF(p->parent), 4);
		wle(&w, REF(p->lineage), 4);
		wle(&w, n->type == GN_FILE ? REF(n->writer) : GNONE, 4);
		wle(&w, p->start_ns, 8);
		wle(&w, n->first_ns, 8);
		wle(&w, n->last_ns, 8);
		wstr(&w, graph_label(g, i), GRAPH_LABEL_LEN);
		wstr(&w, graph_comm(g, i), GRAPH_COMM_LEN);
	}
	for (uint32_t i = 0; i < g->ecap; i++) {
		const struct gedge *e = &g->e[i];

		if (!e->type)
			continue;
		wle(&w, e->type, 1);
		wle(&w, nmap[e->src], 4);
		wle(&w, nmap[e->dst], 4);
		wle(&w, e->aux, 4);
		wle(&w, e->fails, 4);
		wle(&w, e->count, 8);
		wle(&w, e->first_ns, 8);
		wle(&w, e->last_ns, 8);
	}
	for (uint32_t i = 0; i < g->nalerts; i++) {
		const struct galert *a = &g->alerts[i];

		wle(&w, a->id, 4);
		wle(&w, a->rule, 1);
		wle(&w, a->incomplete, 1);
		wle(&w, a->time_ns, 8);
		uint32_t kn[GRAPH_ALERT_NODES], ke[GRAPH_ALERT_EDGES];
		int nk = 0, ek = 0;

		/* what still exists of its subgraph (pinned, so all of it but in a graph that
		 * was itself loaded from an older file) */
		for (int k = 0; k < a->nnodes; k++)
			if (REF(a->nodes[k]) != GNONE)
				kn[nk++] = REF(a->nodes[k]);
		for (int k = 0; k < a->nedges; k++)
			if (a->edges[k] < g->ecap && emap[a->edges[k]] != GNONE)
				ke[ek++] = emap[a->edges[k]];
		wle(&w, REF(a->proc), 4);
		wle(&w, (uint64_t)nk, 1);
		for (int k = 0; k < nk; k++)
			wle(&w, kn[k], 4);
		wle(&w, (uint64_t)ek, 1);
		for (int k = 0; k < ek; k++)
			wle(&w, ke[k], 4);
		wle(&w, strnlen(a->text, sizeof(a->text) - 1), 2);
		wbytes(&w, a->text, strnlen(a->text, sizeof(a->text) - 1));
	}
#undef REF
	{
		uint64_t h = w.h;

		wle(&w, h, 8);
	}
	if (fclose(w.f) || w.err) {
		err = -EIO;
		ebee_err("cannot write '%s': %s", path, strerror(errno ? errno : EIO));
	}
out:
	free(nmap);
	free(emap);
	return err;
}

/* ---- reading ---- */

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	bool bad;
	const char *what;          /* the first thing that did not parse */
};

static uint64_t rle(struct rbuf *r, int n, const char *what)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < (size_t)n) {
		if (!r->bad)
			r->what = what;
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += (size_t)n;
	return v;
}

static void rstr(struct rbuf *r, char *dst, size_t cap, const char *what)
{
	size_t l = (size_t)rle(r, 1, what);

	if (!r->bad && (l >= cap || r->len - r->off < l || memchr(r->p + r->off, 0, l))) {
		r->bad = true;
		r->what = what;
	}
	if (r->bad) {
		dst[0] = 0;
		return;
	}
	memcpy(dst, r->p + r->off, l);
	dst[l] = 0;
	r->off += l;
}

static void fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* A reference read from the file: an id below n, or GNONE. */
static bool ref_ok(uint32_t v, uint32_t n)
{
	return v == GNONE || v < n;
}

struct graph *graph_load_buf(const uint8_t *buf, size_t len, bool check_sum, char *err,
			     size_t errlen)
{
	struct rbuf r = { .p = buf, .len = len };
	struct graph *g = NULL;
	struct graph_limits lim;
	uint32_t nn, ne, na, ver;
	uint64_t real, events, lost;

	if (len < 8 + 4 + 8 || memcmp(buf, magic, 8)) {
		fail(err, errlen, "not an ebee graph (no EBEEGRPH header)");
		return NULL;
	}
	r.off = 8;
	ver = (uint32_t)rle(&r, 4, "version");
	if (ver != GRAPH_FILE_VERSION) {
		fail(err, errlen, "unsupported graph file version %u (this ebee reads %u)", ver,
		     GRAPH_FILE_VERSION);
		return NULL;
	}
	if (check_sum) {
		uint64_t want = 0;

		for (int i = 0; i < 8; i++)
			want |= (uint64_t)buf[len - 8 + i] << (8 * i);
		if (graph_hash(buf, len - 8, 0) != want) {
			fail(err, errlen, "corrupt or truncated graph (checksum mismatch)");
			return NULL;
		}
	}
	r.len = len - 8;   /* the checksum is not content */
	rle(&r, 4, "flags");
	real = rle(&r, 8, "header");
	events = rle(&r, 8, "header");
	lost = rle(&r, 8, "header");
	rle(&r, 8, "header");
	rle(&r, 8, "header");
	nn = (uint32_t)rle(&r, 4, "header");
	ne = (uint32_t)rle(&r, 4, "header");
	na = (uint32_t)rle(&r, 4, "header");
	/* a node takes at least 42 bytes, an edge 37: counts the file cannot hold are lies */
	if (r.bad || nn > (r.len - r.off) / 42 || ne > (r.len - r.off) / 37 || nn > (1u << 24) ||
	    ne > (1u << 26) || na > GRAPH_MAX_ALERTS) {
		fail(err, errlen, "corrupt graph: counts do not fit the file (%u nodes, %u edges, "
		     "%u alerts)", nn, ne, na);
		return NULL;
	}
	/* room for what the file holds, nothing more: a loaded graph does not grow (a text
	 * takes its bytes in the file and at most 16 more in the store) */
	lim.max_nodes = nn + 16;
	lim.max_edges = ne + 16;
	lim.max_text = (uint32_t)(r.len + 32ull * nn + 64);
	g = graph_new(&lim, NULL);
	if (!g) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	g->real_off = real;
	g->st.events = events;
	g->st.lost = lost;
	for (uint32_t i = 0; i < nn && !r.bad; i++) {
		struct gproc p = { 0 };
		uint8_t type;
		uint16_t flags;
		uint32_t aux, writer, id;
		uint64_t key, first, last;
		char label[GRAPH_LABEL_LEN], comm[GRAPH_COMM_LEN + 1];

		type = (uint8_t)rle(&r, 1, "node");
		flags = (uint16_t)rle(&r, 2, "node");
		p.pid = (uint32_t)rle(&r, 4, "node");
		aux = (uint32_t)rle(&r, 4, "node");
		p.uid = (uint32_t)rle(&r, 4, "node");
		p.parent = (uint32_t)rle(&r, 4, "node");
		p.lineage = (uint32_t)rle(&r, 4, "node");
		writer = (uint32_t)rle(&r, 4, "node");
		p.start_ns = rle(&r, 8, "node");
		first = rle(&r, 8, "node");
		last = rle(&r, 8, "node");
		rstr(&r, label, sizeof(label), "node label");
		rstr(&r, comm, GRAPH_COMM_LEN, "node comm");
		if (r.bad)
			break;
		if (!type || type >= GN__MAX || flags & ~GNF_SAVED || !ref_ok(p.parent, nn) ||
		    !ref_ok(p.lineage, nn) || !ref_ok(writer, nn)) {
			fail(err, errlen, "corrupt graph: node %u is invalid", i);
			goto bad;
		}
		key = graph_node_key(type, label, p.pid, p.start_ns);
		if (graph_node_find(g, key) != GNONE) {
			fail(err, errlen, "corrupt graph: node %u is a duplicate", i);
			goto bad;
		}
		id = graph_node_get(g, type, label, key, first);
		if (id != i) {
			fail(err, errlen, "corrupt graph: node %u cannot be stored", i);
			goto bad;
		}
		g->n[id].flags = flags;
		g->n[id].aux = aux;
		g->n[id].last_ns = last;
		if (type == GN_FILE)
			g->n[id].writer = writer;
		if (type == GN_PROC) {
			p.comm = gproc_of(g, id)->comm;
			*gproc_of(g, id) = p;
			graph_set_comm(g, id, comm);
		}
	}
	for (uint32_t i = 0; i < ne && !r.bad; i++) {
		uint8_t type = (uint8_t)rle(&r, 1, "edge");
		uint32_t src = (uint32_t)rle(&r, 4, "edge"), dst = (uint32_t)rle(&r, 4, "edge");
		uint32_t aux = (uint32_t)rle(&r, 4, "edge"), fails = (uint32_t)rle(&r, 4, "edge");
		uint64_t count = rle(&r, 8, "edge"), first = rle(&r, 8, "edge"), last = rle(&r, 8, "edge");
		uint32_t id;

		if (r.bad)
			break;
		if (!type || type >= GE__MAX || src >= nn || dst >= nn || !count || fails > count ||
		    first > last) {
			fail(err, errlen, "corrupt graph: edge %u is invalid", i);
			goto bad;
		}
		id = graph_edge_add(g, src, dst, type, aux, first, false);
		if (id != i) {
			fail(err, errlen, "corrupt graph: edge %u is a duplicate", i);
			goto bad;
		}
		g->e[id].count = count;
		g->e[id].fails = fails;
		g->e[id].last_ns = last;
	}
	for (uint32_t i = 0; i < na && !r.bad; i++) {
		struct galert a = { 0 };
		size_t tl;

		a.id = (uint32_t)rle(&r, 4, "alert");
		a.rule = (uint8_t)rle(&r, 1, "alert");
		a.incomplete = (uint8_t)rle(&r, 1, "alert");
		a.time_ns = rle(&r, 8, "alert");
		a.proc = (uint32_t)rle(&r, 4, "alert");
		a.nnodes = (uint16_t)rle(&r, 1, "alert");
		if (a.nnodes > GRAPH_ALERT_NODES) {
			fail(err, errlen, "corrupt graph: alert %u has %u nodes", i, a.nnodes);
			goto bad;
		}
		for (int k = 0; k < a.nnodes; k++)
			a.nodes[k] = (uint32_t)rle(&r, 4, "alert");
		a.nedges = (uint16_t)rle(&r, 1, "alert");
		if (a.nedges > GRAPH_ALERT_EDGES) {
			fail(err, errlen, "corrupt graph: alert %u has %u edges", i, a.nedges);
			goto bad;
		}
		for (int k = 0; k < a.nedges; k++)
			a.edges[k] = (uint32_t)rle(&r, 4, "alert");
		tl = (size_t)rle(&r, 2, "alert");
		if (r.bad)
			break;
		if (tl >= sizeof(a.text) || r.len - r.off < tl || memchr(r.p + r.off, 0, tl) ||
		    a.rule >= GR__MAX || a.incomplete > 1 || !a.id || !ref_ok(a.proc, nn) ||
		    graph_alert(g, a.id)) {
			fail(err, errlen, "corrupt graph: alert %u is invalid", i);
			goto bad;
		}
		for (int k = 0; k < a.nnodes; k++)
			if (a.nodes[k] >= nn)
				goto badref;
		for (int k = 0; k < a.nedges; k++)
			if (a.edges[k] >= ne)
				goto badref;
		memcpy(a.text, r.p + r.off, tl);
		r.off += tl;
		g->alerts[g->nalerts++] = a;
		if (a.id > g->next_alert)
			g->next_alert = a.id;
		continue;
badref:
		fail(err, errlen, "corrupt graph: alert %u refers to a missing node or edge", i);
		goto bad;
	}
	if (r.bad) {
		fail(err, errlen, "truncated graph (ends inside a %s)", r.what ? r.what : "record");
		goto bad;
	}
	if (r.off != r.len) {
		fail(err, errlen, "corrupt graph: %zu bytes after the last record", r.len - r.off);
		goto bad;
	}
	return g;
bad:
	graph_free(g);
	return NULL;
}

struct graph *graph_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf = NULL;
	struct graph *g = NULL;
	char err[256];

	if (!f) {
		ebee_err("cannot open graph '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE) {
		ebee_err("invalid graph '%s' (not a regular file of at most 1 GiB)", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		ebee_err("cannot read graph '%s': %s", path, strerror(errno ? errno : EIO));
		goto out;
	}
	g = graph_load_buf(buf, (size_t)st.st_size, true, err, sizeof(err));
	if (!g)
		ebee_err("invalid graph '%s': %s", path, err);
out:
	free(buf);
	fclose(f);
	return g;
}
