// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* NetworkPolicy enforcement. The same body runs at four hooks; each knows which direction of
 * the workload it sees:
 *   tc ingress on a netns workload's host-side veth = what the workload sends  (egress)
 *   tc egress on that veth                          = what it receives         (ingress)
 *   cgroup_skb egress / ingress on a cgroup workload's cgroup.
 * The workload is the one owning the local address (the cgroup's, for cgroup hooks). A
 * connection table entry per workload and flow makes replies pass and carries the per-flow
 * aggregation state: an event when the flow is new, when a TCP flag (SYN, FIN, RST) shows up
 * for the first time on it, and at most once per interval with packet/byte counts. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "core/bpf/emit.bpf.h"
#include "policy/policy.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u8 audit = 0;
const volatile __u64 interval_ns = 5000000000ULL;
const volatile struct pol_timeouts timeouts = {
	.tcp_ns = 21600ULL * 1000000000ULL, .other_ns = 60ULL * 1000000000ULL,
	.close_ns = 10ULL * 1000000000ULL,
};

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_SCTP_ 132
#define IPPROTO_ICMPV6_ 58
#define TC_PASS (-1)   /* TC_ACT_UNSPEC / TCX_NEXT: let the next program or the stack decide */
#define TC_DROP 2      /* TC_ACT_SHOT / TCX_DROP */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, POL_MAX_WL * 8);
	__type(key, struct pol_addr_key);
	__type(value, __u32);
} pol_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, POL_MAX_WL);
	__type(key, __u64);
	__type(value, __u32);
} pol_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POL_MAX_WL * 2);
	__type(key, __u32);
	__type(value, struct pol_table);
} pol_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} pol_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pol_lpm4);
	__type(value, __u64);
} pol_lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pol_lpm6);
	__type(value, __u64);
} pol_lpm6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pol_ct_key);
	__type(value, struct pol_ct);
} pol_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, POL_NSTATS);
	__type(key, __u32);
	__type(value, struct pol_stat);
} pol_stats SEC(".maps");

EBEE_RINGBUF(pol_events, 1 << 20);

struct pkt {
	struct pol_ct_key k;
	__u32 len;
	__u8 flags;
};

/* Reads L3/L4 into p with the local side chosen by `egress` (the source is local when the
 * workload sends). Returns 0, or -1 for what policy does not cover (not IP, ND). */
static __always_inline int parse(struct __sk_buff *skb, __u32 off, __u16 l3proto, int egress,
				 struct pkt *p)
{
	__u8 *src, *dst;
	__u16 ports[2] = {};
	__u32 l4;
	__u8 proto;

	if (l3proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
			return -1;
		proto = ip.protocol;
		l4 = off + ip.ihl * 4;
		p->k.family = 4;
		src = egress ? p->k.laddr : p->k.paddr;
		dst = egress ? p->k.paddr : p->k.laddr;
		__builtin_memcpy(src, &ip.saddr, 4);
		__builtin_memcpy(dst, &ip.daddr, 4);
		/* only the first fragment has the ports */
		if (ip.frag_off & bpf_htons(0x1fff))
			proto = 0xff;
	} else if (l3proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return -1;
		proto = ip6.nexthdr;   /* extension headers: not followed (policy as "other") */
		l4 = off + sizeof(ip6);
		p->k.family = 6;
		src = egress ? p->k.laddr : p->k.paddr;
		dst = egress ? p->k.paddr : p->k.laddr;
		__builtin_memcpy(src, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
		if (proto == IPPROTO_ICMPV6_) {
			__u8 type = 0;

			/* neighbour discovery (133-137) keeps the link working: never policed */
			if (!bpf_skb_load_bytes(skb, l4, &type, 1) && type >= 133 && type <= 137)
				return -1;
		}
	} else {
		return -1;
	}
	p->k.proto = proto;
	if (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == IPPROTO_SCTP_) {
		if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
			return -1;
		p->k.lport = bpf_ntohs(egress ? ports[0] : ports[1]);
		p->k.pport = bpf_ntohs(egress ? ports[1] : ports[0]);
		if (proto == IPPROTO_TCP_ && bpf_skb_load_bytes(skb, l4 + 13, &p->flags, 1))
			p->flags = 0;
	}
	p->len = skb->len;
	return 0;
}

/* Allowing rules' mask for the packet, 0 when none; *why says which case. */
static __always_inline __u64 evaluate(__u32 wd, __u16 peer, struct pkt *p, int egress, __u8 *why)
{
	struct pol_table *t = bpf_map_lookup_elem(&pol_tables, &wd);
	__u16 dport = egress ? p->k.pport : p->k.lport;
	__u64 peers, ports, *m;
	__u32 key;

	if (!t || !t->isolated) {
		*why = POL_WHY_NOT_ISOLATED;
		return 0;
	}
	peers = t->any_peer;
	if (peer != POL_NO_WL) {
		key = POL_PEER_KEY(wd, peer);
		m = bpf_map_lookup_elem(&pol_peers, &key);
		if (m)
			peers |= *m;
	}
	if (p->k.family == 4) {
		struct pol_lpm4 lk = { .prefixlen = 64, .wd = wd };

		__builtin_memcpy(lk.addr, p->k.paddr, 4);
		m = bpf_map_lookup_elem(&pol_lpm4, &lk);
	} else {
		struct pol_lpm6 lk = { .prefixlen = 160, .wd = wd };

		__builtin_memcpy(lk.addr, p->k.paddr, 16);
		m = bpf_map_lookup_elem(&pol_lpm6, &lk);
	}
	if (m)
		peers |= *m;
	ports = t->any_port;
	if (peers & ~ports) {
		for (int i = 0; i < POL_MAX_PORTS; i++) {
			struct pol_port *pp = &t->ports[i];

			if (i >= t->nports)
				break;
			if (pp->proto == p->k.proto && dport >= pp->lo && dport <= pp->hi &&
			    (pp->peer_wl == POL_NO_WL || pp->peer_wl == peer))
				ports |= pp->mask;
		}
	}
	*why = (peers & ports) ? POL_WHY_RULE : POL_WHY_NO_RULE;
	return peers & ports;
}

static __always_inline void emit(struct pkt *p, struct pol_ct *ct, __u8 report, __u8 dir,
				 __u32 ifindex, __u8 hook, __u64 now)
{
	struct pol_event *e = ebee_reserve(pol_events, sizeof(*e));

	if (!e) {
		ebee_drop(pol_events);
		return;
	}
	/* A packet has no "current task": time, type and size only, process fields zero. */
	__builtin_memset(&e->hdr, 0, sizeof(e->hdr));
	e->hdr.time_ns = now;
	e->hdr.type = EV_POLICY_VERDICT;
	e->hdr.size = sizeof(*e);
	__builtin_memcpy(e->laddr, p->k.laddr, 16);
	__builtin_memcpy(e->paddr, p->k.paddr, 16);
	e->pkts = ct->pkts - ct->rep_pkts;
	e->bytes = ct->bytes - ct->rep_bytes;
	e->rules = ct->rules;
	e->ifindex = ifindex;
	e->wl = p->k.wl;
	e->peer_wl = ct->peer_wl;
	e->lport = p->k.lport;
	e->pport = p->k.pport;
	e->family = p->k.family;
	e->proto = p->k.proto;
	e->dir = dir;
	e->verdict = ct->verdict;
	e->why = ct->why;
	e->report = report;
	e->tcp_flags = p->flags;
	e->hook = hook;
	e->init_dir = ct->dir;
	e->pad = 0;
	e->af = p->k.family == 4 ? 2 /* AF_INET */ : 10 /* AF_INET6 */;
	__builtin_memset(e->pad2, 0, sizeof(e->pad2));
	ct->rep_pkts = ct->pkts;
	ct->rep_bytes = ct->bytes;
	ct->last_ns = now;
	ebee_submit(pol_events, e);
}

/* FIN from both sides or a RST: the connection is over, only its last packets remain. */
static __always_inline void close_state(struct pol_ct *ct, __u8 flags, __u8 dir)
{
	if (flags & POL_TCP_FIN)
		ct->fin_dirs |= 1 << dir;
	if ((flags & POL_TCP_RST) || ct->fin_dirs == 3)
		ct->closing = 1;
}

static __always_inline void count(__u8 dir, __u8 verdict, __u32 len)
{
	__u32 k = POL_STAT(dir, verdict);
	struct pol_stat *st = bpf_map_lookup_elem(&pol_stats, &k);

	if (st) {
		st->pkts++;
		st->bytes += len;
	}
}

/* 1 = pass, 0 = drop. */
static __always_inline int handle(struct __sk_buff *skb, __u32 off, __u16 l3proto, int egress,
				  __u8 hook)
{
	struct pkt p = {};
	struct pol_addr_key ak = {};
	struct pol_ct *ct, fresh = {};
	struct pol_timeouts to;
	__u32 *wl = NULL;
	__u16 peer = POL_NO_WL;
	__u64 now;
	__u8 dir = egress ? POL_EGRESS : POL_INGRESS, report, why = 0;

	if (parse(skb, off, l3proto, egress, &p))
		return 1;
	if (hook == POL_HOOK_CGROUP) {
		__u64 cg = bpf_skb_cgroup_id(skb);

		wl = bpf_map_lookup_elem(&pol_cgroups, &cg);
	}
	ak.family = p.k.family;
	if (!wl) {
		__builtin_memcpy(ak.addr, p.k.laddr, 16);
		wl = bpf_map_lookup_elem(&pol_addrs, &ak);
		if (!wl)
			return 1;   /* not a workload's packet */
	}
	p.k.wl = *wl;
	now = bpf_ktime_get_ns();
	/* read through the volatile: the loader sets them (a plain copy could be folded) */
	to.tcp_ns = timeouts.tcp_ns;
	to.other_ns = timeouts.other_ns;
	to.close_ns = timeouts.close_ns;

	ct = bpf_map_lookup_elem(&pol_ct, &p.k);
	/* An entry past its timeout, or a connection opening (SYN without ACK) on one that closed
	 * or that the other side opened, is a new flow: a reused 5-tuple gets its own verdict. */
	if (ct && (pol_ct_expired(ct, p.k.proto, now, &to) ||
		   ((p.flags & (POL_TCP_SYN | POL_TCP_ACK)) == POL_TCP_SYN &&
		    (ct->closing || ct->dir != dir))))
		ct = NULL;
	/* A dropped flow is only remembered for its own direction: a packet the other way is a
	 * new question, not a reply (nothing was let through to reply to). */
	if (ct && !(ct->verdict == POL_DROPPED && ct->dir != dir)) {
		__u8 newflags = p.flags & POL_TCP_REPORT & ~ct->flags_seen;

		__sync_fetch_and_add(&ct->pkts, 1);
		__sync_fetch_and_add(&ct->bytes, p.len);
		ct->seen_ns = now;
		close_state(ct, p.flags, dir);
		count(dir, ct->verdict, p.len);
		report = 0;
		if (newflags) {
			ct->flags_seen |= newflags;
			report = POL_REP_FLAGS;
		} else if (now - ct->last_ns >= interval_ns) {
			report = POL_REP_INTERVAL;
		}
		if (report)
			emit(&p, ct, report, dir, skb->ifindex, hook, now);
		return ct->verdict != POL_DROPPED;
	}
	/* A new flow (or a new question): who the peer is matters only now. */
	__builtin_memcpy(ak.addr, p.k.paddr, 16);
	wl = bpf_map_lookup_elem(&pol_addrs, &ak);
	if (wl)
		peer = *wl;
	fresh.rules = evaluate(POL_WD(p.k.wl, dir), peer, &p, egress, &why);
	fresh.why = why;
	fresh.verdict = why == POL_WHY_NO_RULE ? (audit ? POL_AUDIT : POL_DROPPED) : POL_FORWARDED;
	fresh.dir = dir;
	fresh.peer_wl = peer;
	fresh.pkts = 1;
	fresh.bytes = p.len;
	fresh.flags_seen = p.flags & POL_TCP_REPORT;
	fresh.last_ns = now;
	fresh.seen_ns = now;
	close_state(&fresh, p.flags, dir);
	count(dir, fresh.verdict, p.len);
	bpf_map_update_elem(&pol_ct, &p.k, &fresh, BPF_ANY);
	ct = bpf_map_lookup_elem(&pol_ct, &p.k);
	emit(&p, ct ?: &fresh, POL_REP_NEW, dir, skb->ifindex, hook, now);
	return fresh.verdict != POL_DROPPED;
}

SEC("tc")
int ebee_pol_from(struct __sk_buff *skb)
{
	return handle(skb, 14, skb->protocol, 1, POL_HOOK_TC) ? TC_PASS : TC_DROP;
}

SEC("tc")
int ebee_pol_to(struct __sk_buff *skb)
{
	return handle(skb, 14, skb->protocol, 0, POL_HOOK_TC) ? TC_PASS : TC_DROP;
}

SEC("cgroup_skb/egress")
int ebee_pol_cg_eg(struct __sk_buff *skb)
{
	return handle(skb, 0, skb->protocol, 1, POL_HOOK_CGROUP);
}

SEC("cgroup_skb/ingress")
int ebee_pol_cg_in(struct __sk_buff *skb)
{
	return handle(skb, 0, skb->protocol, 0, POL_HOOK_CGROUP);
}
