/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Types shared by netwatch.bpf.c and the user side: fixed-width, explicit padding. */
#ifndef EBEE_NETWATCH_H
#define EBEE_NETWATCH_H

#define NW_PORT_SLOTS 4          /* top destination ports kept per source (a power of 2) */
#define NW_PORT_WORDS 1024       /* 65536-bit set of --port values */
#define NW_DEFAULT_SOURCES 65536 /* LRU size; --max-sources changes it */

enum nw_family { NW_INET = 4, NW_INET6 = 6 };

/* A source address: IPv4 in addr[0..3], the rest zero. */
struct nw_key {
	__u8 addr[16];
	__u8 family;             /* enum nw_family */
	__u8 pad[3];
};

struct nw_port {
	__u16 port;              /* host order; 0 = free slot */
	__u8 proto;              /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 pad;
	__u32 packets;
};

struct nw_val {
	__u64 packets;           /* GSO segments counted as what they were on the wire */
	__u64 bytes;             /* L2 frame bytes as seen at ingress */
	__u64 first_ns;          /* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC, tick resolution) */
	__u64 last_ns;
	__u64 port_takeovers;    /* times a new port took the slot of the least hit one */
	struct nw_port ports[NW_PORT_SLOTS];
	__u32 ifindex;           /* interface of the last packet */
	__u32 gen;               /* nw_gen at its insert or last publication on nw_dirty */
};

/* nw_dirty's records are the struct nw_key of a source that received a packet since user
 * space last bumped nw_gen (32 bytes each with the ring's header): a refresh reads only those
 * sources. NW_DIRTY_REC_BYTES is what one record takes in the ring. */
#define NW_DIRTY_REC_BYTES 32

/* Per-CPU counters (one array slot each). */
enum nw_stat {
	NW_SEEN,                 /* packets that reached the program */
	NW_COUNTED,              /* packets counted for a source */
	NW_BYTES,                /* their bytes */
	NW_NEW,                  /* sources inserted (inserted - live entries = LRU evictions) */
	NW_NOT_IP,               /* ARP, LLDP, ...: not counted */
	NW_FILTERED,             /* IP packets not towards a --port */
	NW_TRUNCATED,            /* headers shorter than they claim */
	NW_INSERT_FAIL,          /* LRU insert failed (map busy) */
	NW_INSERT_ERR,           /* LRU inserts that returned an error (another CPU inserted the
				  * source first, map busy): the LRU may have evicted a source for
				  * it all the same, so user space reads the whole table */
	NW_DIRTY_LOST,           /* keys not published: nw_dirty was full (the whole table is read) */
	NW_STAT__COUNT
};

/* The value of nw_stats' one per-CPU slot. */
struct nw_counters {
	__u64 c[NW_STAT__COUNT];
};

#endif
