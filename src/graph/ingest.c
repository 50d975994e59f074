// SPDX-License-Identifier: BSD-2-Clause
/* From events to the graph, and the detections that read it. One call per event, no
 * allocation, every lookup a hash probe.
 *
 * Processes: a process node is made lazily, on the first event that needs it, so a fork
 * followed at once by an exec makes one node (the exec'd image, spawned by the forking
 * process) rather than two. A lineage is a process image that exec'd plus the children it
 * forked without exec (a bot and its scanner, killer and attack workers); every window
 * detection counts per lineage, on its head node. */
#include <linux/types.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ebee.h"
#include "core/event.h"
#include "events/events.h"
#include "graph/graph_int.h"
#include "proc/proc.h"

#define MAX_DEPTH 8

/* a proc node's process part; a node's text (valid until the next node is made) */
#define P(id) gproc_of(g, (id))
#define LAB(id) graph_str(g, g->n[(id)].label)

/* ---- pid map: open addressing by pid, backward-shift deletion ---- */

static uint32_t pid_hash(uint32_t pid, uint32_t mask)
{
	return (pid * 2654435761u) & mask;
}

static uint32_t pid_home(const struct graph *g, uint32_t pid)
{
	return pid_hash(pid, g->pmask);
}

static struct gpid *pid_find(struct graph *g, uint32_t pid)
{
	for (uint32_t i = pid_home(g, pid);; i = (i + 1) & g->pmask) {
		if (!g->pids[i].pid)
			return NULL;
		if (g->pids[i].pid == pid)
			return &g->pids[i];
	}
}

static bool pid_grow(struct graph *g)
{
	uint32_t n = (g->pmask + 1) * 2, m = n - 1;
	struct gpid *t = n <= GRAPH_PIDS ? calloc(n, sizeof(*t)) : NULL;

	if (!t)
		return false;
	for (uint32_t k = 0; k <= g->pmask; k++) {
		uint32_t i;

		if (!g->pids[k].pid)
			continue;
		for (i = pid_hash(g->pids[k].pid, m); t[i].pid; i = (i + 1) & m)
			;
		t[i] = g->pids[k];
	}
	free(g->pids);
	g->pids = t;
	g->pmask = m;
	return true;
}

static struct gpid *pid_add(struct graph *g, uint32_t pid)
{
	struct gpid *p = pid_find(g, pid);
	uint32_t i;

	if (p)
		return p;
	if (g->npids >= GRAPH_PIDS * 3 / 4) {
		g->st.pid_full++;
		return NULL;
	}
	/* the map starts small and doubles up to GRAPH_PIDS (hashed pids touch every page) */
	if (g->npids + 1 > (g->pmask + 1) / 4 * 3 && !pid_grow(g)) {
		g->st.pid_full++;
		return NULL;
	}
	for (i = pid_home(g, pid); g->pids[i].pid; i = (i + 1) & g->pmask)
		;
	g->pids[i] = (struct gpid){ .pid = pid, .node = GNONE, .tmpl = GNONE };
	g->npids++;
	return &g->pids[i];
}

static void pid_del(struct graph *g, uint32_t pid)
{
	const uint32_t m = g->pmask;
	uint32_t i = pid_home(g, pid), j;

	while (g->pids[i].pid && g->pids[i].pid != pid)
		i = (i + 1) & m;
	if (!g->pids[i].pid)
		return;
	for (j = (i + 1) & m; g->pids[j].pid; j = (j + 1) & m) {
		uint32_t home = pid_home(g, g->pids[j].pid);

		if (((j - home) & m) >= ((j - i) & m)) {
			g->pids[i] = g->pids[j];
			i = j;
		}
	}
	g->pids[i].pid = 0;
	g->npids--;
}

/* ---- process nodes ---- */

static bool is_proc(const struct graph *g, uint32_t id, uint32_t pid)
{
	return id < g->ncap && g->n[id].type == GN_PROC && (!pid || g->p[g->n[id].proc].pid == pid);
}

static uint32_t lineage_head(struct graph *g, uint32_t id)
{
	uint32_t h = P(id)->lineage;

	if (is_proc(g, h, 0) && g->n[h].flags & GNF_HEAD)
		return h;
	/* its head was aged out: it heads its own lineage from now on */
	g->n[id].flags |= GNF_HEAD;
	P(id)->lineage = id;
	P(id)->win_lost = g->st.lost;
	return id;
}

static void ctx_edges(struct graph *g, uint32_t id, const struct proc *p, uint64_t ts)
{
	char lab[GRAPH_LABEL_LEN];
	uint32_t u, uid = P(id)->uid;   /* read first: the user node may age id out */

	snprintf(lab, sizeof(lab), "%u", uid);
	u = graph_node_get(g, GN_USER, lab, graph_node_key(GN_USER, lab, 0, 0), ts);
	if (u != GNONE) {
		g->n[u].aux = uid;
		graph_edge_add(g, id, u, GE_RAN_AS, 0, ts, false);
	}
	if (p && p->container_id[0] && strcmp(p->container_id, "host")) {
		u = graph_node_get(g, GN_CONTAINER, p->container_id,
				   graph_node_key(GN_CONTAINER, p->container_id, 0, 0), ts);
		graph_edge_add(g, id, u, GE_IN_CONTAINER, 0, ts, false);
	}
}

static uint32_t new_proc(struct graph *g, const char *label, uint32_t pid, uint64_t start,
			 uint32_t parent, uint64_t ts)
{
	uint32_t id = graph_node_get(g, GN_PROC, label, graph_node_key(GN_PROC, label, pid, start),
				     ts);

	if (id == GNONE)
		return GNONE;
	P(id)->pid = pid;
	P(id)->start_ns = start;
	if (parent != GNONE && parent != id) {
		P(id)->parent = parent;
		graph_edge_add(g, parent, id, GE_SPAWNED, 0, ts, false);
	}
	return id;
}

/* The current image of pid, made now if it has none. h: the event being ingested (its comm
 * and start when it is pid's own). */
static uint32_t proc_node(struct graph *g, struct proctab *pt, uint32_t pid,
			  const struct ebee_event_hdr *h, int depth)
{
	struct gpid *e = pid_find(g, pid);
	const struct proc *p = NULL;
	uint32_t id, parent = GNONE;
	char lab[GRAPH_LABEL_LEN];
	uint64_t start = h && h->pid == pid ? h->start_ns : 0;
	uint64_t ts = h ? h->time_ns : 0;

	if (e && is_proc(g, e->node, pid))
		return e->node;
	if (e && is_proc(g, e->tmpl, 0)) {
		/* a fork child: the parent's program, the parent's lineage */
		/* copies: making the node may age the parent out and reuse its process part */
		const struct gproc t = *P(e->tmpl);
		char comm[GRAPH_COMM_LEN + 1];

		snprintf(comm, sizeof(comm), "%s", graph_str(g, t.comm));
		id = new_proc(g, LAB(e->tmpl), pid, e->start_ns, e->tmpl, ts);
		if (id == GNONE)
			return GNONE;
		P(id)->uid = t.uid;
		g->n[id].aux = t.pid;
		graph_set_comm(g, id, comm);
		P(id)->lineage = lineage_head(g, e->tmpl);
		g->n[id].flags |= g->n[e->tmpl].flags & GNF_NET;
		e->node = id;
		e->tmpl = GNONE;
		return id;
	}
	/* older than the graph (or its fork not seen): the process table knows it */
	if (pt && (p = proc_lookup(pt, pid))) {
		snprintf(lab, sizeof(lab), "%s", p->exe[0] ? p->exe : p->comm);
		start = p->start_ns;
		if (depth < MAX_DEPTH && p->ppid && p->ppid != pid)
			parent = proc_node(g, pt, p->ppid, NULL, depth + 1);
		/* the recursion may have evicted the table's entry: p must be read again */
		p = proc_lookup(pt, pid);
	} else if (h && h->pid == pid) {
		snprintf(lab, sizeof(lab), "%.*s", GRAPH_COMM_LEN, h->comm);
	} else {
		snprintf(lab, sizeof(lab), "pid %u", pid);
	}
	id = new_proc(g, lab, pid, start, parent, ts);
	if (id == GNONE)
		return GNONE;
	g->n[id].flags |= GNF_HEAD;
	P(id)->lineage = id;
	P(id)->win_lost = g->st.lost;
	if (p) {
		P(id)->uid = p->uid;
		g->n[id].aux = p->ppid;
		graph_set_comm(g, id, p->comm);
		ctx_edges(g, id, p, ts);
	} else if (h && h->pid == pid) {
		P(id)->uid = h->uid;
		graph_set_comm(g, id, h->comm);
	}
	if ((e = pid_add(g, pid))) {
		e->node = id;
		e->tmpl = GNONE;
		e->start_ns = start;
	}
	return id;
}

/* ---- other nodes ---- */

static uint32_t node_text(struct graph *g, int type, const char *text, uint64_t ts)
{
	char lab[GRAPH_LABEL_LEN];

	/* the key is the label's: a path longer than the label is known by its first bytes */
	snprintf(lab, sizeof(lab), "%s", text);
	return graph_node_get(g, type, lab, graph_node_key(type, lab, 0, 0), ts);
}

static uint32_t file_node(struct graph *g, const char *path, uint64_t ts)
{
	char agg[GRAPH_LABEL_LEN];
	const char *p = path;

	/* /proc/1234/cmdline becomes "/proc/PID-any/cmdline" (the label says /proc/ then a star): a /proc walk (ps, a bot's killer) is one
	 * node per file name, not one per process */
	if (!strncmp(path, "/proc/", 6) && path[6] >= '0' && path[6] <= '9') {
		p = path + 6;
		while (*p >= '0' && *p <= '9')
			p++;
		snprintf(agg, sizeof(agg), "/proc/*%s", p);
		p = agg;
	} else {
		p = path;
	}
	return node_text(g, GN_FILE, p, ts);
}

static void addr_text(const struct ev_sys *e, bool port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(e->family == AF_INET6 ? AF_INET6 : AF_INET, e->addr, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", a);
	else if (e->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
}

/* A path as the process meant it. The open's fd was resolved by the events collector into
 * the process table; other relative paths are joined to the table's cwd. */
static const char *ev_path(struct proctab *pt, const struct ev_sys *e, const char *path,
			   char *buf, size_t len)
{
	const char *cwd;

	if (path[0] == '/' || !pt)
		return path;
	if (e->hdr.type == EV_OPEN && e->ret >= 0) {
		const char *r = fd_lookup(pt, e->hdr.pid, (int)e->ret);

		if (r && r[0] == '/')
			return r;
	}
	cwd = e->dirfd == -100 ? proc_cwd(pt, e->hdr.pid) : fd_lookup(pt, e->hdr.pid, e->dirfd);
	if (!cwd || cwd[0] != '/')
		return path;
	snprintf(buf, len, "%s%s%s", cwd, cwd[1] ? "/" : "", path);
	return buf;
}

/* ---- detection windows ---- */

static void win_roll(struct graph *g, uint32_t head, uint64_t ts)
{
	struct gproc *h = P(head);

	if (h->win_start && ts - h->win_start < g->rules.window_ns)
		return;
	h->win_start = ts ? ts : 1;
	h->win_addrs = h->win_ports = h->win_kills = 0;
}

/* The count of key in head's current window after adding n. */
static uint32_t win_add(struct graph *g, uint32_t head, uint64_t what, uint64_t tag,
			uint64_t ts, uint32_t n)
{
	uint64_t kv[3] = { g->n[head].key, what, tag };
	uint64_t key = graph_hash(kv, sizeof(kv), 7), win = P(head)->win_start;
	struct gwin *victim = NULL;

	for (uint32_t k = 0; k < 8; k++) {
		struct gwin *w = &g->win[(key + k) & g->wmask];

		if (w->key == key && w->win == win)
			return w->count += n;
		if (!w->key || w->win + g->rules.window_ns < ts) {
			victim = w;
			break;
		}
		if (!victim || w->win < victim->win)
			victim = w;
	}
	if (victim->key && victim->win + g->rules.window_ns >= ts)
		g->st.win_approx++;   /* a live entry overwritten: a distinct count may be high */
	*victim = (struct gwin){ .key = key, .win = win, .count = n };
	return n;
}

/* ---- alerts ---- */

struct abuild {
	struct galert a;
};

static void ab_node(struct abuild *b, uint32_t id)
{
	if (id == GNONE)
		return;
	for (int i = 0; i < b->a.nnodes; i++)
		if (b->a.nodes[i] == id)
			return;
	if (b->a.nnodes < GRAPH_ALERT_NODES)
		b->a.nodes[b->a.nnodes++] = id;
}

static bool ab_has(const struct abuild *b, uint32_t node)
{
	for (int i = 0; i < b->a.nnodes; i++)
		if (b->a.nodes[i] == node)
			return true;
	return false;
}

static void ab_edge(struct graph *g, struct abuild *b, uint32_t id)
{
	int need;

	if (id == GNONE || !graph_edge(g, id))
		return;
	for (int i = 0; i < b->a.nedges; i++)
		if (b->a.edges[i] == id)
			return;
	/* an edge goes in with both its ends: pinned nodes keep a pinned edge alive */
	need = !ab_has(b, g->e[id].src) + !ab_has(b, g->e[id].dst);
	if (b->a.nedges < GRAPH_ALERT_EDGES && b->a.nnodes + need <= GRAPH_ALERT_NODES) {
		b->a.edges[b->a.nedges++] = id;
		ab_node(b, g->e[id].src);
		ab_node(b, g->e[id].dst);
	}
}

/* Out edges of a node of one type, most recent first (lists are LIFO), up to max. */
static void ab_out(struct graph *g, struct abuild *b, uint32_t node, int type, int max)
{
	for (uint32_t e = g->n[node].out; e != GNONE && max > 0; e = g->e[e].next_out)
		if (g->e[e].type == type) {
			ab_edge(g, b, e);
			max--;
		}
}

static void ab_fire(struct graph *g, struct abuild *b, int rule, uint32_t proc, uint32_t head,
		    uint64_t ts, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void ab_fire(struct graph *g, struct abuild *b, int rule, uint32_t proc, uint32_t head,
		    uint64_t ts, const char *fmt, ...)
{
	va_list ap;

	b->a.rule = (uint8_t)rule;
	b->a.time_ns = ts;
	b->a.proc = proc;
	b->a.incomplete = head != GNONE && g->st.lost > P(head)->win_lost;
	va_start(ap, fmt);
	vsnprintf(b->a.text, sizeof(b->a.text), fmt, ap);
	va_end(ap);
	graph_alert_fire(g, &b->a);
}

static bool fired(struct graph *g, uint32_t node, int rule)
{
	if (g->n[node].alerted & (1u << rule))
		return true;
	g->n[node].alerted |= (uint8_t)(1u << rule);
	return false;
}

static const char *const persist_prefixes[] = {
	"/etc/cron", "/var/spool/cron/", "/etc/anacrontab", "/etc/systemd/system/",
	"/lib/systemd/system/", "/usr/lib/systemd/system/", "/etc/init.d/", "/etc/rc.local",
	"/etc/rc", "/etc/profile.d/", "/etc/profile", "/etc/bash.bashrc", "/etc/ld.so.preload",
	"/etc/xdg/autostart/",
};
/* per-user files: anywhere below a home (or root's) */
static const char *const persist_suffixes[] = {
	"/.bashrc", "/.bash_profile", "/.profile", "/.zshrc", "/.config/systemd/user/",
	"/.config/autostart/", "/.ssh/authorized_keys",
};

static bool persistence_path(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(persist_prefixes); i++)
		if (!strncmp(p, persist_prefixes[i], strlen(persist_prefixes[i])))
			return true;
	if (strncmp(p, "/home/", 6) && strncmp(p, "/root/", 6))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(persist_suffixes); i++)
		if (strstr(p, persist_suffixes[i]))
			return true;
	return false;
}

static void check_persist(struct graph *g, uint32_t proc, uint32_t file, uint32_t edge,
			  uint64_t ts)
{
	struct abuild b = { 0 };

	if (!persistence_path(LAB(file)) || fired(g, file, GR_PERSIST))
		return;
	ab_edge(g, &b, edge);
	ab_fire(g, &b, GR_PERSIST, proc, lineage_head(g, proc), ts,
		"persistence file written (file=%s proc=%s pid=%u)", LAB(file), LAB(proc),
		P(proc)->pid);
}

static uint32_t in_edge(struct graph *g, uint32_t node, int type, uint32_t src)
{
	for (uint32_t e = g->n[node].in; e != GNONE; e = g->e[e].next_in)
		if (g->e[e].type == type && (src == GNONE || g->e[e].src == src))
			return e;
	return GNONE;
}

static void check_dropper(struct graph *g, uint32_t proc, uint32_t file, uint32_t exec_edge,
			  uint64_t ts)
{
	struct gnode *f = &g->n[file];
	uint32_t w = f->writer;
	struct abuild b = { 0 };

	if ((f->flags & (GNF_NETWRITE | GNF_XSET)) != (GNF_NETWRITE | GNF_XSET) ||
	    !is_proc(g, w, 0) || fired(g, file, GR_DROPPER))
		return;
	ab_node(&b, w);
	ab_node(&b, file);
	ab_node(&b, proc);
	ab_edge(g, &b, in_edge(g, file, GE_CREATED, w));
	ab_edge(g, &b, in_edge(g, file, GE_WROTE, w));
	ab_edge(g, &b, in_edge(g, file, GE_CHMOD_X, GNONE));
	ab_edge(g, &b, exec_edge);
	ab_out(g, &b, w, GE_CONNECTED, 4);
	ab_out(g, &b, w, GE_ACCEPTED, 2);
	ab_fire(g, &b, GR_DROPPER, proc, lineage_head(g, proc), ts,
		"file downloaded, made executable and executed (file=%s writer=%s writer_pid=%u "
		"proc=%s pid=%u)", LAB(file), LAB(w), P(w)->pid, LAB(proc), P(proc)->pid);
}

/* ---- per event type ---- */

static void on_exec(struct graph *g, struct proctab *pt, const struct ev_exec *x)
{
	const struct ebee_event_hdr *h = &x->hdr;
	struct gpid *e = pid_find(g, h->pid);
	const struct proc *p = pt ? proc_lookup(pt, h->pid) : NULL;
	uint32_t parent, id, f, ed;
	char lab[GRAPH_LABEL_LEN];

	if (x->ret)
		return;
	/* the collector fed the table first: its exe is the filename resolved */
	snprintf(lab, sizeof(lab), "%s", p && p->exe[0] ? p->exe : x->filename);
	if (e && is_proc(g, e->node, h->pid))
		parent = e->node;
	else if (e && is_proc(g, e->tmpl, 0))
		parent = e->tmpl;
	else
		parent = x->ppid ? proc_node(g, pt, x->ppid, NULL, 1) : GNONE;
	id = new_proc(g, lab, h->pid, h->start_ns, parent, h->time_ns);
	if (id == GNONE)
		return;
	g->n[id].flags |= GNF_HEAD;
	P(id)->lineage = id;
	P(id)->win_lost = g->st.lost;
	P(id)->uid = h->uid;
	g->n[id].aux = x->ppid;
	graph_set_comm(g, id, h->comm);
	ctx_edges(g, id, p, h->time_ns);
	if ((e = pid_add(g, h->pid))) {
		e->node = id;
		e->tmpl = GNONE;
		e->start_ns = h->start_ns;
	}
	f = file_node(g, lab, h->time_ns);
	if (f == GNONE)
		return;
	g->n[f].flags |= GNF_EXEC;
	ed = graph_edge_add(g, id, f, GE_EXECUTED, 0, h->time_ns, false);
	check_dropper(g, id, f, ed, h->time_ns);
}

static void on_fork(struct graph *g, struct proctab *pt, const struct ev_task *t)
{
	struct gpid *c;
	uint32_t parent;

	if (t->child == t->ppid)
		return;
	parent = proc_node(g, pt, t->ppid, &t->hdr, 0);
	c = pid_add(g, t->child);
	if (!c)
		return;
	c->node = GNONE;
	c->tmpl = parent;
	c->start_ns = t->child_start_ns;
}

static void on_exit_(struct graph *g, const struct ev_task *t)
{
	struct gpid *e = pid_find(g, t->hdr.pid);

	if (!e)
		return;
	if (is_proc(g, e->node, t->hdr.pid))
		g->n[e->node].flags |= GNF_EXITED;
	pid_del(g, t->hdr.pid);
}

static void on_file(struct graph *g, struct proctab *pt, const struct ev_sys *e, uint32_t proc)
{
	char buf[PROC_CWD_LEN + EV_PATH_LEN + 2];
	const char *path;
	uint32_t f, ed, pnode = proc;
	int type;
	uint64_t ts = e->hdr.time_ns;

	if (e->ret < 0)
		return;
	switch (e->hdr.type) {
	case EV_OPEN: {
		uint64_t fl = e->a[0];

		if (fl & (O_DIRECTORY | O_PATH))
			return;
		type = fl & O_CREAT ? GE_CREATED : (fl & O_ACCMODE) != O_RDONLY || fl & O_TRUNC ?
		       GE_WROTE : GE_READ;
		break;
	}
	case EV_UNLINK: type = GE_DELETED; break;
	case EV_CHMOD:
		if (!(e->a[0] & 0111))
			return;   /* only +x is part of the model */
		type = GE_CHMOD_X;
		break;
	case EV_RENAME: case EV_LINK: case EV_SYMLINK: case EV_MKDIR: type = GE_CREATED; break;
	default: return;
	}
	if (e->hdr.type == EV_CHMOD && e->sc == SC_FCHMOD)
		path = pt ? fd_lookup(pt, e->hdr.pid, (int)e->a[3]) : NULL;
	else
		path = ev_path(pt, e, e->path, buf, sizeof(buf));
	if (!path || !path[0])
		return;
	f = file_node(g, path, ts);
	if (f == GNONE)
		return;
	ed = graph_edge_add(g, pnode, f, type, 0, ts, false);
	switch (type) {
	case GE_CREATED:
	case GE_WROTE:
		if (e->hdr.type == EV_RENAME) {
			/* the new name carries what the old one was (a download renamed into place) */
			char b2[PROC_CWD_LEN + EV_PATH_LEN + 2];
			const char *src = ev_path(pt, e, e->path2, b2, sizeof(b2));
			uint32_t s = src[0] ? file_node(g, src, ts) : GNONE;

			if (s != GNONE && s != f) {
				graph_edge_add(g, pnode, s, GE_DELETED, 0, ts, false);
				g->n[f].flags |= g->n[s].flags & (GNF_NETWRITE | GNF_XSET);
				g->n[f].writer = g->n[s].writer;
				g->n[s].flags |= GNF_DELETED;
			}
		} else if (e->hdr.type == EV_OPEN) {
			bool net = (g->n[pnode].flags | g->n[lineage_head(g, pnode)].flags) & GNF_NET;

			g->n[f].flags = (g->n[f].flags & ~GNF_NETWRITE) | (net ? GNF_NETWRITE : 0);
			g->n[f].writer = pnode;
			if (e->a[0] & O_CREAT && e->a[1] & 0111)
				g->n[f].flags |= GNF_XSET;
		}
		g->n[f].flags &= ~GNF_DELETED;
		check_persist(g, pnode, f, ed, ts);
		break;
	case GE_CHMOD_X:
		g->n[f].flags |= GNF_XSET;
		break;
	case GE_DELETED: {
		/* a process removing the program it (or an ancestor) runs */
		uint32_t img = pnode;
		struct abuild b = { 0 };

		g->n[f].flags |= GNF_DELETED;
		for (int d = 0; d < MAX_DEPTH && is_proc(g, img, 0); d++, img = P(img)->parent)
			if (!strcmp(LAB(img), LAB(f)))
				break;
		if (!is_proc(g, img, 0) || strcmp(LAB(img), LAB(f)) ||
		    fired(g, f, GR_SELFDEL))
			break;
		ab_node(&b, pnode);
		ab_edge(g, &b, in_edge(g, f, GE_EXECUTED, img));
		ab_edge(g, &b, ed);
		ab_fire(g, &b, GR_SELFDEL, pnode, lineage_head(g, pnode), ts,
			"running program deleted its own executable (file=%s proc=%s pid=%u)",
			LAB(f), LAB(pnode), P(pnode)->pid);
		break;
	}
	}
}

/* Scan and flood windows of a lineage: one more attempt (a connect, or pkts datagrams sent)
 * from proc to the endpoint r (its edge ed; lab its text). */
static void net_attempt(struct graph *g, const struct ev_sys *e, uint32_t proc, uint32_t r,
			uint32_t ed, int type, uint32_t pkts, const char *lab)
{
	uint64_t ts = e->hdr.time_ns, a[2];
	uint32_t head = lineage_head(g, proc);
	struct gproc *h;

	g->n[proc].flags |= GNF_NET;
	g->n[head].flags |= GNF_NET;
	win_roll(g, head, ts);
	h = P(head);
	memcpy(a, e->addr, sizeof(a));
	if (win_add(g, head, a[0] ^ (a[1] * 31), 'a', ts, 1) == 1)
		h->win_addrs++;
	if (win_add(g, head, e->port, 'p', ts, 1) == 1)
		h->win_ports++;
	if ((h->win_addrs >= g->rules.scan_addrs || h->win_ports >= g->rules.scan_ports) &&
	    !fired(g, head, GR_SCAN)) {
		struct abuild b = { 0 };

		ab_node(&b, head);
		ab_node(&b, proc);
		ab_out(g, &b, proc, type, GRAPH_ALERT_EDGES);
		ab_fire(g, &b, GR_SCAN, proc, head, ts,
			"lineage connected to %u addresses and %u ports in %llus (proc=%s pid=%u "
			"last=%s)", h->win_addrs, h->win_ports,
			(unsigned long long)(g->rules.window_ns / 1000000000ull), LAB(proc),
			P(proc)->pid, lab);
	}
	if (win_add(g, head, g->n[r].key, 'f', ts, pkts) >= g->rules.flood &&
	    !fired(g, head, GR_FLOOD)) {
		struct abuild b = { 0 };

		ab_node(&b, head);
		ab_edge(g, &b, ed);
		ab_fire(g, &b, GR_FLOOD, proc, head, ts,
			"lineage sent %u connections/packets to one endpoint in %llus (proc=%s pid=%u "
			"target=%s)", g->rules.flood,
			(unsigned long long)(g->rules.window_ns / 1000000000ull), LAB(proc),
			P(proc)->pid, lab);
	}
}

/* connect, accept, and datagrams sent (sendto/sendmsg: the destination, or the connected
 * peer). A stream's sends are its connection's bytes, not packets: they add nothing. */
static void on_net(struct graph *g, const struct ev_sys *e, uint32_t proc)
{
	bool accept = e->hdr.type == EV_ACCEPT, send = e->hdr.type == EV_SENDTO;
	/* non-blocking connects report EINPROGRESS: an attempt like any other */
	bool failed = e->ret < 0 && e->ret != -115;
	int type = accept ? GE_ACCEPTED : send ? GE_SENT : GE_CONNECTED;
	char lab[64];
	uint32_t r, ed, pkts;

	if (e->family != AF_INET && e->family != AF_INET6)
		return;
	if ((accept && e->ret < 0) || (send && (e->a[2] & 0xf) == SOCK_STREAM))
		return;
	/* an accepted peer is known by its address: its port is ephemeral */
	addr_text(e, !accept, lab, sizeof(lab));
	r = node_text(g, GN_REMOTE, lab, e->hdr.time_ns);
	if (r == GNONE)
		return;
	g->n[r].aux = accept ? 0 : e->port;
	/* sendmmsg: the messages sent, each a packet */
	pkts = e->sc == SC_SENDMMSG && e->ret > 1 ? (uint32_t)e->ret : 1;
	ed = graph_edge_add(g, proc, r, type, 0, e->hdr.time_ns, failed);
	if (ed != GNONE)
		g->e[ed].count += pkts - 1;
	if (accept) {
		g->n[proc].flags |= GNF_NET;
		g->n[lineage_head(g, proc)].flags |= GNF_NET;
		return;
	}
	net_attempt(g, e, proc, r, ed, type, pkts, lab);
}

static bool descends(const struct graph *g, uint32_t node, uint32_t anc, uint32_t anc_head)
{
	for (int d = 0; d < 16 && is_proc(g, node, 0); d++, node = g->p[g->n[node].proc].parent)
		if (node == anc || node == anc_head || g->p[g->n[node].proc].lineage == anc_head)
			return true;
	return false;
}

static void on_kill(struct graph *g, struct proctab *pt, const struct ev_sys *e, uint32_t proc)
{
	uint64_t sig = e->sc == SC_TGKILL ? e->a[2] : e->a[1];
	int32_t target = (int32_t)e->a[0];
	uint32_t v, head;
	struct gproc *h;

	/* signal 0 probes; process groups and -1 are not one victim */
	if (!sig || target <= 0 || (uint32_t)target == e->hdr.pid)
		return;
	v = proc_node(g, pt, (uint32_t)target, NULL, 1);
	if (v == GNONE)
		return;
	graph_edge_add(g, proc, v, GE_SIGNALLED, (uint32_t)sig, e->hdr.time_ns, e->ret < 0);
	head = lineage_head(g, proc);
	if (descends(g, v, proc, head))
		return;   /* a shell or supervisor signalling its own children */
	win_roll(g, head, e->hdr.time_ns);
	h = P(head);
	if (win_add(g, head, (uint32_t)target, 'k', e->hdr.time_ns, 1) == 1)
		h->win_kills++;
	if (h->win_kills >= g->rules.kills && !fired(g, head, GR_KILL)) {
		struct abuild b = { 0 };
		char names[160] = "";
		size_t used = 0;

		ab_node(&b, head);
		ab_node(&b, proc);
		ab_out(g, &b, proc, GE_SIGNALLED, GRAPH_ALERT_EDGES);
		for (int i = 0; i < b.a.nedges && used < sizeof(names); i++) {
			uint32_t t = g->e[b.a.edges[i]].dst;
			const char *comm = graph_comm(g, t);
			const struct gproc *tp = graph_proc(g, t);

			used += snprintf(names + used, sizeof(names) - used, "%s%s(%u)", i ? "," : "",
					 comm[0] ? comm : LAB(t), tp ? tp->pid : 0);
		}
		ab_fire(g, &b, GR_KILL, proc, head, e->hdr.time_ns,
			"lineage killed %u processes that are not its own (proc=%s pid=%u "
			"victims=%s)", h->win_kills, LAB(proc), P(proc)->pid, names);
	}
}

static void on_listen(struct graph *g, struct proctab *pt, const struct ev_sys *e,
		      uint32_t proc)
{
	int fd = (int)e->a[0];
	struct gbind *b = &g->binds[((uint32_t)e->hdr.pid * 31u + (uint32_t)fd) % GRAPH_BINDS];
	char lab[64];
	uint32_t n;

	if (e->ret < 0)
		return;
	if (b->pid == e->hdr.pid && b->fd == fd) {
		struct ev_sys tmp = { .family = b->family, .port = b->port };

		memcpy(tmp.addr, b->addr, sizeof(tmp.addr));
		addr_text(&tmp, true, lab, sizeof(lab));
	} else {
		const char *t = pt ? fd_lookup(pt, e->hdr.pid, fd) : NULL;

		snprintf(lab, sizeof(lab), "%s", t ? t : "unknown");
	}
	n = node_text(g, GN_PORT, lab, e->hdr.time_ns);
	if (n == GNONE)
		return;
	if (b->pid == e->hdr.pid && b->fd == fd)
		g->n[n].aux = b->port;
	graph_edge_add(g, proc, n, GE_LISTENED, 0, e->hdr.time_ns, false);
}

static void on_bind(struct graph *g, const struct ev_sys *e)
{
	int fd = (int)e->a[3];
	struct gbind *b = &g->binds[((uint32_t)e->hdr.pid * 31u + (uint32_t)fd) % GRAPH_BINDS];

	if (e->ret < 0 || (e->family != AF_INET && e->family != AF_INET6))
		return;
	*b = (struct gbind){ .pid = e->hdr.pid, .fd = fd, .port = e->port, .family = e->family };
	memcpy(b->addr, e->addr, sizeof(b->addr));
}

void graph_ingest(struct graph *g, const struct ebee_event_hdr *h, struct proctab *pt)
{
	const struct ev_sys *e = (const void *)h;
	uint32_t proc;

	g->st.events++;
	switch (h->type) {
	case EV_EXEC:
		if (h->size >= sizeof(struct ev_exec))
			on_exec(g, pt, (const void *)h);
		return;
	case EV_FORK:
		if (h->size >= sizeof(struct ev_task))
			on_fork(g, pt, (const void *)h);
		return;
	case EV_EXIT:
		if (h->size >= sizeof(struct ev_task))
			on_exit_(g, (const void *)h);
		return;
	case EV_OPEN: case EV_UNLINK: case EV_CHMOD: case EV_RENAME: case EV_LINK:
	case EV_SYMLINK: case EV_MKDIR: case EV_CONNECT: case EV_ACCEPT: case EV_SENDTO: case EV_BIND:
	case EV_LISTEN: case EV_KILL: case EV_PTRACE: case EV_MODULE:
		break;
	default:
		g->st.ignored++;
		return;
	}
	if (h->size < EV_SYS_SIZE1 ||
	    ((h->type == EV_RENAME || h->type == EV_LINK || h->type == EV_SYMLINK) &&
	     h->size < EV_SYS_SIZE2)) {
		g->st.ignored++;
		return;
	}
	if (h->type == EV_BIND) {
		on_bind(g, e);
		return;
	}
	proc = proc_node(g, pt, h->pid, h, 0);
	if (proc == GNONE)
		return;
	switch (h->type) {
	case EV_CONNECT: case EV_ACCEPT: case EV_SENDTO: on_net(g, e, proc); break;
	case EV_LISTEN: on_listen(g, pt, e, proc); break;
	case EV_KILL: on_kill(g, pt, e, proc); break;
	case EV_PTRACE:
		if (e->a[0] && (int32_t)e->a[1] > 0) {   /* not PTRACE_TRACEME */
			uint32_t t = proc_node(g, pt, (uint32_t)e->a[1], NULL, 1);

			graph_edge_add(g, proc, t, GE_PTRACED, 0, h->time_ns, e->ret < 0);
		}
		break;
	case EV_MODULE: {
		const char *p = e->sc == SC_FINIT_MODULE && pt ?
				fd_lookup(pt, h->pid, (int)e->a[3]) : NULL;
		uint32_t f = file_node(g, p ? p : "init_module (image in memory)", h->time_ns);

		graph_edge_add(g, proc, f, GE_MODULE, 0, h->time_ns, e->ret < 0);
		break;
	}
	default:
		on_file(g, pt, e, proc);
	}
}
