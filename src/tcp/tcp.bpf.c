// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* ebee tcp: TCP state transitions from sock:inet_sock_set_state.
 *
 * Every filter is a rodata constant checked before any map work. A socket's start time, the
 * time it entered its current state, its best known owner and (count) the key it is counted
 * under live in `socks`, keyed by the sock pointer and deleted when it reaches CLOSE. states
 * emits one event per transition, life one per closed connection, count nothing: it adds to
 * per-CPU counters that user space reads each interval. Events go through emit.bpf.h (no
 * wakeup per event). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
/* A connect storm makes ~25 MB/s of events here: with the reader draining every 20 ms the
 * backlog stays under 1 MB, so no event pays for a wakeup (a self-IPI, microseconds in a VM);
 * past a quarter of the ring (1 MB of states' 4 MB) one does, and the ring still has room while
 * the reader wakes. User space sets it with the ring's size. */
const volatile __u64 wakeup_bytes = 1024 * 1024;
#define EBEE_WAKEUP_BYTES wakeup_bytes
/* Records submitted are counted: at exit user space checks it read every one of them. */
#define EBEE_COUNT_SUBMITTED
#include "emit.bpf.h"
#include "tcp.h"

#define AF_INET  2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* Set by user space before load. */
const volatile __u8 mode = TCP_MODE_STATES;
/* count mode: also one event per closed connection, as life emits (the daemon's recent list) */
const volatile __u8 count_life;
const volatile __u16 filter_family;            /* 0 = any */
const volatile __u32 filter_pid;               /* 0 = any */
const volatile __u16 state_mask;               /* bit per state, 0 = all */
const volatile __u8 state_dir = TCP_DIR_ANY;
const volatile __u8 count_by;                  /* bits (1 << TCP_BY_*) beyond state */
const volatile __u8 n_lports, n_rports, n_laddrs, n_raddrs;
const volatile struct tcp_port_range lports[TCP_MAX_PORTS];
const volatile struct tcp_port_range rports[TCP_MAX_PORTS];
const volatile struct tcp_cidr laddrs[TCP_MAX_CIDRS];
const volatile struct tcp_cidr raddrs[TCP_MAX_CIDRS];

EBEE_RINGBUF(events, 4 * 1024 * 1024);

#define SI_ACTIVE   0x01     /* seen in SYN_SENT: bytes_acked counts our SYN */
#define SI_FIN_SENT 0x02     /* seen entering FIN_WAIT1 or LAST_ACK */

struct sock_info {
	__u64 born_ns;          /* 0: the socket's start was not seen */
	__u64 state_ns;         /* when it entered its current state */
	__u32 pid;
	__u8 owner_known;
	__u8 first;             /* enum tcp_first */
	__u8 counted;           /* count: ckey holds where it is counted */
	__u8 bits;              /* SI_* */
	char comm[TCP_COMM_LEN];
	struct tcp_count_key ckey;
};

/* LRU: a socket whose CLOSE we never see (it predates us and the map is full) ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_info);
} socks SEC(".maps");

/* Owner of each listening port, remembered at listen() (or found in /proc by user space at
 * start): a child socket is born in softirq (LISTEN -> SYN_RECV) where the current task is
 * whoever sent the packet. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tcp_listener_key);
	__type(value, struct tcp_owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tcp_count_key);
	__type(value, struct tcp_count_val);
} counts SEC(".maps");

struct tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u16 pad;
};

static __always_inline bool cidr_match(const volatile struct tcp_cidr *c, const struct tuple *t,
				       const __u8 *a)
{
	const __u64 *x = (const __u64 *)a;

	if (c->family != t->family)
		return false;
	return ((x[0] & *(const volatile __u64 *)&c->mask[0]) == *(const volatile __u64 *)&c->addr[0]) &&
	       ((x[1] & *(const volatile __u64 *)&c->mask[8]) == *(const volatile __u64 *)&c->addr[8]);
}

/* The socket filters: properties of the connection, not of the transition. */
static __always_inline bool tuple_pass(const struct tuple *t)
{
	int i;
	bool ok;

	if (filter_family && t->family != filter_family)
		return false;
	if (n_lports) {
		ok = false;
		for (i = 0; i < TCP_MAX_PORTS && i < n_lports; i++)
			ok |= lports[i].lo <= t->lport && t->lport <= lports[i].hi;
		if (!ok)
			return false;
	}
	if (n_rports) {
		ok = false;
		for (i = 0; i < TCP_MAX_PORTS && i < n_rports; i++)
			ok |= rports[i].lo <= t->rport && t->rport <= rports[i].hi;
		if (!ok)
			return false;
	}
	if (n_laddrs) {
		ok = false;
		for (i = 0; i < TCP_MAX_CIDRS && i < n_laddrs; i++)
			ok |= cidr_match(&laddrs[i], t, t->saddr);
		if (!ok)
			return false;
	}
	if (n_raddrs) {
		ok = false;
		for (i = 0; i < TCP_MAX_CIDRS && i < n_raddrs; i++)
			ok |= cidr_match(&raddrs[i], t, t->daddr);
		if (!ok)
			return false;
	}
	return true;
}

/* v4 peers of dual-stack sockets (::ffff:a.b.c.d) are reported and filtered as IPv4. */
static __always_inline void unmap_v4(struct tuple *t)
{
	__u32 *s = (__u32 *)t->saddr, *d = (__u32 *)t->daddr;

	if (t->family != AF_INET6)
		return;
	if (s[0] || s[1] || s[2] != bpf_htonl(0xffff) || d[0] || d[1] || d[2] != bpf_htonl(0xffff))
		return;
	s[0] = s[3];
	d[0] = d[3];
	s[1] = s[2] = s[3] = 0;
	d[1] = d[2] = d[3] = 0;
	t->family = AF_INET;
}

static __always_inline void count_add(struct tcp_count_key *k, bool enter, bool leave)
{
	struct tcp_count_val *v, zero = {};

	v = bpf_map_lookup_elem(&counts, k);
	if (!v) {
		bpf_map_update_elem(&counts, k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, k);
		if (!v) {
			ebee_count_drop(&events_drops);   /* table full: reported as lost */
			return;
		}
	}
	if (enter)
		v->entered++;
	if (leave)
		v->left++;
}

static __always_inline void count_key(struct tcp_count_key *k, const struct tuple *t,
				      const struct sock_info *si, int state)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->state = state;
	if (count_by & ((1 << TCP_BY_RADDR) | (1 << TCP_BY_RPORT) | (1 << TCP_BY_LPORT)))
		k->family = t->family;
	if (count_by & (1 << TCP_BY_RADDR))
		__builtin_memcpy(k->addr, t->daddr, 16);
	if (count_by & (1 << TCP_BY_RPORT))
		k->rport = t->rport;
	if (count_by & (1 << TCP_BY_LPORT))
		k->lport = t->lport;
	if ((count_by & (1 << TCP_BY_COMM)) && si->owner_known)
		__builtin_memcpy(k->comm, si->comm, TCP_COMM_LEN);
}

static __always_inline __u8 first_closer(__u8 first, int oldstate, int newstate, bool task)
{
	if (first != TCP_FIRST_NONE)
		return first;
	if (newstate == TCP_FIN_WAIT1)
		return TCP_FIRST_LOCAL;
	if (newstate == TCP_CLOSE_WAIT)
		return TCP_FIRST_REMOTE;
	if (newstate == TCP_CLOSE && (oldstate == TCP_ESTABLISHED || oldstate == TCP_SYN_RECV))
		return task ? TCP_FIRST_ABORT : TCP_FIRST_RESET;
	return TCP_FIRST_NONE;
}

/* `task`: the current task holds the socket lock (sk_lock.owned), i.e. a system call of the
 * socket's user (connect, listen, close, shutdown, or packets it processes from the backlog)
 * made this transition; otherwise it comes from softirq (packets, timers) where the current
 * task is unrelated to the socket. Only then is the current task taken as the owner. */
static __always_inline void listener_key(struct tcp_listener_key *k, const struct sock *sk,
					 const struct tuple *t)
{
	k->port = t->lport;
	k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Payload bytes, from the counters the kernel keeps in sequence space: bytes_acked counts our
 * SYN once acked (active open) and our FIN once acked; bytes_received counts the peer's FIN
 * (tcp_fin() also sets SOCK_DONE). */
static __always_inline void payload_bytes(const struct sock *sk, const struct sock_info *si,
					  int oldstate, struct tcp_event *e)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u64 acked = BPF_CORE_READ(tp, bytes_acked);
	__u64 rcvd = BPF_CORE_READ(tp, bytes_received);
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	bool fin_sent = (si->bits & SI_FIN_SENT) || oldstate == TCP_FIN_WAIT1 ||
			oldstate == TCP_FIN_WAIT2 || oldstate == TCP_CLOSING || oldstate == TCP_LAST_ACK;

	if ((si->bits & SI_ACTIVE) && acked)
		acked--;
	if (fin_sent && acked && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		acked--;
	if (rcvd && (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))))
		rcvd--;
	e->tx_bytes = acked;
	e->rx_bytes = rcvd;
}

static __always_inline int handle(const struct sock *sk, int oldstate, int newstate,
				  struct tuple *t, bool task)
{
	__u64 skaddr = (__u64)sk, now;
	struct sock_info *si, fresh;
	struct tcp_event *e;
	struct tcp_count_key k;
	bool known, pass;
	__u64 span = 0;
	struct tcp_listener_key lkey;

	unmap_v4(t);
	if (!tuple_pass(t))
		return 0;

	now = bpf_ktime_get_ns();
	si = bpf_map_lookup_elem(&socks, &skaddr);
	/* A socket starting a life (connect, listen, or a child of a listener) that finds an
	 * entry: the sock memory of one whose CLOSE we missed (filtered or evicted) was reused. */
	if (si && (oldstate == TCP_CLOSE || (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV))) {
		if (mode == TCP_MODE_COUNT && si->counted)
			count_add(&si->ckey, false, true);
		si = NULL;
	}
	known = si != NULL;
	if (!si) {
		si = &fresh;
		__builtin_memset(&fresh, 0, sizeof(fresh));
		if (newstate == TCP_SYN_SENT || newstate == TCP_SYN_RECV || newstate == TCP_LISTEN)
			fresh.born_ns = now;
		if (!task && oldstate == TCP_LISTEN) {
			struct tcp_owner *o;

			listener_key(&lkey, sk, t);
			o = bpf_map_lookup_elem(&listeners, &lkey);
			if (o) {
				fresh.pid = o->pid;
				__builtin_memcpy(fresh.comm, o->comm, TCP_COMM_LEN);
				fresh.owner_known = 1;
			}
		}
	} else {
		span = now - si->state_ns;
	}
	si->state_ns = now;
	if (task && !si->owner_known) {
		si->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(si->comm, TCP_COMM_LEN);
		si->owner_known = 1;
	}
	si->first = first_closer(si->first, oldstate, newstate, task);
	if (newstate == TCP_SYN_SENT)
		si->bits |= SI_ACTIVE;
	else if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)
		si->bits |= SI_FIN_SENT;

	if (newstate == TCP_LISTEN && task) {
		struct tcp_owner o = { .pid = si->pid };

		__builtin_memcpy(o.comm, si->comm, TCP_COMM_LEN);
		listener_key(&lkey, sk, t);
		bpf_map_update_elem(&listeners, &lkey, &o, BPF_ANY);
	} else if (oldstate == TCP_LISTEN && newstate == TCP_CLOSE) {
		listener_key(&lkey, sk, t);
		bpf_map_delete_elem(&listeners, &lkey);
	}

	pass = !filter_pid || (si->owner_known && si->pid == filter_pid);

	if (mode == TCP_MODE_COUNT) {
		if (si->counted)
			count_add(&si->ckey, false, true);
		si->counted = 0;
		if (pass && (!state_mask || (state_mask & (1 << (newstate & 15))))) {
			count_key(&k, t, si, newstate);
			/* CLOSE is entered and left at once: the socket is gone. */
			count_add(&k, true, newstate == TCP_CLOSE);
			si->ckey = k;
			si->counted = newstate != TCP_CLOSE;
		}
		pass = count_life && pass && newstate == TCP_CLOSE && oldstate != TCP_LISTEN;
	} else if (mode == TCP_MODE_LIFE) {
		pass = pass && newstate == TCP_CLOSE && oldstate != TCP_LISTEN;
	} else if (pass && state_mask) {
		bool into = state_mask & (1 << (newstate & 15));
		bool from = state_mask & (1 << (oldstate & 15));

		pass = state_dir == TCP_DIR_INTO ? into : state_dir == TCP_DIR_FROM ? from : into || from;
	}

	if (pass) {
		e = ebee_reserve(events, sizeof(*e));
		if (e) {
			e->ts_ns = now;
			e->skaddr = skaddr;
			__builtin_memcpy(e->saddr, t->saddr, 16);
			__builtin_memcpy(e->daddr, t->daddr, 16);
			e->family = t->family;
			e->lport = t->lport;
			e->rport = t->rport;
			e->oldstate = oldstate;
			e->newstate = newstate;
			e->first = si->first;
			e->pid = si->pid;
			__builtin_memcpy(e->comm, si->comm, TCP_COMM_LEN);
			e->flags = si->owner_known ? TCP_EV_OWNER_KNOWN : 0;
			e->pad[0] = e->pad[1] = 0;
			if (mode != TCP_MODE_STATES) {   /* life, or count_life */
				payload_bytes(sk, si, oldstate, e);
				e->span_ns = si->born_ns ? now - si->born_ns : 0;
				if (si->born_ns)
					e->flags |= TCP_EV_SPAN_KNOWN;
			} else {
				e->tx_bytes = e->rx_bytes = 0;
				e->span_ns = span;
				if (known)
					e->flags |= TCP_EV_SPAN_KNOWN;
			}
			ebee_submit(events, e);
		} else {
			ebee_drop(events);
		}
	}

	if (newstate == TCP_CLOSE) {
		if (known)
			bpf_map_delete_elem(&socks, &skaddr);
	} else if (!known) {
		bpf_map_update_elem(&socks, &skaddr, &fresh, BPF_ANY);
	}
	return 0;
}

/* tp_btf: the socket is a typed pointer, fields are read directly. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_btf, const struct sock *sk, int oldstate, int newstate)
{
	struct tuple t;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__builtin_memset(&t, 0, sizeof(t));
	t.family = sk->__sk_common.skc_family;
	t.lport = sk->__sk_common.skc_num;
	if (!t.lport)
		t.lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	t.rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (t.family == AF_INET) {
		*(__u32 *)t.saddr = sk->__sk_common.skc_rcv_saddr;
		*(__u32 *)t.daddr = sk->__sk_common.skc_daddr;
	} else if (t.family == AF_INET6) {
		bpf_probe_read_kernel(t.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(t.daddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return 0;
	}
	return handle(sk, oldstate, newstate, &t, sk->sk_lock.owned);
}

/* raw_tp: the same arguments, untyped: fields through CO-RE reads. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tcp_raw, const struct sock *sk, int oldstate, int newstate)
{
	struct tuple t;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__builtin_memset(&t, 0, sizeof(t));
	t.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!t.lport)
		t.lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	t.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (t.family == AF_INET) {
		*(__u32 *)t.saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		*(__u32 *)t.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	} else if (t.family == AF_INET6) {
		BPF_CORE_READ_INTO(&t.saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t.daddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return 0;
	}
	return handle(sk, oldstate, newstate, &t, BPF_CORE_READ(sk, sk_lock.owned));
}

/* Plain tracepoint: the addresses come from the event record.
 * The local port, in both variants: inet_num (skc_num), set at bind, is already there when a
 * listener enters LISTEN, where inet_sport is still 0; at CLOSE the port has been released
 * (inet_put_port zeroes inet_num) but inet_sport remains. A connecting socket has neither in
 * CLOSE -> SYN_SENT (the port is picked just after). */
SEC("tracepoint/sock/inet_sock_set_state")
int tcp_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct tuple t;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	__builtin_memset(&t, 0, sizeof(t));
	t.family = ctx->family;
	t.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!t.lport)
		t.lport = ctx->sport;
	t.rport = ctx->dport;
	if (t.family == AF_INET) {
		/* copied by helper: the verifier refuses loads through a moved ctx pointer */
		bpf_probe_read_kernel(t.saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(t.daddr, 4, ctx->daddr);
	} else if (t.family == AF_INET6) {
		bpf_probe_read_kernel(t.saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(t.daddr, 16, ctx->daddr_v6);
	} else {
		return 0;
	}
	return handle(sk, ctx->oldstate, ctx->newstate, &t, BPF_CORE_READ(sk, sk_lock.owned));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
