// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* netwatch: per-source-address ingress counters from a TC program (TCX link or clsact
 * direct-action filter; the same program serves both). Parses Ethernet with up to two VLAN
 * tags, IPv4, IPv6 (skipping extension headers), TCP/UDP ports. It never drops or changes a
 * packet: every path returns TC_ACT_UNSPEC (== TCX_NEXT), "continue with the next program". */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netwatch.h"

#define TC_ACT_UNSPEC  (-1)
#define ETH_P_IP       0x0800
#define ETH_P_IPV6     0x86DD
#define ETH_P_8021Q    0x8100
#define ETH_P_8021AD   0x88A8
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS 60

/* Filters, set by user space before load. */
const volatile __u32 port_filter = 0;               /* 1: only count packets to port_set */
const volatile __u64 port_set[NW_PORT_WORDS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NW_DEFAULT_SOURCES);      /* resized by user space */
	__type(key, struct nw_key);
	__type(value, struct nw_val);
} nw_sources SEC(".maps");

/* The sources that received packets since user space last bumped nw_gen: each publishes its
 * key once per generation, so a refresh looks up those and leaves the rest of the table alone.
 * No wakeups: the refresh drains it on its own timer. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);                    /* resized by user space */
} nw_dirty SEC(".maps");

/* Bumped by user space (through the mmap'ed .bss) at each refresh that reads sources. */
__u32 nw_gen = 0;

/* All counters in one per-CPU slot: one lookup per packet (each lookup costs ~20 ns here). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nw_counters);
} nw_stats SEC(".maps");

static __always_inline bool port_wanted(__u16 port)
{
	return port_set[(port >> 6) & (NW_PORT_WORDS - 1)] & (1ULL << (port & 63));
}

/* The destination ports a source hits most, in NW_PORT_SLOTS slots (the space-saving
 * algorithm): a new port takes a free slot, or else the slot of the least hit port and that
 * count plus one. A port hit often always ends up in a slot; a count is exact unless its
 * slot was taken over, then it overestimates by at most the count it inherited. Races between
 * CPUs on one source can misplace a packet between slots, never lose it. */
static __always_inline void count_port(struct nw_val *v, __u16 port, __u8 proto)
{
	__u32 min = ~0U, min_i = 0;
	int i;

	if (!port)
		return;
#pragma unroll
	for (i = 0; i < NW_PORT_SLOTS; i++) {
		if (v->ports[i].port == port && v->ports[i].proto == proto) {
			__sync_fetch_and_add(&v->ports[i].packets, 1);
			return;
		}
		if (v->ports[i].port == 0) {
			v->ports[i].proto = proto;
			v->ports[i].port = port;
			__sync_fetch_and_add(&v->ports[i].packets, 1);
			return;
		}
		if (v->ports[i].packets < min) {
			min = v->ports[i].packets;
			min_i = i;
		}
	}
	min_i &= NW_PORT_SLOTS - 1;
	v->ports[min_i].port = port;
	v->ports[min_i].proto = proto;
	v->ports[min_i].packets = min + 1;
	__sync_fetch_and_add(&v->port_takeovers, 1);
}

static __always_inline int nw_count(struct __sk_buff *skb, bool l2)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct nw_key key = {};
	struct nw_counters *st;
	__u32 zero = 0;
	void *l4 = NULL;
	__u16 proto = 0, port = 0;
	__u8 l4proto = 0;
	__u64 segs, now;
	struct nw_val *v;
	__u32 gen;
	int i;

	st = bpf_map_lookup_elem(&nw_stats, &zero);
	if (!st)
		return TC_ACT_UNSPEC;
	st->c[NW_SEEN]++;    /* per-CPU: no atomics */
	if (l2) {
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > end)
			goto truncated;
		proto = eth->h_proto;
		data = eth + 1;
#pragma unroll
		for (i = 0; i < 2; i++) {   /* tags the device did not strip (QinQ, no offload) */
			struct vlan_hdr *vh = data;

			if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
				break;
			if ((void *)(vh + 1) > end)
				goto truncated;
			proto = vh->h_vlan_encapsulated_proto;
			data = vh + 1;
		}
	} else {
		proto = skb->protocol;    /* raw IP devices (tun, wireguard) */
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > end)
			goto truncated;
		key.family = NW_INET;
		__builtin_memcpy(key.addr, &ip->saddr, 4);
		l4proto = ip->protocol;
		/* Only the first fragment carries the ports. */
		if (!(ip->frag_off & bpf_htons(0x1fff)))
			l4 = (void *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end)
			goto truncated;
		key.family = NW_INET6;
		__builtin_memcpy(key.addr, &ip6->saddr, 16);
		l4proto = ip6->nexthdr;
		l4 = ip6 + 1;
#pragma unroll
		for (i = 0; i < 4; i++) {
			struct ipv6_opt_hdr *oh = l4;

			if (l4proto != IPPROTO_HOPOPTS && l4proto != IPPROTO_ROUTING &&
			    l4proto != IPPROTO_DSTOPTS && l4proto != IPPROTO_FRAGMENT)
				break;
			if ((void *)(oh + 1) > end)
				goto truncated;
			if (l4proto == IPPROTO_FRAGMENT) {
				struct frag_hdr *fh = l4;

				if ((void *)(fh + 1) > end)
					goto truncated;
				l4proto = fh->nexthdr;
				l4 = (fh->frag_off & bpf_htons(0xfff8)) ? NULL : (void *)(fh + 1);
				break;
			}
			l4proto = oh->nexthdr;
			l4 += (oh->hdrlen + 1) * 8;
		}
	} else {
		st->c[NW_NOT_IP]++;
		return TC_ACT_UNSPEC;
	}

	if (l4 && (l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP)) {
		/* Both headers start with source and destination ports. */
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			goto truncated;
		port = bpf_ntohs(uh->dest);
	}
	if (port_filter && (!port || !port_wanted(port))) {
		st->c[NW_FILTERED]++;
		return TC_ACT_UNSPEC;
	}

	segs = skb->gso_segs ?: 1;
	/* The coarse clock (tick resolution) is plenty for first/last seen, and costs a few ns
	 * where bpf_ktime_get_ns() costs ~85 ns on this class of VM. Same time base. */
	now = bpf_ktime_get_coarse_ns();
	v = bpf_map_lookup_elem(&nw_sources, &key);
	if (!v) {
		/* Not published as new (NW_NEW makes user space read the whole table): no flood of
		 * new sources fills nw_dirty. */
		struct nw_val nv = { .first_ns = now, .gen = *(volatile __u32 *)&nw_gen };

		if (bpf_map_update_elem(&nw_sources, &key, &nv, BPF_NOEXIST) == 0)
			st->c[NW_NEW]++;
		else
			st->c[NW_INSERT_ERR]++;
		v = bpf_map_lookup_elem(&nw_sources, &key);
		if (!v) {
			st->c[NW_INSERT_FAIL]++;
			return TC_ACT_UNSPEC;
		}
	}
	v->last_ns = now;
	v->ifindex = skb->ifindex;
	count_port(v, port, l4proto);
	__sync_fetch_and_add(&v->packets, segs);
	__sync_fetch_and_add(&v->bytes, skb->len);
	/* Read after the counts (the atomic adds are locked instructions on x86: the stores above
	 * are visible before the load below). A source whose gen is current was published after
	 * user space bumped nw_gen, so its record reaches a refresh that looks it up after all of
	 * these counts; otherwise publish it now. Two CPUs may both publish it: user space
	 * dedupes. The common case costs a load and a compare. */
	gen = *(volatile __u32 *)&nw_gen;
	if (v->gen != gen) {
		v->gen = gen;
		if (bpf_ringbuf_output(&nw_dirty, &key, sizeof(key), BPF_RB_NO_WAKEUP))
			st->c[NW_DIRTY_LOST]++;
	}
	st->c[NW_COUNTED] += segs;
	st->c[NW_BYTES] += skb->len;
	return TC_ACT_UNSPEC;

truncated:
	st->c[NW_TRUNCATED]++;
	return TC_ACT_UNSPEC;
}

/* Names start with "ebee_": `ebee cleanup` recognises ebee's tc filters by them. */
SEC("tc")
int ebee_nw_ingress(struct __sk_buff *skb)
{
	return nw_count(skb, true);
}

SEC("tc")
int ebee_nw_ingr_l3(struct __sk_buff *skb)
{
	return nw_count(skb, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
