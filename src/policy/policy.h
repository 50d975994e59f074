/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Types shared by policy.bpf.c and user space: the compiled rule tables, the connection
 * table and the verdict event. Fixed-width types with explicit padding only.
 *
 * A workload has an index (wl) and, per direction, a table: whether it is isolated, which
 * rules accept any peer / any port, and its port entries. A rule is one bit (at most
 * POL_MAX_RULES per workload and direction); a packet is allowed when some bit is set both in
 * the peer mask (any-peer | workload peers | LPM of the peer address) and in the port mask. */
#ifndef EBEE_POLICY_H
#define EBEE_POLICY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "core/event.h"

#define POL_MAX_RULES 64
#define POL_MAX_PORTS 32
#define POL_NO_WL 0xffff
#define POL_MAX_WL 4096

enum pol_dir { POL_INGRESS = 0, POL_EGRESS = 1 };
#define POL_WD(wl, dir) ((__u32)(wl) * 2 + (dir))
#define POL_PEER_KEY(wd, peer) (((__u32)(wd) << 16) | (__u32)(peer))

enum pol_verdict { POL_FORWARDED = 1, POL_DROPPED = 2, POL_AUDIT = 3 };
enum pol_why { POL_WHY_RULE = 1, POL_WHY_NOT_ISOLATED = 2, POL_WHY_NO_RULE = 3 };
/* Why an event was sent (Cilium's monitor aggregation): a new flow, a TCP flag not seen on
 * it before (SYN, FIN, RST), or the interval passed with packets. */
enum pol_report { POL_REP_NEW = 1, POL_REP_FLAGS = 2, POL_REP_INTERVAL = 3 };
enum pol_hook { POL_HOOK_TC = 1, POL_HOOK_CGROUP = 2 };

#define POL_TCP_FIN 0x01
#define POL_TCP_SYN 0x02
#define POL_TCP_RST 0x04
#define POL_TCP_ACK 0x10
#define POL_TCP_REPORT (POL_TCP_FIN | POL_TCP_SYN | POL_TCP_RST)

struct pol_port {
	__u8 proto;
	__u8 pad;
	__u16 peer_wl;             /* POL_NO_WL, or the one peer this entry holds for (egress
				    * named ports resolve on the destination workload) */
	__u16 lo, hi;              /* destination port range, inclusive */
	__u64 mask;                /* rules this entry belongs to */
};

struct pol_table {
	__u8 isolated;
	__u8 nports;
	__u8 pad[6];
	__u64 any_peer;            /* rules with no from/to */
	__u64 any_port;            /* rules with no ports */
	struct pol_port ports[POL_MAX_PORTS];
};

/* Workload addresses (pol_addrs), key family + address, value wl (__u32). */
struct pol_addr_key {
	__u8 addr[16];
	__u32 family;
};

/* ipBlock tries: prefixlen covers wd (32 bits) then the address. */
struct pol_lpm4 {
	__u32 prefixlen;
	__u32 wd;
	__u8 addr[4];
};
struct pol_lpm6 {
	__u32 prefixlen;
	__u32 wd;
	__u8 addr[16];
};

/* Connection table, keyed from the workload's side: both directions of a connection meet in
 * one entry per workload, so replies find the entry their request made. */
struct pol_ct_key {
	__u8 laddr[16], paddr[16];
	__u16 lport, pport;
	__u16 wl;
	__u8 proto, family;
};

struct pol_ct {
	__u64 pkts, bytes;         /* since the flow started */
	__u64 rep_pkts, rep_bytes; /* at the last event */
	__u64 last_ns;             /* last event */
	__u64 rules;               /* the allowing rules */
	__u64 seen_ns;             /* last packet: the entry's age */
	__u8 verdict, dir, why, flags_seen;
	__u16 peer_wl;
	__u8 fin_dirs;             /* 1 << dir for each direction that sent a FIN */
	__u8 closing;              /* RST seen, or FIN both ways: only the close timeout left */
};

/* How long an entry outlives its last packet (Cilium's defaults: 6 h for TCP connections,
 * 60 s for the rest and for refused flows, 10 s once a TCP connection closes). An expired
 * entry is a new flow to the kernel and is deleted by user space's sweep. */
struct pol_timeouts {
	__u64 tcp_ns, other_ns, close_ns;
};

static inline int pol_ct_expired(const struct pol_ct *ct, __u8 proto, __u64 now,
				 const struct pol_timeouts *t)
{
	__u64 life = ct->closing ? t->close_ns :
		     proto == 6 && ct->verdict != POL_DROPPED ? t->tcp_ns : t->other_ns;

	return now > ct->seen_ns && now - ct->seen_ns > life;
}

/* Packets and bytes by the packet's direction and its flow's verdict (per-CPU array, key
 * POL_STAT(dir, verdict)): exact, whatever the ring buffer loses. */
#define POL_STAT(dir, verdict) ((__u32)(dir) * 4 + (verdict))
#define POL_NSTATS 8
struct pol_stat {
	__u64 pkts, bytes;
};

struct pol_event {
	struct ebee_event_hdr hdr;
	__u8 laddr[16], paddr[16];
	__u64 pkts, bytes;         /* since the previous event of this flow */
	__u64 rules;
	__u32 ifindex;
	__u16 wl, peer_wl;
	__u16 lport, pport;
	__u8 family, proto, dir, verdict;
	__u8 why, report, tcp_flags, hook;
	__u8 init_dir;             /* direction the flow started in */
	__u8 pad;
	__u16 af;                  /* AF_INET / AF_INET6 (family as the field tables read it) */
	__u8 pad2[4];
};

#endif
