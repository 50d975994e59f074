// SPDX-License-Identifier: BSD-2-Clause
/* ebee http: request rate, errors and duration of Go net/http servers (and their clients)
 * with no code change. The collector: which binary, its probe sites (ebee uprobe's Go
 * machinery: .go.buildinfo, .gopclntab for stripped binaries, RET sites from capstone), the
 * struct offsets (offsets.c), the BPF object, per-request rows and RED (red.c). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cmd.h"
#include "core/json.h"
#include "core/load.h"
#include "core/loop.h"
#include "http/offsets.h"
#include "http/session.h"
#include "http/http.skel.h"

/* The functions probed, in this order (index = enum fn). */
enum fn { FN_SERVE, FN_STATUS, FN_CLIENT, FN_FINISH, FN__N };
static const char *const fn_names[FN__N] = {
	[FN_SERVE] = "net/http.serverHandler.ServeHTTP",
	[FN_STATUS] = "net/http.(*response).WriteHeader",
	[FN_CLIENT] = "net/http.(*Client).do",
	[FN_FINISH] = "net/http.(*response).finishRequest",
};

#define MAX_LINKS (2 * UP_MAX_RETS + FN__N)

struct http_priv {
	const struct http_cfg *cfg;
	struct http_bpf *skel;
	struct up_bin bin;
	char path[PATH_MAX];          /* what uprobes attach to (/proc/PID/exe with -p) */
	long long tgid;               /* -p as a thread group, 0 with --exe */
	int pidfd;
	const struct up_func *fn[FN__N];
	struct up_sites sites[FN__N];
	struct http_offsets off;
	const char *off_src;          /* "dwarf", "table" */
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	struct ring_buffer *rb;
	bool lines;                   /* one row per request on c->out (CLI without --summary) */
	bool aggregate;               /* no lines: RED aggregated in the kernel's cells */
	struct red red;
	/* the kernel's cells given out: their series and class, and what was folded already */
	int ncells;
	struct cellrec { struct http_series *s; int cls; struct http_cell seen; } *cell;
	struct http_cell *cpu;        /* one cell per possible CPU: a lookup's buffer */
	int ncpu;
	uint64_t cells_full;          /* keys left to events: every cell given out */
	uint64_t st[HTTP_NSTAT];
	uint64_t in_flight;           /* requests still open when the probes were detached */
	uint64_t tick_ns;             /* start of the current interval */
	bool warned;                  /* the not-reported warning, once */
};

/* ---- resolving the target ---- */

static int find_target(struct http_priv *p, const struct http_cfg *cfg)
{
	char line[128], link[PATH_MAX];
	FILE *f;
	ssize_t n;

	if ((cfg->pid > 0) == (cfg->exe != NULL)) {
		/* the daemon's configuration must name one too: there is nothing to trace by default */
		ebee_err("give one of -p PID or --exe PATH");
		return -EINVAL;
	}
	if (cfg->exe) {
		if (!realpath(cfg->exe, p->path)) {
			ebee_err("binary '%s' not found: %s", cfg->exe, strerror(errno));
			return -EINVAL;
		}
		return 0;
	}
	/* -p may name any thread: events are filtered by thread group */
	snprintf(line, sizeof(line), "/proc/%lld/status", cfg->pid);
	f = fopen(line, "re");
	if (!f) {
		ebee_err("process %lld not found", cfg->pid);
		return -EINVAL;
	}
	p->tgid = cfg->pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %lld", &p->tgid) == 1)
			break;
	fclose(f);
	snprintf(p->path, sizeof(p->path), "/proc/%lld/exe", p->tgid);
	n = readlink(p->path, link, sizeof(link) - 1);
	if (n < 0) {
		ebee_err("cannot read the executable of process %lld: %s", p->tgid, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

/* Offsets from the binary's DWARF, the gaps filled from the table of its Go release; a field
 * a probed side needs and neither has is a refusal, never a guess. */
static int find_offsets(struct http_priv *p, const char *shown)
{
	const struct http_offsets_row *row = http_offsets_lookup(p->bin.go_major, p->bin.go_minor);
	const char *missing = NULL;
	int err = http_offsets_dwarf(p->path, &p->off, &missing);
	__u16 *f = (__u16 *)&p->off;
	const __u16 *t = row ? (const __u16 *)&row->off : NULL;
	bool need_srv = p->fn[FN_SERVE], need_cli = p->fn[FN_CLIENT];
	const char *env, *bad;

	p->off_src = err == -ENODATA ? "table" : "dwarf";
	if (err == -ENODATA && !row) {
		char have[256] = "";

		for (int i = 0; i < http_offsets_table_len; i++)
			snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s", i ? ", " : "",
				 http_offsets_table[i].go);
		ebee_err("'%s' has no DWARF and is built with %s, which is not in ebee's table of "
			 "net/http layouts (%s): rebuild it without -ldflags=-s, or see "
			 "src/http/gen-offsets.sh", shown, p->bin.go_version, have);
		return -EINVAL;
	}
	for (size_t i = 0; t && i < sizeof(p->off) / sizeof(*f); i++)
		if (f[i] == 0xffff)
			f[i] = t[i];
	if (p->off.g_goid == 0xffff && up_go_goid_offset(&p->bin))
		p->off.g_goid = (__u16)up_go_goid_offset(&p->bin);
	if ((need_srv || need_cli) &&
	    (p->off.req_method == 0xffff || p->off.req_url == 0xffff || p->off.url_path == 0xffff))
		missing = missing ? missing : "net/http.Request";
	else if (need_cli && p->off.resp_status_code == 0xffff)
		missing = missing ? missing : "net/http.Response.StatusCode";
	else
		missing = NULL;
	if (missing) {
		ebee_err("cannot find the layout of '%s' in '%s' (%s): not in its DWARF nor in ebee's "
			 "table", missing, shown, p->bin.go_version);
		return -EINVAL;
	}
	/* tests only: wrong offsets on purpose, to check that garbage pointers are dropped */
	if ((env = getenv("EBEE_HTTP_OFFSETS")) && http_offsets_override(&p->off, env, &bad)) {
		ebee_err("bad item '%s' in EBEE_HTTP_OFFSETS (key=N, keys as -v prints them)", bad);
		return -EINVAL;
	}
	/* the end of a server request: finishRequest's entry when the response's status field is
	 * known (one trap), else ServeHTTP's RETs and WriteHeader (three) */
	if (p->off.rw_status == 0xffff)
		p->fn[FN_FINISH] = NULL;
	ebee_info("'%s' (%s): struct offsets from %s: req_method=%u req_url=%u "
		  "req_content_length=%u req_remote_addr=%u url_host=%u url_path=%u "
		  "resp_status_code=%u g_goid=%u rw_status=%u", shown, p->bin.go_version,
		  p->off_src, p->off.req_method, p->off.req_url, p->off.req_content_length,
		  p->off.req_remote_addr, p->off.url_host, p->off.url_path, p->off.resp_status_code,
		  p->off.g_goid, p->off.rw_status);
	if (p->fn[FN_SERVE])
		ebee_info("server requests end at %s", p->fn[FN_FINISH] ?
			  "finishRequest's entry" : "ServeHTTP's RETs (status from WriteHeader)");
	return 0;
}

static int find_sites(struct http_priv *p, const struct http_cfg *cfg, const char *shown)
{
	const char *why;
	int err;

	if (!p->bin.is_go) {
		ebee_err("'%s' is not a Go program (no .go.buildinfo): ebee http traces Go's net/http",
			 shown);
		return -EINVAL;
	}
	if ((why = up_go_abi_problem(&p->bin))) {
		ebee_err("%s", why);
		return -EINVAL;
	}
	for (int i = 0; i < FN__N; i++)
		p->fn[i] = up_bin_find(&p->bin, fn_names[i]);
	if (cfg->side == HTTP_SIDE_CLIENT || !p->fn[FN_SERVE] || !p->fn[FN_STATUS])
		p->fn[FN_SERVE] = p->fn[FN_STATUS] = p->fn[FN_FINISH] = NULL;
	if (cfg->side == HTTP_SIDE_SERVER)
		p->fn[FN_CLIENT] = NULL;
	if (!p->fn[FN_SERVE] && !p->fn[FN_CLIENT]) {
		ebee_err("'%s' does not link net/http's %s (no '%s'%s)", shown,
			 cfg->side == HTTP_SIDE_CLIENT ? "client" : cfg->side == HTTP_SIDE_SERVER ?
			 "server" : "server or client",
			 fn_names[cfg->side == HTTP_SIDE_CLIENT ? FN_CLIENT : FN_SERVE],
			 cfg->side == HTTP_SIDE_BOTH ? " nor 'net/http.(*Client).do'" : "");
		return -EINVAL;
	}
	for (int i = 0; i < FN__N; i++) {
		if (!p->fn[i])
			continue;
		err = up_sites_go(&p->bin, p->fn[i], &p->sites[i]);
		if (err)
			return err;
		if ((i == FN_SERVE || i == FN_CLIENT) && !p->sites[i].nret) {
			ebee_err("'%s' in '%s' has no RET instruction: cannot time requests",
				 fn_names[i], shown);
			return -EINVAL;
		}
		ebee_info("'%s' at 0x%llx: %d RET", fn_names[i], (unsigned long long)p->fn[i]->addr,
			  p->sites[i].nret);
	}
	return 0;
}

/* ---- per-request rows ---- */

enum { C_TIME, C_SIDE, C_PID, C_GOID, C_METHOD, C_PATH, C_STATUS, C_DUR, C_LEN, C_ADDR,
       C_DUR_NS, C_TID, C_COMM, C_CUT };
static const struct out_col line_cols[] = {
	[C_TIME] = { "time", "TIME", OUT_STR, -15, 0 },
	[C_SIDE] = { "side", "SIDE", OUT_STR, -6, 0 },
	[C_PID] = { "pid", "PID", OUT_U64, 7, 0 },
	[C_GOID] = { "goid", "GOID", OUT_U64, 6, 0 },
	[C_METHOD] = { "method", "METHOD", OUT_STR, -7, 0 },
	[C_PATH] = { "path", "PATH", OUT_STR, -32, 0 },
	[C_STATUS] = { "status", "STATUS", OUT_U64, 6, 0 },
	[C_DUR] = { "duration_ms", "MS", OUT_F64, 10, 3 },
	[C_LEN] = { "content_length", "LEN", OUT_I64, 8, 0 },
	[C_ADDR] = { "addr", "ADDR", OUT_STR, -21, 0 },
	[C_DUR_NS] = { "duration_ns", NULL, OUT_U64, 0, 0 },
	[C_TID] = { "tid", NULL, OUT_U64, 0, 0 },
	[C_COMM] = { "comm", NULL, OUT_STR, 0, 0 },
	[C_CUT] = { "path_truncated", NULL, OUT_BOOL, 0, 0 },
};

static void line(struct out *o, const struct http_event *e)
{
	char tmp[64];
	const char *t = ebee_fmt_time(ebee_ktime_to_real(e->hdr.time_ns), tmp, sizeof(tmp));
	const char *c = strchr(t, 'T');
	bool json = o->fmt == OUT_JSON;

	out_str(o, C_TIME, json || !c ? t : c + 1);
	out_str(o, C_SIDE, e->hdr.type == EV_HTTP_CLIENT ? "client" : "server");
	out_u64(o, C_PID, e->hdr.pid);
	out_u64(o, C_GOID, e->goid);
	out_strn(o, C_METHOD, e->key.method, e->key.method_len);
	out_strn(o, C_PATH, e->key.path, e->key.path_len);
	if (e->status)
		out_u64(o, C_STATUS, e->status);
	out_f64(o, C_DUR, e->dur_ns / 1e6);
	if (e->hdr.type == EV_HTTP_SERVER && e->content_length >= 0)
		out_i64(o, C_LEN, e->content_length);
	out_strn(o, C_ADDR, e->addr, e->addr_len);
	out_u64(o, C_DUR_NS, e->dur_ns);
	out_u64(o, C_TID, e->hdr.tid);
	out_strn(o, C_COMM, e->hdr.comm, sizeof(e->hdr.comm));
	if (e->flags & HTTP_F_PATH_CUT)
		out_bool(o, C_CUT, true);
	out_row(o);
}

/* Gives the key of a request that crossed a kernel cell: its series' cell of that class, a new
 * one while any is left. */
static void map_key(struct http_priv *p, struct http_series *s, const struct http_event *e)
{
	int cls = e->key.cls;
	uint32_t id;

	if (cls < 0 || cls > 5)
		return;
	if (!s->cell[cls]) {
		if (p->ncells == HTTP_KCELLS) {
			p->cells_full++;
			return;
		}
		p->cell[p->ncells].s = s;
		p->cell[p->ncells].cls = cls;
		s->cell[cls] = ++p->ncells;
	}
	id = (uint32_t)s->cell[cls] - 1;
	bpf_map_update_elem(bpf_map__fd(p->skel->maps.routes), &e->key, &id, BPF_ANY);
}

/* Folds what the kernel's cells counted since the last time into the series. */
static void fold_cells(struct http_priv *p)
{
	int fd = bpf_map__fd(p->skel->maps.cells);

	for (int i = 0; i < p->ncells; i++) {
		struct http_cell *seen = &p->cell[i].seen, now = { 0 }, d;
		uint32_t key = (uint32_t)i;

		if (bpf_map_lookup_elem(fd, &key, p->cpu))
			continue;
		for (int c = 0; c < p->ncpu; c++) {
			const struct http_cell *x = &p->cpu[c];

			now.n += x->n;
			now.sum_ns += x->sum_ns;
			if (x->max_ns > now.max_ns)
				now.max_ns = x->max_ns;
			for (int b = 0; b < HIST_PROM_N; b++)
				now.le[b] += x->le[b];
			for (int b = 0; b < HIST_KNB; b++)
				now.b[b] += x->b[b];
		}
		if (now.n == seen->n)
			continue;
		d.n = now.n - seen->n;
		d.sum_ns = now.sum_ns - seen->sum_ns;
		d.max_ns = now.max_ns;   /* since the start: red_add_cell bounds an interval's */
		for (int b = 0; b < HIST_PROM_N; b++)
			d.le[b] = now.le[b] - seen->le[b];
		for (int b = 0; b < HIST_KNB; b++)
			d.b[b] = now.b[b] - seen->b[b];
		red_add_cell(p->cell[i].s, p->cell[i].cls, &d);
		*seen = now;
	}
}

static int on_event(void *arg, void *data, size_t size)
{
	struct collector *c = arg;
	struct http_priv *p = c->priv;
	const struct http_event *e = data;

	if (size < sizeof(*e))
		return 0;
	c->cnt.events++;
	if (p->lines) {
		line(c->out, e);
		red_add(&p->red, e, NULL);
		collector_emit(c, &e->hdr);
	} else {
		bool routed;
		struct http_series *s = red_add(&p->red, e, &routed);

		/* the kernel aggregates the next requests of this key (not the guard's /other ones,
		 * which stay counted here) */
		if (s && routed)
			map_key(p, s, e);
	}
	return 0;
}

/* The byte range of a struct that holds the fields read: [lo, lo + span) of its offsets; span
 * 0 when wider than max (read field by field then). sizes: 16 for a string, 8 otherwise. */
static void span_of(const __u16 *offs, const int *sizes, int n, unsigned max, __u16 *lo,
		    __u16 *span)
{
	unsigned l = 0xffff, h = 0;

	for (int i = 0; i < n; i++) {
		if (offs[i] == 0xffff)
			continue;
		if (offs[i] < l)
			l = offs[i];
		if (offs[i] + (unsigned)sizes[i] > h)
			h = offs[i] + (unsigned)sizes[i];
	}
	*lo = l == 0xffff ? 0 : (__u16)l;
	*span = h > l && h - l <= max ? (__u16)(h - l) : 0;
}

/* One read of *http.Request and one of *url.URL per request, covering what is shown: with
 * lines, the content length, remote address and host too. */
static void set_spans(struct http_priv *p)
{
	const struct http_offsets *o = &p->off;
	bool all = !p->aggregate;
	__u16 req[] = { o->req_method, o->req_url, all ? o->req_content_length : 0xffff,
			all ? o->req_remote_addr : 0xffff };
	__u16 url[] = { o->url_path, all ? o->url_host : 0xffff };
	static const int req_sz[] = { 16, 8, 8, 16 }, url_sz[] = { 16, 16 };

	span_of(req, req_sz, 4, HTTP_REQ_SPAN_MAX, &p->skel->rodata->req_lo,
		&p->skel->rodata->req_span);
	span_of(url, url_sz, 2, 64, &p->skel->rodata->url_lo, &p->skel->rodata->url_span);
	ebee_info("one read of %u bytes per request struct, %u per URL (0: field by field)",
		  p->skel->rodata->req_span, p->skel->rodata->url_span);
}

/* ---- the collector ---- */

static int http_open(struct collector *c)
{
	const struct http_cfg *cfg = c->cfg;
	struct http_priv *p = c->priv;
	char shown[PATH_MAX];
	int err;

	p->cfg = cfg;
	p->pidfd = -1;
	err = find_target(p, cfg);
	if (err)
		return err;
	if (up_bin_open(p->path, &p->bin))
		return -EINVAL;   /* printed: missing, not ELF, unknown Go layout */
	if (cfg->exe)
		snprintf(shown, sizeof(shown), "%s", cfg->exe);
	else
		snprintf(shown, sizeof(shown), "process %lld", p->tgid);
	err = find_sites(p, cfg, shown);
	if (!err)
		err = find_offsets(p, shown);
	if (err)
		return err;
	/* a config from elsewhere than the option table (the daemon's) may leave it 0 */
	err = red_init(&p->red, cfg->max_routes ? (int)cfg->max_routes : HTTP_MAX_ROUTES,
		       !cfg->raw_routes);
	if (err)
		return err;

	p->skel = http_bpf__open();
	if (!p->skel) {
		err = -errno;
		ebee_err("cannot open the http BPF object: %s", strerror(errno));
		return err;
	}
	err = collector_choose(c, p->skel->obj);
	if (err)
		return err;
	p->skel->rodata->targ_tgid = (__u32)p->tgid;
	p->skel->rodata->off = p->off;
	p->skel->rodata->srv_skip_flags = p->fn[FN_SERVE] ? p->sites[FN_SERVE].jcc_flags : 0;
	p->skel->rodata->cli_skip_flags = p->fn[FN_CLIENT] ? p->sites[FN_CLIENT].jcc_flags : 0;
	p->skel->rodata->fin_skip_flags = p->fn[FN_FINISH] ? p->sites[FN_FINISH].jcc_flags : 0;
	p->lines = c->out && !cfg->summary && cfg->interval <= 0;
	p->aggregate = !p->lines;
	p->skel->rodata->aggregate = p->aggregate;
	set_spans(p);
	if (p->aggregate) {
		p->ncpu = libbpf_num_possible_cpus();
		p->cpu = p->ncpu > 0 ? calloc((size_t)p->ncpu, sizeof(*p->cpu)) : NULL;
		p->cell = calloc(HTTP_KCELLS, sizeof(*p->cell));
		if (!p->cpu || !p->cell)
			return -ENOMEM;
	}
	err = http_bpf__load(p->skel);
	if (err)
		return ebee_load_err("http", err);
	return 0;
}

static int attach(struct http_priv *p, enum fn fn, enum http_site site, uint64_t vaddr)
{
	struct bpf_link *link;
	uint64_t off;

	if (p->nlinks == MAX_LINKS || up_bin_offset(&p->bin, vaddr, &off)) {
		ebee_err("'%s': address 0x%llx is outside the file's segments", fn_names[fn],
			 (unsigned long long)vaddr);
		return -ERANGE;
	}
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = site);
	link = bpf_program__attach_uprobe_opts(p->skel->progs.ebee_http,
					       p->tgid > 0 ? (pid_t)p->tgid : -1, p->path, off, &uo);
	if (!link) {
		int err = -errno;

		ebee_err("cannot attach a uprobe to '%s' at offset 0x%llx: %s", fn_names[fn],
			 (unsigned long long)off, strerror(-err));
		return err;
	}
	p->links[p->nlinks++] = link;
	return 0;
}

/* The entry probe sits on the stack check's jump when there is one: x86 uprobes emulate a
 * jump but single-step other instructions out of line, a second trap per call. */
static uint64_t entry_site(const struct up_sites *s)
{
	return s->jcc_flags ? s->jcc : s->entry;
}

static int on_exit_pid(struct ebee_loop *l, int fd, uint32_t events, void *arg)
{
	struct collector *c = arg;
	struct http_priv *p = c->priv;

	(void)fd;
	(void)events;
	loop_del_fd(l, p->pidfd);
	if (c->out) {
		ebee_warn("traced process %lld exited: stopping", p->tgid);
		loop_stop(l);
	} else {   /* the daemon: the other collectors go on; /api/http and /healthz say so */
		collector_set_health(c, COLLECTOR_FAILED, "traced process %lld exited", p->tgid);
	}
	return 0;
}

static int http_start(struct collector *c, struct ebee_loop *l)
{
	struct http_priv *p = c->priv;
	int err = 0;

	c->loop = l;
	if (p->lines)
		out_cols(c->out, line_cols, ARRAY_SIZE(line_cols));
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), on_event, c, NULL);
	if (!p->rb) {
		err = -errno;
		ebee_err("cannot create the ring buffer: %s", strerror(errno));
		return err;
	}
	err = loop_add_ringbuf(l, p->rb, 0);
	if (err)
		return err;
	/* returns and the status first: an entry whose return probe is not there yet would wait
	 * in the inflight map until evicted */
	for (int i = 0; i < FN__N && !err; i++) {
		enum http_site ret = i == FN_SERVE ? HTTP_SITE_SRV_RET : HTTP_SITE_CLI_RET;

		if (!p->fn[i] || i == FN_STATUS || i == FN_FINISH ||
		    (i == FN_SERVE && p->fn[FN_FINISH]))
			continue;
		for (int k = 0; k < p->sites[i].nret && !err; k++)
			err = attach(p, i, ret, p->sites[i].ret[k]);
	}
	if (!err && p->fn[FN_FINISH])
		err = attach(p, FN_FINISH, HTTP_SITE_SRV_FINISH, entry_site(&p->sites[FN_FINISH]));
	else if (!err && p->fn[FN_STATUS])
		err = attach(p, FN_STATUS, HTTP_SITE_STATUS, entry_site(&p->sites[FN_STATUS]));
	if (!err && p->fn[FN_SERVE])
		err = attach(p, FN_SERVE, HTTP_SITE_SRV_ENTRY, entry_site(&p->sites[FN_SERVE]));
	if (!err && p->fn[FN_CLIENT])
		err = attach(p, FN_CLIENT, HTTP_SITE_CLI_ENTRY, entry_site(&p->sites[FN_CLIENT]));
	if (err)
		return err;
	if (p->tgid > 0) {
		p->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)p->tgid, 0);
		if (p->pidfd < 0) {
			ebee_err("process %lld not found", p->tgid);
			return -EINVAL;
		}
		err = loop_add_fd(l, p->pidfd, EPOLLIN, on_exit_pid, c);
		if (err)
			return err;
	}
	p->tick_ns = ebee_now_ns();
	ebee_info("%d probe sites attached", p->nlinks);
	if (p->lines) {
		out_header(c->out);
		fflush(c->out->f);
	}
	return 0;
}

static uint64_t percpu_sum(int fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(fd, &key, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* Requests traced but not reported, whatever the reason: the summary's `dropped`. Those that
 * ebee attached in the middle of count here too (`unmatched`): they were served, not shown. */
static uint64_t dropped(const struct collector *c, const struct http_priv *p)
{
	return c->cnt.lost + p->st[HTTP_ST_FAULT] + p->st[HTTP_ST_UNFINISHED] +
	       p->st[HTTP_ST_NO_SLOT] + p->st[HTTP_ST_UNMATCHED] + p->st[HTTP_ST_UNSTARTED];
}

/* One line at the end of a CLI run that says every request not reported, by reason. */
static void warn_dropped(const struct collector *c, const struct http_priv *p)
{
	static const struct { int st; const char *why; } why[] = {
		{ -1, "ring buffer full" },
		{ HTTP_ST_FAULT, "memory unreadable" },
		{ HTTP_ST_UNFINISHED, "end never seen" },
		{ HTTP_ST_UNMATCHED, "start not seen (in progress when ebee attached)" },
		{ HTTP_ST_UNSTARTED, "start not seen (entry probe missed)" },
		{ HTTP_ST_NO_SLOT, "no in-flight slot" },
	};
	char msg[512];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(why); i++) {
		uint64_t v = why[i].st < 0 ? c->cnt.lost : p->st[why[i].st];

		if (v && n < sizeof(msg))
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%llu %s", n ? ", " : "",
					      (unsigned long long)v, why[i].why);
	}
	ebee_warn("%llu request%s dropped (not reported): %s", (unsigned long long)dropped(c, p),
		  dropped(c, p) == 1 ? "" : "s", msg);
}

static int http_refresh(struct collector *c)
{
	struct http_priv *p = c->priv;

	if (!p->skel)
		return 0;
	for (uint32_t i = 0; i < HTTP_NSTAT; i++)
		p->st[i] = percpu_sum(bpf_map__fd(p->skel->maps.stats), i);
	c->cnt.lost = percpu_sum(bpf_map__fd(p->skel->maps.events_drops), 0);
	c->cnt.missed = collector_prog_misses(c, p->skel->obj);
	if (p->aggregate)
		fold_cells(p);
	if (c->stopped && c->out && dropped(c, p) && !p->warned) {
		p->warned = true;
		warn_dropped(c, p);
	}
	return 0;
}

/* The RED table: the totals (the daemon, --summary), or with --interval the interval's, which
 * starts the next one (the CLI's ticks, and the part before the end after stop). A run with a
 * line per request has nothing more to say. */
static void http_rows(struct collector *c, struct out *o)
{
	const struct http_cfg *cfg = c->cfg;
	struct http_priv *p = c->priv;
	uint64_t now = c->stopped ? c->stop_ns : ebee_now_ns();
	char tmp[64];

	if (c->out && cfg->interval > 0) {
		out_sep(o, "--- %s ---", ebee_fmt_time(ebee_realtime_ns(), tmp, sizeof(tmp)));
		red_rows(&p->red, o, true, (now - p->tick_ns) / 1e9);
		p->tick_ns = now;
	} else if (!c->out || cfg->summary) {
		red_rows(&p->red, o, false, c->start_ns ? (now - c->start_ns) / 1e9 : 0);
	}
}

static void http_metrics(struct collector *c, struct prom *pr)
{
	red_metrics(&((struct http_priv *)c->priv)->red, pr);
}

/* The in-flight entries still open (requests started and not ended), once detached. */
static uint64_t count_in_flight(struct http_priv *p)
{
	int fd = bpf_map__fd(p->skel->maps.inflight);
	struct http_inflight_key k, next;
	struct http_event e;
	uint64_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &e) && e.hdr.time_ns)
			n++;
		k = next;
		prev = &k;
	}
	return n;
}

static void http_stop(struct collector *c)
{
	struct http_priv *p = c->priv;
	bool was_attached = p->nlinks > 0;

	/* detach first so that the last drain and the counters are final */
	for (int i = p->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(p->links[i]);
	p->nlinks = 0;
	if (p->rb)
		ring_buffer__consume(p->rb);
	if (was_attached)
		p->in_flight = count_in_flight(p);
}

static void http_close(struct collector *c)
{
	struct http_priv *p = c->priv;

	if (!p)
		return;
	http_stop(c);
	if (p->rb && c->loop)
		loop_del_ringbuf(c->loop, p->rb);
	if (p->pidfd >= 0 && c->loop)
		loop_del_fd(c->loop, p->pidfd);
	ring_buffer__free(p->rb);
	http_bpf__destroy(p->skel);
	if (p->pidfd >= 0)
		close(p->pidfd);
	red_free(&p->red);
	free(p->cpu);
	free(p->cell);
	up_bin_close(&p->bin);
}

/* The closing summary's own keys (after the common ones): what the kernel side counted. */
static void http_summary(struct collector *c, struct jw *w)
{
	struct http_priv *p = c->priv;

	/* entries = submitted + aggregated + faults + unfinished + no_slot + in_flight: every
	 * request whose start was seen is in one of them (docs/http.md, Accounting) */
	jw_ku64(w, "entries", p->st[HTTP_ST_ENTRY]);
	jw_ku64(w, "submitted", p->st[HTTP_ST_DONE]);
	jw_ku64(w, "dropped", dropped(c, p));
	jw_ku64(w, "faults", p->st[HTTP_ST_FAULT]);
	jw_ku64(w, "unfinished", p->st[HTTP_ST_UNFINISHED]);
	jw_ku64(w, "unmatched", p->st[HTTP_ST_UNMATCHED]);
	jw_ku64(w, "unstarted", p->st[HTTP_ST_UNSTARTED]);
	jw_ku64(w, "no_slot", p->st[HTTP_ST_NO_SLOT]);
	jw_ku64(w, "in_flight", p->in_flight);
	jw_ku64(w, "stack_growths", p->st[HTTP_ST_GROWN]);
	jw_ku64(w, "aggregated", p->st[HTTP_ST_AGGR]);
	jw_ku64(w, "routes", (uint64_t)p->red.routes.n);
	jw_ku64(w, "routes_overflowed", p->red.routes.overflowed);
	jw_ku64(w, "series_overflowed", p->red.overflow);
	jw_kstr(w, "offsets", p->off_src ? p->off_src : "-");
	if (p->bin.go_version[0])
		jw_kstr(w, "go", p->bin.go_version);
}

/* /api/http: the counters and health, the summary's keys, and the RED rows (totals). */
static void http_api(struct collector *c, struct jw *w, size_t top)
{
	struct out *o = malloc(sizeof(*o));   /* its arena is too big for a request's stack */

	(void)top;   /* bounded already: --max-routes */
	http_summary(c, w);
	jw_key(w, "rows");
	jw_arr_begin(w);
	if (o) {
		out_init_jw(o, w, NULL, 0);
		http_rows(c, o);
	}
	jw_arr_end(w);
	free(o);
}

static const struct ebee_hook http_hooks[] = {
	{ "uprobe", { { "ebee_http", KIND_UPROBE }, { NULL } } },
};


/* ---- the command ---- */

static int http_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	const struct http_cfg *cfg = cfgp;
	struct out o;

	(void)argc;
	(void)argv;
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
	return collector_run_cli(&http_collector, cfg, NULL, cfg->interval, cfg->duration, ctx, &o);
}

static const struct http_cfg defaults = { .max_routes = HTTP_MAX_ROUTES };
static const char *const side_names[] = { "both", "server", "client", NULL };

static const struct opt http_opts[] = {
	{ "pid", 'p', OPT_INT, offsetof(struct http_cfg, pid), "PID",
	  "trace the Go program running as this process", NULL, 1, 4194304 },
	{ "exe", 'e', OPT_STR, offsetof(struct http_cfg, exe), "PATH",
	  "trace every process running this Go binary, now and later", NULL },
	{ "summary", 's', OPT_FLAG, offsetof(struct http_cfg, summary), NULL,
	  "no line per request: rate, errors and p50/p90/p99 per route at the end", NULL },
	{ "interval", 'i', OPT_SECONDS, offsetof(struct http_cfg, interval), "SECONDS",
	  "the per-route table every interval instead of a line per request", NULL, 0, 1e9 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct http_cfg, duration), "SECONDS",
	  "stop after this long", NULL, 0, 1e9 },
	{ "side", 0, OPT_ENUM, offsetof(struct http_cfg, side), "SIDE",
	  "which requests: both, server (ServeHTTP) or client ((*Client).do)", "both",
	  .names = side_names },
	{ "max-routes", 0, OPT_UINT, offsetof(struct http_cfg, max_routes), "N",
	  "distinct routes kept for the per-route table and metrics; the rest are '/other'",
	  "100", 1, 100000 },
	{ "raw-routes", 0, OPT_FLAG, offsetof(struct http_cfg, raw_routes), NULL,
	  "routes are the paths as they are (by default numbers, UUIDs and long hex or token "
	  "segments become {id})", NULL },
	OPT_END,
};

const struct collector_desc http_collector = {
	.name = "http",
	.what = "Go net/http request tracing (uprobes)",
	.hooks = http_hooks,
	.nhooks = ARRAY_SIZE(http_hooks),
	.prog_prefix = "ebee_http",
	.priv_size = sizeof(struct http_priv),
	.cfg_size = sizeof(struct http_cfg),
	/* no cfg_default: there is no process to trace by default, the daemon refuses it
	 * without a configuration that names one (pid or exe) */
	.open = http_open,
	.start = http_start,
	.refresh = http_refresh,
	.rows = http_rows,
	.opts = http_opts,   /* a daemon config names the process: pid or exe */
	.metrics = http_metrics,
	.summary = http_summary,
	.api = http_api,
	.stop = http_stop,
	.close = http_close,
};

static const struct opt_doc http_doc = {
	.synopsis = "[OPTIONS] -p PID | --exe PATH",
	.description =
		"One line per HTTP request served (and made) by a Go program, with no code change:\n"
		"method, path, status, duration, request content length, remote address and\n"
		"goroutine. Uprobes on net/http.serverHandler.ServeHTTP's entry and\n"
		"(*response).finishRequest's (the end and the status; where the response's layout\n"
		"is unknown, ServeHTTP's RET instructions and WriteHeader: never uretprobes, which\n"
		"crash Go programs), and (*Client).do for client calls (method, URL host and path,\n"
		"status; no status when the call failed). Go 1.17+ (register ABI), stripped and\n"
		"PIE binaries included. Struct offsets come from the binary's DWARF, or for\n"
		"stripped binaries from ebee's table of Go releases (src/http/gen-offsets.sh); a\n"
		"release not in the table is refused rather than guessed.\n"
		"\n"
		"--summary and --interval aggregate per (side, method, route): requests, errors\n"
		"(5xx; client: 5xx or no response) and p50/p90/p99 from a log-linear histogram\n"
		"(within 12.5%), kept in the kernel: a request crosses to ebee only while its\n"
		"path has no histogram cell yet. Routes collapse numbers, UUIDs and long\n"
		"hex/token segments to {id}; past --max-routes distinct routes the rest count as\n"
		"/other.",
	.examples =
		"  ebee http -p 1234\n"
		"  ebee http --exe /usr/local/bin/api --summary -d 60\n"
		"  ebee http -p 1234 -i 5 --side server --json",
};

const struct ebee_cmd http_cmd = {
	.name = "http",
	.summary = "HTTP requests of Go programs: method, path, status, duration; RED per route",
	.req = REQ_BPF,
	.run = http_run,
	.opts = http_opts,
	.cfg_size = sizeof(struct http_cfg),
	.cfg_default = &defaults,
	.doc = &http_doc,
	.min_pos = 0,
	.max_pos = 0,
};
