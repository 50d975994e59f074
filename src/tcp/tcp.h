/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Types shared by tcp.bpf.c and the user side of `ebee tcp`: fixed-width fields, explicit
 * padding, nothing else. */
#ifndef EBEE_TCP_H
#define EBEE_TCP_H

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
#define TCP_NSTATES 14          /* 1..13 used; 0 unused */

/* What the BPF side does with a transition that passed the filters. */
enum tcp_mode {
	TCP_MODE_STATES = 0,    /* one event per transition */
	TCP_MODE_LIFE   = 1,    /* one event per closed connection */
	TCP_MODE_COUNT  = 2,    /* per-CPU counters only, no event */
};

/* --state: transitions into, out of, or either. */
enum tcp_dir {
	TCP_DIR_ANY  = 0,
	TCP_DIR_INTO = 1,
	TCP_DIR_FROM = 2,
};

/* Who sent the first FIN (life). */
enum tcp_first {
	TCP_FIRST_NONE   = 0,   /* never established (refused, timed out) */
	TCP_FIRST_LOCAL  = 1,
	TCP_FIRST_REMOTE = 2,
	TCP_FIRST_RESET  = 3,   /* closed from ESTABLISHED by a reset received */
	TCP_FIRST_ABORT  = 4,   /* closed from ESTABLISHED by the local side without FIN */
};

/* Flags in tcp_event.flags. */
#define TCP_EV_SPAN_KNOWN  0x01  /* span_ns is valid (the socket's earlier state was seen) */
#define TCP_EV_OWNER_KNOWN 0x02  /* pid/comm is the socket's owner (else unknown) */

#define TCP_COMM_LEN 16

/* Filters as rodata: at most this many ports / CIDRs per option. */
#define TCP_MAX_PORTS 8
#define TCP_MAX_CIDRS 4

struct tcp_port_range {
	__u16 lo, hi;           /* inclusive; lo == hi for one port */
};

struct tcp_cidr {
	__u8 addr[16];          /* network address, v4 in the first 4 bytes */
	__u8 mask[16];          /* prefix as a byte mask */
	__u16 family;           /* AF_INET / AF_INET6 */
	__u16 pad[3];
};

/* One event: a transition (states) or a closed connection (life). 104 bytes. */
struct tcp_event {
	__u64 ts_ns;            /* bpf_ktime_get_ns() at the transition */
	__u64 skaddr;           /* socket identity (kernel address), for correlation only */
	__u64 span_ns;          /* states: time in oldstate; life: SYN to close */
	__u64 tx_bytes;         /* life: bytes acked by the peer */
	__u64 rx_bytes;         /* life: bytes received */
	__u8 saddr[16];         /* local address */
	__u8 daddr[16];         /* remote address */
	__u32 pid;              /* best known owner (tgid), 0 = unknown */
	__u16 lport;            /* host order */
	__u16 rport;            /* host order */
	__u16 family;
	__u8 oldstate;
	__u8 newstate;
	__u8 flags;             /* TCP_EV_* */
	__u8 first;             /* life: enum tcp_first */
	__u8 pad[2];
	char comm[TCP_COMM_LEN];
};

/* Owner of a listening socket, by port and network namespace (its inode number): the BPF
 * side fills it at listen(), user space for listeners older than ebee. */
struct tcp_listener_key {
	__u32 port;
	__u32 netns;
};

struct tcp_owner {
	__u32 pid;
	__u32 pad;
	char comm[TCP_COMM_LEN];
};

/* count --by, as bits (1 << TCP_BY_*). */
enum tcp_by {
	TCP_BY_STATE = 0,
	TCP_BY_RADDR = 1,
	TCP_BY_RPORT = 2,
	TCP_BY_LPORT = 3,
	TCP_BY_COMM  = 4,
};

/* count: a row's key; the state always, the rest by --by (unused fields stay zero). */
struct tcp_count_key {
	__u8 addr[16];          /* remote address */
	char comm[TCP_COMM_LEN];
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u8 state;
	__u8 pad;
};

/* Per CPU: sockets that entered / left the state of a key since the start. */
struct tcp_count_val {
	__u64 entered;
	__u64 left;
};

#endif
