// SPDX-License-Identifier: BSD-2-Clause
/* ebee tcp states|life|count: TCP state transitions from sock:inet_sock_set_state, filtered
 * in the kernel. states prints each transition, life each closed connection, count a table per
 * interval built from per-CPU counters (nothing crosses per event). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "core/collector.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "tcp/owners.h"
#include "tcp/parse.h"
#include "tcp/tcp.skel.h"

_Static_assert(sizeof(struct tcp_event) == 104, "tcp_event layout");
_Static_assert(sizeof(struct tcp_count_key) == 40, "tcp_count_key layout");

static const struct ebee_hook tcp_hooks[] = {
	{ .name = "sock:inet_sock_set_state",
	  .v = { { "tcp_btf", KIND_TP_BTF }, { "tcp_raw", KIND_RAW_TP },
		 { "tcp_tp", KIND_TRACEPOINT } } },
};

struct tcp_cfg {
	struct opt_list state;
	const char *dir;
	struct opt_list lport, rport, laddr, raddr;
	unsigned long long pid;
	bool v4, v6;
	double duration;
	double interval;
	struct opt_list by;
};

static const struct tcp_cfg tcp_defaults = {
	.interval = 1.0,
};

#define OFF(f) offsetof(struct tcp_cfg, f)

#define OPT_STATE(help) \
	{ "state", 's', OPT_LIST, OFF(state), "STATE,...", help }
#define OPTS_FILTER \
	{ "lport", 0, OPT_LIST, OFF(lport), "PORT,...", "local port (up to 8)" }, \
	{ "rport", 0, OPT_LIST, OFF(rport), "PORT,...", "remote port (up to 8)" }, \
	{ "laddr", 0, OPT_LIST, OFF(laddr), "CIDR,...", "local address or network, v4 or v6 (up to 4)" }, \
	{ "raddr", 0, OPT_LIST, OFF(raddr), "CIDR,...", "remote address or network, v4 or v6 (up to 4)" }, \
	{ "pid", 'p', OPT_UINT, OFF(pid), "PID", "sockets owned by this process (best known owner)", \
	  NULL, 1, 4194304 }, \
	{ "ipv4", '4', OPT_FLAG, OFF(v4), NULL, "IPv4 only (v4 peers of dual-stack sockets included)" }, \
	{ "ipv6", '6', OPT_FLAG, OFF(v6), NULL, "IPv6 only" }, \
	{ "duration", 'd', OPT_SECONDS, OFF(duration), "SECONDS", "stop after this long", \
	  "until Ctrl-C", 0, 1e9 }

static const struct opt states_opts[] = {
	OPT_STATE("only transitions into or out of these states (see --dir)"),
	{ "dir", 0, OPT_STR, OFF(dir), "into|from|any", "with --state: transitions into, out of, or either",
	  "any" },
	OPTS_FILTER,
	OPT_END,
};

static const struct opt life_opts[] = {
	OPTS_FILTER,
	OPT_END,
};

static const struct opt count_opts[] = {
	OPT_STATE("count only these states"),
	{ "by", 'b', OPT_LIST, OFF(by), "KEY,...",
	  "rows per state and also per raddr, rport, lport and/or comm", "state" },
	{ "interval", 'i', OPT_SECONDS, OFF(interval), "SECONDS", "print a table every interval", "1s",
	  0.01, 86400 },
	OPTS_FILTER,
	OPT_END,
};

/* ---- filters: options into rodata ---- */

static int parse_ports(const struct opt_list *l, const char *opt, __u16 *ports, __u8 *n)
{
	int i;

	if (l->n > TCP_MAX_PORTS) {
		ebee_err("too many ports for '--%s' (at most %d)", opt, TCP_MAX_PORTS);
		return -EINVAL;
	}
	for (i = 0; i < l->n; i++) {
		uint16_t p;

		if (tcp_port_parse(l->v[i], &p)) {
			ebee_err("invalid port '%s' for '--%s' (1-65535)", l->v[i], opt);
			return -EINVAL;
		}
		ports[i] = p;
	}
	*n = (__u8)l->n;
	return 0;
}

static int parse_cidrs(const struct opt_list *l, const char *opt, int family,
		       struct tcp_cidr *out, __u8 *n)
{
	int i;

	if (l->n > TCP_MAX_CIDRS) {
		ebee_err("too many addresses for '--%s' (at most %d)", opt, TCP_MAX_CIDRS);
		return -EINVAL;
	}
	for (i = 0; i < l->n; i++) {
		struct tcp_cidr c;

		if (tcp_cidr_parse(l->v[i], &c)) {
			ebee_err("invalid address or CIDR '%s' for '--%s' (e.g. 10.0.0.0/8, ::1)", l->v[i], opt);
			return -EINVAL;
		}
		if (family && c.family != family) {
			ebee_err("conflicting filters: '--%s %s' is %s but '%s' was given", opt, l->v[i],
				 c.family == AF_INET ? "IPv4" : "IPv6", family == AF_INET ? "-4" : "-6");
			return -EINVAL;
		}
		out[i] = c;
	}
	*n = (__u8)l->n;
	return 0;
}

static int parse_states(const struct opt_list *l, __u16 *mask)
{
	int i, s;

	*mask = 0;
	for (i = 0; i < l->n; i++) {
		s = tcp_state_parse(l->v[i]);
		if (s < 0) {
			ebee_err("unknown TCP state '%s' (valid: %s)", l->v[i], tcp_state_names());
			return -EINVAL;
		}
		*mask |= 1u << s;
	}
	return 0;
}

static const char *const by_names[] = {
	[TCP_BY_STATE] = "state", [TCP_BY_RADDR] = "raddr", [TCP_BY_RPORT] = "rport",
	[TCP_BY_LPORT] = "lport", [TCP_BY_COMM] = "comm",
};

static int parse_by(const struct opt_list *l, __u8 *by)
{
	int i, j;

	*by = 0;
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < (int)ARRAY_SIZE(by_names); j++)
			if (!strcmp(l->v[i], by_names[j]))
				break;
		if (j == (int)ARRAY_SIZE(by_names)) {
			ebee_err("unknown key '%s' for '--by' (valid: state,raddr,rport,lport,comm)", l->v[i]);
			return -EINVAL;
		}
		*by |= 1u << j;
	}
	*by &= ~(1u << TCP_BY_STATE);   /* rows are always per state */
	return 0;
}

static int configure(struct tcp_bpf *skel, const struct tcp_cfg *cfg, enum tcp_mode mode)
{
	struct tcp_bpf__rodata *ro = skel->rodata;
	int family = 0, err;

	if (cfg->v4 && cfg->v6) {
		ebee_err("conflicting filters: '-4' and '-6' (give neither for both families)");
		return -EINVAL;
	}
	family = cfg->v4 ? AF_INET : cfg->v6 ? AF_INET6 : 0;
	ro->mode = mode;
	ro->filter_family = family;
	ro->filter_pid = (__u32)cfg->pid;
	if ((err = parse_states(&cfg->state, &ro->state_mask)) ||
	    (err = parse_ports(&cfg->lport, "lport", ro->lports, &ro->n_lports)) ||
	    (err = parse_ports(&cfg->rport, "rport", ro->rports, &ro->n_rports)) ||
	    (err = parse_cidrs(&cfg->laddr, "laddr", family, ro->laddrs, &ro->n_laddrs)) ||
	    (err = parse_cidrs(&cfg->raddr, "raddr", family, ro->raddrs, &ro->n_raddrs)) ||
	    (err = parse_by(&cfg->by, &ro->count_by)))
		return err;
	ro->state_dir = TCP_DIR_ANY;
	if (cfg->dir) {
		if (!strcmp(cfg->dir, "into"))
			ro->state_dir = TCP_DIR_INTO;
		else if (!strcmp(cfg->dir, "from"))
			ro->state_dir = TCP_DIR_FROM;
		else if (strcmp(cfg->dir, "any")) {
			ebee_err("invalid value '%s' for '--dir' (into, from, any)", cfg->dir);
			return -EINVAL;
		}
		if (!cfg->state.n) {
			ebee_err("'--dir %s' needs '--state'", cfg->dir);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- output ---- */

enum { C_TIME, C_PID, C_COMM, C_AF, C_LADDR, C_LPORT, C_RADDR, C_RPORT, C_OLD, C_NEW, C_MS, C_SOCK };
static const struct out_col states_cols[] = {
	[C_TIME]  = { "time", "TIME", OUT_STR, -27 },
	[C_PID]   = { "pid", "PID", OUT_U64, 7 },
	[C_COMM]  = { "comm", "COMM", OUT_STR, -15 },
	[C_AF]    = { "family", "AF", OUT_STR, -4 },
	[C_LADDR] = { "laddr", "LADDR", OUT_STR, -15 },
	[C_LPORT] = { "lport", "LPORT", OUT_U64, 5 },
	[C_RADDR] = { "raddr", "RADDR", OUT_STR, -15 },
	[C_RPORT] = { "rport", "RPORT", OUT_U64, 5 },
	[C_OLD]   = { "oldstate", "OLDSTATE", OUT_STR, -11 },
	[C_NEW]   = { "newstate", "NEWSTATE", OUT_STR, -11 },
	[C_MS]    = { "ms", "MS", OUT_F64, 10, 3 },
	[C_SOCK]  = { "sock", "SOCK", OUT_STR, 0 },
};

enum { L_TIME, L_PID, L_COMM, L_AF, L_LADDR, L_LPORT, L_RADDR, L_RPORT, L_TX, L_RX, L_MS, L_FIRST,
       L_OLD };
static const struct out_col life_cols[] = {
	[L_TIME]  = { "time", "TIME", OUT_STR, -27 },
	[L_PID]   = { "pid", "PID", OUT_U64, 7 },
	[L_COMM]  = { "comm", "COMM", OUT_STR, -15 },
	[L_AF]    = { "family", "AF", OUT_STR, -4 },
	[L_LADDR] = { "laddr", "LADDR", OUT_STR, -15 },
	[L_LPORT] = { "lport", "LPORT", OUT_U64, 5 },
	[L_RADDR] = { "raddr", "RADDR", OUT_STR, -15 },
	[L_RPORT] = { "rport", "RPORT", OUT_U64, 5 },
	[L_TX]    = { "tx_bytes", "TX_BYTES", OUT_U64, 10 },
	[L_RX]    = { "rx_bytes", "RX_BYTES", OUT_U64, 10 },
	[L_MS]    = { "ms", "MS", OUT_F64, 10, 3 },
	[L_FIRST] = { "first", "FIRST", OUT_STR, -6 },
	[L_OLD]   = { "laststate", "LASTSTATE", OUT_STR, 0 },
};

enum { K_TIME, K_STATE, K_AF, K_RADDR, K_RPORT, K_LPORT, K_COMM, K_ENTERED, K_NOW };
static const struct out_col count_cols[] = {
	[K_TIME]    = { "time", "TIME", OUT_STR, 0 },
	[K_STATE]   = { "state", "STATE", OUT_STR, -12 },
	[K_AF]      = { "family", "AF", OUT_STR, -4 },
	[K_RADDR]   = { "raddr", "RADDR", OUT_STR, -15 },
	[K_RPORT]   = { "rport", "RPORT", OUT_U64, 5 },
	[K_LPORT]   = { "lport", "LPORT", OUT_U64, 5 },
	[K_COMM]    = { "comm", "COMM", OUT_STR, -15 },
	[K_ENTERED] = { "entered", "ENTERED", OUT_U64, 9 },
	[K_NOW]     = { "now", "NOW", OUT_I64, 9 },
};

struct count_row {
	struct tcp_count_key key;
	uint64_t entered, left;
};

struct tcp_run {
	struct ebee_ctx *ctx;
	struct tcp_bpf *skel;
	enum tcp_mode mode;
	struct out out;
	uint64_t events;
	/* count */
	uint8_t by;
	struct tcp_count_val *vals;     /* one per CPU */
	int ncpus;
	struct count_row *cur, *prev;
	size_t ncur, nprev, cap, capprev;
};

static const char *family_name(int family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

static void put_time(struct out *o, int col, uint64_t ktime)
{
	char buf[40];

	out_str(o, col, ebee_fmt_time(ebee_ktime_to_real(ktime), buf, sizeof(buf)));
}

static void put_ends(struct out *o, const struct tcp_event *e, int col_af)
{
	char buf[INET6_ADDRSTRLEN];

	out_str(o, col_af, family_name(e->family));
	out_str(o, col_af + 1, tcp_addr_fmt(e->family, e->saddr, buf, sizeof(buf)));
	out_u64(o, col_af + 2, e->lport);
	out_str(o, col_af + 3, tcp_addr_fmt(e->family, e->daddr, buf, sizeof(buf)));
	out_u64(o, col_af + 4, e->rport);
}

static void put_owner(struct out *o, const struct tcp_event *e, int col_pid)
{
	if (!(e->flags & TCP_EV_OWNER_KNOWN))
		return;
	out_u64(o, col_pid, e->pid);
	out_strn(o, col_pid + 1, e->comm, strnlen(e->comm, TCP_COMM_LEN));
}

static const char *state_str(int s)
{
	const char *n = tcp_state_name(s);

	return n ? n : "?";
}

static int on_event(void *arg, void *data, size_t size)
{
	struct tcp_run *r = arg;
	const struct tcp_event *e = data;
	struct out *o = &r->out;

	if (size < sizeof(*e))
		return 0;
	r->events++;
	if (r->mode == TCP_MODE_STATES) {
		put_time(o, C_TIME, e->ts_ns);
		put_owner(o, e, C_PID);
		put_ends(o, e, C_AF);
		out_str(o, C_OLD, state_str(e->oldstate));
		out_str(o, C_NEW, state_str(e->newstate));
		if (e->flags & TCP_EV_SPAN_KNOWN)
			out_f64(o, C_MS, e->span_ns / 1e6);
		if (r->ctx->json)   /* JSON only: not a table column */
			out_fmt(o, C_SOCK, "%llx", (unsigned long long)e->skaddr);
	} else {
		put_time(o, L_TIME, e->ts_ns);
		put_owner(o, e, L_PID);
		put_ends(o, e, L_AF);
		out_u64(o, L_TX, e->tx_bytes);
		out_u64(o, L_RX, e->rx_bytes);
		if (e->flags & TCP_EV_SPAN_KNOWN)
			out_f64(o, L_MS, e->span_ns / 1e6);
		out_str(o, L_FIRST, tcp_first_name(e->first));
		out_str(o, L_OLD, state_str(e->oldstate));
	}
	out_row(o);
	return 0;
}

/* ---- count ---- */

static int key_cmp(const void *a, const void *b)
{
	const struct count_row *x = a, *y = b;

	if (x->key.state != y->key.state)
		return x->key.state < y->key.state ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int read_counts(struct tcp_run *r)
{
	int fd = bpf_map__fd(r->skel->maps.counts), i, err;
	struct tcp_count_key key, next, *pk = NULL;

	r->ncur = 0;
	while (!(err = bpf_map_get_next_key(fd, pk, &next))) {
		key = next;
		pk = &key;
		if (bpf_map_lookup_elem(fd, &key, r->vals))
			continue;   /* deleted meanwhile */
		if (r->ncur == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 64;
			void *p = realloc(r->cur, cap * sizeof(*r->cur));

			if (!p)
				return -ENOMEM;
			r->cur = p;
			r->cap = cap;
		}
		struct count_row *row = &r->cur[r->ncur++];

		row->key = key;
		row->entered = row->left = 0;
		for (i = 0; i < r->ncpus; i++) {
			row->entered += r->vals[i].entered;
			row->left += r->vals[i].left;
		}
	}
	if (err != -ENOENT)   /* libbpf >= 1.0 returns -errno */
		return err;
	if (r->ncur)
		qsort(r->cur, r->ncur, sizeof(*r->cur), key_cmp);
	return 0;
}

static int print_counts(struct tcp_run *r)
{
	struct out *o = &r->out;
	char tbuf[40], abuf[INET6_ADDRSTRLEN];
	size_t i;
	int err;
	void *tmp;

	err = read_counts(r);
	if (err) {
		ebee_err("cannot read TCP counters: %s", strerror(-err));
		return err;
	}
	ebee_fmt_time(ebee_realtime_ns(), tbuf, sizeof(tbuf));
	out_sep(o, "--- %s ---", tbuf);
	out_header(o);
	for (i = 0; i < r->ncur; i++) {
		const struct count_row *c = &r->cur[i];
		const struct count_row *p = r->nprev ?
			bsearch(c, r->prev, r->nprev, sizeof(*c), key_cmp) : NULL;
		uint64_t entered = c->entered - (p ? p->entered : 0);
		int64_t now = (int64_t)(c->entered - c->left);

		if (!entered && !now)
			continue;
		out_str(o, K_TIME, tbuf);
		out_str(o, K_STATE, state_str(c->key.state));
		if (r->by & ((1 << TCP_BY_RADDR) | (1 << TCP_BY_RPORT) | (1 << TCP_BY_LPORT)))
			out_str(o, K_AF, family_name(c->key.family));
		if (r->by & (1 << TCP_BY_RADDR))
			out_str(o, K_RADDR, tcp_addr_fmt(c->key.family, c->key.addr, abuf, sizeof(abuf)));
		if (r->by & (1 << TCP_BY_RPORT))
			out_u64(o, K_RPORT, c->key.rport);
		if (r->by & (1 << TCP_BY_LPORT))
			out_u64(o, K_LPORT, c->key.lport);
		if ((r->by & (1 << TCP_BY_COMM)) && c->key.comm[0])
			out_strn(o, K_COMM, c->key.comm, strnlen(c->key.comm, TCP_COMM_LEN));
		out_u64(o, K_ENTERED, entered);
		out_i64(o, K_NOW, now);
		out_row(o);
	}
	fflush(o->f);
	/* This snapshot is the next interval's base. */
	tmp = r->prev;
	r->prev = r->cur;
	r->cur = tmp;
	r->nprev = r->ncur;
	i = r->capprev;
	r->capprev = r->cap;
	r->cap = i;
	return 0;
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	struct tcp_run *r = arg;

	if (r->mode == TCP_MODE_COUNT)
		return print_counts(r);
	fflush(r->out.f);   /* states/life: rows reach a pipe at least this often */
	return 0;
}

/* Transitions the kernel did not run the program for: it skips a BPF program that would nest
 * in a BPF program already running on the CPU (a softirq interrupting one; for the plain
 * tracepoint, any kprobe/tracepoint program of anyone) and counts the skip per program. */
static uint64_t prog_misses(const struct ebee_hook *h, int chosen, struct tcp_bpf *skel)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct bpf_program *p;

	if (chosen < 0)
		return 0;
	p = bpf_object__find_program_by_name(skel->obj, h->v[chosen].prog);
	if (!p || bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.recursion_misses;
}

/* JSON: the last line, {"summary": true, "events": N, "lost": N, "missed": N} (count: no
 * events); lost = ring buffer (or count table) full, missed = transitions the kernel skipped. */
static void print_summary(const struct tcp_run *r, uint64_t lost, uint64_t missed)
{
	static const struct out_col cols[] = {
		{ "summary", "SUMMARY", OUT_BOOL, 0 },
		{ "events", "EVENTS", OUT_U64, 0 },
		{ "lost", "LOST", OUT_U64, 0 },
		{ "missed", "MISSED", OUT_U64, 0 },
	};
	struct out s;

	out_init(&s, stdout, OUT_JSON, cols, ARRAY_SIZE(cols));
	out_bool(&s, 0, true);
	if (r->mode != TCP_MODE_COUNT)
		out_u64(&s, 1, r->events);
	out_u64(&s, 2, lost);
	out_u64(&s, 3, missed);
	out_row(&s);
}

/* ---- run ---- */

static int tcp_run(struct ebee_ctx *ctx, const struct tcp_cfg *cfg, enum tcp_mode mode)
{
	int chosen[ARRAY_SIZE(tcp_hooks)];
	struct tcp_run r = { .ctx = ctx, .mode = mode };
	struct ring_buffer *rb = NULL;
	struct ebee_loop *l = NULL;
	uint64_t lost, missed;
	int err, n;

	l = loop_new();
	if (!l) {
		err = -errno;
		ebee_err("cannot set up the event loop: %s", strerror(errno));
		goto cleanup;
	}
	r.skel = tcp_bpf__open();
	if (!r.skel) {
		err = -errno;
		ebee_err("cannot open the tcp BPF object: %s", strerror(errno));
		goto cleanup;
	}
	err = configure(r.skel, cfg, mode);
	if (err)
		goto cleanup;
	r.by = r.skel->rodata->count_by;
	if (mode == TCP_MODE_COUNT)   /* count emits nothing: keep the ring small */
		bpf_map__set_max_entries(r.skel->maps.events, 4096);
	else   /* life and states never count */
		bpf_map__set_max_entries(r.skel->maps.counts, 1);
	/* Tests shrink the ring to make it overflow (a power of 2, at least a page). */
	if (getenv("EBEE_TCP_RING_BYTES"))
		bpf_map__set_max_entries(r.skel->maps.events,
					 strtoul(getenv("EBEE_TCP_RING_BYTES"), NULL, 0));
	err = ebee_choose(r.skel->obj, tcp_hooks, ARRAY_SIZE(tcp_hooks), chosen);
	if (err)
		goto cleanup;
	err = tcp_bpf__load(r.skel);
	if (err) {
		err = ebee_load_err("tcp", err);
		goto cleanup;
	}
	err = tcp_bpf__attach(r.skel);
	if (err) {
		ebee_err("cannot attach to 'sock:inet_sock_set_state': %s", strerror(-err));
		goto cleanup;
	}
	/* After attach: a listener opened meanwhile is already known (the seed never overwrites) */
	n = tcp_seed_listeners(bpf_map__fd(r.skel->maps.listeners));
	if (n < 0)
		ebee_warn("cannot find the owners of existing TCP listeners: %s", strerror(-n));
	else
		ebee_dbg("%d existing TCP listeners with a known owner", n);

	if (mode == TCP_MODE_STATES)
		out_init(&r.out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, states_cols, ARRAY_SIZE(states_cols));
	else if (mode == TCP_MODE_LIFE)
		out_init(&r.out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, life_cols, ARRAY_SIZE(life_cols));
	else
		out_init(&r.out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, count_cols, ARRAY_SIZE(count_cols));

	if (mode == TCP_MODE_COUNT) {
		out_hide(&r.out, K_AF, !(r.by & ((1 << TCP_BY_RADDR) | (1 << TCP_BY_RPORT) | (1 << TCP_BY_LPORT))));
		out_hide(&r.out, K_RADDR, !(r.by & (1 << TCP_BY_RADDR)));
		out_hide(&r.out, K_RPORT, !(r.by & (1 << TCP_BY_RPORT)));
		out_hide(&r.out, K_LPORT, !(r.by & (1 << TCP_BY_LPORT)));
		out_hide(&r.out, K_COMM, !(r.by & (1 << TCP_BY_COMM)));
		r.ncpus = ebee_ncpus();
		r.vals = calloc(r.ncpus > 0 ? r.ncpus : 1, sizeof(*r.vals));
		if (r.ncpus <= 0 || !r.vals) {
			err = -ENOMEM;
			ebee_err("cannot allocate per-CPU counters");
			goto cleanup;
		}
		err = loop_set_tick(l, cfg->interval, on_tick, &r);
	} else {
		rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events), on_event, &r, NULL);
		if (!rb) {
			err = -errno;
			ebee_err("cannot open the tcp ring buffer: %s", strerror(errno));
			goto cleanup;
		}
		err = loop_add_ringbuf(l, rb, 0);
		if (!err)
			err = loop_set_tick(l, 0.5, on_tick, &r);
		if (!err)
			out_header(&r.out);
	}
	if (!err && cfg->duration > 0)
		err = loop_set_duration(l, cfg->duration);
	if (err) {
		ebee_err("cannot set up the event loop: %s", strerror(-err));
		goto cleanup;
	}
	ebee_info("tracing TCP state changes with %s",
		  ebee_kind_name(tcp_hooks[0].v[chosen[0]].kind));

	err = loop_run(l);
	if (mode == TCP_MODE_COUNT && !err)
		err = print_counts(&r);   /* the last, partial interval */

	lost = ebee_percpu_sum(bpf_map__fd(r.skel->maps.events_drops), 0);
	missed = prog_misses(&tcp_hooks[0], chosen[0], r.skel);
	if (ctx->json)
		print_summary(&r, lost, missed);
	fflush(stdout);
	if (lost)
		ebee_warn("lost %llu events (%s full)", (unsigned long long)lost,
			  mode == TCP_MODE_COUNT ? "counter table" : "ring buffer");
	if (missed)
		ebee_warn("missed %llu transitions (the kernel skips a BPF program nested in another)",
			  (unsigned long long)missed);
	if (!lost && !missed && mode != TCP_MODE_COUNT)
		ebee_info("%llu events, none lost", (unsigned long long)r.events);

cleanup:
	ring_buffer__free(rb);
	tcp_bpf__destroy(r.skel);
	loop_free(l);
	free(r.vals);
	free(r.cur);
	free(r.prev);
	return err;
}

static int states_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return tcp_run(ctx, cfg, TCP_MODE_STATES);
}

static int life_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return tcp_run(ctx, cfg, TCP_MODE_LIFE);
}

static int count_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return tcp_run(ctx, cfg, TCP_MODE_COUNT);
}

#define FILTER_DOC \
	"Filters run in the kernel. The owner (PID, COMM) is the process that used the\n" \
	"socket from a system call (connect, listen, close...) or, for a socket accepted\n" \
	"from a listener, the process that called listen(); it is empty while unknown\n" \
	"(the socket predates ebee and has only seen packets since). An unbound\n" \
	"connecting socket has local port 0 in its CLOSE -> SYN_SENT transition (the\n" \
	"kernel picks the port just after), so '--lport' cannot match that transition."

static const struct opt_doc states_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Prints every TCP state transition (IPv4 and IPv6): time, owner, addresses and\n"
		"ports, old and new state, and MS, the time the socket spent in the old state\n"
		"(empty when ebee did not see it enter that state). In JSON, 'sock' identifies\n"
		"the socket across its transitions.\n\n" FILTER_DOC,
	.examples =
		"  ebee tcp states\n"
		"  ebee tcp states --state SYN_SENT --dir from     # connection attempts ending\n"
		"  ebee tcp states --rport 443 -4 --raddr 10.0.0.0/8\n",
};

static const struct opt_doc life_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Prints one line per closed TCP connection: owner, addresses and ports, bytes\n"
		"sent (acknowledged by the peer) and received, duration from the first SYN (MS,\n"
		"empty when the start was not seen) and FIRST, which side closed first: local,\n"
		"remote, reset (a reset received), abort (closed locally without FIN) or '-'\n"
		"(never established, e.g. refused).\n\n" FILTER_DOC,
	.examples =
		"  ebee tcp life\n"
		"  ebee tcp life --lport 80,443 --json\n",
};

static const struct opt_doc count_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Counts state transitions in the kernel (nothing is sent per event) and prints,\n"
		"every interval and at exit, how many sockets ENTERED each state during the\n"
		"interval and how many are in it NOW (among the sockets ebee saw change state\n"
		"since it started). '--by' adds keys: remote address, remote port, local port,\n"
		"owner comm. Rows with neither are left out.\n\n" FILTER_DOC,
	.examples =
		"  ebee tcp count\n"
		"  ebee tcp count --by rport --state ESTABLISHED,SYN_SENT -i 5\n",
};

static const struct ebee_cmd tcp_states_cmd = {
	.name = "states",
	.summary = "print every TCP state transition",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = states_run,
	.opts = states_opts,
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_defaults,
	.doc = &states_doc,
	.min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd tcp_life_cmd = {
	.name = "life",
	.summary = "print each closed TCP connection with duration and bytes",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = life_run,
	.opts = life_opts,
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_defaults,
	.doc = &life_doc,
	.min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd tcp_count_cmd = {
	.name = "count",
	.summary = "count TCP sockets entering and in each state, per interval",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = count_run,
	.opts = count_opts,
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_defaults,
	.doc = &count_doc,
	.min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd *const tcp_sub[] = {
	&tcp_states_cmd, &tcp_life_cmd, &tcp_count_cmd, NULL,
};

static const struct opt_doc tcp_doc = {
	.synopsis = "states|life|count [OPTIONS]",
	.description = "TCP connection states from the sock:inet_sock_set_state tracepoint.",
};

const struct ebee_cmd tcp_cmd = {
	.name = "tcp",
	.summary = "TCP connection states: transitions, lifetimes, counts",
	.doc = &tcp_doc,
	.sub = tcp_sub,
};

const struct collector_desc tcp_collector = {
	.name = "tcp",
	.what = "TCP state tracking",
	.hooks = tcp_hooks,
	.nhooks = ARRAY_SIZE(tcp_hooks),
	.prog_prefix = "tcp_",
};
