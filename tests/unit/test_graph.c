// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the behaviour graph: synthetic event streams (no process table: the replay
 * path), the store's bound and its aging, every detection and what must not fire it, the
 * index under random insertions and deletions, save/load round trips and corrupt files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <cmocka.h>

#include "core/ebee.h"
#include "events/events.h"
#include "core/collector.h"
#include "core/json.h"
#include "core/out.h"
#include "graph/collect.h"
#include "graph/graph.h"
#include "graph/graph_int.h"

#define SEC 1000000000ull

static uint64_t now = 1000 * SEC;

static void hdr(struct ebee_event_hdr *h, int type, uint32_t pid, uint16_t size, const char *comm)
{
	memset(h, 0, sizeof(*h));
	h->type = (uint16_t)type;
	h->pid = h->tid = pid;
	h->size = size;
	h->time_ns = (now += 1000);
	h->start_ns = pid * 1000ull * SEC;   /* a distinct start per pid */
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
}

static void fork_(struct graph *g, uint32_t parent, uint32_t child)
{
	struct ev_task t;

	hdr(&t.hdr, EV_FORK, parent, sizeof(t), "x");
	t.ppid = parent;
	t.child = child;
	t.child_start_ns = child * 1000ull * SEC;
	graph_ingest(g, &t.hdr, NULL);
}

static void exec_(struct graph *g, uint32_t pid, uint32_t ppid, const char *file)
{
	static struct ev_exec x;

	memset(&x, 0, sizeof(x));
	hdr(&x.hdr, EV_EXEC, pid, sizeof(x), strrchr(file, '/') + 1);
	x.ppid = ppid;
	snprintf(x.filename, sizeof(x.filename), "%s", file);
	graph_ingest(g, &x.hdr, NULL);
}

static void sys_(struct graph *g, int type, uint32_t pid, int64_t ret, const char *path,
		 uint64_t a0, uint64_t a1, uint64_t a2)
{
	static struct ev_sys e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, type, pid, type == EV_RENAME ? EV_SYS_SIZE2 : EV_SYS_SIZE1, "x");
	e.ret = ret;
	e.a[0] = a0;
	e.a[1] = a1;
	e.a[2] = a2;
	e.dirfd = -100;
	if (path)
		snprintf(e.path, sizeof(e.path), "%s", path);
	graph_ingest(g, &e.hdr, NULL);
}

static void connect_(struct graph *g, uint32_t pid, const char *addr, uint16_t port)
{
	static struct ev_sys e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, EV_CONNECT, pid, EV_SYS_SIZE1, "x");
	e.ret = -111;   /* refused: an attempt still */
	e.family = AF_INET;
	e.port = port;
	inet_pton(AF_INET, addr, e.addr);
	graph_ingest(g, &e.hdr, NULL);
}

/* A sendto record (n > 1: a sendmmsg that sent n messages): stype is the socket's type as
 * the kernel side reads it. */
static void send_(struct graph *g, uint32_t pid, const char *addr, uint16_t port, int stype,
		  int n)
{
	static struct ev_sys e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, EV_SENDTO, pid, EV_SYS_SIZE1, "x");
	e.ret = n > 1 ? n : 64;
	e.sc = n > 1 ? SC_SENDMMSG : SC_SENDTO;
	e.family = AF_INET;
	e.port = port;
	e.a[2] = (uint64_t)stype;
	inet_pton(AF_INET, addr, e.addr);
	graph_ingest(g, &e.hdr, NULL);
}

static void kill_(struct graph *g, uint32_t pid, uint32_t target, int sig)
{
	static struct ev_sys e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, EV_KILL, pid, EV_SYS_SIZE1, "x");
	e.a[0] = target;
	e.a[1] = (uint64_t)sig;
	graph_ingest(g, &e.hdr, NULL);
}

struct fired {
	int n[GR__MAX];
	uint32_t last_pid;
};

static void on_alert(void *arg, const struct graph *g, const struct galert *a)
{
	struct fired *f = arg;

	f->n[a->rule]++;
	f->last_pid = graph_proc(g, a->proc) ? graph_proc(g, a->proc)->pid : 0;
}

static struct graph *mk(struct fired *f, uint32_t nodes, uint32_t edges)
{
	struct graph_limits lim = { nodes, edges };
	struct graph *g = graph_new(&lim, NULL);

	assert_non_null(g);
	memset(f, 0, sizeof(*f));
	graph_on_alert(g, on_alert, f);
	return g;
}

/* The infection's stages, in the order the bot does them. */
static void test_mirai_stages(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0);
	char a[32];

	exec_(g, 100, 1, "/bin/sh");
	fork_(g, 100, 101);
	exec_(g, 101, 100, "/usr/bin/wget");
	connect_(g, 101, "10.0.0.1", 80);
	sys_(g, EV_OPEN, 101, 3, "/tmp/dl.part", O_WRONLY | O_CREAT | O_TRUNC, 0644, 0);
	sys_(g, EV_RENAME, 101, 0, "/tmp/bot", 0, 0, 0);   /* path2 empty: no source known */
	/* rename from the partial name carries the download's marks */
	{
		static struct ev_sys e;

		memset(&e, 0, sizeof(e));
		hdr(&e.hdr, EV_RENAME, 101, EV_SYS_SIZE2, "wget");
		e.dirfd = -100;
		strcpy(e.path, "/tmp/bot");
		strcpy(e.path2, "/tmp/dl.part");
		graph_ingest(g, &e.hdr, NULL);
	}
	assert_int_equal(f.n[GR_DROPPER], 0);
	sys_(g, EV_CHMOD, 100, 0, "/tmp/bot", 0755, 0, 0);
	fork_(g, 100, 102);
	exec_(g, 102, 100, "/tmp/bot");
	assert_int_equal(f.n[GR_DROPPER], 1);
	assert_int_equal(f.last_pid, 102);
	sys_(g, EV_UNLINK, 102, 0, "/tmp/bot", 0, 0, 0);
	assert_int_equal(f.n[GR_SELFDEL], 1);
	/* its own forked child is no victim; two strangers are */
	fork_(g, 102, 103);
	kill_(g, 102, 103, SIGKILL);
	assert_int_equal(f.n[GR_KILL], 0);
	kill_(g, 102, 7001, SIGKILL);
	kill_(g, 102, 7001, 0);        /* a probe */
	assert_int_equal(f.n[GR_KILL], 0);
	kill_(g, 102, 7002, SIGKILL);
	assert_int_equal(f.n[GR_KILL], 1);
	/* a scanner child (fork, no exec) counts for the bot's lineage */
	fork_(g, 102, 104);
	for (int i = 0; i < 99; i++) {
		snprintf(a, sizeof(a), "10.9.%d.%d", i / 200, i % 200 + 1);
		connect_(g, 104, a, 23);
	}
	assert_int_equal(f.n[GR_SCAN], 0);
	connect_(g, 102, "10.9.9.9", 23);
	assert_int_equal(f.n[GR_SCAN], 1);
	for (int i = 0; i < 999; i++)
		connect_(g, 104, "10.1.1.1", 9999);
	assert_int_equal(f.n[GR_FLOOD], 0);
	connect_(g, 104, "10.1.1.1", 9999);
	assert_int_equal(f.n[GR_FLOOD], 1);
	assert_int_equal(f.last_pid, 104);
	/* each once per lineage */
	connect_(g, 104, "10.9.9.10", 23);
	kill_(g, 102, 7003, SIGKILL);
	assert_int_equal(f.n[GR_SCAN] + f.n[GR_KILL], 2);
	assert_int_equal(graph_nalerts(g), 5);
	graph_free(g);
}

/* Datagrams count as packets for the flood and the scan (Mirai's SYN scanner sends raw
 * packets to random addresses); a stream's sends are its connection's bytes and count not. */
static void test_datagram_flood(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0);
	const struct gedge *ed;
	char a[32];

	exec_(g, 900, 1, "/tmp/bot");
	fork_(g, 900, 901);
	for (int i = 0; i < 5000; i++)
		send_(g, 901, "10.1.1.2", 443, SOCK_STREAM, 1);   /* an upload: not a flood */
	assert_int_equal(f.n[GR_FLOOD], 0);
	assert_int_equal(graph_node_ref(g, "remote:10.1.1.2:443"), GNONE);
	for (int i = 0; i < 999; i++)
		send_(g, 901, "10.1.1.1", 9999, SOCK_DGRAM, 1);
	assert_int_equal(f.n[GR_FLOOD], 0);
	send_(g, 901, "10.1.1.1", 9999, SOCK_DGRAM, 1);
	assert_int_equal(f.n[GR_FLOOD], 1);
	assert_int_equal(f.last_pid, 901);
	/* one edge, the packets counted on it, named by the alert */
	ed = graph_edge(g, graph_alert_at(g, 0)->edges[0]);
	assert_non_null(ed);
	assert_string_equal(graph_edge_type_name(ed->type), "sent");
	assert_int_equal(ed->count, 1000);
	assert_int_equal(graph_node(g, ed->dst)->aux, 9999);
	for (int i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "10.8.%d.%d", i / 200, i % 200 + 1);
		send_(g, 900, a, 23, SOCK_RAW, 1);
	}
	assert_int_equal(f.n[GR_SCAN], 1);
	graph_free(g);
	/* sendmmsg: each message sent is a packet */
	g = mk(&f, 0, 0);
	exec_(g, 910, 1, "/tmp/bot");
	send_(g, 910, "10.1.1.3", 53, SOCK_DGRAM, 600);
	assert_int_equal(f.n[GR_FLOOD], 0);
	send_(g, 910, "10.1.1.3", 53, SOCK_DGRAM, 400);
	assert_int_equal(f.n[GR_FLOOD], 1);
	assert_int_equal(graph_edge(g, graph_alert_at(g, 0)->edges[0])->count, 1000);
	graph_free(g);
}

static void test_benign_quiet(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0);

	/* a compiler: writes and executes a binary without any network */
	exec_(g, 200, 1, "/usr/bin/gcc");
	sys_(g, EV_OPEN, 200, 3, "/tmp/a.out", O_WRONLY | O_CREAT | O_TRUNC, 0777, 0);
	sys_(g, EV_CHMOD, 200, 0, "/tmp/a.out", 0755, 0, 0);
	exec_(g, 201, 1, "/tmp/a.out");
	/* a download that is never executed */
	exec_(g, 202, 1, "/usr/bin/curl");
	connect_(g, 202, "127.0.0.1", 8000);
	sys_(g, EV_OPEN, 202, 3, "/tmp/pkg.tar", O_WRONLY | O_CREAT, 0644, 0);
	/* many clients of one server, a shell killing its children, a non-x chmod */
	exec_(g, 203, 1, "/usr/bin/python3");
	for (int i = 0; i < 300; i++)
		connect_(g, 203, "127.0.0.1", 8080);
	exec_(g, 204, 1, "/bin/bash");
	for (uint32_t c = 205; c < 215; c++) {
		fork_(g, 204, c);
		kill_(g, 204, c, SIGTERM);
	}
	sys_(g, EV_CHMOD, 202, 0, "/tmp/pkg.tar", 0644, 0, 0);
	for (int r = 0; r < GR__MAX; r++)
		assert_int_equal(f.n[r], 0);
	/* the edges are there all the same */
	assert_true(graph_nedges(g) > 10);
	graph_free(g);
}

static void test_persistence(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0);

	exec_(g, 300, 1, "/bin/sh");
	sys_(g, EV_OPEN, 300, 3, "/etc/passwd", O_RDONLY, 0, 0);
	sys_(g, EV_OPEN, 300, 3, "/home/u/notes.txt", O_WRONLY, 0, 0);
	assert_int_equal(f.n[GR_PERSIST], 0);
	sys_(g, EV_OPEN, 300, 3, "/etc/cron.d/job", O_WRONLY | O_CREAT, 0644, 0);
	sys_(g, EV_OPEN, 300, 3, "/home/u/.bashrc", O_WRONLY | O_APPEND, 0, 0);
	sys_(g, EV_OPEN, 300, 3, "/etc/cron.d/job", O_WRONLY, 0, 0);   /* same file: once */
	sys_(g, EV_OPEN, 300, -13, "/etc/systemd/system/x.service", O_WRONLY | O_CREAT, 0, 0);
	assert_int_equal(f.n[GR_PERSIST], 2);
	graph_free(g);
}

/* The bound: a stream of distinct files through a small graph stays inside it, counts what
 * it dropped, and never drops what an alert refers to. */
static void test_bound_and_pins(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 64, 128);
	const struct graph_stats *st = graph_stats(g);
	const struct galert *a;
	uint64_t dn = 0, de = 0;
	char p[64];

	exec_(g, 400, 1, "/bin/sh");
	sys_(g, EV_OPEN, 400, 3, "/etc/rc.local", O_WRONLY, 0, 0);
	assert_int_equal(f.n[GR_PERSIST], 1);
	for (int i = 0; i < 5000; i++) {
		snprintf(p, sizeof(p), "/var/tmp/f%d", i);
		sys_(g, EV_OPEN, 400, 3, p, O_RDONLY, 0, 0);
		assert_true(graph_nnodes(g) <= 64);
		assert_true(graph_nedges(g) <= 128);
	}
	for (int i = 0; i < GN__MAX; i++)
		dn += st->dropped_nodes[i];
	for (int i = 0; i < GE__MAX; i++)
		de += st->dropped_edges[i];
	assert_true(dn >= 5000 - 64);
	assert_int_equal(st->dropped_nodes[GN_PROC], 0);   /* leaves went, the processes stayed */
	assert_true(de >= 5000 - 128);
	a = graph_alert_at(g, 0);
	assert_non_null(a);
	for (int i = 0; i < a->nnodes; i++)
		assert_non_null(graph_node(g, a->nodes[i]));
	for (int i = 0; i < a->nedges; i++)
		assert_non_null(graph_edge(g, a->edges[i]));
	assert_true(graph_node_ref(g, "file:/etc/rc.local") != GNONE);
	assert_true(graph_node_ref(g, "proc:400") != GNONE);
	assert_true(graph_mem_bytes(g) < 4u << 20);
	graph_free(g);
}

/* The indexes under churn: every live node is found by its key, every freed one is not. */
static void test_index_churn(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 256, 256);
	char p[64];

	srand(7);
	exec_(g, 500, 1, "/bin/sh");
	for (int i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "/d/%d", rand() % 1000);
		sys_(g, EV_OPEN, 500, 3, p, rand() % 2 ? O_RDONLY : O_WRONLY, 0, 0);
	}
	for (int i = 0; i < 1000; i++) {
		uint32_t id;

		snprintf(p, sizeof(p), "file:/d/%d", i);
		id = graph_node_ref(g, p);
		if (id != GNONE)
			assert_string_equal(graph_label(g, id), p + 5);
	}
	for (uint32_t i = 0; i < graph_nnodes_cap(g); i++) {
		const struct gnode *n = graph_node(g, i);

		if (n)
			assert_int_equal(graph_node_find(g, n->key), i);
	}
	graph_free(g);
}

/* The indexes start small and double as the tables fill, up to the bound's size (what
 * graph_mem_bytes counts from the start); past the bound the full tables age entries out and
 * every live node and edge is still found by its key. */
static void test_index_growth(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 4096, 8192);
	size_t bound = graph_mem_bytes(g);
	char p[64];

	exec_(g, 600, 1, "/bin/sh");
	for (int i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "/g/%d", i);
		sys_(g, EV_OPEN, 600, 3, p, O_RDONLY, 0, 0);
		if (i == 1000) {   /* past the first doublings, before the bound */
			assert_true(graph_nnodes(g) > 1000);
			assert_true(graph_node_ref(g, "file:/g/17") != GNONE);
		}
		assert_true(graph_nnodes(g) <= 4096);
	}
	assert_int_equal(graph_nnodes(g), 4096);
	assert_true(graph_node_ref(g, "file:/g/19999") != GNONE);
	for (uint32_t i = 0; i < graph_nnodes_cap(g); i++) {
		const struct gnode *n = graph_node(g, i);

		if (n)
			assert_int_equal(graph_node_find(g, n->key), i);
	}
	for (uint32_t i = 0; i < graph_nedges_cap(g); i++) {
		const struct gedge *e = graph_edge(g, i);

		if (e)
			assert_int_equal(graph_edge_add(g, e->src, e->dst, e->type, e->aux, 1, false), i);
	}
	assert_int_equal(graph_mem_bytes(g), bound);
	graph_free(g);
}

/* The pid map starts small and doubles: 3000 live processes (past two doublings) each keep
 * their node, so what each one opens hangs off its own process. */
static void test_pid_growth(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0);
	char p[64];

	for (uint32_t pid = 1000; pid < 4000; pid++) {
		fork_(g, 1, pid);
		exec_(g, pid, 1, "/bin/worker");
	}
	for (uint32_t pid = 1000; pid < 4000; pid++) {
		snprintf(p, sizeof(p), "/f/%u", pid);
		sys_(g, EV_OPEN, pid, 3, p, O_RDONLY, 0, 0);
	}
	for (uint32_t pid = 1000; pid < 4000; pid += 7) {
		uint32_t file, proc;
		const struct gedge *e;

		snprintf(p, sizeof(p), "file:/f/%u", pid);
		file = graph_node_ref(g, p);
		snprintf(p, sizeof(p), "proc:%u", pid);
		proc = graph_node_ref(g, p);
		assert_true(file != GNONE && proc != GNONE);
		e = graph_edge(g, graph_node(g, file)->in);
		assert_non_null(e);
		assert_int_equal(e->src, proc);
	}
	assert_int_equal(graph_stats(g)->pid_full, 0);
	graph_free(g);
}

/* Every live node's text (and comm) is what its identity was made of, and is found again by
 * it: what a compaction of the string store must keep. */
static void check_texts(const struct graph *g)
{
	for (uint32_t i = 0; i < graph_nnodes_cap(g); i++) {
		const struct gnode *n = graph_node(g, i);
		const struct gproc *p = graph_proc(g, i);

		if (!n)
			continue;
		assert_true(n->label < g->str.end);
		assert_true(n->key == graph_node_key(n->type, graph_label(g, i), p ? p->pid : 0,
						     p ? p->start_ns : 0));
		if (p)
			assert_true(strlen(graph_comm(g, i)) <= GRAPH_COMM_LEN);
	}
	assert_true(g->str.live <= g->str.end);
	assert_true(g->str.end <= g->str.cap);
}

/* The string store: one text for many nodes (a program's path: its file and every process
 * running it), freed with its last node, its bytes reused after compactions that keep every
 * reference right, and its bound: full of live texts, new nodes age old ones out. */
static void test_strings(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 4096, 8192);
	uint32_t live, k;
	char p[160];

	/* sharing: 1000 processes of one program, one comm */
	for (uint32_t pid = 2000; pid < 3000; pid++)
		exec_(g, pid, 1, "/usr/lib/some/long/path/to/a/program");
	assert_int_equal(graph_nnodes(g), 1000 + 3);   /* + its file, user 0 and pid 1 */
	live = g->str.live;
	assert_true(live < 256);
	check_texts(g);
	/* churn: 100 000 distinct paths through a 4096-node graph: the store compacts, its end
	 * stays far below the bound, every text stays right */
	for (int i = 0; i < 100000; i++) {
		snprintf(p, sizeof(p), "/var/lib/churn/%08d/%s", i, i % 3 ? "x" : "a-longer-name");
		sys_(g, EV_OPEN, 2500, 3, p, O_RDONLY, 0, 0);
	}
	assert_true(g->str.compactions > 0);
	assert_true(graph_stats(g)->dropped_nodes[GN_FILE] > 90000);
	assert_int_equal(graph_stats(g)->str_full, 0);
	assert_true(g->str.end <= g->str.live * 2 + (64u << 10) + 256);
	check_texts(g);
	snprintf(p, sizeof(p), "file:/var/lib/churn/%08d/a-longer-name", 99999);
	assert_true(graph_node_ref(g, p) != GNONE);
	assert_true(graph_node_ref(g, "proc:2999") != GNONE);
	assert_string_equal(graph_comm(g, graph_node_ref(g, "proc:2999")), "program");
	graph_free(g);

	/* the bound: 64 nodes with 64 bytes of store each, texts of ~120 bytes: the store is
	 * full of live texts long before the node table, nodes go to make room */
	g = mk(&f, 64, 128);
	exec_(g, 700, 1, "/bin/sh");
	for (int i = 0; i < 5000; i++) {
		memset(p, 'a' + i % 26, sizeof(p));
		k = (uint32_t)snprintf(p, sizeof(p), "/%06d/", i);
		p[k] = 'z';
		p[GRAPH_LABEL_LEN - 1] = 0;
		sys_(g, EV_OPEN, 700, 3, p, O_RDONLY, 0, 0);
		assert_true(g->str.end <= g->str.cap);
	}
	assert_true(graph_nnodes(g) < 64);
	assert_true(graph_node_ref(g, "proc:700") != GNONE);
	check_texts(g);
	graph_free(g);
}

/* The smallest graph under a mixed stream: every node a new one ages out the ones the event
 * being ingested is using, which must not make a process's part be read through a node that
 * became something else (no crash under ASan, the bounds and the texts hold). */
static void test_tiny_graph(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 16, 16);
	char p[64];

	for (uint32_t i = 0; i < 3000; i++) {
		uint32_t pid = 3000 + i % 50;

		fork_(g, pid, pid + 100);
		exec_(g, pid + 100, pid, i % 2 ? "/usr/bin/a" : "/usr/bin/b");
		snprintf(p, sizeof(p), "/t/%u", i);
		sys_(g, EV_OPEN, pid + 100, 3, p, O_WRONLY | O_CREAT, 0755, 0);
		snprintf(p, sizeof(p), "10.1.%u.%u", i / 250 % 250, i % 250);
		connect_(g, pid + 100, p, (uint16_t)(i % 300));
		kill_(g, pid + 100, pid, 9);
		sys_(g, EV_RENAME, pid + 100, 0, "/t/new", 0, 0, 0);
		assert_true(graph_nnodes(g) <= 16 && graph_nedges(g) <= 16);
	}
	check_texts(g);
	graph_free(g);
}

static struct graph *roundtrip(struct graph *g, uint8_t **buf, size_t *len)
{
	char path[] = "/tmp/ebee-test-graph-XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f;
	struct graph *h;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(graph_save(g, path), 0);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	*buf = malloc(*len);
	assert_int_equal(fread(*buf, 1, *len, f), *len);
	fclose(f);
	unlink(path);
	h = graph_load_buf(*buf, *len, true, err, sizeof(err));
	assert_non_null(h);
	return h;
}

static void test_save_load(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0), *h;
	uint8_t *buf;
	size_t len;
	char err[256];

	exec_(g, 600, 1, "/bin/sh");
	fork_(g, 600, 601);
	exec_(g, 601, 600, "/usr/bin/evil");
	sys_(g, EV_UNLINK, 601, 0, "/usr/bin/evil", 0, 0, 0);
	connect_(g, 601, "10.0.0.9", 443);
	h = roundtrip(g, &buf, &len);
	assert_int_equal(graph_nnodes(h), graph_nnodes(g));
	assert_int_equal(graph_nedges(h), graph_nedges(g));
	assert_int_equal(graph_nalerts(h), 1);
	assert_int_equal(graph_alert_at(h, 0)->rule, GR_SELFDEL);
	assert_true(graph_node_ref(h, "remote:10.0.0.9:443") != GNONE);
	assert_true(graph_node_ref(h, "file:/usr/bin/evil") != GNONE);
	assert_int_equal(graph_proc(h, graph_node_ref(h, "proc:601"))->pid, 601);
	/* every prefix is refused, every single flipped bit too (the checksum), no crash */
	for (size_t n = 0; n < len; n++)
		assert_null(graph_load_buf(buf, n, true, err, sizeof(err)));
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x10;
		assert_null(graph_load_buf(buf, len, true, err, sizeof(err)));
		buf[i] ^= 0x10;
	}
	/* without the checksum the parser itself refuses bad references and counts */
	{
		uint8_t *c = malloc(len);

		for (size_t i = 8; i < len - 8; i++) {
			struct graph *x;

			memcpy(c, buf, len);
			c[i] = 0xff;
			x = graph_load_buf(c, len, false, err, sizeof(err));
			graph_free(x);   /* some bytes (times, counts) are free to be anything */
		}
		free(c);
	}
	free(buf);
	graph_free(h);
	graph_free(g);
}

/* An alert's subgraph survives aging and saving: a scan alert in a small graph, then a flood
 * of files through it, then a round trip. */
static void test_alert_survives_aging(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 64, 128), *h;
	const struct galert *a;
	uint8_t *buf;
	size_t len;
	char p[64];

	exec_(g, 800, 1, "/tmp/scanner");
	for (int i = 0; i < 120; i++) {
		snprintf(p, sizeof(p), "10.8.%d.%d", i / 200, i % 200 + 1);
		connect_(g, 800, p, 23);
	}
	assert_int_equal(f.n[GR_SCAN], 1);
	for (int i = 0; i < 3000; i++) {
		snprintf(p, sizeof(p), "/var/tmp/g%d", i);
		sys_(g, EV_OPEN, 800, 3, p, O_RDONLY, 0, 0);
	}
	h = roundtrip(g, &buf, &len);
	a = graph_alert_at(h, 0);
	assert_non_null(a);
	assert_int_equal(a->rule, GR_SCAN);
	assert_true(a->nedges >= 10);
	for (int i = 0; i < a->nedges; i++) {
		const struct gedge *e = graph_edge(h, a->edges[i]);

		assert_non_null(e);
		assert_int_equal(e->type, GE_CONNECTED);
	}
	free(buf);
	graph_free(h);
	graph_free(g);
}

static void test_queries(void **state)
{
	struct fired f;
	struct graph *g = mk(&f, 0, 0), *h;
	uint8_t *buf;
	size_t len;
	char out[8192];
	FILE *m;

	exec_(g, 700, 1, "/bin/sh");
	fork_(g, 700, 701);
	exec_(g, 701, 700, "/usr/bin/curl");
	connect_(g, 701, "10.0.0.1", 80);
	sys_(g, EV_OPEN, 701, 3, "/tmp/x", O_WRONLY | O_CREAT, 0644, 0);
	h = roundtrip(g, &buf, &len);
	m = fmemopen(out, sizeof(out), "w");
	assert_int_equal(graph_query(h, "lineage 701", m, true), 0);
	assert_int_equal(graph_query(h, "who-wrote /tmp/x", m, true), 0);
	assert_int_equal(graph_query(h, "path proc:700 remote:10.0.0.1:80", m, true), 0);
	assert_int_equal(graph_query(h, "fanout --min 1", m, true), 0);
	fclose(m);
	assert_non_null(strstr(out, "\"relation\":\"ancestor\""));
	assert_non_null(strstr(out, "\"edge\":\"created\""));
	assert_non_null(strstr(out, "\"edge\":\"connected\""));
	assert_int_equal(graph_query(h, "lineage 9", stderr, false), -EINVAL);
	assert_int_equal(graph_query(h, "who-wrote /nope", stderr, false), -EINVAL);
	assert_int_equal(graph_query(h, "path n0 n999", stderr, false), -EINVAL);
	assert_int_equal(graph_query(h, "fanout --min", stderr, false), -EINVAL);
	assert_int_equal(graph_query(h, "", stderr, false), -EINVAL);
	free(buf);
	graph_free(h);
	graph_free(g);
}

/* The graph as a collector (no tracing: a --replay config opens the graph alone): a
 * detection is emitted to subscribers as an EV_GRAPH_ALERT record that event_json renders as
 * Falco's alert; metrics and /api/graph see it. */
struct caught {
	struct graph_alert_ev ev;
	int n;
};

static void catch_alert(void *arg, const struct ebee_event_hdr *h)
{
	struct caught *k = arg;

	if (h->type == EV_GRAPH_ALERT && h->size == sizeof(k->ev)) {
		memcpy(&k->ev, h, sizeof(k->ev));
		k->n++;
	}
}

static void test_collector_alert_event(void **state)
{
	struct graph_cfg cfg = { .replay = "/nonexistent (not read before start)", .window = 60,
				 .scan_min = 100, .flood_min = 1000 };
	struct collector *c = collector_new(&graph_collector, &cfg);
	static char buf[1 << 16];
	struct caught k = { 0 };
	char a[32], *text = NULL, *lin;
	size_t len = 0;
	struct prom p;
	struct graph *g;
	struct jw w;
	FILE *f;

	assert_non_null(c);
	assert_int_equal(collector_open(c), 0);
	assert_int_equal(collector_subscribe(c, catch_alert, &k), 0);
	g = graph_collector_graph(c);
	exec_(g, 950, 1, "/tmp/scanner");
	for (int i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "10.7.%d.%d", i / 200, i % 200 + 1);
		connect_(g, 950, a, 23);
	}
	assert_int_equal(k.n, 1);
	assert_int_equal(k.ev.hdr.pid, 950);
	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	collector_event_json(c, &w, &k.ev.hdr);
	jw_obj_end(&w);
	jw_finish(&w);
	assert_non_null(strstr(buf, "\"rule\":\"Network scan\""));
	assert_non_null(strstr(buf, "\"source\":\"graph\""));
	assert_non_null(strstr(buf, "\"graph.alert_id\":\"g1\""));
	assert_non_null(strstr(buf, "\"proc.exe\":\"/tmp/scanner\""));
	f = open_memstream(&text, &len);
	prom_init(&p, f);
	graph_collector.metrics(c, &p);
	fclose(f);
	assert_non_null(strstr(text, "ebee_graph_detections_total{rule=\"Network scan\"} 1\n"));
	assert_non_null(strstr(text, "ebee_graph_nodes{type=\"remote\"} 100\n"));
	free(text);
	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	graph_collector.api(c, &w, 10);
	jw_obj_end(&w);
	jw_finish(&w);
	/* the alerted lineage first */
	lin = strstr(buf, "\"lineages\":[{");
	assert_non_null(lin);
	assert_true(strstr(lin, "\"pid\":950") && strstr(lin, "\"pid\":950") < strchr(lin, '}'));
	assert_non_null(strstr(buf, "\"Network scan\":1"));
	collector_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirai_stages),
		cmocka_unit_test(test_datagram_flood),
		cmocka_unit_test(test_collector_alert_event),
		cmocka_unit_test(test_benign_quiet),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_bound_and_pins),
		cmocka_unit_test(test_index_growth),
		cmocka_unit_test(test_pid_growth),
		cmocka_unit_test(test_index_churn),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_tiny_graph),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_alert_survives_aging),
		cmocka_unit_test(test_queries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
