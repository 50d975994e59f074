// SPDX-License-Identifier: BSD-2-Clause
/* The tcp collector: TCP state transitions from sock:inet_sock_set_state, filtered in the
 * kernel. states prints each transition, life each closed connection, count a table per
 * interval built from per-CPU counters (nothing crosses per event). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/capability.h>
#include "core/collector.h"
#include "core/priv.h"
#include "core/event.h"
#include "core/json.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "tcp/owners.h"
#include "tcp/collect.h"
#include "tcp/parse.h"
#include "tcp/tcp.skel.h"

_Static_assert(sizeof(struct tcp_event) == 104, "tcp_event layout");
_Static_assert(sizeof(struct tcp_count_key) == 40, "tcp_count_key layout");

static const struct ebee_hook tcp_hooks[] = {
	{ .name = "sock:inet_sock_set_state",
	  .v = { { "tcp_btf", KIND_TP_BTF }, { "tcp_raw", KIND_RAW_TP },
		 { "tcp_tp", KIND_TRACEPOINT } } },
};

/* ---- filters: options into rodata ---- */

/* Port ranges from the typed option (parsed and checked by the option layer). */
static int set_ports(const struct opt_ports *l, const char *opt, struct tcp_port_range *ports, __u8 *n)
{
	if (l->n > TCP_MAX_PORTS) {
		ebee_err("too many ports for '--%s' (at most %d ports or ranges)", opt, TCP_MAX_PORTS);
		return -EINVAL;
	}
	for (int i = 0; i < l->n; i++) {
		ports[i].lo = l->r[i].lo;
		ports[i].hi = l->r[i].hi;
	}
	*n = (__u8)l->n;
	return 0;
}

/* CIDRs from the typed option, as the kernel side matches them: address and byte mask. */
static int set_cidrs(const struct opt_cidrs *l, const char *opt, int family, struct tcp_cidr *out,
		     __u8 *n)
{
	if (l->n > TCP_MAX_CIDRS) {
		ebee_err("too many addresses for '--%s' (at most %d)", opt, TCP_MAX_CIDRS);
		return -EINVAL;
	}
	for (int i = 0; i < l->n; i++) {
		const struct opt_cidr *c = &l->v[i];
		struct tcp_cidr *t = &out[i];
		int af = c->family == 4 ? AF_INET : AF_INET6;
		char buf[INET6_ADDRSTRLEN];

		if (family && af != family) {
			ebee_err("conflicting filters: '--%s %s/%u' is %s but '%s' was given", opt,
				 tcp_addr_fmt(af, c->addr, buf, sizeof(buf)), c->prefix,
				 af == AF_INET ? "IPv4" : "IPv6", family == AF_INET ? "-4" : "-6");
			return -EINVAL;
		}
		tcp_cidr_from(c, t);
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
	ro->count_life = mode == TCP_MODE_COUNT && cfg->recent;
	ro->filter_family = family;
	ro->filter_pid = (__u32)cfg->pid;
	if ((err = parse_states(&cfg->state, &ro->state_mask)) ||
	    (err = set_ports(&cfg->lport, "lport", ro->lports, &ro->n_lports)) ||
	    (err = set_ports(&cfg->rport, "rport", ro->rports, &ro->n_rports)) ||
	    (err = set_cidrs(&cfg->laddr, "laddr", family, ro->laddrs, &ro->n_laddrs)) ||
	    (err = set_cidrs(&cfg->raddr, "raddr", family, ro->raddrs, &ro->n_raddrs)) ||
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
	struct collector *c;
	struct tcp_bpf *skel;
	enum tcp_mode mode;
	struct ring_buffer *rb;
	uint64_t events;
	uint64_t unread;                /* submitted by the kernel side, never read (at stop) */
	/* count */
	uint8_t by;
	struct tcp_count_val *vals;     /* one per CPU */
	int ncpus;
	struct count_row *cur, *prev;
	size_t ncur, nprev, cap, capprev;
	/* count with cfg->recent: the last closed connections, a ring of `recent` */
	struct tcp_event *recent;
	unsigned nrecent, recent_cap;
	uint64_t recent_seen;
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
	struct out *o = r->c->out;

	if (size < sizeof(*e))
		return 0;
	if (r->mode == TCP_MODE_COUNT) {   /* a closed connection for the recent list */
		if (r->recent)
			r->recent[r->recent_seen++ % r->recent_cap] = *e;
		return 0;
	}
	r->events++;
	if (!o)
		return 0;
	if (r->mode == TCP_MODE_STATES) {
		put_time(o, C_TIME, e->ts_ns);
		put_owner(o, e, C_PID);
		put_ends(o, e, C_AF);
		out_str(o, C_OLD, state_str(e->oldstate));
		out_str(o, C_NEW, state_str(e->newstate));
		if (e->flags & TCP_EV_SPAN_KNOWN)
			out_f64(o, C_MS, e->span_ns / 1e6);
		if (o->fmt == OUT_JSON)   /* JSON only: not a table column */
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

static void print_counts(struct tcp_run *r, struct out *o)
{
	char tbuf[40], abuf[INET6_ADDRSTRLEN];
	size_t i;
	void *tmp;

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
}

/* Columns for this mode, once per output; the count table hides the keys not in --by. */
static void set_cols(struct tcp_run *r, struct out *o)
{
	static const struct { const struct out_col *cols; int n; } by_mode[] = {
		[TCP_MODE_STATES] = { states_cols, ARRAY_SIZE(states_cols) },
		[TCP_MODE_LIFE] = { life_cols, ARRAY_SIZE(life_cols) },
		[TCP_MODE_COUNT] = { count_cols, ARRAY_SIZE(count_cols) },
	};

	if (o->cols == by_mode[r->mode].cols)
		return;
	out_init(o, o->f, o->fmt, by_mode[r->mode].cols, by_mode[r->mode].n);
	if (r->mode != TCP_MODE_COUNT)
		return;
	out_hide(o, K_AF, !(r->by & ((1 << TCP_BY_RADDR) | (1 << TCP_BY_RPORT) | (1 << TCP_BY_LPORT))));
	out_hide(o, K_RADDR, !(r->by & (1 << TCP_BY_RADDR)));
	out_hide(o, K_RPORT, !(r->by & (1 << TCP_BY_RPORT)));
	out_hide(o, K_LPORT, !(r->by & (1 << TCP_BY_LPORT)));
	out_hide(o, K_COMM, !(r->by & (1 << TCP_BY_COMM)));
}

static int tcp_open(struct collector *c)
{
	const struct tcp_cfg *cfg = c->cfg;
	struct tcp_run *r = c->priv;
	int err;

	r->c = c;
	r->mode = cfg->mode;
	c->lost_why = r->mode == TCP_MODE_COUNT ? "counter table full" : "ring buffer full";
	r->skel = tcp_bpf__open();
	if (!r->skel) {
		err = -errno;
		ebee_err("cannot open the tcp BPF object: %s", strerror(errno));
		return err;
	}
	err = configure(r->skel, cfg, r->mode);
	if (err)
		return err;
	r->by = r->skel->rodata->count_by;
	if (r->mode == TCP_MODE_COUNT && !cfg->recent)   /* count emits nothing: keep the ring small */
		bpf_map__set_max_entries(r->skel->maps.events, 4096);
	else if (r->mode == TCP_MODE_COUNT)   /* closed connections only */
		bpf_map__set_max_entries(r->skel->maps.events, 256 * 1024);
	else   /* life and states never count */
		bpf_map__set_max_entries(r->skel->maps.counts, 1);
	/* life sends one event per connection, a fifth of states': a quarter of the ring is
	 * enough, and a mapped ring is resident twice over (its pages are mapped twice for the
	 * wrap-around): 2 MB of RSS instead of 8 (bench/memory). */
	if (r->mode == TCP_MODE_LIFE)
		bpf_map__set_max_entries(r->skel->maps.events, 1 << 20);
	r->skel->rodata->wakeup_bytes = bpf_map__max_entries(r->skel->maps.events) / 4;
	/* Tests shrink the ring to make it overflow (a power of 2, at least a page); no forced
	 * wakeup then, so that a burst between two drains does overflow it. */
	if (getenv("EBEE_TCP_RING_BYTES"))
		bpf_map__set_max_entries(r->skel->maps.events,
					 strtoul(getenv("EBEE_TCP_RING_BYTES"), NULL, 0));
	err = collector_choose(c, r->skel->obj);
	if (err)
		return err;
	err = tcp_bpf__load(r->skel);
	if (err)
		return ebee_load_err("tcp", err);
	if (r->mode == TCP_MODE_COUNT && cfg->recent) {
		r->recent_cap = cfg->recent;
		if (!(r->recent = calloc(r->recent_cap, sizeof(*r->recent)))) {
			ebee_err("cannot allocate the recent connections");
			return -ENOMEM;
		}
	}
	if (r->mode == TCP_MODE_COUNT) {
		r->ncpus = ebee_ncpus();
		r->vals = calloc(r->ncpus > 0 ? r->ncpus : 1, sizeof(*r->vals));
		if (r->ncpus <= 0 || !r->vals) {
			ebee_err("cannot allocate per-CPU counters");
			return -ENOMEM;
		}
	}
	return 0;
}

static int tcp_start(struct collector *c, struct ebee_loop *l)
{
	struct tcp_run *r = c->priv;
	int err, n;

	err = tcp_bpf__attach(r->skel);
	if (err) {
		ebee_err("cannot attach to 'sock:inet_sock_set_state': %s", strerror(-err));
		return err;
	}
	/* After attach: a listener opened meanwhile is already known (the seed never overwrites) */
	n = tcp_seed_listeners(bpf_map__fd(r->skel->maps.listeners));
	if (n < 0)
		ebee_warn("cannot find the owners of existing TCP listeners: %s", strerror(-n));
	else
		ebee_dbg("%d existing TCP listeners with a known owner", n);
	if (c->out)
		set_cols(r, c->out);
	if (r->mode != TCP_MODE_COUNT || r->recent) {
		r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_event, r, NULL);
		if (!r->rb) {
			err = -errno;
			ebee_err("cannot open the tcp ring buffer: %s", strerror(errno));
			return err;
		}
		err = loop_add_ringbuf(l, r->rb, 0);
		if (err) {
			ebee_err("cannot set up the event loop: %s", strerror(-err));
			return err;
		}
		if (c->out && r->mode != TCP_MODE_COUNT)
			out_header(c->out);
	}
	ebee_info("tracing TCP state changes with %s", ebee_kind_name(collector_kind(c, 0)));
	return 0;
}

static int tcp_refresh(struct collector *c)
{
	struct tcp_run *r = c->priv;
	int err;

	if (r->mode == TCP_MODE_COUNT) {
		err = read_counts(r);
		if (err) {
			ebee_err("cannot read TCP counters: %s", strerror(-err));
			return err;
		}
		/* Counted in the kernel: the transitions into any state since the start. */
		r->events = 0;
		for (size_t i = 0; i < r->ncur; i++)
			r->events += r->cur[i].entered;
	}
	c->cnt.events = r->events;
	c->cnt.lost = ebee_percpu_sum(bpf_map__fd(r->skel->maps.events_drops), EBEE_SLOT_DROPS) +
		      r->unread;
	c->cnt.missed = collector_prog_misses(c, r->skel->obj);
	return 0;
}

/* count: the table of the interval; states/life print as events come, and here only make
 * sure the rows reach a pipe at least once per tick. */
static void tcp_rows(struct collector *c, struct out *o)
{
	struct tcp_run *r = c->priv;

	set_cols(r, o);
	if (r->mode == TCP_MODE_COUNT)
		print_counts(r, o);
	fflush(o->f);
}

static void tcp_summary(struct collector *c, struct jw *w)
{
	static const char *const modes[] = { "states", "life", "count" };
	const struct tcp_run *r = c->priv;

	jw_kstr(w, "mode", modes[r->mode]);
}

/* Detach, then read every record the program submitted: one written just before the detach,
 * or by a run still in flight on another CPU, belongs to this run and its counters. One that
 * never shows up is counted as lost, never silently dropped. */
static void tcp_stop(struct collector *c)
{
	struct tcp_run *r = c->priv;

	tcp_bpf__detach(r->skel);
	if (!r->rb)
		return;
	r->unread = ebee_ring_settle(r->rb, bpf_map__fd(r->skel->maps.events_drops), &r->events, 200);
	if (r->unread)
		ebee_warn("%llu TCP events submitted by the kernel were never read",
			  (unsigned long long)r->unread);
}

static void tcp_close(struct collector *c)
{
	struct tcp_run *r = c->priv;

	if (r->rb && c->loop)
		loop_del_ringbuf(c->loop, r->rb);
	ring_buffer__free(r->rb);
	tcp_bpf__destroy(r->skel);
	free(r->vals);
	free(r->recent);
	free(r->cur);
	free(r->prev);
}

/* The daemon's view of count mode: per state, the sockets that entered it since the start and
 * those in it now, summed over the --by keys (the state is the only bounded key). Reads the
 * last snapshot only: any number of renders between two refreshes give the same numbers. */
static void state_totals(const struct tcp_run *r, uint64_t *entered, int64_t *now)
{
	for (size_t i = 0; i < r->ncur; i++) {
		const struct count_row *c = &r->cur[i];

		if (c->key.state >= TCP_NSTATES)
			continue;
		entered[c->key.state] += c->entered;
		now[c->key.state] += (int64_t)(c->entered - c->left);
	}
}

static void tcp_api(struct collector *c, struct jw *w, size_t top)
{
	static const char *const modes[] = { "states", "life", "count" };
	const struct tcp_run *r = c->priv;
	uint64_t entered[TCP_NSTATES] = { 0 };
	int64_t now[TCP_NSTATES] = { 0 };

	state_totals(r, entered, now);
	jw_kstr(w, "mode", modes[r->mode]);
	jw_ku64(w, "transitions", c->cnt.events);
	jw_key(w, "states");
	jw_arr_begin(w);
	for (int s = 1; s < TCP_NSTATES && r->mode == TCP_MODE_COUNT; s++) {
		jw_obj_begin(w);
		jw_kstr(w, "state", state_str(s));
		jw_ku64(w, "entered", entered[s]);
		jw_ki64(w, "now", now[s]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	/* The last closed connections, newest first: who, how long, how much, who closed. */
	jw_key(w, "recent");
	jw_arr_begin(w);
	for (uint64_t i = 0; r->recent && i < r->recent_seen && i < r->recent_cap && (!top || i < top); i++) {
		const struct tcp_event *e = &r->recent[(r->recent_seen - 1 - i) % r->recent_cap];
		char buf[INET6_ADDRSTRLEN + 8];

		jw_obj_begin(w);
		jw_kstr(w, "time", ebee_fmt_time(ebee_ktime_to_real(e->ts_ns), buf, sizeof(buf)));
		if (e->flags & TCP_EV_OWNER_KNOWN) {
			jw_ku64(w, "pid", e->pid);
			jw_key(w, "comm");
			jw_strn(w, e->comm, TCP_COMM_LEN);
		}
		jw_kstr(w, "laddr", tcp_addr_fmt(e->family, e->saddr, buf, sizeof(buf)));
		jw_ku64(w, "lport", e->lport);
		jw_kstr(w, "raddr", tcp_addr_fmt(e->family, e->daddr, buf, sizeof(buf)));
		jw_ku64(w, "rport", e->rport);
		jw_ku64(w, "tx_bytes", e->tx_bytes);
		jw_ku64(w, "rx_bytes", e->rx_bytes);
		if (e->flags & TCP_EV_SPAN_KNOWN)
			jw_kf64(w, "ms", e->span_ns / 1e6);
		jw_kstr(w, "first", tcp_first_name(e->first));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void tcp_metrics(struct collector *c, struct prom *p)
{
	const struct tcp_run *r = c->priv;
	uint64_t entered[TCP_NSTATES] = { 0 };
	int64_t now[TCP_NSTATES] = { 0 };

	if (r->mode != TCP_MODE_COUNT)
		return;
	state_totals(r, entered, now);
	prom_family(p, "ebee_tcp_state_entered_total", "counter",
		    "TCP sockets that entered each state since ebee started (sock:inet_sock_set_state).");
	for (int s = 1; s < TCP_NSTATES; s++) {
		struct prom_label l = { "state", state_str(s) };

		prom_u64(p, "ebee_tcp_state_entered_total", &l, 1, entered[s]);
	}
	prom_family(p, "ebee_tcp_sockets", "gauge",
		    "TCP sockets in each state now, of those seen changing state since ebee started.");
	for (int s = 1; s < TCP_NSTATES; s++) {
		struct prom_label l = { "state", state_str(s) };

		prom_f64(p, "ebee_tcp_sockets", &l, 1, now[s] > 0 ? (double)now[s] : 0);
	}
}

/* Without a command line (the daemon): per-state counts every second. */
static const struct tcp_cfg tcp_cfg_daemon = {
	.mode = TCP_MODE_COUNT,
	.interval = 1.0,
	.recent = 100,
};

const struct collector_desc tcp_collector = {
	.name = "tcp",
	.what = "TCP state tracking",
	.hooks = tcp_hooks,
	.nhooks = ARRAY_SIZE(tcp_hooks),
	.prog_prefix = "tcp_",
	.caps_run = COLLECTOR_CAPS(0),   /* map reads through fds it holds */
	.priv_size = sizeof(struct tcp_run),
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_cfg_daemon,
	.opts = tcp_count_opts,
	.api = tcp_api,
	.metrics = tcp_metrics,
	.open = tcp_open,
	.start = tcp_start,
	.refresh = tcp_refresh,
	.rows = tcp_rows,
	.summary = tcp_summary,
	.stop = tcp_stop,
	.close = tcp_close,
};
