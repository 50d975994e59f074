/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Enforcement tables and records shared by the kernel programs (enforce.bpf.c) and user space.
 * A compiled rule is a bit (index < ENF_MAX_RULES); per dimension (comm, path, uid, cgroup,
 * port, address) a map says which rules accept a value, so a decision costs one lookup per
 * dimension whatever the number of rules:
 *   pass(d)  = any[d] | (hit(d) ^ neg[d])      hit(d): the map's mask for the event's value
 *   matched  = mask[mech][kind] & AND_d pass(d)
 * Fixed-width types only. */
#ifndef EBEE_ENFORCE_H
#define EBEE_ENFORCE_H

#include "core/event.h"

#define ENF_MAX_RULES 64
#define ENF_PATH_LEN 128       /* path bytes the kernel compares (longer paths: refused) */
#define ENF_MAP_ENTRIES 1024
#define ENF_CG_LEVELS 16       /* proc.cgroup matches descendants down to this level (root: 0) */
/* the access an open asks for (enf_ctx.mode, enf_event.mode) */
#define ENF_OPEN_READ 1
#define ENF_OPEN_WRITE 2

/* What a rule can act on. */
enum enf_kind { ENF_EXEC, ENF_OPEN, ENF_CONNECT, ENF_BIND, ENF_SENDMSG, ENF_PTRACE, ENF_MODULE,
		ENF_KIND__N };
enum enf_action { ENF_AUDIT, ENF_DENY, ENF_KILL, ENF_ACTION__N };
/* Mechanisms, strongest first in enforcement (audit is everything's fallback). */
enum enf_mech { MECH_LSM, MECH_CGROUP, MECH_SIGNAL, MECH_AUDIT, MECH__N };
enum enf_dim { DIM_COMM, DIM_PATH, DIM_UID, DIM_CGROUP, DIM_PORT, DIM_ADDR, DIM__N };

struct enf_comm_key {
	char comm[16];
};

/* LPM trie key for paths: the bytes of the path; an exact path carries its NUL, so it
 * matches only itself, a prefix does not. */
struct enf_path_key {
	__u32 prefixlen;          /* bits */
	char path[ENF_PATH_LEN];
};

/* LPM trie key for addresses: family first so v4 and v6 never mix. */
struct enf_addr_key {
	__u32 prefixlen;          /* bits, the family byte included */
	__u8 family;              /* 4 or 6 */
	__u8 addr[16];
	__u8 pad[3];
};

/* Rodata the user side fills before load. */
struct enf_tables {
	__u64 mask[MECH__N][ENF_KIND__N];   /* rules a hook of this mechanism decides for a kind */
	__u64 any[DIM__N];                  /* rules with no constraint on the dimension */
	__u64 neg[DIM__N];                  /* rules whose constraint is negated (not in) */
	__u64 open_read, open_write;        /* rules that need an open for reading / writing */
	__u8 action[ENF_MAX_RULES];         /* effective action (audit unless --enforce) */
	__u32 self_tgid;                    /* ebee: never acted on */
	__u32 pad;
};

/* One decision: an alert. */
struct enf_event {
	struct ebee_event_hdr hdr;
	__u16 rule;
	__u8 kind;
	__u8 action;              /* what was done: enum enf_action (audit = would have) */
	__u8 mech;
	__u8 family;              /* 4, 6 or 0 */
	__u16 port;               /* host order */
	__s32 target;             /* ptrace: target pid */
	__u8 mode;                /* open: ENF_OPEN_READ | ENF_OPEN_WRITE */
	__u8 pad[3];
	__u8 addr[16];
	char path[ENF_PATH_LEN];  /* exec / open: as passed */
};

#endif
